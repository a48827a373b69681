"""./dms benchmark — speed, scale and load of the DMS on this machine, against a real gunicorn.

1. Journey cost ratio: a complete service journey over HTTP (appointment → check-in → inspection
   → job card with 3 labour + 5 parts → parts issue → estimate → customer approval → repair and
   clock → QC → invoice submit → payment, each step by its role) against creating the same ERPNext
   documents directly over HTTP (Quotation, Stock Entry, Sales Invoice, Payment Entry); also each
   kind of ERPNext document as the journey makes it against making it directly, both sides'
   request counts and an empty request's time. (--profile N: every request of N journeys, only.)
2. Throughput: complete journeys per minute with 1, 2 and 4 parallel workers, p50/p95/p99 per step.
3. Scale: bulk-load N job cards (labour, parts, time logs, status history, submitted invoices),
   then time the job card list (status + dealer), the form load, the monthly revenue and
   technician efficiency reports over the data, and a 14-day slot search over 10 bays x 20
   technicians.
1b. Cost per journey: N journeys one after another — requests, CPU seconds of gunicorn, MariaDB
   and the background jobs they queue (run by a burst worker), rows and value bytes added per
   table, InnoDB's allocated size against the values' bytes, binary log and files.
4. Load: U simulated staff users mixing reads and writes for S seconds, back to back (a stress
   test) and at a staff member's pace (1-3 s between requests): errors and p95. The comments a
   run writes are removed before and after it.

Prints a table and writes artifacts/benchmark.json. Loopback only.
"""

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import datetime, timedelta

import requests

BENCH = os.environ["DMS_BENCH"]
SITES = os.path.join(BENCH, "sites")
PASSWORD = json.load(open(os.path.join(BENCH, "fixtures", "dms_demo.json")))["demo_password"]
PUNE, NASHIK = "Orion Motors Pune", "Orion Motors Nashik"
LABOUR = ["LAB-PMS-CAR", "LAB-DIAG", "LAB-BRAKE-PADS"]
WARRANTY_LABOUR = "LAB-BRAKE-PADS"  # the demo vehicle's open recall: billed to the OEM
PARTS = ["PRT-OIL-FILTER-C", "PRT-OIL-5W30-1L", "PRT-COOLANT-1L", "PRT-SPARK-PLUG", "PRT-AIR-FILTER-C"]


def free_port():
	with socket.socket() as s:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]


def pct(values, p):
	if not values:
		return None
	values = sorted(values)
	k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
	return round(values[k] * 1000, 1)  # ms


# ---------------------------------------------------------------- server
class Server:
	def cpu(self) -> float:
		"""CPU seconds of gunicorn so far (master and workers)."""
		import psutil

		total = 0.0
		try:
			procs = [psutil.Process(self.proc.pid)]
			procs += procs[0].children(recursive=True)
		except psutil.Error:
			return 0.0
		for p in procs:
			try:
				times = p.cpu_times()
				total += times.user + times.system
			except psutil.Error:
				pass
		return total

	def __init__(self, site, workers):
		self.site, self.port = site, free_port()
		self.url = f"http://127.0.0.1:{self.port}"
		self.log = open(os.path.join(BENCH, "artifacts", "benchmark-gunicorn.log"), "w")
		self.proc = subprocess.Popen(
			[
				os.path.join(BENCH, "env", "bin", "gunicorn"),
				"-b",
				f"127.0.0.1:{self.port}",
				"-w",
				str(workers),
				"--threads",
				"4",
				"-t",
				"120",
				# idle keep-alive longer than a user's pause between clicks (nginx in front of a
				# bench keeps client connections 75 s): a request on a connection the server
				# closed at that moment is a reset, not an answer
				"--keep-alive",
				"10",
				"--preload",
				"frappe.app:application",
			],
			cwd=SITES,
			stdout=self.log,
			stderr=subprocess.STDOUT,
		)
		deadline = time.monotonic() + 90
		while time.monotonic() < deadline:
			try:
				if self.session().get(f"{self.url}/api/method/ping", timeout=3).ok:
					return
			except requests.ConnectionError:
				time.sleep(0.5)
		raise RuntimeError("gunicorn did not start; see artifacts/benchmark-gunicorn.log")

	def session(self, user=None, password=PASSWORD):
		s = requests.Session()
		s.headers["X-Frappe-Site-Name"] = self.site
		s.headers["Accept"] = "application/json"
		if user:
			r = s.post(f"{self.url}/api/method/login", data={"usr": user, "pwd": password}, timeout=60)
			r.raise_for_status()
		return s

	def stop(self):
		self.proc.terminate()
		try:
			self.proc.wait(20)
		except subprocess.TimeoutExpired:
			self.proc.kill()
		self.log.close()


class Client:
	"""The staff of one dealer, each a logged-in session."""

	USERS = {
		"advisor": "advisor@omp.example",
		"manager": "manager@omp.example",
		"parts": "parts@omp.example",
		"tech": "tech.amit@omp.example",
		"qc": "qc@omp.example",
		"accounts": "accounts@omp.example",
		"oem": "oem.admin@orion-oem.example",
	}

	def __init__(self, server, tech="tech.amit@omp.example"):
		self.server = server
		self.tech_user = tech
		self.s = {role: server.session(tech if role == "tech" else user) for role, user in self.USERS.items()}
		self.s["admin"] = server.session("Administrator", os.environ.get("DMS_ADMIN_PASSWORD", "admin"))
		self.guest = server.session()
		self.calls = None  # a list to record (step, call, seconds) in, for --profile
		self.requests = 0
		self.step = ""

	def new_customer(self):
		"""The next customer opens the approval link from their own address (the guest endpoints
		are rate-limited per IP, as they should be)."""
		self.guest.headers["X-Forwarded-For"] = (
			f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
		)

	def call(self, role, endpoint, **data):
		session = self.guest if role == "guest" else self.s[role]
		self.requests += 1
		profiling = self.calls is not None
		headers = {"X-DMS-Profile-Id": str(len(self.calls))} if profiling else None
		cpu0 = self.server.cpu() if profiling else 0.0
		t = time.perf_counter()
		r = session.post(
			f"{self.server.url}/api/method/{endpoint}",
			json={k: (json.dumps(v) if isinstance(v, dict | list) else v) for k, v in data.items()},
			headers=headers,
			timeout=120,
		)
		if profiling:
			seconds = time.perf_counter() - t
			self.calls.append((self.step, call_label(endpoint, data), seconds, self.server.cpu() - cpu0))
		if not r.ok:
			raise RuntimeError(f"{endpoint} as {role}: {r.status_code} {r.text[:400]}")
		return r.json().get("message")

	def admin_call(self, endpoint, **data):
		"""A request of the harness's own (Administrator), never part of a journey's figures."""
		calls, requests_made, self.calls = self.calls, self.requests, None
		try:
			return self.call("admin", endpoint, **data)
		finally:
			self.calls, self.requests = calls, requests_made

	def insert(self, role, doc):
		return self.call(role, "frappe.client.insert", doc=doc)

	def submit(self, role, doc):
		return self.call(role, "frappe.client.submit", doc=doc)

	def get(self, role, doctype, name):
		return self.call(role, "frappe.client.get", doctype=doctype, name=name)

	def run(self, role, doctype, name, method, **args):
		return self.call(role, "run_doc_method", dt=doctype, dn=name, method=method, args=json.dumps(args))

	def action(self, role, name, action):
		doc = self.get(role, "Service Job Card", name)
		return self.call(role, "frappe.model.workflow.apply_workflow", doc=doc, action=action)


def document_step(timings, doctype, fn):
	"""Run fn, the requests that make one kind of ERPNext document, timed under "doc:<doctype>"
	(summed per journey: a journey makes two Sales Invoices)."""
	t = time.perf_counter()
	out = fn()
	timings[f"doc:{doctype}"].append(time.perf_counter() - t)
	return out


