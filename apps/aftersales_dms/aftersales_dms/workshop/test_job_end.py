# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

"""Every job has a way forward and a clean end (issue #19): someone at each dealer can act in
every status, a customer who declines the work gets the vehicle back (Released), and a job's end
closes what was open for it and leaves it read-only."""

import frappe
from erpnext.accounts.doctype.payment_entry.payment_entry import get_payment_entry
from frappe.model.workflow import WorkflowPermissionError, WorkflowTransitionError
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, getdate, today

from aftersales_dms.analytics.dashboard import jobs_nobody_can_move
from aftersales_dms.billing.approval import decide, make_approval_link
from aftersales_dms.billing.estimate import make_estimate
from aftersales_dms.billing.invoice import make_invoices
from aftersales_dms.billing.test_approval import token_of
from aftersales_dms.booking.recall import find_vehicle
from aftersales_dms.controllers.dealer import dealer_users
from aftersales_dms.roles import QUALITY_SUPERVISOR
from aftersales_dms.workshop.doctype.service_job_card.test_service_job_card import make_job_card
from aftersales_dms.workshop.status import JobCardClosedError, JobCardStatusError
from aftersales_dms.workshop.test_job_card_status import ADVISOR, AMIT, MANAGER, QC, as_user

NASHIK = "Orion Motors Nashik"
NASHIK_VEHICLE = "MD2A11XX8JWA98765"  # Sneha Kulkarni's, a Nashik customer
OMN_ADVISOR, OMN_MANAGER, OMN_ACCOUNTANT = (
	"advisor@omn.example",
	"manager@omn.example",
	"accounts@omn.example",
)
OMN_TECH = "tech.deepak@omn.example"
PUNE_VEHICLE = "MA1TA2XX6GH123456"
ACCOUNTANT = "accounts@omp.example"


def endpoint(method):
	"""What a request to /api/method/<method> runs (hooks.override_whitelisted_methods applied),
	as frappe.handler.execute_cmd resolves it."""
	overrides = frappe.get_hooks("override_whitelisted_methods", {}).get(method)
	return frappe.get_attr(overrides[-1] if overrides else method)


def act(job_card, action, user):
	"""Take a workflow action as `user` through the endpoint the desk's Actions menu and REST call."""
	fn = endpoint("frappe.model.workflow.apply_workflow")
	return as_user(user, fn, frappe.get_doc("Service Job Card", job_card).as_dict(), action)


def get_transitions(doc):
	return endpoint("frappe.model.workflow.get_transitions")(doc)


def open_todos(job_card, **filters):
	return frappe.get_all(
		"ToDo",
		filters={
			"reference_type": "Service Job Card",
			"reference_name": job_card,
			"status": "Open",
			**filters,
		},
		pluck="allocated_to",
	)


def to_customer(jc, advisor, starter):
	"""Start the work, estimate it, ask the customer: the approval link's token."""
	act(jc.name, "Start Work", starter)
	as_user(advisor, make_estimate, jc.name)
	token = token_of(as_user(advisor, make_approval_link, jc.name))
	act(jc.name, "Request Approval", advisor)
	return token


def clock(jc_name, user, rows=None):
	jc = frappe.get_doc("Service Job Card", jc_name)
	for row in jc.labour:
		if rows is None or row.item_code in rows:
			as_user(user, jc.start_work, row.name)
			jc.reload()
			as_user(user, jc.finish_work, row.name)
			jc.reload()


def customer_decides(jc_name, token, approve=()):
	jc = frappe.get_doc("Service Job Card", jc_name)
	decisions = {r.name: "Approved" if r.item_code in approve else "Declined" for r in jc.labour + jc.parts}
	as_user("Guest", decide, token, decisions)


def pay(invoice_name, accountant):
	invoice = frappe.get_doc("Sales Invoice", invoice_name)
	as_user(accountant, invoice.submit)
	pe = get_payment_entry("Sales Invoice", invoice.name)
	pe.reference_no, pe.reference_date = "UPI-19", today()
	pe.insert().submit()


def nashik_job_in_quality_check():
	"""A Nashik job taken to Quality Check by Nashik's own staff."""
	jc = make_job_card(
		labour=("LAB-PMS-CAR",), technicians=("Deepak",), vehicle=NASHIK_VEHICLE, company=NASHIK
	)
	token = to_customer(jc, OMN_ADVISOR, OMN_MANAGER)
	customer_decides(jc.name, token, approve=("LAB-PMS-CAR",))
	act(jc.name, "Start Repair", OMN_MANAGER)
	clock(jc.name, OMN_TECH)
	act(jc.name, "Send to QC", OMN_MANAGER)
	return frappe.get_doc("Service Job Card", jc.name)


