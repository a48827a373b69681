# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

"""The reports against the ledger and the job cards they are computed from, and their isolation."""

from datetime import timedelta
from unittest.mock import patch

import frappe
import pytest
from frappe.desk.query_report import run
from frappe.tests.utils import FrappeTestCase
from frappe.utils import (
	add_days,
	flt,
	get_datetime,
	get_first_day,
	get_last_day,
	getdate,
	now_datetime,
	today,
)

from aftersales_dms.analytics.report.workshop_revenue.workshop_revenue import from_invoices
from aftersales_dms.analytics.revenue_rollup import rebuild
from aftersales_dms.analytics.technician_days import rebuild as rebuild_days
from aftersales_dms.analytics.technician_days import refresh_stale
from aftersales_dms.billing.doctype.oem_warranty_claim.oem_warranty_claim import make_credit_note
from aftersales_dms.billing.invoice import make_invoices
from aftersales_dms.billing.test_invoice import ACCOUNTANT, ready_job_card, submit_as_accountant
from aftersales_dms.tests.races import at_once
from aftersales_dms.workshop.doctype.service_job_card.test_service_job_card import make_job_card
from aftersales_dms.workshop.test_job_card_status import AMIT, MANAGER, act, as_user

PUNE, NASHIK = "Orion Motors Pune", "Orion Motors Nashik"
MONTH = {"from_date": str(get_first_day(today())), "to_date": str(get_last_day(today()))}


def report(name, user="Administrator", **filters):
	result = as_user(user, run, name, {**MONTH, **filters})
	return result["result"]


def ledger_service_revenue(company):
	"""Income booked by service invoices this month, straight from the GL."""
	return flt(
		frappe.db.sql(
			"""select sum(gle.credit - gle.debit) from `tabGL Entry` gle
			join `tabSales Invoice` si on si.name = gle.voucher_no
			join `tabAccount` acc on acc.name = gle.account
			where gle.is_cancelled = 0 and acc.root_type = 'Income' and si.company = %s
				and ifnull(si.dms_service_job_card, '') != '' and gle.posting_date between %s and %s""",
			(company, MONTH["from_date"], MONTH["to_date"]),
		)[0][0],
		2,
	)


def kept_months():
	"""Workshop Revenue Month as kept, every dealer and month."""
	return frappe.db.sql(
		"""select company, date_format(month, '%Y-%m'), invoices, job_cards, round(labour, 2),
			round(parts, 2), round(customer_pay, 2), round(warranty, 2), round(internal, 2),
			round(total, 2)
		from `tabWorkshop Revenue Month` where invoices != 0 order by company, month"""
	)


def invoice_months():
	"""The same figures summed from the submitted service invoices."""
	return frappe.db.sql(
		"""select si.company, date_format(si.posting_date, '%Y-%m'), count(*),
			count(distinct si.dms_service_job_card), round(sum(si.dms_labour_amount), 2),
			round(sum(si.dms_parts_amount), 2),
			round(sum(case when si.dms_bill_to in ('Customer', 'Re-bill') then si.base_net_total else 0 end), 2),
			round(sum(case when si.dms_bill_to = 'Warranty' then si.base_net_total else 0 end), 2),
			round(sum(case when si.dms_bill_to = 'Internal' then si.base_net_total else 0 end), 2),
			round(sum(si.base_net_total), 2)
		from `tabSales Invoice` si
		where si.docstatus = 1 and ifnull(si.dms_service_job_card, '') != ''
		group by si.company, date_format(si.posting_date, '%Y-%m')
		order by si.company, date_format(si.posting_date, '%Y-%m')"""
	)


def revenue_figures(rows):
	keys = ("month", "company", "labour", "parts", "customer_pay", "warranty", "internal", "total")
	return [
		(*(flt(r[k], 2) if k not in ("month", "company") else r[k] for k in keys), r["job_cards"])
		for r in rows
		if isinstance(r, dict)
	]


def kept_days():
	"""Technician Work Day as kept, every technician and day."""
	return [
		(t, str(d), flt(c, 4), n, lines, flt(sold, 4), flt(comp, 4), jobs)
		for t, d, c, n, lines, sold, comp, jobs in frappe.db.sql(
			"""select technician, day, clocked_hours, clock_logs, lines_done, sold_hours,
				completion_hours, jobs_done
			from `tabTechnician Work Day` order by technician, day"""
		)
	]


