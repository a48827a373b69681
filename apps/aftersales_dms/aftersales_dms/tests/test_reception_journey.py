"""Booking → check-in → inspection → job card, on the real site, with every rule on the way."""

from datetime import timedelta

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import flt

from aftersales_dms.booking.doctype.service_appointment.test_service_appointment import (
	future_day,
	make_appointment,
)
from aftersales_dms.booking.recall import find_vehicle
from aftersales_dms.reception.doctype.vehicle_check_in.vehicle_check_in import make_check_in, make_job_card

VEHICLE = "MA1TA2XX6GH123456"  # Aarav Mehta's Orion Stellar 2022


def next_odometer(km=2100):
	"""A reading above whatever the vehicle shows now (other tests and the browser test add readings)."""
	return frappe.db.get_value("Customer Vehicle", VEHICLE, "current_odometer") + km


def make_recall(code="RC-TEST-01", **kwargs):
	return frappe.get_doc(
		{
			"doctype": "Recall Campaign",
			"campaign_code": code,
			"title": "Airbag inflator replacement",
			"make": "Orion",
			"model": "Stellar",
			"year_from": 2021,
			"year_to": 2023,
			"remedy_items": [
				{"item_code": "LAB-BATTERY", "qty": 1},
				{"item_code": "PRT-SPARK-PLUG", "qty": 4},
			],
			**kwargs,
		}
	).insert()


def checked_in(appointment, odometer=None, submit=True, **kwargs):
	odometer = odometer or next_odometer()
	ci = make_check_in(appointment.name)
	ci.update({"odometer": odometer, "fuel_level": "1/2", "belongings": "Umbrella", **kwargs})
	ci.append("damages", {"location": "Front", "description": "Scratch on bumper"})
	ci.insert()
	if submit:
		ci.submit()
	return ci


