"""The money and stock invariants every dealer relies on (issue #19), as checks on one job card.

Each check reads the server's own records (the job card, its estimate, Sales Invoices and credit
notes, their GL Entries, the Stock Ledger Entries of its Stock Entries) and returns what is wrong
as `Violation`s, each tagged with its invariant:

1. approved = billed (`decision`): a customer-paid line keeps a decision only while it is what
   the customer decided (item, quantity or hours, rate), and (`discount`) at the discount the
   customer saw; no Ready for Pickup, delivery or customer invoice while a customer-paid line is
   undecided (`undecided`); per payer the job's invoices add up to its decided lines (`billed`).
   The general ledger (`ledger`): each invoice and credit note balances, the income booked per
   payer is what the invoices bill, and on delivery what the decided lines come to.
2. billed once per payer (`billed`): no line is billed beyond what is billable (net of credit
   notes), nor to another payer, nor at another rate, nor when declined.
3. issued = billed per line (`stock`): the stock ledger of the job's Stock Entries (its WIP
   warehouse) equals, per item, the issued-and-not-returned quantities of its part lines, and no
   line shows more issued than its quantity.
4. one rounding (`figures`): the decision's answer, the SMS and the invoice agree to the paisa;
   (`discount`) the approval page says what the estimate says.
5. limits hold on every save (`limit`): no customer-paid line below its price, with the job
   card's approved discount on top, beyond the discount limit of the user who last set it or of
   the one who approved the discount; a warranty line is at the OEM's price, an internal one at
   most at the internal customer's (`covered`).
6. every job has a way forward (`stuck`); delivered and cancelled job cards do not change
   (`final`).

The stateful test (test_stateful_invariants.py) runs them after every step; the regression tests
(test_stateful_regressions.py) after the steps of a sequence it found.
"""

import dataclasses

import frappe
from frappe.utils import flt

from aftersales_dms.billing import customer_figures
from aftersales_dms.billing.discount import given_on_line, user_limit
from aftersales_dms.controllers.dealer import get_workshop_settings
from aftersales_dms.controllers.pricing import price_item

EPS = 0.005
DECIDED = ("Approved", "Declined")
FINAL = ("Delivered", "Cancelled", "Released")
# statuses in which the vehicle waits for its owner or has gone: the customer's part is decided
BILLING = ("Ready for Pickup", "Delivered")


@dataclasses.dataclass
class Violation:
	invariant: str  # decision, undecided, billed, stock, figures, limit, stuck, final
	message: str

	def __str__(self):
		return f"[{self.invariant}] {self.message}"


@dataclasses.dataclass
class Observed:
	"""What the test saw happen, which the records alone do not say."""

	# job card row → (item, qty or hours, rate) the customer saw when deciding it
	decided: dict = dataclasses.field(default_factory=dict)
	decided_discount: float | None = None
	decided_estimate: str | None = None  # the estimate the customer decided on
	decide_figure: float | None = None  # what the decision's answer said the customer pays
	sms_figure: float | None = None  # the amount in the Ready for Pickup SMS
	setter: dict = dataclasses.field(default_factory=dict)  # row → user who last set its price
	final: dict | None = None  # the job card as it was when it reached a final status


def is_customer(row) -> bool:
	return not customer_figures.is_covered(row)


def line_qty(row) -> float:
	return flt(row.standard_hours) if row.doctype == "Service Job Card Labour" else flt(row.qty)


def part_net(row) -> float:
	"""Issued and not returned, per part line (a returned_qty of its own once lines keep it)."""
	return flt(row.issued_qty) - flt(row.get("returned_qty"))


def effective_discount(jc) -> float:
	return flt(jc.discount_percentage) if jc.discount_status == "Approved" else 0.0


