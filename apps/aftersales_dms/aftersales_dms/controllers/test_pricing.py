# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

"""Job card lines priced on the server also when they come through Data Import (as the advisor)."""

import csv
import os
import tempfile

import frappe
from frappe.tests.utils import FrappeTestCase

from aftersales_dms.controllers.pricing import dealer_price_list, price_item

PUNE = "Orion Motors Pune"
VEHICLE = "MA1TA2XX6GH123456"
ADVISOR = "advisor@omp.example"


def list_price(item_code):
	return frappe.db.get_value(
		"Item Price",
		{"item_code": item_code, "price_list": dealer_price_list(PUNE), "customer": ("is", "not set")},
		"price_list_rate",
	)


class TestPricing(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def test_data_import_lines_without_rate_are_priced(self):
		from frappe.core.doctype.data_import.importer import Importer

		customer = frappe.db.get_value("Customer Vehicle", VEHICLE, "customer")
		header = [
			"company",
			"customer",
			"vehicle",
			"Labour Item (Labour)",
			"Standard Hours (Labour)",
			"Part (Parts)",
			"Qty (Parts)",
		]
		row = [PUNE, customer, VEHICLE, "LAB-PMS-CAR", 2.5, "PRT-OIL-FILTER-C", 1]
		with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, newline="") as f:
			csv.writer(f).writerows([header, row])
		before = set(frappe.get_all("Service Job Card", pluck="name"))
		frappe.set_user(ADVISOR)
		try:
			importer = Importer(
				"Service Job Card", file_path=f.name, import_type="Insert New Records", console=True
			)
			payloads = importer.import_file.get_payloads_for_import()
			self.assertEqual(len(payloads), 1)
			importer.process_doc(payloads[0].doc)
		finally:
			frappe.set_user("Administrator")
			os.unlink(f.name)
		(name,) = set(frappe.get_all("Service Job Card", pluck="name")) - before
		jc = frappe.get_doc("Service Job Card", name)
		self.assertEqual(jc.owner, ADVISOR)
		self.assertEqual(
			[(r.item_code, r.rate) for r in jc.labour + jc.parts],
			[
				("LAB-PMS-CAR", list_price("LAB-PMS-CAR")),
				("PRT-OIL-FILTER-C", list_price("PRT-OIL-FILTER-C")),
			],
		)
		self.assertGreater(jc.grand_total, 0)

	def test_pricing_rule_discount_and_margin(self):
		customer = frappe.db.get_value("Customer Vehicle", VEHICLE, "customer")
		base = list_price("PRT-OIL-FILTER-C")
		rule = frappe.get_doc(
			{
				"doctype": "Pricing Rule",
				"title": "Test: 20 % off oil filters",
				"apply_on": "Item Code",
				"items": [{"item_code": "PRT-OIL-FILTER-C"}],
				"selling": 1,
				"applicable_for": "Customer",
				"customer": customer,
				"company": PUNE,
				"price_or_product_discount": "Price",
				"rate_or_discount": "Discount Percentage",
				"discount_percentage": 20,
			}
		).insert(ignore_permissions=True)
		self.assertEqual(price_item("PRT-OIL-FILTER-C", PUNE, customer).rate, base * 0.8)
		self.assertEqual(price_item("PRT-OIL-FILTER-C", PUNE, None).rate, base)  # another customer
		rule.rate_or_discount = "Rate"
		rule.rate = 333
		rule.save(ignore_permissions=True)
		self.assertEqual(price_item("PRT-OIL-FILTER-C", PUNE, customer).rate, 333)
