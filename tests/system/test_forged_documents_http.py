"""Forged documents over HTTP (issue #20): a client-made document naming another dealer's record
is refused by /api/method/run_doc_method (the app's override, hooks.py) and by
/api/v2/method/run_doc_method (the method's own lock and check), and nothing changes; the desk's
own call, with the stored document, still works. The generated test over every doc method, role
and forgery is aftersales_dms/tests/test_forged_documents.py (in-process)."""

import json

import frappe
import pytest
from dmstest import login

pytestmark = pytest.mark.commits

PUNE, NASHIK = "Orion Motors Pune", "Orion Motors Nashik"


def make_sms(company, status):
	doc = frappe.get_doc(
		{
			"doctype": "Outgoing SMS",
			"status": status,
			"mobile": "+919800000001",
			"company": company,
			"message": f"Forged-document HTTP probe ({status})",
			"attempts": 3 if status == "Failed" else 1,
		}
	).insert(ignore_permissions=True)
	frappe.db.commit()
	return doc


def as_client(doc, **changes):
	return {**json.loads(frappe.as_json(doc.as_dict())), **changes}


def test_a_forged_sms_is_refused_over_http_and_the_desk_call_works(server, demo_password):
	frappe.set_user("Administrator")
	sent, failed = make_sms(NASHIK, "Sent"), make_sms(PUNE, "Failed")
	try:
		s = login(server, "manager@omp.example", demo_password)
		for forged in (
			as_client(sent, __islocal=1, status="Failed", company=PUNE),
			as_client(sent, status="Failed", company=PUNE),
		):
			r = s.post(
				f"{server}/api/method/run_doc_method",
				data={"method": "retry", "docs": json.dumps(forged)},
				timeout=60,
			)
			assert r.status_code == 403, r.text[:300]
			assert NASHIK not in r.text
			r = s.post(
				f"{server}/api/v2/method/run_doc_method",
				json={"method": "retry", "document": forged},
				timeout=60,
			)
			assert r.status_code == 403, r.text[:300]
		frappe.db.rollback()  # a fresh read of what the server committed
		assert frappe.db.get_value("Outgoing SMS", sent.name, ["status", "attempts"]) == ("Sent", 1)
		# the form's Retry button: frm.call("retry") posts the form's document
		r = s.post(
			f"{server}/api/method/run_doc_method",
			data={"method": "retry", "docs": json.dumps(as_client(failed))},
			timeout=60,
		)
		assert r.status_code == 200, r.text[:300]
		assert r.json()["docs"][0]["status"] == "Queued"
		# the same button on a "new" copy of it is refused
		r = s.post(
			f"{server}/api/method/run_doc_method",
			data={
				"method": "retry",
				"docs": json.dumps(as_client(failed, __islocal=1)),
			},
			timeout=60,
		)
		assert r.status_code == 403, r.text[:300]
	finally:
		frappe.db.rollback()
		for doc in (sent, failed):
			frappe.delete_doc("Outgoing SMS", doc.name, ignore_permissions=True, force=True)
		frappe.db.commit()