def call_label(endpoint, data):
	"""What a request did, for --profile: the method, and the doctype or document method it ran."""
	name = endpoint.rsplit(".", 1)[-1]
	doc = data.get("doc")
	if isinstance(doc, dict):
		return f"{name} {doc.get('doctype')}"
	if endpoint == "run_doc_method":
		return f"{data['dt']}.{data['method']}"
	if "doctype" in data:
		return f"{name} {data['doctype']}"
	return name


def normalize_query(query: str) -> str:
	"""A query's shape: its literals as ?, its whitespace collapsed (what repeats across requests)."""
	import re

	query = re.sub(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"", "?", query)
	query = re.sub(r"\b\d+(?:\.\d+)?\b", "?", query)
	query = re.sub(r"\(\s*\?(?:\s*,\s*\?)*\s*\)", "(?)", query)
	return re.sub(r"\s+", " ", query).strip()[:240]


def profile(c: Client, slot_day, vehicle, runs: int):
	"""Every request of `runs` journeys and direct runs, in the order the journey makes them, with
	Frappe's recorder on (it times every SQL statement of a request): per call the median
	milliseconds, SQL statements and gunicorn CPU milliseconds per journey (a call made more than
	once per journey is summed per journey), per step their sums, and the statements that cost the
	journey most. The recorder's own bookkeeping adds to the times: compare figures of one profile
	with another, not with the ratio runs."""
	c.calls = []
	recorded = {}
	for run in range(runs):
		c.admin_call("frappe.recorder.delete")
		# (the recorder switches itself off after 5 minutes: started again for each run)
		c.admin_call("frappe.recorder.start", record_jobs=0, capture_stack=0, explain=0)
		first = len(c.calls)
		c.step = "booking"
		issue_recall(c, vehicle)
		dms_journey(c, book_slot(c, slot_day, vehicle), vehicle, defaultdict(list))
		erpnext_journey(c, vehicle.customer, defaultdict(list))
		for request in c.admin_call("frappe.recorder.export_data") or []:
			headers = {k.lower(): v for k, v in (request.get("headers") or {}).items()}
			rid = headers.get("x-dms-profile-id")
			if rid is not None and rid.isdigit() and int(rid) >= first:
				recorded[int(rid)] = request
		c.admin_call("frappe.recorder.stop")
		c.admin_call("frappe.recorder.delete")
		c.calls.append(("", "--end of run--", run, 0.0))
	per_run = defaultdict(lambda: defaultdict(lambda: [0.0, 0, 0.0]))  # seconds, queries, cpu
	order, run, count = {}, 0, defaultdict(int)
	queries = defaultdict(lambda: [0, 0.0])  # shape: statements, milliseconds (all runs)
	statements = {}  # (step, call): the first run's SQL statements of the call's first request
	for rid, (step, label, seconds, cpu) in enumerate(c.calls):
		if label == "--end of run--":
			run += 1
			continue
		key = (step, label)
		order.setdefault(key, len(order))
		request = recorded.get(rid) or {}
		cell = per_run[key][run]
		cell[0] += seconds
		cell[1] += int(request.get("queries") or 0)
		cell[2] += cpu
		if run == 0 and key not in statements:
			statements[key] = [call.get("query") or "" for call in request.get("calls") or []]
		for call in request.get("calls") or []:
			shape = queries[normalize_query(call.get("query") or "")]
			shape[0] += 1
			shape[1] += float(call.get("duration") or 0)
		if run == 0:
			count[key] += 1
	rows = []
	for key in sorted(order, key=order.get):
		cells = per_run[key].values()
		rows.append(
			{
				"step": key[0],
				"call": key[1],
				"per_journey": count[key],
				"ms": round(1000 * statistics.median(x[0] for x in cells), 1),
				"queries": round(statistics.median(x[1] for x in cells)),
				"cpu_ms": round(1000 * statistics.median(x[2] for x in cells), 1),
			}
		)
	top = [
		{"query": q, "per_journey": round(n / runs, 1), "ms_per_journey": round(ms / runs, 1)}
		for q, (n, ms) in sorted(queries.items(), key=lambda kv: -kv[1][1])[:15]
	]
	c.calls = None
	with open(os.path.join(BENCH, "artifacts", "benchmark-profile-statements.json"), "w") as f:
		json.dump([{"step": k[0], "call": k[1], "statements": v} for k, v in statements.items()], f, indent=1)
	return rows, top


# ---------------------------------------------------------------- journeys
OPEN_CAMPAIGNS = set()  # the harness's campaigns still open: closed when it ends (close_campaigns)


def close_campaigns(server):
	"""The OEM closes the campaigns the harness issued, so the site's vehicle is as it was."""
	if not OPEN_CAMPAIGNS:
		return
	session = server.session(Client.USERS["oem"])
	for name in sorted(OPEN_CAMPAIGNS):
		session.post(
			f"{server.url}/api/method/frappe.client.set_value",
			json={"doctype": "Recall Campaign", "name": name, "fieldname": "status", "value": "Closed"},
			timeout=60,
		)
	OPEN_CAMPAIGNS.clear()


def issue_recall(c: Client, vehicle: dict) -> str:
	"""The journey's own recall, as the OEM issues a campaign: a journey bills its recall labour to
	the OEM, and that remedies the campaign for the vehicle (a Recall Remedy closes it for the VIN),
	so each journey gets a new campaign for the demo vehicle; the OEM closes the previous one. Not
	part of the journey's figures (the caller keeps it out of the timings)."""
	calls, requests_made, c.calls = c.calls, c.requests, None  # not the journey's requests
	previous = getattr(c, "recall_campaign", None)
	if previous:
		c.call(
			"oem",
			"frappe.client.set_value",
			doctype="Recall Campaign",
			name=previous,
			fieldname="status",
			value="Closed",
		)
		OPEN_CAMPAIGNS.discard(previous)
	code = f"BM-{datetime.now():%Y%m%d%H%M%S}-{random.randint(0, 10**6):06d}"
	campaign = c.insert(
		"oem",
		{
			"doctype": "Recall Campaign",
			"campaign_code": code,
			"title": "Benchmark: front brake hose inspection",
			"campaign_type": "Safety Recall",
			"status": "Open",
			"vins": [{"vin": vehicle["name"]}],
			"remedy_items": [{"item_code": WARRANTY_LABOUR, "qty": 1}],
		},
	)
	c.recall_campaign = campaign["name"]
	OPEN_CAMPAIGNS.add(campaign["name"])
	c.calls, c.requests = calls, requests_made
	return campaign["name"]