def fresh_days():
	"""Technician Work Day once the background job has recomputed the stale rows."""
	refresh_stale()
	return kept_days()


def clock_days():
	"""The same figures worked out here from the clock entries and finished lines."""
	days = {}

	def day(technician, at):
		return days.setdefault((technician, str(getdate(at))), [0.0, 0, 0, 0.0, 0.0, 0])

	for technician, start, hours in frappe.db.sql(
		"""select technician, from_time, hours from `tabService Job Card Time Log`
		where to_time is not null and ifnull(technician, '') != ''"""
	):
		row = day(technician, start)
		row[0] += flt(hours)
		row[1] += 1
	last = {}
	for technician, job, finished, started, sold in frappe.db.sql(
		"""select technician, parent, finished_on, started_on, standard_hours
		from `tabService Job Card Labour`
		where work_status = 'Done' and finished_on is not null and ifnull(technician, '') != ''"""
	):
		row = day(technician, finished)
		row[2] += 1
		row[3] += flt(sold)
		row[4] += (get_datetime(finished) - get_datetime(started)).total_seconds() / 3600 if started else 0
		last[technician, job] = max(last.get((technician, job), finished), finished)
	for (technician, _job), finished in last.items():
		day(technician, finished)[5] += 1
	return [
		(t, d, flt(c, 4), n, lines, flt(sold, 4), flt(comp, 4), jobs)
		for (t, d), (c, n, lines, sold, comp, jobs) in sorted(days.items())
	]


