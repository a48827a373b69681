"""The customer's approval page over HTTP: a guest with the link, and nobody else."""

import json

import requests
from dmstest import login


def make_job_card_with_link(server, session):
	r = session.get(
		f"{server}/api/resource/Customer",
		params={"filters": json.dumps([["customer_name", "=", "Aarav Mehta"]])},
		timeout=30,
	)
	customer = r.json()["data"][0]["name"]
	doc = {
		"company": "Orion Motors Pune",
		"customer": customer,
		"vehicle": "MA1TA2XX6GH123456",
		"labour": [{"item_code": "LAB-PMS-CAR", "standard_hours": 2.5, "rate": 900}],
		"parts": [{"item_code": "PRT-OIL-5W30-1L", "qty": 4, "rate": 650}],
	}
	r = session.post(f"{server}/api/resource/Service Job Card", json=doc, timeout=60)
	assert r.status_code == 200, r.text[:500]
	jc = r.json()["data"]
	r = session.post(
		f"{server}/api/method/aftersales_dms.billing.estimate.make_estimate",
		data={"job_card": jc["name"]},
		timeout=60,
	)
	assert r.status_code == 200, r.text[:500]
	r = session.post(
		f"{server}/api/method/aftersales_dms.billing.approval.make_approval_link",
		data={"job_card": jc["name"]},
		timeout=60,
	)
	assert r.status_code == 200, r.text[:500]
	return jc, r.json()["message"]


def test_guest_approves_per_line_with_evidence_and_the_link_works_once(server, demo_password):
	advisor = login(server, "advisor@omp.example", demo_password)
	jc, link = make_job_card_with_link(server, advisor)
	token = link.split("token=")[1]
	page = requests.get(f"{server}/estimate_approval", params={"token": token}, timeout=30)
	assert page.status_code == 200
	assert "Periodic maintenance service - car" in page.text and "MH12AB1234" in page.text
	labour_row, part_row = jc["labour"][0]["name"], jc["parts"][0]["name"]
	ua = "Mozilla/5.0 (DMS approval test)"
	r = requests.post(
		f"{server}/api/method/aftersales_dms.billing.approval.decide",
		data={
			"token": token,
			"decisions": json.dumps({labour_row: "Approved", part_row: "Declined"}),
		},
		headers={"User-Agent": ua},
		timeout=30,
	)
	assert r.status_code == 200, r.text[:500]
	doc = advisor.get(f"{server}/api/resource/Service Job Card/{jc['name']}", timeout=30).json()["data"]
	assert doc["approval_status"] == "Partly Approved"
	assert doc["approval_ip"] == "127.0.0.1" and doc["approval_user_agent"] == ua and doc["approved_on"]
	assert [r["customer_decision"] for r in doc["labour"] + doc["parts"]] == [
		"Approved",
		"Declined",
	]
	again = requests.post(
		f"{server}/api/method/aftersales_dms.billing.approval.decide",
		data={
			"token": token,
			"decisions": json.dumps({labour_row: "Approved", part_row: "Approved"}),
		},
		timeout=30,
	)
	assert again.status_code == 417 and "already been used" in again.text
	spent = requests.get(f"{server}/estimate_approval", params={"token": token}, timeout=30)
	assert "already been used" in spent.text and "Periodic maintenance" not in spent.text


def test_forged_link_shows_nothing(server):
	page = requests.get(
		f"{server}/estimate_approval",
		params={"token": "SFJDLTEyMw.deadbeef"},
		timeout=30,
	)
	assert page.status_code == 200
	assert "invalid" in page.text and "<table" not in page.text


def test_estimate_emailed_as_pdf_with_the_link(server, demo_password):
	"""The running server renders the Quotation with wkhtmltopdf and hands the mail to SMTP.

	The demo's outgoing Email Account points at 127.0.0.1:2525 (the mail sink of ./dms up), so the
	test listens there itself.
	"""
	import email
	import socket
	from email import policy

	import pytest
	from aiosmtpd.controller import Controller

	with socket.socket() as probe:
		if probe.connect_ex(("127.0.0.1", 2525)) == 0:
			pytest.skip("port 2525 is taken (./dms up's mail sink is running): stop it with ./dms down")

	received = []

	class Handler:
		async def handle_DATA(self, server_, session, envelope):
			received.append(
				(
					list(envelope.rcpt_tos),
					email.message_from_bytes(envelope.content, policy=policy.default),
				)
			)
			return "250 OK"

	sink = Controller(Handler(), hostname="127.0.0.1", port=2525)
	sink.start()
	try:
		advisor = login(server, "advisor@omp.example", demo_password)
		jc, _link = make_job_card_with_link(server, advisor)
		r = advisor.post(
			f"{server}/api/method/aftersales_dms.billing.approval.send_estimate",
			data={"job_card": jc["name"]},
			timeout=120,
		)
		assert r.status_code == 200, r.text[:800]
		link = r.json()["message"]
		assert link.startswith(server + "/estimate_approval?token=")
	finally:
		sink.stop()
	mails = [(to, msg) for to, msg in received if "Your estimate for MH12AB1234" in str(msg["subject"])]
	assert len(mails) == 1, [str(m["subject"]) for _, m in received]
	to, msg = mails[0]
	assert to == ["aarav.mehta@example.com"]
	assert link.replace("&", "&amp;") in msg.get_body(("html",)).get_content()
	pdfs = [p for p in msg.iter_attachments() if p.get_content_type() == "application/pdf"]
	assert len(pdfs) == 1 and pdfs[0].get_content().startswith(b"%PDF")