def dms_journey(c: Client, slot: dict, vehicle: dict, timings: dict):
	def step(name, fn):
		c.step = name
		t = time.perf_counter()
		out = fn()
		timings[name].append(time.perf_counter() - t)
		return out

	def appointment():
		appt = c.insert(
			"advisor",
			{
				"doctype": "Service Appointment",
				"company": PUNE,
				"channel": "Phone",
				"customer": vehicle["customer"],
				"vehicle": vehicle["name"],
				"scheduled_start": slot["start"],
				"service_bay": slot["service_bay"],
				"technician": slot["technician"],
				"services": [{"item_code": "LAB-PMS-CAR"}],
			},
		)
		c.run("advisor", "Service Appointment", appt["name"], "confirm")
		return appt["name"]

	appt = step("appointment", appointment)

	def check_in():
		doc = c.call(
			"advisor",
			"aftersales_dms.reception.doctype.vehicle_check_in.vehicle_check_in.make_check_in",
			source_name=appt,
		)
		current = c.call(
			"advisor",
			"frappe.client.get_value",
			doctype="Customer Vehicle",
			filters=vehicle["name"],
			fieldname="current_odometer",
		)["current_odometer"]
		doc.update({"odometer": int(current or 0) + 500, "fuel_level": "1/2"})
		doc = c.insert("advisor", doc)
		doc = c.submit("advisor", doc)
		inspection = c.get("advisor", "Vehicle Inspection", doc["vehicle_inspection"])
		for row in inspection["items"]:
			row["result"] = "Green"
		c.submit("advisor", inspection)
		return doc["name"]

	check_in_name = step("check_in", check_in)

	def job_card():
		doc = c.call(
			"advisor",
			"aftersales_dms.reception.doctype.vehicle_check_in.vehicle_check_in.make_job_card",
			source_name=check_in_name,
		)
		labour_items = {r["item_code"] for r in doc.get("labour", [])}
		# no rates: the server prices every line from the dealer's price list (a typed rate below
		# the price is a discount, refused above the advisor's limit)
		for item in LABOUR:
			if item not in labour_items and len(doc["labour"]) < 3:
				doc["labour"].append({"item_code": item, "standard_hours": 1})
		doc["parts"] = [{"item_code": p, "qty": 1} for p in PARTS]
		return c.insert("advisor", doc)["name"]

	jc = step("job_card", job_card)

	def approval():
		c.action("tech", jc, "Start Work")
		document_step(
			timings,
			"Quotation",
			lambda: c.call("advisor", "aftersales_dms.billing.estimate.make_estimate", job_card=jc),
		)
		link = c.call("advisor", "aftersales_dms.billing.approval.make_approval_link", job_card=jc)
		c.action("advisor", jc, "Request Approval")
		doc = c.get("advisor", "Service Job Card", jc)
		token = link.split("token=")[1]
		c.new_customer()
		c.call(
			"guest",
			"aftersales_dms.billing.approval.decide",
			token=token,
			decisions={
				r["name"]: "Approved"
				for r in doc["labour"] + doc["parts"]
				if r.get("bill_to", "Customer") == "Customer"  # covered lines take no decision
			},
		)

	step("estimate_approval", approval)

	def parts():
		pr = c.call(
			"parts",
			"aftersales_dms.parts.doctype.parts_request.parts_request.make_parts_request",
			source_name=jc,
		)
		pr = c.submit("parts", c.insert("parts", pr))
		result = document_step(
			timings, "Stock Entry", lambda: c.run("parts", "Parts Request", pr["name"], "issue_parts")
		)
		if (result or {}).get("shortages"):
			raise RuntimeError(f"parts short: {result}")

	step("parts_issue", parts)

	def repair():
		c.action("manager", jc, "Start Repair")
		doc = c.get("manager", "Service Job Card", jc)
		amit = c.call(
			"manager",
			"frappe.client.get_value",
			doctype="Service Technician",
			filters={"user": c.tech_user},
			fieldname="name",
		)["name"]
		for row in doc["labour"]:
			if row.get("technician") != amit:
				c.run(
					"manager",
					"Service Job Card",
					jc,
					"assign_technician",
					labour_line=row["name"],
					technician=amit,
				)
			c.run("tech", "Service Job Card", jc, "start_work", labour_line=row["name"])
			c.run("tech", "Service Job Card", jc, "finish_work", labour_line=row["name"])
		c.action("tech", jc, "Send to QC")

	step("repair_clock", repair)

	def qc():
		doc = c.get("qc", "Service Job Card", jc)
		for row in doc["qc_items"]:
			row["verified"] = 1
		c.call("qc", "frappe.client.save", doc=doc)
		c.action("qc", jc, "Pass QC")

	step("qc", qc)

	def invoice():
		invoices = c.call("accounts", "aftersales_dms.billing.invoice.make_invoices", job_card=jc)
		for name in invoices.values():
			c.submit("accounts", c.get("accounts", "Sales Invoice", name))
		return invoices

	invoices = step("invoice", lambda: document_step(timings, "Sales Invoice", invoice))

	def payment():
		if "Customer" in invoices:
			pe = c.call(
				"accounts",
				"erpnext.accounts.doctype.payment_entry.payment_entry.get_payment_entry",
				dt="Sales Invoice",
				dn=invoices["Customer"],
			)
			pe.update({"reference_no": f"BM-{jc}", "reference_date": datetime.now().date().isoformat()})
			c.submit("accounts", c.insert("accounts", pe))

	step("payment", lambda: document_step(timings, "Payment Entry", payment))
	return jc


def erpnext_journey(c: Client, customer: str, timings: dict):
	"""The ERPNext documents a journey makes, made directly: Quotation (3 labour lines and 5 parts,
	the dealer's taxes), Stock Entry (the 5 parts to work in progress), the customer's Sales
	Invoice (2 labour lines and the parts, from work in progress), the OEM's warranty Sales Invoice
	(the open recall's labour line, which the journey's job card carries) and the customer's
	Payment Entry."""
	c.step = "direct"
	t0 = time.perf_counter()
	tax = c.call(
		"admin",
		"frappe.client.get_value",
		doctype="Sales Taxes and Charges Template",
		filters={"company": PUNE, "is_default": 1},
		fieldname="name",
	)["name"]
	oem = c.call(
		"admin",
		"frappe.client.get_value",
		doctype="Dealer Workshop Settings",
		filters=PUNE,
		fieldname="oem_customer",
	)["oem_customer"]
	lines = [{"item_code": i, "qty": 1, "rate": 900} for i in LABOUR] + [
		{"item_code": p, "qty": 1, "rate": 400} for p in PARTS
	]
	quotation = {
		"doctype": "Quotation",
		"quotation_to": "Customer",
		"party_name": customer,
		"company": PUNE,
		"order_type": "Maintenance",
		"taxes_and_charges": tax,
		"items": lines,
	}
	document_step(timings, "Quotation", lambda: c.submit("admin", c.insert("admin", quotation)))
	stock_entry = {
		"doctype": "Stock Entry",
		"stock_entry_type": "Material Transfer",
		"company": PUNE,
		"items": [
			{
				"item_code": p,
				"qty": 1,
				"s_warehouse": "Parts Store - OMP",
				"t_warehouse": "Work In Progress - OMP",
			}
			for p in PARTS
		],
	}
	document_step(timings, "Stock Entry", lambda: c.submit("admin", c.insert("admin", stock_entry)))
	warranty = [line for line in lines if line["item_code"] == WARRANTY_LABOUR]
	customer_invoice = {
		"doctype": "Sales Invoice",
		"customer": customer,
		"company": PUNE,
		"update_stock": 1,
		"taxes_and_charges": tax,
		"items": [
			{**line, **({"warehouse": "Work In Progress - OMP"} if line["item_code"] in PARTS else {})}
			for line in lines
			if line not in warranty
		],
	}
	oem_invoice = {
		"doctype": "Sales Invoice",
		"customer": oem,
		"company": PUNE,
		"taxes_and_charges": tax,
		"items": warranty,
	}

	def invoices():
		made = [c.submit("admin", c.insert("admin", doc)) for doc in (customer_invoice, oem_invoice)]
		return made[0]

	si = document_step(timings, "Sales Invoice", invoices)

	def payment():
		pe = c.call(
			"admin",
			"erpnext.accounts.doctype.payment_entry.payment_entry.get_payment_entry",
			dt="Sales Invoice",
			dn=si["name"],
		)
		pe.update({"reference_no": f"BM-{si['name']}", "reference_date": datetime.now().date().isoformat()})
		c.submit("admin", c.insert("admin", pe))

	document_step(timings, "Payment Entry", payment)
	timings["erpnext_documents"].append(time.perf_counter() - t0)


def book_slot(c: Client, first_day, vehicle):
	"""The next free slot for a periodic service from first_day on (retries a slot another worker took)."""
	for _attempt in range(5):
		slots = c.call(
			"advisor",
			"aftersales_dms.booking.capacity.find_slots",
			company=PUNE,
			from_date=first_day.isoformat(),
			to_date=(first_day + timedelta(days=30)).isoformat(),
			services=["LAB-PMS-CAR"],
			limit=1,
		)
		if slots:
			return slots[0]
		first_day += timedelta(days=30)
	raise RuntimeError("no free slot")