# ---- 1. approved = billed
def check_decisions(jc, seen: Observed) -> list[Violation]:
	out = []
	decided_lines = []
	for row in customer_figures.job_lines(jc):
		if not is_customer(row) or row.customer_decision not in DECIDED:
			continue
		decided_lines.append(row)
		now = (row.item_code, line_qty(row), flt(row.rate))
		then = seen.decided.get(row.name)
		if then is None:
			out.append(
				Violation(
					"decision",
					f"{row.doctype} row {row.idx} ({row.item_code}) is {row.customer_decision} for the "
					"customer, who never decided it (it was not theirs to pay when they decided)",
				)
			)
		elif (then[0], flt(then[1]), flt(then[2])) != now:
			out.append(
				Violation(
					# the decision left on a line by a new estimate (not yet sent) is its own finding
					"new-estimate" if jc.estimate != seen.decided_estimate else "decision",
					f"{row.doctype} row {row.idx} is still {row.customer_decision} although it changed "
					f"after the customer's decision: decided {then}, now {now}",
				)
			)
	if decided_lines and seen.decided_discount is not None:
		if abs(effective_discount(jc) - flt(seen.decided_discount)) > EPS:
			out.append(
				Violation(
					"discount",
					f"the discount is {effective_discount(jc)} % but the customer decided at "
					f"{seen.decided_discount} %, and their lines are still decided",
				)
			)
	return out


def live_customer_invoice(jc) -> str | None:
	inv = jc.customer_invoice
	if inv and frappe.db.get_value("Sales Invoice", inv, "docstatus") in (0, 1):
		return inv
	return None


def check_undecided(jc) -> list[Violation]:
	invoice = live_customer_invoice(jc)
	if jc.status not in BILLING and not invoice:
		return []
	undecided = [
		f"{r.item_code} (row {r.idx})"
		for r in customer_figures.job_lines(jc)
		if is_customer(r) and r.customer_decision not in DECIDED
	]
	if not undecided:
		return []
	where = f"is {jc.status}" + (f" and has customer invoice {invoice}" if invoice else "")
	return [
		Violation(
			"undecided",
			f"the job card {where} while customer-paid lines are undecided: {', '.join(undecided)}",
		)
	]


def billable(jc) -> dict[str, dict]:
	"""What each line may be billed: row → {payer, qty, rate}; declined lines and nothing to
	bill left out."""
	settings = get_workshop_settings(jc.company)
	by_clock = (settings.labour_billing or "Sold Hours") == "Clocked Hours"
	out = {}
	for row in jc.labour:
		if row.customer_decision == "Declined":
			continue
		qty = flt(row.clocked_hours if by_clock else row.standard_hours, 2)
		if qty > 0:
			out[row.name] = {"payer": row.bill_to or "Customer", "qty": qty, "rate": flt(row.rate)}
	for row in jc.parts:
		qty = part_net(row)
		if row.customer_decision == "Declined" or qty <= 0:
			continue
		out[row.name] = {"payer": row.bill_to or "Customer", "qty": qty, "rate": flt(row.rate)}
	return out


def billed(job_card: str, drafts: bool = False) -> dict[tuple, dict]:
	"""(payer, row) → {qty, amount, rates} over the job's submitted invoices (and drafts if asked),
	net of submitted credit notes against them."""
	invoices = frappe.get_all(
		"Sales Invoice",
		filters={
			"dms_service_job_card": job_card,
			"is_return": 0,
			"docstatus": ("in", (0, 1) if drafts else (1,)),
		},
		fields=["name", "dms_bill_to"],
	)
	payer = {i.name: i.dms_bill_to for i in invoices}
	if not payer:
		return {}
	credit = frappe.get_all(
		"Sales Invoice",
		filters={"return_against": ("in", list(payer)), "is_return": 1, "docstatus": 1},
		fields=["name", "return_against"],
	)
	payer.update({c.name: payer[c.return_against] for c in credit})
	out = {}
	for item in frappe.get_all(
		"Sales Invoice Item",
		filters={"parent": ("in", list(payer)), "parenttype": "Sales Invoice"},
		fields=["parent", "dms_job_card_row", "item_code", "qty", "rate", "amount"],
	):
		key = (payer[item.parent], item.dms_job_card_row or f"?{item.item_code}")
		line = out.setdefault(key, {"qty": 0.0, "amount": 0.0, "rates": set()})
		line["qty"] += flt(item.qty)
		line["amount"] += flt(item.amount)
		line["rates"].add(flt(item.rate))
	return out


