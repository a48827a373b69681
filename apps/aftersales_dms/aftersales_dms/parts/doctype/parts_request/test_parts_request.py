# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt


import frappe
import pytest
from frappe.tests.utils import FrappeTestCase
from frappe.utils import flt

from aftersales_dms.controllers.pricing import dealer_price_list
from aftersales_dms.tests.races import at_once
from aftersales_dms.tests.runner_deps import outside_links
from aftersales_dms.workshop.doctype.service_job_card.test_service_job_card import make_job_card

# Frappe's test runner stops here when it comes from an ERPNext DocType (tests/runner_deps.py)
test_ignore = outside_links("Parts Request")

STORE, WIP = "Parts Store - OMP", "Work In Progress - OMP"
PARTS = "parts@omp.example"


def bin_qty(item, warehouse):
	return flt(frappe.db.get_value("Bin", {"item_code": item, "warehouse": warehouse}, "actual_qty"))


def make_request(items, job_card=None, submit=True):
	job_card = job_card or make_job_card(parts=[{"item_code": i, "qty": q} for i, q in items]).name
	pr = frappe.get_doc(
		{
			"doctype": "Parts Request",
			"service_job_card": job_card,
			"items": [{"item_code": i, "qty": q} for i, q in items],
		}
	).insert()
	if submit:
		pr.submit()
	return pr


