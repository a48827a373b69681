"""No state change over GET (CSRF, #20; attack finding 5) and a clear 4xx for malformed calls
(finding 9), over HTTP on a real server, with the desk's session: each role logs in and opens
/app (which gives the session its CSRF token), at both demo dealers.

Frappe checks the CSRF token only on a request that is not a GET, so a state-changing method a
GET runs is one a link or an `<img>` on any page makes a logged-in user run. For the parts
manager's issue_parts and return_parts (every document-method path: v2's document route, the REST
route with `run_method`, run_doc_method v1 and v2), the advisor's workflow action
(`frappe.model.workflow.apply_workflow`, overridden by the app) and the accountant's make_invoices:
a GET is refused with a 4xx and nothing changes; a POST without the token is refused with 400
CSRFTokenError and nothing changes; the POST with the token works."""

import json
import re
import uuid
from urllib.parse import quote

import pytest
from dmstest import login

pytestmark = pytest.mark.commits

DEALERS = {
	"omp": ("Orion Motors Pune", "Parts Store - OMP", "MA1TA2XX6GH123456"),
	"omn": ("Orion Motors Nashik", "Parts Store - OMN", None),
}
PART = "PRT-COOLANT-1L"


def ok(r):
	assert r.status_code == 200, (r.status_code, r.text[:800])
	body = r.json()
	return body.get("data", body.get("message"))


def desk_login(server, user, password):
	"""A desk session: logged in, /app opened; its CSRF token (the desk sends it as a header)."""
	s = login(server, user, password)
	page = s.get(f"{server}/app", timeout=60)
	assert page.status_code == 200, page.status_code
	match = re.search(r"csrf_token\s*=\s*\"([0-9a-f]+)\"", page.text)
	assert match, "no CSRF token in /app"
	return s, match.group(1)


def a_vehicle(session, server, company):
	"""A vehicle (with its customer) the dealer's advisor reads."""
	rows = ok(
		session.get(
			f"{server}/api/resource/Customer Vehicle",
			params={"fields": '["name", "customer"]', "limit_page_length": 1},
			timeout=30,
		)
	)
	assert rows, company
	return rows[0]


@pytest.fixture(scope="module", params=sorted(DEALERS))
def dealer(request, server, demo_password):
	"""At one dealer: desk sessions of the advisor, parts manager and accountant; a job card
	(Open) with a part line, the part received into the store and a submitted parts request."""
	key = request.param
	company, store, _vehicle = DEALERS[key]
	users = {
		role: desk_login(server, f"{role}@{key}.example", demo_password)
		for role in ("advisor", "parts", "accounts")
	}
	advisor, token = users["advisor"]
	parts, parts_token = users["parts"]
	vehicle = a_vehicle(advisor, server, company)
	tag = uuid.uuid4().hex[:8]
	job_card = ok(
		advisor.post(
			f"{server}/api/resource/Service Job Card",
			json={
				"company": company,
				"customer": vehicle["customer"],
				"vehicle": vehicle["name"],
				"concerns": f"CSRF test {tag}",
				"parts": [{"item_code": PART, "qty": 1}],
			},
			headers={"X-Frappe-CSRF-Token": token},
			timeout=60,
		)
	)["name"]
	receipt = {
		"doctype": "Stock Entry",
		"stock_entry_type": "Material Receipt",
		"company": company,
		"items": [{"item_code": PART, "qty": 1, "t_warehouse": store, "basic_rate": 180}],
		"docstatus": 1,
	}
	ok(
		parts.post(
			f"{server}/api/resource/Stock Entry",
			json=receipt,
			headers={"X-Frappe-CSRF-Token": parts_token},
			timeout=120,
		)
	)
	request_name = ok(
		parts.post(
			f"{server}/api/resource/Parts Request",
			json={"service_job_card": job_card, "items": [{"item_code": PART, "qty": 1}], "docstatus": 1},
			headers={"X-Frappe-CSRF-Token": parts_token},
			timeout=60,
		)
	)["name"]
	return {"key": key, "users": users, "job_card": job_card, "parts_request": request_name}


