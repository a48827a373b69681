"""A stateful property-based test of the money and stock invariants (issue #19).

A Hypothesis RuleBasedStateMachine drives random sequences of what the dealership's roles do to
one job card — add, edit, remove and re-price lines, switch payers, discount and approve the
discount, make estimates and approval links, decide per line on the customer's page (as Guest),
request, issue, return and receive parts (two lines of one item among them), clock, pass and fail
QC, every workflow action, invoice, pay, credit and cancel invoices, release on credit — through
the methods the desk and REST call, each as the demo user of its role at one of the two demo
dealers (Pune, Nashik), on the real site. After every step it checks every invariant
(`aftersales_dms/tests/invariants.py`); a failing sequence is shrunk and printed, then kept as an
ordinary test in test_stateful_regressions.py.

Each step runs like a request: inside a savepoint, rolled back when the server refuses it. Each
example (one job card) is rolled back to a savepoint at its end, so examples are independent.

Budget: DMS_STATEFUL_EXAMPLES (default 5) examples of at most DMS_STATEFUL_STEPS (default 35)
steps, about 2-3 minutes on 2 cores; e.g. DMS_STATEFUL_EXAMPLES=500 runs it long. It prints
"stateful: N examples, M steps".

Invariants whose fix has not landed yet are reported but not failed on (KNOWN_BROKEN: each with
how the test recognises the fix); DMS_STATEFUL_STRICT=1 fails on them too, and
DMS_STATEFUL_SKIP=stuck,figures (invariant tags) leaves some out while hunting for others.
"""

import os
import re
from datetime import date

import frappe
import pytest
from frappe.utils import flt
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
	RuleBasedStateMachine,
	initialize,
	invariant,
	precondition,
	rule,
	run_state_machine_as_test,
)

from aftersales_dms.billing import customer_figures
from aftersales_dms.controllers.dealer import get_workshop_settings
from aftersales_dms.tests import invariants
from aftersales_dms.tests.invariants import Observed, Violation

DEALERS = {
	"Orion Motors Pune": {
		"advisor": "advisor@omp.example",
		"manager": "manager@omp.example",
		"parts": "parts@omp.example",
		"qc": "qc@omp.example",
		"accounts": "accounts@omp.example",
		"tech": "tech.amit@omp.example",
		"vehicle": "MA1TA2XX6GH123456",
	},
	"Orion Motors Nashik": {
		"advisor": "advisor@omn.example",
		"manager": "manager@omn.example",
		"parts": "parts@omn.example",
		"qc": None,  # the Nashik dealer has no Quality Supervisor
		"accounts": "accounts@omn.example",
		"tech": "tech.deepak@omn.example",
		"vehicle": "MAT4XXXX0HL654321",
	},
}
LABOUR = ("LAB-PMS-CAR", "LAB-DIAG", "LAB-BATTERY")
PARTS = ("PRT-OIL-FILTER-C", "PRT-SPARK-PLUG", "PRT-COOLANT-1L")  # coolant: none in stock
PAYERS = ("Customer", "Customer", "Warranty", "Internal")
REFUSED = (frappe.ValidationError, frappe.PermissionError, frappe.DoesNotExistError)
TOTALS = {"examples": 0, "steps": 0}


def fix_detected(name: str) -> bool:
	"""Whether the fix an invariant waits for has landed (see KNOWN_BROKEN)."""
	if os.environ.get("DMS_STATEFUL_STRICT") == "1":
		return True
	if name == "per-line parts":  # H5: Stock Entry rows point back at their job card line
		return any(
			f.fieldname.startswith("dms_") for f in frappe.get_meta("Stock Entry Detail").fields
		) or frappe.get_meta("Service Job Card Part").has_field("returned_qty")
	if name == "re-approval":  # H6: a changed line goes back to awaiting the customer
		return "Awaiting Re-approval" in (
			frappe.get_meta("Service Job Card").get_field("approval_status").options or ""
		)
	if name == "who can act":  # H7: a Workshop Manager acts where the dealer lacks the role
		return any(
			f.fieldtype == "Check" and "manager" in f.fieldname
			for f in frappe.get_meta("Dealer Workshop Settings").fields
		)
	return False


