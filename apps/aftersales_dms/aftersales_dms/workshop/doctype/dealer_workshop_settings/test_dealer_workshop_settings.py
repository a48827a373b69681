# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

import frappe
from frappe.tests.utils import FrappeTestCase

from aftersales_dms.controllers.dealer import MissingWorkshopSettingsError, get_workshop_settings

PUNE, NASHIK = "Orion Motors Pune", "Orion Motors Nashik"


class TestDealerWorkshopSettings(FrappeTestCase):
	def test_demo_dealer_settings(self):
		settings = get_workshop_settings(PUNE)
		self.assertEqual(settings.parts_warehouse, "Parts Store - OMP")
		self.assertEqual(settings.wip_warehouse, "Work In Progress - OMP")
		self.assertEqual(settings.labour_billing, "Sold Hours")
		self.assertEqual(settings.slot_minutes, 30)
		self.assertTrue(settings.oem_customer)

	def test_missing_settings_is_a_clear_error(self):
		frappe.delete_doc("Dealer Workshop Settings", NASHIK, ignore_permissions=True, force=True)
		with self.assertRaisesRegex(
			MissingWorkshopSettingsError, f"Set up Dealer Workshop Settings for company {NASHIK}"
		):
			get_workshop_settings(NASHIK)

	def test_one_record_per_dealer(self):
		doc = frappe.get_doc({"doctype": "Dealer Workshop Settings", "company": PUNE})
		with self.assertRaises(frappe.DuplicateEntryError):
			doc.insert(ignore_permissions=True)

	def test_bad_values_refused(self):
		cases = {
			"workshop_closes": ("08:00:00", "close after it opens"),
			"slot_minutes": (2, "between 5 and 240 minutes"),
			"parts_warehouse": ("Parts Store - OMN", "belongs to another dealer"),
			"wip_warehouse": ("Parts Store - OMP", "must differ"),
			"selling_price_list": ("Standard Buying", "not an enabled selling price list"),
		}
		for field, (value, message) in cases.items():
			doc = frappe.get_doc("Dealer Workshop Settings", PUNE)
			doc.set(field, value)
			with self.subTest(field=field), self.assertRaisesRegex(frappe.ValidationError, message):
				doc.save(ignore_permissions=True)
		self.assertEqual(frappe.db.get_value("Dealer Workshop Settings", PUNE, "slot_minutes"), 30)

	def test_dealer_staff_see_their_dealer_only(self):
		pune = frappe.get_doc("Dealer Workshop Settings", PUNE)
		nashik = frappe.get_doc("Dealer Workshop Settings", NASHIK)
		self.assertTrue(frappe.has_permission(doc=pune, ptype="write", user="manager@omp.example"))
		self.assertFalse(frappe.has_permission(doc=nashik, ptype="read", user="manager@omp.example"))
		self.assertTrue(frappe.has_permission(doc=pune, ptype="read", user="advisor@omp.example"))
		self.assertFalse(frappe.has_permission(doc=pune, ptype="write", user="advisor@omp.example"))
		self.assertTrue(frappe.has_permission(doc=nashik, ptype="read", user="oem.admin@orion-oem.example"))
		self.assertFalse(frappe.has_permission(doc=nashik, ptype="write", user="oem.admin@orion-oem.example"))

	def test_job_card_lines_are_priced_from_the_dealers_own_list(self):
		from aftersales_dms.controllers.pricing import dealer_price_list
		from aftersales_dms.workshop.doctype.service_job_card.test_service_job_card import make_job_card

		# set-up data: a price list of the Pune dealer's own, with a price for one labour item
		frappe.get_doc(
			{"doctype": "Price List", "price_list_name": "Pune Retail Test", "selling": 1, "currency": "INR"}
		).insert(ignore_permissions=True)
		frappe.get_doc(
			{
				"doctype": "Item Price",
				"item_code": "LAB-DIAG",
				"price_list": "Pune Retail Test",
				"price_list_rate": 1500,
			}
		).insert(ignore_permissions=True)
		settings = frappe.get_doc("Dealer Workshop Settings", PUNE)
		settings.selling_price_list = "Pune Retail Test"
		frappe.set_user("manager@omp.example")
		try:
			settings.save()
			jc = make_job_card(labour=("LAB-DIAG",))
			self.assertEqual(jc.labour[0].rate, 1500)
			with self.assertRaisesRegex(frappe.ValidationError, "No selling price for .*LAB-PMS-CAR"):
				make_job_card(labour=("LAB-PMS-CAR",))  # not in the dealer's list: refused, not 0
			settings.reload()
			settings.selling_price_list = None
			settings.save()
		finally:
			frappe.set_user("Administrator")
		# empty: Selling Settings' default list
		self.assertEqual(
			dealer_price_list(PUNE), frappe.db.get_single_value("Selling Settings", "selling_price_list")
		)
