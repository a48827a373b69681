"""Tamper-evident evidence of the customer's decisions on an estimate.

Each decision through the approval link appends a row to the job card's *Customer Decisions*
(Service Job Card Approval Log): the canonical JSON of what the customer saw and chose (the
estimate's lines and amounts, which lines were covered — warranty or internal, nothing to pay or
decide — and what the customer pays with tax, each decision on a line the customer pays for,
time, IP, user agent and the previous decision's hash), its SHA-256, and an HMAC-SHA256 of that hash under the site's encryption key
(kept in the site's config, not in the database). `verify` recomputes everything and compares it
with what the job card and the estimate say now: an edit of any of it afterwards — through the
desk as System Manager, a script, or the database — shows as broken evidence.
"""

import hashlib
import hmac
import json

import frappe
from frappe import _
from frappe.utils import flt
from frappe.utils.password import get_encryption_key

from aftersales_dms.billing.customer_figures import customer_total, estimate_doc

INTACT, BROKEN, NONE = "Intact", "Broken", "None"
AWAITING = "Awaiting"  # the evidence is intact; lines changed since and wait for a new decision


def canonical(payload: dict) -> str:
	return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sha256(text: str) -> str:
	return hashlib.sha256(text.encode()).hexdigest()


def sign(digest: str) -> str:
	return hmac.new(get_encryption_key().encode(), digest.encode(), hashlib.sha256).hexdigest()


def quotation_facts(quotation: str) -> dict:
	"""What the customer was shown of the estimate: its lines, amounts and totals."""
	q = estimate_doc(quotation)
	return {
		"quotation": q.name,
		"currency": q.currency,
		"net_total": flt(q.net_total, 2),
		"grand_total": flt(q.grand_total, 2),
		"lines": sorted(
			(
				{
					"row": i.dms_job_card_row,
					"item_code": i.item_code,
					"description": i.description or i.item_name,
					"qty": flt(i.qty, 4),
					"rate": flt(i.rate, 2),
					"amount": flt(i.amount, 2),
				}
				for i in q.items
			),
			key=lambda line: line["row"] or "",
		),
	}


def record(jc, decisions: dict, result: str, lines: list[dict]):
	"""Append the evidence of this decision to the job card (saved by the caller). `lines` are
	the estimate's lines as the approval page showed them (billing.approval.estimate_lines)."""
	previous = jc.approval_log[-1].evidence_hash if jc.approval_log else ""
	payload = {
		"job_card": jc.name,
		**quotation_facts(jc.estimate),
		"covered": {line["row"]: line["covered_by"] for line in lines if line["covered"]},
		"customer_pays": flt(customer_total(jc, with_decisions=False), 2),
		"customer_pays_as_decided": flt(customer_total(jc), 2),
		"decisions": {row: decisions[row] for row in sorted(decisions)},
		"result": result,
		"decided_on": str(jc.approved_on),
		"ip_address": jc.approval_ip or "",
		"user_agent": jc.approval_user_agent or "",
		# who sent it: Guest (the link), or the customer's own portal login (billing.approval
		# refuses staff sessions)
		"decided_by": frappe.session.user,
		"previous_hash": previous,
	}
	evidence = canonical(payload)
	digest = sha256(evidence)
	jc.append(
		"approval_log",
		{
			"decided_on": jc.approved_on,
			"quotation": jc.estimate,
			"result": result,
			"ip_address": jc.approval_ip,
			"evidence_hash": digest,
			"previous_hash": previous or None,
			"signature": sign(digest),
			"evidence": evidence,
		},
	)
	jc.approval_hash = digest


def verify(jc) -> dict:
	"""{"status": Intact | Broken | None, "problems": [...], "hash": the last decision's hash}."""
	problems = []
	previous = ""
	last = None
	for row in jc.get("approval_log") or []:
		label = _("Decision {0}").format(row.idx)
		evidence = row.evidence or ""
		if sha256(evidence) != row.evidence_hash:
			problems.append(_("{0}: the evidence does not match its hash.").format(label))
		if not row.signature or not hmac.compare_digest(sign(row.evidence_hash or ""), row.signature):
			problems.append(_("{0}: the hash is not signed by this site.").format(label))
		try:
			last = json.loads(evidence)
		except ValueError:
			last = {}
			problems.append(_("{0}: the evidence is not readable.").format(label))
		if (last.get("previous_hash") or "") != previous or (row.previous_hash or "") != previous:
			problems.append(_("{0}: the chain to the previous decision is broken.").format(label))
		for field, value in (
			("quotation", row.quotation),
			("result", row.result),
			("ip_address", row.ip_address or ""),
		):
			if (last.get(field) or "") != (value or ""):
				problems.append(_("{0}: {1} differs from the evidence.").format(label, field))
		previous = row.evidence_hash or ""
	decided = jc.approval_status in ("Approved", "Partly Approved", "Declined")
	if last is None:
		if decided:
			problems.append(_("The job card shows a customer decision, but there is no evidence of it."))
		return {"status": BROKEN if problems else NONE, "problems": problems, "hash": None}
	if (jc.approval_hash or "") != previous:
		problems.append(_("The job card's evidence hash is not the last decision's."))
	if decided and last.get("quotation") == jc.estimate:
		problems += _compare_with_now(jc, last)
	if decided:
		problems += _compare_lines_and_invoices(jc, last)
	if not problems and not decided:
		# the evidence of the last decision is intact, but it is not (or no longer) the
		# job card's: a new estimate or changed lines wait for the customer
		waiting = [
			f"{r.idx}. {r.item_code}"
			for r in list(jc.labour) + list(jc.parts)
			if (r.get("bill_to") or "Customer") == "Customer" and not r.customer_decision
		]
		return {
			"status": AWAITING,
			"problems": [
				_("Customer approval: {0}. Waiting for the customer's decision{1}.").format(
					_(jc.approval_status or "not requested"),
					(": " + ", ".join(waiting)) if waiting else "",
				)
			],
			"hash": previous,
		}
	return {"status": BROKEN if problems else INTACT, "problems": problems, "hash": previous}


