"""Dealer isolation over HTTP against the running server: a Nashik session probes Pune's records
through every channel (REST list and get, reports, link search, print, the workshop board) and
gets nothing; the OEM admin sees both dealers."""

import json

import pytest
from dmstest import login

PUNE, NASHIK = "Orion Motors Pune", "Orion Motors Nashik"


@pytest.fixture(scope="module")
def pune_records(server, demo_password):
	"""A Pune job card and a Pune draft invoice, made over REST by Pune staff (committed)."""
	advisor = login(server, "advisor@omp.example", demo_password)
	customer = advisor.get(f"{server}/api/resource/Customer Vehicle/MA1TA2XX6GH123456", timeout=30).json()[
		"data"
	]["customer"]
	r = advisor.post(
		f"{server}/api/resource/Service Job Card",
		json={
			"company": PUNE,
			"customer": customer,
			"vehicle": "MA1TA2XX6GH123456",
			"concerns": "isolation probe",
			"labour": [{"item_code": "LAB-DIAG", "standard_hours": 0.8, "rate": 1100}],
		},
		timeout=60,
	)
	assert r.status_code == 200, r.text[:500]
	job_card = r.json()["data"]["name"]
	accountant = login(server, "accounts@omp.example", demo_password)
	r = accountant.post(
		f"{server}/api/resource/Sales Invoice",
		json={
			"company": PUNE,
			"customer": customer,
			"items": [{"item_code": "LAB-DIAG", "qty": 1, "rate": 1100}],
		},
		timeout=60,
	)
	assert r.status_code == 200, r.text[:500]
	appointment = advisor.get(
		f"{server}/api/resource/Service Appointment",
		params={"filters": json.dumps([["company", "=", PUNE]]), "limit_page_length": 1},
		timeout=30,
	).json()["data"][0]["name"]
	return {
		"Service Job Card": job_card,
		"Sales Invoice": r.json()["data"]["name"],
		"Service Appointment": appointment,
	}


@pytest.fixture(scope="module")
def nashik(server, demo_password):
	"""Sessions of the Nashik workshop manager and the Nashik accountant."""
	return {
		"manager": login(server, "manager@omn.example", demo_password),
		"accountant": login(server, "accounts@omn.example", demo_password),
	}


def sessions_for(doctype, nashik):
	return [nashik["accountant"]] if doctype == "Sales Invoice" else [nashik["manager"]]


@pytest.mark.parametrize("doctype", ["Service Job Card", "Sales Invoice", "Service Appointment"])
def test_rest_list_and_get(server, pune_records, nashik, doctype):
	for s in sessions_for(doctype, nashik):
		r = s.get(
			f"{server}/api/resource/{doctype}",
			params={"fields": '["name","company"]', "limit_page_length": 1000},
			timeout=30,
		)
		assert r.status_code == 200, r.text[:300]
		rows = r.json()["data"]
		assert {row["company"] for row in rows} <= {NASHIK}, rows[:3]
		r = s.get(
			f"{server}/api/resource/{doctype}",
			params={"filters": json.dumps([["company", "=", PUNE]])},
			timeout=30,
		)
		assert r.status_code == 200 and r.json()["data"] == []
		r = s.get(f"{server}/api/resource/{doctype}/{pune_records[doctype]}", timeout=30)
		assert r.status_code == 403, (doctype, r.status_code)
		r = s.get(
			f"{server}/api/method/frappe.client.get_value",
			params={"doctype": doctype, "filters": pune_records[doctype], "fieldname": "company"},
			timeout=30,
		)
		assert r.status_code == 403 or not r.json().get("message"), (doctype, r.text[:200])


