"""What the customer is shown, over HTTP: the approval page lists only the customer's lines with a
decision and the warranty work as covered, the total is what the customer pays with tax, a
decision on a covered line is refused, and the estimate PDF is the dealer's own print.

(The same figures against the invoice and the Ready-for-Pickup SMS, through the whole workflow:
apps/.../billing/test_customer_figures.py.)"""

import io
import json
import os
import re

import requests
from dmstest import ARTIFACTS, login
from pypdf import PdfReader

PAGE_TOTAL = re.compile(r'class="estimate-customer-pays">([^<]*)<')


def job_card_with_a_recall_line(server, advisor):
	r = advisor.get(
		f"{server}/api/resource/Customer",
		params={"filters": json.dumps([["customer_name", "=", "Aarav Mehta"]])},
		timeout=30,
	)
	customer = r.json()["data"][0]["name"]
	doc = {
		"company": "Orion Motors Pune",
		"customer": customer,
		"vehicle": "MA1TA2XX6GH123456",
		"labour": [
			{"item_code": "LAB-PMS-CAR", "standard_hours": 2.5, "rate": 900, "bill_to": "Customer"},
			{"item_code": "LAB-DIAG", "standard_hours": 0.8, "bill_to": "Warranty"},  # the OEM's price
		],
		"parts": [{"item_code": "PRT-OIL-5W30-1L", "qty": 4, "rate": 650, "bill_to": "Customer"}],
	}
	r = advisor.post(f"{server}/api/resource/Service Job Card", json=doc, timeout=60)
	assert r.status_code == 200, r.text[:500]
	jc = r.json()["data"]
	for method in ("estimate.make_estimate", "approval.make_approval_link"):
		r = advisor.post(
			f"{server}/api/method/aftersales_dms.billing.{method}", data={"job_card": jc["name"]}, timeout=60
		)
		assert r.status_code == 200, r.text[:500]
	jc = advisor.get(f"{server}/api/resource/Service Job Card/{jc['name']}", timeout=30).json()["data"]
	return jc, r.json()["message"].split("token=")[1]


def decide(server, token, decisions):
	return requests.post(
		f"{server}/api/method/aftersales_dms.billing.approval.decide",
		data={"token": token, "decisions": json.dumps(decisions)},
		timeout=30,
	)


def test_page_shows_what_the_customer_pays_and_the_recall_as_covered(server, demo_password):
	advisor = login(server, "advisor@omp.example", demo_password)
	jc, token = job_card_with_a_recall_line(server, advisor)
	labour, recall, oil = jc["labour"][0]["name"], jc["labour"][1]["name"], jc["parts"][0]["name"]
	page = requests.get(f"{server}/estimate_approval", params={"token": token}, timeout=30).text
	customer_part, covered_part = page.split("estimate-covered-lines")
	# decision inputs for the customer's two lines, none for the covered one
	assert set(re.findall(r'type="radio" name="([^"]+)"', page)) == {labour, oil}
	assert "Electronic diagnosis" in covered_part and "Electronic diagnosis" not in customer_part
	assert "Covered by the manufacturer" in covered_part and "₹" not in covered_part.split("</table>")[0]
	pays = (2250 + 2600) * 1.18  # the customer's lines with GST 18 %, not the 8,437 "for all lines"
	assert PAGE_TOTAL.search(page).group(1).strip() == "₹ 5,723.00", PAGE_TOTAL.search(page).group(1)
	assert round(pays) == 5723

	refused = decide(server, token, {labour: "Approved", oil: "Approved", recall: "Declined"})
	assert refused.status_code == 417 and "nothing to decide" in refused.text, refused.text[:300]
	r = decide(server, token, {labour: "Approved", oil: "Declined"})
	assert r.status_code == 200, r.text[:300]
	assert r.json()["message"]["customer_pays_formatted"] == "₹ 2,655.00"  # 2,250 + 18 %
	doc = advisor.get(f"{server}/api/resource/Service Job Card/{jc['name']}", timeout=30).json()["data"]
	assert doc["approval_status"] == "Partly Approved"
	assert [r.get("customer_decision") for r in doc["labour"] + doc["parts"]] == [
		"Approved",
		None,
		"Declined",
	]
	evidence = json.loads(doc["approval_log"][-1]["evidence"])
	assert list(evidence["covered"]) == [recall] and evidence["customer_pays_as_decided"] == 2655


def test_estimate_pdf_is_the_dealers_estimate(server, demo_password):
	advisor = login(server, "advisor@omp.example", demo_password)
	jc, _token = job_card_with_a_recall_line(server, advisor)
	r = advisor.get(
		f"{server}/api/method/frappe.utils.print_format.download_pdf",
		params={"doctype": "Quotation", "name": jc["estimate"], "format": "Dealer Estimate"},
		timeout=120,
	)
	assert r.status_code == 200 and r.content.startswith(b"%PDF"), r.text[-2000:]
	with open(os.path.join(ARTIFACTS, "dealer-estimate.pdf"), "wb") as f:
		f.write(r.content)  # for a look
	text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(r.content)).pages)
	for shown in (
		"Orion Motors Pune",  # the dealer's letterhead
		"Authorised service",
		"MH12AB1234",
		"MA1TA2XX6GH123456",
		"Aarav Mehta",
		"Hours",
		"Units",
		"Covered: nothing to pay",
		"Electronic diagnosis",
		"the manufacturer (warranty)",
		"You pay",
		"5,723.00",
	):
		assert shown in text, (shown, text)
	for internal in ("Ordered Qty", "Total Quantity", "Discount", "Service Job Card:"):
		assert internal not in text, (internal, text)