# invariant tag → (the fix it waits for, what is broken on main)
KNOWN_BROKEN = {
	"stock": ("per-line parts", "issued quantities are kept per item, not per job card line (H5)"),
	"billed": (
		"per-line parts",
		"invoices bill per item's total issue and are not re-made net of credit notes (H5)",
	),
	"decision": ("re-approval", "a change after the customer's decision keeps the decision (H6)"),
	"undecided": ("re-approval", "a line added after the decision is billed undecided (H6)"),
	"figures": ("re-approval", "the figure the customer approved is not what is billed (H6)"),
	"limit": ("re-approval", "a payer switch skips the discount limit (H6)"),
	"stuck": ("who can act", "a dealer without a Quality Supervisor cannot leave Quality Check (H7)"),
	# open findings (test_stateful_regressions.py, xfail): whoever fixes one removes its entry
}


def as_user(user, fn, *args, **kwargs):
	current = frappe.session.user
	frappe.set_user(user)
	try:
		return fn(*args, **kwargs)
	finally:
		frappe.set_user(current)


def money_figures(text: str) -> set[float]:
	return {float(m.replace(",", "")) for m in re.findall(r"₹\s?([\d,]+(?:\.\d+)?)", text or "")}


def workflow_action(job_card: str, action: str):
	"""The workflow action as the desk and REST call it (hooks.override_whitelisted_methods)."""
	return invariants.whitelisted("frappe.model.workflow.apply_workflow")(
		frappe.get_doc("Service Job Card", job_card).as_dict(), action
	)


