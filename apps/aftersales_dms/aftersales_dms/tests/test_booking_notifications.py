"""Confirmations and reminders: shipped Notification records, Email Queue and a real HTTP SMS gateway."""

from datetime import timedelta
from unittest.mock import patch

import frappe
from frappe.email.doctype.notification.notification import trigger_daily_alerts
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, getdate

from aftersales_dms.booking.capacity import find_slots
from aftersales_dms.booking.doctype.service_appointment.test_service_appointment import (
	future_day,
	make_appointment,
)
from aftersales_dms.tests.peers import SmsGateway, SmtpSink


def queued_emails(reference_name):
	return frappe.get_all(
		"Email Queue",
		filters={"reference_doctype": "Service Appointment", "reference_name": reference_name},
		fields=["name", "message"],
	)


class TestBookingNotifications(FrappeTestCase):
	def test_shipped_notifications_are_editable_records(self):
		for name in (
			"Service Appointment Confirmed - Email",
			"Service Appointment Confirmed - SMS",
			"Service Appointment Reminder - Email",
			"Service Appointment Reminder - SMS",
		):
			notification = frappe.get_doc("Notification", name)
			self.assertEqual((notification.enabled, notification.is_standard), (1, 0), name)

	def test_confirmation_email_and_sms(self):
		with SmsGateway() as gateway, SmtpSink() as smtp:
			appt = make_appointment(
				future_day() + timedelta(days=12, hours=10), contact_email="aarav.work@example.com"
			)
			self.assertEqual(appt.contact_mobile, "+919822000101")  # defaulted from the customer
			self.assertFalse(queued_emails(appt.name))
			appt.confirm()
			delivered = smtp.flush(reference_name=appt.name)
			gateway.flush()
		self.assertEqual(len(delivered), 1)
		self.assertEqual(delivered[0]["to"], ["aarav.work@example.com"])
		self.assertEqual(delivered[0]["subject"], f"Service appointment {appt.name} confirmed")
		body = delivered[0]["message"].get_body(("html",)).get_content()
		self.assertIn("Orion Motors Pune", body)
		emails = queued_emails(appt.name)
		self.assertEqual(len(emails), 1)
		recipients = frappe.get_all(
			"Email Queue Recipient", filters={"parent": emails[0].name}, pluck="recipient"
		)
		self.assertEqual(recipients, ["aarav.work@example.com"])
		self.assertIn(f"Service appointment {appt.name} confirmed", emails[0].message)
		self.assertEqual(len(gateway.received), 1)
		sms = gateway.received[0]
		self.assertEqual((sms["to"], sms["sender"]), ("+919822000101", "ORIONS"))
		self.assertIn(f"your service appointment {appt.name} is confirmed", sms["text"])
		self.assertIn("MH12AB1234", sms["text"])

	def test_reminder_the_day_before_by_the_scheduler_job(self):
		tomorrow = add_days(getdate(), 1)

		def book(services, mobile):
			slot = find_slots("Orion Motors Pune", tomorrow, services=services, limit=1)[0]
			return make_appointment(
				slot["start"],
				bay=slot["service_bay"],
				tech=None,
				services=services,
				technician=slot["technician"],
				contact_mobile=mobile,
			)

		appt = book(["LAB-PMS-CAR"], "+919800000001")
		unconfirmed = book(["LAB-DIAG"], "+919800000002")
		with SmsGateway() as gateway, SmtpSink():
			appt.confirm()
			gateway.flush()
			gateway.received.clear()
			frappe.db.delete("Email Queue", {"reference_name": appt.name})
			trigger_daily_alerts()
			gateway.flush()
		reminded = {s["to"]: s["text"] for s in gateway.received}
		self.assertIn("+919800000001", reminded)
		self.assertIn(
			"reminder, your vehicle MH12AB1234 is booked for service tomorrow", reminded["+919800000001"]
		)
		self.assertNotIn("+919800000002", reminded)  # not confirmed: no reminder
		# every confirmed appointment of tomorrow is reminded, the demo's included, and only those
		confirmed_tomorrow = frappe.get_all(
			"Service Appointment",
			filters={
				"status": "Confirmed",
				"scheduled_start": ("between", [tomorrow, tomorrow]),
				"sms_opt_in": 1,
			},
			pluck="contact_mobile",
		)
		self.assertEqual(sorted(reminded), sorted(set(confirmed_tomorrow)))
		emails = queued_emails(appt.name)
		self.assertEqual(len(emails), 1)
		self.assertIn("Reminder: service appointment tomorrow", emails[0].message)
		self.assertFalse(queued_emails(unconfirmed.name))

	def test_bad_contact_refused(self):
		with self.assertRaisesRegex(frappe.ValidationError, "Mobile number"):
			make_appointment(contact_mobile="call me maybe")
		with self.assertRaises(frappe.InvalidEmailAddressError):
			make_appointment(contact_email="not-an-email")


