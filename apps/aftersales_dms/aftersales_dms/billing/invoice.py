"""The job card's invoices: ERPNext Sales Invoices built from the work actually done.

One invoice per bill-to party: Customer lines to the job card's customer, Warranty lines to the
dealer's OEM customer, Internal lines to the dealer's internal customer. Labour is billed at the
line's hourly rate for the sold (standard) or clocked hours, as the dealer chooses (Company →
Bill Labour By); parts for the quantity actually issued (net of returns), never the estimate.
Lines the customer declined are not billed. Taxes come from the dealer's default template, in the
dealer's currency at rate 1: an invoice of a job card keeps exactly these terms (validate_terms).

Accounting: the parts were moved at cost into the workshop WIP warehouse when issued; the
invoice takes them out of WIP (update_stock), so submitting it books revenue and cost of goods
sold together (Dr Debtors / Cr Service income and output tax; Dr COGS / Cr WIP stock account).

Billed once, per payer: each invoice line names its job card row (dms_job_card_row). Making the
invoices again bills, per party, only what no invoice of the job card bills yet: a party's draft
is returned as it is; otherwise each line is billed for what it lacks, i.e. its billable quantity
less what the party's submitted invoices bill for it net of the credit notes against them (a
rejected warranty claim's credit note excepted: the OEM's refusal is not a reason to bill the OEM
again; the claim re-bills the customer). An invoice that would bill a line beyond that, made by
hand or copied, is refused. So per party, the job's invoices add up to its billable lines.

Idempotent: the job card row is locked and its invoice links read in the same locking read, so
double clicks and concurrent requests create each party's invoice once and return it after.
"""

import frappe
from frappe import _
from frappe.utils import cint, flt, now_datetime, today

from aftersales_dms.billing import customer_figures
from aftersales_dms.billing.approval import check_customer_decided
from aftersales_dms.billing.estimate import dealer_tax_template
from aftersales_dms.controllers.dealer import get_workshop_settings
from aftersales_dms.controllers.guards import lock_document
from aftersales_dms.controllers.pricing import dealer_price_list
from aftersales_dms.controllers.saves import memo_scope, scope_memo
from aftersales_dms.roles import CREDIT_RELEASE_ROLES, INVOICE_ROLES, has_any_role
from aftersales_dms.workshop.status import can_invoice

BILL_TO_FIELD = {
	"Customer": "customer_invoice",
	"Warranty": "warranty_invoice",
	"Internal": "internal_invoice",
}
INVOICEABLE = ("Ready for Pickup",)


def bill_to_party(jc, bill_to: str) -> str:
	if bill_to == "Customer":
		return jc.customer
	settings = get_workshop_settings(jc.company)
	party = settings.oem_customer if bill_to == "Warranty" else settings.internal_customer
	if not party:
		frappe.throw(
			_("Set the {0} bill-to customer in the Dealer Workshop Settings of {1}.").format(
				_(bill_to), jc.company
			)
		)
	return party


def invoice_lines(jc) -> dict[str, list[dict]]:
	"""Billable lines of a job card, grouped by bill-to."""
	settings = get_workshop_settings(jc.company)
	labour_by = settings.labour_billing or "Sold Hours"
	wip = settings.wip_warehouse
	lines = {}
	for row in jc.labour:
		if row.customer_decision == "Declined":
			continue
		hours = customer_figures.hours(
			row.clocked_hours if labour_by == "Clocked Hours" else row.standard_hours
		)
		if hours <= 0:
			continue
		lines.setdefault(row.bill_to or "Customer", []).append(
			{
				"item_code": row.item_code,
				"item_name": row.item_name,
				"qty": hours,
				"uom": frappe.get_cached_value("Item", row.item_code, "stock_uom"),
				"rate": flt(row.rate),
				"description": labour_description(row.item_name, hours),
				"dms_job_card_row": row.name,
			}
		)
	for row in jc.parts:
		qty = flt(row.issued_qty)
		if row.customer_decision == "Declined" or qty <= 0:
			continue
		lines.setdefault(row.bill_to or "Customer", []).append(
			{
				"item_code": row.item_code,
				"qty": qty,
				"rate": flt(row.rate),
				"warehouse": wip,
				"dms_job_card_row": row.name,
			}
		)
	return lines