def throughput(server, workers: int, journeys_per_worker: int, vehicle, base_day, timings, errors):
	techs = [
		"tech.amit@omp.example",
		"tech.sunil@omp.example",
		"tech.ganesh@omp.example",
		"tech.raju@omp.example",
	]

	def worker(k):
		c = Client(server, tech=techs[k % len(techs)])  # one technician works one job at a time
		day = base_day + timedelta(days=k * 3)
		for _ in range(journeys_per_worker):
			try:
				issue_recall(c, vehicle)
				for _attempt in range(3):
					slot = book_slot(c, day, vehicle)
					try:
						dms_journey(c, slot, vehicle, timings)
						break
					except RuntimeError as e:
						if (
							"clash" not in str(e).lower()
							and "already booked" not in str(e).lower()
							and "is booked" not in str(e).lower()
						):
							raise
			except Exception as e:
				errors.append(str(e)[:300])

	threads = [threading.Thread(target=worker, args=(k,)) for k in range(workers)]
	t0 = time.perf_counter()
	for t in threads:
		t.start()
	for t in threads:
		t.join()
	return time.perf_counter() - t0


# ---------------------------------------------------------------- cost per journey
def table_rows(frappe):
	"""Exact row count of every table of the site's database (one query)."""
	tables = frappe.db.sql_list(
		"select table_name from information_schema.tables where table_schema = database() "
		"and table_type = 'BASE TABLE'"
	)
	sql = " union all ".join(f"select '{t}', count(*) from `{t}`" for t in tables)
	return dict(frappe.db.sql(sql))


def payload_bytes(frappe, table, since=None):
	"""The bytes a table's rows hold (sum of each value's length), of the rows created since a
	moment (tables with a creation column), or of all rows."""
	columns = frappe.db.sql_list(
		"select column_name from information_schema.columns where table_schema = database() "
		"and table_name = %s",
		table,
	)
	if since and "creation" not in columns:
		return None
	size = " + ".join(f"coalesce(octet_length(`{c}`), 0)" for c in columns)
	where = " where creation >= %(since)s" if since else ""
	return int(frappe.db.sql(f"select sum({size}) from `{table}`{where}", {"since": since})[0][0] or 0)


def binlog_bytes(frappe):
	"""The primary's binary log so far, what a replica receives: its files' sizes (SHOW BINARY LOGS
	needs a privilege the site's user has not) and the transactions written (GTID sequence)."""
	import glob

	size = sum(os.path.getsize(f) for f in glob.glob(os.path.join(BENCH, "db", "data", "mariadb-bin.[0-9]*")))
	position = frappe.db.sql("select @@global.gtid_binlog_pos")[0][0] or ""
	return size, sum(int(g.split("-")[2]) for g in position.split(",") if g.count("-") == 2)


def files_on_disk(site):
	total = count = 0
	for folder in ("public/files", "private/files"):
		for root, _dirs, files in os.walk(os.path.join(SITES, site, folder)):
			for name in files:
				total += os.path.getsize(os.path.join(root, name))
				count += 1
	return count, total


def burst_worker():
	"""Run the bench's queued background jobs to the end (an RQ worker in burst mode); the CPU
	seconds it and its work horses used."""
	import resource

	before = resource.getrusage(resource.RUSAGE_CHILDREN)
	subprocess.run(
		[
			sys.executable,
			"-m",
			"frappe.utils.bench_helper",
			"frappe",
			"worker",
			"--queue",
			"short,default,long",
			"--burst",
			"--quiet",
		],
		cwd=SITES,
		stdout=subprocess.DEVNULL,
		stderr=subprocess.DEVNULL,
		timeout=600,
	)
	after = resource.getrusage(resource.RUSAGE_CHILDREN)
	return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def cost_per_journey(server, frappe, c, vehicle, first_day, n):
	"""What one complete journey costs the servers, over n journeys one after another: requests,
	CPU seconds of gunicorn (master and workers), of MariaDB and of the background jobs it queues,
	the rows it adds, their bytes (the values' lengths; and InnoDB's allocated size of the tables
	that grew most, for the ratio between the two), the binary log a replica receives and files."""
	import psutil
	from frappe.utils import now_datetime

	gunicorn = psutil.Process(server.proc.pid)
	mariadb = psutil.Process(int(open(os.path.join(BENCH, "db", "mysqld.pid")).read().strip()))

	def cpu(procs):
		return sum(p.cpu_times().user + p.cpu_times().system for p in procs)

	burst_worker()  # what earlier runs left queued
	empty_burst = burst_worker()  # a worker's own start-up and shut-down, with nothing to do
	frappe.db.rollback()
	rows_before, binlog_before, files_before = (
		table_rows(frappe),
		binlog_bytes(frappe),
		files_on_disk(server.site),
	)
	since = now_datetime()
	time.sleep(1)  # creation has whole-second resolution in the comparison below
	workers = [gunicorn, *gunicorn.children(recursive=True)]
	web0, db0, requests0, t0 = cpu(workers), cpu([mariadb]), c.requests, time.perf_counter()
	for _ in range(n):
		issue_recall(c, vehicle)  # (two small requests of the OEM's, counted in the CPU figures)
		dms_journey(c, book_slot(c, first_day, vehicle), vehicle, defaultdict(list))
	wall, web, requests_made = time.perf_counter() - t0, cpu(workers) - web0, c.requests - requests0
	db_during = cpu([mariadb]) - db0
	db1 = cpu([mariadb])
	from frappe.utils.background_jobs import get_queue

	queued = sum(get_queue(q).count for q in ("short", "default", "long"))
	jobs = max(0.0, burst_worker() - empty_burst)
	db_jobs = cpu([mariadb]) - db1
	frappe.db.rollback()
	rows_after = table_rows(frappe)
	grown = {
		t: rows_after[t] - rows_before.get(t, 0) for t in rows_after if rows_after[t] != rows_before.get(t, 0)
	}
	payload = {}
	for table, added in grown.items():
		if added > 0:
			payload[table] = payload_bytes(frappe, table, since)
	measured = {t: b for t, b in payload.items() if b is not None}
	top = sorted(measured, key=measured.get, reverse=True)[:8]
	# InnoDB's allocated size against the values' bytes, over the whole of the tables that grew most
	if top:
		frappe.db.sql("analyze table " + ", ".join(f"`{t}`" for t in top))
	allocated = {
		r[0]: int(r[1])
		for r in frappe.db.sql(
			"select table_name, data_length + index_length from information_schema.tables "
			"where table_schema = database() and table_name in %(t)s",
			{"t": top or [""]},
		)
	}
	whole = {t: payload_bytes(frappe, t) for t in top}
	files_after = files_on_disk(server.site)
	binlog_after = binlog_bytes(frappe)
	reads = read_costs(server, frappe, gunicorn, mariadb, cpu)
	per = 1 / n
	return {
		"journeys": n,
		"wall_s_per_journey": round(wall * per, 2),
		"requests_per_journey": round(requests_made * per, 1),
		"background_jobs_per_journey": round(queued * per, 1),
		"cpu_s_per_journey": {
			"gunicorn": round(web * per, 3),
			"mariadb_during_requests": round(db_during * per, 3),
			"background_jobs": round(jobs * per, 3),
			"mariadb_during_jobs": round(db_jobs * per, 3),
		},
		"rows_per_journey": round(sum(v for v in grown.values() if v > 0) * per, 1),
		"rows_removed_per_journey": round(-sum(v for v in grown.values() if v < 0) * per, 1),
		"rows_per_journey_by_table": {
			t: round(v * per, 2) for t, v in sorted(grown.items(), key=lambda x: -x[1])
		},
		"value_bytes_per_journey": round(sum(measured.values()) * per),
		"value_bytes_per_journey_by_table": {t: round(measured[t] * per) for t in top},
		"rows_without_creation_column": {t: grown[t] for t in payload if payload[t] is None},
		"innodb_allocated_to_value_bytes": round(
			sum(allocated.get(t, 0) for t in top) / max(1, sum(whole.values())), 2
		),
		"binlog_bytes_per_journey": round((binlog_after[0] - binlog_before[0]) * per),
		"transactions_per_journey": round((binlog_after[1] - binlog_before[1]) * per, 1),
		"files_per_journey": round((files_after[0] - files_before[0]) * per, 2),
		"file_bytes_per_journey": round((files_after[1] - files_before[1]) * per),
		"reads_cpu_ms": reads,
	}