def check_billed(jc, complete: bool = False, drafts: bool = False) -> list[Violation]:
	"""No line billed beyond what is billable (always); with `complete`, every billable line billed
	exactly (right after invoices are made, and on delivery)."""
	out = []
	want = billable(jc)
	rows = {r.name: r for r in customer_figures.job_lines(jc)}
	got = billed(jc.name, drafts=drafts)
	for (payer, name), line in sorted(got.items()):
		if abs(line["qty"]) < EPS:
			continue
		row = rows.get(name)
		label = f"{row.item_code} (row {row.idx})" if row else name
		expected = want.get(name)
		if row is None:
			out.append(Violation("billed", f"{payer} is billed {line['qty']:g} of {label}, not on the job"))
		elif expected is None:
			out.append(
				Violation(
					"billed",
					f"{payer} is billed {line['qty']:g} of {label}, which has nothing to bill "
					f"({row.customer_decision or 'undecided'}, {flt(row.get('issued_qty')):g} issued)",
				)
			)
		elif expected["payer"] != payer:
			out.append(
				Violation("billed", f"{label} is billed to {payer} but is now {expected['payer']}'s line")
			)
		elif line["qty"] > expected["qty"] + EPS:
			out.append(
				Violation(
					"billed",
					f"{payer} is billed {line['qty']:g} of {label}; only {expected['qty']:g} is billable",
				)
			)
		elif line["rates"] - {0.0} and any(abs(r - expected["rate"]) > EPS for r in line["rates"] - {0.0}):
			out.append(
				Violation(
					"billed",
					f"{label} is billed at {sorted(line['rates'])}; the line's rate is {expected['rate']}",
				)
			)
	if complete:
		for name, expected in want.items():
			line = got.get((expected["payer"], name))
			qty = line["qty"] if line else 0
			if abs(qty - expected["qty"]) > EPS:
				row = rows[name]
				out.append(
					Violation(
						"billed",
						f"{expected['payer']} invoices bill {qty:g} of {row.item_code} (row {row.idx}); "
						f"{expected['qty']:g} is billable",
					)
				)
	return out + check_invoice_terms(jc)


def check_invoice_terms(jc) -> list[Violation]:
	"""Every invoice of the job card is in the dealer's currency at rate 1 and carries the dealer's
	default taxes template's rows as they are (what the customer's decision was priced with)."""
	out = []
	currency = frappe.get_cached_value("Company", jc.company, "default_currency")
	template = frappe.db.get_value(
		"Sales Taxes and Charges Template", {"company": jc.company, "is_default": 1, "disabled": 0}
	)
	fields = ["charge_type", "row_id", "account_head", "rate", "tax_amount", "included_in_print_rate"]
	want = [
		(r.charge_type, r.row_id or "", r.account_head, flt(r.rate), r.included_in_print_rate)
		+ ((flt(r.tax_amount, 2),) if r.charge_type == "Actual" else ())
		for r in frappe.get_all(
			"Sales Taxes and Charges",
			filters={"parent": template, "parenttype": "Sales Taxes and Charges Template"},
			fields=fields,
			order_by="idx",
		)
	]
	for inv in frappe.get_all(
		"Sales Invoice",
		filters={"dms_service_job_card": jc.name, "is_return": 0, "docstatus": ("<", 2)},
		fields=["name", "currency", "conversion_rate", "taxes_and_charges"],
	):
		got = [
			(r.charge_type, r.row_id or "", r.account_head, flt(r.rate), r.included_in_print_rate)
			+ ((flt(r.tax_amount, 2),) if r.charge_type == "Actual" else ())
			for r in frappe.get_all(
				"Sales Taxes and Charges",
				filters={"parent": inv.name, "parenttype": "Sales Invoice"},
				fields=fields,
				order_by="idx",
			)
		]
		if inv.currency != currency or flt(inv.conversion_rate) != 1:
			out.append(
				Violation(
					"billed",
					f"{inv.name} is in {inv.currency} at {flt(inv.conversion_rate)}, not {currency} at 1",
				)
			)
		if inv.taxes_and_charges != template or got != want:
			out.append(Violation("billed", f"{inv.name}'s taxes are not the dealer's template {template}"))
	return out


