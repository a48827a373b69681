"""The read-surface test (issue #20): every way to read a dealer's document over HTTP, for every
demo role at both dealers and Guest, generated from metadata and compared with the declared model.

- **DocTypes.** The app's (their modules), the ERPNext DocTypes our roles are given rights on
  (`roles.ERPNEXT_PERMISSIONS`) and the ERPNext vouchers and ledgers the journey makes (EXTRA). A
  DocType is a dealer's when it has a Link to Company that User Permissions apply to (or is scoped
  by its warehouse: `controllers/read_access.WAREHOUSE_SCOPED`); the rest are the network's
  masters, shared by design, and not probed here.
- **Documents.** One per DocType per dealer: the oldest on the site (the demo's). Where a dealer
  lacks one, its roles first walk a whole journey (`dealer_journey`: estimate and decision, parts
  issued and a shortage received, the customer's and the OEM's invoices, payment, delivery, the
  customer's feedback, the OEM warranty claim) and a guest books online, so both dealers' documents
  of every kind are probed (a Payment Entry is made when a dealer still has none). A DocType still
  without a document at a dealer is printed as not probed.
- **Users.** Every demo user of both dealers (fixtures/dms_demo.json, a technician of each),
  the OEM admin and Guest.
- **The model** (permission_matrix.Model): a user sees a document when a role of theirs has the
  right at permlevel 0 (read; print for the print view; export for exports; select or read for
  link search) and the document is of one of their Companies (any, when they have no Company
  restriction: the OEM admin). Guest sees nothing.
- **Surfaces.** `frappe.client.get`, `get_list`, `get_count`, `get_value`,
  `frappe.desk.reportview.get` and `export_query`, `/printview` with every print format of the
  DocType (one added by the test among them), the PDF (`download_pdf`: every refusal; a rendered
  PDF once per DocType, it takes a second each), the portal page (website permission) of
  ERPNext's customer documents, link search, global search (a word indexed for each document),
  the attachment (a private File on each dealer's job card and invoice: its URL and its record),
  and every query/script report a demo role can run (the app's and `roles.ERPNEXT_REPORTS`): run
  for each dealer, export, a saved Custom Report holding a dealer's company in its saved filters,
  queuing a prepared report, and reading another user's prepared report.

It prints its size (probes) and every disagreement, also written to
artifacts/read_surfaces.txt; it expects none.
"""

import functools
import json
import os
import random
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlparse

import frappe
import pytest
import requests
from aftersales_dms import roles
from aftersales_dms.controllers.read_access import WAREHOUSE_SCOPED
from aftersales_dms.tests import permission_matrix as pm
from dmstest import ARTIFACTS, login
from frappe.utils import today

PUNE, NASHIK = pm.OWN, pm.OTHER
COMPANIES = (PUNE, NASHIK)
EXTRA = (
	"Sales Invoice",
	"Payment Entry",
	"Quotation",
	"Stock Entry",
	"Material Request",
	"GL Entry",
	"Stock Ledger Entry",
	"Bin",
	"Purchase Receipt",
)
# ERPNext's portal pages of a customer's document (hooks website_route_rules)
PORTAL = {"Sales Invoice": "invoices", "Quotation": "quotations"}
PROBE_FORMAT = "Read Surface Probe"
# print formats whose template reads another DocType as the printing user: ERPNext's voucher lists
# the GL Entries with frappe.get_list, so only who reads those prints it
FORMAT_READS = {"Bank and Cash Payment Voucher": "GL Entry", "Sales Auditing Voucher": "GL Entry"}
FILTERS = {"from_date": "2020-01-01", "to_date": today()}
ADMIN_ROLES = {"System Manager", "Administrator"}


# ------------------------------------------------------------------ what is probed


def company_field(doctype):
	meta = frappe.get_meta(doctype)
	for df in meta.get_link_fields():
		if df.options == "Company" and not df.ignore_user_permissions and df.fieldname == "company":
			return df.fieldname
	return None


def dealer_doctypes():
	parents, _children = pm.app_doctypes()
	out = []
	for dt in sorted(set(parents) | set(roles.ERPNEXT_PERMISSIONS) | set(EXTRA)):
		meta = frappe.get_meta(dt)
		if meta.issingle or meta.istable or meta.is_virtual:
			continue
		if dt == "Company" or company_field(dt) or dt in WAREHOUSE_SCOPED:
			out.append(dt)
	return out


