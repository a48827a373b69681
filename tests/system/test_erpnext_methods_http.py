"""ERPNext's whitelisted functions over HTTP, as the attack on the demo called them (#20): Pune's parts
manager asked `get_stock_balance` for Nashik's store and Pune's accountant `get_balance_on` for
Nashik's debtors, and got the figures. Both endpoints (`/api/method`, `/api/v2/method`), GET and
POST, go through the guard (controllers/erpnext_methods.py); the own dealer's and the OEM admin's
answers are ERPNext's."""

import pytest
from dmstest import login

STOCK = "erpnext.stock.utils.get_stock_balance"
BALANCE = "erpnext.accounts.utils.get_balance_on"
PART = "PRT-OIL-5W30-1L"
STORES = {"Pune": "Parts Store - OMP", "Nashik": "Parts Store - OMN"}
DEBTORS = {"Pune": "Debtors - OMP", "Nashik": "Debtors - OMN"}


def call(session, server, method, params, how):
	if how == "GET":
		return session.get(f"{server}/api/method/{method}", params=params, timeout=60)
	if how == "POST":
		return session.post(f"{server}/api/method/{method}", data=params, timeout=60)
	return session.post(f"{server}/api/v2/method/{method}", json=params, timeout=60)


def answer(r):
	assert r.status_code == 200, (r.status_code, r.text[:500])
	body = r.json()
	return body.get("message", body.get("data"))


@pytest.fixture(scope="module")
def users(server, demo_password):
	return {
		user: login(server, user, demo_password)
		for user in ("parts@omp.example", "accounts@omp.example", "oem.admin@orion-oem.example")
	}


@pytest.mark.parametrize("how", ["GET", "POST", "v2"])
def test_another_dealers_stock_and_balance_are_refused(server, users, how):
	r = call(
		users["parts@omp.example"], server, STOCK, {"item_code": PART, "warehouse": STORES["Nashik"]}, how
	)
	assert r.status_code == 403, (r.status_code, r.text[:500])
	assert "You may not read" in r.text and "Orion Motors Nashik" not in r.text
	r = call(users["accounts@omp.example"], server, BALANCE, {"account": DEBTORS["Nashik"]}, how)
	assert r.status_code == 403, (r.status_code, r.text[:500])


def test_own_dealer_and_the_oem_get_erpnexts_answer(server, users):
	own = answer(
		call(
			users["parts@omp.example"], server, STOCK, {"item_code": PART, "warehouse": STORES["Pune"]}, "GET"
		)
	)
	oem = answer(
		call(
			users["oem.admin@orion-oem.example"],
			server,
			STOCK,
			{"item_code": PART, "warehouse": STORES["Pune"]},
			"GET",
		)
	)
	assert own == oem and isinstance(own, int | float)
	# the OEM admin (no company restriction) reads either dealer's
	answer(
		call(
			users["oem.admin@orion-oem.example"],
			server,
			STOCK,
			{"item_code": PART, "warehouse": STORES["Nashik"]},
			"GET",
		)
	)
	balance = answer(
		call(users["accounts@omp.example"], server, BALANCE, {"account": DEBTORS["Pune"]}, "GET")
	)
	assert isinstance(balance, int | float)


def test_guest_gets_nothing(server):
	import requests

	r = requests.get(
		f"{server}/api/method/{STOCK}", params={"item_code": PART, "warehouse": STORES["Pune"]}, timeout=60
	)
	assert r.status_code == 403, (r.status_code, r.text[:300])