def credited(job_card: str) -> bool:
	"""Whether a submitted credit note stands against one of the job's invoices (a goodwill
	credit may leave its invoices short of the decided lines)."""
	invoices = frappe.get_all("Sales Invoice", filters={"dms_service_job_card": job_card}, pluck="name")
	return bool(
		invoices and frappe.db.exists("Sales Invoice", {"return_against": ("in", invoices), "docstatus": 1})
	)


def check_ledger(jc, complete: bool = False) -> list[Violation]:
	"""The general ledger of the job's submitted invoices and credit notes: each voucher balances,
	and the income booked per payer is what its invoices bill (net of discount and credit notes);
	with `complete`, what its decided lines come to."""
	out = []
	invoices = frappe.get_all(
		"Sales Invoice",
		filters={"dms_service_job_card": jc.name, "docstatus": 1, "is_return": 0},
		fields=["name", "dms_bill_to", "base_net_total"],
	)
	if not invoices:
		return out
	credit = frappe.get_all(
		"Sales Invoice",
		filters={"return_against": ("in", [i.name for i in invoices]), "is_return": 1, "docstatus": 1},
		fields=["name", "return_against", "base_net_total"],
	)
	payer = {i.name: i.dms_bill_to for i in invoices}
	payer.update({c.name: payer[c.return_against] for c in credit})
	billed_net, income = {}, {}
	for doc in [*invoices, *credit]:
		billed_net[payer[doc.name]] = billed_net.get(payer[doc.name], 0) + flt(doc.base_net_total)
	for entry in frappe.db.sql(
		"""select gle.voucher_no, gle.debit, gle.credit, acc.root_type
		from `tabGL Entry` gle join `tabAccount` acc on acc.name = gle.account
		where gle.voucher_type = 'Sales Invoice' and gle.voucher_no in %s and gle.is_cancelled = 0""",
		(tuple(payer),),
		as_dict=True,
	):
		balance = income.setdefault(("balance", entry.voucher_no), 0.0)
		income[("balance", entry.voucher_no)] = balance + flt(entry.debit) - flt(entry.credit)
		if entry.root_type == "Income":
			key = payer[entry.voucher_no]
			income[key] = income.get(key, 0) + flt(entry.credit) - flt(entry.debit)
	for voucher in payer:
		if abs(income.get(("balance", voucher), 0)) > EPS:
			out.append(Violation("ledger", f"the GL of {voucher} does not balance"))
	want = {}
	if complete:
		discount = effective_discount(jc)
		for line in billable(jc).values():
			amount = line["qty"] * line["rate"]
			if line["payer"] == "Customer":
				amount *= 1 - discount / 100
			want[line["payer"]] = want.get(line["payer"], 0) + amount
	for key in sorted(set(billed_net) | set(want)):
		booked = income.get(key, 0)
		if abs(booked - billed_net.get(key, 0)) > 0.05:
			out.append(
				Violation(
					"ledger",
					f"{key}: the GL books {booked:.2f} income, its invoices bill {billed_net.get(key, 0):.2f}",
				)
			)
		if complete and abs(booked - want.get(key, 0)) > 0.05:
			out.append(
				Violation(
					"ledger",
					f"{key}: the GL books {booked:.2f} income, its decided lines come to {want.get(key, 0):.2f}",
				)
			)
	return out


# ---- 3. issued = billed = stock ledger
def stock_ledger(jc) -> dict[str, float]:
	"""Per item, what the job's Stock Entries moved into (less out of) its WIP warehouse."""
	wip = get_workshop_settings(jc.company).wip_warehouse
	rows = frappe.db.sql(
		"""select sle.item_code, sum(sle.actual_qty) qty
		from `tabStock Ledger Entry` sle join `tabStock Entry` se on se.name = sle.voucher_no
		where sle.voucher_type = 'Stock Entry' and sle.is_cancelled = 0 and se.docstatus = 1
			and se.dms_service_job_card = %s and sle.warehouse = %s
		group by sle.item_code""",
		(jc.name, wip),
		as_dict=True,
	)
	return {r.item_code: flt(r.qty) for r in rows if abs(flt(r.qty)) > EPS}