def read_costs(server, frappe, gunicorn, mariadb, cpu, repeat=30):
	"""CPU milliseconds per request of the reads a workshop's desk makes all day, each kind run
	`repeat` times in a row as the workshop manager: gunicorn's and MariaDB's (the replica's share:
	the kinds a replica serves, see README "Growing past one machine")."""
	from aftersales_dms.workshop import board

	manager = server.session("manager@omp.example")
	job = frappe.get_all("Service Job Card", filters={"company": PUNE}, pluck="name", limit=1)[0]
	today = datetime.now().date()
	month = json.dumps(
		{"company": PUNE, "from_date": today.replace(day=1).isoformat(), "to_date": today.isoformat()}
	)

	def call(method, **data):
		r = manager.post(f"{server.url}/api/method/{method}", data=data, timeout=120)
		if not r.ok:
			raise RuntimeError(f"{method}: {r.status_code} {r.text[:300]}")

	card = json.dumps({"name": "Jobs in Workshop", "function": "Count", "document_type": "Service Job Card"})
	kinds = {
		"workshop board (after a change)": lambda: (
			board.invalidate(),
			call("aftersales_dms.workshop.board.get_board"),
		),
		"number card": lambda: call(
			"frappe.desk.doctype.number_card.number_card.get_result",
			doc=card,
			filters=json.dumps([["Service Job Card", "status", "=", "Open", False]]),
		),
		"list count": lambda: call(
			"frappe.desk.reportview.get_count", doctype="Service Job Card", filters="[]"
		),
		"list view (20 rows)": lambda: call(
			"frappe.desk.reportview.get",
			doctype="Service Job Card",
			fields=json.dumps(["name", "status", "registration_plate", "modified"]),
			order_by="modified desc",
			page_length=20,
		),
		"revenue report (this month)": lambda: call(
			"frappe.desk.query_report.run", report_name="Workshop Revenue", filters=month
		),
		"job card form (primary)": lambda: call(
			"frappe.desk.form.load.getdoc", doctype="Service Job Card", name=job
		),
	}
	out = {}
	for kind, fn in kinds.items():
		fn()  # warm
		workers = [gunicorn, *gunicorn.children(recursive=True)]
		web0, db0 = cpu(workers), cpu([mariadb])
		for _ in range(repeat):
			fn()
		out[kind] = {
			"gunicorn": round(1000 * (cpu(workers) - web0) / repeat, 1),
			"mariadb": round(1000 * (cpu([mariadb]) - db0) / repeat, 1),
		}
	return out


# ---------------------------------------------------------------- in-process: data
def connect(site):
	import frappe

	os.chdir(SITES)
	frappe.init(site=site, sites_path=SITES)
	frappe.connect()
	frappe.set_user("Administrator")
	return frappe


def innodb_deadlocks(frappe) -> int:
	frappe.db.rollback()  # a fresh read of the server's counters
	return int(frappe.db.sql("show global status like 'Innodb_deadlocks'")[0][1])


def top_up_stock(frappe, qty=5000):
	store = frappe.db.get_value("Dealer Workshop Settings", PUNE, "parts_warehouse")
	items = frappe.get_all("Item", filters={"dms_item_kind": "Part"}, pluck="name")
	need = []
	for item in items:
		have = frappe.db.get_value("Bin", {"item_code": item, "warehouse": store}, "actual_qty") or 0
		if have < qty / 2:
			need.append({"item_code": item, "qty": qty - have, "t_warehouse": store, "basic_rate": 200})
	if need:
		frappe.get_doc(
			{"doctype": "Stock Entry", "stock_entry_type": "Material Receipt", "company": PUNE, "items": need}
		).insert().submit()
	frappe.db.commit()


def bench_capacity(frappe):
	"""Slot search at scale: 10 bays and 20 technicians at the Nashik dealer (created once)."""
	for k in range(1, 11):
		name = f"OMN Bench Bay {k:02d}"
		if not frappe.db.exists("Service Bay", name):
			frappe.get_doc(
				{"doctype": "Service Bay", "bay_name": name, "company": NASHIK, "bay_type": "General"}
			).insert()
	have = frappe.db.count("Service Technician", {"company": NASHIK})
	for k in range(have, 20):
		emp = frappe.get_doc(
			{
				"doctype": "Employee",
				"first_name": f"Bench{k:02d}",
				"last_name": "Tech",
				"company": NASHIK,
				"gender": "Male",
				"date_of_birth": "1990-01-01",
				"date_of_joining": "2020-01-01",
			}
		).insert()
		frappe.get_doc(
			{
				"doctype": "Service Technician",
				"employee": emp.name,
				"company": NASHIK,
				"status": "Active",
				"shift_start": "09:00:00",
				"shift_end": "18:00:00",
				"skills": [{"skill": "Periodic Maintenance", "level": "Senior"}],
			}
		).insert()
	frappe.db.commit()


# the columns every child-table row starts with, in the order the generator's tuples give them
CHILD_ROW = [
	"name",
	"creation",
	"modified",
	"owner",
	"modified_by",
	"parent",
	"parentfield",
	"parenttype",
	"idx",
]


