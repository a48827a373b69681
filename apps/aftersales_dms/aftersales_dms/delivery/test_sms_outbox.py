"""Customer SMS through the outbox: queued with the document, sent by the job after the commit,
retried with backoff, never sent for a rolled-back change (a real local HTTP gateway)."""

from datetime import timedelta

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_to_date, now_datetime

from aftersales_dms.booking.doctype.service_appointment.test_service_appointment import (
	future_day,
	make_appointment,
)
from aftersales_dms.delivery.sms_outbox import MAX_ATTEMPTS, queue_sms
from aftersales_dms.tests.peers import SmsGateway, free_port

MANAGER = "manager@omp.example"


def outbox(reference_name):
	return frappe.get_all(
		"Outgoing SMS",
		filters={"reference_name": reference_name},
		fields=[
			"name",
			"status",
			"mobile",
			"company",
			"reference_doctype",
			"attempts",
			"sent_on",
			"last_error",
			"next_attempt_after",
		],
		order_by="creation asc",
	)


def set_reference_parameter(value):
	settings = frappe.get_single("Aftersales Settings")
	settings.sms_reference_parameter = value
	settings.save()


class TestSmsOutbox(FrappeTestCase):
	def setUp(self):
		frappe.set_user("Administrator")

	def tearDown(self):
		frappe.set_user("Administrator")

	def test_notification_sms_waits_for_the_worker_and_carries_its_reference(self):
		set_reference_parameter("ref")
		with SmsGateway() as gateway:
			appt = make_appointment(future_day() + timedelta(days=13, hours=10))
			appt.confirm()
			rows = outbox(appt.name)
			self.assertEqual(len(rows), 1)
			row = rows[0]
			self.assertEqual(
				(row.status, row.mobile, row.company, row.reference_doctype),
				("Queued", "+919822000101", "Orion Motors Pune", "Service Appointment"),
			)
			self.assertEqual(gateway.received, [])  # nothing leaves inside the saving request
			logs_before = frappe.db.count("SMS Log")
			gateway.flush()
		self.assertEqual(len(gateway.received), 1)
		self.assertEqual(gateway.received[0]["ref"], row.name)
		self.assertIn(f"your service appointment {appt.name} is confirmed", gateway.received[0]["text"])
		row = outbox(appt.name)[0]
		self.assertEqual((row.status, row.attempts), ("Sent", 1))
		self.assertTrue(row.sent_on)
		self.assertEqual(frappe.db.count("SMS Log"), logs_before + 1)  # Frappe's SMS Log still kept

	def test_rolled_back_change_sends_nothing(self):
		with SmsGateway() as gateway:
			appt = make_appointment(future_day() + timedelta(days=13, hours=14))
			frappe.db.savepoint("before_confirm")
			appt.confirm()
			self.assertEqual(len(outbox(appt.name)), 1)
			frappe.db.rollback(save_point="before_confirm")
			gateway.flush()
		self.assertEqual(outbox(appt.name), [])
		self.assertEqual(gateway.received, [])

	def test_failing_gateway_is_retried_with_backoff_then_failed_then_retried_by_a_manager(self):
		vehicle = frappe.get_doc("Customer Vehicle", "MA1TA2XX6GH123456")
		with SmsGateway(status=503) as gateway:
			(name,) = queue_sms(["+91 98220-00999"], "Your car is ready", vehicle)
			self.assertEqual(frappe.db.get_value("Outgoing SMS", name, "mobile"), "+919822000999")
			started = now_datetime()
			gateway.flush()
			row = frappe.get_doc("Outgoing SMS", name)
			self.assertEqual((row.status, row.attempts), ("Queued", 1))
			self.assertIn("HTTP 503", row.last_error)
			wait = row.next_attempt_after - started
			self.assertTrue(timedelta(seconds=55) <= wait <= timedelta(seconds=65), wait)
			gateway.flush()  # not due yet: no second attempt
			self.assertEqual(gateway.requests, 1)
			for attempt in range(2, MAX_ATTEMPTS + 1):
				frappe.db.set_value(
					"Outgoing SMS", name, "next_attempt_after", add_to_date(now_datetime(), minutes=-1)
				)
				gateway.flush()
				self.assertEqual(frappe.db.get_value("Outgoing SMS", name, "attempts"), attempt)
			self.assertEqual(frappe.db.get_value("Outgoing SMS", name, "status"), "Failed")
			self.assertTrue(
				frappe.db.exists("Error Log", {"reference_doctype": "Outgoing SMS", "reference_name": name})
			)
			gateway.flush()
			self.assertEqual(gateway.requests, MAX_ATTEMPTS)  # a failed one waits for a person

			gateway.status = 200  # the gateway is fixed; the workshop manager retries
			frappe.set_user(MANAGER)
			frappe.get_doc("Outgoing SMS", name).retry()
			frappe.set_user("Administrator")
			gateway.flush()
		row = frappe.get_doc("Outgoing SMS", name)
		self.assertEqual((row.status, row.attempts), ("Sent", 1))
		self.assertEqual([r["to"] for r in gateway.received], ["+919822000999"])
		with self.assertRaisesRegex(frappe.ValidationError, "Only a Failed SMS can be retried"):
			row.retry()

	def test_unreachable_gateway_is_a_failed_attempt_not_an_error_in_the_request(self):
		vehicle = frappe.get_doc("Customer Vehicle", "MA1TA2XX6GH123456")
		with SmsGateway() as gateway:
			frappe.db.set_single_value(
				"SMS Settings", "sms_gateway_url", f"http://127.0.0.1:{free_port()}/send"
			)
			(name,) = queue_sms(["+919822000998"], "Your car is ready", vehicle)
			gateway.flush()
		row = frappe.get_doc("Outgoing SMS", name)
		self.assertEqual((row.status, row.attempts), ("Queued", 1))
		self.assertIn("could not be reached", row.last_error)

	def test_staff_read_but_do_not_write_or_create_messages(self):
		vehicle = frappe.get_doc("Customer Vehicle", "MA1TA2XX6GH123456")
		(name,) = queue_sms(["+919822000997"], "Your car is ready", vehicle)
		frappe.set_user("advisor@omp.example")
		self.assertTrue(frappe.has_permission("Outgoing SMS", "read", name))
		self.assertFalse(frappe.has_permission("Outgoing SMS", "write", name))
		with self.assertRaises(frappe.PermissionError):
			frappe.get_doc("Outgoing SMS", name).retry()
		with self.assertRaises(frappe.PermissionError):
			frappe.get_doc({"doctype": "Outgoing SMS", "mobile": "+919800000000", "message": "x"}).insert()
		# not even a workshop manager, who may retry: a typed-in row would be sent to any number
		frappe.set_user(MANAGER)
		self.assertTrue(frappe.has_permission("Outgoing SMS", "read", name))
		with self.assertRaises(frappe.PermissionError):
			frappe.get_doc({"doctype": "Outgoing SMS", "mobile": "+919800000000", "message": "x"}).insert()
		row = frappe.get_doc("Outgoing SMS", name)
		row.mobile, row.message = "+919800000000", "forged"
		with self.assertRaises(frappe.PermissionError):
			row.save()