def doc_company(doctype, name):
	if doctype == "Company":
		return name
	if doctype in WAREHOUSE_SCOPED:
		warehouse = frappe.db.get_value(doctype, name, WAREHOUSE_SCOPED[doctype])
		return frappe.db.get_value("Warehouse", warehouse, "company")
	return frappe.db.get_value(doctype, name, company_field(doctype))


def doc_info(doctype, name):
	"""What the model reads of a document: its name, owner, dealer and Link values (rows' too)."""
	doc = frappe.get_doc(doctype, name)
	links = [
		(df.options, d.get(df.fieldname))
		for d in [doc, *doc.get_all_children()]
		for df in d.meta.get_link_fields()
		if not df.ignore_user_permissions
	]
	return {"name": name, "owner": doc.owner, "company": doc_company(doctype, name), "links": links}


def oldest(doctype, company):
	if doctype == "Company":
		return company
	if doctype in WAREHOUSE_SCOPED:
		warehouses = frappe.get_all("Warehouse", filters={"company": company}, pluck="name")
		filters = {WAREHOUSE_SCOPED[doctype]: ("in", warehouses or [""])}
	else:
		filters = {company_field(doctype): company}
	# the oldest: the demo's, which other tests on the shared site do not change or remove
	names = frappe.get_all(doctype, filters=filters, pluck="name", order_by="creation asc", limit=1)
	return names[0] if names else None


def make_payment_entry(company):
	"""A draft payment received from a customer at the dealer (committed; removed at the end).
	A draft: submitting would write ledger rows, and other tests' open transactions on the shared
	site hold locks there."""
	customer = frappe.get_all("Customer", pluck="name", limit=1, order_by="creation")[0]
	defaults = frappe.get_cached_value(
		"Company", company, ["default_receivable_account", "default_cash_account"], as_dict=True
	)
	pe = frappe.get_doc(
		{
			"doctype": "Payment Entry",
			"payment_type": "Receive",
			"company": company,
			"party_type": "Customer",
			"party": customer,
			"paid_from": defaults.default_receivable_account,
			"paid_to": defaults.default_cash_account,
			"paid_amount": 1100,
			"received_amount": 1100,
			"source_exchange_rate": 1,
			"target_exchange_rate": 1,
			"reference_no": "READ-SURFACE",
			"reference_date": today(),
		}
	)
	pe.insert(set_name=f"RS-PAY-{frappe.generate_hash(length=8)}")  # not the series: its row is busy
	return pe.name


def demo_users():
	from aftersales_dms.demo import load_config

	fixture = load_config()
	users = [u["email"] for u in fixture["users"]]
	for dealer in ("OMP", "OMN"):
		users += [t["email"] for t in fixture["technicians"] if t.get("dealer") == dealer][:1]
	return [u for u in users if frappe.db.exists("User", u)]


def app_reports():
	modules = frappe.get_all("Module Def", filters={"app_name": pm.APP}, pluck="name")
	ours = frappe.get_all(
		"Report",
		filters={
			"module": ("in", modules),
			"report_type": ("in", ("Script Report", "Query Report")),
			"disabled": 0,
		},
		pluck="name",
	)
	return sorted(set(ours) | set(roles.ERPNEXT_REPORTS))


# ------------------------------------------------------------------ the model


