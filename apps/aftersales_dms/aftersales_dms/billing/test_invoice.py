# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

"""Invoices from the job card: parties, the ledger, stock, payments, the gate pass, races."""

from datetime import timedelta
from unittest.mock import patch

import frappe
import pytest
from erpnext.accounts.doctype.payment_entry.payment_entry import get_payment_entry
from frappe.tests.utils import FrappeTestCase
from frappe.utils import flt, now_datetime, today

from aftersales_dms.billing.approval import decide, make_approval_link
from aftersales_dms.billing.estimate import make_estimate
from aftersales_dms.billing.invoice import make_invoices, record_credit_override
from aftersales_dms.billing.test_approval import token_of
from aftersales_dms.tests.races import at_once
from aftersales_dms.workshop.doctype.service_job_card.test_service_job_card import make_job_card
from aftersales_dms.workshop.status import JobCardStatusError
from aftersales_dms.workshop.test_job_card_status import (
	ADVISOR,
	AMIT,
	MANAGER,
	QC,
	act,
	as_user,
	issue_all,
)

COMPANY = "Orion Motors Pune"
ACCOUNTANT = "accounts@omp.example"


def to_approval(jc) -> str:
	"""Start the work, make the estimate and its approval link as the advisor, ask for approval;
	the link's token."""
	act(jc.name, "Start Work", AMIT)
	as_user(ADVISOR, make_estimate, jc.name)
	token = token_of(as_user(ADVISOR, make_approval_link, jc.name))
	act(jc.name, "Request Approval", ADVISOR)
	return token


def estimated_job_card(labour=(("LAB-PMS-CAR", "Customer"),), parts=(("PRT-OIL-FILTER-C", 1, "Customer"),)):
	"""A job card (lines as (item, bill to) and (item, qty, bill to)) waiting for the customer's
	decision on its estimate, and the approval link's token."""
	jc = make_job_card(
		labour=[item for item, _ in labour],
		technicians=["Amit"] * len(labour),
		# a customer's part at a typed rate; a covered one at its payer's price (controllers/pricing)
		parts=[
			{"item_code": i, "qty": q, "bill_to": b, **({"rate": 450} if b == "Customer" else {})}
			for i, q, b in parts
		],
	)
	for row, (_, bill_to) in zip(jc.labour, labour, strict=True):
		row.bill_to = bill_to
	jc.save()
	token = to_approval(jc)
	return frappe.get_doc("Service Job Card", jc.name), token


def approved_to_ready(jc, token, decline=(), clock_hours=None):
	"""From the customer's decision to Ready for Pickup: the customer approves every line they pay
	for but those whose item is in `decline` (warranty and internal lines are covered), the parts
	are issued, each labour line is clocked (`clock_hours` each, default 1) and QC passes."""
	jc.reload()
	decisions = {
		r.name: "Declined" if r.item_code in decline else "Approved"
		for r in jc.labour + jc.parts
		if r.bill_to == "Customer"
	}
	as_user("Guest", decide, token, decisions)
	jc.reload()
	jc.parts = [r for r in jc.parts if r.customer_decision != "Declined"]
	if jc.parts:
		issue_all(jc)
	act(jc.name, "Start Repair", MANAGER)
	start = now_datetime() - timedelta(hours=8)
	for k, row in enumerate(jc.labour):
		jc = frappe.get_doc("Service Job Card", jc.name)
		t0 = start + timedelta(hours=2 * k)
		t1 = t0 + timedelta(hours=clock_hours or 1)
		module = "aftersales_dms.workshop.doctype.service_job_card.service_job_card.now_datetime"
		with patch(module, return_value=t0):
			as_user(AMIT, jc.start_work, row.name)
		jc.reload()
		with patch(module, return_value=t1):
			as_user(AMIT, jc.finish_work, row.name)
	act(jc.name, "Send to QC", AMIT)
	jc = frappe.get_doc("Service Job Card", jc.name)
	for row in jc.qc_items:
		row.verified = 1
	as_user(QC, jc.save)
	act(jc.name, "Pass QC", QC)
	return frappe.get_doc("Service Job Card", jc.name)


