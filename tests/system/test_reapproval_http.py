"""The customer's answer is the customer's, and what they approved is what is billed — over HTTP,
as the roles do it: the advisor and the manager in their desk sessions, the customer as a guest
with the link (issues #19, #20)."""

import json

import requests
from dmstest import login

DECIDE = "/api/method/aftersales_dms.billing.approval.decide"


def job_card_with_link(server, advisor):
	customer = advisor.get(
		f"{server}/api/resource/Customer",
		params={"filters": json.dumps([["customer_name", "=", "Aarav Mehta"]])},
		timeout=30,
	).json()["data"][0]["name"]
	r = advisor.post(
		f"{server}/api/resource/Service Job Card",
		json={
			"company": "Orion Motors Pune",
			"customer": customer,
			"vehicle": "MA1TA2XX6GH123456",
			"labour": [{"item_code": "LAB-PMS-CAR", "standard_hours": 2.5}],
			"parts": [{"item_code": "PRT-OIL-5W30-1L", "qty": 4}],
		},
		timeout=60,
	)
	assert r.status_code == 200, r.text[:500]
	jc = r.json()["data"]
	return jc, new_link(server, advisor, jc["name"], estimate=True)


def new_link(server, advisor, name, estimate=False):
	methods = (["estimate.make_estimate"] if estimate else []) + ["approval.make_approval_link"]
	for method in methods:
		r = advisor.post(
			f"{server}/api/method/aftersales_dms.billing.{method}",
			data={"job_card": name},
			timeout=60,
		)
		assert r.status_code == 200, (method, r.text[:500])
	return r.json()["message"].split("token=")[1]


def stored(server, session, name):
	return session.get(f"{server}/api/resource/Service Job Card/{name}", timeout=30).json()["data"]


def test_staff_cannot_answer_for_the_customer_and_changes_need_a_new_answer(server, demo_password):
	advisor = login(server, "advisor@omp.example", demo_password)
	manager = login(server, "manager@omp.example", demo_password)
	jc, token = job_card_with_link(server, advisor)
	name = jc["name"]
	labour, part = jc["labour"][0]["name"], jc["parts"][0]["name"]
	decisions = json.dumps({labour: "Approved", part: "Approved"})

	# the advisor opens the link in his desk browser: a warning, no form; his decision is refused
	page = advisor.get(f"{server}/estimate_approval", params={"token": token}, timeout=30)
	assert page.status_code == 200 and "signed in as advisor@omp.example" in page.text
	assert "estimate-decision" not in page.text
	for session in (advisor, manager):
		r = session.post(
			f"{server}{DECIDE}",
			data={"token": token, "decisions": decisions},
			timeout=30,
		)
		assert r.status_code == 403, r.text[:300]
	doc = stored(server, advisor, name)
	assert (doc["approval_status"], doc.get("approval_log") or []) == (
		"Awaiting Customer",
		[],
	)

	# the customer, as a guest with the link, decides
	r = requests.post(
		f"{server}{DECIDE}",
		data={
			"token": token,
			"decisions": json.dumps({labour: "Approved", part: "Declined"}),
		},
		timeout=30,
	)
	assert r.status_code == 200, r.text[:300]
	assert r.json()["message"]["approval_status"] == "Partly Approved"

	# a new link says what it replaces
	fresh = new_link(server, advisor, name)
	page = requests.get(f"{server}/estimate_approval", params={"token": fresh}, timeout=30)
	assert page.status_code == 200 and "This replaces your decision of" in page.text, page.text[-2000:]

	# the manager adds work the customer pays for: the line waits for the customer, the link dies
	doc = stored(server, manager, name)
	doc["labour"].append({"item_code": "LAB-DIAG", "standard_hours": 0.8})
	r = manager.put(
		f"{server}/api/resource/Service Job Card/{name}",
		json={"labour": doc["labour"]},
		timeout=60,
	)
	assert r.status_code == 200, r.text[:300]
	doc = stored(server, advisor, name)
	assert doc["approval_status"] == "Awaiting Re-approval"
	assert [r.get("customer_decision") for r in doc["labour"]] == ["Approved", None]
	assert len(doc["approval_log"]) == 1  # the earlier evidence is kept
	page = requests.get(f"{server}/estimate_approval", params={"token": fresh}, timeout=30)
	assert "already been used" in page.text
	r = advisor.post(
		f"{server}/api/method/aftersales_dms.billing.approval.make_approval_link",
		data={"job_card": name},
		timeout=60,
	)
	assert r.status_code == 417 and "make a new estimate" in r.text, r.text[:300]
	evidence = advisor.get(
		f"{server}/api/method/aftersales_dms.billing.consent.approval_evidence",
		params={"job_card": name},
		timeout=30,
	).json()["message"]
	assert evidence["status"] == "Awaiting" and "LAB-DIAG" in " ".join(evidence["problems"])
