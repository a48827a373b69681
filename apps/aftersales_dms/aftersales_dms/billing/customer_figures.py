"""What the customer pays: the one source of every amount the customer is shown.

A job card line is the customer's when it is billed to the Customer; Warranty (the OEM) and
Internal lines are *covered*: the customer sees them listed as covered, with nothing to pay and
nothing to decide. The estimate Quotation carries the covered lines at a zero rate, so its totals
are the customer's. What the customer owes is

- once the customer's Sales Invoice exists: what it says (outstanding once submitted, else its
  rounded or grand total);
- once the work is done (the job card can be invoiced, e.g. Ready for Pickup) and before that
  invoice exists: what it will bill, i.e. the unsaved invoice make_invoices would make
  (`billing.invoice.customer_bill`: parts as issued net of returns), totalled by ERPNext;
- before that: the estimate without covered and declined lines, with the approved discount,
  totalled by ERPNext on an unsaved copy of the Quotation (`calculate_taxes_and_totals`, the same
  taxes template and code as the invoice), rounded as the invoice rounds.

Notifications call `customer_amount_due(doc)` (a Jinja method, hooks.jenv) for the text.

One rounding, to the paisa: labour hours are kept, estimated and billed to the hundredth of an
hour (`hours`); rates and amounts to the paisa; taxes, the discount and the rounding adjustment
are ERPNext's, computed by the same code with the same template on the estimate, the customer's
page (an unsaved copy of the estimate) and the invoice; what the customer pays is the rounded
total when ERPNext rounds (`payable`). The page and the print formats show the figures of
`figures`: lines - discount + taxes + rounding adjustment = what the customer pays, exactly.
"""

import frappe
from frappe.utils import flt, fmt_money

from aftersales_dms.controllers.saves import memo_scope, scope_memo

COVERED_LABEL = {"Warranty": "Covered by the manufacturer's warranty", "Internal": "Covered by the dealer"}


HOURS_PRECISION = 2


def hours(value) -> float:
	"""Labour hours as the job card keeps them and the estimate and the invoice bill them."""
	return flt(value, HOURS_PRECISION)


def is_covered(row) -> bool:
	return (row.get("bill_to") or "Customer") != "Customer"


def job_lines(jc) -> list:
	return list(jc.labour) + list(jc.parts)


def payable(doc) -> float:
	"""What an ERPNext selling document asks the party to pay (rounded when ERPNext rounds)."""
	return flt(doc.get("rounded_total")) or flt(doc.get("grand_total"))


def figures(doc) -> dict:
	"""What an ERPNext selling document (the estimate, its customer copy, an invoice) shows the
	customer: its lines before the discount, the discount, the taxes, the rounding adjustment and
	what the customer pays; the first four add up to the last, to the paisa."""
	pays = payable(doc)
	lines, discount = flt(doc.get("total"), 2), flt(doc.get("discount_amount"), 2)
	taxes = flt(doc.get("total_taxes_and_charges"), 2)
	# ERPNext's rounding adjustment (rounded total - grand total), nothing when it does not round
	rounding = flt(pays - (lines - discount + taxes), 2)
	return {"lines": lines, "discount": discount, "taxes": taxes, "rounding": rounding, "pays": pays}


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


def estimate_read_once():
	"""Within it, estimate_doc reads each estimate (a Quotation and its seven tables) once: the
	customer's decision read it four times (the page's lines, the evidence, the two totals), all in
	one transaction, which sees the same rows each time. Scoped to the block; the evidence's check
	(consent.verify) and every other caller read the database afresh."""
	return memo_scope("estimate")


def estimate_doc(name: str):
	"""The estimate Quotation `name`, read only (see estimate_read_once)."""
	memo = scope_memo("estimate")
	if memo is None:
		return frappe.get_doc("Quotation", name)
	if name not in memo:
		memo[name] = frappe.get_doc("Quotation", name)
	return memo[name]


def customer_estimate(jc, with_decisions: bool = True):
	"""An unsaved copy of the job card's estimate holding only what the customer pays (covered
	lines, and with_decisions the declined ones, dropped), at the estimate's own discount (what
	the customer was shown: a later discount changes the estimate, see billing.approval), totalled
	by ERPNext; None when the customer pays nothing."""
	if not jc.estimate:
		return None
	rows = {r.name: r for r in job_lines(jc)}
	copy = frappe.copy_doc(estimate_doc(jc.estimate))
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
	from aftersales_dms.workshop.status import can_invoice  # the workshop imports billing

	if can_invoice(jc):
		# the work is done: what the customer's invoice will bill (parts as issued, net of
		# returns), the very invoice make_invoices makes, not the estimate
		from aftersales_dms.billing.invoice import customer_bill

		bill = customer_bill(jc)
		return payable(bill) if bill else 0.0
	if jc.estimate and frappe.db.get_value("Quotation", jc.estimate, "docstatus") == 1:
		return customer_total(jc)
	return 0.0


def format_amount(amount: float, jc) -> str:
	return fmt_money(amount, currency=currency_of(jc))


def customer_amount_due(doc) -> str:
	"""Jinja (Notifications, print formats): what the customer owes, formatted in the dealer's
	currency. `doc` is a Service Job Card (document or name)."""
	jc = frappe.get_doc("Service Job Card", doc) if isinstance(doc, str) else doc
	# the move to Ready for Pickup sends an SMS and an email, each stating it from the same saved
	# job card: the invoice it is (ERPNext builds it in memory, ~130 statements) is built once for
	# the notifications of one save (the job card opens the memo in on_change, just before Frappe
	# evaluates them, and closes it in its next validate); any other call states it afresh
	memo = jc.flags.get("dms_amount_due_memo")
	state = (jc.name, str(jc.modified))
	if memo is not None and state in memo:
		return memo[state]
	text = format_amount(amount_due(jc), jc)
	if memo is not None:
		memo[state] = text
	return text
