# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

import frappe
from frappe.tests.utils import FrappeTestCase

from aftersales_dms.tests.runner_deps import outside_links
from aftersales_dms.utils.vin import InvalidVIN, check_digit, normalize_plate, validate_vin

# Frappe's test runner stops here when it comes from an ERPNext DocType (tests/runner_deps.py)
test_ignore = outside_links("Customer Vehicle")


def make_vehicle(vin="MA1TA2XX6GH654321", plate="MH 12 ZZ 0001", do_not_save=False, **kwargs):
	vin = vin[:8] + check_digit(vin) + vin[9:] if kwargs.pop("fix_check_digit", True) else vin
	doc = frappe.get_doc(
		{
			"doctype": "Customer Vehicle",
			"vin": vin,
			"registration_plate": plate,
			"vehicle_category": "Car",
			"make": "Orion",
			"model": "Stellar",
			"year": 2022,
			"customer": frappe.db.get_value("Customer", {"customer_name": "Aarav Mehta"}),
			"company": "Orion Motors Pune",
			**kwargs,
		}
	)
	if not do_not_save:
		doc.insert()
	return doc


class TestVIN(FrappeTestCase):
	def test_known_valid_vin(self):
		# the textbook 49 CFR 565 example
		self.assertEqual(validate_vin("1HGCM82633A004352"), ("1HGCM82633A004352", []))

	def test_check_digit_x(self):
		vin = "1M8GDM9AXKP042788"  # remainder 10 is written X
		self.assertEqual(check_digit(vin), "X")
		self.assertEqual(validate_vin(vin)[1], [])

	def test_north_american_wrong_check_digit_refused(self):
		with self.assertRaisesRegex(InvalidVIN, "check digit .* is 4 but should be 3"):
			validate_vin("1HGCM82643A004352")

	def test_elsewhere_wrong_check_digit_only_warns(self):
		vin, warnings = validate_vin("MA1TA2XX1GH123456")
		self.assertEqual(vin, "MA1TA2XX1GH123456")
		self.assertEqual(len(warnings), 1)
		self.assertIn("should be 6", warnings[0])

	def test_malformed(self):
		for bad, reason in [
			("1HGCM82633A00435", "17 characters"),
			("1HGCM82633A0043521", "17 characters"),
			("1HGCM8263OA004352", "I, O and Q"),
			("1HGCM82633A00435*", "only the letters"),
			("", "17 characters"),
		]:
			with self.subTest(bad=bad), self.assertRaisesRegex(InvalidVIN, reason):
				validate_vin(bad)

	def test_vin_is_normalised(self):
		self.assertEqual(validate_vin(" 1hgcm82633a004352 ")[0], "1HGCM82633A004352")


class TestCustomerVehicle(FrappeTestCase):
	def test_plate_normalised_and_vin_is_name(self):
		doc = make_vehicle(plate=" mh-12 zz.0001 ")
		self.assertEqual(doc.registration_plate, "MH12ZZ0001")
		self.assertEqual(doc.name, doc.vin)

	def test_plate_unique_across_spellings(self):
		make_vehicle(vin="MA1TA2XX6GH654326", plate="MH 12 ZZ 0002")
		with self.assertRaises(frappe.DuplicateEntryError):
			make_vehicle(vin="MA1TA2XX6GH654322", plate="mh-12-zz-0002")

	def test_invalid_vin_refused_nothing_saved(self):
		before = frappe.db.count("Customer Vehicle")
		with self.assertRaisesRegex(frappe.ValidationError, "I, O and Q"):
			make_vehicle(vin="MA1TA2XXOGH654323", fix_check_digit=False)
		self.assertEqual(frappe.db.count("Customer Vehicle"), before)

	def test_bad_plate_and_year(self):
		with self.assertRaisesRegex(frappe.ValidationError, "Registration plate"):
			make_vehicle(plate="<script>")
		with self.assertRaisesRegex(frappe.ValidationError, "Model year"):
			make_vehicle(vin="MA1TA2XX6GH654324", plate="MH12ZZ0004", year=1900)

	def test_current_odometer_is_highest_reading(self):
		doc = make_vehicle(vin="MA1TA2XX6GH654325", plate="MH12ZZ0005", do_not_save=True)
		doc.add_odometer_reading(1200)
		doc.add_odometer_reading(5400)
		doc.insert()
		self.assertEqual(doc.current_odometer, 5400)

	def test_manufacturer_decoded_from_wmi(self):
		honda = frappe.get_doc("Customer Vehicle", "1HGCM82633A004352")
		self.assertIn("Honda", honda.manufacturer)
		self.assertIn("United States", honda.manufacturer)
		self.assertFalse(frappe.db.get_value("Customer Vehicle", "MA1TA2XX6GH123456", "manufacturer"))

	def test_demo_vehicles_loaded_with_normalised_plates(self):
		self.assertEqual(
			frappe.db.get_value("Customer Vehicle", "MA1TA2XX6GH123456", "registration_plate"), "MH12AB1234"
		)
		self.assertEqual(normalize_plate("MH.15.EK.2020"), "MH15EK2020")
		self.assertTrue(frappe.db.exists("Customer Vehicle", {"registration_plate": "MH15EK2020"}))
