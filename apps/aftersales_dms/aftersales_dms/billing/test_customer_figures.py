# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

"""What the customer is shown is what the customer pays: the estimate, the decision, the
evidence, the Ready-for-Pickup SMS and the invoice agree, taxes included; covered (warranty and
internal) lines are listed as covered, with nothing to pay and nothing to decide."""

import json
from unittest.mock import patch

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import flt, fmt_money

from aftersales_dms.billing import consent
from aftersales_dms.billing.approval import decide, estimate_lines, send_estimate
from aftersales_dms.billing.customer_figures import amount_due, customer_amount_due, customer_total
from aftersales_dms.billing.invoice import make_invoices
from aftersales_dms.billing.test_invoice import (
	ACCOUNTANT,
	estimated_job_card,
	ready_for_pickup_sms,
	ready_job_card,
	submit_as_accountant,
)
from aftersales_dms.workshop.test_job_card_status import ADVISOR, MANAGER, act, as_user

GST = 1.18


def money(amount):
	return fmt_money(amount, currency="INR")


def estimated(labour=(("LAB-PMS-CAR", "Customer"), ("LAB-DIAG", "Warranty")), parts=()):
	return estimated_job_card(labour, parts)


class TestCustomerFigures(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def test_estimate_lists_covered_work_at_no_charge_and_totals_what_the_customer_pays(self):
		jc, _token = estimated(parts=(("PRT-OIL-FILTER-C", 1, "Warranty"),))
		q = frappe.get_doc("Quotation", jc.estimate)
		self.assertEqual(
			[(i.item_code, flt(i.qty), flt(i.rate), flt(i.amount)) for i in q.items],
			[
				("LAB-PMS-CAR", 2.5, 900, 2250),
				("LAB-DIAG", flt(jc.labour[1].standard_hours), 0, 0),
				("PRT-OIL-FILTER-C", 1, 0, 0),
			],
		)
		self.assertEqual(flt(q.grand_total), flt(2250 * GST, 2))  # the warranty work adds nothing
		lines, _q = estimate_lines(jc)
		self.assertEqual([line["covered"] for line in lines], [False, True, True])
		self.assertEqual(customer_total(jc), flt(2250 * GST, 2))
		self.assertEqual(customer_amount_due(jc), money(2250 * GST))

	def test_a_decision_on_a_covered_line_is_refused_and_covered_lines_count_as_approved(self):
		jc, token = estimated()
		customer_row, warranty_row = jc.labour[0].name, jc.labour[1].name
		for decisions in (
			{customer_row: "Approved", warranty_row: "Declined"},
			{customer_row: "Approved", warranty_row: "Approved"},
		):
			with self.assertRaisesRegex(
				frappe.ValidationError,
				"Electronic diagnosis.*: Covered by the manufacturer's warranty. You pay nothing",
			):
				as_user("Guest", decide, token, decisions)
		self.assertEqual(
			frappe.db.get_value("Service Job Card", jc.name, "approval_status"), "Awaiting Customer"
		)  # nothing recorded, the link still works
		result = as_user("Guest", decide, token, {customer_row: "Declined"})
		# the customer declined all of theirs; the OEM's recall work still goes ahead
		self.assertEqual(result["approval_status"], "Partly Approved")
		self.assertEqual((result["customer_pays"], result["customer_pays_formatted"]), (0, money(0)))
		jc.reload()
		self.assertEqual([r.customer_decision for r in jc.labour], ["Declined", None])
		evidence = json.loads(jc.approval_log[-1].evidence)
		self.assertEqual(evidence["decisions"], {customer_row: "Declined"})
		self.assertEqual(evidence["covered"], {warranty_row: "Covered by the manufacturer's warranty"})
		self.assertEqual(
			(evidence["customer_pays"], evidence["customer_pays_as_decided"]), (flt(2250 * GST, 2), 0)
		)
		self.assertEqual(consent.verify(jc)["status"], consent.INTACT)
		act(jc.name, "Start Repair", MANAGER)  # covered work is approved work

	def test_a_job_the_customer_pays_nothing_for_is_approved_without_a_decision(self):
		jc, token = estimated(labour=(("LAB-DIAG", "Warranty"),))
		self.assertEqual(flt(frappe.db.get_value("Quotation", jc.estimate, "grand_total")), 0)
		self.assertEqual(as_user("Guest", decide, token, {})["approval_status"], "Approved")
		self.assertEqual(amount_due(frappe.get_doc("Service Job Card", jc.name)), 0)

	def test_sms_and_page_amount_is_the_customer_invoice_with_tax(self):
		jc = ready_job_card(
			labour=(("LAB-PMS-CAR", "Customer"), ("LAB-DIAG", "Warranty")),
			parts=(("PRT-OIL-FILTER-C", 1, "Customer"), ("PRT-AIR-FILTER-C", 1, "Customer")),
			decline=("PRT-AIR-FILTER-C",),
		)
		expected = flt((2250 + 450) * GST, 2)  # the customer's approved lines, GST 18 %
		self.assertEqual(customer_total(jc), expected)
		sms = ready_for_pickup_sms(jc.name)
		self.assertEqual(len(sms), 1, sms)
		self.assertIn(f"Amount due: {money(expected)} (taxes included)", sms[0])
		self.assertNotIn(money(jc.grand_total), sms[0])  # not the pre-tax total of every line

		invoices = as_user(ACCOUNTANT, make_invoices, jc.name)
		self.assertEqual(sorted(invoices), ["Customer", "Warranty"])
		inv = frappe.get_doc("Sales Invoice", invoices["Customer"])
		self.assertEqual(flt(inv.rounded_total) or flt(inv.grand_total), expected)  # page == invoice
		jc.reload()
		self.assertEqual(amount_due(jc), expected)  # the draft invoice says so too
		submit_as_accountant(inv.name)
		jc.reload()
		self.assertEqual(customer_amount_due(jc), money(flt(inv.outstanding_amount)))
		self.assertEqual(flt(inv.outstanding_amount), expected)

	def test_estimate_email_names_what_the_customer_pays_and_attaches_the_dealer_estimate(self):
		jc, _token = estimated(parts=(("PRT-OIL-FILTER-C", 1, "Customer"),))
		with (
			patch("frappe.sendmail") as sendmail,
			patch("frappe.attach_print", return_value={"fname": "x.pdf", "fcontent": b"%PDF"}) as attach,
		):
			as_user(ADVISOR, send_estimate, jc.name)
		self.assertEqual(attach.call_args.kwargs["print_format"], "Dealer Estimate")
		message = sendmail.call_args.kwargs["message"]
		self.assertIn(f"you pay {money((2250 + 450) * GST)} (taxes included)", message)
