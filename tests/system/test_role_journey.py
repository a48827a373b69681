"""The whole service journey over HTTP, each step in the session of the role that does it.

No Administrator anywhere: the OEM's recall is already on the vehicle (demo data), the advisor
books, checks in and opens the job card, the technician inspects and clocks, the workshop manager
assigns and moves the job, the customer decides on the approval page (declining a line; the
recall is covered), the parts manager issues what is in stock and receives what was short, the
QC supervisor passes QC, the accountant invoices and takes the payment, the advisor delivers.
Then what the customer was shown (approval page, SMS, estimate PDF) carries the customer's own
figure: their invoice's grand total, with tax, without the OEM's recall line.

The test reads the database directly only to look (the SMS the system queued); it never writes.
"""

import io
import json
import random
import re
from datetime import date, timedelta

import frappe
import pytest
import requests
from dmstest import login, wait_for


def site_today() -> str:
	"""Today in the site's time zone, as the documents the journey makes are dated."""
	return frappe.utils.today()


COMPANY = "Orion Motors Pune"
OEM_RECALL = "OM-RC-2026-01"  # demo data: Orion Stellar 2021-2023, brake hose, billed to the OEM


class Role:
	"""One user's HTTP session, with the calls a plain JavaScript client makes."""

	def __init__(self, server, user, password):
		self.server, self.user = server, user
		self.s = login(server, user, password)

	def _check(self, r, what):
		assert r.status_code == 200, (self.user, what, r.status_code, r.text[:1500])
		return r.json()

	def call(self, path, /, **data):
		data = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in data.items()}
		r = self.s.post(f"{self.server}/api/method/{path}", data=data, timeout=120)
		return self._check(r, path).get("message")

	def try_call(self, path, /, **data):
		data = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in data.items()}
		return self.s.post(f"{self.server}/api/method/{path}", data=data, timeout=120)

	def get(self, doctype, name):
		r = self.s.get(f"{self.server}/api/resource/{doctype}/{name}", timeout=60)
		return self._check(r, f"GET {doctype} {name}")["data"]

	def list(self, doctype, filters, fields=("name",), limit=100):
		r = self.s.get(
			f"{self.server}/api/resource/{doctype}",
			params={
				"filters": json.dumps(filters),
				"fields": json.dumps(list(fields)),
				"limit_page_length": limit,
			},
			timeout=60,
		)
		return self._check(r, f"list {doctype}")["data"]

	def insert(self, doc):
		r = self.s.post(f"{self.server}/api/resource/{doc['doctype']}", json=doc, timeout=120)
		return self._check(r, f"insert {doc['doctype']}")["data"]

	def update(self, doctype, name, values):
		r = self.s.put(f"{self.server}/api/resource/{doctype}/{name}", json=values, timeout=120)
		return self._check(r, f"update {doctype} {name}")["data"]

	def submit(self, doctype, name):
		return self.call("frappe.client.submit", doc=self.get(doctype, name))

	def run(self, doctype, name, method, **args):
		return self.call("run_doc_method", dt=doctype, dn=name, method=method, args=args)

	def action(self, job_card, action):
		doc = self.call(
			"frappe.model.workflow.apply_workflow", doc=self.get("Service Job Card", job_card), action=action
		)
		return doc["status"]


def valid_vin():
	from aftersales_dms.utils.vin import check_digit

	alphabet = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
	vin = "MA1TA2XX0" + "".join(random.choice(alphabet) for _ in range(8))
	return vin[:8] + check_digit(vin) + vin[9:]


def pdf_text(content: bytes) -> str:
	from pypdf import PdfReader

	return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages)


def money_figures(text: str) -> set[float]:
	"""Every ₹ amount in a text, as numbers (₹ 7,163.00 → 7163.0)."""
	return {float(m.replace(",", "")) for m in re.findall(r"₹\s?([\d,]+(?:\.\d+)?)", text)}


@pytest.fixture(scope="module")
def roles(server, demo_password):
	users = {
		"advisor": "advisor@omp.example",
		"manager": "manager@omp.example",
		"parts": "parts@omp.example",
		"qc": "qc@omp.example",
		"accounts": "accounts@omp.example",
		"tech": "tech.amit@omp.example",
		"oem": "oem.admin@orion-oem.example",
		"nashik_parts": "parts@omn.example",
	}
	return {key: Role(server, user, demo_password) for key, user in users.items()}


