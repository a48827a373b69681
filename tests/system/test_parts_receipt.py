"""Parts staff receive stock for their own dealer, over HTTP as the desk does it (#13): Pune's
Parts Manager receives a Material Receipt and a Purchase Receipt for a part a waiting job needs and
the job leaves Waiting for Parts; Nashik's store is not theirs. The Parts Manager and the
accountant read the Stock Ledger (report and entries) and the General Ledger of their dealer only."""

import json

import pytest
from dmstest import login

PUNE, NASHIK = "Orion Motors Pune", "Orion Motors Nashik"
STORE, NASHIK_STORE = "Parts Store - OMP", "Parts Store - OMN"
PART = "PRT-COOLANT-1L"
SUPPLIER = "Orion Motors India Ltd (OEM)"


def ok(r):
	assert r.status_code == 200, (r.status_code, r.text[:800])
	return r.json().get("data", r.json().get("message"))


def store_qty(session, server, warehouse=STORE):
	rows = ok(
		session.get(
			f"{server}/api/resource/Bin",
			params={
				"filters": json.dumps([["item_code", "=", PART], ["warehouse", "=", warehouse]]),
				"fields": '["actual_qty"]',
			},
			timeout=30,
		)
	)
	return rows[0]["actual_qty"] if rows else 0


def job_status(session, server, job_card):
	return ok(session.get(f"{server}/api/resource/Service Job Card/{job_card}", timeout=30))["status"]


def material_receipt(company, warehouse, qty):
	return {
		"doctype": "Stock Entry",
		"stock_entry_type": "Material Receipt",
		"company": company,
		"items": [{"item_code": PART, "qty": qty, "t_warehouse": warehouse, "basic_rate": 180}],
		"docstatus": 1,
	}


def purchase_receipt(company, warehouse, qty):
	return {
		"doctype": "Purchase Receipt",
		"company": company,
		"supplier": SUPPLIER,
		"set_warehouse": warehouse,
		"items": [{"item_code": PART, "qty": qty, "rate": 180, "warehouse": warehouse}],
		"docstatus": 1,
	}


@pytest.fixture(scope="module")
def sessions(server, demo_password):
	return {u: login(server, f"{u}@omp.example", demo_password) for u in ("advisor", "parts", "accounts")}


@pytest.fixture(scope="module")
def waiting_job(server, sessions):
	"""A Pune job card waiting for two units of a part the store does not hold."""
	advisor, parts = sessions["advisor"], sessions["parts"]
	in_store = store_qty(parts, server)
	customer = ok(advisor.get(f"{server}/api/resource/Customer Vehicle/MA1TA2XX6GH123456", timeout=30))[
		"customer"
	]
	job_card = ok(
		advisor.post(
			f"{server}/api/resource/Service Job Card",
			json={
				"company": PUNE,
				"customer": customer,
				"vehicle": "MA1TA2XX6GH123456",
				"concerns": "coolant leak (parts receipt test)",
				"parts": [{"item_code": PART, "qty": in_store + 2}],  # priced by the server
			},
			timeout=60,
		)
	)["name"]
	request = ok(
		parts.post(
			f"{server}/api/resource/Parts Request",
			json={
				"service_job_card": job_card,
				"items": [{"item_code": PART, "qty": in_store + 2}],
				"docstatus": 1,
			},
			timeout=60,
		)
	)["name"]
	issued = ok(
		parts.post(
			f"{server}/api/method/run_doc_method",
			json={"dt": "Parts Request", "dn": request, "method": "issue_parts"},
			timeout=120,
		)
	)
	assert [tuple(s) for s in issued["shortages"]] == [(PART, 2)], issued
	assert job_status(parts, server, job_card) == "Waiting for Parts"
	return {"job_card": job_card, "parts_request": request, "material_request": issued["material_request"]}


@pytest.fixture(scope="module")
def received(server, sessions, waiting_job):
	"""Pune's Parts Manager receives the two units: one by Material Receipt, one by Purchase Receipt."""
	parts = sessions["parts"]
	job_card = waiting_job["job_card"]
	r = parts.post(f"{server}/api/resource/Stock Entry", json=material_receipt(PUNE, STORE, 1), timeout=120)
	receipt = ok(r)
	after_one = job_status(parts, server, job_card)
	r = parts.post(
		f"{server}/api/resource/Purchase Receipt", json=purchase_receipt(PUNE, STORE, 1), timeout=120
	)
	return {"stock_entry": receipt, "purchase_receipt": ok(r), "status_after_one": after_one}


