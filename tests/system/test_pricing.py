"""The server prices every job card line that comes without a rate, over HTTP as the advisor:
the dealer's selling price list through ERPNext's pricing (customer-specific Item Prices, Pricing
Rules), a typed rate kept, an unpriced item refused; the estimate carries the same rates."""

import os

import pytest
from dmstest import login

PUNE = "Orion Motors Pune"
VEHICLE = "MA1TA2XX6GH123456"
UNPRICED = "PRT-TEST-NO-PRICE"


@pytest.fixture(scope="module")
def admin(server):
	return login(server, "Administrator", os.environ.get("DMS_ADMIN_PASSWORD", "admin"))


@pytest.fixture(scope="module")
def advisor(server, demo_password):
	return login(server, "advisor@omp.example", demo_password)


@pytest.fixture(scope="module")
def customer(server, advisor):
	r = advisor.get(f"{server}/api/resource/Customer Vehicle/{VEHICLE}", timeout=30)
	return r.json()["data"]["customer"]


@pytest.fixture(scope="module")
def price_list(server, advisor):
	r = advisor.get(f"{server}/api/resource/Dealer Workshop Settings/{PUNE}", timeout=30)
	assert r.status_code == 200, r.text[:300]
	return r.json()["data"]["selling_price_list"]


def list_rate(server, session, item_code, price_list):
	r = session.get(
		f"{server}/api/resource/Item Price",
		params={
			"filters": f'[["item_code","=","{item_code}"],["price_list","=","{price_list}"],["customer","is","not set"]]',
			"fields": '["price_list_rate"]',
		},
		timeout=30,
	)
	rows = r.json()["data"]
	assert len(rows) == 1, rows
	return rows[0]["price_list_rate"]


@pytest.fixture(scope="module")
def customer_prices(server, admin, customer, price_list):
	"""Set-up data (what the dealer's pricing staff maintain): a customer-specific Item Price and
	a 10 % Pricing Rule for the customer; an item with no price at all. Removed afterwards."""
	made = []

	def create(doc):
		r = admin.post(f"{server}/api/resource/{doc['doctype']}", json=doc, timeout=60)
		assert r.status_code == 200, r.text[:500]
		made.append((doc["doctype"], r.json()["data"]["name"]))

	create(
		{
			"doctype": "Item Price",
			"item_code": "PRT-SPARK-PLUG",
			"price_list": price_list,
			"customer": customer,
			"price_list_rate": 250,
		}
	)
	create(
		{
			"doctype": "Pricing Rule",
			"title": "Test: 10 % on diagnostics for one customer",
			"apply_on": "Item Code",
			"items": [{"item_code": "LAB-DIAG"}],
			"selling": 1,
			"applicable_for": "Customer",
			"customer": customer,
			"company": PUNE,
			"price_or_product_discount": "Price",
			"rate_or_discount": "Discount Percentage",
			"discount_percentage": 10,
		}
	)
	create(
		{
			"doctype": "Item",
			"item_code": UNPRICED,
			"item_name": "Test part without a price",
			"item_group": "DMS Parts",
			"stock_uom": "Nos",
			"is_stock_item": 1,
			"dms_item_kind": "Part",
		}
	)
	yield
	for doctype, name in reversed(made):
		admin.delete(f"{server}/api/resource/{doctype}/{name}", timeout=60)


def post_job_card(server, session, customer, labour=(), parts=()):
	return session.post(
		f"{server}/api/resource/Service Job Card",
		json={
			"company": PUNE,
			"customer": customer,
			"vehicle": VEHICLE,
			"labour": list(labour),
			"parts": list(parts),
		},
		timeout=60,
	)


