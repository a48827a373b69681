# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

from datetime import datetime, timedelta

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, getdate

from aftersales_dms.booking.capacity import find_slots

COMPANY = "Orion Motors Pune"


def future_day() -> datetime:
	"""Midnight of a day after the demo's booked week, so tests own their bays and technicians."""
	day = add_days(getdate(), 10)
	return datetime.combine(day, datetime.min.time())


def technician(first_name):
	return frappe.db.get_value("Employee", {"first_name": first_name})


def make_appointment(
	start=None, bay="OMP Bay 1", tech="Amit", services=("LAB-PMS-CAR",), do_not_save=False, **kwargs
):
	doc = frappe.get_doc(
		{
			"doctype": "Service Appointment",
			"company": COMPANY,
			"channel": "Phone",
			"customer": frappe.db.get_value("Customer", {"customer_name": "Aarav Mehta"}),
			"vehicle": "MA1TA2XX6GH123456",
			"preferred_date": getdate(start) if start else add_days(getdate(), 2),
			"scheduled_start": start,
			"service_bay": bay if start else None,
			"technician": technician(tech) if (start and tech) else None,
			"services": [{"item_code": s} for s in services],
			**kwargs,
		}
	)
	if not do_not_save:
		doc.insert()
	return doc


class TestServiceAppointment(FrappeTestCase):
	def test_schedule_end_from_standard_hours(self):
		start = future_day() + timedelta(hours=9)
		doc = make_appointment(start, services=("LAB-PMS-CAR", "LAB-DIAG"))
		self.assertAlmostEqual(doc.total_hours, 3.3)
		self.assertEqual(doc.scheduled_end, start + timedelta(hours=3.3))
		self.assertEqual(doc.status, "Requested")

	def test_double_booking_of_bay_refused(self):
		start = future_day() + timedelta(hours=13)
		make_appointment(start, bay="OMP Bay 2", tech="Amit")
		with self.assertRaisesRegex(frappe.ValidationError, "Bay OMP Bay 2 is already booked"):
			make_appointment(
				start + timedelta(hours=1), bay="OMP Bay 2", tech="Sunil", services=("LAB-DIAG",)
			)

	def test_double_booking_of_technician_refused(self):
		start = future_day() + timedelta(hours=14)
		make_appointment(start, bay="OMP Bay 3", tech="Sunil", services=("LAB-DIAG",))
		with self.assertRaisesRegex(frappe.ValidationError, "is already booked"):
			make_appointment(start, bay="OMP Bay 4", tech="Sunil", services=("LAB-BATTERY",))

	def test_missing_skill_and_hours_refused(self):
		start = future_day() + timedelta(hours=10)
		with self.assertRaisesRegex(frappe.ValidationError, "lacks the skills Tractor Hydraulics"):
			make_appointment(start, tech="Sunil", services=("LAB-PMS-TRAC",))
		with self.assertRaisesRegex(frappe.ValidationError, "Outside workshop hours|is open from"):
			make_appointment(future_day() + timedelta(hours=17), services=("LAB-PMS-CAR",))

	def test_cancelled_appointment_frees_capacity(self):
		start = future_day() + timedelta(days=1, hours=9)
		first = make_appointment(start, bay="OMP Bay 1", tech="Amit")
		first.cancel_appointment("customer called")
		second = make_appointment(start, bay="OMP Bay 1", tech="Amit")
		self.assertEqual(second.status, "Requested")
		self.assertEqual(first.status, "Cancelled")

	def test_status_only_through_actions(self):
		# status, confirmed_on and technician_name are the system's (permlevel 2): an advisor's
		# save leaves them as stored, the appointment's actions set them
		frappe.set_user("advisor@omp.example")
		try:
			doc = make_appointment(future_day() + timedelta(days=2, hours=9), technician_name="Someone")
			self.assertEqual(doc.status, "Requested")
			self.assertEqual(
				doc.technician_name,
				frappe.db.get_value("Service Technician", doc.technician, "technician_name"),
			)
			doc.status = "Checked In"
			doc.confirmed_on = "2026-01-01 10:00:00"
			doc.save()
			doc.reload()
			self.assertEqual(doc.status, "Requested")
			self.assertFalse(doc.confirmed_on)
			doc.confirm()
			doc.reload()
			self.assertEqual(doc.status, "Confirmed")
			self.assertTrue(doc.confirmed_on)
		finally:
			frappe.set_user("Administrator")
		with self.assertRaisesRegex(frappe.ValidationError, "cannot become Requested"):
			doc.set_status("Requested")

	def test_vehicle_must_belong_to_customer(self):
		with self.assertRaisesRegex(frappe.ValidationError, "belongs to"):
			make_appointment(vehicle="MAT4XXXX0HL654321")

	def test_no_show_marked_after_slot(self):
		from aftersales_dms.booking.doctype.service_appointment.service_appointment import mark_no_shows

		doc = make_appointment(future_day() + timedelta(days=3, hours=9))
		frappe.db.set_value(
			"Service Appointment",
			doc.name,
			{"scheduled_start": datetime(2020, 1, 6, 9), "scheduled_end": datetime(2020, 1, 6, 11)},
		)
		mark_no_shows()
		self.assertEqual(frappe.db.get_value("Service Appointment", doc.name, "status"), "No Show")


class TestSlotFinder(FrappeTestCase):
	def test_slots_respect_skills_and_bookings(self):
		day = future_day() + timedelta(days=4)
		slots = find_slots(COMPANY, str(day.date()), services=["LAB-PMS-TRAC"])
		self.assertTrue(slots)
		self.assertEqual({s["technician"] for s in slots}, {technician("Raju")})
		self.assertEqual(slots[0]["start"], day + timedelta(hours=9))
		for s in slots:
			self.assertEqual(s["end"] - s["start"], timedelta(hours=3))
			self.assertLessEqual(s["end"], day + timedelta(hours=18))
		# book Raju 09:00-12:00: the next slot he can take starts at 12:00
		make_appointment(
			day + timedelta(hours=9),
			bay="OMP Bay 4",
			tech="Raju",
			services=("LAB-PMS-TRAC",),
			customer=frappe.db.get_value("Customer", {"customer_name": "Shinde Agro Farms"}),
			vehicle="MBNTRACT3RP000777",
		)
		slots = find_slots(COMPANY, str(day.date()), services=["LAB-PMS-TRAC"])
		self.assertEqual(slots[0]["start"], day + timedelta(hours=12))

	def test_all_bays_taken_means_no_slot(self):
		day = future_day() + timedelta(days=5)
		bays = frappe.get_all("Service Bay", filters={"company": COMPANY}, pluck="name")
		techs = ["Amit", "Sunil", "Ganesh", "Raju"]
		for bay, tech in zip(bays, techs, strict=True):
			make_appointment(day + timedelta(hours=9), bay=bay, tech=tech, services=())  # one hour each
		slots = find_slots(COMPANY, str(day.date()), hours=0.5)
		self.assertEqual(slots[0]["start"], day + timedelta(hours=10))

	def test_bad_input(self):
		for kwargs, message in [
			({"hours": 0}, "standard hours"),
			({"hours": 30}, "standard hours"),
			({"services": ["PRT-SPARK-PLUG"]}, "Not labour items"),
			({"hours": 1, "to_date": "2020-01-01"}, "at most 31 days"),
		]:
			with self.subTest(kwargs=kwargs), self.assertRaisesRegex(frappe.ValidationError, message):
				find_slots(COMPANY, str(getdate()), **kwargs)