def stored(session, server, doctype, name):
	return ok(session.get(f"{server}/api/resource/{quote(doctype)}/{quote(name)}", timeout=30))


def snapshot(doc):
	return (
		doc["modified"],
		doc.get("status"),
		[(i.get("issued_qty"), i.get("returned_qty")) for i in doc.get("items", [])],
	)


def doc_method_gets(server, doctype, name, method, kwargs):
	"""Every GET that names a document method: (label, url, params)."""
	path = f"{quote(doctype)}/{quote(name)}"
	document = json.dumps({"doctype": doctype, "name": name})
	return [
		("v2 document", f"{server}/api/v2/document/{path}/method/{method}", kwargs),
		("v1 resource", f"{server}/api/resource/{path}", {"run_method": method, **kwargs}),
		(
			"v1 run_doc_method",
			f"{server}/api/method/run_doc_method",
			{"dt": doctype, "dn": name, "method": method, "args": json.dumps(kwargs)},
		),
		(
			"v2 run_doc_method",
			f"{server}/api/v2/method/run_doc_method",
			{"method": method, "document": document, "kwargs": json.dumps(kwargs)},
		),
	]


def refused_by_get_and_without_token(server, session, doctype, name, method, kwargs):
	before = snapshot(stored(session, server, doctype, name))
	for label, url, params in doc_method_gets(server, doctype, name, method, kwargs):
		r = session.get(url, params=params, timeout=60)
		assert 400 <= r.status_code < 500, (label, method, r.status_code, r.text[:500])
		assert snapshot(stored(session, server, doctype, name)) == before, (label, method)
	url = f"{server}/api/v2/document/{quote(doctype)}/{quote(name)}/method/{method}"
	r = session.head(url, params=kwargs, timeout=60)
	assert 400 <= r.status_code < 500, ("HEAD", method, r.status_code)
	assert snapshot(stored(session, server, doctype, name)) == before, ("HEAD", method)
	r = session.post(url, json=kwargs, timeout=60)
	assert r.status_code == 400 and "CSRFTokenError" in r.text, (method, r.status_code, r.text[:500])
	assert snapshot(stored(session, server, doctype, name)) == before, method


def test_parts_are_issued_and_returned_only_by_post_with_the_token(server, dealer):
	parts, token = dealer["users"]["parts"]
	name = dealer["parts_request"]
	refused_by_get_and_without_token(server, parts, "Parts Request", name, "issue_parts", {})

	url = f"{server}/api/v2/document/Parts%20Request/{quote(name)}/method/issue_parts"
	ok(parts.post(url, json={}, headers={"X-Frappe-CSRF-Token": token}, timeout=120))
	issued = stored(parts, server, "Parts Request", name)
	assert [i["issued_qty"] for i in issued["items"]] == [1], issued["items"]

	row = {"row": issued["items"][0]["name"], "qty": 1}
	refused_by_get_and_without_token(server, parts, "Parts Request", name, "return_parts", row)
	url = f"{server}/api/v2/document/Parts%20Request/{quote(name)}/method/return_parts"
	ok(parts.post(url, json=row, headers={"X-Frappe-CSRF-Token": token}, timeout=120))
	returned = stored(parts, server, "Parts Request", name)
	assert [i["returned_qty"] for i in returned["items"]] == [1], returned["items"]