def generate(frappe, n: int, seed=7):
	"""Bulk-load n job cards over the last 12 months with 3 labour, 2 parts, 3 time logs, 4 status
	changes and one submitted invoice (5 lines) each — straight into the tables, like a data
	migration, not through the controllers."""
	from frappe.utils import now_datetime

	have = frappe.db.count("Service Job Card", {"name": ("like", "SJC-BM-%")})
	if have >= n:
		return 0
	rng = random.Random(seed)
	techs = {
		c: frappe.get_all("Service Technician", filters={"company": c}, pluck="name") for c in (PUNE, NASHIK)
	}
	vehicles = frappe.get_all(
		"Customer Vehicle",
		fields=["name", "customer", "customer_name", "registration_plate", "vehicle_category"],
	)
	debtors = {c: frappe.get_cached_value("Company", c, "default_receivable_account") for c in (PUNE, NASHIK)}
	statuses = ["Delivered"] * 14 + [
		"Open",
		"In Progress",
		"Awaiting Approval",
		"Repairing",
		"Quality Check",
		"Ready for Pickup",
	]
	now = now_datetime()
	user = "Administrator"
	chunk = 5000
	t0 = time.perf_counter()
	for start in range(have, n, chunk):
		jc_rows, lab_rows, part_rows, log_rows, st_rows, si_rows, sii_rows = [], [], [], [], [], [], []
		for i in range(start, min(n, start + chunk)):
			company = PUNE if i % 2 == 0 else NASHIK
			v = vehicles[i % len(vehicles)]
			created = now - timedelta(minutes=rng.randint(60, 365 * 24 * 60))
			name = f"SJC-BM-{i:07d}"
			status = rng.choice(statuses)
			lab = [(rng.choice(LABOUR), rng.choice([0.8, 1.2, 2.5]), 900) for _ in range(3)]
			parts = [(rng.choice(PARTS), rng.randint(1, 3), 400) for _ in range(2)]
			labour_total = sum(h * r for _i, h, r in lab)
			parts_total = sum(q * r for _i, q, r in parts)
			jc_rows.append(
				(
					name,
					created,
					created,
					user,
					user,
					company,
					status,
					created.date(),
					v.customer,
					v.customer_name,
					v.name,
					v.registration_plate,
					v.vehicle_category,
					10000 + i % 50000,
					sum(h for _i, h, _r in lab),
					labour_total,
					parts_total,
					labour_total + parts_total,
					"INR",
				)
			)
			tech = rng.choice(techs[company])
			for k, (item, hours, rate) in enumerate(lab):
				row = f"{name}-L{k}"
				lab_rows.append(
					(
						row,
						created,
						created,
						user,
						user,
						name,
						"labour",
						"Service Job Card",
						k + 1,
						item,
						item,
						hours,
						rate,
						hours * rate,
						tech,
						"Customer Request",
						"Done",
						hours,
						"Customer",
					)
				)
				t_from = created + timedelta(hours=k)
				log_rows.append(
					(
						f"{name}-T{k}",
						created,
						created,
						user,
						user,
						name,
						"time_logs",
						"Service Job Card",
						k + 1,
						row,
						item,
						tech,
						t_from,
						t_from + timedelta(hours=hours * rng.uniform(0.7, 1.3)),
						round(hours * rng.uniform(0.7, 1.3), 2),
					)
				)
			for k, (item, qty, rate) in enumerate(parts):
				part_rows.append(
					(
						f"{name}-P{k}",
						created,
						created,
						user,
						user,
						name,
						"parts",
						"Service Job Card",
						k + 1,
						item,
						item,
						qty,
						rate,
						qty * rate,
						qty,
						"Customer",
					)
				)
			flow = [
				"Open",
				"In Progress",
				"Awaiting Approval",
				"Repairing",
				"Quality Check",
				"Ready for Pickup",
			]
			t = created
			for k in range(4):
				hours = rng.uniform(0.2, 6)
				t = t + timedelta(hours=hours)
				st_rows.append(
					(
						f"{name}-S{k}",
						created,
						created,
						user,
						user,
						name,
						"status_log",
						"Service Job Card",
						k + 1,
						flow[k],
						flow[k + 1],
						t,
						user,
						round(hours, 2),
					)
				)
			if status == "Delivered":
				si = f"SINV-BM-{i:07d}"
				total = labour_total + parts_total
				si_rows.append(
					(
						si,
						created,
						created,
						user,
						user,
						1,
						company,
						v.customer,
						v.customer_name,
						created.date(),
						"INR",
						"INR",
						1,
						total,
						total,
						total,
						total,
						total * 1.18,
						total * 1.18,
						0,
						debtors[company],
						name,
						v.name,
						"Customer",
					)
				)
				for k, (item, qty, rate) in enumerate([(i_, h, r) for i_, h, r in lab] + parts):
					sii_rows.append(
						(
							f"{si}-{k}",
							created,
							created,
							user,
							user,
							1,
							si,
							"items",
							"Sales Invoice",
							k + 1,
							item,
							item,
							item,
							qty,
							rate,
							qty * rate,
							qty * rate,
							qty * rate,
							"Nos",
							1,
							qty,
						)
					)
		bulk = frappe.db.bulk_insert
		bulk(
			"Service Job Card",
			[
				"name",
				"creation",
				"modified",
				"owner",
				"modified_by",
				"company",
				"status",
				"posting_date",
				"customer",
				"customer_name",
				"vehicle",
				"registration_plate",
				"vehicle_category",
				"odometer",
				"total_hours",
				"labour_total",
				"parts_total",
				"grand_total",
				"currency",
			],
			jc_rows,
		)
		bulk(
			"Service Job Card Labour",
			[
				*CHILD_ROW,
				"item_code",
				"item_name",
				"standard_hours",
				"rate",
				"amount",
				"technician",
				"source",
				"work_status",
				"clocked_hours",
				"bill_to",
			],
			lab_rows,
		)
		bulk(
			"Service Job Card Part",
			[
				*CHILD_ROW,
				"item_code",
				"item_name",
				"qty",
				"rate",
				"amount",
				"issued_qty",
				"bill_to",
			],
			part_rows,
		)
		bulk(
			"Service Job Card Time Log",
			[
				*CHILD_ROW,
				"labour_line",
				"item_code",
				"technician",
				"from_time",
				"to_time",
				"hours",
			],
			log_rows,
		)
		bulk(
			"Service Job Card Status Log",
			[
				*CHILD_ROW,
				"from_status",
				"to_status",
				"changed_on",
				"changed_by",
				"hours_in_from_status",
			],
			st_rows,
		)
		bulk(
			"Sales Invoice",
			[
				"name",
				"creation",
				"modified",
				"owner",
				"modified_by",
				"docstatus",
				"company",
				"customer",
				"customer_name",
				"posting_date",
				"currency",
				"price_list_currency",
				"conversion_rate",
				"total",
				"net_total",
				"base_total",
				"base_net_total",
				"grand_total",
				"base_grand_total",
				"outstanding_amount",
				"debit_to",
				"dms_service_job_card",
				"dms_vehicle",
				"dms_bill_to",
			],
			si_rows,
		)
		bulk(
			"Sales Invoice Item",
			[
				"name",
				"creation",
				"modified",
				"owner",
				"modified_by",
				"docstatus",
				"parent",
				"parentfield",
				"parenttype",
				"idx",
				"item_code",
				"item_name",
				"description",
				"qty",
				"rate",
				"amount",
				"net_amount",
				"base_net_amount",
				"uom",
				"conversion_factor",
				"stock_qty",
			],
			sii_rows,
		)
		frappe.db.commit()
		print(
			f"  generated {min(n, start + chunk):,} of {n:,} job cards ({time.perf_counter() - t0:.0f} s)",
			flush=True,
		)
	# the figures the reports keep (invoice labour/parts amounts, line start/finish, revenue per
	# dealer and month, technician work per day), as the upgrade patches fill them for older data
	from aftersales_dms.analytics.revenue_rollup import rebuild as fill_revenue_months
	from aftersales_dms.analytics.technician_days import rebuild as fill_technician_days
	from aftersales_dms.patches.v1_0.report_rollups import execute as fill_report_figures

	fill_report_figures()
	fill_revenue_months()
	fill_technician_days()
	frappe.db.commit()
	return time.perf_counter() - t0


def timed(fn, repeat):
	out = []
	for _ in range(repeat):
		t = time.perf_counter()
		fn()
		out.append(time.perf_counter() - t)
	return out