def test_lines_without_rate_are_priced_from_the_dealers_list(server, advisor, customer, price_list):
	r = post_job_card(
		server,
		advisor,
		customer,
		labour=[
			{"item_code": "LAB-PMS-CAR", "standard_hours": 2.5},
			{"item_code": "LAB-BATTERY", "standard_hours": 0.5, "rate": 1234},  # typed: kept
		],
		parts=[{"item_code": "PRT-OIL-FILTER-C", "qty": 2}],
	)
	assert r.status_code == 200, r.text[:500]
	jc = r.json()["data"]
	labour_rate = list_rate(server, advisor, "LAB-PMS-CAR", price_list)
	part_rate = list_rate(server, advisor, "PRT-OIL-FILTER-C", price_list)
	assert labour_rate > 0 and part_rate > 0
	assert [(row["item_code"], row["rate"]) for row in jc["labour"]] == [
		("LAB-PMS-CAR", labour_rate),
		("LAB-BATTERY", 1234),
	]
	assert [(row["item_code"], row["rate"], row["amount"]) for row in jc["parts"]] == [
		("PRT-OIL-FILTER-C", part_rate, 2 * part_rate)
	]
	assert jc["grand_total"] == 2.5 * labour_rate + 0.5 * 1234 + 2 * part_rate


def test_customer_price_and_pricing_rule_apply_and_reach_the_estimate(
	server, advisor, customer, price_list, customer_prices
):
	diag = list_rate(server, advisor, "LAB-DIAG", price_list)
	r = post_job_card(
		server,
		advisor,
		customer,
		labour=[{"item_code": "LAB-DIAG", "standard_hours": 1}],
		parts=[{"item_code": "PRT-SPARK-PLUG", "qty": 4}],
	)
	assert r.status_code == 200, r.text[:500]
	jc = r.json()["data"]
	assert jc["labour"][0]["rate"] == pytest.approx(diag * 0.9)  # the customer's Pricing Rule
	assert jc["parts"][0]["rate"] == 250  # the customer's own Item Price

	r = advisor.post(
		f"{server}/api/method/aftersales_dms.billing.estimate.make_estimate",
		json={"job_card": jc["name"]},
		timeout=120,
	)
	assert r.status_code == 200, r.text[:500]
	q = advisor.get(f"{server}/api/resource/Quotation/{r.json()['message']}", timeout=30).json()["data"]
	assert q["selling_price_list"] == price_list
	assert [(i["item_code"], i["rate"]) for i in q["items"]] == [
		("LAB-DIAG", pytest.approx(diag * 0.9)),
		("PRT-SPARK-PLUG", 250),
	]


def test_item_without_a_price_is_refused_and_nothing_saved(server, advisor, customer, customer_prices):
	count = advisor.get(
		f"{server}/api/method/frappe.client.get_count", params={"doctype": "Service Job Card"}, timeout=30
	).json()["message"]
	r = post_job_card(server, advisor, customer, parts=[{"item_code": UNPRICED, "qty": 1}])
	assert r.status_code == 417, (r.status_code, r.text[:300])
	assert "No selling price for" in r.text and UNPRICED in r.text
	after = advisor.get(
		f"{server}/api/method/frappe.client.get_count", params={"doctype": "Service Job Card"}, timeout=30
	).json()["message"]
	assert after == count


def test_a_rate_typed_below_the_price_stays_within_the_discount_limit(
	server, advisor, customer, price_list, demo_password
):
	"""A lower rate is a discount: the advisor (limit 5 %) may type 4 % below the price, not 20 %;
	the workshop manager (15 %) may give 10 %. Above the limit the discount field is the way."""
	rate = list_rate(server, advisor, "PRT-OIL-FILTER-C", price_list)
	ok = post_job_card(
		server, advisor, customer, parts=[{"item_code": "PRT-OIL-FILTER-C", "qty": 1, "rate": rate * 0.96}]
	)
	assert ok.status_code == 200, ok.text[:500]
	r = post_job_card(
		server, advisor, customer, parts=[{"item_code": "PRT-OIL-FILTER-C", "qty": 1, "rate": rate * 0.8}]
	)
	assert r.status_code == 403 and "below its price" in r.text and "limit is 5" in r.text, r.text[:800]
	# nor by editing a saved line
	jc = ok.json()["data"]
	jc["parts"][0]["rate"] = rate * 0.8
	r = advisor.put(
		f"{server}/api/resource/Service Job Card/{jc['name']}", json={"parts": jc["parts"]}, timeout=60
	)
	assert r.status_code == 403 and "below its price" in r.text, r.text[:800]
	manager = login(server, "manager@omp.example", demo_password)
	r = post_job_card(
		server, manager, customer, parts=[{"item_code": "PRT-OIL-FILTER-C", "qty": 1, "rate": rate * 0.9}]
	)
	assert r.status_code == 200, r.text[:500]
