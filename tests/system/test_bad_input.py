"""Bad input at the public entry points, over HTTP: a clear error, nothing half-saved, no script
rendered. (The online-booking web form and the approval link have their own files.)"""

import pytest
import requests
from dmstest import login

PUNE = "Orion Motors Pune"
VEHICLE = "MA1TA2XX6GH123456"


@pytest.fixture(scope="module")
def advisor(server, demo_password):
	return login(server, "advisor@omp.example", demo_password)


@pytest.fixture(scope="module")
def customer(server, advisor):
	return advisor.get(f"{server}/api/resource/Customer Vehicle/{VEHICLE}", timeout=30).json()["data"][
		"customer"
	]


def count(session, server, doctype):
	r = session.get(f"{server}/api/method/frappe.client.get_count", params={"doctype": doctype}, timeout=30)
	return r.json()["message"]


def job_card(customer, **extra):
	return {
		"company": PUNE,
		"customer": customer,
		"vehicle": VEHICLE,
		"labour": [{"item_code": "LAB-DIAG", "standard_hours": 0.8, "rate": 1100}],
		**extra,
	}


@pytest.mark.parametrize(
	"extra,message",
	[
		({"parts": [{"item_code": "PRT-OIL-FILTER-C", "qty": -1, "rate": 450}]}, "more than 0"),
		({"parts": [{"item_code": "PRT-OIL-FILTER-C", "qty": 1e9, "rate": 450}]}, "at most 10,000"),
		({"parts": [{"item_code": "LAB-DIAG", "qty": 1, "rate": 450}]}, "not a stock part"),
		({"labour": [{"item_code": "LAB-DIAG", "standard_hours": 500, "rate": 1}]}, "at most 100"),
		({"labour": [{"item_code": "LAB-DIAG", "standard_hours": "two", "rate": 1}]}, ""),
		({"vehicle": "MAT4XXXX0HL654321"}, ""),  # another dealer's vehicle: not even readable
		({"status": "Delivered"}, ""),
		({"discount_percentage": 250, "discount_reason": "x"}, "between 0 and 100"),
		({"company": "Orion Motors Nashik"}, ""),  # not the advisor's dealer
	],
)
def test_bad_job_card_refused_and_nothing_saved(server, advisor, customer, extra, message):
	before = count(advisor, server, "Service Job Card")
	r = advisor.post(f"{server}/api/resource/Service Job Card", json=job_card(customer, **extra), timeout=60)
	assert r.status_code in (400, 403, 404, 417), (r.status_code, r.text[:300])
	if message:
		assert message in r.text, r.text[:500]
	assert count(advisor, server, "Service Job Card") == before


def test_script_in_text_is_not_rendered(server, advisor, customer):
	r = advisor.post(
		f"{server}/api/resource/Service Job Card",
		json=job_card(customer, concerns='Brakes <script>alert("x")</script><img src=x onerror=alert(1)>'),
		timeout=60,
	)
	assert r.status_code == 200, r.text[:300]
	name = r.json()["data"]["name"]
	stored = r.json()["data"]["concerns"]
	assert "<script" not in stored and "onerror" not in stored, stored
	page = advisor.get(
		f"{server}/printview", params={"doctype": "Service Job Card", "name": name}, timeout=60
	)
	assert page.status_code == 200
	assert '<script>alert("x")</script>' not in page.text and "onerror=alert" not in page.text


@pytest.mark.parametrize(
	"payload,message",
	[
		({"scheduled_start": "2026-13-45 10:00:00"}, "is not a valid datetime"),
		({"preferred_date": "yesterday"}, "is not a valid date"),
		({"contact_mobile": "call me maybe"}, "Mobile"),
		({"contact_email": "not-an-email"}, "not a valid"),
	],
)
def test_bad_appointment_refused(server, advisor, customer, payload, message):
	before = count(advisor, server, "Service Appointment")
	data = {"company": PUNE, "channel": "Phone", "customer": customer, "vehicle": VEHICLE, **payload}
	r = advisor.post(f"{server}/api/resource/Service Appointment", json=data, timeout=60)
	assert r.status_code in (400, 417), (r.status_code, r.text[:300])
	if message:
		assert message in r.text
	assert count(advisor, server, "Service Appointment") == before


def test_oversized_upload_refused(server, advisor):
	r = advisor.post(
		f"{server}/api/method/upload_file",
		files={"file": ("huge.jpg", b"\xff" * (26 * 1024 * 1024), "image/jpeg")},
		data={"is_private": 1, "doctype": "Customer Vehicle", "docname": VEHICLE},
		timeout=120,
	)
	assert r.status_code in (413, 417), (r.status_code, r.text[:200])


@pytest.mark.parametrize("page", ["estimate_approval", "service_feedback"])
@pytest.mark.parametrize(
	"token", ["", "garbage", "a.b", "U0pDLTIwMjYtMDAwMDF8ZmVlZGJhY2t8OTk5OTk5OTk5OXxhYmM.deadbeef"]
)
def test_forged_tokens_show_nothing(server, page, token):
	r = requests.get(f"{server}/{page}", params={"token": token}, timeout=30)
	assert r.status_code == 200
	assert "invalid, has expired or has already been used" in r.text
	assert "SJC-" not in r.text and "MH12" not in r.text
	decide = (
		"aftersales_dms.billing.approval.decide"
		if page == "estimate_approval"
		else ("aftersales_dms.delivery.feedback.submit_feedback")
	)
	args = (
		{"token": token, "decisions": "{}"} if page == "estimate_approval" else {"token": token, "stars": 5}
	)
	r = requests.post(f"{server}/api/method/{decide}", data=args, timeout=30)
	assert r.status_code in (417, 429), (r.status_code, r.text[:200])


@pytest.mark.parametrize(
	"endpoint,data",
	[
		("aftersales_dms.billing.approval.decide", {}),
		("aftersales_dms.billing.approval.decide", {"token": "x.y", "decisions": "notjson"}),
		("aftersales_dms.billing.approval.decide", {"token": "x.y", "decisions": '{"row": ["Approved"]}'}),
		("aftersales_dms.billing.approval.decide", {"token": "x.y", "decisions": "[1, 2]"}),
		("aftersales_dms.delivery.feedback.submit_feedback", {}),
		("aftersales_dms.delivery.feedback.submit_feedback", {"token": "x.y", "stars": "many"}),
	],
)
def test_guest_endpoints_answer_bad_input_with_a_clear_error_never_a_500(server, endpoint, data):
	"""Missing arguments, text that is no JSON, values of the wrong type: a 4xx with a message."""
	s = requests.Session()
	s.headers["X-Forwarded-For"] = f"10.9.{len(data)}.{len(str(data)) % 250}"  # its own rate limit
	r = s.post(f"{server}/api/method/{endpoint}", data=data, timeout=30)
	assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
	body = r.json()
	assert body.get("exc_type") not in ("TypeError", "JSONDecodeError", "AttributeError", "KeyError"), body
	# a message for the person (or Frappe's own argument type check naming the argument)
	assert body.get("_server_messages") or body.get("exc_type") == "FrappeTypeError", body