def check_stock(jc) -> list[Violation]:
	out = []
	lines = {}
	for row in jc.parts:
		net = part_net(row)
		lines[row.item_code] = lines.get(row.item_code, 0) + net
		if net < -EPS or net > flt(row.qty) + EPS:
			out.append(
				Violation(
					"stock",
					f"part row {row.idx} ({row.item_code}, qty {flt(row.qty):g}) shows {net:g} issued",
				)
			)
	ledger = stock_ledger(jc)
	for item in sorted(set(ledger) | {i for i, q in lines.items() if abs(q) > EPS}):
		if abs(ledger.get(item, 0) - lines.get(item, 0)) > EPS:
			out.append(
				Violation(
					"stock",
					f"{item}: the stock ledger has {ledger.get(item, 0):g} in the job's WIP, its part "
					f"lines say {lines.get(item, 0):g} issued and not returned",
				)
			)
	return out + check_nothing_issued_after_the_end(jc)


def check_nothing_issued_after_the_end(jc) -> list[Violation]:
	"""No part goes to a job that is over: no Stock Entry of the job moves stock into its WIP
	after it entered its final status (returns, out of the WIP, may follow)."""
	if jc.status not in FINAL:
		return []
	ended = max((r.changed_on for r in jc.status_log if r.to_status == jc.status), default=None)
	if not ended:
		return []
	wip = get_workshop_settings(jc.company).wip_warehouse
	late = frappe.db.sql(
		"""select distinct se.name from `tabStock Entry` se
		join `tabStock Entry Detail` d on d.parent = se.name
		where se.dms_service_job_card = %s and se.docstatus = 1 and d.t_warehouse = %s
			and se.creation > %s""",
		(jc.name, wip, ended),
		pluck=True,
	)
	return [Violation("stock", f"{name} issued parts to the job after it was {jc.status}") for name in late]


# ---- 4. one rounding
def invoice_matches_decision(jc, invoice, seen: Observed) -> bool:
	"""The customer invoice bills exactly the lines the customer approved, as they decided them."""
	approved = {
		name: v
		for name, v in seen.decided.items()
		if any(r.name == name and r.customer_decision == "Approved" for r in customer_figures.job_lines(jc))
	}
	items = {i.dms_job_card_row: (i.item_code, flt(i.qty), flt(i.rate)) for i in invoice.items}
	return (
		len(items) == len(invoice.items)
		and items == {k: (v[0], flt(v[1]), flt(v[2])) for k, v in approved.items()}
		and abs(flt(invoice.additional_discount_percentage) - flt(seen.decided_discount)) < EPS
	)


def check_figures(jc, seen: Observed) -> list[Violation]:
	invoice = live_customer_invoice(jc)
	if not invoice or seen.decide_figure is None:
		return []
	inv = frappe.get_doc("Sales Invoice", invoice)
	if not invoice_matches_decision(jc, inv, seen):
		return []  # billed other than decided (issued less, clocked hours): the figures may differ
	out = []
	owed = customer_figures.payable(inv)
	if abs(owed - flt(seen.decide_figure)) > EPS:
		out.append(
			Violation(
				"figures",
				f"the customer was told {seen.decide_figure} when deciding; invoice {invoice} for "
				f"exactly those lines says {owed}",
			)
		)
	if seen.sms_figure is not None and abs(owed - flt(seen.sms_figure)) > EPS:
		out.append(
			Violation(
				"figures",
				f"the Ready for Pickup SMS said {seen.sms_figure}; invoice {invoice} says {owed}",
			)
		)
	return out


# ---- 5. limits
def check_limits(jc, seen: Observed) -> list[Violation]:
	out = []
	discount = effective_discount(jc)
	for row in customer_figures.job_lines(jc):
		if not is_customer(row):
			out += check_covered(jc, row)
			continue
		if not flt(row.rate):
			continue
		price = price_item(row.item_code, jc.company, jc.customer, line_qty(row) or 1)
		if not price.price_list_rate or given_on_line(row.rate, price.rate, discount) <= 0:
			continue
		given = given_on_line(row.rate, price.rate, discount)
		user = seen.setter.get(row.name) or jc.owner
		limit = max(user_limit(user), user_limit(jc.discount_approved_by) if discount else 0)
		if given > limit + EPS:
			out.append(
				Violation(
					"limit",
					f"{row.doctype} row {row.idx} ({row.item_code}) is billed to the customer at "
					f"{flt(row.rate)} with a {discount} % discount, {given} % below its price of "
					f"{flt(price.rate)}; {user}'s limit is {user_limit(user)} %, the discount's "
					f"approver {jc.discount_approved_by}'s {limit} %",
				)
			)
	return out


