# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

"""docs/api.md is what the generator prints, and every whitelisted method says what it does."""

import inspect
import os

import frappe
from frappe.tests.utils import FrappeTestCase

from aftersales_dms.tests.permission_matrix import (
	app_doctypes,
	whitelisted_doc_methods,
	whitelisted_functions,
)
from aftersales_dms.utils.api_reference import NO_DOCSTRING_YET, analyse, dotted, generate

DOC = os.path.join(os.path.dirname(frappe.get_app_path("aftersales_dms")), "..", "..", "docs", "api.md")


class TestApiReference(FrappeTestCase):
	def test_the_committed_reference_is_up_to_date(self):
		with open(DOC) as f:
			committed = f.read()
		self.assertEqual(
			committed,
			generate(),
			"docs/api.md is out of date: run ./dms bench --site <site> dms-api-reference > docs/api.md",
		)

	def test_every_whitelisted_method_has_a_docstring(self):
		parents, _children = app_doctypes()
		methods = [(f"{f.__module__}.{f.__qualname__}", f) for f in whitelisted_functions()]
		methods += [(f"{dt}.{name}", f) for dt, name, f in whitelisted_doc_methods(parents)]
		# a method with none gets one; those listed wait for their module's owners
		self.assertGreater(len(methods), 30)
		missing = {dotted(f) for _path, f in methods if not inspect.getdoc(f)}
		self.assertEqual(missing, set(NO_DOCSTRING_YET))

	def test_roles_and_errors_come_from_the_code(self):
		from aftersales_dms.billing.invoice import make_invoices
		from aftersales_dms.roles import INVOICE_ROLES

		roles, errors, perms = analyse(make_invoices)
		self.assertEqual(set(INVOICE_ROLES) - set(roles), set())
		self.assertIn(
			("PermissionError", "Only service accountants, advisors and managers invoice job cards."), errors
		)
		self.assertIn("read", perms)