def labour_description(item_name: str, hours: float) -> str:
	return f"{item_name} ({hours:g} h)"


def billed_per_row(job_card: str, bill_to: str, exclude: str | None = None) -> dict[str, float]:
	"""Net quantity of each job card row billed to the party: its draft and submitted invoices of
	the job card, less the submitted credit notes against them (those of a rejected warranty
	claim excepted, see the module's docstring). `exclude`: an invoice left out (the one being
	validated)."""
	billed = {}
	for r in frappe.db.sql(
		"""select i.dms_job_card_row row, sum(i.qty) qty
		from `tabSales Invoice Item` i join `tabSales Invoice` si on si.name = i.parent
		where si.dms_service_job_card = %(job_card)s and si.dms_bill_to = %(bill_to)s
			and si.is_return = 0 and si.docstatus < 2 and si.name != %(exclude)s
			and ifnull(i.dms_job_card_row, '') != ''
		group by i.dms_job_card_row""",
		{"job_card": job_card, "bill_to": bill_to, "exclude": exclude or ""},
		as_dict=True,
	):
		billed[r.row] = flt(r.qty)
	for r in frappe.db.sql(
		"""select coalesce(oi.dms_job_card_row, i.dms_job_card_row) row, sum(i.qty) qty
		from `tabSales Invoice Item` i
		join `tabSales Invoice` si on si.name = i.parent
		join `tabSales Invoice` orig on orig.name = si.return_against
		left join `tabSales Invoice Item` oi on oi.name = i.sales_invoice_item and oi.parent = orig.name
		where si.is_return = 1 and si.docstatus = 1 and orig.is_return = 0 and orig.docstatus = 1
			and orig.dms_service_job_card = %(job_card)s and orig.dms_bill_to = %(bill_to)s
			and not exists (select 1 from `tabOEM Warranty Claim` c where c.credit_note = si.name)
		group by 1""",
		{"job_card": job_card, "bill_to": bill_to},
		as_dict=True,
	):
		if r.row:
			billed[r.row] = billed.get(r.row, 0) + flt(r.qty)  # a credit note's quantities are negative
	return billed


def unbilled_lines(job_card: str, bill_to: str, items: list[dict]) -> list[dict]:
	"""Of the party's billable lines, what no invoice bills yet (each for the quantity it lacks)."""
	billed = billed_per_row(job_card, bill_to)
	out = []
	for item in items:
		qty = flt(item["qty"] - billed.get(item["dms_job_card_row"], 0), 4)
		if qty <= 0:
			continue
		item = dict(item, qty=qty)
		if item.get("item_name") and not item.get("warehouse"):  # labour: its hours in the text
			item["description"] = labour_description(item["item_name"], qty)
		out.append(item)
	return out


@frappe.whitelist(methods=["POST"])
def make_invoices(job_card: str) -> dict[str, str]:
	"""Draft Sales Invoices for every bill-to party of the job card; existing ones are returned."""
	if not has_any_role(INVOICE_ROLES):
		frappe.throw(
			_("Only service accountants, advisors and managers invoice job cards."), frappe.PermissionError
		)
	jc = frappe.get_doc("Service Job Card", job_card)
	jc.check_permission("read")
	# the locking read returns the latest committed links, whatever this transaction read before
	# (a plain read after it would still see this transaction's first snapshot: jc's)
	locked = frappe.db.get_value(
		"Service Job Card", job_card, ["status", *BILL_TO_FIELD.values()], as_dict=True, for_update=True
	)
	with memo_scope(INVOICE_JOB_CARD):
		# each invoice's validate checks it against this job card, as this request read it
		scope_memo(INVOICE_JOB_CARD)[jc.name] = jc
		if not can_invoice(jc, locked.status):  # Ready for Pickup, or released without the work
			frappe.throw(
				_("Job card {0} is {1}: invoice it when it is Ready for Pickup (QC passed).").format(
					jc.name, _(locked.status)
				)
			)
		lines = invoice_lines(jc)
		if not lines:
			frappe.throw(_("Nothing on job card {0} is billable.").format(jc.name))
		if jc.discount_status == "Pending Approval":
			frappe.throw(
				_("The {0} % discount on job card {1} waits for approval.").format(
					flt(jc.discount_percentage), jc.name
				)
			)
		check_customer_decided(jc)  # what the customer approved is what is billed (billing/approval.py)
		result = {}
		for bill_to, items in lines.items():
			field = BILL_TO_FIELD[bill_to]
			existing = locked.get(field)
			# a locking read: the invoice as committed, even if made after this transaction began
			status = existing and frappe.db.get_value("Sales Invoice", existing, "docstatus", for_update=True)
			if status == 0:  # the party's draft: as it is
				result[bill_to] = existing
				continue
			items = unbilled_lines(jc.name, bill_to, items)
			if not items:  # billed already, net of credit notes
				if status == 1:
					result[bill_to] = existing
				continue
			invoice = build_invoice(jc, bill_to, items)
			frappe.db.set_value("Service Job Card", jc.name, field, invoice.name, update_modified=False)
			result[bill_to] = invoice.name
		return result