class TestReports(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def test_monthly_revenue_equals_the_ledger(self):
		jc = ready_job_card(
			labour=(("LAB-PMS-CAR", "Customer"), ("LAB-DIAG", "Warranty")),
			parts=(("PRT-OIL-FILTER-C", 1, "Customer"),),
		)
		for invoice in make_invoices(jc.name).values():
			submit_as_accountant(invoice)
		row = next(r for r in report("Workshop Revenue", company=PUNE) if r.get("company") == PUNE)
		self.assertEqual(flt(row["total"], 2), ledger_service_revenue(PUNE))
		self.assertEqual(flt(row["labour"] + row["parts"], 2), flt(row["total"], 2))
		self.assertEqual(
			flt(row["customer_pay"] + row["warranty"] + row["internal"], 2), flt(row["total"], 2)
		)
		self.assertGreaterEqual(row["warranty"], 0.8 * 1100)

	def test_technician_efficiency_from_the_job_clock(self):
		ready_job_card(parts=(), clock_hours=2)  # 2.5 sold hours, 2 clocked
		amit = frappe.db.get_value("Service Technician", {"user": AMIT})
		row = next(r for r in report("Technician Efficiency", company=PUNE) if r["technician"] == amit)
		clocked = flt(
			frappe.db.sql(
				"""select sum(hours) from `tabService Job Card Time Log` l join `tabService Job Card` jc
				on jc.name = l.parent where l.technician = %s and jc.company = %s and l.to_time is not null
				and l.from_time >= %s and l.from_time < %s""",
				(amit, PUNE, MONTH["from_date"], add_days(MONTH["to_date"], 1)),
			)[0][0],
			2,
		)
		self.assertEqual(row["clocked_hours"], clocked)
		self.assertGreaterEqual(row["sold_hours"], 2.5)
		self.assertEqual(row["efficiency"], flt(100 * row["sold_hours"] / row["clocked_hours"], 0))
		self.assertEqual(row["productivity"], flt(100 * row["clocked_hours"] / row["attendance_hours"], 0))

	def test_technician_efficiency_not_rated_on_a_few_seconds_of_clock(self):
		"""36 seconds clocked against a finished line's sold hours read 10,000 % and more: the
		report leaves efficiency blank and says why; an implausible figure is rounded and flagged."""
		from aftersales_dms.analytics.report.technician_efficiency.technician_efficiency import (
			MAX_PLAUSIBLE_EFFICIENCY,
			rate,
		)

		raju_user = "tech.raju@omp.example"
		raju = frappe.db.get_value("Service Technician", {"user": raju_user})
		jc = make_job_card(labour=("LAB-PMS-CAR",), technicians=("Raju",))
		line = jc.labour[0].name
		t0 = now_datetime() - timedelta(hours=1)
		module = "aftersales_dms.workshop.doctype.service_job_card.service_job_card.now_datetime"
		with patch(module, return_value=t0):
			as_user(raju_user, jc.start_work, line)
		jc.reload()
		with patch(module, return_value=t0 + timedelta(seconds=36)):
			as_user(raju_user, jc.finish_work, line)
		row = next(r for r in report("Technician Efficiency", company=PUNE) if r["technician"] == raju)
		self.assertLess(row["clocked_hours"], 0.1)  # only the 36 seconds this month
		self.assertGreater(row["sold_hours"], 0)
		self.assertIsNone(row["efficiency"])
		self.assertIn("Too little clocked time", row["note"])

		self.assertEqual(rate(2.5, 2), (125, ""))
		self.assertEqual(rate(2, 3), (67, ""))  # whole percent
		self.assertEqual(rate(0, 0), (None, ""))  # nothing to rate, nothing to say
		efficiency, note = rate(5, 1)
		self.assertEqual(efficiency, 500)
		self.assertGreater(efficiency, MAX_PLAUSIBLE_EFFICIENCY)
		self.assertIn("Implausible", note)

	def test_kept_figures_equal_the_lines_and_the_upgrade_patch_rebuilds_them(self):
		jc = ready_job_card(
			labour=(("LAB-PMS-CAR", "Customer"), ("LAB-DIAG", "Warranty")),
			parts=(("PRT-OIL-FILTER-C", 1, "Customer"),),
			clock_hours=1,
		)
		for invoice in make_invoices(jc.name).values():
			submit_as_accountant(invoice)

		def from_lines():
			return frappe.db.sql(
				"""select si.name,
					round(sum(case when i.dms_item_kind = 'Labour' then sii.base_net_amount else 0 end), 2),
					round(sum(case when i.dms_item_kind = 'Part' then sii.base_net_amount else 0 end), 2)
				from `tabSales Invoice` si join `tabSales Invoice Item` sii on sii.parent = si.name
				left join `tabItem` i on i.name = sii.item_code
				where ifnull(si.dms_service_job_card, '') != '' group by si.name order by si.name"""
			)

		def kept_on_invoices():
			return frappe.db.sql(
				"""select name, round(dms_labour_amount, 2), round(dms_parts_amount, 2)
				from `tabSales Invoice` where ifnull(dms_service_job_card, '') != '' order by name"""
			)

		def from_logs():
			return frappe.db.sql(
				"""select lab.name, min(l.from_time), if(lab.work_status = 'Done', max(l.to_time), null)
				from `tabService Job Card Labour` lab
				join `tabService Job Card Time Log` l on l.labour_line = lab.name
				group by lab.name order by lab.name"""
			)

		def kept_on_lines():
			return frappe.db.sql(
				"""select name, started_on, finished_on from `tabService Job Card Labour`
				where name in (select labour_line from `tabService Job Card Time Log`) order by name"""
			)

		self.assertTrue(any(r[1] and r[2] for r in kept_on_invoices()))
		self.assertEqual(kept_on_invoices(), from_lines())
		self.assertEqual(kept_on_lines(), from_logs())
		frappe.db.sql("update `tabSales Invoice` set dms_labour_amount = 0, dms_parts_amount = 0")
		frappe.db.sql("update `tabService Job Card Labour` set started_on = null, finished_on = null")
		from aftersales_dms.patches.v1_0.report_rollups import execute

		execute()
		self.assertEqual(kept_on_invoices(), from_lines())
		self.assertEqual(kept_on_lines(), from_logs())

	def test_revenue_kept_per_dealer_and_month_equals_the_invoices(self):
		"""Submits, a credit note and a cancellation keep Workshop Revenue Month equal to the
		invoices; the report reads whole months from it and partial months from the invoices,
		and shows what the invoices alone say for any range."""
		self.assertEqual(kept_months(), invoice_months())
		jc = ready_job_card(
			labour=(("LAB-PMS-CAR", "Customer"), ("LAB-DIAG", "Warranty")),
			parts=(("PRT-OIL-FILTER-C", 1, "Customer"),),
		)
		invoices = make_invoices(jc.name)
		month = get_first_day(today())

		def pune_now():
			return frappe.db.get_value(
				"Workshop Revenue Month", f"{PUNE}|{month:%Y-%m}", ["invoices", "job_cards"]
			) or (0, 0)

		before = pune_now()
		submit_as_accountant(invoices["Customer"])
		self.assertEqual(kept_months(), invoice_months())
		self.assertEqual(pune_now(), (before[0] + 1, before[1] + 1))
		submit_as_accountant(invoices["Warranty"])
		self.assertEqual(kept_months(), invoice_months())
		self.assertEqual(pune_now(), (before[0] + 2, before[1] + 1))  # one job card, two invoices
		make_credit_note(invoices["Warranty"], "rejected in a test")
		self.assertEqual(kept_months(), invoice_months())
		frappe.get_doc("Sales Invoice", invoices["Customer"]).cancel()
		self.assertEqual(kept_months(), invoice_months())
		self.assertEqual(pune_now(), (before[0] + 2, before[1] + 1))  # the warranty pair is left

		first = get_first_day(today())
		for start, end in (
			(first, get_last_day(today())),  # one whole month
			(add_days(first, -20), today()),  # a partial month, then this one in part
			(add_days(get_first_day(add_days(first, -1)), 3), get_last_day(today())),
			(add_days(today(), -400), add_days(today(), 40)),  # a year and more, partial ends
		):
			with self.subTest(start=start, end=end):
				expected = sorted(
					from_invoices([PUNE, NASHIK], start, end), key=lambda r: (r.month, r.company)
				)
				shown = report("Workshop Revenue", from_date=str(start), to_date=str(end))
				self.assertEqual(revenue_figures(shown), revenue_figures(expected))
				self.assertTrue(expected)

		kept = kept_months()
		frappe.db.sql("delete from `tabWorkshop Revenue Month`")
		rebuild()  # the upgrade patch
		self.assertEqual(kept_months(), kept)
		self.assertFalse(frappe.has_permission("Workshop Revenue Month", "read", user=ACCOUNTANT))
		for doctype in ("Workshop Revenue Month", "Workshop Revenue Job Card Month"):
			self.assertFalse(any(p.create or p.write for p in frappe.get_meta(doctype).permissions))

	def test_technician_days_kept_with_the_clock_equal_the_job_cards(self):
		"""The clock, a finished line's sold hours changed, and a deleted job card mark the
		technician's days stale; recomputed (the job after the commit), Technician Work Day equals
		the job cards; the report is exact before that too."""
		self.assertEqual(fresh_days(), clock_days())
		jc = ready_job_card(labour=(("LAB-PMS-CAR", "Customer"), ("LAB-DIAG", "Customer")), parts=())
		self.assertEqual(fresh_days(), clock_days())
		jc.labour[0].standard_hours = 3.7
		as_user(MANAGER, jc.save)
		amit = frappe.db.get_value("Service Technician", {"user": AMIT})
		self.assertTrue(frappe.db.exists("Technician Work Day", {"technician": amit, "stale": 1}))

		def check_report():
			row = next(r for r in report("Technician Efficiency", company=PUNE) if r["technician"] == amit)
			month = [
				d for d in clock_days() if d[0] == amit and MONTH["from_date"] <= d[1] <= MONTH["to_date"]
			]
			self.assertEqual(row["clocked_hours"], flt(sum(d[2] for d in month), 2))
			self.assertEqual(row["sold_hours"], flt(sum(d[5] for d in month), 2))
			self.assertEqual(row["lines_completed"], sum(d[4] for d in month))
			self.assertEqual(row["jobs_completed"], sum(d[7] for d in month))

		check_report()  # with the day still stale: worked out from the job cards
		self.assertEqual(fresh_days(), clock_days())
		check_report()

		other = make_job_card(labour=("LAB-DIAG",), technicians=("Amit",))
		line = other.labour[0].name
		as_user(AMIT, other.start_work, line)
		self.assertEqual(fresh_days(), clock_days())
		other.reload()
		as_user(AMIT, other.finish_work, line)
		self.assertEqual(fresh_days(), clock_days())
		frappe.delete_doc("Service Job Card", other.name)
		self.assertEqual(fresh_days(), clock_days())

		kept = kept_days()
		frappe.db.sql("delete from `tabTechnician Work Day`")
		rebuild_days()  # the upgrade patch
		self.assertEqual(kept_days(), kept)
		self.assertFalse(any(p.create or p.write for p in frappe.get_meta("Technician Work Day").permissions))

	def test_turnaround_per_stage_from_the_status_history(self):
		ready_job_card(parts=())
		# one job card left Open twice (held and resumed, held again): one job card, two transitions
		held = make_job_card(labour=("LAB-DIAG",))
		for action in ("Hold", "Resume", "Hold"):
			act(held.name, action, "advisor@omp.example")
		rows = {r["stage"]: r for r in report("Job Card Turnaround", company=PUNE)}
		for stage in ("Open", "In Progress", "Awaiting Approval", "Repairing", "Quality Check"):
			self.assertGreaterEqual(rows[stage]["job_cards"], 1)
		logged = frappe.db.sql(
			"""select log.from_status, count(distinct log.parent), count(*)
			from `tabService Job Card Status Log` log join `tabService Job Card` jc on jc.name = log.parent
			where jc.company = %s and log.changed_on >= %s and log.changed_on < %s
			group by log.from_status""",
			(PUNE, MONTH["from_date"], add_days(MONTH["to_date"], 1)),
		)
		for stage, job_cards, transitions in logged:
			with self.subTest(stage=stage):
				self.assertEqual(
					(rows[stage]["job_cards"], rows[stage]["transitions"]), (job_cards, transitions)
				)
		self.assertGreater(rows["Open"]["transitions"], rows["Open"]["job_cards"])
		whole = next(r for k, r in rows.items() if k.startswith("Whole visit"))
		ready = frappe.db.sql(
			"""select count(distinct log.parent) from `tabService Job Card Status Log` log
			join `tabService Job Card` jc on jc.name = log.parent
			where jc.company = %s and log.to_status = 'Ready for Pickup'
				and log.changed_on >= %s and log.changed_on < %s""",
			(PUNE, MONTH["from_date"], add_days(MONTH["to_date"], 1)),
		)[0][0]
		self.assertEqual(whole["job_cards"], ready)

	def test_my_operations_shows_a_technician_their_own_open_lines(self):
		jc = make_job_card(labour=("LAB-DIAG", "LAB-PMS-CAR"), technicians=("Amit", "Sunil"))
		amit = frappe.db.get_value("Service Technician", {"user": AMIT})
		sunil = frappe.db.get_value("Service Technician", {"user": "tech.sunil@omp.example"})

		def lines(user, **filters):
			return as_user(user, run, "My Operations", filters)["result"]

		for asked in ({}, {"technician": sunil}):  # a technician sees their own, whatever they ask
			rows = lines(AMIT, **asked)
			self.assertIn((jc.name, "LAB-DIAG"), {(r["job_card"], r["item_code"]) for r in rows})
			self.assertEqual({r["technician"] for r in rows}, {amit})
		rows = lines(MANAGER, technician=sunil)
		self.assertIn((jc.name, "LAB-PMS-CAR"), {(r["job_card"], r["item_code"]) for r in rows})
		self.assertEqual({r["technician"] for r in rows}, {sunil})
		with self.assertRaises(frappe.PermissionError):  # not a report for advisors
			lines("advisor@omp.example")

	def test_comeback_same_vehicle_same_operation(self):
		first = make_job_card(labour=("LAB-BRAKE-PADS",), technicians=("Amit",))
		second = make_job_card(labour=("LAB-BRAKE-PADS", "LAB-DIAG"))
		rows = report("Comebacks", company=PUNE, within_days=30, within_km=1000)
		pairs = {(r["first_job_card"], r["job_card"]) for r in rows}
		self.assertIn((first.name, second.name), pairs)
		self.assertNotIn((second.name, first.name), pairs)
		self.assertFalse(
			any(r["job_card"] == second.name and r["item_name"].startswith("Diag") for r in rows)
		)

	def test_appointments_and_pending_approvals(self):
		# the demo books the coming week
		rows = report(
			"Appointment Volume", company=PUNE, from_date=today(), to_date=str(add_days(today(), 10))
		)
		rows = [r for r in rows if isinstance(r, dict)]  # without the total row
		self.assertGreaterEqual(sum(r["total"] for r in rows), 1)
		self.assertTrue(all(r["company"] == PUNE for r in rows))
		pending = as_user("advisor@omp.example", run, "Pending Approvals", {"company": PUNE})["result"]
		self.assertTrue(all(r["company"] == PUNE for r in pending))

	def test_a_dealer_sees_only_its_own_figures(self):
		for name in ("Workshop Revenue", "Technician Efficiency", "Appointment Volume", "Comebacks"):
			with self.subTest(report=name):
				with self.assertRaises(frappe.PermissionError):
					report(name, "advisor@omn.example", company=PUNE)
				rows = report(name, "advisor@omn.example")
				self.assertTrue(all(r.get("company") in (None, NASHIK) for r in rows if isinstance(r, dict)))
		# every report runs for every role it is made for (its link columns included)
		for name in (
			"Workshop Revenue",
			"Technician Efficiency",
			"Job Card Turnaround",
			"Appointment Volume",
			"Pending Approvals",
			"Comebacks",
		):
			for user in (
				"oem.admin@orion-oem.example",
				"advisor@omp.example",
				"manager@omp.example",
				"accounts@omp.example",
			):
				with self.subTest(report=name, user=user):
					report(name, user)
		# the OEM compares dealers
		rows = report(
			"Appointment Volume",
			"oem.admin@orion-oem.example",
			from_date=today(),
			to_date=str(add_days(today(), 10)),
		)
		self.assertEqual({r["company"] for r in rows if isinstance(r, dict)}, {PUNE, NASHIK})


class TestDashboards(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def test_number_cards_and_charts_load_for_a_dealer(self):
		from frappe.desk.doctype.dashboard_chart.dashboard_chart import get as chart_data
		from frappe.desk.doctype.number_card.number_card import get_result

		from aftersales_dms.analytics.dashboard import average_tat, technician_productivity

		jc = ready_job_card(parts=())
		before = average_tat()["value"]
		frappe.db.set_value(  # as if it had been opened 50 hours ago
			"Service Job Card", jc.name, "creation", frappe.utils.add_to_date(jc.creation, hours=-50)
		)
		frappe.set_user("manager@omp.example")
		self.assertGreater(average_tat()["value"], before)
		self.assertGreaterEqual(technician_productivity()["value"], 0)
		card = frappe.get_doc("Number Card", "Ready for Pickup")
		self.assertGreaterEqual(get_result(card, card.filters_json), 1)
		chart = chart_data(chart_name="Job Cards by Status", refresh=1)
		self.assertIn("Ready for Pickup", chart["labels"])
		frappe.set_user("manager@omn.example")
		chart = chart_data(chart_name="Job Cards by Dealer", refresh=1)  # None: no rows at all
		self.assertNotIn(PUNE, (chart or {}).get("labels", []))
		frappe.set_user("oem.admin@orion-oem.example")
		self.assertIn(PUNE, chart_data(chart_name="Job Cards by Dealer", refresh=1)["labels"])


@pytest.mark.commits
def test_revenue_months_under_concurrent_invoices():
	"""Two accountants submit invoices of two job cards of one dealer at the same moment: both
	add to the same month's row, neither update is lost."""
	cards = [ready_job_card(parts=()) for _ in range(2)]
	names = [make_invoices(jc.name)["Customer"] for jc in cards]
	frappe.db.commit()

	def submit(name):
		frappe.get_doc("Sales Invoice", name).submit()
		return name

	results = at_once(*(lambda n=n: submit(n) for n in names), user=ACCOUNTANT)
	assert results == names, results
	assert kept_months() == invoice_months()


@pytest.mark.commits
def test_technician_days_under_concurrent_changes():
	"""The technician clocks off one job card while a manager changes the sold hours of a line
	they finished on another, at the same moment: both land and the technician's day counts both."""
	done = ready_job_card(parts=())
	other = make_job_card(labour=("LAB-DIAG",), technicians=("Amit",))
	line = other.labour[0].name
	as_user(AMIT, other.start_work, line)
	frappe.db.commit()

	def finish():
		frappe.set_user(AMIT)
		frappe.get_doc("Service Job Card", other.name).finish_work(line)
		return "finished"

	def change_hours():
		frappe.set_user(MANAGER)
		doc = frappe.get_doc("Service Job Card", done.name)
		doc.labour[0].standard_hours = 4.2
		doc.save()
		return "changed"

	results = at_once(finish, change_hours)
	assert results == ["finished", "changed"], results
	assert fresh_days() == clock_days()