class Expect:
	"""What the declared permissions let a user read (permission_matrix.Model, plus the rights
	that matter for reading: print, export, report, select)."""

	def __init__(self, user):
		self.user = user
		self.model = pm.Model(user)

	def rights(self, doctype, owner=None):
		out = set()
		if self.user == "Guest":
			return out
		for p in pm.docperms(doctype):
			if p.role not in self.model.roles or int(p.permlevel or 0) != 0:
				continue
			if p.if_owner and owner != self.user:
				continue
			out |= {k for k in ("read", "select", "print", "export", "report") if p.get(k)}
		return out

	def in_scope(self, company):
		return not self.model.companies or not company or company in self.model.companies

	def user_permissions(self, doctype):
		"""{allowed doctype: values} of the user's User Permissions that apply to `doctype`
		(the Company of dealer staff; a technician's own Employee record …)."""
		out = defaultdict(set)
		for row in self.permission_rows:
			if row.apply_to_all_doctypes or row.applicable_for == doctype:
				out[row.allow].add(row.for_value)
		return out

	@functools.cached_property
	def permission_rows(self):
		return frappe.get_all(
			"User Permission",
			filters={"user": self.user},
			fields=["allow", "for_value", "applicable_for", "apply_to_all_doctypes"],
		)

	def sees(self, doctype, info, *ptypes):
		"""`info`: the document's name, owner and Link values (doc_info)."""
		if self.user == "Guest":
			return False
		perms = self.user_permissions(doctype)
		if doctype in perms and info["name"] not in perms[doctype]:
			return False
		if doctype in WAREHOUSE_SCOPED and not self.in_scope(info["company"]):
			return False
		for options, value in info["links"]:
			if value and options in perms and value not in perms[options]:
				return False
		return bool(set(ptypes or ("read",)) & self.rights(doctype, info["owner"]))

	def may_run(self, report):
		"""The report's roles (its Has Role rows, or its Custom Role) and report on its doctype."""
		from frappe.core.doctype.custom_role.custom_role import get_custom_allowed_roles

		if self.user == "Guest":
			return False
		row = frappe.db.get_value("Report", report, ["ref_doctype", "reference_report"], as_dict=True)
		base = row.reference_report or report
		allowed = set(
			frappe.get_all(
				"Has Role",
				filters={"parent": base, "parenttype": "Report"},
				pluck="role",
			)
		)
		allowed |= set(get_custom_allowed_roles("report", base))
		permitted = not allowed or bool(allowed & self.model.roles) or bool(ADMIN_ROLES & self.model.roles)
		return permitted and "report" in self.rights(row.ref_doctype)

	def may_export(self, report):
		ref = frappe.db.get_value("Report", report, "ref_doctype")
		return self.may_run(report) and "export" in self.rights(ref)


# ------------------------------------------------------------------ the site's documents


def dealer_journey(server, company, log):
	"""Every kind of a dealer's documents, made as its roles make them: a whole journey of
	tests/test_stateful_invariants (Journey: each step as its role) with a customer line, a part
	that is short (a Material Request, a Purchase Receipt), a warranty line (the OEM's invoice, then
	the accountant's OEM Warranty Claim) — up to delivery; then the customer's feedback and a
	guest's online booking over HTTP. Committed: the site keeps them, as it keeps the demo's."""
	from aftersales_dms.tests.test_stateful_invariants import DEALERS, Journey, as_user

	journey = Journey(company, log=log)
	journey.open(
		parts=(("PRT-OIL-FILTER-C", 1, "Customer"), ("PRT-COOLANT-1L", 1, "Customer")),
		labour=(("LAB-PMS-CAR", "Customer"), ("LAB-DIAG", "Warranty")),
	)
	for _ in range(150):  # a step refused (a deadlock with another test) is tried again
		if journey.doc().status in ("Delivered", "Released", "Cancelled"):
			break
		journey.progress()
	jc = journey.doc()
	log(f"{company}: journey {jc.name} ended {jc.status} after {len(journey.steps)} steps")
	if jc.warranty_invoice and frappe.db.get_value("Sales Invoice", jc.warranty_invoice, "docstatus") == 1:
		claim = frappe.get_doc(
			{
				"doctype": "OEM Warranty Claim",
				"sales_invoice": jc.warranty_invoice,
				"causal_part": "PRT-OIL-FILTER-C",
				"defect_description": "Read-surface probe: diagnosis under warranty",
			}
		)
		accountant = DEALERS[company]["accounts"]
		as_user(accountant, claim.insert)
		as_user(accountant, claim.submit)
	frappe.db.commit()
	if jc.feedback_link:
		from aftersales_dms.delivery.feedback import submit_feedback

		token = parse_qs(urlparse(jc.feedback_link).query)["token"][0]
		as_user("Guest", submit_feedback, token, 4, "read-surface probe")
		frappe.db.commit()
	booking = {
		"doctype": "Online Booking Request",
		"company": company,
		"full_name": "Read Surface Guest",
		"mobile_no": f"+91986{random.randint(0, 9_999_999):07d}",
		"registration_plate": f"MH 15 RS {int(time.time()) % 10000:04d}",
		"preferred_date": frappe.utils.add_days(today(), 5),
		"concerns": "Read-surface probe",
	}
	r = requests.post(
		f"{server}/api/method/frappe.website.doctype.web_form.web_form.accept",
		data={"web_form": "book-a-service", "data": json.dumps(booking)},
		timeout=60,
	)
	assert r.ok, r.text[:500]


