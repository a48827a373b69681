# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

"""What the customer approved is what is billed; the customer's answer is the customer's
(issues #19, #20). Each test walks the journey as the roles do it: the advisor and the manager
change the job, the customer decides as a guest through the link, the accountant invoices."""

import frappe
import pytest
from frappe.tests.utils import FrappeTestCase
from frappe.utils import flt

from aftersales_dms.billing.approval import decide, make_approval_link
from aftersales_dms.billing.consent import verify
from aftersales_dms.billing.customer_figures import payable
from aftersales_dms.billing.estimate import make_estimate
from aftersales_dms.billing.invoice import make_invoices
from aftersales_dms.billing.test_approval import decide_as_customer, token_of
from aftersales_dms.billing.test_invoice import ACCOUNTANT, estimated_job_card
from aftersales_dms.workshop.doctype.service_job_card.service_job_card import labour_line
from aftersales_dms.workshop.doctype.service_job_card.test_service_job_card import (
	COMPANY,
	make_job_card,
	tech,
)
from aftersales_dms.workshop.status import JobCardStatusError
from aftersales_dms.workshop.test_job_card_status import ADVISOR, AMIT, MANAGER, QC, act, as_user, issue_all

NASHIK_ADVISOR = "advisor@omn.example"


def customer_rows(jc):
	return [r for r in jc.labour + jc.parts if (r.bill_to or "Customer") == "Customer"]


def approve_all(jc, token):
	jc = frappe.get_doc("Service Job Card", jc.name)
	return decide_as_customer(token, {r.name: "Approved" for r in customer_rows(jc)})


def reestimate_and_approve(jc):
	"""The advisor makes a new estimate and link; the customer approves every line again."""
	as_user(ADVISOR, make_estimate, jc.name)
	token = token_of(as_user(ADVISOR, make_approval_link, jc.name))
	return approve_all(jc, token)


def edit(job_card, user, change):
	jc = frappe.get_doc("Service Job Card", job_card)
	change(jc)
	as_user(user, jc.save)
	return frappe.get_doc("Service Job Card", job_card)


def page_as_guest(token):
	"""The approval page's context as the customer (no session) opens the link."""
	from aftersales_dms.www.estimate_approval import get_context

	frappe.set_user("Guest")
	frappe.form_dict.token = token
	try:
		return get_context(frappe._dict())
	finally:
		frappe.form_dict.pop("token", None)
		frappe.set_user("Administrator")


def work_to_qc(job_card):
	"""Amit clocks every line the customer did not decline; the job goes to QC, every item is
	verified."""
	jc = frappe.get_doc("Service Job Card", job_card)
	for row in jc.labour:
		if row.customer_decision != "Declined" and row.work_status != "Done":
			as_user(AMIT, jc.start_work, row.name)
			jc.reload()
			as_user(AMIT, jc.finish_work, row.name)
			jc.reload()
	act(job_card, "Send to QC", AMIT)
	jc = frappe.get_doc("Service Job Card", job_card)
	for row in jc.qc_items:
		row.verified = 1
	as_user(QC, jc.save)