def ready_for_pickup_sms(job_card: str) -> list[str]:
	"""The texts of the job card's Ready for Pickup SMS."""
	return frappe.get_all(
		"Outgoing SMS",
		filters={"reference_name": job_card, "notification": "Vehicle Ready for Pickup - SMS"},
		pluck="message",
	)


def ready_job_card(
	labour=(("LAB-PMS-CAR", "Customer"),),
	parts=(("PRT-OIL-FILTER-C", 1, "Customer"),),
	clock_hours=None,
	decline=(),
):
	"""A job card taken through the whole workflow to Ready for Pickup; every customer line
	approved but those whose item is in `decline`."""
	jc, token = estimated_job_card(labour, parts)
	return approved_to_ready(jc, token, decline, clock_hours)


def gl(voucher):
	return frappe.get_all(
		"GL Entry",
		filters={"voucher_no": voucher, "is_cancelled": 0},
		fields=["account", "debit", "credit", "party"],
	)


def by_account(entries):
	out = {}
	for e in entries:
		out[e.account] = flt(out.get(e.account, 0) + flt(e.debit) - flt(e.credit), 2)
	return out


def submit_as_accountant(name):
	inv = frappe.get_doc("Sales Invoice", name)
	as_user(ACCOUNTANT, inv.submit)
	return inv