@pytest.fixture(scope="module")
def world(server):
	"""The documents probed and the records the test adds (print format, files, index words,
	custom and prepared reports), committed, removed at the end."""
	frappe.set_user("Administrator")
	started = time.monotonic()
	added = []  # (doctype, name) to delete at the end
	docs = {}
	skipped = []
	for company in COMPANIES:
		if [dt for dt in dealer_doctypes() if not oldest(dt, company)]:
			dealer_journey(server, company, log=print)
	for dt in dealer_doctypes():
		for company in COMPANIES:
			name = oldest(dt, company)
			if not name and dt == "Payment Entry":
				name = make_payment_entry(company)
				added.append((dt, name))
			if name:
				docs[(dt, company)] = name
			else:
				skipped.append(f"{dt} at {company}: no document")
	frappe.db.commit()

	fmt = frappe.get_doc(
		{
			"doctype": "Print Format",
			"name": PROBE_FORMAT,
			"doc_type": "Payment Entry",
			"module": "Billing",
			"custom_format": 1,
			"print_format_type": "Jinja",
			"standard": "No",
			"html": "<p>{{ doc.party_name }} {{ doc.paid_amount }} {{ doc.paid_from }}</p>",
		}
	)
	if not frappe.db.exists("Print Format", PROBE_FORMAT):
		fmt.insert()
		added.append(("Print Format", PROBE_FORMAT))

	files = {}
	for dt in ("Service Job Card", "Sales Invoice"):
		for company in COMPANIES:
			if (dt, company) not in docs:
				continue
			f = frappe.get_doc(
				{
					"doctype": "File",
					"file_name": f"read-probe-{frappe.generate_hash(length=8)}.txt",
					"attached_to_doctype": dt,
					"attached_to_name": docs[(dt, company)],
					"is_private": 1,
					"content": f"read probe of {docs[(dt, company)]}",
				}
			).insert()
			added.append(("File", f.name))
			files[(dt, company)] = (f.name, f.file_url)

	# a word in the global search index for each probed document of a searchable doctype
	from frappe.desk.doctype.global_search_settings.global_search_settings import (
		get_doctypes_for_global_search,
	)
	from frappe.utils.global_search import sync_global_search, sync_values

	sync_global_search()  # first what is queued (a queued entry would overwrite the probe's word)
	searchable = set(get_doctypes_for_global_search())
	words, old_index = {}, []
	for (dt, company), name in docs.items():
		if dt not in searchable:
			continue
		old_index += [
			(dt, name, *row)
			for row in frappe.db.sql(
				"select content, published, title, route from __global_search where doctype=%s and name=%s",
				(dt, name),
			)
		]
		word = "readsurface" + frappe.generate_hash(length=10).lower()
		sync_values([(dt, name, f"Probe : {word}", 0, name, "")])
		words[(dt, company)] = word

	# reports: a Custom Report per report and dealer, saved with that dealer's company
	reports = app_reports()
	custom = {}
	for report in reports:
		for company in COMPANIES:
			name = f"RS {report} {company} {frappe.generate_hash(length=6)}"
			r = frappe.get_doc(
				{
					"doctype": "Report",
					"report_name": name,
					"ref_doctype": frappe.db.get_value("Report", report, "ref_doctype"),
					"is_standard": "No",
					"report_type": "Custom Report",
					"reference_report": report,
					"json": json.dumps({"columns": [], "filters": {"company": company, **FILTERS}}),
				}
			).insert(ignore_permissions=True)
			added.append(("Report", r.name))
			custom[(report, company)] = r.name

	# a prepared report per dealer, made by that dealer's parts manager, of a prepared custom
	# Stock Ledger (the report flag is the custom report's own: nothing shared is changed)
	from frappe.core.doctype.prepared_report.prepared_report import generate_report

	prepared_report = frappe.get_doc(
		{
			"doctype": "Report",
			"report_name": f"RS prepared Stock Ledger {frappe.generate_hash(length=6)}",
			"ref_doctype": "Stock Ledger Entry",
			"is_standard": "No",
			"report_type": "Custom Report",
			"reference_report": "Stock Ledger",
			"prepared_report": 1,
			"json": json.dumps({"columns": [], "filters": {}}),
		}
	).insert(ignore_permissions=True)
	added.append(("Report", prepared_report.name))
	prepared = {}
	for company, owner in ((PUNE, "parts@omp.example"), (NASHIK, "parts@omn.example")):
		pr = frappe.get_doc(
			{
				"doctype": "Prepared Report",
				"name": frappe.generate_hash(length=10),
				"report_name": prepared_report.name,
				"filters": json.dumps({"company": company, **FILTERS}),
				"status": "Queued",
			}
		)
		pr.set_user_and_timestamp()
		pr.db_insert()  # no after_insert: its job is run right here, not by a worker as well
		frappe.db.set_value("Prepared Report", pr.name, "owner", owner)
		frappe.db.commit()
		frappe.set_user(owner)
		generate_report(pr.name)
		frappe.set_user("Administrator")
		prepared[company] = (pr.name, owner)
	frappe.db.commit()

	print(f"read surfaces: the site's documents and the test's records in {time.monotonic() - started:.0f} s")
	yield {
		"docs": docs,
		"skipped": skipped,
		"files": files,
		"words": words,
		"reports": reports,
		"custom": custom,
		"prepared_report": prepared_report.name,
		"prepared": prepared,
	}

	frappe.set_user("Administrator")
	frappe.db.rollback()
	for name in frappe.get_all(
		"Prepared Report",
		filters={"report_name": ("in", [*custom.values(), prepared_report.name])},
		pluck="name",
	):
		frappe.delete_doc("Prepared Report", name, force=True, ignore_permissions=True)
	for dt, name in reversed(added):
		if dt != "Prepared Report" and frappe.db.exists(dt, name):
			frappe.delete_doc(dt, name, force=True, ignore_permissions=True)
	for dt, company in words:
		frappe.db.delete("__global_search", {"doctype": dt, "name": docs[(dt, company)]})
	if old_index:
		sync_values(old_index)
	frappe.db.commit()