@pytest.mark.parametrize("doctype", ["Service Job Card", "Sales Invoice"])
def test_link_search_and_print(server, pune_records, nashik, doctype):
	s = sessions_for(doctype, nashik)[0]
	name = pune_records[doctype]
	r = s.get(
		f"{server}/api/method/frappe.desk.search.search_link",
		params={"doctype": doctype, "txt": name, "page_length": 50},
		timeout=30,
	)
	assert r.status_code == 200, r.text[:300]
	assert name not in json.dumps(r.json().get("message") or r.json().get("results") or [])
	r = s.get(f"{server}/printview", params={"doctype": doctype, "name": name}, timeout=60)
	assert r.status_code == 403, r.status_code  # the page is refused, not just empty
	r = s.get(
		f"{server}/api/method/frappe.www.printview.get_html_and_style",
		params={"doc": doctype, "name": name},
		timeout=60,
	)
	assert r.status_code == 403, r.status_code
	r = s.get(
		f"{server}/api/method/frappe.utils.print_format.download_pdf",
		params={"doctype": doctype, "name": name},
		timeout=60,
	)
	assert r.status_code == 403, r.status_code


def test_reports_and_board(server, pune_records, nashik):
	s = nashik["manager"]
	r = s.get(
		f"{server}/api/method/frappe.desk.query_report.run",
		params={
			"report_name": "Workshop Revenue",
			"filters": json.dumps({"company": PUNE, "from_date": "2026-01-01", "to_date": "2026-12-31"}),
		},
		timeout=60,
	)
	assert r.status_code == 403, r.status_code
	r = s.get(
		f"{server}/api/method/aftersales_dms.workshop.board.get_board", params={"company": PUNE}, timeout=30
	)
	assert r.status_code == 200 and r.json()["message"]["cards"] == []
	r = s.get(f"{server}/api/method/aftersales_dms.workshop.board.get_board", timeout=30)
	assert {c["company"] for c in r.json()["message"]["cards"]} <= {NASHIK}


def test_the_oem_sees_both_dealers(server, pune_records, demo_password):
	s = login(server, "oem.admin@orion-oem.example", demo_password)
	r = s.get(
		f"{server}/api/resource/Service Appointment",
		params={"fields": '["company"]', "limit_page_length": 1000},
		timeout=30,
	)
	assert {row["company"] for row in r.json()["data"]} == {PUNE, NASHIK}
	r = s.get(f"{server}/api/resource/Service Job Card/{pune_records['Service Job Card']}", timeout=30)
	assert r.status_code == 200


def test_own_dealer_gets_the_service_invoice_pdf(server, pune_records, demo_password):
	s = login(server, "accounts@omp.example", demo_password)
	r = s.get(
		f"{server}/api/method/frappe.utils.print_format.download_pdf",
		params={
			"doctype": "Sales Invoice",
			"name": pune_records["Sales Invoice"],
			"format": "Service Invoice",
		},
		timeout=120,
	)
	assert r.status_code == 200, r.text[:300]
	assert r.content.startswith(b"%PDF")


@pytest.mark.parametrize("doctype", ["Service Job Card", "Sales Invoice", "Service Appointment"])
def test_a_refusal_does_not_name_the_other_dealer(server, pune_records, nashik, doctype):
	"""Frappe's own 403 said the record "is linked to Company 'Orion Motors Pune'": a probe by name
	told a dealer's staff whose record it is. The refusal names only the document asked for."""
	s = sessions_for(doctype, nashik)[0]
	name = pune_records[doctype]
	for r in (
		s.get(f"{server}/api/resource/{doctype}/{name}", timeout=30),
		s.get(
			f"{server}/api/method/frappe.client.get",
			params={"doctype": doctype, "name": name},
			timeout=30,
		),
		s.get(
			f"{server}/api/method/frappe.desk.form.load.getdoc",
			params={"doctype": doctype, "name": name},
			timeout=30,
		),
		s.get(f"{server}/printview", params={"doctype": doctype, "name": name}, timeout=60),
	):
		assert r.status_code == 403, (r.url, r.status_code)
		assert "Pune" not in r.text, (r.url, r.text[:1000])
		assert PUNE not in r.text