INVOICE_JOB_CARD = "invoice_job_card"


def build_invoice(jc, bill_to: str, items: list[dict]):
	invoice = draft_invoice(jc, bill_to, items)
	invoice.flags.ignore_permissions = True
	invoice.insert()
	return invoice


def draft_invoice(jc, bill_to: str, items: list[dict]):
	"""The party's invoice of these lines, unsaved: what make_invoices inserts, and what
	customer_figures totals for the customer before the invoice exists (one definition)."""
	invoice = frappe.get_doc(
		{
			"doctype": "Sales Invoice",
			"customer": bill_to_party(jc, bill_to),
			"company": jc.company,
			"posting_date": today(),
			"set_posting_time": 0,
			"currency": frappe.get_cached_value("Company", jc.company, "default_currency"),
			"selling_price_list": dealer_price_list(jc.company),
			"ignore_pricing_rule": 1,
			"update_stock": 1 if any(i.get("warehouse") for i in items) else 0,
			"taxes_and_charges": dealer_tax_template(jc.company),
			"dms_service_job_card": jc.name,
			"dms_vehicle": jc.vehicle,
			"dms_odometer": jc.odometer,
			"dms_bill_to": bill_to,
			"remarks": _("Service job card {0}, vehicle {1}").format(jc.name, jc.registration_plate),
			"items": items,
		}
	)
	if bill_to == "Customer" and jc.discount_status == "Approved" and flt(jc.discount_percentage):
		invoice.apply_discount_on = "Net Total"
		invoice.additional_discount_percentage = flt(jc.discount_percentage)
	invoice.append_taxes_from_master()
	return invoice


def customer_bill(jc):
	"""The customer's invoice make_invoices would make now (the Customer lines no invoice bills
	yet: labour as billed, parts as issued net of returns), unsaved and totalled by ERPNext as on
	insert; None when there is nothing to bill the customer."""
	items = unbilled_lines(jc.name, "Customer", invoice_lines(jc).get("Customer") or [])
	if not items:
		return None
	invoice = draft_invoice(jc, "Customer", items)
	invoice.set_missing_values(for_validate=True)
	invoice.calculate_taxes_and_totals()
	return invoice


def validate_sales_invoice(doc, method=None):
	"""doc_events: a service invoice stays the job card's (same dealer, one per party) and keeps
	its labour and parts net amounts for the revenue report."""
	set_service_amounts(doc)
	if doc.is_return:
		return
	if not doc.get("dms_service_job_card"):
		foreign = next((d for d in doc.items if d.get("dms_job_card_row")), None)
		if foreign:
			# a copy of a job card's invoice without its job card would bill the job again unseen
			frappe.throw(
				_(
					"Row {0} bills a line of a service job card: invoice job cards with Make Invoices on the job card."
				).format(foreign.idx),
				frappe.DuplicateEntryError,
			)
		return
	company, status = frappe.db.get_value(
		"Service Job Card", doc.dms_service_job_card, ["company", "status"]
	) or (None, None)
	if company != doc.company:
		frappe.throw(_("Job card {0} belongs to another dealer.").format(doc.dms_service_job_card))
	if doc.dms_bill_to not in BILL_TO_FIELD:
		return  # a re-bill of a rejected warranty claim (billing/doctype/oem_warranty_claim)
	twin = frappe.db.get_value(
		"Sales Invoice",
		{
			"dms_service_job_card": doc.dms_service_job_card,
			"dms_bill_to": doc.dms_bill_to,
			"docstatus": 0,
			"is_return": 0,
			"name": ("!=", doc.name),
		},
	)
	if twin:
		frappe.throw(
			_("Job card {0} already has a draft {1} invoice: {2}.").format(
				doc.dms_service_job_card, _(doc.dms_bill_to), twin
			),
			frappe.DuplicateEntryError,
		)
	jc = (scope_memo(INVOICE_JOB_CARD) or {}).get(doc.dms_service_job_card) or frappe.get_doc(
		"Service Job Card", doc.dms_service_job_card
	)
	validate_agrees_with_job_card(doc, jc)
	validate_terms(doc, jc)
	validate_billed_once(doc, jc)