# ------------------------------------------------------------------ probing


class Probe:
	__slots__ = ("doctype", "expected", "request", "surface", "target", "user")

	def __init__(self, user, surface, doctype, target, expected, request):
		self.user, self.surface, self.doctype, self.target = (
			user,
			surface,
			doctype,
			target,
		)
		self.expected, self.request = expected, request


def api(s, url, method, params=None, post=False):
	fn = s.post if post else s.get
	kw = {"data": params} if post else {"params": params}
	return fn(f"{url}/api/method/{method}", timeout=120, **kw)


def message(r):
	try:
		return r.json().get("message")
	except ValueError:
		return None


def probe(out, user, surface, doctype, target, expected, request):
	out.append(Probe(user, surface, doctype, target, expected, request))


def listed(r, key="name"):
	m = message(r) if r.status_code == 200 else None
	return {row[key] if isinstance(row, dict) else row for row in (m or [])}


def http_get(s, u, dt, n):
	r = api(s, u, "frappe.client.get", {"doctype": dt, "name": n})
	return r.status_code == 200 and (message(r) or {}).get("name") == n


def http_printview(s, u, dt, n, fmt):
	r = s.get(f"{u}/printview", params={"doctype": dt, "name": n, "format": fmt}, timeout=120)
	return r.status_code == 200 and n in r.text


def http_pdf(s, u, dt, n, fmt):
	r = api(s, u, "frappe.utils.print_format.download_pdf", {"doctype": dt, "name": n, "format": fmt})
	return r.status_code == 200 and r.content.startswith(b"%PDF")