class TestServiceInvoice(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def test_customer_pay_invoice_posts_revenue_tax_cogs_and_takes_parts_out_of_wip(self):
		jc = ready_job_card()
		wip = frappe.db.get_value("Dealer Workshop Settings", COMPANY, "wip_warehouse")
		invoices = as_user(ACCOUNTANT, make_invoices, jc.name)
		self.assertEqual(list(invoices), ["Customer"])
		inv = frappe.get_doc("Sales Invoice", invoices["Customer"])
		self.assertEqual(
			(inv.customer, inv.dms_service_job_card, inv.dms_vehicle, inv.dms_odometer, inv.update_stock),
			(jc.customer, jc.name, jc.vehicle, jc.odometer, 1),
		)
		self.assertEqual(
			[(i.item_code, i.qty, i.rate) for i in inv.items],
			[("LAB-PMS-CAR", 2.5, 900), ("PRT-OIL-FILTER-C", 1, 450)],
		)
		self.assertEqual(inv.items[1].warehouse, wip)  # the issued part leaves the WIP warehouse
		self.assertEqual(flt(inv.net_total), 2.5 * 900 + 450)
		self.assertEqual(flt(inv.total_taxes_and_charges), flt((2.5 * 900 + 450) * 0.18, 2))

		with self.assertRaisesRegex(JobCardStatusError, "Submit the Customer invoice"):
			act(jc.name, "Deliver", ADVISOR)
		wip_before = frappe.db.get_value(
			"Bin", {"item_code": "PRT-OIL-FILTER-C", "warehouse": wip}, "actual_qty"
		)
		submit_as_accountant(inv.name)
		inv.reload()

		entries = gl(inv.name)
		self.assertAlmostEqual(sum(flt(e.debit) for e in entries), sum(flt(e.credit) for e in entries), 2)
		company = frappe.get_cached_doc("Company", COMPANY)
		accounts = by_account(entries)
		self.assertEqual(accounts[inv.debit_to], flt(inv.grand_total))  # rounding goes to round-off
		self.assertEqual(accounts[inv.items[0].income_account], -2.5 * 900 - 450)
		self.assertEqual(accounts[inv.taxes[0].account_head], -flt(inv.total_taxes_and_charges))
		sle = frappe.get_all(
			"Stock Ledger Entry",
			filters={"voucher_no": inv.name, "is_cancelled": 0},
			fields=["item_code", "warehouse", "actual_qty", "stock_value_difference"],
		)
		self.assertEqual(
			[(s.item_code, s.warehouse, s.actual_qty) for s in sle], [("PRT-OIL-FILTER-C", wip, -1)]
		)
		cost = -flt(sle[0].stock_value_difference)
		self.assertGreater(cost, 0)
		self.assertEqual(accounts[company.default_expense_account], cost)  # Cost of Goods Sold
		wip_account = frappe.db.get_value("Warehouse", wip, "account") or company.default_inventory_account
		self.assertEqual(accounts[wip_account], -cost)
		self.assertEqual(
			frappe.db.get_value("Bin", {"item_code": "PRT-OIL-FILTER-C", "warehouse": wip}, "actual_qty"),
			wip_before - 1,
		)

		jc.reload()
		self.assertEqual(
			(jc.invoiced_amount, jc.outstanding_amount, jc.paid_amount),
			(inv.rounded_total or inv.grand_total, inv.outstanding_amount, 0),
		)
		with self.assertRaisesRegex(JobCardStatusError, "still owes"):
			act(jc.name, "Deliver", ADVISOR)
		pe = get_payment_entry("Sales Invoice", inv.name)
		pe.reference_no, pe.reference_date = "UPI-1", today()
		pe.insert()
		pe.submit()
		jc.reload()
		self.assertEqual((jc.outstanding_amount, jc.paid_amount), (0, jc.invoiced_amount))
		act(jc.name, "Deliver", ADVISOR)
		jc.reload()
		self.assertEqual(jc.status, "Delivered")
		self.assertTrue(jc.delivered_on)
		self.assertEqual(
			str(frappe.db.get_value("Customer Vehicle", jc.vehicle, "last_service_date")), today()
		)

	def test_warranty_lines_go_to_the_oem_each_party_its_own_invoice(self):
		jc = ready_job_card(
			labour=(("LAB-PMS-CAR", "Customer"), ("LAB-DIAG", "Warranty")),
			parts=(("PRT-OIL-FILTER-C", 1, "Warranty"),),
		)
		invoices = as_user(ACCOUNTANT, make_invoices, jc.name)
		self.assertEqual(sorted(invoices), ["Customer", "Warranty"])
		customer = frappe.get_doc("Sales Invoice", invoices["Customer"])
		warranty = frappe.get_doc("Sales Invoice", invoices["Warranty"])
		self.assertEqual(
			warranty.customer, frappe.db.get_value("Dealer Workshop Settings", COMPANY, "oem_customer")
		)
		self.assertEqual([i.item_code for i in customer.items], ["LAB-PMS-CAR"])
		self.assertEqual([i.item_code for i in warranty.items], ["LAB-DIAG", "PRT-OIL-FILTER-C"])
		self.assertEqual((customer.update_stock, warranty.update_stock), (0, 1))
		jc.reload()
		self.assertEqual(flt(customer.net_total) + flt(warranty.net_total), flt(jc.grand_total))
		for inv in (customer, warranty):
			submit_as_accountant(inv.name)
			entries = gl(inv.name)
			self.assertAlmostEqual(sum(flt(e.debit) for e in entries), sum(flt(e.credit) for e in entries), 2)
			receivable = [e for e in entries if e.party]
			self.assertEqual({e.party for e in receivable}, {inv.customer})
		# the customer pays; the OEM invoice stays open until its claim is settled: the car can go
		pe = get_payment_entry("Sales Invoice", customer.name)
		pe.reference_no, pe.reference_date = "CASH-1", today()
		pe.insert().submit()
		act(jc.name, "Deliver", ADVISOR)

	def test_service_invoice_print_format_shows_vehicle_work_and_warranty_split(self):
		jc = ready_job_card(
			labour=(("LAB-PMS-CAR", "Customer"), ("LAB-DIAG", "Warranty")),
			parts=(("PRT-OIL-FILTER-C", 1, "Customer"),),
		)
		invoices = make_invoices(jc.name)
		html = frappe.get_print("Sales Invoice", invoices["Customer"], print_format="Service Invoice")
		for text in (
			"MH12AB1234",
			"MA1TA2XX6GH123456",
			f"{jc.odometer:,} km",
			"LAB-PMS-CAR",
			"PRT-OIL-FILTER-C",
			"Hours",
			invoices["Warranty"],
			"GST",
		):
			self.assertIn(text, html)
		self.assertNotIn("LAB-DIAG", html)  # on the OEM's invoice, not the customer's
		# the PDF (wkhtmltopdf needs the running server): tests/system/test_dealer_isolation.py

	def test_labour_billed_by_clocked_hours_when_the_dealer_says_so(self):
		frappe.db.set_value("Dealer Workshop Settings", COMPANY, "labour_billing", "Clocked Hours")
		try:
			jc = ready_job_card(parts=(), clock_hours=1.75)
			inv = frappe.get_doc("Sales Invoice", make_invoices(jc.name)["Customer"])
			self.assertEqual([(i.item_code, i.qty) for i in inv.items], [("LAB-PMS-CAR", 1.75)])
		finally:
			frappe.db.set_value("Dealer Workshop Settings", COMPANY, "labour_billing", "Sold Hours")

	def test_twice_gives_the_same_invoices_and_rules(self):
		jc = make_job_card()
		with self.assertRaisesRegex(frappe.ValidationError, "invoice it when it is Ready for Pickup"):
			make_invoices(jc.name)
		with self.assertRaises(frappe.PermissionError):
			as_user(AMIT, make_invoices, jc.name)
		jc = ready_job_card()
		first = make_invoices(jc.name)
		self.assertEqual(make_invoices(jc.name), first)
		self.assertEqual(frappe.db.count("Sales Invoice", {"dms_service_job_card": jc.name}), 1)
		# a second invoice for the same party, made by hand, is refused
		twin = frappe.copy_doc(frappe.get_doc("Sales Invoice", first["Customer"]))
		with self.assertRaises(frappe.DuplicateEntryError):
			twin.insert()
		# system fields cannot be typed in
		jc.reload()
		jc.customer_invoice = None
		jc.credit_override_by = ADVISOR
		as_user(ADVISOR, jc.save)  # system fields (permlevel 2): dropped
		self.assertEqual(
			frappe.db.get_value("Service Job Card", jc.name, ["customer_invoice", "credit_override_by"]),
			(first["Customer"], None),
		)

	def test_credit_override_lets_the_vehicle_go_unpaid(self):
		jc = ready_job_card(parts=())
		inv = submit_as_accountant(make_invoices(jc.name)["Customer"])
		with self.assertRaises(frappe.PermissionError):
			as_user(ADVISOR, record_credit_override, jc.name, "regular fleet customer")
		with self.assertRaisesRegex(frappe.ValidationError, "Give the reason"):
			as_user(ACCOUNTANT, record_credit_override, jc.name, " ")
		as_user(ACCOUNTANT, record_credit_override, jc.name, "Fleet account, 30 days credit")
		act(jc.name, "Deliver", ADVISOR)
		jc.reload()
		self.assertEqual(
			(jc.status, jc.credit_override_by, jc.outstanding_amount),
			("Delivered", ACCOUNTANT, flt(inv.outstanding_amount)),
		)


class TestDiscounts(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def discount(self, jc, pct, user=ADVISOR, reason="loyal customer"):
		jc = frappe.get_doc("Service Job Card", jc.name)
		jc.discount_percentage, jc.discount_reason = pct, reason
		as_user(user, jc.save)
		return frappe.get_doc("Service Job Card", jc.name)

	def test_within_the_limit_approved_above_it_waits_for_someone_allowed(self):
		from aftersales_dms.billing.discount import approve_discount

		jc = ready_job_card(parts=())
		jc = self.discount(jc, 3)
		self.assertEqual((jc.discount_status, jc.discount_approved_by), ("Approved", ADVISOR))
		jc = self.discount(jc, 12)
		self.assertEqual((jc.discount_status, jc.discount_approved_by), ("Pending Approval", None))
		with self.assertRaisesRegex(frappe.ValidationError, "waits for approval"):
			make_invoices(jc.name)
		with self.assertRaisesRegex(frappe.PermissionError, "above your limit of 5"):
			as_user(ADVISOR, approve_discount, jc.name)
		as_user(MANAGER, approve_discount, jc.name)
		jc.reload()
		self.assertEqual((jc.discount_status, jc.discount_approved_by), ("Approved", MANAGER))
		self.assertTrue(jc.discount_approved_on)
		# the customer decided without the discount: billed once they decide on the new estimate
		self.assertEqual(jc.approval_status, "Awaiting Re-approval")
		with self.assertRaisesRegex(frappe.ValidationError, "not decided"):
			make_invoices(jc.name)
		as_user(ADVISOR, make_estimate, jc.name)
		token = token_of(as_user(ADVISOR, make_approval_link, jc.name))
		as_user("Guest", decide, token, {r.name: "Approved" for r in jc.labour})
		inv = frappe.get_doc("Sales Invoice", make_invoices(jc.name)["Customer"])
		self.assertEqual((inv.apply_discount_on, flt(inv.additional_discount_percentage)), ("Net Total", 12))
		self.assertEqual(flt(inv.net_total), flt(2.5 * 900 * 0.88, 2))
		with self.assertRaisesRegex(frappe.ValidationError, "already invoiced"):
			self.discount(jc, 2, user=MANAGER)

	def test_bad_discounts_refused(self):
		jc = make_job_card()
		with self.assertRaisesRegex(frappe.ValidationError, "between 0 and 100"):
			self.discount(jc, 120)
		with self.assertRaisesRegex(frappe.ValidationError, "Give a reason"):
			self.discount(jc, 2, reason="")
		jc.reload()
		jc.discount_status, jc.discount_approved_by = "Approved", ADVISOR  # cannot be typed in
		as_user(ADVISOR, jc.save)
		self.assertFalse(frappe.db.get_value("Service Job Card", jc.name, "discount_status"))


@pytest.mark.commits
def test_concurrent_invoicing_creates_one_invoice_per_party():
	"""Two accountants click Make Invoice at the same moment, each on its own connection."""
	jc = ready_job_card(labour=(("LAB-PMS-CAR", "Customer"), ("LAB-DIAG", "Warranty")), parts=())
	frappe.db.commit()
	results = at_once(lambda: make_invoices(jc.name), lambda: make_invoices(jc.name), user=ACCOUNTANT)
	assert len(results) == 2 and results[0] == results[1], results
	assert sorted(results[0]) == ["Customer", "Warranty"]
	names = frappe.get_all("Sales Invoice", filters={"dms_service_job_card": jc.name}, pluck="name")
	assert sorted(names) == sorted(results[0].values())


def billed_net(job_card, bill_to="Customer"):
	"""Per job card row, the quantity billed to the party: its submitted invoices less the
	credit notes against them."""
	from aftersales_dms.billing.invoice import billed_per_row

	return {row: qty for row, qty in billed_per_row(job_card, bill_to).items() if qty}


class TestBilledOncePerLine(FrappeTestCase):
	"""Issued = billed, per line; billed once, per payer (#19)."""

	def tearDown(self):
		frappe.set_user("Administrator")

	def test_the_same_part_on_two_lines_is_billed_per_line(self):
		from aftersales_dms.parts.doctype.parts_request.test_parts_request import (
			PARTS,
			STORE,
			per_line_item,
			set_store,
		)

		item = per_line_item()
		set_store(item, COMPANY, STORE, 3, PARTS)
		jc = ready_job_card(parts=((item, 2, "Customer"), (item, 1, "Customer")))
		self.assertEqual([flt(r.issued_qty) for r in jc.parts], [2, 1])
		inv = frappe.get_doc("Sales Invoice", as_user(ACCOUNTANT, make_invoices, jc.name)["Customer"])
		self.assertEqual(
			[(i.item_code, i.qty, i.dms_job_card_row) for i in inv.items if i.item_code == item],
			[(item, 2, jc.parts[0].name), (item, 1, jc.parts[1].name)],
		)

	def test_a_billed_part_stays_issued_until_its_invoice_is_credited(self):
		"""The fresh-clone run's stateful regression: a part returned after its invoice was
		submitted left the invoice billing what was no longer issued (ERPNext's negative stock
		check stopped it only while the WIP store had no other unit to give back)."""
		from aftersales_dms.parts.doctype.parts_request.test_parts_request import (
			PARTS,
			per_line_item,
			set_store,
		)

		item = per_line_item()
		set_store(item, COMPANY, "Parts Store - OMP", 1, PARTS)
		jc = ready_job_card(parts=((item, 1, "Customer"),))
		submit_as_accountant(as_user(ACCOUNTANT, make_invoices, jc.name)["Customer"])
		wip = frappe.db.get_value("Dealer Workshop Settings", {"company": COMPANY}, "wip_warehouse")
		set_store(item, COMPANY, wip, 5, PARTS)  # other units in WIP: stock alone would not refuse
		pr = frappe.get_doc(
			"Parts Request",
			frappe.db.get_value("Parts Request", {"service_job_card": jc.name, "docstatus": 1}),
		)
		with self.assertRaisesRegex(frappe.ValidationError, "credit the invoice"):
			as_user(PARTS, pr.return_parts)
		self.assertEqual(flt(frappe.db.get_value("Service Job Card Part", jc.parts[0].name, "issued_qty")), 1)

	def test_invoicing_again_bills_nothing_twice_and_after_a_credit_note_exactly_once(self):
		from erpnext.accounts.doctype.sales_invoice.sales_invoice import make_sales_return

		jc = ready_job_card()
		labour, part = jc.labour[0].name, jc.parts[0].name
		first = as_user(ACCOUNTANT, make_invoices, jc.name)["Customer"]
		submit_as_accountant(first)
		self.assertEqual(as_user(ACCOUNTANT, make_invoices, jc.name), {"Customer": first})
		self.assertEqual(billed_net(jc.name), {labour: 2.5, part: 1})
		# a copy of the submitted invoice, made by hand, bills nothing twice
		twin = frappe.copy_doc(frappe.get_doc("Sales Invoice", first))
		with self.assertRaisesRegex(frappe.DuplicateEntryError, "billed already"):
			as_user(ACCOUNTANT, twin.insert)

		# the labour is credited (a wrong rate, say): invoicing again bills exactly that again
		def credit_labour():
			note = make_sales_return(first)
			note.items = [i for i in note.items if i.item_code == "LAB-PMS-CAR"]
			note.update_stock = 0
			note.update_outstanding_for_self = 0  # it settles the invoice it credits
			note.insert()
			note.submit()
			return note

		note = as_user(ACCOUNTANT, credit_labour)
		self.assertEqual(billed_net(jc.name), {part: 1})
		with self.assertRaisesRegex(JobCardStatusError, "not invoiced"):
			act(jc.name, "Deliver", ADVISOR)
		second = as_user(ACCOUNTANT, make_invoices, jc.name)["Customer"]
		self.assertNotEqual(second, first)
		again = frappe.get_doc("Sales Invoice", second)
		self.assertEqual(
			[(i.item_code, i.qty, i.dms_job_card_row) for i in again.items], [("LAB-PMS-CAR", 2.5, labour)]
		)
		self.assertEqual(as_user(ACCOUNTANT, make_invoices, jc.name), {"Customer": second})  # its draft
		submit_as_accountant(second)
		self.assertEqual(as_user(ACCOUNTANT, make_invoices, jc.name), {"Customer": second})
		self.assertEqual(billed_net(jc.name), {labour: 2.5, part: 1})
		self.assertEqual(
			frappe.db.count(
				"Sales Invoice", {"dms_service_job_card": jc.name, "is_return": 0, "docstatus": 1}
			),
			2,
		)
		# the job card's figures are the invoices' net of the credit note; paid, the car can go
		invoices = [frappe.get_doc("Sales Invoice", n) for n in (first, note.name, second)]
		jc.reload()
		self.assertEqual(
			flt(jc.invoiced_amount), flt(sum(flt(i.rounded_total) or flt(i.grand_total) for i in invoices), 2)
		)
		self.assertEqual(flt(jc.invoiced_amount), flt(jc.outstanding_amount))
		for name in (first, second):
			outstanding = flt(frappe.db.get_value("Sales Invoice", name, "outstanding_amount"))
			if outstanding > 0:
				pe = get_payment_entry("Sales Invoice", name)
				pe.reference_no, pe.reference_date = f"UPI-{name}", today()
				as_user(ACCOUNTANT, lambda pe=pe: pe.insert().submit())
		jc.reload()
		self.assertEqual(flt(jc.outstanding_amount), 0)
		act(jc.name, "Deliver", ADVISOR)


class TestInvoiceAgreesWithTheJobCard(FrappeTestCase):
	"""The accountant's draft is no way round the customer's decision: on every save and on
	submit a job card's invoice bills its party, only the job card's lines, each at the rate the
	customer decided on, with the job card's approved discount and no other."""

	def tearDown(self):
		frappe.set_user("Administrator")

	def edited(self, name, change):
		inv = frappe.get_doc("Sales Invoice", name)
		change(inv)
		return inv

	def test_a_draft_edited_past_the_decision_is_refused_on_save_and_submit(self):
		jc = ready_job_card(
			labour=(("LAB-PMS-CAR", "Customer"),),
			parts=(("PRT-OIL-FILTER-C", 1, "Customer"), ("PRT-SPARK-PLUG", 1, "Customer")),
			decline=("PRT-SPARK-PLUG",),
		)
		name = as_user(ACCOUNTANT, make_invoices, jc.name)["Customer"]
		declined = next(r for r in jc.parts if r.item_code == "PRT-SPARK-PLUG")

		def raise_rate(inv):
			inv.items[0].rate = flt(inv.items[0].rate) + 100

		def add_declined_part(inv):
			inv.append("items", {"item_code": "PRT-SPARK-PLUG", "qty": 1, "dms_job_card_row": declined.name})

		def add_other_work(inv):
			inv.append("items", {"item_code": "LAB-DIAG", "qty": 1, "rate": 900})

		def other_customer(inv):
			inv.customer = frappe.db.get_value("Customer", {"name": ("!=", jc.customer)}, "name")
			for field in ("contact_person", "contact_email", "contact_mobile", "customer_address"):
				inv.set(field, None)

		def a_discount(inv):
			inv.apply_discount_on, inv.additional_discount_percentage = "Net Total", 5

		for change, message in (
			(raise_rate, "customer decided on"),
			(add_declined_part, "not a billable"),
			(add_other_work, "not a billable"),
			(other_customer, "is billed to"),
			(a_discount, "approved discount"),
		):
			with self.subTest(change=change.__name__):
				inv = self.edited(name, change)
				with self.assertRaisesRegex(frappe.ValidationError, message):
					as_user(ACCOUNTANT, inv.save)
				inv = self.edited(name, change)
				with self.assertRaisesRegex(frappe.ValidationError, message):
					as_user(ACCOUNTANT, inv.submit)
		self.assertEqual(frappe.db.get_value("Sales Invoice", name, "docstatus"), 0)
		submit_as_accountant(name)  # as made, it submits

	def test_the_approved_discount_stays_on_the_invoice(self):
		jc = ready_job_card(parts=())
		jc = TestDiscounts.discount(self, jc, 3)
		as_user(ADVISOR, make_estimate, jc.name)
		token = token_of(as_user(ADVISOR, make_approval_link, jc.name))
		as_user("Guest", decide, token, {r.name: "Approved" for r in jc.labour})
		name = as_user(ACCOUNTANT, make_invoices, jc.name)["Customer"]
		inv = self.edited(
			name, lambda inv: inv.update({"additional_discount_percentage": 0, "discount_amount": 0})
		)
		with self.assertRaisesRegex(frappe.ValidationError, "approved discount"):
			as_user(ACCOUNTANT, inv.submit)

	def test_a_copy_without_its_job_card_is_refused(self):
		jc = ready_job_card(parts=())
		name = as_user(ACCOUNTANT, make_invoices, jc.name)["Customer"]
		copy = frappe.copy_doc(frappe.get_doc("Sales Invoice", name))
		copy.dms_service_job_card = None
		with self.assertRaises(frappe.DuplicateEntryError):
			as_user(ACCOUNTANT, copy.insert)
