"""pytest plugin: run the app's FrappeTestCase tests and the system tests on a real site.

`./dms test` loads it with `-p aftersales_dms.tests.pytest_frappe` after creating the
throwaway site named by DMS_TEST_SITE in the bench DMS_BENCH. It connects Frappe the way
`bench run-tests` does (in_test flag, the app's before_tests hook) and leaves each test
class's transaction handling to FrappeTestCase.
"""

import os

import pytest


def pytest_configure(config):
	import frappe

	site = os.environ.get("DMS_TEST_SITE")
	bench = os.environ.get("DMS_BENCH")
	if not site or not bench:
		raise pytest.UsageError("DMS_TEST_SITE and DMS_BENCH must name the test site and bench (use ./dms test)")
	sites_path = os.path.join(bench, "sites")
	os.chdir(sites_path)
	frappe.init(site=site, sites_path=sites_path)
	frappe.connect()
	if not frappe.conf.allow_tests:
		raise pytest.UsageError(f"{site} does not allow tests (bench --site {site} set-config allow_tests true)")
	frappe.flags.in_test = True
	frappe.clear_cache()
	for fn in frappe.get_hooks("before_tests", app_name="aftersales_dms"):
		frappe.get_attr(fn)()
	frappe.set_user("Administrator")


def pytest_unconfigure(config):
	import frappe

	if getattr(frappe.local, "site", None):
		frappe.destroy()
