"""The running server, over HTTP: logins, REST, role permissions and dealer isolation."""

import pytest
import requests
from dmstest import login


def test_login_page_served(server):
	r = requests.get(f"{server}/login", timeout=30)
	assert r.status_code == 200
	assert "<title>" in r.text and "Login" in r.text


def test_wrong_password_refused(server):
	r = requests.post(
		f"{server}/api/method/login", data={"usr": "advisor@omp.example", "pwd": "wrong"}, timeout=30
	)
	assert r.status_code == 401


def test_advisor_reads_vehicles_of_own_dealer_only(server, demo_password):
	s = login(server, "advisor@omp.example", demo_password)
	r = s.get(
		f"{server}/api/resource/Customer Vehicle",
		params={"fields": '["name","registration_plate","company"]', "limit_page_length": 100},
		timeout=30,
	)
	assert r.status_code == 200, r.text[:300]
	rows = r.json()["data"]
	assert rows, "the Pune advisor sees the Pune vehicles"
	assert {row["company"] for row in rows} == {"Orion Motors Pune"}
	nashik = s.get(f"{server}/api/resource/Customer Vehicle/MAT4XXXX0HL654321", timeout=30)
	assert nashik.status_code == 403


def test_oem_admin_sees_the_network(server, demo_password):
	s = login(server, "oem.admin@orion-oem.example", demo_password)
	r = s.get(
		f"{server}/api/resource/Customer Vehicle",
		params={"fields": '["company"]', "limit_page_length": 100},
		timeout=30,
	)
	assert r.status_code == 200, r.text[:300]
	assert {row["company"] for row in r.json()["data"]} == {"Orion Motors Pune", "Orion Motors Nashik"}


@pytest.mark.parametrize(
	"user,doctype,allowed",
	[
		("tech.amit@omp.example", "Customer Vehicle", False),
		("advisor@omp.example", "Customer Vehicle", True),
		("advisor@omp.example", "Service Technician", False),
		("manager@omp.example", "Service Technician", True),
	],
)
def test_create_permission_by_role(server, demo_password, user, doctype, allowed):
	s = login(server, user, demo_password)
	r = s.get(
		f"{server}/api/method/frappe.client.has_permission",
		params={"doctype": doctype, "docname": "", "perm_type": "create"},
		timeout=30,
	)
	assert r.status_code == 200, r.text[:300]
	assert bool(r.json()["message"]["has_permission"]) is allowed
