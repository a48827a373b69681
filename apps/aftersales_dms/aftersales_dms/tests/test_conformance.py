# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

"""Conformance: invariants of the ledger and the stock after a seeded random batch of complete
journeys, and races on one job card's status."""

import random
from collections import defaultdict
from datetime import timedelta

import frappe
import pytest
from erpnext.accounts.doctype.payment_entry.payment_entry import get_payment_entry
from frappe.tests.utils import FrappeTestCase
from frappe.utils import flt, today

from aftersales_dms.analytics.test_reports import invoice_months, kept_months
from aftersales_dms.billing.approval import decide, make_approval_link
from aftersales_dms.billing.estimate import make_estimate
from aftersales_dms.billing.invoice import make_invoices
from aftersales_dms.billing.test_approval import token_of
from aftersales_dms.billing.test_invoice import ACCOUNTANT, submit_as_accountant
from aftersales_dms.tests.races import at_once
from aftersales_dms.workshop.doctype.service_job_card.test_service_job_card import make_job_card
from aftersales_dms.workshop.test_job_card_status import (
	ADVISOR,
	AMIT,
	MANAGER,
	QC,
	act,
	as_user,
	clock_done,
	issue_all,
)

LABOUR = ["LAB-PMS-CAR", "LAB-DIAG", "LAB-BRAKE-PADS", "LAB-BATTERY"]
PARTS = ["PRT-OIL-FILTER-C", "PRT-OIL-5W30-1L", "PRT-COOLANT-1L", "PRT-SPARK-PLUG"]


def ensure_stock(item_code, qty):
	"""Top the Pune parts store up so a journey's issue is not short (other tests use stock too)."""
	store = frappe.db.get_value("Dealer Workshop Settings", "Orion Motors Pune", "parts_warehouse")
	have = flt(frappe.db.get_value("Bin", {"item_code": item_code, "warehouse": store}, "actual_qty"))
	if have < qty:
		frappe.get_doc(
			{
				"doctype": "Stock Entry",
				"stock_entry_type": "Material Receipt",
				"company": "Orion Motors Pune",
				"items": [
					{"item_code": item_code, "qty": qty - have + 5, "t_warehouse": store, "basic_rate": 200}
				],
			}
		).insert().submit()


def random_journey(rng: random.Random):
	"""One complete journey with random work, random customer decisions and bill-to parties."""
	labour = rng.sample(LABOUR, rng.randint(1, 3))
	parts = [
		{
			"item_code": p,
			"qty": rng.randint(1, 2),
			"rate": rng.choice([290, 450, 650]),
			"bill_to": rng.choice(["Customer", "Customer", "Warranty"]),
		}
		for p in rng.sample(PARTS, rng.randint(0, 3))
	]
	for part in parts:  # a warranty part is at the OEM's price (controllers/pricing.check_covered_rate)
		if part["bill_to"] != "Customer":
			del part["rate"]
	jc = make_job_card(labour=labour, technicians=["Amit"] * len(labour), parts=parts)
	for row in jc.labour:
		row.bill_to = rng.choice(["Customer", "Customer", "Warranty", "Internal"])
	jc.save()
	act(jc.name, "Start Work", AMIT)
	make_estimate(jc.name)
	token = token_of(make_approval_link(jc.name))
	act(jc.name, "Request Approval", ADVISOR)
	jc.reload()
	rows = [r for r in jc.labour + jc.parts if r.bill_to == "Customer"]  # covered lines: no decision
	decisions = {r.name: "Approved" for r in rows}
	for r in rows[1:]:
		if rng.random() < 0.25:
			decisions[r.name] = "Declined"
	as_user("Guest", decide, token, decisions)
	jc.reload()
	approved_parts = [r for r in jc.parts if r.customer_decision != "Declined"]  # covered: no decision
	if approved_parts:
		for part in approved_parts:
			ensure_stock(part.item_code, part.qty)
		jc.parts = approved_parts
		issue_all(jc)
	act(jc.name, "Start Repair", MANAGER)
	clock_done(jc.name)
	act(jc.name, "Send to QC", AMIT)
	jc = frappe.get_doc("Service Job Card", jc.name)
	for row in jc.qc_items:
		row.verified = 1
	as_user(QC, jc.save)
	act(jc.name, "Pass QC", QC)
	invoices = as_user(ACCOUNTANT, make_invoices, jc.name)
	for name in invoices.values():
		submit_as_accountant(name)
	if "Customer" in invoices and rng.random() < 0.7:
		pe = get_payment_entry("Sales Invoice", invoices["Customer"])
		pe.reference_no, pe.reference_date = f"RND-{jc.name}", today()
		pe.insert().submit()
	return frappe.get_doc("Service Job Card", jc.name), invoices


