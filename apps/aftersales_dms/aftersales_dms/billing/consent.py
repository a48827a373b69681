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

from aftersales_dms.billing.customer_figures import customer_total

INTACT, BROKEN, NONE = "Intact", "Broken", "None"


def canonical(payload: dict) -> str:
	return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sha256(text: str) -> str:
	return hashlib.sha256(text.encode()).hexdigest()


def sign(digest: str) -> str:
	return hmac.new(get_encryption_key().encode(), digest.encode(), hashlib.sha256).hexdigest()


def quotation_facts(quotation: str) -> dict:
	"""What the customer was shown of the estimate: its lines, amounts and totals."""
	q = frappe.get_doc("Quotation", quotation)
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
	return {"status": BROKEN if problems else INTACT, "problems": problems, "hash": previous}


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
