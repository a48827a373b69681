"""/estimate_approval?token=…: the customer's view of an estimate, and nothing else.

The customer decides only the lines they pay for; warranty and internal lines are listed as
covered. The total is what the customer pays with tax if they approve every line of theirs,
computed as their invoice will be (billing.customer_figures)."""

import json

import frappe
from frappe import _
from frappe.utils import format_datetime

from aftersales_dms.billing import customer_figures
from aftersales_dms.billing.approval import (
	STAFF_SESSION,
	InvalidApprovalLink,
	estimate_lines,
	read_token,
	staff_session,
)
from aftersales_dms.controllers.guards import call_with_deadlock_retry

no_cache = 1


def get_context(context):
	context.no_cache = 1
	context.show_sidebar = False
	context.token = frappe.form_dict.get("token") or ""
	try:
		return call_with_deadlock_retry(_get_context, context)
	except InvalidApprovalLink as e:
		context.error = str(e)
		return context
	except frappe.ValidationError as e:  # still busy after the retries: a message, not a 500
		context.error = str(e) or _("Please try again in a moment.")
		return context


def previous_decision(jc) -> dict | None:
	"""The customer's last decision on this job card, which a new one replaces."""
	if not jc.get("approval_log"):
		return None
	last = jc.approval_log[-1]
	try:
		decisions = json.loads(last.evidence or "{}").get("decisions") or {}
	except ValueError:
		decisions = {}
	return {"on": format_datetime(last.decided_on), "result": _(last.result), "decisions": decisions}


def _get_context(context):
	jc = read_token(context.token)
	if staff_session():
		context.staff_session = _(STAFF_SESSION).format(frappe.session.user)
	lines, quotation = estimate_lines(jc)
	context.previous = previous_decision(jc)
	for line in lines:
		line["previous"] = (context.previous or {}).get("decisions", {}).get(line["row"])
	context.lines = [line for line in lines if not line["covered"]]
	context.covered_lines = [line for line in lines if line["covered"]]
	context.dealer = jc.company
	context.plate = jc.registration_plate
	make, model = frappe.db.get_value("Customer Vehicle", jc.vehicle, ["make", "model"]) or ("", "")
	context.vehicle = f"{make or ''} {model or ''}".strip()
	context.quotation = quotation
	context.currency = quotation.currency
	estimate = customer_figures.customer_estimate(jc, with_decisions=False)
	# before the discount (ERPNext's net_total is after it: the page showed the discount twice)
	context.net_total = estimate.total if estimate else 0
	context.discount = estimate.discount_amount if estimate else 0
	context.taxes = estimate.total_taxes_and_charges if estimate else 0
	context.customer_pays = customer_figures.payable(estimate) if estimate else 0
	return context
