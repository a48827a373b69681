# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

from urllib.parse import parse_qs, urlparse

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import now_datetime

from aftersales_dms.billing.approval import (
	InvalidApprovalLink,
	decide,
	make_approval_link,
	make_token,
	read_token,
)
from aftersales_dms.billing.estimate import make_estimate
from aftersales_dms.workshop.doctype.service_job_card.test_service_job_card import make_job_card


def estimated_job_card():
	jc = make_job_card(
		labour=("LAB-PMS-CAR", "LAB-BRAKE-PADS"),
		parts=[{"item_code": "PRT-BRAKE-PAD-F", "qty": 1, "rate": 2400}],
	)
	make_estimate(jc.name)
	return frappe.get_doc("Service Job Card", jc.name)


def token_of(url):
	return parse_qs(urlparse(url).query)["token"][0]


def decide_as_customer(token, decisions):
	"""The customer's decision from the approval page: a guest with the link (staff sessions are
	refused)."""
	frappe.set_user("Guest")
	try:
		return decide(token, decisions)
	finally:
		frappe.set_user("Administrator")


class TestEstimateApproval(FrappeTestCase):
	def test_per_line_decision_recorded_and_link_spent(self):
		jc = estimated_job_card()
		token = token_of(make_approval_link(jc.name))
		self.assertEqual(read_token(token).name, jc.name)
		rows = [r.name for r in jc.labour] + [r.name for r in jc.parts]
		result = decide_as_customer(token, {rows[0]: "Approved", rows[1]: "Declined", rows[2]: "Approved"})
		self.assertEqual(result["approval_status"], "Partly Approved")
		jc.reload()
		self.assertEqual(
			[r.customer_decision for r in jc.labour + jc.parts], ["Approved", "Declined", "Approved"]
		)
		self.assertEqual(len(jc.labour), 2)  # the declined line is kept for follow-up
		self.assertTrue(jc.approved_on)
		with self.assertRaisesRegex(InvalidApprovalLink, "already been used"):
			decide_as_customer(token, {r: "Approved" for r in rows})

	def test_forged_expired_and_superseded_links(self):
		jc = estimated_job_card()
		token = token_of(make_approval_link(jc.name))
		encoded, signature = token.split(".")
		for bad in (f"{encoded}.{'0' * 64}", f"{encoded[:-2]}xx.{signature}", "garbage", "", f"{encoded}"):
			with self.subTest(bad=bad), self.assertRaises(InvalidApprovalLink):
				read_token(bad)
		expired, digest, _expires = make_token(jc.name, jc.estimate, valid_hours=-1)
		frappe.db.set_value("Service Job Card", jc.name, "approval_nonce", digest)
		with self.assertRaises(InvalidApprovalLink):
			read_token(expired)
		fresh = token_of(make_approval_link(jc.name))
		with self.assertRaises(InvalidApprovalLink):
			read_token(token)  # the older link was replaced
		make_estimate(jc.name)  # a new estimate needs a new decision
		with self.assertRaises(InvalidApprovalLink):
			read_token(fresh)

	def test_every_line_must_be_decided_nothing_saved_otherwise(self):
		jc = estimated_job_card()
		token = token_of(make_approval_link(jc.name))
		rows = [r.name for r in jc.labour] + [r.name for r in jc.parts]
		for decisions in (
			{rows[0]: "Approved"},
			{r: "Maybe" for r in rows},
			{**{r: "Approved" for r in rows}, "x": "Approved"},
			"[1]",
		):
			with (
				self.subTest(decisions=decisions),
				self.assertRaisesRegex(frappe.ValidationError, "every line"),
			):
				decide_as_customer(token, decisions)
		self.assertEqual(
			frappe.db.get_value("Service Job Card", jc.name, "approval_status"), "Awaiting Customer"
		)
		self.assertEqual(read_token(token).name, jc.name)  # still usable

	def test_decisions_cannot_be_typed_into_the_job_card(self):
		"""Decisions and their evidence sit at the job card's system permlevel, which no desk role
		writes: whatever staff send is dropped, on existing lines and on lines they add."""
		jc = estimated_job_card()
		make_approval_link(jc.name)
		for user in ("advisor@omp.example", "manager@omp.example", "oem.admin@orion-oem.example"):
			jc = frappe.get_doc("Service Job Card", jc.name)
			jc.labour[0].customer_decision = "Approved"
			jc.approval_status, jc.approved_on, jc.approval_ip = "Approved", now_datetime(), "10.0.0.1"
			jc.append("parts", {"item_code": "PRT-OIL-FILTER-C", "qty": 1, "rate": 450})
			jc.parts[-1].customer_decision = "Approved"
			frappe.set_user(user)
			try:
				jc.save()
			finally:
				frappe.set_user("Administrator")
			stored = frappe.get_doc("Service Job Card", jc.name)
			# the added line of the customer's changes the estimate: the link stops working and
			# the job card waits for a new estimate and decision (billing.approval.review_changes)
			self.assertEqual(
				(stored.approval_status, stored.approved_on, stored.approval_ip, stored.approval_nonce),
				("Awaiting Re-approval", None, None, None),
			)
			self.assertEqual({r.customer_decision or None for r in stored.labour + stored.parts}, {None})

	def test_each_decision_keeps_tamper_evident_evidence(self):
		from aftersales_dms.billing.consent import verify

		jc = estimated_job_card()
		rows = [r.name for r in jc.labour] + [r.name for r in jc.parts]
		decide_as_customer(token_of(make_approval_link(jc.name)), {r: "Approved" for r in rows})
		jc.reload()
		first = verify(jc)
		self.assertEqual((first["status"], first["problems"]), ("Intact", []))
		self.assertEqual(first["hash"], jc.approval_hash)
		self.assertEqual(len(jc.approval_log), 1)
		# a new estimate and a second decision chain onto the first
		make_estimate(jc.name)
		decide_as_customer(token_of(make_approval_link(jc.name)), {r: "Declined" for r in rows})
		jc.reload()
		self.assertEqual(jc.approval_log[1].previous_hash, jc.approval_log[0].evidence_hash)
		self.assertEqual(verify(jc)["status"], "Intact")
		log = jc.approval_log[1]
		# edits afterwards, in the database (no permlevel stops that), each show as broken
		tampering = [
			("Service Job Card Labour", jc.labour[0].name, "customer_decision", "Approved"),
			("Service Job Card", jc.name, "approved_on", "2026-01-01 10:00:00"),
			("Service Job Card Approval Log", log.name, "ip_address", "10.9.9.9"),
			(
				"Service Job Card Approval Log",
				log.name,
				"evidence",
				log.evidence.replace("Declined", "Approved"),
			),
			("Service Job Card Approval Log", jc.approval_log[0].name, "previous_hash", "0" * 64),
			("Quotation Item", frappe.db.get_value("Quotation Item", {"parent": jc.estimate}), "rate", 1),
		]
		for doctype, name, field, value in tampering:
			with self.subTest(field=field):
				before = frappe.db.get_value(doctype, name, field)
				frappe.db.set_value(doctype, name, field, value, update_modified=False)
				result = verify(frappe.get_doc("Service Job Card", jc.name))
				self.assertEqual(result["status"], "Broken", result)
				self.assertTrue(result["problems"])
				frappe.db.set_value(doctype, name, field, before, update_modified=False)
		self.assertEqual(verify(frappe.get_doc("Service Job Card", jc.name))["status"], "Intact")
		# re-hashing an edited evidence does not help without the site's key
		import hashlib

		forged = log.evidence.replace("Declined", "Approved")
		frappe.db.set_value(
			"Service Job Card Approval Log",
			log.name,
			{"evidence": forged, "evidence_hash": hashlib.sha256(forged.encode()).hexdigest()},
			update_modified=False,
		)
		self.assertIn("not signed", " ".join(verify(frappe.get_doc("Service Job Card", jc.name))["problems"]))


class TestEstimateEmail(FrappeTestCase):
	def test_no_email_no_send(self):
		from aftersales_dms.billing.approval import send_estimate

		jc = estimated_job_card()
		frappe.db.set_value("Service Job Card", jc.name, "contact_email", None)
		with self.assertRaisesRegex(frappe.ValidationError, "no customer email"):
			send_estimate(jc.name)
