"""Child-table rows and attachments of another dealer (issue #20, controllers/child_rows.py).

Generated from the metadata: every child DocType in a table of a dealer's DocType (one with a Link
to Company) that a demo dealer role reads. The test makes each dealer's documents (the journey's,
draft ERPNext documents, a submitted invoice with taxes and its payment), then, as every demo user
of both dealers, asks each surface that lists a child DocType's rows for the other dealer's rows:
`frappe.client.get_list`, `get_value`, `get_count`, `frappe.desk.reportview.get` and `get_count`
with the parent DocType. A pair with no row at the other dealer is printed as not probed. A single
row by its name (REST, `frappe.client.get`, the form load, the print view) is checked once the
request's user is known, so over HTTP: tests/system/test_child_rows_http.py."""

import frappe
from frappe.desk import reportview
from frappe.model import table_fields
from frappe.tests.utils import FrappeTestCase

from aftersales_dms.controllers.report_access import allowed_companies
from aftersales_dms.tests.test_permission_matrix import erpnext_drafts, journey
from aftersales_dms.tests.test_read_access import payment_entry

PUNE, NASHIK = "Orion Motors Pune", "Orion Motors Nashik"
DEALERS = (PUNE, NASHIK)
OEM = "oem.admin@orion-oem.example"


def dealer_users():
	"""Every demo user of both dealers (staff, and one technician per dealer)."""
	from aftersales_dms.demo import load_config

	fixture = load_config()
	users = [u["email"] for u in fixture["users"] if u.get("dealer")]
	technicians = {}
	for t in fixture["technicians"]:
		technicians.setdefault(t["dealer"], t["email"])
	return users + sorted(technicians.values())


def is_dealer_doctype(doctype) -> bool:
	meta = frappe.get_meta(doctype)
	field = meta.get_field("company")
	return bool(
		not meta.istable
		and not meta.issingle
		and not meta.is_virtual
		and field
		and field.fieldtype == "Link"
		and field.options == "Company"
	)


def child_pairs():
	"""(parent, child) for every table field (DocType and Custom Field) of a dealer's DocType."""
	pairs = set(
		frappe.get_all(
			"DocField",
			filters={"fieldtype": ("in", table_fields), "parenttype": "DocType"},
			fields=["parent", "options"],
			as_list=True,
		)
	)
	pairs.update(
		frappe.get_all(
			"Custom Field",
			filters={"fieldtype": ("in", table_fields)},
			fields=["dt", "options"],
			as_list=True,
		)
	)
	return sorted((p, c) for p, c in pairs if c and frappe.db.exists("DocType", p) and is_dealer_doctype(p))


def role_reads(doctype, user) -> bool:
	perms = frappe.permissions.get_role_permissions(frappe.get_meta(doctype), user=user)
	return bool(perms.get("read") or perms.get("select"))


def rows_of(parent, child, companies, limit=50):
	"""{child row name: parent name} of `child` rows in documents of `parent` of `companies`."""
	return dict(
		frappe.db.sql(
			f"""select c.name, c.parent from `tab{child}` c join `tab{parent}` p on p.name = c.parent
			where c.parenttype = %(parent)s and p.company in %(companies)s order by c.creation desc
			limit {int(limit)}""",
			{"parent": parent, "companies": tuple(companies)},
		)
	)


def invoice_with_taxes(company):
	"""A submitted Sales Invoice with the dealer's tax template (items, taxes, payment schedule)."""
	from erpnext.controllers.accounts_controller import get_taxes_and_charges

	template = frappe.db.get_value("Sales Taxes and Charges Template", {"company": company})
	customer = frappe.get_all("Customer", pluck="name", limit=1, order_by="creation")[0]
	inv = frappe.get_doc(
		{
			"doctype": "Sales Invoice",
			"company": company,
			"customer": customer,
			"taxes_and_charges": template,
			"items": [{"item_code": "LAB-DIAG", "qty": 1, "rate": 1100}],
		}
	)
	for tax in get_taxes_and_charges("Sales Taxes and Charges Template", template) if template else []:
		inv.append("taxes", tax)
	inv.set_missing_values()
	inv.insert()
	inv.submit()
	return inv


def make_dealer_documents():
	"""Each dealer's documents with child rows, as Administrator (the set-up, not the probe)."""
	frappe.set_user("Administrator")
	for company in DEALERS:
		journey(company)
		erpnext_drafts(company)
		invoice_with_taxes(company)
		payment_entry(company)