def check_covered(jc, row) -> list[Violation]:
	"""A warranty line is at the OEM's price, an internal one at most at the internal customer's."""
	settings = get_workshop_settings(jc.company)
	party = settings.oem_customer if row.bill_to == "Warranty" else settings.internal_customer
	price = price_item(row.item_code, jc.company, party, line_qty(row) or 1)
	rate, allowed = flt(row.rate), flt(price.rate)
	if (row.bill_to == "Warranty" and abs(rate - allowed) > EPS) or rate > allowed + EPS:
		return [
			Violation(
				"covered",
				f"{row.doctype} row {row.idx} ({row.item_code}) is billed to {party} ({row.bill_to}) "
				f"at {rate}; its price for {party} is {allowed}",
			)
		]
	return []


# ---- 6. final states and a way forward
def final_snapshot(jc) -> dict:
	return {
		"status": jc.status,
		"discount": (flt(jc.discount_percentage), jc.discount_status),
		"estimate": jc.estimate,
		"invoices": (jc.customer_invoice, jc.warranty_invoice, jc.internal_invoice),
		"labour": [
			(r.name, r.item_code, flt(r.standard_hours), flt(r.rate), r.bill_to, r.customer_decision)
			for r in jc.labour
		],
		"parts": [
			(r.name, r.item_code, flt(r.qty), flt(r.rate), r.bill_to, r.customer_decision, part_net(r))
			for r in jc.parts
		],
		"time_logs": [(t.name, str(t.from_time), str(t.to_time)) for t in jc.time_logs],
	}


def check_final(jc, seen: Observed) -> list[Violation]:
	if seen.final is None:
		return []
	now = final_snapshot(jc)
	changed = [k for k in now if now[k] != seen.final[k]]
	if not changed:
		return []
	return [
		Violation(
			"final",
			f"the job card was {seen.final['status']} and changed since: "
			+ "; ".join(f"{k}: {seen.final[k]} -> {now[k]}" for k in changed),
		)
	]


def whitelisted(path: str):
	"""The function the desk and REST reach under a whitelisted path (hooks'
	override_whitelisted_methods applied)."""
	overrides = frappe.get_hooks("override_whitelisted_methods") or {}
	return frappe.get_attr((overrides.get(path) or [path])[-1])


def get_transitions(jc) -> list[dict]:
	"""The workflow actions the session user has on the job card, as the form's Actions menu
	gets them."""
	return whitelisted("frappe.model.workflow.get_transitions")(jc)


def check_way_forward(jc, staff: list[str]) -> list[Violation]:
	"""Someone of the dealer's staff has a workflow action on the job, unless it is over (or the
	system moves it: Waiting for Parts resumes when the stock comes)."""
	if jc.status in FINAL or jc.status == "Waiting for Parts":
		return []
	current = frappe.session.user
	try:
		for user in staff:
			frappe.set_user(user)
			try:
				if get_transitions(jc):
					return []
			except frappe.PermissionError:
				continue  # not theirs to read
	finally:
		frappe.set_user(current)
	return [
		Violation(
			"stuck",
			f"no one of the dealer's staff ({', '.join(staff)}) has an action on the job card in {jc.status}",
		)
	]


def check_all(job_card: str, seen: Observed, staff: list[str]) -> list[Violation]:
	"""Every invariant that holds whatever was done last (read as Administrator: the records)."""
	jc = frappe.get_doc("Service Job Card", job_card)
	return [
		*check_decisions(jc, seen),
		*check_undecided(jc),
		*check_billed(jc, complete=jc.status == "Delivered" and seen.final is None and not credited(jc.name)),
		*check_ledger(jc, complete=jc.status == "Delivered" and seen.final is None and not credited(jc.name)),
		*check_stock(jc),
		*check_figures(jc, seen),
		*check_limits(jc, seen),
		*check_final(jc, seen),
		*check_way_forward(jc, staff),
	]