def scale_queries(server, frappe, repeat):
	manager = server.session("manager@omp.example")
	oem = server.session("oem.admin@orion-oem.example")
	url = server.url
	names = frappe.get_all(
		"Service Job Card",
		filters={"name": ("like", "SJC-BM-%"), "company": PUNE},
		pluck="name",
		limit=repeat,
	)

	def get(session, path, **params):
		r = session.get(f"{url}{path}", params=params, timeout=120)
		if not r.ok:
			raise RuntimeError(f"{path}: {r.status_code} {r.text[:500]}")
		return r

	today = datetime.now().date()
	year = {"from_date": (today - timedelta(days=365)).isoformat(), "to_date": today.isoformat()}
	month = {"from_date": today.replace(day=1).isoformat(), "to_date": today.isoformat()}
	results = {
		"job card list (status + dealer)": timed(
			lambda: get(
				manager,
				"/api/resource/Service Job Card",
				filters=json.dumps([["status", "=", "Repairing"], ["company", "=", PUNE]]),
				fields=json.dumps(["name", "registration_plate", "customer_name", "status", "modified"]),
				order_by="modified desc",
				limit_page_length=20,
			),
			repeat,
		),
		"job card form load": [],
		**{
			f"{title} report ({span}, OEM)": timed(
				lambda report=report, period=period: get(
					oem,
					"/api/method/frappe.desk.query_report.run",
					report_name=report,
					filters=json.dumps(period),
				),
				max(3, repeat // 10),
			)
			for title, report in (
				("monthly revenue", "Workshop Revenue"),
				("technician efficiency", "Technician Efficiency"),
			)
			for span, period in (("1 month", month), ("12 months", year))
		},
	}
	for name in names:
		t = time.perf_counter()
		get(manager, "/api/method/frappe.desk.form.load.getdoc", doctype="Service Job Card", name=name)
		results["job card form load"].append(time.perf_counter() - t)
	from aftersales_dms.booking.capacity import find_slots

	start = (datetime.now() + timedelta(days=60)).date()
	results["slot search 14 days x 10 bays x 20 technicians (in-process)"] = timed(
		lambda: find_slots(NASHIK, start, start + timedelta(days=13), hours=1, limit=50), repeat
	)
	return results


def remove_load_comments(frappe):
	"""The comments a load run writes, taken away before and after each run: left on the site they
	pile up on the same job cards run after run, and a form with hundreds of comments loads ~5x
	slower (Frappe renders each one), so each run would measure the ones before it."""
	frappe.db.delete("Comment", {"reference_doctype": "Service Job Card", "comment_by": "load"})
	frappe.db.commit()


def load(server, users: int, seconds: int, think=(0.0, 0.0), seed=11):
	"""`users` staff sessions, each looping: list, open a job card, the board, a report page of
	appointments, and now and then a write (a comment on a job card). `think`: seconds each user
	pauses between requests, drawn uniformly from the range (0, 0: back to back, a stress test)."""
	lat, errors, stop = defaultdict(list), [], time.monotonic() + seconds
	logins = [
		"advisor@omp.example",
		"manager@omp.example",
		"parts@omp.example",
		"qc@omp.example",
		"advisor@omn.example",
		"manager@omn.example",
		"accounts@omp.example",
		"accounts@omn.example",
	]
	lock = threading.Lock()

	def user(k):
		rng = random.Random(seed + k)
		s = server.session(logins[k % len(logins)])
		url = server.url
		names = s.get(
			f"{url}/api/resource/Service Job Card", params={"limit_page_length": 500}, timeout=60
		).json()["data"]
		while time.monotonic() < stop:
			kind = rng.choices(["list", "form", "board", "appointments", "write"], [4, 3, 2, 2, 1])[0]
			name = rng.choice(names)["name"] if names else None
			t = time.perf_counter()
			try:
				if kind == "list":
					r = s.get(
						f"{url}/api/resource/Service Job Card",
						params={
							"fields": '["name","status"]',
							"filters": json.dumps(
								[["status", "=", rng.choice(["Delivered", "Repairing", "Open"])]]
							),
						},
						timeout=60,
					)
				elif kind == "form":
					r = s.get(
						f"{url}/api/method/frappe.desk.form.load.getdoc",
						params={"doctype": "Service Job Card", "name": name},
						timeout=60,
					)
				elif kind == "board":
					r = s.get(f"{url}/api/method/aftersales_dms.workshop.board.get_board", timeout=60)
				elif kind == "appointments" and logins[k % len(logins)].split("@")[0] in ("parts", "qc"):
					r = s.get(
						f"{url}/api/resource/Service Job Card",
						params={"fields": '["name","status"]', "limit_page_length": 20},
						timeout=60,
					)
				elif kind == "appointments" and "accounts@" in logins[k % len(logins)]:
					r = s.get(
						f"{url}/api/resource/Sales Invoice",
						params={"fields": '["name","status","grand_total"]'},
						timeout=60,
					)
				elif kind == "appointments":
					r = s.get(
						f"{url}/api/resource/Service Appointment",
						params={"fields": '["name","status","scheduled_start"]'},
						timeout=60,
					)
				else:
					r = s.post(
						f"{url}/api/method/frappe.desk.form.utils.add_comment",
						data={
							"reference_doctype": "Service Job Card",
							"reference_name": name,
							"content": "load test note",
							"comment_email": logins[k % len(logins)],
							"comment_by": "load",
						},
						timeout=60,
					)
				ok = r.status_code == 200
			except requests.RequestException as e:
				ok, r = False, e
			with lock:
				lat[kind].append(time.perf_counter() - t)
				if not ok:
					errors.append(f"{kind}: {getattr(r, 'status_code', r)}")
			if think[1]:
				time.sleep(rng.uniform(*think))

	threads = [threading.Thread(target=user, args=(k,)) for k in range(users)]
	for t in threads:
		t.start()
	for t in threads:
		t.join()
	return lat, errors


# ---------------------------------------------------------------- main
def main():
	ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
	ap.add_argument("--site", required=True)
	ap.add_argument(
		"--journeys",
		type=int,
		default=3,
		help="journeys per worker in the throughput runs (default 3; 0 skips them)",
	)
	ap.add_argument(
		"--ratio-runs",
		type=int,
		default=5,
		help="journeys and ERPNext-only runs for the ratio (default 5; 0 skips it)",
	)
	ap.add_argument(
		"--scale", type=int, default=100_000, help="job cards to bulk-load (default 100000; 0 skips)"
	)
	ap.add_argument(
		"--warmup", type=int, default=4, help="untimed journeys before the ratio runs (default 4)"
	)
	ap.add_argument("--users", type=int, default=50, help="simulated users in the load test (default 50)")
	ap.add_argument("--load-seconds", type=int, default=300, help="load test duration (default 300; 0 skips)")
	ap.add_argument("--gunicorn-workers", type=int, default=4)
	ap.add_argument(
		"--cost",
		type=int,
		default=20,
		help="journeys one after another for the cost per journey: CPU seconds, rows, bytes, binary "
		"log, files (default 20; 0 skips)",
	)
	ap.add_argument(
		"--profile",
		type=int,
		default=0,
		help="only time every request of N journeys and direct runs (after the warm-up), print them",
	)
	ap.add_argument(
		"--think-times",
		default="0,1-3",
		help="comma-separated think times for load runs, seconds or a range lo-hi (default 0,1-3: "
		"back to back as a stress test, then at a staff member's pace)",
	)
	args = ap.parse_args()

	report = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}, "args": vars(args)}
	frappe = connect(args.site)
	print("preparing: stock, capacity", flush=True)
	top_up_stock(frappe)
	bench_capacity(frappe)
	vehicle = frappe.db.get_value("Customer Vehicle", "MA1TA2XX6GH123456", ["name", "customer"], as_dict=True)
	base_day = (datetime.now() + timedelta(days=120)).date()
	server = Server(args.site, args.gunicorn_workers)
	try:
		if args.profile:
			c = Client(server)
			for _run in range(args.warmup):
				issue_recall(c, vehicle)
				dms_journey(
					c, book_slot(c, base_day + timedelta(days=200), vehicle), vehicle, defaultdict(list)
				)
				erpnext_journey(c, vehicle.customer, defaultdict(list))
			rows, top = profile(c, base_day + timedelta(days=200), vehicle, args.profile)
			print(f"{'step':18} {'call':60} {'n':>3} {'ms':>8} {'queries':>7} {'CPU ms':>8}")
			for r in rows:
				print(
					f"{r['step']:18} {r['call']:60} {r['per_journey']:3} {r['ms']:8.1f} "
					f"{r['queries']:7} {r['cpu_ms']:8.1f}"
				)
			print()
			steps = []
			for step in dict.fromkeys(r["step"] for r in rows):
				mine = [r for r in rows if r["step"] == step]
				steps.append(
					{
						"step": step,
						"requests": sum(r["per_journey"] for r in mine),
						"ms": round(sum(r["ms"] for r in mine), 1),
						"queries": sum(r["queries"] for r in mine),
						"cpu_ms": round(sum(r["cpu_ms"] for r in mine), 1),
					}
				)
				s = steps[-1]
				print(
					f"{step:18} {s['requests']:3} requests {s['ms']:8.1f} ms {s['queries']:5} queries "
					f"{s['cpu_ms']:8.1f} ms gunicorn CPU"
				)
			print("\ntop queries (per journey: statements, ms)")
			for q in top:
				print(f"{q['per_journey']:6} {q['ms_per_journey']:8.1f}  {q['query'][:150]}")
			with open(os.path.join(BENCH, "artifacts", "benchmark-profile.json"), "w") as f:
				json.dump({"calls": rows, "steps": steps, "top_queries": top}, f, indent=1)
			return
		# 1. journey cost ratio
		print("journey cost ratio", flush=True)
		c = Client(server)
		timings, errors = defaultdict(list), []
		erp = defaultdict(list)
		# untimed first: every gunicorn worker imports and caches on its first request of each
		# kind (the first appointment confirmation e-mail alone costs ~0.7 s cold)
		for _run in range(args.warmup):
			issue_recall(c, vehicle)
			dms_journey(c, book_slot(c, base_day + timedelta(days=200), vehicle), vehicle, defaultdict(list))
			erpnext_journey(c, vehicle.customer, defaultdict(list))
		if args.ratio_runs:
			requests = {}
			for _run in range(args.ratio_runs):
				issue_recall(c, vehicle)
				t, before = time.perf_counter(), c.requests
				jc = dms_journey(c, book_slot(c, base_day + timedelta(days=200), vehicle), vehicle, timings)
				timings["journey"].append(time.perf_counter() - t)
				requests["journey"] = c.requests - before
				# the direct side makes the documents this journey made: check they still are those
				made = c.call(
					"admin",
					"frappe.client.get_list",
					doctype="Sales Invoice",
					filters={"dms_service_job_card": jc, "docstatus": 1},
					fields=["customer"],
				)
				if sorted(m["customer"] != vehicle.customer for m in made) != [False, True]:
					raise RuntimeError(f"{jc}: expected a customer and an OEM invoice, made {made}")
				before = c.requests
				erpnext_journey(c, vehicle.customer, erp)
				requests["direct"] = c.requests - before
			dms_med, erp_med = (
				statistics.median(timings["journey"]),
				statistics.median(erp["erpnext_documents"]),
			)
			# what a request costs that does nothing: the floor under each of the journey's requests
			empty = []
			for _ in range(30):
				t = time.perf_counter()
				c.call("advisor", "frappe.auth.get_logged_user")
				empty.append(time.perf_counter() - t)
			documents = {
				k[4:]: {
					"journey_ms": pct(v, 50),
					"direct_ms": pct(erp[k], 50),
					"ratio": round(statistics.median(v) / statistics.median(erp[k]), 2),
				}
				for k, v in timings.items()
				if k.startswith("doc:")
			}
			report["journey_ratio"] = {
				"dms_journey_s": round(dms_med, 2),
				"erpnext_documents_s": round(erp_med, 2),
				"ratio": round(dms_med / erp_med, 2),
				"requests": requests,
				"empty_request_ms": pct(empty, 50),
				"documents": documents,
				"documents_ratio": round(
					sum(d["journey_ms"] for d in documents.values())
					/ sum(d["direct_ms"] for d in documents.values()),
					2,
				),
				"steps_p50_ms": {k: pct(v, 50) for k, v in timings.items() if not k.startswith("doc:")},
			}
		# 1b. cost per journey
		if args.cost:
			print(f"cost per journey: {args.cost} journeys one after another", flush=True)
			report["cost"] = cost_per_journey(
				server, frappe, c, vehicle, base_day + timedelta(days=200), args.cost
			)
		# 2. throughput
		report["throughput"] = {}
		for workers in (1, 2, 4) if args.journeys else ():
			print(f"throughput with {workers} worker(s)", flush=True)
			timings, errors = defaultdict(list), []
			deadlocks = innodb_deadlocks(frappe)
			seconds = throughput(
				server,
				workers,
				args.journeys,
				vehicle,
				base_day + timedelta(days=400 + 60 * workers),
				timings,
				errors,
			)
			done = len(timings["payment"])
			report["throughput"][workers] = {
				"journeys": done,
				"seconds": round(seconds, 1),
				"per_minute": round(60 * done / seconds, 2),
				"errors": errors[:5],
				"error_count": len(errors),
				# transactions the database rolled back as deadlock victims (the whole server's count;
				# the app retries them: guards.call_with_deadlock_retry)
				"deadlocks": innodb_deadlocks(frappe) - deadlocks,
				"steps_ms": {
					k: {"p50": pct(v, 50), "p95": pct(v, 95), "p99": pct(v, 99)} for k, v in timings.items()
				},
			}
		# 3. scale
		if args.scale:
			print(f"scale: bulk-loading {args.scale:,} job cards", flush=True)
			gen = generate(frappe, args.scale)
			counts = {
				d: frappe.db.count(d)
				for d in ("Service Job Card", "Service Job Card Labour", "Sales Invoice")
			}
			print("scale: timing queries", flush=True)
			q = scale_queries(server, frappe, repeat=40)
			report["scale"] = {
				"generated_in_s": round(gen or 0, 1),
				"rows": counts,
				"p50_ms": {k: pct(v, 50) for k, v in q.items()},
				"p95_ms": {k: pct(v, 95) for k, v in q.items()},
			}
		# 4. load
		report["load"] = {}
		for pace in args.think_times.split(",") if args.load_seconds else []:
			think = tuple(float(x) for x in pace.split("-")) if "-" in pace else (float(pace),) * 2
			print(f"load: {args.users} users for {args.load_seconds} s, think time {pace} s", flush=True)
			remove_load_comments(frappe)
			lat, errors = load(server, args.users, args.load_seconds, think)
			remove_load_comments(frappe)
			every = [x for v in lat.values() for x in v]
			report["load"][pace] = {
				"requests": len(every),
				"errors": len(errors),
				"error_samples": errors[:5],
				"p50_ms": pct(every, 50),
				"p95_ms": pct(every, 95),
				"p99_ms": pct(every, 99),
				"per_kind_p95_ms": {k: pct(v, 95) for k, v in lat.items()},
				"requests_per_s": round(len(every) / args.load_seconds, 1),
				"think_time_s": pace,
			}
	finally:
		close_campaigns(server)
		server.stop()
	path = os.path.join(BENCH, "artifacts", "benchmark.json")
	with open(path, "w") as f:
		json.dump(report, f, indent=1, default=str)
	print_table(report)
	print(f"\nwritten to {path}")