def test_parts_manager_receives_stock_and_the_job_leaves_waiting_for_parts(
	server, sessions, waiting_job, received
):
	parts = sessions["parts"]
	job_card = waiting_job["job_card"]
	receipt = received["stock_entry"]
	assert (receipt["docstatus"], receipt["purpose"], receipt["company"]) == (1, "Material Receipt", PUNE)
	assert received["status_after_one"] == "Waiting for Parts"  # one of two
	assert (received["purchase_receipt"]["docstatus"], received["purchase_receipt"]["company"]) == (1, PUNE)
	assert job_status(parts, server, job_card) == "Open"  # back where it was
	# the job's purchase request is the parts manager's to work
	mr = ok(
		parts.get(f"{server}/api/resource/Material Request/{waiting_job['material_request']}", timeout=30)
	)
	assert mr["dms_service_job_card"] == job_card
	# and the arrived parts are issued: the store holds what it held before the test
	issued = ok(
		parts.post(
			f"{server}/api/method/run_doc_method",
			json={"dt": "Parts Request", "dn": waiting_job["parts_request"], "method": "issue_parts"},
			timeout=120,
		)
	)
	assert [tuple(i) for i in issued["issued"]] == [(PART, 2)] and not issued["shortages"]
	assert store_qty(parts, server) == 0


def test_parts_manager_cannot_receive_into_or_read_another_dealers_stock(server, sessions, demo_password):
	parts = sessions["parts"]
	before = store_qty(login(server, "parts@omn.example", demo_password), server, NASHIK_STORE)
	for doctype, doc in (
		("Stock Entry", material_receipt(NASHIK, NASHIK_STORE, 5)),
		("Purchase Receipt", purchase_receipt(NASHIK, NASHIK_STORE, 5)),
	):
		r = parts.post(f"{server}/api/resource/{doctype}", json=doc, timeout=60)
		assert r.status_code == 403, (doctype, r.status_code, r.text[:300])
	# Pune's company with Nashik's warehouse: refused as well
	r = parts.post(
		f"{server}/api/resource/Stock Entry", json=material_receipt(PUNE, NASHIK_STORE, 5), timeout=60
	)
	assert r.status_code in (403, 417), (r.status_code, r.text[:300])
	assert store_qty(login(server, "parts@omn.example", demo_password), server, NASHIK_STORE) == before
	for doctype in ("Stock Entry", "Purchase Receipt", "Stock Ledger Entry", "Material Request"):
		rows = ok(
			parts.get(
				f"{server}/api/resource/{doctype}",
				params={"fields": '["name","company"]', "limit_page_length": 5000},
				timeout=60,
			)
		)
		assert {row["company"] for row in rows} <= {PUNE}, (doctype, rows[:3])


def run_report(session, server, report, company, **filters):
	params = {"from_date": "2000-01-01", "to_date": "2099-12-31", **filters}
	if company:
		params["company"] = company
	return session.get(
		f"{server}/api/method/frappe.desk.query_report.run",
		params={"report_name": report, "filters": json.dumps(params)},
		timeout=120,
	)


@pytest.mark.parametrize("user", ["parts", "accounts"])
def test_ledgers_for_the_own_dealer_only(server, sessions, received, user):
	s = sessions[user]
	result = ok(run_report(s, server, "Stock Ledger", PUNE, item_code=[PART]))
	rows = [r for r in result["result"] if isinstance(r, dict) and r.get("voucher_no")]
	assert rows and {r["company"] for r in rows} == {PUNE}
	assert {"Stock Entry", "Purchase Receipt"} <= {r["voucher_type"] for r in rows}
	gl = ok(run_report(s, server, "General Ledger", PUNE, group_by="Group by Voucher (Consolidated)"))
	assert any(isinstance(r, dict) and r.get("voucher_type") == "Purchase Receipt" for r in gl["result"])
	for report in ("Stock Ledger", "General Ledger"):
		r = run_report(s, server, report, NASHIK)
		assert r.status_code == 403, (report, r.status_code, r.text[:300])
		r = run_report(s, server, report, None)  # every dealer's at once: refused
		assert r.status_code in (403, 417), (report, r.status_code, r.text[:300])
	entries = ok(
		s.get(
			f"{server}/api/resource/Stock Ledger Entry",
			params={"fields": '["company","voucher_type"]', "limit_page_length": 5000},
			timeout=60,
		)
	)
	assert entries and {e["company"] for e in entries} == {PUNE}
	r = s.get(
		f"{server}/api/resource/Stock Ledger Entry",
		params={"filters": json.dumps([["company", "=", NASHIK]])},
		timeout=60,
	)
	assert r.status_code == 200 and r.json()["data"] == []


@pytest.mark.parametrize(
	"user",
	["advisor@omp.example", "tech.amit@omp.example", "qc@omp.example", "accounts@omp.example"],
)
def test_roles_that_do_not_receive_stock_cannot(server, demo_password, user):
	"""Receiving stock is the Parts Manager's: the advisor, technician, QC supervisor and
	accountant of the same dealer get 403 on a Material Receipt and a Purchase Receipt; the
	technician and the QC supervisor cannot run the Stock Ledger either."""
	s = login(server, user, demo_password)
	for doctype, doc in (
		("Stock Entry", material_receipt(PUNE, STORE, 1)),
		("Purchase Receipt", purchase_receipt(PUNE, STORE, 1)),
	):
		r = s.post(f"{server}/api/resource/{doctype}", json=doc, timeout=60)
		assert r.status_code == 403, (user, doctype, r.status_code, r.text[:300])
	if user.startswith(("tech.", "qc@")):
		r = run_report(s, server, "Stock Ledger", PUNE, item_code=[PART])
		assert r.status_code == 403, (user, r.status_code, r.text[:300])