def tax_rows(rows) -> list[tuple]:
	"""What decides a taxes table's amounts, row by row in order (an Actual row's amount too)."""
	out = []
	for r in rows:
		row = (
			r.get("charge_type"),
			str(r.get("row_id") or ""),
			r.get("account_head"),
			flt(r.get("rate"), 6),
			cint(r.get("included_in_print_rate")),
			cint(r.get("included_in_paid_amount")),
			cint(r.get("dont_recompute_tax")),
		)
		out.append(row + ((flt(r.get("tax_amount"), 2),) if r.get("charge_type") == "Actual" else ()))
	return out


def terms_problems(doc, company: str) -> list[str]:
	"""How a job card's invoice differs from the terms make_invoices gives it (and the estimate
	the customer decided had): the dealer's currency at rate 1, its price list currency too, and
	exactly the dealer's default taxes template, row for row. Empty when it agrees."""
	problems = []
	currency = frappe.get_cached_value("Company", company, "default_currency")
	if doc.get("currency") != currency or flt(doc.get("conversion_rate")) != 1:
		problems.append(
			_("it is in {0} at conversion rate {1}; a job card's invoice is in {2} at rate 1.").format(
				doc.get("currency"), flt(doc.get("conversion_rate")), currency
			)
		)
	plc = doc.get("price_list_currency")
	if (plc and plc != currency) or (plc and flt(doc.get("plc_conversion_rate")) != 1):
		problems.append(
			_("its price list currency is {0} at rate {1}; it must be {2} at rate 1.").format(
				plc, flt(doc.get("plc_conversion_rate")), currency
			)
		)
	template = dealer_tax_template(company)
	if (doc.get("taxes_and_charges") or None) != (template or None):
		problems.append(
			_("its taxes template is {0}; the dealer's is {1}.").format(
				doc.get("taxes_and_charges") or _("none"), template or _("none")
			)
		)
	expected = (
		tax_rows(frappe.get_doc("Sales Taxes and Charges Template", template).taxes) if template else []
	)
	if tax_rows(doc.get("taxes") or []) != expected:
		problems.append(
			_(
				"its taxes and charges are not the dealer's template {0} as it is (no row added, removed, reordered or changed)."
			).format(template or _("none"))
		)
	return problems


def validate_terms(doc, jc):
	"""A job card's invoice is in the dealer's currency, with the dealer's taxes exactly: what the
	customer decided on (the estimate has the same terms), so its totals are the decision's."""
	problems = terms_problems(doc, jc.company)
	if problems:
		frappe.throw(
			_("Job card {0}'s {1} invoice: {2}").format(jc.name, _(doc.dms_bill_to), " ".join(problems)),
			title=_("Invoice terms"),
		)