def print_table(r):
	rows = []
	if "journey_ratio" in r:
		j = r["journey_ratio"]
		rows += [
			("journey (HTTP, one worker), median", f"{j['dms_journey_s']} s"),
			("same ERPNext documents directly, median", f"{j['erpnext_documents_s']} s"),
			("journey cost ratio (target <= 1.15)", f"{j['ratio']}x"),
			(
				"requests: journey / direct (empty request)",
				f"{j['requests']['journey']} / {j['requests']['direct']} ({j['empty_request_ms']} ms)",
			),
		]
		for doctype, d in j["documents"].items():
			rows.append(
				(
					f"  {doctype}: in the journey / direct",
					f"{d['journey_ms']} / {d['direct_ms']} ms ({d['ratio']}x)",
				)
			)
		rows.append(("  ERPNext documents in the journey / direct", f"{j['documents_ratio']}x"))
	if "cost" in r:
		k = r["cost"]
		cpu = k["cpu_s_per_journey"]
		rows += [
			(
				f"cost per journey ({k['journeys']} journeys): requests, wall",
				f"{k['requests_per_journey']}, {k['wall_s_per_journey']} s",
			),
			(
				f"  CPU s: gunicorn / MariaDB / {k['background_jobs_per_journey']} jobs / MariaDB for jobs",
				f"{cpu['gunicorn']} / {cpu['mariadb_during_requests']} / {cpu['background_jobs']} / "
				f"{cpu['mariadb_during_jobs']}",
			),
			(
				"  rows, value bytes (InnoDB allocated x), binary log (transactions)",
				f"{k['rows_per_journey']}, {k['value_bytes_per_journey']:,} B "
				f"({k['innodb_allocated_to_value_bytes']}x), {k['binlog_bytes_per_journey']:,} B "
				f"({k['transactions_per_journey']})",
			),
			("  files", f"{k['files_per_journey']} ({k['file_bytes_per_journey']:,} B)"),
		]
		for kind, ms in k.get("reads_cpu_ms", {}).items():
			rows.append((f"  read: {kind}, CPU ms gunicorn / MariaDB", f"{ms['gunicorn']} / {ms['mariadb']}"))
	for w, t in r.get("throughput", {}).items():
		rows.append(
			(
				f"throughput, {w} worker(s)",
				f"{t['per_minute']} journeys/min ({t['error_count']} errors, {t['deadlocks']} deadlocks retried)",
			)
		)
	if "scale" in r:
		for k, v in r["scale"]["p95_ms"].items():
			rows.append((f"{k}, p95", f"{v} ms"))
		rows.append(("rows", ", ".join(f"{k}: {v:,}" for k, v in r["scale"]["rows"].items())))
	for pace, lo in r.get("load", {}).items():
		rows.append(
			(
				f"load: {r['args']['users']} users, {r['args']['load_seconds']} s, think {pace} s",
				f"{lo['requests']} requests, {lo['errors']} errors, p95 {lo['p95_ms']} ms",
			)
		)
	if not rows:
		print("\nnothing measured: every section was given 0 (see --help)")
		return
	width = max(len(a) for a, _ in rows)
	print()
	for a, b in rows:
		print(f"{a.ljust(width)}  {b}")


if __name__ == "__main__":
	main()
