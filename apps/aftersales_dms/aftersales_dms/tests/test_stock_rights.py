# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

"""The rights of #13 as declared data: the ledgers' Custom Roles keep ERPNext's roles beside
ours, the upgrade patch widens the Parts Manager's v1.0 read-only rules, and a dealer user's
report is for their own company."""

import frappe
from frappe.tests.utils import FrappeTestCase

from aftersales_dms.roles import ERPNEXT_REPORTS, PARTS_MANAGER

PARTS = "parts@omp.example"


class TestStockRights(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.clear_cache(doctype="Stock Entry")

	def test_ledger_reports_keep_erpnexts_roles_beside_ours(self):
		from frappe.core.doctype.custom_role.custom_role import get_custom_allowed_roles

		for report, ours in ERPNEXT_REPORTS.items():
			standard = frappe.get_all(
				"Has Role", filters={"parenttype": "Report", "parent": report}, pluck="role"
			)
			allowed = get_custom_allowed_roles("report", report)
			self.assertTrue(standard, report)
			self.assertLessEqual({*standard, *ours}, set(allowed), report)
			frappe.set_user(PARTS)
			self.assertTrue(frappe.get_doc("Report", report).is_permitted(), report)
			frappe.set_user("Administrator")

	def test_patch_widens_the_old_read_only_rule(self):
		from aftersales_dms.patches.v1_0 import parts_stock_rights

		rule = frappe.db.get_value(
			"Custom DocPerm", {"parent": "Stock Entry", "role": PARTS_MANAGER, "permlevel": 0}
		)
		frappe.db.set_value(
			"Custom DocPerm", rule, {"write": 0, "create": 0, "submit": 0, "cancel": 0}
		)  # as v1.0 left it
		frappe.clear_cache(doctype="Stock Entry")
		self.assertFalse(frappe.has_permission("Stock Entry", "submit", user=PARTS))
		parts_stock_rights.execute()
		frappe.clear_cache(doctype="Stock Entry")
		for ptype in ("read", "write", "create", "submit", "cancel"):
			self.assertTrue(frappe.has_permission("Stock Entry", ptype, user=PARTS), ptype)

	def test_a_dealer_users_report_is_for_their_company(self):
		from aftersales_dms.controllers.report_access import check_report_filters

		frappe.set_user(PARTS)
		check_report_filters("Stock Ledger", {"company": "Orion Motors Pune"})
		with self.assertRaises(frappe.PermissionError):
			check_report_filters("Stock Ledger", '{"company": "Orion Motors Nashik"}')
		with self.assertRaises(frappe.PermissionError):
			check_report_filters(
				"Workshop Revenue", {"company": ["Orion Motors Pune", "Orion Motors Nashik"]}
			)
		with self.assertRaisesRegex(frappe.ValidationError, "Choose your dealer's company"):
			check_report_filters("Stock Ledger", {"from_date": "2026-01-01"})
		frappe.set_user("oem.admin@orion-oem.example")  # not restricted: every dealer
		check_report_filters("Stock Ledger", {"company": "Orion Motors Nashik"})
