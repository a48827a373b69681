"""The customer's approval of an estimate through a signed, expiring, single-use link.

Token = base64url("<job card>|<quotation>|<expires unix>|<nonce>") + "." + HMAC-SHA256 of it with
the site's encryption key. The job card keeps only the SHA-256 of the nonce: a decision consumes
it, so a link works once; a new link replaces the old one. Whatever is wrong with a token, the
page says the same thing and shows nothing of the job.
"""

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta

import frappe
from frappe import _
from frappe.rate_limiter import rate_limit
from frappe.utils import cint, flt, get_url, now_datetime
from frappe.utils.password import get_encryption_key

from aftersales_dms.billing import consent, customer_figures
from aftersales_dms.controllers.guards import call_with_deadlock_retry, check_job_card_editor, lock_document

LINK_VALID_HOURS = 72
INVALID = "This approval link is invalid, has expired or has already been used."
DECISIONS = ("Approved", "Declined")
AWAITING_REAPPROVAL = "Awaiting Re-approval"
STAFF_SESSION = (
	"You are signed in as {0}. The customer decides on their estimate from their own device: sign"
	" out (or use a private window) to open this link, or send the link to the customer."
)
ESTIMATE_PRINT_FORMAT = "Dealer Estimate"  # billing/print_format/dealer_estimate


class InvalidApprovalLink(frappe.ValidationError):
	pass


def _sign(payload: str) -> str:
	return hmac.new(get_encryption_key().encode(), payload.encode(), hashlib.sha256).hexdigest()


def _digest(nonce: str) -> str:
	return hashlib.sha256(nonce.encode()).hexdigest()


def make_token(job_card: str, quotation: str, valid_hours: float = LINK_VALID_HOURS):
	"""Return (token, nonce digest, expiry) for the job card's current estimate."""
	nonce = secrets.token_urlsafe(16)
	expires = (now_datetime() + timedelta(hours=valid_hours)).replace(microsecond=0)
	payload = f"{job_card}|{quotation}|{int(expires.timestamp())}|{nonce}"
	encoded = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
	return f"{encoded}.{_sign(payload)}", _digest(nonce), expires


@frappe.whitelist(methods=["POST"])
def make_approval_link(job_card: str) -> str:
	"""A signed, expiring link for the customer to approve or decline the job card's submitted
	estimate line by line; marks the job card Awaiting Customer. Not for a job that is over
	(delivered, released, cancelled): there is nothing left to decide. (Ready for Pickup still
	takes one: a change after the decision waits for the customer's new one before pickup.)"""
	from aftersales_dms.job_states import FINAL

	jc = lock_document(frappe.get_doc("Service Job Card", job_card), check=None)
	check_job_card_editor(jc)
	if jc.status in FINAL:
		frappe.throw(
			_("Job card {0} is {1}: the customer has nothing left to approve.").format(jc.name, _(jc.status)),
			title=_("Job card closed"),
		)
	check_not_invoiced(jc, _("no approval link after invoicing"))
	if not jc.estimate or frappe.db.get_value("Quotation", jc.estimate, "docstatus") != 1:
		frappe.throw(_("Make the estimate first."))
	if estimate_outdated(jc):
		frappe.throw(
			_(
				"The job card's lines or discount changed since estimate {0}; make a new estimate"
				" first, the customer decides on what they will be billed."
			).format(jc.estimate)
		)
	token, digest, expires = make_token(jc.name, jc.estimate)
	frappe.db.set_value(
		"Service Job Card",
		jc.name,
		{"approval_nonce": digest, "approval_link_expires": expires, "approval_status": "Awaiting Customer"},
	)
	return get_url(f"/estimate_approval?token={token}")


def open_token(
	token: str | None, nonce_field: str, subject=None, for_update: bool = False
) -> "frappe.model.document.Document":
	"""The job card a signed, unexpired, unused token is for; InvalidApprovalLink otherwise.
	`subject` is what the token was made for (the estimate's quotation, or a fixed word);
	`nonce_field` holds the digest of the job card's one live token of that kind. With
	for_update the job card is locked and read in the same statements, so of two requests with
	one token the second sees the first one's spent nonce (a plain read after a lock would not)."""
	try:
		encoded, signature = (token or "").split(".")
		payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
		job_card, token_subject, expires, nonce = payload.split("|")
		valid = hmac.compare_digest(_sign(payload), signature) and cint(expires) > now_datetime().timestamp()
	except (ValueError, UnicodeDecodeError):
		valid = False
	if not valid or not frappe.db.exists("Service Job Card", job_card):
		raise InvalidApprovalLink(_(INVALID))
	jc = frappe.get_doc("Service Job Card", job_card, for_update=for_update)
	expected = subject(jc) if callable(subject) else subject
	digest = jc.get(nonce_field)
	if token_subject != expected or not digest or not hmac.compare_digest(digest, _digest(nonce)):
		raise InvalidApprovalLink(_(INVALID))
	return jc