class TestPartsRequest(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def test_availability_from_bin(self):
		pr = make_request([("PRT-OIL-FILTER-C", 2), ("PRT-COOLANT-1L", 1)], submit=False)
		rows = {r.item_code: r for r in pr.items}
		self.assertEqual(rows["PRT-OIL-FILTER-C"].actual_qty, bin_qty("PRT-OIL-FILTER-C", STORE))
		self.assertEqual(rows["PRT-COOLANT-1L"].actual_qty, 0)
		self.assertEqual(
			(pr.store_warehouse, pr.wip_warehouse, pr.company), (STORE, WIP, "Orion Motors Pune")
		)

	def test_issue_and_return_through_stock_entries(self):
		before_store, before_wip = bin_qty("PRT-SPARK-PLUG", STORE), bin_qty("PRT-SPARK-PLUG", WIP)
		pr = make_request([("PRT-SPARK-PLUG", 4)])
		frappe.set_user("parts@omp.example")
		result = pr.issue_parts()
		self.assertEqual(result["issued"], [("PRT-SPARK-PLUG", 4)])
		se = frappe.get_doc("Stock Entry", {"dms_parts_request": pr.name, "docstatus": 1})
		self.assertEqual(
			(se.purpose, se.items[0].s_warehouse, se.items[0].t_warehouse), ("Material Transfer", STORE, WIP)
		)
		self.assertEqual(bin_qty("PRT-SPARK-PLUG", STORE), before_store - 4)
		self.assertEqual(bin_qty("PRT-SPARK-PLUG", WIP), before_wip + 4)
		pr.reload()
		self.assertEqual((pr.status, pr.items[0].issued_qty), ("Issued", 4))
		part = frappe.get_all(
			"Service Job Card Part", filters={"parent": pr.service_job_card}, fields=["issued_qty"]
		)
		self.assertEqual(part[0].issued_qty, 4)
		sle = frappe.get_all(
			"Stock Ledger Entry",
			filters={"voucher_no": se.name, "is_cancelled": 0},
			fields=["warehouse", "actual_qty"],
		)
		self.assertEqual(sorted((r.warehouse, r.actual_qty) for r in sle), [(STORE, -4), (WIP, 4)])

		pr.return_parts("PRT-SPARK-PLUG", 1)
		pr.reload()
		self.assertEqual((pr.items[0].returned_qty, pr.status), (1, "Partially Issued"))
		self.assertEqual(bin_qty("PRT-SPARK-PLUG", STORE), before_store - 3)
		with self.assertRaisesRegex(frappe.ValidationError, "3.0 can be returned, not 5"):
			pr.return_parts("PRT-SPARK-PLUG", 5)
		frappe.set_user("Administrator")
		with self.assertRaisesRegex(frappe.ValidationError, "Return the issued parts first"):
			pr.cancel()

	def test_shortage_raises_material_request_and_parts_manager_todo(self):
		in_store = bin_qty("PRT-BATTERY-12V", STORE)
		pr = make_request([("PRT-BATTERY-12V", in_store + 2), ("PRT-COOLANT-1L", 3)])
		frappe.set_user("parts@omp.example")
		result = pr.issue_parts()
		self.assertEqual(result["issued"], [("PRT-BATTERY-12V", in_store)])
		self.assertEqual(sorted(result["shortages"]), [("PRT-BATTERY-12V", 2), ("PRT-COOLANT-1L", 3)])
		mr = frappe.get_doc("Material Request", result["material_request"])
		self.assertEqual(
			(mr.material_request_type, mr.docstatus, mr.dms_service_job_card),
			("Purchase", 1, pr.service_job_card),
		)
		self.assertEqual(
			sorted((i.item_code, i.qty, i.warehouse) for i in mr.items),
			[("PRT-BATTERY-12V", 2, STORE), ("PRT-COOLANT-1L", 3, STORE)],
		)
		todo = frappe.get_all(
			"ToDo",
			filters={"reference_type": "Material Request", "reference_name": mr.name},
			pluck="allocated_to",
		)
		self.assertEqual(todo, ["parts@omp.example"])
		pr.reload()
		self.assertEqual(pr.status, "Partially Issued")
		self.assertEqual(bin_qty("PRT-BATTERY-12V", STORE), 0)

	def test_rules(self):
		pr = make_request([("PRT-AIR-FILTER-C", 1)])
		frappe.set_user("advisor@omp.example")
		with self.assertRaisesRegex(frappe.PermissionError, "Only a Parts Manager"):
			pr.issue_parts()
		frappe.set_user("Administrator")
		for items, message in [
			([("LAB-DIAG", 1)], "not a stock part"),
			([("PRT-AIR-FILTER-C", 0)], "more than 0"),
			([("PRT-AIR-FILTER-C", -2)], "more than 0"),
			([("PRT-AIR-FILTER-C", 10**6)], "at most 10,000"),
			([("PRT-AIR-FILTER-C", 1), ("PRT-AIR-FILTER-C", 1)], "listed twice"),
		]:
			with self.subTest(items=items), self.assertRaisesRegex(frappe.ValidationError, message):
				make_request(items, job_card=pr.service_job_card, submit=False)

	def test_issued_quantity_on_the_job_card_cannot_be_forged(self):
		pr = make_request([("PRT-OIL-5W30-1L", 4)])
		pr.issue_parts()
		jc = frappe.get_doc("Service Job Card", pr.service_job_card)
		jc.parts[0].issued_qty = 0
		jc.save()
		self.assertEqual(frappe.db.get_value("Service Job Card Part", jc.parts[0].name, "issued_qty"), 4)
		jc.parts[0].qty = 2
		with self.assertRaisesRegex(frappe.ValidationError, "cannot be lower"):
			jc.save()


@pytest.mark.commits
def test_concurrent_issue_of_the_last_unit_one_wins():
	"""Two parts managers issue the last unit at the same moment, each on its own connection."""
	item = "PRT-RACE-LAST-UNIT"
	if not frappe.db.exists("Item", item):
		frappe.get_doc(
			{
				"doctype": "Item",
				"item_code": item,
				"item_name": "Race test part",
				"item_group": "DMS Parts",
				"stock_uom": "Nos",
				"is_stock_item": 1,
				"valuation_rate": 100,
				"dms_item_kind": "Part",
			}
		).insert()
	price_list = dealer_price_list("Orion Motors Pune")
	if not frappe.db.exists("Item Price", {"item_code": item, "price_list": price_list}):
		# a part the dealer sells has a price (a job card line without one is refused)
		frappe.get_doc(
			{"doctype": "Item Price", "item_code": item, "price_list": price_list, "price_list_rate": 150}
		).insert()
	have = bin_qty(item, STORE)  # bring the store to exactly one unit
	if have != 1:
		receipt = have < 1
		frappe.get_doc(
			{
				"doctype": "Stock Entry",
				"stock_entry_type": "Material Receipt" if receipt else "Material Issue",
				"company": "Orion Motors Pune",
				"items": [
					{
						"item_code": item,
						"qty": abs(1 - have),
						"basic_rate": 100,
						"t_warehouse" if receipt else "s_warehouse": STORE,
					}
				],
			}
		).insert().submit()
	requests = [make_request([(item, 1)]).name for _ in range(2)]
	frappe.db.commit()
	assert bin_qty(item, STORE) == 1

	results = at_once(
		*(lambda n=n: frappe.get_doc("Parts Request", n).issue_parts() for n in requests),
		user="parts@omp.example",
	)
	issued = [r for r in results if isinstance(r, dict) and r["issued"]]
	short = [r for r in results if isinstance(r, dict) and not r["issued"]]
	assert len(issued) == 1 and len(short) == 1, results
	assert short[0]["shortages"] == [(item, 1)] and short[0]["material_request"]
	assert bin_qty(item, STORE) == 0
	assert frappe.db.count("Stock Entry", {"dms_parts_request": ("in", requests), "docstatus": 1}) == 1


class TestPartsRequestFromJobCard(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def test_mapped_from_the_job_cards_unissued_parts(self):
		from aftersales_dms.parts.doctype.parts_request.parts_request import make_parts_request

		jc = make_job_card(
			parts=[{"item_code": "PRT-OIL-5W30-1L", "qty": 4}, {"item_code": "PRT-OIL-FILTER-C", "qty": 1}]
		)
		first = make_parts_request(jc.name)
		self.assertEqual(
			[(r.item_code, r.qty) for r in first.items], [("PRT-OIL-5W30-1L", 4), ("PRT-OIL-FILTER-C", 1)]
		)
		first.items = first.items[:1]
		first.insert().submit()
		first.issue_parts()
		second = make_parts_request(jc.name)
		self.assertEqual([(r.item_code, r.qty) for r in second.items], [("PRT-OIL-FILTER-C", 1)])
		self.assertEqual(second.service_job_card, jc.name)

	def test_a_part_the_customer_declined_is_neither_requested_nor_issued(self):
		from aftersales_dms.parts.doctype.parts_request.parts_request import make_parts_request

		jc = make_job_card(
			parts=[{"item_code": "PRT-OIL-5W30-1L", "qty": 4}, {"item_code": "PRT-AIR-FILTER-C", "qty": 1}]
		)
		declined = next(r for r in jc.parts if r.item_code == "PRT-AIR-FILTER-C")
		# the customer's decision, as the approval page records it (a system field)
		frappe.db.set_value("Service Job Card Part", declined.name, "customer_decision", "Declined")
		mapped = make_parts_request(jc.name)
		self.assertEqual([r.item_code for r in mapped.items], ["PRT-OIL-5W30-1L"])
		# a request that lists it anyway (REST) is refused
		with self.assertRaisesRegex(frappe.ValidationError, "the customer declined PRT-AIR-FILTER-C"):
			make_request([("PRT-OIL-5W30-1L", 4), ("PRT-AIR-FILTER-C", 1)], job_card=jc.name)
		# one submitted before the customer declined does not issue it
		frappe.db.set_value("Service Job Card Part", declined.name, "customer_decision", None)
		before = bin_qty("PRT-AIR-FILTER-C", STORE)
		pr = make_request([("PRT-OIL-5W30-1L", 4), ("PRT-AIR-FILTER-C", 1)], job_card=jc.name)
		frappe.db.set_value("Service Job Card Part", declined.name, "customer_decision", "Declined")
		frappe.set_user("parts@omp.example")
		result = pr.issue_parts()
		self.assertEqual(result["issued"], [("PRT-OIL-5W30-1L", 4)])
		self.assertEqual(bin_qty("PRT-AIR-FILTER-C", STORE), before)


PER_LINE_ITEM = "PRT-PER-LINE-TEST"
DEALERS = {
	# dealer: (vehicle, advisor, parts manager, store, WIP)
	"Orion Motors Pune": (
		"MA1TA2XX6GH123456",
		"advisor@omp.example",
		"parts@omp.example",
		STORE,
		WIP,
	),
	"Orion Motors Nashik": (
		"MD2A11XX8JWA98765",
		"advisor@omn.example",
		"parts@omn.example",
		"Parts Store - OMN",
		"Work In Progress - OMN",
	),
}


def as_user(user, fn, *args, **kwargs):
	frappe.set_user(user)
	try:
		return fn(*args, **kwargs)
	finally:
		frappe.set_user("Administrator")


def per_line_item():
	"""A part of its own (its stock is this test's alone), priced at both dealers."""
	if not frappe.db.exists("Item", PER_LINE_ITEM):
		frappe.get_doc(
			{
				"doctype": "Item",
				"item_code": PER_LINE_ITEM,
				"item_name": "Per-line test part",
				"item_group": "DMS Parts",
				"stock_uom": "Nos",
				"is_stock_item": 1,
				"valuation_rate": 100,
				"dms_item_kind": "Part",
			}
		).insert()
	for company in DEALERS:
		price_list = dealer_price_list(company)
		if not frappe.db.exists("Item Price", {"item_code": PER_LINE_ITEM, "price_list": price_list}):
			frappe.get_doc(
				{
					"doctype": "Item Price",
					"item_code": PER_LINE_ITEM,
					"price_list": price_list,
					"price_list_rate": 150,
				}
			).insert()
	return PER_LINE_ITEM


def set_store(item, company, warehouse, qty, user):
	"""The dealer's parts manager brings the store to exactly qty units."""
	have = bin_qty(item, warehouse)
	if have == qty:
		return
	receipt = have < qty
	se = frappe.get_doc(
		{
			"doctype": "Stock Entry",
			"stock_entry_type": "Material Receipt" if receipt else "Material Issue",
			"company": company,
			"items": [
				{
					"item_code": item,
					"qty": abs(qty - have),
					"basic_rate": 100,
					"t_warehouse" if receipt else "s_warehouse": warehouse,
				}
			],
		}
	)
	as_user(user, lambda: se.insert().submit())


def line_issued(job_card):
	return [
		flt(q)
		for q in frappe.get_all(
			"Service Job Card Part",
			filters={"parent": job_card},
			pluck="issued_qty",
			order_by="idx",
		)
	]


def job_ledger(job_card, warehouse):
	"""Net quantity the job's parts Stock Entries moved into the WIP warehouse (stock ledger)."""
	return flt(
		frappe.db.sql(
			"""select sum(sle.actual_qty) from `tabStock Ledger Entry` sle
			join `tabStock Entry` se on se.name = sle.voucher_no
			where se.dms_service_job_card = %s and sle.warehouse = %s and sle.is_cancelled = 0""",
			(job_card, warehouse),
		)[0][0]
	)


def stocked_job_card(company, item, stock, parts):
	"""The dealer's store holds `stock` of `item` (set by its parts manager) and its advisor opens a
	job card with these part lines."""
	vehicle, advisor, parts_user, store, _wip = DEALERS[company]
	set_store(item, company, store, stock, parts_user)
	return as_user(advisor, make_job_card, company=company, vehicle=vehicle, parts=parts)


class TestPartsPerLine(FrappeTestCase):
	"""Issued = billed, per line (#19): the same part on two lines of a job card."""

	def tearDown(self):
		frappe.set_user("Administrator")

	def test_two_lines_of_one_part_requested_issued_returned_raised_and_requested_again(self):
		from aftersales_dms.parts.doctype.parts_request.parts_request import make_parts_request

		item = per_line_item()
		for company, (_vehicle, advisor, parts, store, wip) in DEALERS.items():
			with self.subTest(company=company):
				jc = stocked_job_card(
					company, item, 2, [{"item_code": item, "qty": 2}, {"item_code": item, "qty": 1}]
				)
				a, b = (r.name for r in jc.parts)
				# the advisor asks for both lines: one row each, pointing at its line
				first = as_user(advisor, make_parts_request, jc.name)
				self.assertEqual([(r.job_card_part, r.qty) for r in first.items], [(a, 2), (b, 1)])
				as_user(advisor, lambda doc=first: doc.insert().submit())
				# two in the store: line A gets both, line B is short
				result = as_user(parts, frappe.get_doc("Parts Request", first.name).issue_parts)
				self.assertEqual((result["issued"], result["shortages"]), ([(item, 2)], [(item, 1)]))
				self.assertEqual(line_issued(jc.name), [2, 0])
				# one unit of line A comes back
				first.reload()
				as_user(parts, first.return_parts, row=first.items[0].name, qty=1)
				self.assertEqual(line_issued(jc.name), [1, 0])
				first.reload()
				self.assertEqual([(r.issued_qty, r.returned_qty) for r in first.items], [(2, 1), (0, 0)])
				# the advisor raises line A to 3 (every save used to fail: "2.0 are issued")
				jc = frappe.get_doc("Service Job Card", jc.name)
				jc.parts[0].qty = 3
				as_user(advisor, jc.save)
				# a new request asks only for what is missing: line A lacks 3 - 1 issued - 1 still
				# requested by the first request; line B's unit is still requested
				second = as_user(advisor, make_parts_request, jc.name)
				self.assertEqual([(r.job_card_part, r.qty) for r in second.items], [(a, 1)])
				as_user(advisor, lambda doc=second: doc.insert().submit())
				# nothing is left to ask for, and asking more than a line lacks is refused
				with self.assertRaisesRegex(frappe.ValidationError, "issued or requested already"):
					as_user(advisor, make_parts_request, jc.name)
				third = frappe.get_doc(
					{
						"doctype": "Parts Request",
						"service_job_card": jc.name,
						"items": [{"item_code": item, "qty": 1, "job_card_part": b}],
					}
				)
				with self.assertRaisesRegex(frappe.ValidationError, "needs 0 more"):
					as_user(advisor, lambda doc=third: doc.insert().submit())
				# stock arrives; both requests issue what their lines lack, never more
				set_store(item, company, store, 10, parts)
				result = as_user(parts, frappe.get_doc("Parts Request", first.name).issue_parts)
				self.assertEqual(result["issued"], [(item, 2)])
				result = as_user(parts, frappe.get_doc("Parts Request", second.name).issue_parts)
				self.assertEqual(result["issued"], [(item, 1)])
				self.assertEqual(line_issued(jc.name), [3, 1])
				with self.assertRaisesRegex(frappe.ValidationError, "already issued"):
					as_user(parts, frappe.get_doc("Parts Request", second.name).issue_parts)
				# the stock ledger of the job equals what its lines hold: issued less returned
				self.assertEqual(job_ledger(jc.name, wip), 4)
				self.assertEqual(bin_qty(item, store), 10 - 3)
				# the job card saves as before (workflow actions and the clock save it too)
				jc = frappe.get_doc("Service Job Card", jc.name)
				jc.concerns = "per-line test"
				as_user(advisor, jc.save)
				# a line's issued part is its own: it cannot turn into another part
				jc.parts[1].item_code = "PRT-OIL-FILTER-C"
				with self.assertRaisesRegex(frappe.ValidationError, "its part cannot change"):
					as_user(advisor, jc.save)

	def test_a_request_row_is_for_a_line_of_its_job_card(self):
		item = per_line_item()
		jc = make_job_card(parts=[{"item_code": item, "qty": 1}])
		other = make_job_card(parts=[{"item_code": item, "qty": 1}])
		pr = frappe.get_doc(
			{
				"doctype": "Parts Request",
				"service_job_card": jc.name,
				"items": [{"item_code": item, "qty": 1, "job_card_part": other.parts[0].name}],
			}
		)
		with self.assertRaisesRegex(frappe.ValidationError, "is not a part line of job card"):
			as_user("advisor@omp.example", pr.insert)
		pr.items[0].job_card_part = None  # without a line (REST): the job card's line of the part
		as_user("advisor@omp.example", pr.insert)
		self.assertEqual(pr.items[0].job_card_part, jc.parts[0].name)
		pr = frappe.get_doc(
			{
				"doctype": "Parts Request",
				"service_job_card": jc.name,
				"items": [{"item_code": "PRT-OIL-FILTER-C", "qty": 1}],
			}
		)
		with self.assertRaisesRegex(frappe.ValidationError, "has no line for PRT-OIL-FILTER-C"):
			as_user("advisor@omp.example", pr.insert)

	def test_patch_links_existing_rows_and_recomputes_per_line(self):
		from aftersales_dms.patches.v1_0.parts_per_line import fill

		item = per_line_item()
		set_store(item, "Orion Motors Pune", STORE, 5, "parts@omp.example")
		jc = make_job_card(parts=[{"item_code": item, "qty": 2}, {"item_code": "PRT-OIL-FILTER-C", "qty": 1}])
		pr = make_request([(item, 2)], job_card=jc.name)
		as_user("parts@omp.example", pr.issue_parts)
		# as the data was before: no links, the item's total on every line of it
		row = pr.items[0]
		frappe.db.set_value("Parts Request Item", row.name, {"job_card_part": None, "issued_qty": 0})
		for d in frappe.get_all("Stock Entry", filters={"dms_parts_request": pr.name}, pluck="name"):
			frappe.db.sql("update `tabStock Entry Detail` set dms_job_card_row = null where parent = %s", d)
		frappe.db.set_value("Service Job Card Part", jc.parts[1].name, "issued_qty", 2)
		fill([pr.name])
		self.assertEqual(
			frappe.db.get_value("Parts Request Item", row.name, ["job_card_part", "issued_qty"]),
			(jc.parts[0].name, 2),
		)
		self.assertEqual(line_issued(jc.name), [2, 0])


class TestFinalJobs(FrappeTestCase):
	"""A job that is over gets no parts (attack finding 4); its status counts returns (#19)."""

	def tearDown(self):
		frappe.set_user("Administrator")

	def test_cancelled_job_gets_no_parts_its_requests_close_and_no_approval_link(self):
		from aftersales_dms.billing.approval import make_approval_link
		from aftersales_dms.billing.estimate import make_estimate
		from aftersales_dms.workshop.test_job_end import act

		item = per_line_item()
		for company, (_vehicle, advisor, parts, store, _wip) in DEALERS.items():
			with self.subTest(company=company):
				jc = stocked_job_card(
					company,
					item,
					5,
					[{"item_code": item, "qty": 2}, {"item_code": "PRT-SPARK-PLUG", "qty": 1}],
				)
				a, b = (r.name for r in jc.parts)
				moved, untouched = (
					as_user(
						advisor,
						lambda jc=jc, line=line, qty=qty, code=code: frappe.get_doc(
							{
								"doctype": "Parts Request",
								"service_job_card": jc.name,
								"items": [{"item_code": code, "qty": qty, "job_card_part": line}],
							}
						)
						.insert()
						.submit(),
					)
					for line, qty, code in ((a, 2, item), (b, 1, "PRT-SPARK-PLUG"))
				)
				moved = frappe.get_doc("Parts Request", moved.name)
				as_user(parts, moved.issue_parts)
				as_user(parts, frappe.get_doc("Parts Request", moved.name).return_parts)
				as_user(advisor, make_estimate, jc.name)
				act(jc.name, "Cancel", advisor)
				self.assertEqual(frappe.db.get_value("Service Job Card", jc.name, "status"), "Cancelled")
				# the request that never moved stock is cancelled with the job; the other stays
				# as the record of what moved, and nothing more is issued through either
				self.assertEqual(
					frappe.db.get_value("Parts Request", untouched.name, ["docstatus", "status"]),
					(2, "Cancelled"),
				)
				self.assertEqual(frappe.db.get_value("Parts Request", moved.name, "status"), "Returned")
				before = bin_qty(item, store)
				with self.assertRaisesRegex(frappe.ValidationError, "no parts are issued"):
					as_user(parts, frappe.get_doc("Parts Request", moved.name).issue_parts)
				self.assertEqual(bin_qty(item, store), before)
				# no approval link for a job that is over, and nothing written
				approval = frappe.db.get_value(
					"Service Job Card", jc.name, ["approval_status", "approval_nonce"]
				)
				for user in (advisor, advisor.replace("advisor@", "manager@")):
					with self.assertRaisesRegex(frappe.ValidationError, "nothing left to approve"):
						as_user(user, make_approval_link, jc.name)
				self.assertEqual(
					frappe.db.get_value("Service Job Card", jc.name, ["approval_status", "approval_nonce"]),
					approval,
				)

	def test_status_counts_what_each_row_still_lacks_net_of_returns(self):
		"""Issued 2, one returned and its line lowered to 1: the row has all its line needs."""
		item = per_line_item()
		for company, (_vehicle, advisor, parts, _store, _wip) in DEALERS.items():
			with self.subTest(company=company):
				jc = stocked_job_card(company, item, 5, [{"item_code": item, "qty": 2}])
				pr = as_user(
					advisor,
					lambda jc=jc: frappe.get_doc(
						{
							"doctype": "Parts Request",
							"service_job_card": jc.name,
							"items": [{"item_code": item, "qty": 2, "job_card_part": jc.parts[0].name}],
						}
					)
					.insert()
					.submit(),
				)
				as_user(parts, frappe.get_doc("Parts Request", pr.name).issue_parts)
				as_user(parts, frappe.get_doc("Parts Request", pr.name).return_parts, item_code=item, qty=1)
				self.assertEqual(frappe.db.get_value("Parts Request", pr.name, "status"), "Partially Issued")
				jc = frappe.get_doc("Service Job Card", jc.name)
				jc.parts[0].qty = 1
				as_user(advisor, jc.save)
				with self.assertRaisesRegex(frappe.ValidationError, "already issued"):
					as_user(parts, frappe.get_doc("Parts Request", pr.name).issue_parts)
				# returned and issued again: all the line needs is issued
				as_user(parts, frappe.get_doc("Parts Request", pr.name).return_parts)
				jc = frappe.get_doc("Service Job Card", jc.name)
				jc.parts[0].qty = 2
				as_user(advisor, jc.save)
				as_user(parts, frappe.get_doc("Parts Request", pr.name).issue_parts)
				self.assertEqual(frappe.db.get_value("Parts Request", pr.name, "status"), "Issued")
				as_user(parts, frappe.get_doc("Parts Request", pr.name).return_parts, item_code=item, qty=1)
				jc = frappe.get_doc("Service Job Card", jc.name)
				jc.parts[0].qty = 1
				as_user(advisor, jc.save)
				self.assertEqual(frappe.db.get_value("Parts Request", pr.name, "status"), "Issued")
