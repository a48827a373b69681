"""/estimate_approval?token=…: the customer's view of an estimate, and nothing else.

The customer decides only the lines they pay for; warranty and internal lines are listed as
covered. The total is what the customer pays with tax if they approve every line of theirs,
computed as their invoice will be (billing.customer_figures)."""

import json

import frappe
from frappe import _
from frappe.utils import flt, format_datetime

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
		return call_with_deadlock_retry(_get_context_reading_the_estimate_once, context)
	except InvalidApprovalLink as e:
		context.error = str(e)
		return context
	except frappe.ValidationError as e:  # still busy after the retries: a message, not a 500
		context.error = str(e) or _("Please try again in a moment.")
		return context


def line_key(line: dict) -> tuple:
	"""What a decision is on: the line's row, item, hours or quantity, rate and that the customer
	pays for it (a covered line is shown at no charge)."""
	return (
		line.get("row"),
		line.get("item_code"),
		flt(line.get("qty"), 4),
		flt(line.get("rate"), 2),
		bool(line.get("covered")),
	)


def previous_decision(jc) -> dict | None:
	"""The customer's last decision on this job card, which a new one replaces. Its `decisions`
	are keyed by line_key of the line as the customer saw it: a decision applies only to that
	very line, never to another line given its row name or to the same row changed since."""
	if not jc.get("approval_log"):
		return None
	last = jc.approval_log[-1]
	try:
		evidence = json.loads(last.evidence or "{}")
	except ValueError:
		evidence = {}
	covered = evidence.get("covered") or {}
	decided = evidence.get("decisions") or {}
	decisions = {}
	for line in evidence.get("lines") or []:
		row = line.get("row")
		if row in decided and row not in covered:
			decisions[line_key({**line, "covered": False})] = decided[row]
	return {"on": format_datetime(last.decided_on), "result": _(last.result), "decisions": decisions}


def _get_context_reading_the_estimate_once(context):
	with customer_figures.estimate_read_once():  # each attempt reads it afresh
		return _get_context(context)


def _get_context(context):
	jc = read_token(context.token)
	if staff_session():
		context.staff_session = _(STAFF_SESSION).format(frappe.session.user)
	lines, quotation = estimate_lines(jc)
	context.previous = previous_decision(jc)
	for line in lines:
		line["previous"] = (context.previous or {}).get("decisions", {}).get(line_key(line))
	context.lines = [line for line in lines if not line["covered"]]
	context.covered_lines = [line for line in lines if line["covered"]]
	context.dealer = jc.company
	context.plate = jc.registration_plate
	make, model = frappe.db.get_value("Customer Vehicle", jc.vehicle, ["make", "model"]) or ("", "")
	context.vehicle = f"{make or ''} {model or ''}".strip()
	context.quotation = quotation
	context.currency = quotation.currency
	estimate = customer_figures.customer_estimate(jc, with_decisions=False)
	# lines before the discount, the discount, taxes and the rounding adjustment add up to what
	# the customer pays, as on the estimate's print and the invoice (customer_figures.figures)
	shown = customer_figures.figures(estimate) if estimate else {}
	context.net_total = shown.get("lines", 0)
	context.discount = shown.get("discount", 0)
	context.taxes = shown.get("taxes", 0)
	context.rounding = shown.get("rounding", 0)
	context.customer_pays = shown.get("pays", 0)
	return context