def submit_request(**data):
	values = {
		"doctype": "Online Booking Request",
		"company": "Orion Motors Pune",
		"full_name": "Aarav Mehta",
		"mobile_no": "098220 00101",
		"registration_plate": "mh 12 ab 1234",
		"preferred_date": add_days(getdate(), 3),
		"concerns": "AC not cooling",
		**data,
	}
	doc = frappe.get_doc(values).insert(ignore_permissions=True)
	return frappe.get_doc(doc.doctype, doc.name)  # what was stored (the guest is told less)


class TestOnlineBookingRequest(FrappeTestCase):
	def test_matched_by_plate_and_mobile(self):
		req = submit_request()
		self.assertEqual(req.status, "Matched")
		appt = frappe.get_doc("Service Appointment", req.service_appointment)
		self.assertEqual((appt.channel, appt.status, appt.needs_review), ("Online", "Requested", 0))
		self.assertEqual(appt.vehicle, "MA1TA2XX6GH123456")
		self.assertEqual(appt.concerns, "AC not cooling")

	def test_unknown_vehicle_creates_customer_for_review(self):
		req = submit_request(
			full_name="Nikhil Rao",
			mobile_no="+919811112222",
			registration_plate="MH 01 ZZ 9999",
			email="nikhil@example.com",
			sms_opt_in=0,
		)
		self.assertEqual(req.status, "Needs Review")
		appt = frappe.get_doc("Service Appointment", req.service_appointment)
		self.assertEqual(appt.needs_review, 1)
		self.assertIsNone(appt.vehicle)
		self.assertEqual(
			(appt.contact_mobile, appt.sms_opt_in), ("+919811112222", 0)
		)  # no SMS without opt-in
		self.assertEqual(frappe.db.get_value("Customer", appt.customer, "customer_name"), "Nikhil Rao")
		self.assertIn("MH01ZZ9999", appt.concerns)

	def test_plate_with_other_mobile_is_not_matched(self):
		req = submit_request(mobile_no="+919800000000", full_name="Someone Else")
		self.assertEqual(req.status, "Needs Review")
		self.assertIsNone(frappe.db.get_value("Service Appointment", req.service_appointment, "vehicle"))

	def test_bad_input_refused_and_nothing_saved(self):
		before = (frappe.db.count("Online Booking Request"), frappe.db.count("Service Appointment"))
		for data, message in [
			({"mobile_no": "abc"}, "Mobile number"),
			({"registration_plate": "!"}, "registration plate"),
			({"preferred_date": "2001-01-01"}, "Choose a date"),
			({"preferred_date": add_days(getdate(), 400)}, "Choose a date"),
			({"concerns": "<script>alert(1)</script>"}, "may not contain HTML"),
			({"concerns": "x" * 1001}, "too long"),
			({"vin": "1HGCM82643A004352"}, "check digit"),
			({"email": "nope"}, "not a valid"),
		]:
			with self.subTest(data=data), self.assertRaisesRegex(frappe.ValidationError, message):
				submit_request(**data)
		self.assertEqual(
			(frappe.db.count("Online Booking Request"), frappe.db.count("Service Appointment")), before
		)

	def test_rate_limited_per_mobile(self):
		for _ in range(3):
			submit_request(
				mobile_no="+919833334444", full_name="Busy Caller", registration_plate="MH02AA0001"
			)
		with self.assertRaises(frappe.RateLimitExceededError):
			submit_request(
				mobile_no="+919833334444", full_name="Busy Caller", registration_plate="MH02AA0001"
			)

	def test_rate_limited_per_mobile_however_it_is_written(self):
		"""The attack on the demo: the 4th request from +919811100222 was refused, but 9811100222,
		09811100222 and 0091 9811100222 were each taken as another number (and stored so)."""
		spellings = ("+91 98111 00333", "9811100333", "09811100333")
		for k, mobile in enumerate(spellings):
			req = submit_request(mobile_no=mobile, full_name="Many Ways", registration_plate=f"MH02AB{k:04d}")
			self.assertEqual(req.mobile_no, "+919811100333")
		with self.assertRaises(frappe.RateLimitExceededError):
			submit_request(
				mobile_no="0091 9811100333", full_name="Many Ways", registration_plate="MH02AB0009"
			)

	def test_guest_email_never_attached_to_an_existing_customer(self):
		"""A plate and a mobile number are no proof of who asks: the matched appointment keeps the
		customer's own contact, and the guest's email waits for the advisor's review."""
		customer = frappe.db.get_value("Customer Vehicle", "MA1TA2XX6GH123456", "customer")
		known = frappe.db.get_value("Customer", customer, "email_id")
		req = submit_request(email="someone.else@example.net")
		self.assertEqual(req.status, "Needs Review")
		appt = frappe.get_doc("Service Appointment", req.service_appointment)
		self.assertEqual((appt.customer, appt.vehicle, appt.needs_review), (customer, "MA1TA2XX6GH123456", 1))
		self.assertNotEqual(appt.contact_email, "someone.else@example.net")
		self.assertEqual(appt.contact_email or None, known or None)
		self.assertIn("someone.else@example.net", appt.concerns)
		self.assertEqual(frappe.db.get_value("Customer", customer, "email_id"), known)

	def test_rate_limited_per_plate_and_email_whatever_the_network(self):
		for i in range(3):
			submit_request(
				mobile_no=f"+91982000{i:04d}", full_name="Plate Prober", registration_plate="MH02PL0001"
			)
		with self.assertRaisesRegex(frappe.RateLimitExceededError, "vehicle"):
			submit_request(
				mobile_no="+919820009999", full_name="Plate Prober", registration_plate="MH02PL0001"
			)
		for i in range(3):
			submit_request(
				mobile_no=f"+91983000{i:04d}",
				full_name="Mail Prober",
				registration_plate=f"MH02EM{i:04d}",
				email="prober@example.net",
			)
		with self.assertRaisesRegex(frappe.RateLimitExceededError, "email"):
			submit_request(
				mobile_no="+919830009999",
				full_name="Mail Prober",
				registration_plate="MH02EM9999",
				email="prober@example.net",
			)

	def test_rate_limited_per_dealer(self):
		from aftersales_dms.booking.doctype.online_booking_request import online_booking_request as obr

		recent = frappe.db.count(
			"Online Booking Request",
			{
				"company": "Orion Motors Pune",
				"creation": (">", frappe.utils.add_to_date(frappe.utils.now_datetime(), hours=-1)),
			},
		)
		with patch.object(obr, "MAX_PER_DEALER_PER_HOUR", recent + 1):
			submit_request(mobile_no="+919840000001", full_name="First", registration_plate="MH02DL0001")
			with self.assertRaisesRegex(frappe.RateLimitExceededError, "dealer"):
				submit_request(mobile_no="+919840000002", full_name="Second", registration_plate="MH02DL0002")