class Journey:
	"""One job card at one dealer and what its roles do to it, each step as a request would:
	refused steps are rolled back. Used by the state machine and the regression tests."""

	def __init__(self, company: str = "Orion Motors Pune", log=print):
		self.company = company
		self.users = DEALERS[company]
		self.seen = Observed()
		self.log = log
		self.steps = []
		self.job_card = None
		self.token = None
		self.reinvoiced = False
		self.technician = frappe.db.get_value("Service Technician", {"user": self.users["tech"]})
		dealer = get_workshop_settings(company)
		self.store, self.wip = dealer.parts_warehouse, dealer.wip_warehouse

	@property
	def staff(self) -> list[str]:
		return [u for k, u in self.users.items() if k != "vehicle" and u]

	# ---- running a step as a request
	def step(self, what: str, user: str, fn, *args, **kwargs):
		"""Run fn as user inside a savepoint; a refusal rolls the step back (as a request's
		would) and returns None. Anything else than a refusal is a failure of the test."""
		self.steps.append(what)
		frappe.clear_messages()
		frappe.db.savepoint("dms_step")
		try:
			result = as_user(user, fn, *args, **kwargs)
		except REFUSED as e:
			frappe.db.rollback(save_point="dms_step")
			self.log(f"  {what} [{user}] refused: {type(e).__name__}: {str(e)[:160]}")
			return None
		except Exception as e:
			self.log(f"  {what} [{user}] FAILED: {type(e).__name__}: {str(e)[:300]}")
			raise
		self.log(f"  {what} [{user}] ok")
		return result if result is not None else True

	def doc(self):
		return frappe.get_doc("Service Job Card", self.job_card)

	def row(self, table: str, index: int):
		rows = self.doc().get(table)
		return rows[index % len(rows)] if rows else None

	def save_lines(self, what, user, change):
		"""Change the job card's lines as the desk form / REST PUT does: read, change, save."""

		def edit():
			jc = self.doc()
			touched = change(jc)
			jc.save()
			return touched or True

		touched = self.step(what, user, edit)
		if touched and touched is not True:
			for name in touched:
				self.seen.setter[name] = user
		return touched

	# ---- the advisor opens the job card; the manager assigns its labour
	def open(self, parts=(("PRT-OIL-FILTER-C", 1, "Customer"),), labour=(("LAB-PMS-CAR", "Customer"),)):
		from aftersales_dms.workshop.doctype.service_job_card.service_job_card import labour_line

		vehicle = self.users["vehicle"]

		def insert():
			return frappe.get_doc(
				{
					"doctype": "Service Job Card",
					"company": self.company,
					"customer": frappe.db.get_value("Customer Vehicle", vehicle, "customer"),
					"vehicle": vehicle,
					"labour": [
						{**labour_line(item, self.company), "bill_to": payer} for item, payer in labour
					],
					"parts": [{"item_code": i, "qty": q, "bill_to": b} for i, q, b in parts],
				}
			).insert()

		jc = self.step(
			f"open job card, labour {list(labour)}, parts {list(parts)}", self.users["advisor"], insert
		)
		assert jc, "the advisor could not open the job card"
		self.job_card = jc.name
		for row in jc.labour + jc.parts:
			self.seen.setter[row.name] = self.users["advisor"]
		self.assign_all()
		return jc

	def assign_all(self):
		for row in self.doc().labour:
			if not row.technician:
				self.step(
					f"assign {row.item_code} (row {row.idx})",
					self.users["manager"],
					lambda r=row.name: self.doc().assign_technician(r, self.technician),
				)

	# ---- lines
	def add_labour(self, item, payer, user):
		from aftersales_dms.workshop.doctype.service_job_card.service_job_card import labour_line

		def change(jc):
			jc.append("labour", {**labour_line(item, self.company), "bill_to": payer})
			return []

		self.save_lines(f"add labour {item} ({payer})", user, change)
		self.assign_all()

	def add_part(self, item, qty, payer, user):
		def change(jc):
			jc.append("parts", {"item_code": item, "qty": qty, "bill_to": payer})
			return []

		self.save_lines(f"add part {qty} x {item} ({payer})", user, change)

	def set_qty(self, index, qty, user):
		row = self.row("parts", index)
		if not row:
			return

		def change(jc):
			r = next(r for r in jc.parts if r.name == row.name)
			r.qty = qty
			return [r.name]

		self.save_lines(f"part row {row.idx} ({row.item_code}) qty {row.qty:g} -> {qty}", user, change)

	def set_hours(self, index, hours, user):
		row = self.row("labour", index)
		if not row:
			return

		def change(jc):
			r = next(r for r in jc.labour if r.name == row.name)
			r.standard_hours = hours
			return [r.name]

		self.save_lines(f"labour row {row.idx} ({row.item_code}) hours -> {hours}", user, change)

	def reprice(self, table, index, factor, user):
		from aftersales_dms.controllers.pricing import price_item

		row = self.row(table, index)
		if not row:
			return
		jc = self.doc()
		price = price_item(row.item_code, self.company, jc.customer, invariants.line_qty(row) or 1)
		rate = flt(flt(price.rate) * factor, 2)

		def change(jc):
			r = next(r for r in jc.get(table) if r.name == row.name)
			r.rate = rate
			return [r.name]

		self.save_lines(f"{table} row {row.idx} ({row.item_code}) rate {row.rate} -> {rate}", user, change)

	def switch_payer(self, table, index, payer, user):
		row = self.row(table, index)
		if not row:
			return

		def change(jc):
			r = next(r for r in jc.get(table) if r.name == row.name)
			r.bill_to = payer
			return [r.name]

		self.save_lines(
			f"{table} row {row.idx} ({row.item_code}) payer {row.bill_to} -> {payer}", user, change
		)

	def remove(self, table, index, user):
		row = self.row(table, index)
		if not row:
			return

		def change(jc):
			jc.set(table, [r for r in jc.get(table) if r.name != row.name])
			return []

		self.save_lines(f"remove {table} row {row.idx} ({row.item_code})", user, change)

	def discount(self, pct, user):
		def change(jc):
			jc.discount_percentage, jc.discount_reason = pct, "loyal customer"
			return []

		self.save_lines(f"discount {pct} %", user, change)

	def approve_discount(self, user):
		from aftersales_dms.billing.discount import approve_discount

		self.step("approve discount", user, approve_discount, self.job_card)

	# ---- the estimate and the customer's decision
	def estimate(self):
		from aftersales_dms.billing.estimate import make_estimate

		self.step("make estimate", self.users["advisor"], make_estimate, self.job_card)

	def approval_link(self):
		from urllib.parse import parse_qs, urlparse

		from aftersales_dms.billing.approval import make_approval_link

		url = self.step("make approval link", self.users["advisor"], make_approval_link, self.job_card)
		if url:
			self.token = parse_qs(urlparse(url).query)["token"][0]

	def page(self):
		"""The approval page's context as the customer's browser gets it (Guest)."""
		from aftersales_dms.www import estimate_approval

		def render():
			frappe.form_dict.token = self.token
			try:
				return estimate_approval.get_context(frappe._dict())
			finally:
				frappe.form_dict.pop("token", None)

		return as_user("Guest", render)

	def decide(self, approve: list[bool]):
		"""The customer opens the page and approves or declines each line they pay for."""
		from aftersales_dms.billing.approval import decide

		if not self.token:
			return None
		page = self.page()
		if page.get("error"):
			self.step("customer opens a spent link", "Guest", lambda: None)
			return None
		lines = page.lines
		decisions = {
			line["row"]: "Approved" if approve[k % len(approve)] else "Declined"
			for k, line in enumerate(lines)
		}
		jc = self.doc()
		quotation = frappe.get_doc("Quotation", jc.estimate)
		answer = self.step(
			f"customer decides {sorted(decisions.values())}", "Guest", decide, self.token, decisions
		)
		if not answer:
			return None
		self.token = None
		self.seen.decided = {
			item.dms_job_card_row: (item.item_code, flt(item.qty), flt(item.rate))
			for item in quotation.items
			if item.dms_job_card_row in decisions
		}
		self.seen.decided_discount = invariants.effective_discount(jc)
		self.seen.decided_estimate = jc.estimate
		self.seen.decide_figure = flt(answer["customer_pays"])
		violations = []
		# one rounding: what the page says the customer pays if they approve all is what the
		# estimate (the Quotation, whose covered lines are at zero) says
		if abs(flt(page.customer_pays) - customer_figures.payable(quotation)) > invariants.EPS:
			violations.append(
				Violation(
					"discount",
					f"the approval page says {page.customer_pays}, estimate {quotation.name} says "
					f"{customer_figures.payable(quotation)}",
				)
			)
		# and its lines, discount, taxes and rounding adjustment add up to it, to the paisa
		shown = flt(page.net_total - page.discount + page.taxes + page.get("rounding", 0), 2)
		if abs(shown - flt(page.customer_pays)) > invariants.EPS:
			violations.append(
				Violation(
					"figures",
					f"the approval page's lines {page.net_total} - discount {page.discount} + taxes "
					f"{page.taxes} + rounding {page.get('rounding')} = {shown}, not what it says the "
					f"customer pays ({page.customer_pays})",
				)
			)
		return violations

	# ---- workflow
	def actions(self, user) -> list[str]:
		return [t["action"] for t in as_user(user, invariants.get_transitions, self.doc())]

	def act(self, action, user):
		before = self.doc().status
		done = self.step(f"{action} ({before})", user, workflow_action, self.job_card, action)
		if done and self.doc().status == "Ready for Pickup":
			self.read_sms()
		return done

	def read_sms(self):
		messages = frappe.get_all(
			"Outgoing SMS",
			filters={"reference_doctype": "Service Job Card", "reference_name": self.job_card},
			fields=["message"],
			order_by="creation desc",
		)
		for m in messages:
			if "ready for pickup" in (m.message or "").lower() and money_figures(m.message):
				self.seen.sms_figure = max(money_figures(m.message))
				return

	def qc_verify(self, user):
		def verify():
			jc = self.doc()
			for row in jc.qc_items:
				row.verified = 1
			jc.save()

		return self.step("verify the QC checklist", user, verify)

	def qc_fail(self, user):
		def remarks():
			jc = self.doc()
			jc.qc_remarks = "Noise still there on the road test"
			jc.save()

		if self.step("QC remarks", user, remarks):
			self.act("Fail QC", user)

	# ---- the clock
	def clock(self, index, action):
		from aftersales_dms.workshop.doctype.service_job_card.service_job_card import clock_labour

		row = self.row("labour", index)
		if row:
			self.step(
				f"clock {action} labour row {row.idx} ({row.item_code})",
				self.users["tech"],
				clock_labour,
				self.job_card,
				row.name,
				action,
			)

	# ---- parts
	def request_parts(self):
		from aftersales_dms.parts.doctype.parts_request.parts_request import make_parts_request

		def request():
			pr = make_parts_request(self.job_card)
			pr.insert()
			pr.submit()
			return pr.name

		return self.step("parts request", self.users["parts"], request)

	def open_requests(self) -> list[str]:
		return frappe.get_all(
			"Parts Request",
			filters={"service_job_card": self.job_card, "docstatus": 1},
			pluck="name",
			order_by="creation",
		)

	def issue(self, index):
		requests = self.open_requests()
		if requests:
			name = requests[index % len(requests)]
			self.step(
				f"issue parts of {name}",
				self.users["parts"],
				lambda: frappe.get_doc("Parts Request", name).issue_parts(),
			)

	def return_part(self, index, qty):
		requests = self.open_requests()
		if not requests:
			return
		pr = frappe.get_doc("Parts Request", requests[index % len(requests)])
		row = pr.items[index % len(pr.items)]
		self.step(
			f"return {qty} x {row.item_code} of {pr.name}",
			self.users["parts"],
			lambda: frappe.get_doc("Parts Request", pr.name).return_parts(row.item_code, qty),
		)

	def receive(self, item, qty):
		def receipt():
			se = frappe.get_doc(
				{
					"doctype": "Stock Entry",
					"stock_entry_type": "Material Receipt",
					"company": self.company,
					"items": [{"item_code": item, "qty": qty, "t_warehouse": self.store, "basic_rate": 250}],
				}
			).insert()
			se.submit()

		self.step(f"receive {qty} x {item}", self.users["parts"], receipt)

	# ---- money
	def make_invoices(self):
		from aftersales_dms.billing.invoice import make_invoices

		made = self.step("make invoices", self.users["accounts"], make_invoices, self.job_card)
		if not made:
			return []
		# billed once, per payer: drafts and submitted invoices net of credit notes bill each
		# billable line exactly once
		return invariants.check_billed(self.doc(), complete=True, drafts=True)

	def invoices(self, docstatus, is_return=0) -> list[str]:
		return frappe.get_all(
			"Sales Invoice",
			filters={"dms_service_job_card": self.job_card, "docstatus": docstatus, "is_return": is_return},
			pluck="name",
			order_by="creation",
		)

	def submit_invoice(self, index):
		drafts = self.invoices(0)
		if drafts:
			name = drafts[index % len(drafts)]
			self.step(
				f"submit invoice {name}",
				self.users["accounts"],
				lambda: frappe.get_doc("Sales Invoice", name).submit(),
			)

	def pay(self):
		from erpnext.accounts.doctype.payment_entry.payment_entry import get_payment_entry

		invoice = frappe.db.get_value("Service Job Card", self.job_card, "customer_invoice")
		if not invoice or frappe.db.get_value("Sales Invoice", invoice, "docstatus") != 1:
			return

		def pay():
			pe = get_payment_entry("Sales Invoice", invoice)
			pe.reference_no, pe.reference_date = "UPI-STATEFUL", date.today()
			pe.insert()
			pe.submit()

		self.step(f"pay {invoice}", self.users["accounts"], pay)

	def credit_note(self, index, whole):
		from erpnext.accounts.doctype.sales_invoice.sales_invoice import make_sales_return

		submitted = self.invoices(1)
		if not submitted:
			return
		name = submitted[index % len(submitted)]

		def credit():
			cn = make_sales_return(name)
			if not whole:
				cn.items = cn.items[:1]
			cn.insert()
			cn.submit()

		self.step(
			f"credit note for {name} ({'whole' if whole else 'first line'})", self.users["accounts"], credit
		)

	def cancel_invoice(self, index):
		submitted = self.invoices(1)
		if submitted:
			name = submitted[index % len(submitted)]
			self.step(
				f"cancel invoice {name}",
				self.users["accounts"],
				lambda: frappe.get_doc("Sales Invoice", name).cancel(),
			)

	def release_on_credit(self):
		from aftersales_dms.billing.invoice import record_credit_override

		self.step(
			"release on credit",
			self.users["accounts"],
			record_credit_override,
			self.job_card,
			"Fleet account, 30 days",
		)

	# ---- the happy path's next step (so that random sequences reach invoices and delivery)
	def progress(self):
		jc = self.doc()
		users = self.users
		customer_lines = [r for r in customer_figures.job_lines(jc) if invariants.is_customer(r)]
		if jc.status == "Open":
			return self.act("Start Work", users["advisor"])
		if jc.status in ("In Progress", "Awaiting Approval") and jc.approval_status in (
			None,
			"",
			"Awaiting Customer",
		):
			if not jc.estimate or not frappe.db.get_value("Quotation", jc.estimate, "docstatus") == 1:
				return self.estimate()
			if not self.token:
				return self.approval_link()
			if jc.status == "In Progress":
				return self.act("Request Approval", users["advisor"])
			return self.decide([True])
		if jc.status == "In Progress":
			return self.act("Request Approval", users["advisor"])
		if jc.status == "Awaiting Approval":
			if any(r.customer_decision not in invariants.DECIDED for r in customer_lines):
				self.token = None
				self.estimate()
				return self.approval_link()
			if jc.approval_status == "Declined":
				return self.send_home()
			if self.pending_parts():
				return self.issue_or_request()
			return self.act("Start Repair", users["manager"])
		if jc.status == "Repairing":
			for k, row in enumerate(jc.labour):
				if row.customer_decision != "Declined" and row.work_status != "Done":
					return self.clock(
						k, "start" if row.work_status in (None, "", "Not Started", "Paused") else "finish"
					)
			return self.act("Send to QC", users["tech"])
		if jc.status == "Quality Check":
			qc = users["qc"] or users["manager"]
			if not all(r.verified for r in jc.qc_items):
				return self.qc_verify(qc)
			return self.act("Pass QC", qc)
		if jc.status == "Ready for Pickup":
			if self.invoices(0):
				return self.submit_invoice(0)
			if not (jc.customer_invoice or jc.warranty_invoice or jc.internal_invoice):
				return self.make_invoices()
			if not self.reinvoiced and invariants.check_billed(jc, complete=True, drafts=True):
				self.reinvoiced = True  # a credit note or a cancel left something unbilled
				return self.make_invoices()
			if jc.customer_invoice and flt(
				frappe.db.get_value("Sales Invoice", jc.customer_invoice, "outstanding_amount")
			):
				return self.pay()
			return self.act("Deliver", users["advisor"])
		if jc.status == "Waiting for Parts":
			return self.receive("PRT-COOLANT-1L", 10)
		if jc.status == "On Hold":
			return self.act("Resume", users["advisor"])
		return None

	def pending_parts(self) -> bool:
		return any(
			r.customer_decision != "Declined" and invariants.part_net(r) < flt(r.qty)
			for r in self.doc().parts
		)

	def issue_or_request(self):
		"""Issue the last parts request while it asks for more than is issued, else request."""
		requests = self.open_requests()
		if requests:
			pr = frappe.get_doc("Parts Request", requests[-1])
			if any(flt(r.qty) > flt(r.issued_qty) - flt(r.returned_qty) for r in pr.items):
				return self.issue(len(requests) - 1)
		if self.request_parts():
			return self.issue(len(requests))

	def send_home(self):
		"""The customer declined everything: the parts go back, then the job ends the way the
		workflow offers (Release without work once it exists, else Cancel)."""
		for r in self.doc().parts:
			if invariants.part_net(r) > 0:
				return self.return_part_line(r)
		user = self.users["advisor"]
		transitions = as_user(user, invariants.get_transitions, self.doc())
		ends = [t["action"] for t in transitions if t["next_state"] not in ("On Hold", "Cancelled")]
		ends += [t["action"] for t in transitions if t["next_state"] == "Cancelled"]
		if ends:
			return self.act(ends[0], user)

	def return_part_line(self, row):
		for name in self.open_requests():
			pr = frappe.get_doc("Parts Request", name)
			for item in pr.items:
				if item.item_code == row.item_code and flt(item.issued_qty) - flt(item.returned_qty) > 0:
					qty = flt(item.issued_qty) - flt(item.returned_qty)
					return self.step(
						f"return {qty:g} x {item.item_code} of {name}",
						self.users["parts"],
						lambda pr=name, item=item.item_code, qty=qty: frappe.get_doc(
							"Parts Request", pr
						).return_parts(item, qty),
					)

	# ---- the invariants
	def check(self, extra=()) -> list[Violation]:
		jc = self.doc()
		found = [*extra, *invariants.check_all(self.job_card, self.seen, self.staff)]
		if jc.status in invariants.FINAL and self.seen.final is None:
			self.seen.final = invariants.final_snapshot(jc)
		return found