def _compare_lines_and_invoices(jc, last: dict) -> list[str]:
	"""What the job card and its invoices say now against what the customer decided: every line
	the customer pays for was shown to them at its hours or quantity and rate and approved (or
	declined, and then not billed); no line shown to the customer to pay is covered now; the customer's
	invoice bills only approved lines, at the rate shown and never more parts than shown, in the
	currency shown; every invoice keeps the dealer's terms (billing.invoice.terms_problems); and
	the OEM's and internal invoices no line the customer was asked to pay for."""
	problems = []
	shown = {line["row"]: line for line in last.get("lines") or []}
	covered = set(last.get("covered") or {})
	decisions = last.get("decisions") or {}
	parts = {r.name for r in jc.parts}
	for row in list(jc.labour) + list(jc.parts):
		label = _("Row {0} ({1})").format(row.idx, row.item_code)
		line = shown.get(row.name)
		qty = row.standard_hours if row.doctype == "Service Job Card Labour" else row.qty
		if (row.get("bill_to") or "Customer") != "Customer":
			if row.name in decisions:
				problems.append(_("{0}: covered now, but the customer was shown it to pay.").format(label))
		elif row.name in covered or line is None or row.name not in decisions:
			problems.append(_("{0}: the customer pays for it, but did not decide on it.").format(label))
		elif (flt(qty, 4), flt(row.rate, 2)) != (flt(line.get("qty"), 4), flt(line.get("rate"), 2)):
			problems.append(
				_("{0}: its hours, quantity or rate differ from what the customer decided.").format(label)
			)
	invoices = frappe.get_all(
		"Sales Invoice",
		filters={"dms_service_job_card": jc.name, "docstatus": ("<", 2), "is_return": 0},
		fields=["name", "dms_bill_to"],
	)
	from aftersales_dms.billing.invoice import terms_problems  # invoice imports this module's callers

	for inv in invoices:
		if inv.dms_bill_to in ("Customer", "Warranty", "Internal"):
			doc = frappe.get_doc("Sales Invoice", inv.name)
			terms = terms_problems(doc, jc.company)
			if inv.dms_bill_to == "Customer" and last.get("currency") and doc.currency != last["currency"]:
				terms.insert(
					0,
					_("it is in {0}; the customer decided on {1}.").format(doc.currency, last["currency"]),
				)
			problems += [_("Invoice {0}: {1}").format(inv.name, p) for p in terms]
		items = frappe.get_all(
			"Sales Invoice Item",
			filters={"parent": inv.name},
			fields=["dms_job_card_row", "item_code", "qty", "rate"],
		)
		for item in items:
			line = shown.get(item.dms_job_card_row) or {}
			label = _("Invoice {0}, {1}").format(inv.name, item.item_code)
			if inv.dms_bill_to == "Customer":
				if decisions.get(item.dms_job_card_row) != "Approved":
					problems.append(_("{0}: billed to the customer, who did not approve it.").format(label))
				elif flt(item.rate, 2) != flt(line.get("rate"), 2):
					problems.append(_("{0}: billed at a rate the customer did not approve.").format(label))
				elif item.dms_job_card_row in parts and flt(item.qty, 4) > flt(line.get("qty"), 4):
					problems.append(_("{0}: more billed to the customer than they approved.").format(label))
			elif inv.dms_bill_to in ("Warranty", "Internal") and item.dms_job_card_row in decisions:
				problems.append(
					_("{0}: billed as covered, but the customer was shown it to pay.").format(label)
				)
	return problems


def _compare_with_now(jc, last: dict) -> list[str]:
	problems = []
	now = {r.name: r.customer_decision for r in list(jc.labour) + list(jc.parts) if r.customer_decision}
	if now != last.get("decisions"):
		problems.append(_("The job card's per-line decisions differ from what the customer decided."))
	for field, key in (
		("approval_status", "result"),
		("approval_ip", "ip_address"),
		("approval_user_agent", "user_agent"),
	):
		if (jc.get(field) or "") != (last.get(key) or ""):
			problems.append(
				_("The job card's {0} differs from the evidence.").format(jc.meta.get_label(field))
			)
	if str(jc.approved_on) != last.get("decided_on"):
		problems.append(_("The time of the decision differs from the evidence."))
	if frappe.db.exists("Quotation", jc.estimate):
		shown = {k: last.get(k) for k in ("quotation", "currency", "net_total", "grand_total", "lines")}
		if quotation_facts(jc.estimate) != shown:
			problems.append(_("The estimate's lines or amounts changed after the customer decided."))
	else:
		problems.append(_("The estimate the customer decided on is gone."))
	return problems


@frappe.whitelist()
def approval_evidence(job_card: str) -> dict:
	"""Whether the customer's decisions on the job card are still what the evidence says."""
	jc = frappe.get_doc("Service Job Card", job_card)
	jc.check_permission("read")
	return verify(jc)
