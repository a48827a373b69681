# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

"""OEM standard templates: shared, versioned, and local changes respected."""

from unittest.mock import patch

import frappe
from frappe.tests.utils import FrappeTestCase

from aftersales_dms import oem_templates
from aftersales_dms.workshop.doctype.service_job_card.test_service_job_card import make_job_card

PACKAGE = "Car periodic service 10,000 km"


def shipped(version, hours_item_qty=4):
	data = oem_templates.load("workshop/data/oem_service_packages.json")
	data["version"] = version
	for pkg in data["packages"]:
		if pkg["package_name"] == PACKAGE:
			pkg["items"] = [["LAB-PMS-CAR", 1], ["PRT-OIL-5W30-1L", hours_item_qty], ["PRT-OIL-FILTER-C", 1]]
	return data


class TestOEMTemplates(FrappeTestCase):
	def setUp(self):
		frappe.db.savepoint("oem_templates")

	def tearDown(self):
		frappe.db.rollback(save_point="oem_templates")  # each test sees the shipped templates
		frappe.set_user("Administrator")

	def sync(self, data):
		real = oem_templates.load
		with patch.object(
			oem_templates,
			"load",
			side_effect=lambda p: data if p.endswith("oem_service_packages.json") else real(p),
		):
			return oem_templates.sync_service_packages()

	def test_shipped_templates_exist_for_every_dealer(self):
		pkg = frappe.get_doc("Service Package", PACKAGE)
		self.assertEqual(pkg.oem_version, "2026.1")
		self.assertEqual([(r.item_code, r.qty) for r in pkg.items][1], ("PRT-OIL-5W30-1L", 4))
		tpl = frappe.get_doc("Vehicle Inspection Template", "Car Multi-Point Inspection")
		self.assertEqual(tpl.oem_version, "2026.1")
		self.assertEqual(self.sync(shipped("2026.1"))[PACKAGE], "kept")

	def test_new_version_replaces_untouched_and_spares_changed_templates(self):
		self.assertEqual(self.sync(shipped("2026.2", 5))[PACKAGE], "updated")
		pkg = frappe.get_doc("Service Package", PACKAGE)
		self.assertEqual((pkg.oem_version, pkg.items[1].qty), ("2026.2", 5))
		pkg.items[1].qty = 3  # the dealer's own oil quantity
		pkg.save()
		self.assertEqual(self.sync(shipped("2026.3", 6))[PACKAGE], "customized")
		pkg.reload()
		self.assertEqual((pkg.oem_version, pkg.items[1].qty), ("2026.2", 3))
		self.assertTrue(
			frappe.db.exists(
				"Comment",
				{"reference_name": PACKAGE, "content": ("like", "%version 2026.3 was not applied%")},
			)
		)

	def test_package_adds_its_work_to_a_job_card(self):
		jc = make_job_card(labour=())
		jc.add_service_package(PACKAGE)
		jc.reload()
		self.assertEqual([(r.item_code, r.source) for r in jc.labour], [("LAB-PMS-CAR", "Service Package")])
		self.assertEqual(
			[(r.item_code, r.qty) for r in jc.parts], [("PRT-OIL-5W30-1L", 4), ("PRT-OIL-FILTER-C", 1)]
		)
		with self.assertRaisesRegex(frappe.ValidationError, "is for Two-Wheeler"):
			jc.add_service_package("Two-wheeler periodic service 3,000 km")
		frappe.set_user("tech.amit@omp.example")
		try:
			with self.assertRaises(frappe.PermissionError):
				jc.add_service_package(PACKAGE)
		finally:
			frappe.set_user("Administrator")