def attach_file(doctype, name, private):
	return frappe.get_doc(
		{
			"doctype": "File",
			"file_name": f"child-rows-{frappe.generate_hash(length=8)}.txt",
			"content": b"dealer attachment",
			"attached_to_doctype": doctype,
			"attached_to_name": name,
			"is_private": private,
		}
	).insert()


def surfaces(user, parent, child, foreign):
	"""Each surface's rows of `foreign` ({child row: parent}) that `user` got: {surface: leaked}."""
	rows, parents = list(foreign), sorted(set(foreign.values()))
	fields = ["name", "parent", "parenttype"]
	leaks = {}

	def attempt(surface, fn):
		frappe.set_user(user)
		frappe.local.form_dict = frappe._dict()
		try:
			got = fn()
		except frappe.PermissionError:
			got = None
		finally:
			frappe.clear_messages()
			frappe.set_user("Administrator")
		if got:
			leaks[surface] = got

	attempt(
		"client.get_list",
		lambda: [
			r["name"]
			for r in frappe.client.get_list(child, fields=fields, parent=parent, limit_page_length=0)
			if r["name"] in foreign
		],
	)
	attempt(
		"client.get_list parent filter",
		lambda: frappe.client.get_list(
			child, fields=fields, filters=[["parent", "in", parents]], parent=parent, limit_page_length=0
		),
	)
	attempt(
		"client.get_value",
		lambda: frappe.client.get_value(child, fields, filters={"name": rows[0]}, parent=parent),
	)

	def reportview_get():
		frappe.local.form_dict.update(
			doctype=child,
			parent_doctype=parent,
			fields=frappe.as_json([f"`tab{child}`.`{f}`" for f in fields]),
			filters=frappe.as_json([[child, "parent", "in", parents]]),
			page_length=0,
		)
		return (reportview.get() or {}).get("values")

	attempt("reportview.get", reportview_get)

	def reportview_count():
		frappe.local.form_dict.update(
			doctype=child, parent_doctype=parent, filters=frappe.as_json([[child, "parent", "in", parents]])
		)
		return reportview.get_count()

	attempt("reportview.get_count", reportview_count)
	attempt(
		"client.get_count",
		lambda: frappe.client.get_count(child, filters=[[child, "parent", "in", parents]]),
	)
	return leaks


