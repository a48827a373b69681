"""Browser smoke test: Debian's chromium, driven by Playwright, logs in and opens the workspace."""

import os

import pytest
from dmstest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
	from playwright.sync_api import sync_playwright

	with sync_playwright() as p:
		b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
		yield b
		b.close()


def test_administrator_opens_the_workspace(server, browser):
	page = browser.new_page(viewport={"width": 1366, "height": 900})
	page.goto(f"{server}/login")
	page.fill("#login_email", "Administrator")
	page.fill("#login_password", os.environ.get("DMS_ADMIN_PASSWORD", "admin"))
	page.click(".btn-login")
	page.wait_for_url("**/app**", timeout=60_000)
	page.goto(f"{server}/app/aftersales-dms")
	page.wait_for_selector(".shortcut-widget-box", timeout=60_000)
	page.wait_for_selector("text=Customer Vehicle", timeout=30_000)
	assert "Aftersales DMS" in page.title()
	page.screenshot(path=os.path.join(ARTIFACTS, "workspace.png"), full_page=True)
	page.close()