def read_token(token: str | None, for_update: bool = False) -> "frappe.model.document.Document":
	"""The job card of a valid estimate-approval token; a job that is over (delivered, released,
	cancelled) has nothing left to decide, and its link is no link any more."""
	from aftersales_dms.workshop.status import FINAL

	jc = open_token(token, "approval_nonce", lambda jc: jc.estimate, for_update=for_update)
	if jc.status in FINAL:
		raise InvalidApprovalLink(_(INVALID))
	return jc


def estimate_lines(jc) -> tuple[list[dict], "frappe.model.document.Document"]:
	"""The estimate's lines as the customer sees them: each the customer's (with its price and a
	decision to make) or covered (warranty or internal work: nothing to pay or decide)."""
	quotation = customer_figures.estimate_doc(jc.estimate)
	rows = {r.name: r for r in customer_figures.job_lines(jc)}
	lines = []
	for item in quotation.items:
		row = rows.get(item.dms_job_card_row)
		covered = row is not None and customer_figures.is_covered(row)
		lines.append(
			{
				"row": item.dms_job_card_row,
				"item_code": item.item_code,
				"description": item.description or item.item_name,
				"qty": item.qty,
				"uom": item.uom,
				"rate": item.rate,
				"amount": item.amount,
				"covered": covered,
				"covered_by": _(customer_figures.COVERED_LABEL[row.bill_to]) if covered else None,
			}
		)
	return lines, quotation


@frappe.whitelist(allow_guest=True, methods=["POST"])
@rate_limit(limit=10, seconds=60)
def decide(token: str | None = None, decisions: str | dict | None = None):
	"""Record the customer's decision on each line they pay for, with time, IP and user agent;
	the link is then spent. Covered lines take no decision: they count as approved. Only the
	customer decides: a signed-in staff session is refused (a Website User, a customer with a
	portal login, may decide). A deadlock is retried, never a server error."""
	check_customer_session()
	if isinstance(decisions, str):
		try:
			decisions = frappe.parse_json(decisions)
		except ValueError:
			decisions = None
	if (
		not isinstance(token, str)
		or not isinstance(decisions, dict)
		or not all(isinstance(k, str) and isinstance(v, str) for k, v in decisions.items())
	):
		frappe.throw(_("Approve or decline every line of the estimate you pay for."))
	return call_with_deadlock_retry(_decide_reading_the_estimate_once, token, decisions)


def staff_session() -> bool:
	"""Whether the request comes from a signed-in user other than a Website User (a customer
	with a portal login): staff, who never answer for the customer."""
	user = frappe.session.user
	return user != "Guest" and frappe.get_cached_value("User", user, "user_type") != "Website User"


def check_customer_session():
	if staff_session():
		frappe.throw(
			_(STAFF_SESSION).format(frappe.session.user), frappe.PermissionError, title=_("Not the customer")
		)


def _decide_reading_the_estimate_once(token: str, decisions):
	with customer_figures.estimate_read_once():  # each attempt reads it afresh
		return _decide(token, decisions)