class TestReceptionJourney(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def test_full_journey_inherits_everything(self):
		make_recall()
		appt = make_appointment(
			future_day() + timedelta(days=7, hours=9),
			services=("LAB-PMS-CAR", "LAB-DIAG"),
			concerns="Squeal when braking",
			contact_mobile="+919822000999",
			tech="Amit",
		)
		self.assertIn("RC-TEST-01", appt.open_recalls)
		appt.confirm()

		odometer = next_odometer()
		ci = checked_in(appt, odometer)
		appt.reload()
		self.assertEqual(appt.status, "Checked In")
		self.assertEqual(ci.concerns, "Squeal when braking")
		self.assertEqual([r.item_code for r in ci.services], ["LAB-PMS-CAR", "LAB-DIAG"])
		self.assertIn("RC-TEST-01", ci.open_recalls)
		self.assertEqual(frappe.db.get_value("Customer Vehicle", VEHICLE, "current_odometer"), odometer)

		inspection = frappe.get_doc("Vehicle Inspection", ci.vehicle_inspection)
		self.assertEqual(inspection.template, "Car Multi-Point Inspection")
		self.assertEqual(len(inspection.items), 13)

		jc = make_job_card(ci.name)
		jc.insert()
		ci.reload()
		self.assertEqual(ci.service_job_card, jc.name)
		expected = {
			"company": "Orion Motors Pune",
			"customer": appt.customer,
			"vehicle": VEHICLE,
			"odometer": odometer,
			"fuel_level": "1/2",
			"concerns": "Squeal when braking",
			"vehicle_check_in": ci.name,
			"service_appointment": appt.name,
			"vehicle_inspection": inspection.name,
			"contact_mobile": "+919822000999",
			"contact_email": "aarav.mehta@example.com",
			"status": "Open",
			"registration_plate": "MH12AB1234",
			"vehicle_category": "Car",
		}
		self.assertDocumentEqual(expected, jc)
		self.assertIn("RC-TEST-01", jc.open_recalls)
		labour = [
			(r.item_code, r.standard_hours, r.rate, r.source, r.technician, r.recall_campaign)
			for r in jc.labour
		]
		amit = frappe.db.get_value("Employee", {"first_name": "Amit"})
		# the requested services, then each open campaign's remedy (the demo's OM-RC-2026-01 covers this car too)
		self.assertEqual(
			labour,
			[
				("LAB-PMS-CAR", 2.5, 900, "Customer Request", amit, None),
				("LAB-DIAG", 0.8, 1100, "Customer Request", amit, None),
				("LAB-BRAKE-PADS", 1.2, 900, "Recall Campaign", None, "OM-RC-2026-01"),
				("LAB-BATTERY", 0.5, 1000, "Recall Campaign", None, "RC-TEST-01"),
			],
		)
		self.assertEqual(
			[(r.item_code, r.qty, r.rate, r.recall_campaign) for r in jc.parts],
			[("PRT-SPARK-PLUG", 4, 290, "RC-TEST-01")],
		)
		self.assertAlmostEqual(jc.total_hours, 5.0)
		self.assertEqual(flt(jc.labour_total), 2.5 * 900 + 0.8 * 1100 + 1.2 * 900 + 0.5 * 1000)
		self.assertEqual(flt(jc.parts_total), 4 * 290)
		self.assertEqual(flt(jc.grand_total), flt(jc.labour_total) + 4 * 290)

		with self.assertRaises(frappe.DuplicateEntryError):
			make_job_card(ci.name)

	def test_walk_in_without_appointment(self):
		ci = frappe.get_doc(
			{
				"doctype": "Vehicle Check In",
				"company": "Orion Motors Nashik",
				"customer": frappe.db.get_value("Customer", {"customer_name": "Sneha Kulkarni"}),
				"vehicle": "MD2A11XX8JWA98765",
				"odometer": 24100,
				"fuel_level": "Full",
				"services": [{"item_code": "LAB-PMS-2W"}],
			}
		).insert()
		ci.submit()
		inspection = frappe.get_doc("Vehicle Inspection", ci.vehicle_inspection)
		self.assertEqual(inspection.template, "Two-Wheeler Inspection")
		jc = make_job_card(ci.name).insert()
		self.assertEqual(jc.labour[0].item_code, "LAB-PMS-2W")

	def test_odometer_rollback_needs_a_manager(self):
		appt = make_appointment(future_day() + timedelta(days=8, hours=9))
		last = frappe.db.get_value("Customer Vehicle", VEHICLE, "current_odometer")
		with self.assertRaisesRegex(frappe.ValidationError, f"below the last recorded reading of {last} km"):
			checked_in(appt, odometer=100)
		frappe.set_user("advisor@omp.example")
		with self.assertRaisesRegex(frappe.PermissionError, "Only a Workshop Manager"):
			checked_in(appt, odometer=100, odometer_override=1, odometer_override_reason="cluster replaced")
		frappe.set_user("manager@omp.example")
		with self.assertRaisesRegex(frappe.ValidationError, "Give the reason"):
			checked_in(appt, odometer=100, odometer_override=1)
		ci = checked_in(appt, odometer=100, odometer_override=1, odometer_override_reason="cluster replaced")
		self.assertEqual(ci.odometer_override_by, "manager@omp.example")

	def test_mandatory_inspection_items(self):
		appt = make_appointment(future_day() + timedelta(days=9, hours=9))
		ci = checked_in(appt)

		def attempt(results, red_note=None):
			inspection = frappe.get_doc("Vehicle Inspection", ci.vehicle_inspection)
			for row in inspection.items:
				if row.mandatory and results:
					row.result = "Green"
			if results:
				inspection.items[5].result = "Red"  # front brake pads
				inspection.items[5].note = red_note
			inspection.submit()
			return inspection

		with self.assertRaisesRegex(frappe.ValidationError, "Answer every mandatory check"):
			attempt(results=False)
		with self.assertRaisesRegex(frappe.ValidationError, "Red result: Front brake pads"):
			attempt(results=True)
		inspection = attempt(results=True, red_note="2 mm left")
		self.assertEqual((inspection.status, inspection.red_count), ("Completed", 1))

	def test_check_in_rules(self):
		appt = make_appointment(future_day() + timedelta(days=10, hours=9))
		other_customer = frappe.db.get_value("Customer", {"customer_name": "Priya Nair"})
		with self.assertRaisesRegex(frappe.ValidationError, "appointment's dealer and customer"):
			checked_in(appt, customer=other_customer)
		walk_in = {
			"doctype": "Vehicle Check In",
			"company": "Orion Motors Pune",
			"customer": other_customer,
			"vehicle": VEHICLE,
			"odometer": 99999,
			"fuel_level": "Full",
		}
		with self.assertRaisesRegex(frappe.ValidationError, "belongs to"):
			frappe.get_doc(walk_in).insert()
		with self.assertRaisesRegex(frappe.ValidationError, "between 0 and 9,999,999"):
			frappe.get_doc({**walk_in, "customer": appt.customer, "odometer": 10**8}).insert()
		appt.cancel_appointment("no longer needed")
		with self.assertRaisesRegex(frappe.ValidationError, "cannot be checked in"):
			make_check_in(appt.name)

	def test_cancel_check_in_undoes_it(self):
		appt = make_appointment(future_day() + timedelta(days=11, hours=9))
		appt.confirm()
		before = next_odometer(0)
		ci = checked_in(appt, odometer=before + 2600)
		ci.cancel()
		self.assertEqual(frappe.db.get_value("Service Appointment", appt.name, "status"), "Confirmed")
		self.assertEqual(frappe.db.get_value("Customer Vehicle", VEHICLE, "current_odometer"), before)
		self.assertFalse(frappe.db.exists("Vehicle Inspection", {"vehicle_check_in": ci.name}))

	def test_check_in_adds_its_reading_without_rewriting_the_history(self):
		"""A vehicle that comes in every week gathers hundreds of readings: a check-in inserts its
		own and sets the current reading; the earlier rows are not written again, and a
		cancellation takes back only its own."""
		readings = "Vehicle Odometer Reading"
		for km in (100, 200, 300):  # a history, as a form save would leave it
			vehicle = frappe.get_doc("Customer Vehicle", VEHICLE)
			vehicle.add_odometer_reading(next_odometer(km))
			vehicle.save()
		earlier = frappe.get_all(readings, {"parent": VEHICLE}, ["name", "modified", "idx"], order_by="idx")
		before, vehicle_modified = frappe.db.get_value(
			"Customer Vehicle", VEHICLE, ["current_odometer", "modified"]
		)

		appt = make_appointment(future_day() + timedelta(days=12, hours=9))
		appt.confirm()
		odometer = before + 900
		ci = checked_in(appt, odometer)
		now = frappe.get_all(readings, {"parent": VEHICLE}, ["name", "modified", "idx"], order_by="idx")
		self.assertEqual(now[: len(earlier)], earlier)  # untouched
		added = frappe.get_all(
			readings,
			{"parent": VEHICLE, "source_doctype": "Vehicle Check In", "source_name": ci.name},
			["odometer", "idx", "recorded_by", "parentfield"],
		)
		self.assertEqual(
			added,
			[
				{
					"odometer": odometer,
					"idx": len(earlier) + 1,
					"recorded_by": "Administrator",
					"parentfield": "odometer_readings",
				}
			],
		)
		vehicle = frappe.get_doc("Customer Vehicle", VEHICLE)
		self.assertEqual(vehicle.current_odometer, odometer)
		self.assertGreater(vehicle.modified, vehicle_modified)
		self.assertEqual(vehicle.odometer_readings[-1].odometer, odometer)

		ci.cancel()
		after = frappe.get_all(readings, {"parent": VEHICLE}, ["name", "modified", "idx"], order_by="idx")
		self.assertEqual(after, earlier)
		self.assertEqual(frappe.db.get_value("Customer Vehicle", VEHICLE, "current_odometer"), before)


class TestVehicleLookup(FrappeTestCase):
	def test_find_by_plate_or_vin_any_spelling(self):
		make_recall(
			"RC-TEST-02", make=None, model=None, year_from=None, year_to=None, vins=[{"vin": VEHICLE}]
		)
		for query in ("mh-12-ab-1234", "MH 12 AB 1234", VEHICLE.lower()):
			with self.subTest(query=query):
				found = find_vehicle(query)
				self.assertEqual(found["vehicle"]["name"], VEHICLE)
				self.assertEqual(found["owner"]["customer_name"], "Aarav Mehta")
				self.assertIn("RC-TEST-02", [r["name"] for r in found["open_recalls"]])

	def test_unknown_and_other_dealer(self):
		with self.assertRaises(frappe.DoesNotExistError):
			find_vehicle("XX99ZZ0000")
		frappe.set_user("advisor@omp.example")
		try:
			with self.assertRaises(frappe.DoesNotExistError):
				find_vehicle("MH 15 CV 4410")  # a Nashik vehicle: invisible to a Pune advisor
		finally:
			frappe.set_user("Administrator")

	def test_recall_campaign_validation(self):
		with self.assertRaisesRegex(frappe.ValidationError, "Say which vehicles"):
			make_recall("RC-TEST-03", make=None, model=None, year_from=None, year_to=None)
		with self.assertRaisesRegex(frappe.ValidationError, "I, O and Q"):
			make_recall("RC-TEST-04", vins=[{"vin": "1HGCM8263OA004352"}])
		self.assertFalse(frappe.db.exists("Recall Campaign", "RC-TEST-04"))