class TestApprovedIsBilled(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def test_changes_after_the_decision_wait_for_a_new_one_before_pickup_and_invoice(self):
		jc, token = estimated_job_card()
		approve_all(jc, token)
		issue_all(frappe.get_doc("Service Job Card", jc.name))
		act(jc.name, "Start Repair", MANAGER)
		first = frappe.get_doc("Service Job Card", jc.name).labour[0].name

		# the manager adds a labour line while repairing: it waits for the customer, the lines
		# already decided keep their decision, the earlier evidence is kept
		jc = edit(
			jc.name,
			MANAGER,
			lambda d: d.append("labour", labour_line("LAB-DIAG", COMPANY, technician=tech("Amit"))),
		)
		self.assertEqual(jc.approval_status, "Awaiting Re-approval")
		decisions = {r.item_code: r.customer_decision for r in jc.labour + jc.parts}
		self.assertEqual(
			decisions, {"LAB-PMS-CAR": "Approved", "PRT-OIL-FILTER-C": "Approved", "LAB-DIAG": None}
		)
		self.assertEqual(len(jc.approval_log), 1)
		evidence = verify(jc)
		self.assertEqual(evidence["status"], "Awaiting", evidence)
		self.assertIn("LAB-DIAG", " ".join(evidence["problems"]))

		# the old link cannot be used, and the work cannot reach Ready for Pickup
		work_to_qc(jc.name)
		with self.assertRaisesRegex(JobCardStatusError, "not decided"):
			act(jc.name, "Pass QC", QC)
		# the advisor cannot send the old estimate again: it is not what will be billed
		with self.assertRaisesRegex(frappe.ValidationError, "make a new estimate"):
			as_user(ADVISOR, make_approval_link, jc.name)
		reestimate_and_approve(jc)
		act(jc.name, "Pass QC", QC)
		jc = frappe.get_doc("Service Job Card", jc.name)
		self.assertEqual(
			(jc.status, jc.approval_status, len(jc.approval_log)), ("Ready for Pickup", "Approved", 2)
		)

		# the manager raises a rate at Ready for Pickup: no invoice before the customer's decision
		jc = edit(jc.name, MANAGER, lambda d: setattr(d.labour[0], "rate", flt(d.labour[0].rate) + 100))
		self.assertEqual(jc.approval_status, "Awaiting Re-approval")
		self.assertIsNone(next(r for r in jc.labour if r.name == first).customer_decision)
		with self.assertRaisesRegex(frappe.ValidationError, "not decided"):
			as_user(ACCOUNTANT, make_invoices, jc.name)
		approved = reestimate_and_approve(jc)
		invoice = frappe.get_doc("Sales Invoice", as_user(ACCOUNTANT, make_invoices, jc.name)["Customer"])
		self.assertEqual(flt(payable(invoice), 2), flt(approved["customer_pays"], 2))
		self.assertEqual(verify(frappe.get_doc("Service Job Card", jc.name))["status"], "Intact")
		# the invoice billing a line at another rate than approved shows in the evidence
		item = next(i for i in invoice.items if i.dms_job_card_row == first)
		frappe.db.set_value("Sales Invoice Item", item.name, "rate", flt(item.rate) + 1)
		result = verify(frappe.get_doc("Service Job Card", jc.name))
		self.assertEqual(result["status"], "Broken", result)
		self.assertIn("rate the customer did not approve", " ".join(result["problems"]))
		frappe.db.set_value("Sales Invoice Item", item.name, "rate", item.rate)

		# invoiced: the lines are frozen and no approval link is made any more
		with self.assertRaisesRegex(frappe.ValidationError, "is invoiced"):
			edit(jc.name, MANAGER, lambda d: setattr(d.labour[0], "rate", flt(d.labour[0].rate) + 1))
		with self.assertRaisesRegex(frappe.ValidationError, "is invoiced"):
			as_user(ADVISOR, make_approval_link, jc.name)

	def test_a_payer_moved_to_the_customer_waits_for_the_customer(self):
		jc, token = estimated_job_card(labour=(("LAB-PMS-CAR", "Customer"), ("LAB-DIAG", "Warranty")))
		approve_all(jc, token)
		jc = edit(jc.name, ADVISOR, lambda d: setattr(d.labour[1], "bill_to", "Customer"))
		self.assertEqual((jc.approval_status, jc.labour[1].customer_decision), ("Awaiting Re-approval", None))
		self.assertEqual(jc.labour[0].customer_decision, "Approved")

	def test_a_discount_changed_after_the_estimate_waits_for_the_customer(self):
		def discount(pct):
			def change(d):
				d.discount_percentage, d.discount_reason = pct, "loyal customer"

			return change

		jc, token = estimated_job_card()
		approve_all(jc, token)
		# given within the manager's limit: the customer decided without it, so they decide again
		jc = edit(jc.name, MANAGER, discount(10))
		self.assertEqual(jc.approval_status, "Awaiting Re-approval")
		self.assertEqual({r.customer_decision for r in customer_rows(jc)}, {None})
		approved = reestimate_and_approve(jc)
		quotation = frappe.get_doc("Quotation", frappe.db.get_value("Service Job Card", jc.name, "estimate"))
		self.assertEqual(flt(approved["customer_pays"], 2), flt(payable(quotation), 2))

	def test_a_discount_approved_after_the_decision_waits_for_the_customer(self):
		from aftersales_dms.billing.discount import approve_discount

		jc, token = estimated_job_card()
		# above the advisor's limit the discount waits: what the customer pays does not change yet
		jc = edit(
			jc.name, ADVISOR, lambda d: d.update({"discount_percentage": 12, "discount_reason": "fleet"})
		)
		self.assertEqual((jc.discount_status, jc.approval_status), ("Pending Approval", "Awaiting Customer"))
		approve_all(jc, token)
		# the manager approves it after the customer decided without it: a new decision
		as_user(MANAGER, approve_discount, jc.name, 12)
		jc = frappe.get_doc("Service Job Card", jc.name)
		self.assertEqual(jc.approval_status, "Awaiting Re-approval")
		self.assertEqual({r.customer_decision for r in customer_rows(jc)}, {None})

	def test_a_line_changed_after_a_new_estimate_keeps_no_decision(self):
		jc, token = estimated_job_card()
		approve_all(jc, token)
		as_user(ADVISOR, make_estimate, jc.name)  # the approval waits for a new decision
		jc = edit(jc.name, ADVISOR, lambda d: setattr(d.labour[0], "standard_hours", 1.5))
		self.assertIsNone(jc.labour[0].customer_decision)
		self.assertEqual(jc.parts[0].customer_decision, "Approved")  # unchanged: kept
		self.assertFalse(jc.approval_status)

	def test_recall_work_stays_the_oems(self):
		jc = make_job_card(labour=("LAB-PMS-CAR",))

		def add_recall(d):
			d.append(
				"labour",
				{**labour_line("LAB-DIAG", COMPANY, source="Recall Campaign"), "bill_to": "Warranty"},
			)

		jc = edit(jc.name, ADVISOR, add_recall)
		for user in (ADVISOR, MANAGER):
			with self.subTest(user=user), self.assertRaisesRegex(frappe.ValidationError, "the OEM pays"):
				edit(jc.name, user, lambda d: setattr(d.labour[1], "bill_to", "Customer"))
		self.assertEqual(
			frappe.db.get_value("Service Job Card Labour", jc.labour[1].name, "bill_to"), "Warranty"
		)

	def test_evidence_compares_the_decision_with_the_job_card_and_invoice_now(self):
		jc, token = estimated_job_card()
		approve_all(jc, token)
		jc = frappe.get_doc("Service Job Card", jc.name)
		self.assertEqual(verify(jc)["status"], "Intact")
		# a rate changed behind the job card's back (no validate): the evidence says so
		row = jc.labour[0]
		frappe.db.set_value("Service Job Card Labour", row.name, "rate", flt(row.rate) + 500)
		result = verify(frappe.get_doc("Service Job Card", jc.name))
		self.assertEqual(result["status"], "Broken", result)
		self.assertIn("differ from what the customer decided", " ".join(result["problems"]))
		frappe.db.set_value("Service Job Card Labour", row.name, "rate", row.rate)
		self.assertEqual(verify(frappe.get_doc("Service Job Card", jc.name))["status"], "Intact")


class TestLimitsOnEverySave(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def price_of(self, jc, row):
		from aftersales_dms.controllers.pricing import price_item

		return flt(price_item(row.item_code, jc.company, jc.customer, row.qty).rate)

	def test_a_payer_switch_is_priced_for_the_customer_and_within_the_limit(self):
		jc = make_job_card(parts=[{"item_code": "PRT-OIL-FILTER-C", "qty": 1, "bill_to": "Warranty"}])
		# the OEM's line at the OEM's price (no role types a covered line's rate: test_line_rules)
		frappe.db.set_value("Service Job Card Part", jc.parts[0].name, "rate", 1)
		# switched to the customer: the customer's price, not the OEM's rate
		jc = edit(jc.name, ADVISOR, lambda d: setattr(d.parts[0], "bill_to", "Customer"))
		self.assertEqual(flt(jc.parts[0].rate), self.price_of(jc, jc.parts[0]))
		# back to the OEM, then to the customer at 2 in one save: a discount over the limit
		jc = edit(jc.name, ADVISOR, lambda d: d.parts[0].update({"bill_to": "Warranty"}))

		def to_customer_at_two(d):
			d.parts[0].update({"bill_to": "Customer", "rate": 2})

		with self.assertRaisesRegex(frappe.PermissionError, "discount limit"):
			edit(jc.name, ADVISOR, to_customer_at_two)

	def test_a_quantity_change_checks_the_discount_of_whoever_saves(self):
		jc = make_job_card(parts=[{"item_code": "PRT-OIL-FILTER-C", "qty": 1}])
		price = self.price_of(jc, jc.parts[0])
		# the manager (15 %) gives 10 % off on the line; the advisor (5 %) cannot carry it further
		jc = edit(jc.name, MANAGER, lambda d: setattr(d.parts[0], "rate", flt(price * 0.9, 2)))
		with self.assertRaisesRegex(frappe.PermissionError, "discount limit"):
			edit(jc.name, ADVISOR, lambda d: setattr(d.parts[0], "qty", 3))
		edit(jc.name, ADVISOR, lambda d: setattr(d, "concerns", "noise from the front"))  # untouched line
		edit(jc.name, MANAGER, lambda d: setattr(d.parts[0], "qty", 3))

	def test_approving_a_discount_checks_the_figure_under_lock(self):
		from aftersales_dms.billing.discount import approve_discount

		jc = make_job_card()
		jc = edit(
			jc.name, ADVISOR, lambda d: d.update({"discount_percentage": 12, "discount_reason": "fleet"})
		)
		self.assertEqual(jc.discount_status, "Pending Approval")
		with self.assertRaisesRegex(frappe.ValidationError, "changed to 12"):
			as_user(MANAGER, approve_discount, jc.name, 8)  # the manager looked at an older figure
		as_user(MANAGER, approve_discount, jc.name, 12)
		self.assertEqual(frappe.db.get_value("Service Job Card", jc.name, "discount_status"), "Approved")


class TestTheCustomersAnswer(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def test_a_staff_session_cannot_decide_for_the_customer(self):
		jc, token = estimated_job_card()
		decisions = {r.name: "Approved" for r in customer_rows(jc)}
		for user in (ADVISOR, MANAGER, NASHIK_ADVISOR, "Administrator"):
			with self.subTest(user=user), self.assertRaisesRegex(frappe.PermissionError, "signed in as"):
				as_user(user, decide, token, decisions)
		stored = frappe.get_doc("Service Job Card", jc.name)
		self.assertEqual((stored.approval_status, len(stored.approval_log)), ("Awaiting Customer", 0))
		result = decide_as_customer(token, decisions)  # the link still works for the customer
		self.assertEqual(result["approval_status"], "Approved")
		evidence = frappe.parse_json(frappe.get_doc("Service Job Card", jc.name).approval_log[-1].evidence)
		self.assertEqual(evidence["decided_by"], "Guest")

	def test_a_cancelled_jobs_link_is_no_link(self):
		"""Found by the attack on the demo: a cancelled job's approval link still showed the
		estimate and its form, and deciding answered with the closed job's error."""
		from aftersales_dms.billing.approval import InvalidApprovalLink, read_token

		jc, token = estimated_job_card()
		act(jc.name, "Cancel", ADVISOR)
		with self.assertRaises(InvalidApprovalLink):
			read_token(token)
		rows = customer_rows(frappe.get_doc("Service Job Card", jc.name))
		with self.assertRaises(InvalidApprovalLink):
			decide_as_customer(token, {r.name: "Approved" for r in rows})

	def test_the_page_adds_up_with_a_discount(self):
		"""Found by the attack on the demo: lines before tax, less the discount, plus taxes, is
		what the customer pays (the page took the lines after the discount, then took it again)."""
		jc, _token = estimated_job_card()
		jc = edit(
			jc.name, ADVISOR, lambda d: d.update({"discount_percentage": 4, "discount_reason": "loyal"})
		)
		as_user(ADVISOR, make_estimate, jc.name)
		token = token_of(as_user(ADVISOR, make_approval_link, jc.name))
		page = page_as_guest(token)
		self.assertFalse(page.get("error"), page.get("error"))
		self.assertTrue(flt(page.discount) > 0)
		lines = sum(flt(line["amount"]) for line in page.lines)
		self.assertEqual(flt(page.net_total, 2), flt(lines, 2))
		self.assertLess(
			abs(flt(page.net_total) - flt(page.discount) + flt(page.taxes) - flt(page.customer_pays)), 1
		)

	def test_a_new_link_after_a_decision_tells_the_customer_what_it_replaces(self):
		jc, token = estimated_job_card()
		rows = customer_rows(frappe.get_doc("Service Job Card", jc.name))
		decide_as_customer(token, {rows[0].name: "Declined", rows[1].name: "Approved"})
		fresh = token_of(as_user(ADVISOR, make_approval_link, jc.name))
		context = page_as_guest(fresh)
		self.assertFalse(context.get("error"), context.get("error"))
		self.assertEqual(context.previous["result"], "Partly Approved")
		self.assertEqual(
			{line["row"]: line["previous"] for line in context.lines},
			{rows[0].name: "Declined", rows[1].name: "Approved"},
		)

	@pytest.mark.commits
	def test_a_deadlocked_decision_is_retried(self):
		"""The database picks the decision's transaction as a deadlock victim once: it is rolled
		back and decided again, never a server error."""
		from unittest.mock import patch

		from aftersales_dms.billing import consent

		jc, token = estimated_job_card()
		frappe.db.commit()  # the retry rolls back: what the test made must survive that
		real, calls = consent.record, []

		def deadlock_once(*args, **kwargs):
			calls.append(1)
			if len(calls) == 1:
				raise frappe.QueryDeadlockError("Deadlock found when trying to get lock")
			return real(*args, **kwargs)

		with patch.object(consent, "record", deadlock_once):
			result = approve_all(jc, token)
		self.assertEqual(result["approval_status"], "Approved")
		self.assertGreaterEqual(len(calls), 2)  # refused once, decided again
		self.assertEqual(len(frappe.get_doc("Service Job Card", jc.name).approval_log), 1)