def _decide(token: str, decisions):
	jc = read_token(token, for_update=True)  # locked and read afresh: two tabs cannot both decide
	check_not_invoiced(jc, _("the estimate can no longer be decided"))
	if not isinstance(decisions, dict):
		frappe.throw(_("Approve or decline every line of the estimate you pay for."))
	lines, _quotation = estimate_lines(jc)
	covered = {line["row"]: line for line in lines if line["covered"]}
	rows = {line["row"] for line in lines if not line["covered"]}
	on_covered = [covered[row] for row in decisions if row in covered]
	if on_covered:
		frappe.throw(
			_("{0}: {1}. You pay nothing for it and there is nothing to decide.").format(
				on_covered[0]["description"], on_covered[0]["covered_by"]
			)
		)
	if set(decisions) != rows or not set(decisions.values()) <= set(DECISIONS):
		frappe.throw(_("Approve or decline every line of the estimate you pay for."))
	for row in customer_figures.job_lines(jc):
		if row.name in decisions:
			row.customer_decision = decisions[row.name]
		elif row.name in covered:
			row.customer_decision = None  # covered work is never the customer's to decline
	chosen = set(decisions.values()) | ({"Approved"} if covered else set())
	jc.approval_status = (
		"Approved" if chosen == {"Approved"} else "Declined" if chosen == {"Declined"} else "Partly Approved"
	)
	jc.approved_on = now_datetime()
	jc.approval_ip = getattr(frappe.local, "request_ip", None)
	request = getattr(frappe.local, "request", None)
	jc.approval_user_agent = (request.headers.get("User-Agent", "") if request else "")[:500] or None
	jc.approval_nonce = None
	consent.record(jc, decisions, jc.approval_status, lines)
	# the customer's decision and its evidence are at the job card's system permlevel, which no
	# desk role writes: this guest endpoint is the only writer
	jc.flags.ignore_permissions = True
	jc.save()
	amount = customer_figures.customer_total(jc)
	return {
		"approval_status": jc.approval_status,
		"customer_pays": amount,
		"customer_pays_formatted": customer_figures.format_amount(amount, jc),
	}


@frappe.whitelist(methods=["POST"])
def send_estimate(job_card: str) -> str:
	"""Email the estimate (the Dealer Estimate print of the Quotation, rendered by wkhtmltopdf)
	with a fresh approval link and what the customer pays."""
	jc = frappe.get_doc("Service Job Card", job_card)
	check_job_card_editor(jc)
	if not jc.contact_email:
		frappe.throw(_("The job card has no customer email; add one or share the approval link another way."))
	link = make_approval_link(jc.name)
	frappe.sendmail(
		recipients=[jc.contact_email],
		subject=_("Your estimate for {0} from {1}").format(jc.registration_plate, jc.company),
		message=_(
			"<p>Dear {0},</p><p>please find the estimate for your vehicle {1} attached. If you approve"
			" every line you pay for, you pay {4} (taxes included); warranty and internal work is"
			" covered.</p>"
			'<p>Approve or decline each line here: <a href="{2}">{2}</a><br>'
			"(the link works once and expires in {3} hours)</p>"
		).format(
			jc.customer_name,
			jc.registration_plate,
			link,
			LINK_VALID_HOURS,
			customer_figures.format_amount(customer_figures.customer_total(jc, with_decisions=False), jc),
		),
		attachments=[
			frappe.attach_print(
				"Quotation", jc.estimate, file_name=jc.estimate, print_format=ESTIMATE_PRINT_FORMAT
			)
		],
		reference_doctype=jc.doctype,
		reference_name=jc.name,
		now=True,
	)
	return link


# ---- the customer's decision binds what they pay (README: Customer approval, Approved = billed)
def pricing_facts(row) -> tuple:
	"""What a line bills: item, hours or quantity, rate and payer."""
	if row.doctype == "Service Job Card Labour":
		qty = customer_figures.hours(row.standard_hours)  # as the estimate and the invoice bill them
	else:
		qty = row.qty
	return (row.item_code, flt(qty, 4), flt(row.rate, 2), row.get("bill_to") or "Customer")


def is_customer_paid(row) -> bool:
	return row is not None and not customer_figures.is_covered(row)


def live_invoices(jc) -> list[str]:
	"""The job card's invoices that are not cancelled (drafts included)."""
	from aftersales_dms.billing.invoice import BILL_TO_FIELD

	names = [jc.get(field) for field in BILL_TO_FIELD.values() if jc.get(field)]
	return [n for n in names if frappe.db.get_value("Sales Invoice", n, "docstatus") in (0, 1)]


def check_not_invoiced(jc, what: str):
	invoices = live_invoices(jc)
	if invoices:
		frappe.throw(
			_("Job card {0} is invoiced ({1}): {2}.").format(jc.name, ", ".join(invoices), what),
			title=_("Invoiced"),
		)


def warranty_claim_rejected(job_card: str) -> bool:
	return bool(
		frappe.db.exists(
			"OEM Warranty Claim", {"service_job_card": job_card, "status": "Rejected", "docstatus": 1}
		)
	)