def validate_agrees_with_job_card(doc, jc):
	"""A job card's invoice bills what the job card says, on every save and on submit, whoever
	edits the draft: its party, only the job card's own lines of that party, each at the line's
	rate (the one the customer decided on), and the job card's approved discount and no other.
	(Quantities: validate_billed_once.)"""
	party = bill_to_party(jc, doc.dms_bill_to)
	if doc.customer != party:
		frappe.throw(
			_("Job card {0}'s {1} invoice is billed to {2}, not to {3}.").format(
				jc.name, _(doc.dms_bill_to), party, doc.customer
			)
		)
	billable = {i["dms_job_card_row"]: i for i in invoice_lines(jc).get(doc.dms_bill_to, [])}
	for d in doc.items:
		line = billable.get(d.get("dms_job_card_row"))
		if not line:
			frappe.throw(
				_(
					"Row {0}: {1} is not a billable {2} line of job card {3}; a job card's invoice bills only its lines (a line the customer declined is not billable)."
				).format(d.idx, d.item_code, _(doc.dms_bill_to), jc.name)
			)
		if abs(flt(d.rate) - flt(line["rate"])) >= 0.005:
			frappe.throw(
				_(
					"Row {0}: {1} is billed at {2}; job card {3} (what the customer decided on) says {4}."
				).format(d.idx, d.item_code, flt(d.rate), jc.name, flt(line["rate"]))
			)
	discount = (
		flt(jc.discount_percentage)
		if doc.dms_bill_to == "Customer" and jc.discount_status == "Approved"
		else 0.0
	)
	given = flt(doc.additional_discount_percentage)
	if abs(given - discount) >= 0.005 or (not given and flt(doc.discount_amount)):
		frappe.throw(
			_(
				"Job card {0}'s {1} invoice may carry only the job card's approved discount ({2} %), not {3}."
			).format(
				jc.name, _(doc.dms_bill_to), discount, f"{given} %" if given else flt(doc.discount_amount)
			)
		)


def validate_billed_once(doc, jc):
	"""Each line of the job card `jc` (the invoice's, as stored) is billed to its party at most for
	its billable quantity, over all the party's invoices net of credit notes."""
	rows = [d for d in doc.items if d.get("dms_job_card_row")]
	if not rows:
		return
	billable = {i["dms_job_card_row"]: i for i in invoice_lines(jc).get(doc.dms_bill_to, [])}
	qty = {}
	for d in rows:
		line = billable.get(d.dms_job_card_row)
		if not line or line["item_code"] != d.item_code:
			frappe.throw(
				_("Row {0}: job card {1} has no billable {2} line of {3} to bill.").format(
					d.idx, jc.name, _(doc.dms_bill_to), d.item_code
				)
			)
		qty[d.dms_job_card_row] = qty.get(d.dms_job_card_row, 0) + flt(d.qty)
	billed = billed_per_row(jc.name, doc.dms_bill_to, exclude=doc.name)
	for row, q in qty.items():
		line = billable[row]
		already = billed.get(row, 0)
		if flt(already + q, 4) > flt(line["qty"], 4):
			frappe.throw(
				_("{0} on job card {1}: {2} of {3} are billed already; this invoice bills {4} more.").format(
					line["item_code"], jc.name, f"{already:g}", f"{flt(line['qty']):g}", f"{q:g}"
				),
				frappe.DuplicateEntryError,
			)


def set_service_amounts(doc):
	"""Labour and parts net amounts (company currency; negative on a credit note), after ERPNext
	has computed the lines' net amounts."""
	labour = parts = 0.0
	if doc.get("dms_service_job_card"):
		kinds = dict(
			frappe.get_all(
				"Item",
				filters={"name": ("in", list({d.item_code for d in doc.items}) or [""])},
				fields=["name", "dms_item_kind"],
				as_list=True,
			)
		)
		for d in doc.items:
			if kinds.get(d.item_code) == "Labour":
				labour += flt(d.base_net_amount)
			elif kinds.get(d.item_code) == "Part":
				parts += flt(d.base_net_amount)
	doc.dms_labour_amount = flt(labour, doc.precision("base_net_total"))
	doc.dms_parts_amount = flt(parts, doc.precision("base_net_total"))


def customer_billing(job_card: str) -> dict[str, float]:
	"""Invoiced, paid and outstanding of the job card's customer-pay invoices (all of them, net
	of the credit notes against them), from ERPNext's own figures."""
	invoices = frappe.get_all(
		"Sales Invoice",
		filters={
			"dms_service_job_card": job_card,
			"dms_bill_to": "Customer",
			"docstatus": 1,
			"is_return": 0,
		},
		fields=["name", "rounded_total", "grand_total", "outstanding_amount"],
	)
	if invoices:
		invoices += frappe.get_all(
			"Sales Invoice",
			filters={
				"return_against": ("in", [i.name for i in invoices]),
				"docstatus": 1,
				"is_return": 1,
			},
			fields=["name", "rounded_total", "grand_total", "outstanding_amount"],
		)
	total = sum(customer_figures.payable(i) for i in invoices)
	outstanding = sum(flt(i.outstanding_amount) for i in invoices)
	return {
		"invoiced_amount": total,
		"paid_amount": total - outstanding,
		"outstanding_amount": outstanding,
	}


