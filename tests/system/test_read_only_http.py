"""Read-only means read-only, and rights as the work needs them (#20), over HTTP."""

import json
import uuid

import pytest
import requests
from dmstest import login

PUNE = "Orion Motors Pune"


@pytest.fixture(scope="module")
def advisor(server, demo_password):
	return login(server, "advisor@omp.example", demo_password)


def test_advisor_registers_a_walk_in_customer_contact_and_address(server, advisor):
	name = f"Walk-in {uuid.uuid4().hex[:8]}"
	r = advisor.post(
		f"{server}/api/resource/Customer",
		json={"customer_name": name, "customer_type": "Individual"},
		timeout=30,
	)
	assert r.status_code == 200, r.text[:500]
	customer = r.json()["data"]["name"]
	r = advisor.post(
		f"{server}/api/resource/Contact",
		json={
			"first_name": name,
			"phone_nos": [{"phone": "+919800054321", "is_primary_mobile_no": 1}],
			"links": [{"link_doctype": "Customer", "link_name": customer}],
		},
		timeout=30,
	)
	assert r.status_code == 200, r.text[:500]
	r = advisor.post(
		f"{server}/api/resource/Address",
		json={
			"address_title": name,
			"address_type": "Billing",
			"address_line1": "12 FC Road",
			"city": "Pune",
			"country": "India",
			"links": [{"link_doctype": "Customer", "link_name": customer}],
		},
		timeout=30,
	)
	assert r.status_code == 200, r.text[:500]
	r = advisor.get(
		f"{server}/api/method/frappe.client.has_permission",
		params={"doctype": "Customer", "docname": customer, "perm_type": "write"},
		timeout=30,
	)
	assert r.json()["message"]["has_permission"]


@pytest.mark.parametrize("user", ["tech.amit@omp.example", "accounts@omp.example"])
def test_other_roles_do_not_create_customers(server, demo_password, user):
	s = login(server, user, demo_password)
	r = s.post(
		f"{server}/api/resource/Customer",
		json={"customer_name": f"Nope {uuid.uuid4().hex[:6]}"},
		timeout=30,
	)
	assert r.status_code == 403, r.text[:300]


def test_guest_creates_no_customer(server):
	r = requests.post(f"{server}/api/resource/Customer", json={"customer_name": "Guest's"}, timeout=30)
	assert r.status_code in (401, 403), r.text[:300]


def test_job_card_odometer_put_keeps_the_check_ins(server, advisor):
	r = advisor.get(
		f"{server}/api/resource/Service Job Card",
		params={
			"filters": json.dumps(
				[
					["company", "=", PUNE],
					["vehicle_check_in", "is", "set"],
					["docstatus", "=", 0],
				]
			),
			"fields": json.dumps(["name", "vehicle_check_in", "odometer", "fuel_level", "posting_date"]),
			"limit_page_length": 1,
		},
		timeout=30,
	)
	assert r.status_code == 200, r.text[:300]
	rows = r.json()["data"]
	assert rows, "the demo has job cards opened from a check-in"
	jc = rows[0]
	ci = advisor.get(f"{server}/api/resource/Vehicle Check In/{jc['vehicle_check_in']}", timeout=30).json()[
		"data"
	]
	r = advisor.put(
		f"{server}/api/resource/Service Job Card/{jc['name']}",
		json={"odometer": 654321, "fuel_level": "Full", "posting_date": "2020-01-01"},
		timeout=30,
	)
	assert r.status_code == 200, r.text[:500]
	saved = r.json()["data"]
	assert (saved["odometer"], saved["fuel_level"], saved["posting_date"]) == (
		ci["odometer"],
		ci["fuel_level"],
		jc["posting_date"],
	)


def test_vehicle_with_a_missing_customer_is_refused(server, advisor):
	r = advisor.post(
		f"{server}/api/resource/Customer Vehicle",
		json={
			"vin": "MA1TA2XX6GH777777",
			"registration_plate": "MH12RO7777",
			"vehicle_category": "Car",
			"make": "Orion",
			"model": "Stellar",
			"customer": "No Such Customer 4711",
			"company": PUNE,
		},
		timeout=30,
	)
	assert r.status_code == 417, r.text[:300]
	assert "No Such Customer 4711" in r.text
