# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

import frappe
from frappe.tests.utils import FrappeTestCase

from aftersales_dms.workshop.doctype.dealer_workshop_settings.dealer_workshop_settings import (
	MissingWorkshopSettingsError,
	get_workshop_settings,
)

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