def doc_probes(user, ex, world, cache):
	"""The document surfaces for one user. A DocType the user's roles have no right on at all is
	refused by Frappe's doctype-level check on every surface: it gets the single-document ones
	(the form's get, the print view and the PDF, where website permission applies) on one
	document; the rest get every surface, lists batched over both dealers' documents."""
	out = []
	pdf_rendered = world["pdf_rendered"]
	for dt, per_company in world["by_doctype"].items():
		names = list(per_company.values())
		meta = cache["meta"][dt]
		rights = set().union(*(ex.rights(dt, meta["owner"][n]) for n in names))
		seen = {n: ex.sees(dt, meta["info"][n]) for n in names}
		if not rights:
			own = sorted(ex.model.companies)[0] if ex.model.companies else PUNE
			foreign = [n for n in names if meta["company"][n] != own] or names
			n = foreign[0]
			probe(out, user, "client.get", dt, n, False, lambda s, u, dt=dt, n=n: http_get(s, u, dt, n))
			probe(
				out,
				user,
				"printview[Standard]",
				dt,
				n,
				False,
				lambda s, u, dt=dt, n=n: http_printview(s, u, dt, n, "Standard"),
			)
			probe(
				out,
				user,
				"pdf[Standard]",
				dt,
				n,
				False,
				lambda s, u, dt=dt, n=n: http_pdf(s, u, dt, n, "Standard"),
			)
			continue
		tbl = f"`tab{dt}`"
		expected_names = {n for n in names if seen[n]}
		batch = ",".join(names)
		probe(
			out,
			user,
			"client.get_list",
			dt,
			batch,
			expected_names,
			lambda s, u, dt=dt, names=names: set(names)
			& listed(
				api(
					s,
					u,
					"frappe.client.get_list",
					{"doctype": dt, "filters": json.dumps({"name": ["in", names]}), "fields": '["name"]'},
				)
			),
		)
		probe(
			out,
			user,
			"client.get_count",
			dt,
			batch,
			len(expected_names),
			lambda s, u, dt=dt, names=names: (
				message(r)
				if (
					r := api(
						s,
						u,
						"frappe.client.get_count",
						{"doctype": dt, "filters": json.dumps({"name": ["in", names]})},
					)
				).status_code
				== 200
				else 0
			),
		)
		probe(
			out,
			user,
			"reportview.get",
			dt,
			batch,
			expected_names,
			lambda s, u, dt=dt, names=names, tbl=tbl: {
				n
				for n in names
				if (
					r := api(
						s,
						u,
						"frappe.desk.reportview.get",
						{
							"doctype": dt,
							"fields": json.dumps([f"{tbl}.`name`"]),
							"filters": json.dumps([[dt, "name", "in", names]]),
						},
						post=True,
					)
				).status_code
				== 200
				and n in json.dumps((message(r) or {}).get("values") or [])
			},
		)
		probe(
			out,
			user,
			"reportview.export_query",
			dt,
			batch,
			{n for n in expected_names if "export" in ex.rights(dt, meta["owner"][n])},
			lambda s, u, dt=dt, names=names, tbl=tbl: (
				{n for n in names if n in r.text}
				if (
					r := api(
						s,
						u,
						"frappe.desk.reportview.export_query",
						{
							"doctype": dt,
							"file_format_type": "CSV",
							"fields": json.dumps([f"{tbl}.`name`"]),
							"filters": json.dumps([[dt, "name", "in", names]]),
							"title": dt,
						},
						post=True,
					)
				).status_code
				== 200
				else set()
			),
		)
		for n in names:
			company = meta["company"][n]
			probe(out, user, "client.get", dt, n, seen[n], lambda s, u, dt=dt, n=n: http_get(s, u, dt, n))
			probe(
				out,
				user,
				"client.get_value",
				dt,
				n,
				seen[n],
				lambda s, u, dt=dt, n=n: (
					(
						r := api(
							s,
							u,
							"frappe.client.get_value",
							{"doctype": dt, "filters": json.dumps({"name": n}), "fieldname": "name"},
						)
					).status_code
					== 200
					and (message(r) or {}).get("name") == n
				),
			)
			probe(
				out,
				user,
				"search_link",
				dt,
				n,
				ex.sees(dt, meta["info"][n], "read", "select"),
				lambda s, u, dt=dt, n=n: (
					(
						r := api(
							s,
							u,
							"frappe.desk.search.search_link",
							{"doctype": dt, "txt": n, "page_length": 50},
						)
					).status_code
					== 200
					and n in {row.get("value") for row in (message(r) or r.json().get("results") or [])}
				),
			)
			for fmt in world["formats"][dt]:
				may_print = ex.sees(dt, meta["info"][n], "read", "print")
				if fmt in FORMAT_READS:
					may_print = may_print and "read" in ex.rights(FORMAT_READS[fmt])
				probe(
					out,
					user,
					f"printview[{fmt}]",
					dt,
					n,
					may_print,
					lambda s, u, dt=dt, n=n, fmt=fmt: http_printview(s, u, dt, n, fmt),
				)
				if not may_print or (dt, fmt) not in pdf_rendered:  # a rendered PDF takes a second
					if may_print:
						pdf_rendered.add((dt, fmt))
					probe(
						out,
						user,
						f"pdf[{fmt}]",
						dt,
						n,
						may_print,
						lambda s, u, dt=dt, n=n, fmt=fmt: http_pdf(s, u, dt, n, fmt),
					)
			if dt in PORTAL:
				probe(
					out,
					user,
					"portal page",
					dt,
					n,
					seen[n],
					lambda s, u, dt=dt, n=n: (
						(r := s.get(f"{u}/{PORTAL[dt]}/{n}", timeout=120, allow_redirects=False)).status_code
						== 200
						and n in r.text
					),
				)
			if word := world["words"].get((dt, company)):
				probe(
					out,
					user,
					"global search",
					dt,
					n,
					seen[n],
					lambda s, u, n=n, word=word: (
						(r := api(s, u, "frappe.utils.global_search.search", {"text": word})).status_code
						== 200
						and n in {row.get("name") for row in message(r) or []}
					),
				)
	for (dt, company), (file_name, file_url) in world["files"].items():
		attached = world["docs"][(dt, company)]
		expected = ex.sees(dt, cache["meta"][dt]["info"][attached])
		probe(
			out,
			user,
			"attachment url",
			dt,
			attached,
			expected,
			lambda s, u, url=file_url, attached=attached: (
				(r := s.get(f"{u}{url}", timeout=120)).status_code == 200 and attached.encode() in r.content
			),
		)
		probe(
			out,
			user,
			"attachment record",
			dt,
			attached,
			expected,
			lambda s, u, f=file_name: api(
				s, u, "frappe.client.get", {"doctype": "File", "name": f}
			).status_code
			== 200,
		)
	return out