def test_staff_cannot_record_the_customers_approval_over_rest(server, demo_password):
	"""An advisor PUTs approval_status Approved on a job card Awaiting Approval with a live link:
	the field is at the system's permlevel, so the value is dropped, and the manager's Start
	Repair is refused — only the customer's link records an approval."""
	advisor = login(server, "advisor@omp.example", demo_password)
	manager = login(server, "manager@omp.example", demo_password)
	jc, _link = make_job_card_with_link(server, advisor)
	name = jc["name"]

	def workflow(session, action):
		doc = session.get(f"{server}/api/resource/Service Job Card/{name}", timeout=30).json()["data"]
		return session.post(
			f"{server}/api/method/frappe.model.workflow.apply_workflow",
			data={"doc": json.dumps(doc), "action": action},
			timeout=60,
		)

	assert workflow(manager, "Start Work").status_code == 200
	assert workflow(advisor, "Request Approval").status_code == 200
	for session, body in (
		(advisor, {"approval_status": "Approved"}),
		(
			advisor,
			{
				"approval_status": "Approved",
				"approved_on": "2026-12-01 10:00:00",
				"approval_ip": "1.2.3.4",
			},
		),
		(
			manager,
			{
				"approval_status": "Approved",
				"labour": [dict(jc["labour"][0], customer_decision="Approved")],
			},
		),
	):
		r = session.put(f"{server}/api/resource/Service Job Card/{name}", json=body, timeout=60)
		assert r.status_code == 200, r.text[:300]
		stored = advisor.get(f"{server}/api/resource/Service Job Card/{name}", timeout=30).json()["data"]
		assert (
			stored["approval_status"],
			stored.get("approved_on"),
			stored.get("approval_ip"),
		) == (
			"Awaiting Customer",
			None,
			None,
		), stored["approval_status"]
		assert not stored["labour"][0].get("customer_decision")
	r = workflow(manager, "Start Repair")
	assert r.status_code == 417 and "has not approved" in r.text, r.text[:300]
	r = manager.post(
		f"{server}/api/method/frappe.client.set_value",
		data={
			"doctype": "Service Job Card",
			"name": name,
			"fieldname": "approval_status",
			"value": "Approved",
		},
		timeout=60,
	)
	assert r.status_code == 200, r.text[:300]
	assert r.json()["message"]["approval_status"] == "Awaiting Customer"


def test_a_doc_method_saves_the_stored_job_card_not_the_one_sent(server, demo_password):
	"""run_doc_method with a document the caller changed (the desk sends the form's document):
	assign_technician lands the assignment and nothing else of what was sent."""
	advisor = login(server, "advisor@omp.example", demo_password)
	manager = login(server, "manager@omp.example", demo_password)
	jc, _link = make_job_card_with_link(server, advisor)
	name = jc["name"]
	doc = manager.get(f"{server}/api/resource/Service Job Card/{name}", timeout=30).json()["data"]
	technician = manager.get(
		f"{server}/api/resource/Service Technician",
		params={"filters": json.dumps([["company", "=", "Orion Motors Pune"]]), "limit_page_length": 1},
		timeout=30,
	).json()["data"][0]["name"]
	sent = dict(doc, concerns="sent by the caller", approval_status="Approved")
	sent["labour"] = [dict(doc["labour"][0], rate=1, customer_decision="Approved")]
	r = manager.post(
		f"{server}/api/method/run_doc_method",
		data={
			"method": "assign_technician",
			"docs": json.dumps(sent),
			"args": json.dumps({"labour_line": doc["labour"][0]["name"], "technician": technician}),
		},
		timeout=60,
	)
	assert r.status_code == 200, r.text[:500]
	stored = advisor.get(f"{server}/api/resource/Service Job Card/{name}", timeout=30).json()["data"]
	line = stored["labour"][0]
	assert line["technician"] == technician
	assert (stored.get("concerns"), stored["approval_status"]) == (doc.get("concerns"), "Awaiting Customer")
	assert (line["rate"], line.get("customer_decision") or None) == (doc["labour"][0]["rate"], None)