class TestLedgerAndStockInvariants(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def test_random_journeys_keep_every_invariant(self):
		rng = random.Random(2026)  # seeded: a failure is reproducible
		journeys = [random_journey(rng) for _ in range(6)]
		vouchers = set()
		for jc, invoices in journeys:
			vouchers |= set(invoices.values())
			vouchers |= set(
				frappe.get_all("Stock Entry", filters={"dms_service_job_card": jc.name}, pluck="name")
			)
			vouchers |= set(
				frappe.get_all(
					"Payment Entry Reference",
					filters={"reference_name": ("in", list(invoices.values()))},
					pluck="parent",
				)
			)
			# invoices bill exactly the work done: approved labour at sold hours, parts as issued
			expected = sum(
				flt(r.standard_hours) * flt(r.rate) for r in jc.labour if r.customer_decision != "Declined"
			) + sum(flt(r.issued_qty) * flt(r.rate) for r in jc.parts if r.customer_decision != "Declined")
			billed = sum(flt(frappe.db.get_value("Sales Invoice", n, "total")) for n in invoices.values())
			self.assertAlmostEqual(billed, expected, 2, msg=jc.name)
			# parts on each line of the job card = what its stock entries moved for that line
			moved = defaultdict(float)
			for row in frappe.db.sql(
				"""select d.dms_job_card_row, d.transfer_qty, d.t_warehouse, pr.wip_warehouse
				from `tabStock Entry Detail` d join `tabStock Entry` se on se.name = d.parent
				join `tabParts Request` pr on pr.name = se.dms_parts_request
				where se.dms_service_job_card = %s and se.docstatus = 1""",
				jc.name,
				as_dict=True,
			):
				moved[row.dms_job_card_row] += (
					row.transfer_qty if row.t_warehouse == row.wip_warehouse else -row.transfer_qty
				)
			self.assertEqual(set(moved) - {p.name for p in jc.parts}, set(), msg=jc.name)
			for part in jc.parts:
				self.assertEqual(flt(part.issued_qty), moved[part.name], msg=(jc.name, part.item_code))
		self.assertTrue(vouchers)
		for voucher in vouchers:
			debit, credit = frappe.db.sql(
				"select sum(debit), sum(credit) from `tabGL Entry` where voucher_no = %s and is_cancelled = 0",
				voucher,
			)[0]
			self.assertAlmostEqual(flt(debit), flt(credit), 2, msg=voucher)
		# the stock ledger and the Bins agree, and no stock is negative
		for item_code, warehouse, actual in frappe.db.sql(
			"select item_code, warehouse, actual_qty from `tabBin` where item_code in %s", [PARTS]
		):
			# the running balance after the ledger's last entry (a Stock Reconciliation posts the
			# new balance, not a movement, so summing movements would not do)
			ledger = frappe.db.sql(
				"""select qty_after_transaction from `tabStock Ledger Entry`
				where item_code = %s and warehouse = %s and is_cancelled = 0
				order by posting_date desc, posting_time desc, creation desc limit 1""",
				(item_code, warehouse),
			)
			ledger = ledger[0][0] if ledger else 0
			self.assertEqual(flt(ledger), flt(actual), msg=(item_code, warehouse))
			self.assertGreaterEqual(flt(actual), 0, msg=(item_code, warehouse))
		# revenue kept per dealer and month equals the invoices
		self.assertEqual(kept_months(), invoice_months())


@pytest.mark.commits
def test_parallel_status_transitions_one_winner():
	"""Two managers act on one job card at the same moment (Hold and Cancel, each on its own
	connection): exactly one succeeds, the other gets a clear error, the history has one entry."""
	jc = make_job_card()
	frappe.db.commit()
	results = at_once(*(lambda a=a: act(jc.name, a, MANAGER).status for a in ("Hold", "Cancel")))
	winners = [v for v in results if isinstance(v, str)]
	losers = [v for v in results if isinstance(v, Exception)]
	assert len(winners) == 1 and len(losers) == 1, results
	assert isinstance(losers[0], frappe.ValidationError) and str(losers[0]), losers
	doc = frappe.get_doc("Service Job Card", jc.name)
	assert doc.status == winners[0]
	assert [(r.from_status, r.to_status) for r in doc.status_log] == [("Open", winners[0])]


@pytest.mark.commits
def test_deadlock_victim_is_retried_and_lands():
	"""Two transactions lock two rows in opposite orders (as saves of neighbouring job cards do
	with the gap locks of their child rows): the database rolls one back as a deadlock victim,
	and the retry runs it again, so both land; the victim ran twice."""
	import threading

	from aftersales_dms.controllers.guards import call_with_deadlock_retry

	first, second = frappe.get_all("Service Bay", pluck="name", order_by="name", limit=2)
	both_hold_one, runs = threading.Barrier(2), []

	def cross(a, b):
		runs.append(a)
		frappe.db.sql("select name from `tabService Bay` where name = %s for update", a)
		if len(runs) <= 2:  # the first two runs meet here; the retry does not wait
			both_hold_one.wait(timeout=30)
		frappe.db.sql("select name from `tabService Bay` where name = %s for update", b)
		return a

	results = at_once(
		lambda: call_with_deadlock_retry(cross, first, second),
		lambda: call_with_deadlock_retry(cross, second, first),
	)
	assert results == [first, second], results
	assert len(runs) == 3 and runs[2] in (first, second), runs


@pytest.mark.commits
def test_parallel_clock_ons_of_one_technician_one_wins():
	"""The same technician clocks on two job cards at the same moment (two tablets): one clock
	opens, the other is refused — one open clock per technician holds under concurrency."""
	from aftersales_dms.workshop.doctype.service_job_card.service_job_card import (
		clock_labour,
		technician_open_clock,
	)

	amit = frappe.db.get_value("Service Technician", {"user": AMIT})
	assert not technician_open_clock(amit), "the technician is clocked on already (a stopped run?)"
	cards = [make_job_card(labour=("LAB-DIAG",), technicians=("Amit",)) for _ in range(2)]
	frappe.db.commit()
	try:
		results = at_once(
			*(lambda jc=jc: clock_labour(jc.name, jc.labour[0].name, "start") or jc.name for jc in cards),
			user=AMIT,
		)
		winners = [v for v in results if isinstance(v, str)]
		losers = [v for v in results if isinstance(v, Exception)]
		assert len(winners) == 1 and len(losers) == 1, results
		assert "already clocked on" in str(losers[0]), losers
		assert technician_open_clock(amit) == winners[0]
	finally:  # clock off again: later tests clock this technician
		for jc in cards:
			if frappe.db.exists(
				"Service Job Card Time Log", {"parent": jc.name, "to_time": ("is", "not set")}
			):
				as_user(AMIT, clock_labour, jc.name, jc.labour[0].name, "finish")
		frappe.db.commit()


@pytest.mark.commits
def test_parallel_check_ins_of_one_vehicle_both_land():
	"""Two advisors submit check-ins of the same vehicle at the same moment, each on its own
	connection: both are submitted and the vehicle keeps both odometer readings (the vehicle is
	read under its lock, so neither save finds it "modified after you opened it")."""
	from aftersales_dms.booking.capacity import find_slots
	from aftersales_dms.booking.doctype.service_appointment.test_service_appointment import (
		future_day,
		make_appointment,
	)
	from aftersales_dms.reception.doctype.vehicle_check_in.vehicle_check_in import make_check_in
	from aftersales_dms.tests.test_reception_journey import VEHICLE, next_odometer

	odometer = next_odometer()
	check_ins = []
	for _ in range(2):
		day = future_day() + timedelta(days=21)  # the first free slot from then (a reused test
		slot = find_slots(  # site keeps earlier runs' appointments)
			"Orion Motors Pune", day, day + timedelta(days=30), services=["LAB-DIAG"], limit=1
		)[0]
		appt = make_appointment(
			slot["start"],
			bay=slot["service_bay"],
			tech=None,
			technician=slot["technician"],
			services=("LAB-DIAG",),
		)
		appt.confirm()
		ci = make_check_in(appt.name)
		ci.update({"odometer": odometer, "fuel_level": "1/2"})
		check_ins.append(ci.insert().name)
	frappe.db.commit()
	results = at_once(
		*(lambda n=n: frappe.get_doc("Vehicle Check In", n).submit().docstatus for n in check_ins)
	)
	assert results == [1, 1], results
	readings = frappe.get_all(
		"Vehicle Odometer Reading",
		filters={"parent": VEHICLE, "source_name": ("in", check_ins)},
		pluck="source_name",
	)
	assert sorted(readings) == sorted(check_ins)