def estimate_outdated(jc) -> bool:
	"""Whether the job card's lines (item, hours or quantity, rate; covered ones at zero) or its
	approved discount differ from its estimate's."""
	quotation = customer_figures.estimate_doc(jc.estimate)
	shown = {i.dms_job_card_row: (i.item_code, flt(i.qty, 4), flt(i.rate, 2)) for i in quotation.items}
	now = {}
	for row in customer_figures.job_lines(jc):
		item, qty, rate, _payer = pricing_facts(row)
		now[row.name] = (item, qty, rate if is_customer_paid(row) else 0.0)
	discount = customer_figures.effective_discount(jc)
	return shown != now or flt(quotation.additional_discount_percentage) != discount


def review_changes(jc):
	"""Called from the job card's validate, after its lines are priced. Once the estimate has gone
	to the customer, a change to what the customer pays (a line of theirs added, removed, or its
	item, hours or quantity, rate or payer changed; the discount that applies changed) puts the
	changed lines back to awaiting the customer: their decision is cleared, the job card is
	Awaiting Re-approval and any live link stops working. The earlier evidence stays in the
	approval log. A recall line stays the OEM's unless the OEM rejected the warranty claim; an
	invoiced job card's lines do not change at all (a credit note corrects an invoice)."""
	before = jc.get_doc_before_save()
	if not before:
		return
	old = {r.name: r for r in customer_figures.job_lines(before)}
	now = customer_figures.job_lines(jc)
	changed = [r for r in now if r.name not in old or pricing_facts(r) != pricing_facts(old[r.name])]
	names = {r.name for r in now}
	removed = [r for name, r in old.items() if name not in names]
	if changed or removed:
		check_not_invoiced(
			before, _("its lines can no longer change; correct the invoice with a credit note")
		)
	for row in changed:
		prev = old.get(row.name)
		recall = prev is not None and (prev.recall_campaign or prev.source == "Recall Campaign")
		if (
			recall
			and prev.bill_to == "Warranty"
			and row.bill_to != "Warranty"
			and not warranty_claim_rejected(jc.name)
		):
			frappe.throw(
				_(
					"Row {0}: {1} is recall work ({2}): the OEM pays for it (Warranty) unless it rejects"
					" the warranty claim."
				).format(row.idx, row.item_code, prev.recall_campaign or _("Recall Campaign")),
				title=_("Recall work"),
			)
	affected = [r for r in changed if is_customer_paid(r) or is_customer_paid(old.get(r.name))]
	# a line the customer declined and the advisor removes changes nothing they pay
	affected_removed = [r for r in removed if is_customer_paid(r) and r.customer_decision != "Declined"]
	discount_changed = customer_figures.effective_discount(jc) != customer_figures.effective_discount(before)
	if not (affected or affected_removed or discount_changed):
		return
	# a decision stays on no changed line, also between a new estimate and the new decision
	for row in now if discount_changed else affected:
		row.customer_decision = None
	if before.approval_status:
		jc.approval_status = AWAITING_REAPPROVAL
		jc.approval_nonce = jc.approval_link_expires = None


def ask_again_after_discount(job_card: str):
	"""A discount approved (billing.discount.approve_discount, which writes without a save) once
	the estimate has gone to the customer changes what they pay: every line of theirs waits for
	a new decision, as review_changes does on a save."""
	if not frappe.db.get_value("Service Job Card", job_card, "approval_status"):
		return
	for doctype in ("Service Job Card Labour", "Service Job Card Part"):
		for row in frappe.get_all(doctype, filters={"parent": job_card}, fields=["name", "bill_to"]):
			if (row.bill_to or "Customer") == "Customer":
				frappe.db.set_value(doctype, row.name, "customer_decision", None, update_modified=False)
	frappe.db.set_value(
		"Service Job Card",
		job_card,
		{"approval_status": AWAITING_REAPPROVAL, "approval_nonce": None, "approval_link_expires": None},
	)


def undecided_lines(jc) -> list:
	return [r for r in customer_figures.job_lines(jc) if is_customer_paid(r) and not r.customer_decision]


def check_customer_decided(jc, exc=frappe.ValidationError):
	"""Ready for Pickup and invoicing wait for the customer's decision on every line they pay for
	(the workflow's guard and make_invoices call this)."""
	lines = undecided_lines(jc)
	if jc.approval_status in ("Approved", "Partly Approved") and not lines:
		return
	frappe.throw(
		_(
			"The customer has not decided on everything they pay for (approval: {0}{1}): make a new"
			" estimate and send it to the customer."
		).format(
			_(jc.approval_status or "not requested"),
			"; " + ", ".join(f"{r.idx}. {r.item_name or r.item_code}" for r in lines) if lines else "",
		),
		exc,
		title=_("Not yet"),
	)
