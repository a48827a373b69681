# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

"""A job card's invoice bills exactly what the customer decided: in the dealer's currency at rate
1, with the dealer's taxes template as it is; and what the customer is told to pay when the work
is done is what that invoice bills (attack findings 1, 2, 3 of 2026-12-07)."""

from unittest.mock import patch

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import flt, fmt_money

from aftersales_dms.billing import test_invoice
from aftersales_dms.billing.consent import approval_evidence
from aftersales_dms.billing.customer_figures import amount_due, payable
from aftersales_dms.billing.estimate import dealer_tax_template
from aftersales_dms.billing.invoice import make_invoices, terms_problems
from aftersales_dms.billing.test_invoice import (
	ACCOUNTANT,
	ready_for_pickup_sms,
	ready_job_card,
	submit_as_accountant,
)
from aftersales_dms.tests import invariants
from aftersales_dms.workshop.test_job_card_status import PARTS, as_user

PUNE, NASHIK = "Orion Motors Pune", "Orion Motors Nashik"


def rest_save(inv):
	"""The draft saved as REST saves it (PUT /api/resource → frappe.client.save) by the session user."""
	return frappe.client.save(inv.as_dict())


def tax_attacks(company: str):
	"""Each change of an invoice's taxes the attack made (finding 2), as (name, change)."""
	account = frappe.get_all(
		"Sales Taxes and Charges",
		filters={"parenttype": "Sales Taxes and Charges Template", "parent": dealer_tax_template(company)},
		pluck="account_head",
		order_by="idx",
	)[0]

	def handling_charge(inv):
		inv.append(
			"taxes",
			{"charge_type": "Actual", "account_head": account, "description": "Handling", "tax_amount": 5000},
		)

	def gst_at_50(inv):
		inv.taxes[0].rate = 50

	def previous_row_total(inv):
		inv.append(
			"taxes",
			{
				"charge_type": "On Previous Row Total",
				"row_id": str(len(inv.taxes)),
				"account_head": account,
				"description": "Cess",
				"rate": 10,
			},
		)

	def included_in_price(inv):
		inv.taxes[0].included_in_print_rate = 1

	def no_taxes(inv):
		inv.set("taxes", [])

	def other_template(inv):
		inv.taxes_and_charges = None

	return (handling_charge, gst_at_50, previous_row_total, included_in_price, no_taxes, other_template)


