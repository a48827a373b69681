# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

from urllib.parse import parse_qs, urlparse

import frappe
from frappe.tests.utils import FrappeTestCase

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


class TestEstimateApproval(FrappeTestCase):
	def test_per_line_decision_recorded_and_link_spent(self):
		jc = estimated_job_card()
		token = token_of(make_approval_link(jc.name))
		self.assertEqual(read_token(token).name, jc.name)
		rows = [r.name for r in jc.labour] + [r.name for r in jc.parts]
		result = decide(token, {rows[0]: "Approved", rows[1]: "Declined", rows[2]: "Approved"})
		self.assertEqual(result["approval_status"], "Partly Approved")
		jc.reload()
		self.assertEqual(
			[r.customer_decision for r in jc.labour + jc.parts], ["Approved", "Declined", "Approved"]
		)
		self.assertEqual(len(jc.labour), 2)  # the declined line is kept for follow-up
		self.assertTrue(jc.approved_on)
		with self.assertRaisesRegex(InvalidApprovalLink, "already been used"):
			decide(token, {r: "Approved" for r in rows})

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
				decide(token, decisions)
		self.assertEqual(
			frappe.db.get_value("Service Job Card", jc.name, "approval_status"), "Awaiting Customer"
		)
		self.assertEqual(read_token(token).name, jc.name)  # still usable

	def test_decisions_cannot_be_typed_into_the_job_card(self):
		jc = estimated_job_card()
		jc.labour[0].customer_decision = "Approved"
		with self.assertRaisesRegex(frappe.ValidationError, "only through the approval link"):
			jc.save()


class TestEstimateEmail(FrappeTestCase):
	def test_no_email_no_send(self):
		from aftersales_dms.billing.approval import send_estimate

		jc = estimated_job_card()
		frappe.db.set_value("Service Job Card", jc.name, "contact_email", None)
		with self.assertRaisesRegex(frappe.ValidationError, "no customer email"):
			send_estimate(jc.name)