def report_probes(user, ex, world):
	"""Each report: a user who may not run it is refused it for their own dealer; one who may
	runs it for each dealer (only their own for a restricted user), exports it, runs the saved
	Custom Report holding each dealer's company, and is refused queuing it for another dealer."""
	out = []
	restricted = bool(ex.model.companies)
	own = sorted(ex.model.companies)[0] if restricted else PUNE
	for report in world["reports"]:
		may = ex.may_run(report)
		companies = COMPANIES if may else (own,)
		for company in companies:
			ok = may and ex.in_scope(company)
			filters = json.dumps({"company": company, **FILTERS})
			probe(
				out,
				user,
				"report run",
				report,
				company,
				ok,
				lambda s, u, report=report, filters=filters: api(
					s, u, "frappe.desk.query_report.run", {"report_name": report, "filters": filters}
				).status_code
				== 200,
			)
			if not may:
				continue
			probe(
				out,
				user,
				"report export",
				report,
				company,
				ok and ex.may_export(report),
				lambda s, u, report=report, filters=filters: api(
					s,
					u,
					"frappe.desk.query_report.export_query",
					{
						"report_name": report,
						"filters": filters,
						"file_format_type": "CSV",
						"visible_idx": "[]",
					},
					post=True,
				).status_code
				== 200,
			)
			custom = world["custom"][(report, company)]
			probe(
				out,
				user,
				"saved custom report",
				report,
				company,
				ok,
				lambda s, u, custom=custom: api(
					s,
					u,
					"frappe.desk.query_report.run",
					{"report_name": custom, "filters": json.dumps({"company": own, **FILTERS})},
				).status_code
				== 200,
			)
			if not ok:  # queuing an allowed one starts a job: the refusal is the point
				probe(
					out,
					user,
					"prepared report queued",
					report,
					company,
					False,
					lambda s, u, report=report, filters=filters: api(
						s,
						u,
						"frappe.core.doctype.prepared_report.prepared_report.make_prepared_report",
						{"report_name": report, "filters": filters},
						post=True,
					).status_code
					== 200,
				)
	custom = world["prepared_report"]
	for company, (pr, owner) in world["prepared"].items():
		ok = ex.may_run(custom) and (user == owner or not restricted)
		probe(
			out,
			user,
			"prepared report read",
			"Stock Ledger",
			company,
			ok,
			# access: a refusal is a 403; whether its data file renders is the report's matter
			lambda s, u, pr=pr: api(
				s,
				u,
				"frappe.desk.query_report.run",
				{
					"report_name": custom,
					"filters": json.dumps({"company": own, **FILTERS, "prepared_report_name": pr}),
					"are_default_filters": 0,
				},
			).status_code
			== 200,
		)
		probe(
			out,
			user,
			"prepared report download",
			"Stock Ledger",
			company,
			bool({"Prepared Report User", "System Manager"} & ex.model.roles)
			and (user == owner or not restricted),
			lambda s, u, pr=pr: api(
				s, u, "frappe.core.doctype.prepared_report.prepared_report.download_attachment", {"dn": pr}
			).status_code
			== 200,
		)
	return out