class TestInvoiceTerms(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def assert_refused_on_save_and_submit(self, name, change, message):
		"""The accountant's save (as REST sends it) and submit of invoice `name` after `change`
		are each refused with `message`."""
		inv = frappe.get_doc("Sales Invoice", name)
		change(inv)
		frappe.set_user(ACCOUNTANT)
		with self.assertRaisesRegex(frappe.ValidationError, message):
			rest_save(inv)
		with self.assertRaisesRegex(frappe.ValidationError, message):
			inv.submit()
		frappe.set_user("Administrator")

	def test_another_currency_is_refused_and_breaks_the_evidence(self):
		jc = ready_job_card()
		name = as_user(ACCOUNTANT, make_invoices, jc.name)["Customer"]

		def usd(inv):
			inv.currency, inv.conversion_rate = "USD", 80

		def usd_at_1(inv):
			inv.currency, inv.conversion_rate = "USD", 1

		for change in (usd, usd_at_1):
			with self.subTest(change=change.__name__):
				self.assert_refused_on_save_and_submit(name, change, "rate 1")
		self.assertEqual(frappe.db.get_value("Sales Invoice", name, "currency"), "INR")
		self.assertEqual(as_user(ACCOUNTANT, approval_evidence, jc.name)["status"], "Intact")
		self.assertEqual(invariants.check_invoice_terms(jc), [])
		# changed under the validation (the database, a script): the evidence shows it
		frappe.db.set_value("Sales Invoice", name, {"currency": "USD", "conversion_rate": 80})
		self.assertTrue(invariants.check_invoice_terms(jc))  # and so does the stateful invariant
		evidence = as_user(ACCOUNTANT, approval_evidence, jc.name)
		self.assertEqual(evidence["status"], "Broken", evidence)
		self.assertTrue(any("USD" in p for p in evidence["problems"]), evidence)

	def test_taxes_other_than_the_dealers_template_are_refused_on_save_and_submit(self):
		jc = ready_job_card(labour=(("LAB-PMS-CAR", "Customer"), ("LAB-DIAG", "Warranty")))
		invoices = as_user(ACCOUNTANT, make_invoices, jc.name)
		self.assertEqual(sorted(invoices), ["Customer", "Warranty"])
		for bill_to, name in sorted(invoices.items()):
			as_made = payable(frappe.get_doc("Sales Invoice", name))
			for change in tax_attacks(PUNE):
				with self.subTest(bill_to=bill_to, change=change.__name__):
					self.assert_refused_on_save_and_submit(name, change, "template")
			inv = submit_as_accountant(name)  # as made, it submits, for what was decided
			self.assertEqual(payable(inv), as_made)
		customer = frappe.get_doc("Sales Invoice", invoices["Customer"])
		self.assertEqual(flt(customer.base_grand_total), flt(customer.grand_total))
		self.assertEqual(as_user(ACCOUNTANT, approval_evidence, jc.name)["status"], "Intact")

	def test_the_terms_are_each_dealers_own(self):
		"""At both dealers: the invoice make_invoices would make agrees; each attack does not."""
		for company in (PUNE, NASHIK):
			for change in (None, *tax_attacks(company)):
				with self.subTest(company=company, change=change and change.__name__):
					inv = frappe.get_doc(
						{
							"doctype": "Sales Invoice",
							"company": company,
							"currency": frappe.get_cached_value("Company", company, "default_currency"),
							"conversion_rate": 1,
							"taxes_and_charges": dealer_tax_template(company),
						}
					)
					inv.append_taxes_from_master()
					if change:
						change(inv)
						self.assertTrue(terms_problems(inv, company))
					else:
						self.assertEqual(terms_problems(inv, company), [])
		# another dealer's template is not this dealer's
		inv = frappe.get_doc({"doctype": "Sales Invoice", "currency": "INR", "conversion_rate": 1})
		inv.taxes_and_charges = dealer_tax_template(NASHIK)
		inv.append_taxes_from_master()
		self.assertTrue(terms_problems(inv, PUNE))

	def test_ready_for_pickup_amount_is_what_the_invoice_bills_after_a_return(self):
		"""Two oil filters approved and issued, one returned during the repair: the SMS and email
		say what the invoice bills (one filter), not the estimate (two)."""

		act = test_invoice.act

		def return_one_then(job_card, action, user):
			if action == "Send to QC":  # during the repair, after the decision
				pr = frappe.get_doc("Parts Request", {"service_job_card": job_card, "docstatus": 1})
				row = next(r for r in pr.items if r.item_code == "PRT-OIL-FILTER-C")
				as_user(PARTS, pr.return_parts, row=row.name, qty=1)
			return act(job_card, action, user)

		with patch.object(test_invoice, "act", return_one_then):
			jc = ready_job_card(parts=(("PRT-OIL-FILTER-C", 2, "Customer"),))
		self.assertEqual(jc.status, "Ready for Pickup")
		self.assertEqual([flt(r.issued_qty) for r in jc.parts], [1])
		due = amount_due(jc)
		# the email (sent at Pass QC, before the invoice): its Notification's text as rendered for the job card
		email = frappe.get_doc("Notification", "Vehicle Ready for Pickup - Email")
		email_text = frappe.render_template(email.message, {"doc": jc})
		name = as_user(ACCOUNTANT, make_invoices, jc.name)["Customer"]
		inv = frappe.get_doc("Sales Invoice", name)
		self.assertEqual(due, payable(inv))
		self.assertEqual([flt(i.qty) for i in inv.items if i.item_code == "PRT-OIL-FILTER-C"], [1])
		told = fmt_money(payable(inv), currency=inv.currency)
		sms = ready_for_pickup_sms(jc.name)
		self.assertEqual(len(sms), 1, sms)
		self.assertIn(f"Amount due: {told}", sms[0])
		self.assertIn(f"Amount due: <b>{told}</b>", email_text)
		jc.reload()
		self.assertEqual(amount_due(jc), payable(inv))  # the draft invoice says the same
