"""The guest web form /book-service over HTTP against the running server."""

import json
import random

import requests
from dmstest import login
from frappe.utils import add_days, getdate


def a_mobile() -> str:
	"""A mobile number of its own for each run: one number may send only a few requests a day, and
	a test site reused through a day of development would reach that limit."""
	return f"+91987{random.randint(0, 9_999_999):07d}"


def submit(server, session=None, **data):
	values = {
		"doctype": "Online Booking Request",
		"company": "Orion Motors Pune",
		"full_name": "Guest Web User",
		"mobile_no": a_mobile(),
		"registration_plate": f"MH 12 GW {random.randint(0, 9999):04d}",
		"preferred_date": str(add_days(getdate(), 5)),
		"concerns": "Engine light on",
		**data,
	}
	return (session or requests).post(
		f"{server}/api/method/frappe.website.doctype.web_form.web_form.accept",
		data={"web_form": "book-a-service", "data": json.dumps(values)},
		timeout=30,
	)


def test_web_form_page_served_to_guests(server):
	r = requests.get(f"{server}/book-service", timeout=30)
	assert r.status_code == 200
	assert "Book a Service" in r.text


def test_guest_submission_creates_requested_appointment(server, demo_password):
	r = submit(server)
	assert r.status_code == 200, r.text[:500]
	answer = r.json()["message"]
	name = answer["name"]
	# the guest is not told whether a plate and mobile matched, nor whose they are
	assert not answer.get("customer") and not answer.get("status") and not answer.get("vehicle")
	s = login(server, "advisor@omp.example", demo_password)
	req = s.get(f"{server}/api/resource/Online Booking Request/{name}", timeout=30).json()["data"]
	assert req["status"] == "Needs Review"
	assert req["registration_plate"].startswith("MH12GW")
	appt = s.get(
		f"{server}/api/resource/Service Appointment/{req['service_appointment']}", timeout=30
	).json()["data"]
	assert (appt["channel"], appt["status"], appt["needs_review"]) == ("Online", "Requested", 1)


def test_guest_bad_input_gets_clear_error(server):
	r = submit(server, concerns="<img src=x onerror=alert(1)>")
	assert r.status_code == 417
	assert "may not contain HTML" in r.text
	r = submit(server, preferred_date="1999-01-01")
	assert r.status_code == 417
	assert "Choose a date" in r.text


def test_guest_cannot_read_requests_or_appointments(server):
	r = requests.get(f"{server}/api/resource/Service Appointment", timeout=30)
	assert r.status_code == 403
	r = requests.get(f"{server}/api/resource/Online Booking Request", timeout=30)
	assert r.status_code == 403