def test_workflow_action_only_by_post_with_the_token(server, dealer):
	advisor, token = dealer["users"]["advisor"]
	name = dealer["job_card"]
	doc = json.dumps({"doctype": "Service Job Card", "name": name})
	args = {"doc": doc, "action": "Start Work"}
	before = snapshot(stored(advisor, server, "Service Job Card", name))
	assert before[1] == "Open", before
	for path in ("frappe.model.workflow.apply_workflow", "aftersales_dms.workshop.status.apply_workflow"):
		for version in ("api", "api/v2"):
			r = advisor.get(f"{server}/{version}/method/{path}", params=args, timeout=60)
			assert 400 <= r.status_code < 500, (version, path, r.status_code, r.text[:500])
			r = advisor.post(f"{server}/{version}/method/{path}", data=args, timeout=60)
			assert r.status_code == 400 and "CSRFTokenError" in r.text, (path, r.status_code, r.text[:300])
	assert snapshot(stored(advisor, server, "Service Job Card", name)) == before

	r = advisor.post(
		f"{server}/api/method/frappe.model.workflow.apply_workflow",
		data=args,
		headers={"X-Frappe-CSRF-Token": token},
		timeout=120,
	)
	assert ok(r)["status"] == "In Progress"


def test_make_invoices_is_refused_by_get_and_without_the_token(server, dealer):
	accounts, _token = dealer["users"]["accounts"]
	name = dealer["job_card"]
	path = f"{server}/api/method/aftersales_dms.billing.invoice.make_invoices"
	before = snapshot(stored(accounts, server, "Service Job Card", name))
	r = accounts.get(path, params={"job_card": name}, timeout=60)
	assert 400 <= r.status_code < 500, (r.status_code, r.text[:500])
	r = accounts.post(path, data={"job_card": name}, timeout=60)
	assert r.status_code == 400 and "CSRFTokenError" in r.text, (r.status_code, r.text[:300])
	assert snapshot(stored(accounts, server, "Service Job Card", name)) == before


def test_malformed_calls_get_a_clear_4xx(server, dealer):
	"""Finding 9: Frappe answered both with a 500 TypeError and its traceback."""
	parts, token = dealer["users"]["parts"]
	headers = {"X-Frappe-CSRF-Token": token}
	for version in ("api", "api/v2"):
		for path in ("frappe.client.get_count", "frappe.desk.reportview.get_count"):
			r = parts.get(
				f"{server}/{version}/method/{path}",
				params={"doctype": "Parts Request Item", "parent": "Parts Request"},
				timeout=60,
			)
			assert r.status_code == 417, (version, path, r.status_code, r.text[:500])
			assert "parent" in r.text and "TypeError" not in r.text, r.text[:500]
		# the count itself still answers
		r = parts.get(
			f"{server}/{version}/method/frappe.client.get_count",
			params={"doctype": "Parts Request"},
			timeout=60,
		)
		assert r.status_code == 200, r.text[:300]
	# the stored document as the client has it (Frappe checks its timestamp before the kwargs)
	document = json.dumps(stored(parts, server, "Parts Request", dealer["parts_request"]))
	for kwargs in ("row=x&qty=1", "[1, 2]"):
		r = parts.post(
			f"{server}/api/v2/method/run_doc_method",
			data={"method": "return_parts", "document": document, "kwargs": kwargs},
			headers=headers,
			timeout=60,
		)
		assert r.status_code == 417, (kwargs, r.status_code, r.text[:500])
		assert "must be a JSON object" in r.text and "TypeError" not in r.text, r.text[:500]
	for data, status in (
		({"method": "return_parts"}, 417),
		({"document": document}, 417),
		({"method": "return_parts", "document": "not json"}, 417),
		({"method": "return_parts", "document": "[1]"}, 417),
		({"method": "return_parts", "document": json.dumps({"name": "x"})}, 417),
		({"method": "no_such_method", "document": document}, 403),
	):
		r = parts.post(f"{server}/api/v2/method/run_doc_method", data=data, headers=headers, timeout=60)
		assert r.status_code == status, (data, r.status_code, r.text[:500])
	# one of the app's functions without the argument it requires (attack of 2026-12-07: a 500
	# TypeError); with it, the function answers
	maker = "aftersales_dms.parts.doctype.parts_request.parts_request.make_parts_request"
	for version in ("api", "api/v2"):
		r = parts.post(f"{server}/{version}/method/{maker}", headers=headers, timeout=60)
		assert r.status_code == 417, (version, r.status_code, r.text[:500])
		assert "source_name" in r.text and "TypeError" not in r.text, r.text[:500]
