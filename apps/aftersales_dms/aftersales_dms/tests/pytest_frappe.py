"""pytest plugin: run the app's FrappeTestCase tests and the system tests on a real site.

`./dms test` loads it with `-p aftersales_dms.tests.pytest_frappe` after creating the
throwaway site named by DMS_TEST_SITE in the bench DMS_BENCH. It connects Frappe the way
`bench run-tests` does (in_test flag, the app's before_tests hook); FrappeTestCase rolls each
test class back at its end.

Frappe code commits on its own in places a test reaches (in test mode an email is sent at
once and Email Queue commits its status), which would make a test's records permanent and
leak them into later tests. So while a test runs, `frappe.db.commit` is held back; a test
that needs real commits (races between connections) is marked `@pytest.mark.commits`.
"""

import os
from unittest.mock import patch

import pytest


def pytest_configure(config):
	import frappe

	site = os.environ.get("DMS_TEST_SITE")
	bench = os.environ.get("DMS_BENCH")
	if not site or not bench:
		raise pytest.UsageError(
			"DMS_TEST_SITE and DMS_BENCH must name the test site and bench (use ./dms test)"
		)
	sites_path = os.path.join(bench, "sites")
	os.chdir(sites_path)
	frappe.init(site=site, sites_path=sites_path)
	frappe.connect()
	if not frappe.conf.allow_tests:
		raise pytest.UsageError(
			f"{site} does not allow tests (bench --site {site} set-config allow_tests true)"
		)
	frappe.flags.in_test = True
	frappe.clear_cache()
	for fn in frappe.get_hooks("before_tests", app_name="aftersales_dms"):
		frappe.get_attr(fn)()
	frappe.set_user("Administrator")


def pytest_unconfigure(config):
	import frappe

	if getattr(frappe.local, "site", None):
		frappe.destroy()


@pytest.fixture(autouse=True)
def _hold_back_commits(request):
	import frappe

	if request.node.get_closest_marker("commits") or not getattr(frappe.local, "db", None):
		yield
		return
	with patch.object(frappe.local.db, "commit"):
		yield
