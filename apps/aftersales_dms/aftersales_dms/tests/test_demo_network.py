"""The demo dealer network and the foundation the later stages build on."""

import frappe
from frappe.tests.utils import FrappeTestCase

from aftersales_dms.demo import load_config, load_demo, parts_warehouse
from aftersales_dms.roles import ROLES


class TestFoundation(FrappeTestCase):
	def test_erpnext_setup_completed(self):
		self.assertTrue(frappe.db.get_single_value("System Settings", "setup_complete"))
		self.assertTrue(frappe.db.exists("Fiscal Year", {"disabled": 0}))

	def test_roles_exist_with_desk_access(self):
		for role in ROLES:
			with self.subTest(role=role):
				self.assertEqual(frappe.db.get_value("Role", role, "desk_access"), 1)

	def test_item_custom_fields(self):
		meta = frappe.get_meta("Item")
		for fieldname in ("dms_item_kind", "dms_standard_hours", "dms_required_skill", "dms_op_code"):
			self.assertTrue(meta.has_field(fieldname), fieldname)

	def test_workspace_installed(self):
		self.assertTrue(frappe.db.exists("Workspace", "Aftersales DMS"))


class TestDemoNetwork(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.cfg = load_config()

	def test_dealers_are_companies_with_books(self):
		for dealer in self.cfg["dealers"]:
			company, abbr = dealer["company_name"], dealer["abbr"]
			with self.subTest(company=company):
				self.assertEqual(frappe.db.get_value("Company", company, "abbr"), abbr)
				self.assertTrue(frappe.db.exists("Warehouse", parts_warehouse(abbr)))
				self.assertTrue(frappe.db.exists("Account", f"Debtors - {abbr}"))
				tax = frappe.get_doc("Sales Taxes and Charges Template", f"Service GST 18% - {abbr}")
				self.assertEqual(tax.taxes[0].rate, 18)
				self.assertEqual(frappe.db.count("Service Bay", {"company": company}), len(dealer["bays"]))

	def test_opening_stock_posted(self):
		"""Each dealer's parts store got its opening stock. Read from the opening entry in the stock
		ledger, not the bin: other tests issue parts, and a reused test site keeps what they did."""
		for dealer in self.cfg["dealers"]:
			for part in self.cfg["parts_items"]:
				where = {"item_code": part["item_code"], "warehouse": parts_warehouse(dealer["abbr"])}
				first = frappe.get_all(
					"Stock Ledger Entry",
					filters={**where, "is_cancelled": 0},
					fields=["voucher_type", "qty_after_transaction"],
					order_by="posting_date, posting_time, creation",
					limit=1,
				)
				opening = (
					first[0].qty_after_transaction
					if first and first[0].voucher_type == "Stock Reconciliation"
					else 0
				)
				self.assertEqual(opening, part["opening_qty"], (part["item_code"], dealer["abbr"]))
				if part["opening_qty"]:
					self.assertTrue(frappe.db.exists("Bin", where), where)

	def test_items_priced_and_classified(self):
		for row in self.cfg["labour_items"]:
			item = frappe.get_doc("Item", row["item_code"])
			self.assertEqual((item.dms_item_kind, item.is_stock_item), ("Labour", 0))
			self.assertEqual(item.dms_standard_hours, row["hours"])
			self.assertEqual(item.dms_required_skill, row["skill"])
		for row in self.cfg["labour_items"] + self.cfg["parts_items"]:
			rate = frappe.db.get_value(
				"Item Price",
				{"item_code": row["item_code"], "price_list": "Standard Selling"},
				"price_list_rate",
			)
			self.assertEqual(rate, row["rate"], row["item_code"])

	def test_every_vehicle_category_has_a_vehicle(self):
		for category in ("Car", "Two-Wheeler", "Tractor", "Commercial Vehicle"):
			self.assertTrue(frappe.db.exists("Customer Vehicle", {"vehicle_category": category}), category)

	def test_dealer_staff_restricted_to_their_dealer(self):
		names = {d["abbr"]: d["company_name"] for d in self.cfg["dealers"]}
		for user in self.cfg["users"] + self.cfg["technicians"]:
			allowed = frappe.get_all(
				"User Permission", filters={"user": user["email"], "allow": "Company"}, pluck="for_value"
			)
			expected = [names[user["dealer"]]] if user.get("dealer") else []
			self.assertEqual(allowed, expected, user["email"])
		self.assertIn("OEM Admin", frappe.get_roles("oem.admin@orion-oem.example"))

	def test_technicians_have_skills(self):
		for tech in self.cfg["technicians"]:
			employee = frappe.db.get_value("Employee", {"user_id": tech["email"]})
			doc = frappe.get_doc("Service Technician", employee)
			self.assertEqual([(s.skill, s.level) for s in doc.skills], [tuple(s) for s in tech["skills"]])
			self.assertIn("Technician", frappe.get_roles(tech["email"]))

	def test_oem_is_a_customer(self):
		self.assertEqual(
			frappe.db.get_value(
				"Customer", {"customer_name": self.cfg["oem"]["customer_name"]}, "customer_group"
			),
			"OEM",
		)

	def test_loading_twice_changes_nothing(self):
		doctypes = (
			"Company",
			"User",
			"Employee",
			"Item",
			"Item Price",
			"Customer",
			"Customer Vehicle",
			"Stock Ledger Entry",
			"User Permission",
			"Service Bay",
			"Service Technician",
			"GL Entry",
		)
		before = {dt: frappe.db.count(dt) for dt in doctypes}
		load_demo()
		self.assertEqual({dt: frappe.db.count(dt) for dt in doctypes}, before)
