"""/estimate_approval?token=…: the customer's view of an estimate, and nothing else.

The customer decides only the lines they pay for; warranty and internal lines are listed as
covered. The total is what the customer pays with tax if they approve every line of theirs,
computed as their invoice will be (billing.customer_figures)."""

import frappe

from aftersales_dms.billing import customer_figures
from aftersales_dms.billing.approval import InvalidApprovalLink, estimate_lines, read_token

no_cache = 1


def get_context(context):
	context.no_cache = 1
	context.show_sidebar = False
	context.token = frappe.form_dict.get("token") or ""
	try:
		jc = read_token(context.token)
	except InvalidApprovalLink as e:
		context.error = str(e)
		return context
	lines, quotation = estimate_lines(jc)
	context.lines = [line for line in lines if not line["covered"]]
	context.covered_lines = [line for line in lines if line["covered"]]
	context.dealer = jc.company
	context.plate = jc.registration_plate
	make, model = frappe.db.get_value("Customer Vehicle", jc.vehicle, ["make", "model"]) or ("", "")
	context.vehicle = f"{make or ''} {model or ''}".strip()
	context.quotation = quotation
	context.currency = quotation.currency
	estimate = customer_figures.customer_estimate(jc, with_decisions=False)
	context.net_total = estimate.net_total if estimate else 0
	context.discount = estimate.discount_amount if estimate else 0
	context.taxes = estimate.total_taxes_and_charges if estimate else 0
	context.customer_pays = customer_figures.payable(estimate) if estimate else 0
	return context