def verify_checklist(jc_name, user):
	jc = frappe.get_doc("Service Job Card", jc_name)
	for row in jc.qc_items:
		row.verified = 1
	as_user(user, jc.save)


def set_stand_in(test, company, value):
	old = frappe.db.get_value("Dealer Workshop Settings", {"company": company}, "managers_stand_in")
	frappe.db.set_value("Dealer Workshop Settings", {"company": company}, "managers_stand_in", value)
	test.addCleanup(
		frappe.db.set_value, "Dealer Workshop Settings", {"company": company}, "managers_stand_in", old
	)


class TestSomeoneCanAct(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def test_nashik_manager_takes_qc_where_nashik_has_no_quality_supervisor(self):
		self.assertEqual(dealer_users(QUALITY_SUPERVISOR, NASHIK), [])  # the demo network's fact
		jc = nashik_job_in_quality_check()
		self.assertEqual(jc.status, "Quality Check")
		# the QC task goes to who can act: Nashik's manager
		self.assertEqual(open_todos(jc.name, dms_task="qc"), [OMN_MANAGER])
		actions = {t["action"] for t in as_user(OMN_MANAGER, get_transitions, jc.as_dict())}
		self.assertEqual(actions & {"Pass QC", "Fail QC"}, {"Pass QC", "Fail QC"})
		self.assertEqual(as_user(OMN_MANAGER, jobs_nobody_can_move, {"company": NASHIK})["value"], 0)
		# the advisor is no stand-in, nor the manager of another dealer
		with self.assertRaises(WorkflowTransitionError):
			act(jc.name, "Pass QC", OMN_ADVISOR)
		verify_checklist(jc.name, OMN_MANAGER)
		act(jc.name, "Pass QC", OMN_MANAGER)
		jc.reload()
		self.assertEqual((jc.status, jc.qc_result, jc.qc_by), ("Ready for Pickup", "Passed", OMN_MANAGER))
		self.assertEqual(open_todos(jc.name, dms_task="qc"), [])

	def test_no_stand_in_when_the_setting_is_off_and_the_card_counts_the_job(self):
		set_stand_in(self, NASHIK, 0)
		jc = nashik_job_in_quality_check()
		self.assertEqual(open_todos(jc.name, dms_task="qc"), [])
		actions = {t["action"] for t in as_user(OMN_MANAGER, get_transitions, jc.as_dict())}
		self.assertFalse(actions & {"Pass QC", "Fail QC"})
		verify_checklist(jc.name, OMN_MANAGER)
		with self.assertRaises(WorkflowTransitionError):
			act(jc.name, "Pass QC", OMN_MANAGER)
		# nor by a save of the status (REST PUT)
		doc = frappe.get_doc("Service Job Card", jc.name)
		doc.status = "Ready for Pickup"
		with self.assertRaises(WorkflowPermissionError):
			as_user(OMN_MANAGER, doc.save)
		self.assertEqual(frappe.db.get_value("Service Job Card", jc.name, "status"), "Quality Check")
		self.assertGreaterEqual(as_user(OMN_MANAGER, jobs_nobody_can_move, {"company": NASHIK})["value"], 1)

	def test_pune_manager_stands_in_for_nobody_pune_has_a_quality_supervisor(self):
		from aftersales_dms.workshop.test_job_card_status import approved_job_card, clock_done, issue_all

		self.assertTrue(dealer_users(QUALITY_SUPERVISOR, "Orion Motors Pune"))
		jc = approved_job_card()
		issue_all(jc)
		act(jc.name, "Start Repair", MANAGER)
		clock_done(jc.name)
		act(jc.name, "Send to QC", AMIT)
		self.assertEqual(open_todos(jc.name, dms_task="qc"), [QC])
		verify_checklist(jc.name, MANAGER)
		with self.assertRaises(WorkflowTransitionError):
			act(jc.name, "Pass QC", MANAGER)


class TestReleaseWithoutWork(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def plan(self, vehicle):
		"""Give the vehicle a known service plan and return it."""
		values = {
			"next_service_date": add_days(today(), 40),
			"next_service_odometer": 123456,
			"last_service_date": add_days(today(), -100),
		}
		frappe.db.set_value("Customer Vehicle", vehicle, values)
		return values

	def assert_plan_unchanged(self, vehicle, plan):
		stored = frappe.db.get_value("Customer Vehicle", vehicle, list(plan), as_dict=True)
		self.assertEqual(getdate(stored.next_service_date), getdate(plan["next_service_date"]))
		self.assertEqual(stored.next_service_odometer, plan["next_service_odometer"])

	def test_diagnosis_agreed_rest_declined_invoiced_and_released(self):
		jc = make_job_card(labour=("LAB-PMS-CAR", "LAB-DIAG"), technicians=("Amit", "Amit"))
		act(jc.name, "Start Work", AMIT)
		clock(jc.name, AMIT, rows=("LAB-DIAG",))  # the diagnosis, before the estimate
		as_user(ADVISOR, make_estimate, jc.name)
		token = token_of(as_user(ADVISOR, make_approval_link, jc.name))
		act(jc.name, "Request Approval", ADVISOR)
		customer_decides(jc.name, token, approve=("LAB-DIAG",))
		plan = self.plan(PUNE_VEHICLE)
		quotation = frappe.db.get_value("Service Job Card", jc.name, "estimate")

		# the technician does not hand vehicles back; nor goes one out with the diagnosis unbilled
		with self.assertRaises(WorkflowTransitionError):
			act(jc.name, "Release without Work", AMIT)
		with self.assertRaisesRegex(JobCardStatusError, "Submit the Customer invoice"):
			act(jc.name, "Release without Work", ADVISOR)

		invoices = as_user(ACCOUNTANT, make_invoices, jc.name)
		self.assertEqual(list(invoices), ["Customer"])
		items = frappe.get_all(
			"Sales Invoice Item", filters={"parent": invoices["Customer"]}, pluck="item_code"
		)
		self.assertEqual(items, ["LAB-DIAG"])  # the agreed diagnosis, nothing else
		pay(invoices["Customer"], ACCOUNTANT)

		act(jc.name, "Release without Work", ADVISOR)
		jc.reload()
		self.assertEqual(jc.status, "Released")
		self.assertTrue(jc.delivered_on)
		self.assertEqual(jc.status_log[-1].to_status, "Released")
		self.assert_plan_unchanged(PUNE_VEHICLE, plan)
		self.assertEqual(frappe.db.get_value("Quotation", quotation, "status"), "Lost")
		self.assertEqual(open_todos(jc.name, dms_task=("is", "set")), [])
		# a record now: no more saves
		jc.append("parts", {"item_code": "PRT-OIL-FILTER-C", "qty": 1})
		with self.assertRaises(JobCardClosedError):
			as_user(ADVISOR, jc.save)

	def test_everything_declined_released_without_an_invoice(self):
		jc = make_job_card(labour=("LAB-PMS-CAR",), technicians=("Amit",))
		token = to_customer(jc, ADVISOR, AMIT)
		customer_decides(jc.name, token)
		act(jc.name, "Release without Work", ADVISOR)
		self.assertEqual(frappe.db.get_value("Service Job Card", jc.name, "status"), "Released")

	def test_work_the_customer_agreed_to_is_no_release(self):
		jc = make_job_card(labour=("LAB-PMS-CAR", "LAB-DIAG"), technicians=("Amit", "Amit"))
		token = to_customer(jc, ADVISOR, AMIT)
		customer_decides(jc.name, token, approve=("LAB-PMS-CAR",))
		with self.assertRaisesRegex(JobCardStatusError, "not done"):
			act(jc.name, "Release without Work", ADVISOR)

	def test_diagnosis_only_delivered_leaves_the_service_plan(self):
		from aftersales_dms.billing.test_invoice import ready_job_card

		jc = ready_job_card(labour=(("LAB-DIAG", "Customer"),), parts=())
		plan = self.plan(jc.vehicle)
		pay(as_user(ACCOUNTANT, make_invoices, jc.name)["Customer"], ACCOUNTANT)
		act(jc.name, "Deliver", ADVISOR)
		self.assertEqual(frappe.db.get_value("Service Job Card", jc.name, "status"), "Delivered")
		self.assert_plan_unchanged(jc.vehicle, plan)


class TestCleanEnd(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def test_cancel_closes_appointment_estimate_tasks_and_find_vehicle_leaves_it_out(self):
		from aftersales_dms.booking.doctype.service_appointment.test_service_appointment import (
			make_appointment,
		)
		from aftersales_dms.reception.doctype.vehicle_check_in.vehicle_check_in import (
			make_job_card as job_card_from_check_in,
		)
		from aftersales_dms.tests.test_reception_journey import checked_in

		appt = as_user(ADVISOR, make_appointment)
		ci = as_user(ADVISOR, checked_in, appt)
		self.assertEqual(frappe.db.get_value("Service Appointment", appt.name, "status"), "Checked In")
		jc = as_user(ADVISOR, lambda: job_card_from_check_in(ci.name).insert())
		self.assertTrue(open_todos(jc.name))  # the managers' task to assign technicians
		quotation = as_user(ADVISOR, make_estimate, jc.name)
		self.assertEqual(frappe.db.get_value("Quotation", quotation, "status"), "Open")

		act(jc.name, "Cancel", ADVISOR)
		self.assertEqual(frappe.db.get_value("Service Job Card", jc.name, "status"), "Cancelled")
		self.assertEqual(frappe.db.get_value("Service Appointment", appt.name, "status"), "Cancelled")
		self.assertEqual(frappe.db.get_value("Quotation", quotation, "status"), "Lost")
		self.assertEqual(open_todos(jc.name), [])
		plate = frappe.db.get_value("Customer Vehicle", jc.vehicle, "registration_plate")
		found = as_user(ADVISOR, find_vehicle, plate)
		self.assertNotIn(jc.name, [row["name"] for row in found["history"]])
		self.assertNotEqual(found["open_job_card"], jc.name)

		# the cancelled job card is read-only, for every role (a REST PUT is this save)
		for user in (ADVISOR, MANAGER):
			doc = frappe.get_doc("Service Job Card", jc.name)
			doc.append("parts", {"item_code": "PRT-OIL-FILTER-C", "qty": 1})
			with self.assertRaises(JobCardClosedError):
				as_user(user, doc.save)
		self.assertEqual(frappe.db.count("Service Job Card Part", {"parent": jc.name}), 0)

	def test_delivered_job_card_is_read_only(self):
		from aftersales_dms.delivery.test_feedback import delivered_job_card

		jc = delivered_job_card()
		jc.concerns = "changed after delivery"
		with self.assertRaises(JobCardClosedError):
			as_user(ADVISOR, jc.save)
		doc = frappe.get_doc("Service Job Card", jc.name)
		doc.append("parts", {"item_code": "PRT-OIL-FILTER-C", "qty": 1})
		with self.assertRaises(JobCardClosedError):
			as_user(MANAGER, doc.save)


class TestOneDefinition(FrappeTestCase):
	def test_desk_filters_use_the_job_cards_status_sets(self):
		"""Number cards, charts and workspace shortcuts cannot import workshop/status.py: every list
		of job card statuses in their filters must be one of its sets (Released counted as over)."""
		import glob
		import json
		import os

		from aftersales_dms.workshop import status

		named = (status.ACTIVE, status.WORKING, status.CLOSED, status.FINAL, status.HOLDS, status.AT_WORK)
		sets = {frozenset(s) for s in named} | {frozenset([status.CANCELLED])}
		app = os.path.dirname(os.path.dirname(__file__))
		found = []
		for path in glob.glob(os.path.join(app, "**", "*.json"), recursive=True):
			if "/doctype/" in path or "/data/" in path:
				continue
			text = open(path).read()
			if "Service Job Card" not in text:
				continue
			for key in ("filters_json", "stats_filter", "quick_list_filter"):
				for raw in _values(json.loads(text), key):
					for f in json.loads(raw or "[]") if raw.startswith("[") else []:
						if f[0] == "Service Job Card" and f[1] == "status" and isinstance(f[3], list):
							found.append((os.path.relpath(path, app), f[2], f[3]))
		self.assertTrue(found)
		for path, op, statuses in found:
			self.assertIn(frozenset(statuses), sets, f"{path}: {op} {statuses}")


def _values(data, key):
	if isinstance(data, dict):
		for k, v in data.items():
			if k == key and isinstance(v, str):
				yield v
			else:
				yield from _values(v, key)
	elif isinstance(data, list):
		for v in data:
			yield from _values(v, key)