class TestChildRowsOfAnotherDealer(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_dealer_documents()

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.local.form_dict = frappe._dict()

	def test_no_surface_lists_another_dealers_child_rows(self):
		users = dealer_users()
		pairs = [(p, c) for p, c in child_pairs() if any(role_reads(p, u) for u in users)]
		leaks, probes, not_probed = [], 0, set()
		for user in users:
			allowed = allowed_companies(user)
			self.assertTrue(allowed, f"{user} is restricted to a dealer")
			foreign_companies = [c for c in DEALERS if c not in allowed]
			for parent, child in pairs:
				if not role_reads(parent, user):
					continue
				foreign = rows_of(parent, child, foreign_companies)
				if not foreign:
					not_probed.add((parent, child, ", ".join(foreign_companies)))
					continue
				probes += 1
				for surface, got in surfaces(user, parent, child, foreign).items():
					leaks.append(f"{user}: {surface} {child} of {parent} -> {got!s:.200}")
		print(
			f"child rows: {len(pairs)} (parent, child) pairs, {len(users)} users, {probes} probes x 6 surfaces"
		)
		for parent, child, dealer in sorted(not_probed):
			print(f"  not probed (no row at {dealer}): {child} of {parent}")
		self.assertTrue(probes, "nothing was probed")
		self.assertEqual(leaks, [], "\n".join(leaks))

	def test_own_dealers_rows_stay_listed(self):
		"""The narrowing keeps the user's own dealer's rows, and the OEM admin reads both dealers'."""
		for user, companies in (
			("accounts@omp.example", [PUNE]),
			("accounts@omn.example", [NASHIK]),
			(OEM, list(DEALERS)),
		):
			for company in companies:
				own = rows_of("Sales Invoice", "Sales Invoice Item", [company])
				frappe.set_user(user)
				got = frappe.client.get_list(
					"Sales Invoice Item",
					fields=["name"],
					filters=[["name", "in", list(own)]],
					parent="Sales Invoice",
					limit_page_length=0,
				)
				frappe.set_user("Administrator")
				self.assertEqual({r["name"] for r in got}, set(own), f"{user} at {company}")

	def test_private_files_of_another_dealers_documents_are_not_listed(self):
		"""Frappe lists the private files of every document of a DocType the user reads (their
		names, URLs and documents), refusing only their content."""
		files = {}
		for company in DEALERS:
			invoice = frappe.get_all("Sales Invoice", filters={"company": company}, pluck="name", limit=1)[0]
			job_card = frappe.get_all(
				"Service Job Card", filters={"company": company}, pluck="name", limit=1
			)[0]
			files[company] = [
				attach_file("Sales Invoice", invoice, private=1).name,
				attach_file("Service Job Card", job_card, private=1).name,
			]
		users = ("accounts@omp.example", "advisor@omp.example", "accounts@omn.example", "manager@omn.example")
		for user in users:
			own = allowed_companies(user)
			for company, names in files.items():
				frappe.set_user(user)
				listed = frappe.client.get_list(
					"File", fields=["name", "file_url"], filters=[["name", "in", names]], limit_page_length=0
				)
				frappe.set_user("Administrator")
				if company in own:
					# the own dealer's attachments of the DocTypes the user reads stay listed
					readable = [n for n in names if frappe.has_permission("File", "read", doc=n, user=user)]
					self.assertEqual({r["name"] for r in listed}, set(readable), f"{user} at {company}")
					self.assertTrue(readable, f"{user} reads {company}'s attachments")
				else:
					self.assertEqual(listed, [], f"{user} lists {company}'s attachments")
		frappe.set_user(OEM)
		both = [n for names in files.values() for n in names]
		got = frappe.client.get_list("File", filters=[["name", "in", both]], limit_page_length=0)
		frappe.set_user("Administrator")
		readable = [n for n in both if frappe.has_permission("File", "read", doc=n, user=OEM)]
		self.assertEqual({r["name"] for r in got}, set(readable), "the OEM admin lists what they read")
		self.assertTrue(readable, "the OEM admin reads attachments of both dealers")


class TestRowsStayWithTheirDocument(FrappeTestCase):
	"""A user's save cannot take a row of another document by naming it (attack of 2026-12-07: a
	PUT moved another dealer's, and an invoiced job card's, part line into the user's job card)."""

	def tearDown(self):
		frappe.set_user("Administrator")

	def test_a_save_cannot_take_another_documents_row(self):
		from aftersales_dms.workshop.test_job_card_status import ADVISOR, as_user, walk_in_job_card

		journey(NASHIK)
		nashik = frappe.get_last_doc("Service Job Card", filters={"company": NASHIK})
		pune = walk_in_job_card()
		other = walk_in_job_card()
		self.assertTrue(nashik.parts and other.labour)

		def take(table, row):
			doc = frappe.get_doc("Service Job Card", pune.name)
			fields = {"name": row.name, "item_code": row.item_code}
			fields.update({"qty": row.qty} if table == "parts" else {"standard_hours": row.standard_hours})
			doc.append(table, fields)
			doc.save()

		for table, row in (("parts", nashik.parts[0]), ("labour", other.labour[0])):
			with self.subTest(row=row.name), self.assertRaises(frappe.PermissionError):
				as_user(ADVISOR, take, table, row)
			self.assertEqual(frappe.db.get_value(row.doctype, row.name, "parent"), row.parent)
		# a name that names no row was dropped by Frappe without a word: refused too
		ghost = frappe._dict(name="no-such-row-4711", item_code=other.labour[0].item_code, standard_hours=1)
		with self.assertRaises(frappe.PermissionError):
			as_user(ADVISOR, take, "labour", ghost)

		# a row's table cannot be changed to hide it from its document: a save puts the row under
		# the table it sits in (set_value's dict form is refused before, tests/test_http_methods.py)
		line = other.labour[0]

		def move_table():
			doc = frappe.get_doc("Service Job Card", other.name)
			doc.labour[0].parentfield = "parts"
			doc.save()

		as_user(ADVISOR, move_table)
		self.assertEqual(frappe.db.get_value(line.doctype, line.name, "parentfield"), "labour")
		self.assertIn(line.name, [r.name for r in frappe.get_doc("Service Job Card", other.name).labour])

		# the job card's own rows, and new ones, save as before
		def edit_own():
			doc = frappe.get_doc("Service Job Card", pune.name)
			doc.concerns = "rattle from the rear"
			doc.append("labour", {"item_code": other.labour[0].item_code, "standard_hours": 1})
			doc.save()
			return doc

		doc = as_user(ADVISOR, edit_own)
		self.assertEqual(len(doc.labour), len(pune.labour) + 1)