def enforced(violations: list[Violation], log=print) -> list[Violation]:
	"""The violations to fail on: all but those whose fix has not landed yet (logged)."""
	out = []
	skip = set(filter(None, os.environ.get("DMS_STATEFUL_SKIP", "").split(",")))
	for v in violations:
		known = KNOWN_BROKEN.get(v.invariant)
		if v.invariant in skip:
			log(f"  skipped (DMS_STATEFUL_SKIP): {v}")
		elif known and not fix_detected(known[0]):
			log(f"  known, waiting for '{known[0]}': {v}")
		else:
			out.append(v)
	return out


EXAMPLES = int(os.environ.get("DMS_STATEFUL_EXAMPLES", 5))
STEPS = int(os.environ.get("DMS_STATEFUL_STEPS", 35))


def budget() -> settings:
	return settings(
		max_examples=EXAMPLES,
		stateful_step_count=STEPS,
		deadline=None,
		database=None,
		print_blob=True,
		suppress_health_check=[
			HealthCheck.too_slow,
			HealthCheck.data_too_large,
			HealthCheck.filter_too_much,
			HealthCheck.large_base_example,
		],
	)


index = st.integers(min_value=0, max_value=7)
table = st.sampled_from(("labour", "parts"))


class JobCardMachine(RuleBasedStateMachine):
	"""Random sequences of the roles' actions on one job card; every invariant after every step."""

	def __init__(self):
		super().__init__()
		frappe.set_user("Administrator")
		frappe.db.savepoint("dms_example")
		self.journey = None
		self.pending = []
		TOTALS["examples"] += 1

	@initialize(
		company=st.sampled_from(sorted(DEALERS)),
		parts=st.lists(
			st.tuples(st.sampled_from(PARTS[:2]), st.integers(1, 2), st.sampled_from(PAYERS)), max_size=2
		),
		warranty_labour=st.booleans(),
	)
	def open_job_card(self, company, parts, warranty_labour):
		print(f"example {TOTALS['examples']}: {company}")
		self.journey = Journey(company)
		labour = [("LAB-PMS-CAR", "Customer")] + ([("LAB-DIAG", "Warranty")] if warranty_labour else [])
		self.journey.open(parts=parts, labour=labour)

	def user(self, who):
		return self.journey.users[who]

	def status(self) -> str | None:
		if self.journey and self.journey.job_card:
			return frappe.db.get_value("Service Job Card", self.journey.job_card, "status")

	def _advance(self):
		found = self.journey.progress()
		self.pending = found if isinstance(found, list) else []

	# the happy path's next step, three rules of it: as likely as three other rules together, and
	# (Hypothesis orders rules without arguments first, by name) what an example shrinks towards
	@rule()
	def advance(self):
		self._advance()

	@rule()
	def advance_again(self):
		self._advance()

	@rule()
	def advance_once_more(self):
		self._advance()

	@rule(
		item=st.sampled_from(LABOUR[1:]),
		payer=st.sampled_from(PAYERS),
		who=st.sampled_from(("advisor", "manager")),
	)
	def add_labour(self, item, payer, who):
		self.journey.add_labour(item, payer, self.user(who))

	@rule(
		item=st.sampled_from(PARTS),
		qty=st.integers(1, 3),
		payer=st.sampled_from(PAYERS),
		who=st.sampled_from(("advisor", "manager")),
	)
	def add_part(self, item, qty, payer, who):
		self.journey.add_part(item, qty, payer, self.user(who))

	@rule(i=index, qty=st.integers(1, 4))
	def set_part_qty(self, i, qty):
		self.journey.set_qty(i, qty, self.user("advisor"))

	@rule(i=index, hours=st.sampled_from((0.5, 1.5, 3.0)))
	def set_labour_hours(self, i, hours):
		self.journey.set_hours(i, hours, self.user("advisor"))

	@rule(
		t=table,
		i=index,
		factor=st.sampled_from((1.1, 0.97, 0.9, 0.8)),
		who=st.sampled_from(("advisor", "manager")),
	)
	def reprice(self, t, i, factor, who):
		self.journey.reprice(t, i, factor, self.user(who))

	@rule(t=table, i=index, payer=st.sampled_from(("Customer", "Warranty", "Internal")))
	def switch_payer(self, t, i, payer):
		self.journey.switch_payer(t, i, payer, self.user("advisor"))

	@rule(t=table, i=index)
	def remove_line(self, t, i):
		self.journey.remove(t, i, self.user("advisor"))

	@rule(pct=st.sampled_from((0, 3, 8, 12, 20)), who=st.sampled_from(("advisor", "manager")))
	def discount(self, pct, who):
		self.journey.discount(pct, self.user(who))

	@rule()
	def approve_discount(self):
		self.journey.approve_discount(self.user("manager"))

	@rule()
	def estimate(self):
		self.journey.estimate()

	@rule()
	def approval_link(self):
		self.journey.approval_link()

	@rule(approve=st.lists(st.booleans(), min_size=1, max_size=4))
	def customer_decides(self, approve):
		self.pending = self.journey.decide(approve) or []

	@rule(who=st.sampled_from(("advisor", "manager", "tech", "qc", "parts", "accounts")), i=index)
	def workflow(self, who, i):
		user = self.user(who) or self.user("manager")
		actions = self.journey.actions(user)
		if actions:
			self.journey.act(actions[i % len(actions)], user)

	@precondition(lambda self: self.status() == "Quality Check")
	@rule()
	def qc_verify(self):
		self.journey.qc_verify(self.user("qc") or self.user("manager"))

	@precondition(lambda self: self.status() == "Quality Check")
	@rule()
	def qc_fail(self):
		self.journey.qc_fail(self.user("qc") or self.user("manager"))

	@precondition(lambda self: self.status() in ("In Progress", "Awaiting Approval", "Repairing"))
	@rule(i=index, action=st.sampled_from(("start", "pause", "finish")))
	def clock(self, i, action):
		self.journey.clock(i, action)

	@rule()
	def request_parts(self):
		self.journey.request_parts()

	@rule(i=index)
	def issue(self, i):
		self.journey.issue(i)

	@rule(i=index, qty=st.integers(1, 2))
	def return_part(self, i, qty):
		self.journey.return_part(i, qty)

	@rule(qty=st.integers(1, 5))
	def receive_coolant(self, qty):
		self.journey.receive("PRT-COOLANT-1L", qty)

	@precondition(lambda self: self.status() in ("Ready for Pickup", "Delivered", "Released"))
	@rule()
	def make_invoices(self):
		self.pending = self.journey.make_invoices() or []

	@precondition(lambda self: self.status() in ("Ready for Pickup", "Delivered", "Released"))
	@rule(i=index)
	def submit_invoice(self, i):
		self.journey.submit_invoice(i)

	@precondition(lambda self: self.status() in ("Ready for Pickup", "Delivered", "Released"))
	@rule()
	def pay(self):
		self.journey.pay()

	@precondition(lambda self: self.status() in ("Ready for Pickup", "Delivered", "Released"))
	@rule(i=index, whole=st.booleans())
	def credit_note(self, i, whole):
		self.journey.credit_note(i, whole)

	@precondition(lambda self: self.status() in ("Ready for Pickup", "Delivered", "Released"))
	@rule(i=index)
	def cancel_invoice(self, i):
		self.journey.cancel_invoice(i)

	@precondition(lambda self: self.status() in ("Ready for Pickup", "Delivered", "Released"))
	@rule()
	def release_on_credit(self):
		self.journey.release_on_credit()

	@invariant()
	def invariants_hold(self):
		if not self.journey or not self.journey.job_card:
			return
		TOTALS["steps"] += 1
		frappe.set_user("Administrator")
		violations = enforced(self.journey.check(self.pending))
		self.pending = []
		for v in violations:
			print(f"  VIOLATED {v}")
		assert not violations, "\n".join(map(str, violations))

	def teardown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback(save_point="dms_example")


@pytest.mark.timeout(max(900, 90 * EXAMPLES))  # a long run (DMS_STATEFUL_EXAMPLES) gets its time
def test_money_and_stock_invariants_hold_whatever_the_roles_do():
	TOTALS.update(examples=0, steps=0)
	try:
		run_state_machine_as_test(JobCardMachine, settings=budget())
	finally:
		frappe.set_user("Administrator")
		print(f"stateful: {TOTALS['examples']} examples, {TOTALS['steps']} steps")


@pytest.fixture(autouse=True)
def _rolled_back():
	"""Nothing of this module stays on the site (commits are held back by the test plugin)."""
	frappe.db.savepoint("dms_stateful_module")
	yield
	frappe.set_user("Administrator")
	frappe.db.rollback(save_point="dms_stateful_module")
