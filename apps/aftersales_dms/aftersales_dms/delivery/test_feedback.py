# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

"""Delivery follow-up: the feedback link and page, the next service date and its reminder."""

from urllib.parse import parse_qs, urlparse

import frappe
from erpnext.accounts.doctype.payment_entry.payment_entry import get_payment_entry
from frappe.email.doctype.notification.notification import trigger_daily_alerts
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, cint, getdate, today

from aftersales_dms.billing.approval import InvalidApprovalLink
from aftersales_dms.billing.invoice import make_invoices
from aftersales_dms.billing.test_invoice import ready_job_card, submit_as_accountant
from aftersales_dms.delivery.feedback import submit_feedback
from aftersales_dms.tests.peers import SmsGateway
from aftersales_dms.workshop.test_job_card_status import ADVISOR, act, as_user


def delivered_job_card():
	jc = ready_job_card(parts=())
	inv = submit_as_accountant(make_invoices(jc.name)["Customer"])
	pe = get_payment_entry("Sales Invoice", inv.name)
	pe.reference_no, pe.reference_date = "UPI-9", today()
	pe.insert().submit()
	act(jc.name, "Deliver", ADVISOR)
	return frappe.get_doc("Service Job Card", jc.name)


def emails_for(doctype, name):
	return frappe.get_all(
		"Email Queue", filters={"reference_doctype": doctype, "reference_name": name}, fields=["message"]
	)


class TestDeliveryFollowUp(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def test_feedback_link_sent_and_works_once(self):
		jc = delivered_job_card()
		self.assertIn("/service_feedback?token=", jc.feedback_link)
		self.assertTrue(
			any(
				"Rate the service of your vehicle" in e.message
				for e in emails_for("Service Job Card", jc.name)
			)
		)
		token = parse_qs(urlparse(jc.feedback_link).query)["token"][0]
		with self.assertRaisesRegex(frappe.ValidationError, "1 to 5 stars"):
			as_user("Guest", submit_feedback, token, 9)
		with self.assertRaisesRegex(frappe.ValidationError, "HTML"):
			as_user("Guest", submit_feedback, token, 4, "<script>alert(1)</script>")
		self.assertEqual(as_user("Guest", submit_feedback, token, 4, "Quick and clean"), {"stars": 4})
		fb = frappe.get_last_doc("Service Feedback", filters={"service_job_card": jc.name})
		self.assertEqual(
			(fb.stars, fb.comment, fb.company, fb.customer), (4, "Quick and clean", jc.company, jc.customer)
		)
		with self.assertRaises(InvalidApprovalLink):
			as_user("Guest", submit_feedback, token, 5)
		forged = token[:-1] + ("0" if token[-1] != "0" else "1")
		with self.assertRaises(InvalidApprovalLink):
			as_user("Guest", submit_feedback, forged, 5)

	def test_next_service_planned_and_reminded_a_week_before(self):
		jc = delivered_job_card()
		days, km = frappe.db.get_value(
			"Vehicle Category", jc.vehicle_category, ["service_interval_days", "service_interval_km"]
		)
		vehicle = frappe.get_doc("Customer Vehicle", jc.vehicle)
		self.assertEqual(getdate(vehicle.next_service_date), getdate(add_days(today(), cint(days))))
		self.assertEqual(vehicle.next_service_odometer, cint(jc.odometer) + cint(km))
		self.assertEqual(str(vehicle.last_service_date), today())
		frappe.db.set_value("Customer Vehicle", jc.vehicle, "next_service_date", add_days(today(), 7))
		with SmsGateway() as gateway:
			trigger_daily_alerts()
			gateway.flush()
		self.assertIn(vehicle.customer_mobile, [s["to"] for s in gateway.received])
		self.assertTrue(
			any(
				"is due for its next service" in e.message for e in emails_for("Customer Vehicle", jc.vehicle)
			)
		)