def run_probes(url, session, probes):
	results = []
	for p in probes:
		try:
			try:
				got = p.request(session, url)
			except requests.Timeout:  # the shared machine stalls at times: once more
				got = p.request(session, url)
			got = got if isinstance(got, set | int) and not isinstance(got, bool) else bool(got)
		except requests.RequestException as e:
			got = f"error: {e}"
		results.append((p, got))
	return results


@pytest.mark.commits
def test_read_surfaces(server, world, demo_password):
	started = time.monotonic()
	users = demo_users()
	assert len(users) >= 11, users
	sessions = {u: login(server, u, demo_password) for u in users}
	sessions["Guest"] = requests.Session()
	by_doctype = defaultdict(dict)
	for (dt, company), name in world["docs"].items():
		by_doctype[dt][company] = name
	world["by_doctype"] = by_doctype
	world["pdf_rendered"] = set()
	world["formats"] = {
		dt: [
			"Standard",
			# the server renders these (a JS format is the browser's: no print view, no PDF)
			*frappe.get_all(
				"Print Format",
				filters={"doc_type": dt, "disabled": 0, "print_format_type": ("!=", "JS")},
				pluck="name",
			),
		]
		for dt in by_doctype
	}
	# a format that does not render this site's document even for Administrator (ERPNext's Purchase
	# Receipt Serial and Batch Bundle Print on a receipt without bundles) says nothing about rights
	for dt, formats in world["formats"].items():
		name = next(iter(by_doctype[dt].values()))
		for fmt in list(formats[1:]):
			try:
				frappe.get_print(dt, name, print_format=fmt)
			except Exception as e:
				formats.remove(fmt)
				world["skipped"].append(
					f"print format {fmt} of {dt}: does not render for Administrator ({e})"[:200]
				)
	cache = {
		"meta": {
			dt: {
				"owner": {n: frappe.db.get_value(dt, n, "owner") for n in per.values()},
				"company": {n: doc_company(dt, n) for n in per.values()},
				"info": {n: doc_info(dt, n) for n in per.values()},
			}
			for dt, per in by_doctype.items()
		}
	}
	plan = {}
	for user in sessions:
		ex = Expect(user)
		plan[user] = doc_probes(user, ex, world, cache) + report_probes(user, ex, world)
	frappe.db.rollback()  # nothing in-process is kept
	print(
		f"read surfaces: {sum(map(len, plan.values()))} probes planned in {time.monotonic() - started:.0f} s"
	)

	results = []
	with ThreadPoolExecutor(max_workers=4) as pool:
		for part in pool.map(lambda u: run_probes(server, sessions[u], plan[u]), list(plan)):
			results += part

	disagreements = [(p, got) for p, got in results if got != p.expected]
	size = Counter(p.surface.split("[")[0] for p, _ in results)
	lines = [
		f"read surfaces: {len(results)} probes ({len(sessions)} users incl. Guest, "
		f"{len({dt for dt, _ in world['docs']})} doctypes, {len(world['docs'])} documents, "
		f"{len(world['reports'])} reports) in {time.monotonic() - started:.0f} s; "
		f"{len(disagreements)} disagreements",
		"per surface: " + ", ".join(f"{k} {v}" for k, v in sorted(size.items())),
		*(f"not probed: {s}" for s in world["skipped"]),
		*(
			f"DISAGREE {p.user} {p.surface} {p.doctype} {p.target}: expected " f"{p.expected!r}, got {got!r}"
			for p, got in disagreements
		),
	]
	os.makedirs(ARTIFACTS, exist_ok=True)
	with open(os.path.join(ARTIFACTS, "read_surfaces.txt"), "w") as f:
		f.write("\n".join(lines) + "\n")
	print("\n".join(lines[:200]))
	assert not disagreements, "\n".join(lines[:60])