@pytest.mark.commits
def test_the_whole_journey_role_by_role_over_http(server, roles, worker):
	advisor, manager, parts, qc, accounts, tech = (
		roles[k] for k in ("advisor", "manager", "parts", "qc", "accounts", "tech")
	)

	# ---- booking: the advisor registers the customer's new car and books it on the phone
	customer = advisor.list("Customer", [["customer_name", "=", "Aarav Mehta"]])[0]["name"]
	vin = valid_vin()
	vehicle = advisor.insert(
		{
			"doctype": "Customer Vehicle",
			"vin": vin,
			"registration_plate": f"MH 12 RJ {random.randint(1000, 9999)}",
			"vehicle_category": "Car",
			"make": "Orion",
			"model": "Stellar",
			"year": 2022,
			"customer": customer,
			"company": COMPANY,
		}
	)["name"]
	day = date.today() + timedelta(days=random.randint(60, 300))
	slots = advisor.call(
		"aftersales_dms.booking.capacity.find_slots",
		company=COMPANY,
		from_date=str(day),
		to_date=str(day + timedelta(days=6)),
		services=["LAB-PMS-CAR"],
	)
	assert slots, "no free slot in a week"
	slot = slots[0]
	appointment = advisor.insert(
		{
			"doctype": "Service Appointment",
			"company": COMPANY,
			"channel": "Phone",
			"customer": customer,
			"vehicle": vehicle,
			"preferred_date": slot["start"][:10],
			"scheduled_start": slot["start"],
			"service_bay": slot["service_bay"],
			"technician": slot["technician"],
			"services": [{"item_code": "LAB-PMS-CAR"}],
			"concerns": "Periodic service; coolant warning light",
		}
	)
	assert OEM_RECALL in (appointment.get("open_recalls") or "")
	advisor.run("Service Appointment", appointment["name"], "confirm")

	# ---- reception: check-in; the inspection comes from the vehicle category's template
	check_in = advisor.call(
		"aftersales_dms.reception.doctype.vehicle_check_in.vehicle_check_in.make_check_in",
		source_name=appointment["name"],
	)
	check_in.update({"odometer": 1250, "fuel_level": "1/2"})
	check_in = advisor.insert(check_in)
	advisor.submit("Vehicle Check In", check_in["name"])
	check_in = advisor.get("Vehicle Check In", check_in["name"])
	assert check_in["vehicle_inspection"], check_in

	job = advisor.call(
		"aftersales_dms.reception.doctype.vehicle_check_in.vehicle_check_in.make_job_card",
		source_name=check_in["name"],
	)
	recall_lines = [r for r in job["labour"] if r.get("recall_campaign") == OEM_RECALL]
	assert [r["bill_to"] for r in recall_lines] == ["Warranty"], job["labour"]
	coolant_in_store = parts.list(
		"Bin",
		[["item_code", "=", "PRT-COOLANT-1L"], ["warehouse", "=", "Parts Store - OMP"]],
		fields=("warehouse", "actual_qty"),
	)
	coolant_short_by = 2
	coolant_qty = sum(max(b["actual_qty"], 0) for b in coolant_in_store) + coolant_short_by
	# parts as a client that is not the desk form adds them: no rate; the server prices them
	job["parts"] = [
		{"item_code": "PRT-OIL-5W30-1L", "qty": 4},
		{"item_code": "PRT-AIR-FILTER-C", "qty": 1},  # the customer declines this one
		{"item_code": "PRT-COOLANT-1L", "qty": coolant_qty},  # not all in stock
	]
	job = advisor.insert(job)
	name = job["name"]
	rates = {r["item_code"]: r["rate"] for r in job["parts"]}
	assert rates == {"PRT-OIL-5W30-1L": 650, "PRT-AIR-FILTER-C": 520, "PRT-COOLANT-1L": 420}, rates

	# ---- the workshop manager assigns the technician (who gets a task) and starts the job
	amit = manager.list("Service Technician", [["user", "=", tech.user]])[0]["name"]
	for line in job["labour"]:
		manager.run("Service Job Card", name, "assign_technician", labour_line=line["name"], technician=amit)
	# (a job card's tasks follow it in a background job after the commit: the worker's)
	wait_for(
		lambda: tech.list(
			"ToDo",
			[["reference_name", "=", name], ["allocated_to", "=", tech.user], ["status", "=", "Open"]],
		),
		60,
		"the technician's task for the lines assigned to them",
	)

	# work cannot start before the inspection is completed (the technician completes it)
	r = manager.try_call(
		"frappe.model.workflow.apply_workflow",
		doc=json.dumps(manager.get("Service Job Card", name)),
		action="Start Work",
	)
	assert r.status_code != 200 and "inspection" in r.text.lower(), r.text[:800]
	inspection = tech.get("Vehicle Inspection", check_in["vehicle_inspection"])
	for row in inspection["items"]:
		row["result"] = "Green"
	inspection["items"][0].update(result="Amber", note="Wear visible; recheck at next service")
	tech.update("Vehicle Inspection", inspection["name"], {"items": inspection["items"]})
	tech.submit("Vehicle Inspection", inspection["name"])
	assert manager.action(name, "Start Work") == "In Progress"

	# ---- estimate and the customer's decision on the approval page
	advisor.call("aftersales_dms.billing.estimate.make_estimate", job_card=name)
	link = advisor.call("aftersales_dms.billing.approval.make_approval_link", job_card=name)
	assert advisor.action(name, "Request Approval") == "Awaiting Approval"
	token = link.split("token=")[1]
	page = requests.get(f"{server}/estimate_approval", params={"token": token}, timeout=60)
	assert page.status_code == 200, page.text[:500]
	job = advisor.get("Service Job Card", name)
	recall_row = next(r for r in job["labour"] if r.get("recall_campaign") == OEM_RECALL)
	# the recall is shown as covered: no decision for the customer to take on it
	assert (
		f'name="{recall_row["name"]}"' not in page.text
		and f'data-row="{recall_row["name"]}"' not in page.text
	)
	refused = requests.post(
		f"{server}/api/method/aftersales_dms.billing.approval.decide",
		data={"token": token, "decisions": json.dumps({recall_row["name"]: "Declined"})},
		timeout=60,
	)
	assert refused.status_code != 200, refused.text[:500]
	decisions = {r["name"]: "Approved" for r in job["labour"] if r["bill_to"] == "Customer"}
	decisions.update(
		{
			r["name"]: "Declined" if r["item_code"] == "PRT-AIR-FILTER-C" else "Approved"
			for r in job["parts"]
			if r["bill_to"] == "Customer"
		}
	)
	r = requests.post(
		f"{server}/api/method/aftersales_dms.billing.approval.decide",
		data={"token": token, "decisions": json.dumps(decisions)},
		timeout=60,
	)
	assert r.status_code == 200, r.text[:800]
	page_figures = money_figures(page.text)

	# ---- parts: what is in stock is issued, the coolant is short and is received
	request = parts.call(
		"aftersales_dms.parts.doctype.parts_request.parts_request.make_parts_request", source_name=name
	)
	request = parts.insert(request)
	parts.submit("Parts Request", request["name"])
	issued = parts.run("Parts Request", request["name"], "issue_parts")
	assert dict((i, q) for i, q in issued["shortages"]) == {"PRT-COOLANT-1L": coolant_short_by}, issued
	assert advisor.get("Service Job Card", name)["status"] == "Waiting for Parts"
	request = parts.get("Parts Request", request["name"])
	store = request["store_warehouse"]
	# the Nashik parts manager cannot receive into Pune's store
	denied = roles["nashik_parts"].s.post(
		f"{server}/api/resource/Stock Entry",
		json={
			"doctype": "Stock Entry",
			"stock_entry_type": "Material Receipt",
			"company": COMPANY,
			"items": [
				{
					"item_code": "PRT-COOLANT-1L",
					"qty": coolant_short_by,
					"t_warehouse": store,
					"basic_rate": 250,
				}
			],
		},
		timeout=60,
	)
	assert denied.status_code in (403, 417), denied.text[:500]
	receipt = parts.insert(
		{
			"doctype": "Stock Entry",
			"stock_entry_type": "Material Receipt",
			"company": COMPANY,
			"items": [
				{
					"item_code": "PRT-COOLANT-1L",
					"qty": coolant_short_by,
					"t_warehouse": store,
					"basic_rate": 250,
				}
			],
		}
	)
	parts.submit("Stock Entry", receipt["name"])
	assert advisor.get("Service Job Card", name)["status"] == "Awaiting Approval"
	issued = parts.run("Parts Request", request["name"], "issue_parts")
	assert not issued["shortages"], issued

	# ---- repair, the clock, QC
	assert manager.action(name, "Start Repair") == "Repairing"
	for line in job["labour"]:
		tech.call(
			"aftersales_dms.workshop.doctype.service_job_card.service_job_card.clock_labour",
			job_card=name,
			labour_line=line["name"],
			action="start",
		)
		tech.call(
			"aftersales_dms.workshop.doctype.service_job_card.service_job_card.clock_labour",
			job_card=name,
			labour_line=line["name"],
			action="finish",
		)
	wait_for(
		lambda: not tech.list(
			"ToDo",
			[["reference_name", "=", name], ["allocated_to", "=", tech.user], ["status", "=", "Open"]],
		),
		60,
		"the technician's task to close once their lines are done",
	)
	assert tech.action(name, "Send to QC") == "Quality Check"
	wait_for(
		lambda: qc.list(
			"ToDo",
			[["reference_name", "=", name], ["allocated_to", "=", qc.user], ["status", "=", "Open"]],
		),
		60,
		"the QC supervisor's task",
	)
	job = qc.get("Service Job Card", name)
	assert any(r["source"] == "Inspection" for r in job["qc_items"]), job["qc_items"]
	qc.update(
		"Service Job Card", name, {"qc_items": [{"name": r["name"], "verified": 1} for r in job["qc_items"]]}
	)
	assert qc.action(name, "Pass QC") == "Ready for Pickup"

	# ---- the accountant invoices each payer, takes the customer's payment
	invoices = accounts.call("aftersales_dms.billing.invoice.make_invoices", job_card=name)
	assert set(invoices) == {"Customer", "Warranty"}, invoices
	for invoice in invoices.values():
		accounts.submit("Sales Invoice", invoice)
	customer_invoice = accounts.get("Sales Invoice", invoices["Customer"])
	warranty_invoice = accounts.get("Sales Invoice", invoices["Warranty"])
	# what the customer owes: the invoice's rounded total (ERPNext rounds it unless disabled)
	owed = customer_invoice["rounded_total"] or customer_invoice["grand_total"]
	rounds = customer_invoice["rounded_total"] not in (0, customer_invoice["grand_total"])
	assert {i["item_code"] for i in customer_invoice["items"]} == {
		"LAB-PMS-CAR",
		"PRT-OIL-5W30-1L",
		"PRT-COOLANT-1L",
	}, customer_invoice["items"]
	assert [i["item_code"] for i in warranty_invoice["items"]] == ["LAB-BRAKE-PADS"]
	payment = accounts.call(
		"erpnext.accounts.doctype.payment_entry.payment_entry.get_payment_entry",
		dt="Sales Invoice",
		dn=invoices["Customer"],
	)
	payment.update({"reference_no": "UPI-JOURNEY", "reference_date": site_today()})
	accounts.call("frappe.client.submit", doc=accounts.insert(payment))

	# ---- both ledgers, for the accountant and the parts manager
	for role in (accounts, parts):
		ledger = role.call(
			"frappe.desk.query_report.run",
			report_name="Stock Ledger",
			filters={
				"company": COMPANY,
				# the site's day (its time zone: Asia/Kolkata), not the machine's — from 18:30 UTC
				# the stock received today is dated tomorrow in UTC terms
				"from_date": site_today(),
				"to_date": site_today(),
				"item_code": ["PRT-COOLANT-1L"],
			},
		)
		vouchers = {row.get("voucher_no") for row in ledger["result"] if isinstance(row, dict)}
		assert receipt["name"] in vouchers, (role.user, vouchers)

	# ---- the advisor hands the car over; the system's tasks are closed
	assert advisor.action(name, "Deliver") == "Delivered"
	wait_for(  # (this process only looks: each try reads a fresh snapshot of what was committed)
		lambda: not frappe.get_all(
			"ToDo", filters={"reference_type": "Service Job Card", "reference_name": name, "status": "Open"}
		),
		60,
		"the system's tasks of the delivered job card to close",
	)

	# ---- what the customer was shown is what they pay, with tax, as their invoice says
	tax_ratio = customer_invoice["grand_total"] / customer_invoice["net_total"]
	customer_lines = sum(
		r["amount"] for r in job["labour"] + job["parts"] if r["bill_to"] == "Customer"
	)  # before the decision: every line the customer pays, the declined air filter included
	quoted = round(customer_lines * tax_ratio, 2)
	quoted = round(quoted) if rounds else quoted
	assert quoted in page_figures and max(page_figures) <= quoted, (quoted, sorted(page_figures))

	def ready_sms():  # (the job card's messages are built by a background job after the commit)
		sms = frappe.get_all(
			"Outgoing SMS",
			filters={"reference_doctype": "Service Job Card", "reference_name": name},
			fields=["message"],
		)
		return [m.message for m in sms if "ready for pickup" in m.message.lower()]

	wait_for(ready_sms, 60, "the Ready for Pickup SMS")
	ready = ready_sms()
	assert ready and money_figures(ready[0]) == {owed}, (owed, ready)
	estimate = advisor.get("Service Job Card", name)["estimate"]
	pdf = advisor.s.get(
		f"{server}/api/method/frappe.utils.print_format.download_pdf",
		params={"doctype": "Quotation", "name": estimate, "format": "Dealer Estimate"},
		timeout=120,
	)
	assert pdf.status_code == 200 and pdf.content[:4] == b"%PDF", pdf.text[:500]
	text = pdf_text(pdf.content)
	assert quoted in money_figures(text) and max(money_figures(text)) <= quoted, (quoted, text[:1500])
	assert "Covered" in text or "covered" in text, text[:1500]

	# ---- the recall is done for this VIN: the next visit does not add it again
	found = advisor.call("aftersales_dms.booking.recall.find_vehicle", query=vin)
	assert OEM_RECALL not in [c["name"] for c in found["open_recalls"]], found["open_recalls"]
	assert found["vehicle"]["last_service_date"], found["vehicle"]
