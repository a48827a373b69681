"""What the customer pays: the one source of every amount the customer is shown.

A job card line is the customer's when it is billed to the Customer; Warranty (the OEM) and
Internal lines are *covered*: the customer sees them listed as covered, with nothing to pay and
nothing to decide. The estimate Quotation carries the covered lines at a zero rate, so its totals
are the customer's. What the customer owes is

- once the customer's Sales Invoice exists: what it says (outstanding once submitted, else its
  rounded or grand total);
- before that: the estimate without covered and declined lines, with the approved discount,
  totalled by ERPNext on an unsaved copy of the Quotation (`calculate_taxes_and_totals`, the same
  taxes template and code as the invoice), rounded as the invoice rounds.

Notifications call `customer_amount_due(doc)` (a Jinja method, hooks.jenv) for the text.
"""

import frappe
from frappe.utils import flt, fmt_money

COVERED_LABEL = {"Warranty": "Covered by the manufacturer's warranty", "Internal": "Covered by the dealer"}


def is_covered(row) -> bool:
	return (row.get("bill_to") or "Customer") != "Customer"


def job_lines(jc) -> list:
	return list(jc.labour) + list(jc.parts)


def payable(doc) -> float:
	"""What an ERPNext selling document asks the party to pay (rounded when ERPNext rounds)."""
	return flt(doc.get("rounded_total")) or flt(doc.get("grand_total"))


def currency_of(jc) -> str:
	return frappe.get_cached_value("Company", jc.company, "default_currency")


def effective_discount(jc) -> float:
	"""The job card's discount % that applies: an approved one (a pending one does not)."""
	return flt(jc.discount_percentage) if jc.discount_status == "Approved" else 0.0


def apply_discount(doc, jc):
	"""The job card's approved discount, as the customer's invoice gets it."""
	if jc.discount_status == "Approved" and flt(jc.discount_percentage):
		doc.apply_discount_on = "Net Total"
		doc.additional_discount_percentage = flt(jc.discount_percentage)
	else:
		doc.additional_discount_percentage = 0
		doc.discount_amount = 0


def customer_estimate(jc, with_decisions: bool = True):
	"""An unsaved copy of the job card's estimate holding only what the customer pays (covered
	lines, and with_decisions the declined ones, dropped), at the estimate's own discount (what
	the customer was shown: a later discount changes the estimate, see billing.approval), totalled
	by ERPNext; None when the customer pays nothing."""
	if not jc.estimate:
		return None
	rows = {r.name: r for r in job_lines(jc)}
	copy = frappe.copy_doc(frappe.get_doc("Quotation", jc.estimate))
	kept = []
	for item in copy.items:
		row = rows.get(item.dms_job_card_row)
		if row is not None and (is_covered(row) or (with_decisions and row.customer_decision == "Declined")):
			continue
		kept.append(item)
	if not kept:
		return None
	copy.set("items", kept)
	for idx, item in enumerate(copy.items, 1):
		item.idx = idx
	copy.calculate_taxes_and_totals()
	return copy


def customer_total(jc, with_decisions: bool = True) -> float:
	estimate = customer_estimate(jc, with_decisions)
	return payable(estimate) if estimate else 0.0


def amount_due(jc) -> float:
	"""What the customer owes for the job card, with tax (see the module's docstring)."""
	if jc.customer_invoice:
		inv = frappe.db.get_value(
			"Sales Invoice",
			jc.customer_invoice,
			["docstatus", "rounded_total", "grand_total", "outstanding_amount"],
			as_dict=True,
		)
		if inv and inv.docstatus == 1:
			return flt(inv.outstanding_amount)
		if inv and inv.docstatus == 0:
			return payable(inv)
	if jc.estimate and frappe.db.get_value("Quotation", jc.estimate, "docstatus") == 1:
		return customer_total(jc)
	return 0.0


def format_amount(amount: float, jc) -> str:
	return fmt_money(amount, currency=currency_of(jc))


def customer_amount_due(doc) -> str:
	"""Jinja (Notifications, print formats): what the customer owes, formatted in the dealer's
	currency. `doc` is a Service Job Card (document or name)."""
	jc = frappe.get_doc("Service Job Card", doc) if isinstance(doc, str) else doc
	return format_amount(amount_due(jc), jc)