def update_job_card_billing(job_card: str):
	"""Invoiced, paid and outstanding of the customer-pay invoices, on the job card."""
	frappe.db.set_value("Service Job Card", job_card, customer_billing(job_card), update_modified=False)


def on_sales_invoice_change(doc, method=None):
	"""doc_events (Sales Invoice submit/cancel)."""
	if doc.get("dms_service_job_card"):
		update_job_card_billing(doc.dms_service_job_card)
	if doc.is_return and doc.return_against:
		job_card = frappe.db.get_value("Sales Invoice", doc.return_against, "dms_service_job_card")
		if job_card:
			update_job_card_billing(job_card)


def on_payment_change(doc, method=None):
	"""doc_events (Payment Entry submit/cancel): refresh the job cards of the invoices it pays."""
	invoices = [
		r.reference_name for r in doc.get("references") or [] if r.reference_doctype == "Sales Invoice"
	]
	if not invoices:
		return
	for job_card in set(
		frappe.get_all(
			"Sales Invoice",
			filters={"name": ("in", invoices), "dms_service_job_card": ("is", "set")},
			pluck="dms_service_job_card",
		)
	):
		update_job_card_billing(job_card)


@frappe.whitelist(methods=["POST"])
def record_credit_override(job_card: str, reason: str):
	"""Let a vehicle leave with the customer's invoice unpaid: who, when and why are recorded."""
	if not has_any_role(CREDIT_RELEASE_ROLES):
		frappe.throw(
			_("Only a Service Accountant or Workshop Manager can release a vehicle on credit."),
			frappe.PermissionError,
		)
	jc = frappe.get_doc("Service Job Card", job_card)
	jc.check_permission("read")
	lock_document(jc, check="read")
	if jc.status != "Ready for Pickup":
		frappe.throw(
			_("Job card {0} is {1}: only a vehicle ready for pickup is released on credit.").format(
				jc.name, _(jc.status)
			)
		)
	if jc.credit_override_by:
		frappe.throw(_("Job card {0} is already released on credit.").format(jc.name))
	reason = (reason or "").strip()
	if len(reason) < 5:
		frappe.throw(_("Give the reason for releasing the vehicle on credit."))
	frappe.db.set_value(
		"Service Job Card",
		jc.name,
		{"credit_override_by": frappe.session.user, "credit_override_reason": reason},
	)
	jc.add_comment("Info", _("Released on credit by {0}: {1}").format(frappe.session.user, reason))


def check_deliverable(jc):
	"""Gate pass: every party's invoice is submitted; the customer's is paid unless released on credit."""
	lines = invoice_lines(jc)
	if not lines:
		return
	for bill_to in lines:
		invoice = jc.get(BILL_TO_FIELD[bill_to])
		if not invoice or frappe.db.get_value("Sales Invoice", invoice, "docstatus") != 1:
			return _("Submit the {0} invoice of this job card before delivering the vehicle.").format(
				_(bill_to)
			)
		if unbilled_lines(jc.name, bill_to, lines[bill_to]):
			return _(
				"Part of this job card's {0} work is not invoiced (a credit note?): make the invoices again."
			).format(_(bill_to))
	if "Customer" in lines and not jc.credit_override_by:
		outstanding = customer_billing(jc.name)["outstanding_amount"]
		if outstanding > 0:
			return _(
				"The customer still owes {0} on invoice {1}: take the payment or release on credit."
			).format(
				frappe.format_value(outstanding, {"fieldtype": "Currency", "options": "currency"}, jc),
				jc.customer_invoice,
			)


def on_delivered(jc):
	"""The vehicle leaves (hooks.dms_job_card_delivered, first): stamp the job card and the
	vehicle's service record; the feedback link and the next service date follow
	(delivery/feedback.py, next in the hook)."""
	jc.delivered_on = now_datetime()
	vehicle = frappe.db.get_value("Customer Vehicle", jc.vehicle, ["current_odometer"], as_dict=True)
	if vehicle:
		frappe.db.set_value(
			"Customer Vehicle",
			jc.vehicle,
			{
				"last_service_date": today(),
				"current_odometer": max(int(vehicle.current_odometer or 0), int(jc.odometer or 0)),
			},
		)
