# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

import frappe
from frappe.tests.utils import FrappeTestCase


class TestServiceTechnician(FrappeTestCase):
	def demo_technician(self, first_name):
		employee = frappe.db.get_value("Employee", {"first_name": first_name})
		return frappe.get_doc("Service Technician", employee)

	def test_demo_technician_fetches_employee_details(self):
		tech = self.demo_technician("Amit")
		self.assertEqual(tech.technician_name, "Amit Kale")
		self.assertEqual(tech.company, "Orion Motors Pune")
		self.assertEqual(tech.user, "tech.amit@omp.example")
		self.assertEqual(tech.skill_level("Periodic Maintenance"), 4)
		self.assertEqual(tech.skill_level("Engine"), 3)
		self.assertEqual(tech.skill_level("Body and Paint"), 0)

	def test_duplicate_skill_refused(self):
		tech = self.demo_technician("Sunil")
		tech.append("skills", {"skill": "Electrical", "level": "Junior"})
		with self.assertRaisesRegex(frappe.ValidationError, "listed twice"):
			tech.save()

	def test_shift_sets_daily_hours(self):
		tech = self.demo_technician("Ganesh")
		tech.shift_start, tech.shift_end = "08:30:00", "17:00:00"
		tech.save()
		self.assertEqual(tech.daily_hours, 8.5)
		tech.shift_end = "08:00:00"
		with self.assertRaisesRegex(frappe.ValidationError, "end after it starts"):
			tech.save()
