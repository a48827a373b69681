"""The permission matrix: every field x every demo role x every write channel, derived from metadata.

"The model" is what Frappe itself declares: the DocPerm rows of a DocType (Custom DocPerm rows
when a site has them), the role's rights at a field's permlevel, doc-level write / create /
delete at permlevel 0, `allow_on_submit` for submitted documents, `allow_rename`, the Workflow's
transitions, and the User Permissions on Company that restrict dealer staff. The matrix asserts
that a value changes exactly when that model says the role may write it, on every channel.

What is a valid *change* is decided by Administrator first (the baseline): Administrator skips
permission checks and the permlevel reset but runs every validation of the controller. A field
whose generated value Administrator cannot save (a content validation refuses it, or the
controller writes its own value) is "not probed", printed with the reason. For the rest, a
role's outcome must equal the model's prediction; anything else is a disagreement.

Used by tests/test_permission_matrix.py (in-process, the functions the HTTP handlers call) and
by tests/system/test_permission_matrix_http.py (a sample over real HTTP, compared with the
in-process outcome of the same attempts).
"""

import csv
import importlib
import inspect
import json
import os
import pkgutil
import tempfile
from collections import defaultdict

import frappe
from frappe.utils import add_days, add_to_date, cint, flt, get_datetime, get_time, getdate, now_datetime

APP = "aftersales_dms"
OWN, OTHER = "Orion Motors Pune", "Orion Motors Nashik"

# The Service Job Card and its child tables are being reworked onto permlevels (the lead's branch):
# until then these cells disagree with the model. Each entry is (doctype, field, role, channel);
# the matrix fails when an entry no longer disagrees, so the set is emptied as the rework lands.
# Nothing outside Service Job Card and its child tables may be listed here.
KNOWN_JOB_CARD_GAPS: set[tuple[str, str, str, str]] = set()
JOB_CARD_DOCTYPES = {
	"Service Job Card",
	"Service Job Card Labour",
	"Service Job Card Part",
	"Service Job Card QC Item",
	"Service Job Card Status Log",
	"Service Job Card Time Log",
}

FIELD_CHANNELS = ("rest_put", "client_save", "client_set_value", "client_bulk_update", "data_import")
# Data Import's "Update Existing Records" replaces a child table with the rows of its file; where a
# client may not remove rows (a Vehicle Inspection's checks are its template's: one left out would
# go unanswered), updating one row of several is refused as a removal of the others.
ROWS_NOT_REMOVABLE = {"Vehicle Inspection Item"}
NOT_YET_PROBED_CHANNELS = {}
DOC_CHANNELS = ("rest_post", "rename", "delete", "workflow")
NO_VALUE = set(frappe.model.no_value_fields) | set(frappe.model.display_fieldtypes)
ADMIN = "Administrator"


# ------------------------------------------------------------------ what is covered


def app_doctypes():
	"""Every DocType of the app's modules: (parents, children)."""
	modules = frappe.get_all("Module Def", filters={"app_name": APP}, pluck="name")
	rows = frappe.get_all(
		"DocType", filters={"module": ("in", modules)}, fields=["name", "istable"], order_by="name"
	)
	return [r.name for r in rows if not r.istable], [r.name for r in rows if r.istable]


def custom_fields():
	"""{doctype: [fieldname]} of the Custom Fields the app creates on ERPNext DocTypes."""
	from aftersales_dms.setup import get_custom_fields

	return {
		dt: [f["fieldname"] for f in fields if f.get("fieldtype") not in NO_VALUE]
		for dt, fields in get_custom_fields().items()
	}


def demo_users():
	"""One demo user per distinct role set (fixtures/dms_demo.json): {label: user}."""
	from aftersales_dms.demo import load_config

	fixture = load_config()
	users = {}
	for u in fixture["users"] + [dict(t, roles=["Technician"]) for t in fixture["technicians"]]:
		if u.get("dealer") not in (None, "OMP"):
			continue
		users.setdefault(" + ".join(sorted(u["roles"])), u["email"])
	return users


def probed_fields(doctype, only=None):
	"""The data fields of a DocType (columns; Table fields as their rows); of an ERPNext DocType
	(in `only`, from custom_fields()) just our custom fields, and its tables that have some."""
	meta = frappe.get_meta(doctype)
	out = [
		df
		for df in meta.fields
		if not df.is_virtual and (df.fieldtype not in NO_VALUE or df.fieldtype in frappe.model.table_fields)
	]
	if only and doctype in only:
		out = [df for df in out if df.fieldname in only[doctype] or df.options in only]
	return out


# ------------------------------------------------------------------ the model


def docperms(doctype):
	custom = frappe.get_all("Custom DocPerm", filters={"parent": doctype}, fields=["*"])
	return custom or frappe.get_all("DocPerm", filters={"parent": doctype}, fields=["*"])


class Model:
	"""What the declared permissions allow a user; nothing here calls Frappe's permission code."""

	def __init__(self, user):
		self.user = user
		self.roles = set(frappe.get_roles(user)) if user != "Guest" else {"Guest"}
		self.companies = set(
			frappe.get_all("User Permission", filters={"user": user, "allow": "Company"}, pluck="for_value")
		)

	def rights(self, doctype, permlevel, doc=None):
		out = set()
		for p in docperms(doctype):
			if p.role not in self.roles or cint(p.permlevel) != cint(permlevel):
				continue
			if p.if_owner and doc is not None and doc.owner != self.user:
				continue
			out |= {k for k in ("read", "write", "create", "delete", "submit", "cancel") if p.get(k)}
		return out

	def in_scope(self, doc):
		"""User Permissions on Company: every Company link of the document (and its rows) allowed."""
		if not self.companies or frappe.get_meta(doc.doctype).issingle:
			return True
		if doc.doctype == "Company":
			return doc.name in self.companies
		for d in [doc, *doc.get_all_children()]:
			for df in d.meta.get_link_fields():
				if df.options == "Company" and not df.ignore_user_permissions:
					if d.get(df.fieldname) and d.get(df.fieldname) not in self.companies:
						return False
		return True

	def may_write_field(self, doc, df, new_doc=None):
		parent = doc.doctype
		if not self.in_scope(doc) or (new_doc is not None and not self.in_scope(new_doc)):
			return False
		if "write" not in self.rights(parent, 0, doc) or "write" not in self.rights(
			parent, df.permlevel, doc
		):
			return False
		if df.read_only and is_app_field(df):
			# read-only in the form: written by the system; the API must not take it either, at
			# any permlevel (controllers/guards.keep_read_only_fields on the app's DocTypes,
			# controllers/erpnext_links.keep_app_fields for its dms_ fields on ERPNext's; an
			# ERPNext field keeps ERPNext's model)
			return False
		if doc.docstatus == 2:
			return False
		if doc.docstatus == 1:
			return bool(df.allow_on_submit)
		return True

	def may(self, ptype, doc):
		if doc.doctype == "ToDo" and not self.todo_role(ptype):
			# Frappe's has_permission hook of ToDo (the app marks the ToDos it opens, workshop/tasks.py):
			# without a ToDo role beyond the automatic ones, only its assignee or assigner
			return self.in_scope(doc) and self.user in (doc.allocated_to, doc.assigned_by)
		return self.in_scope(doc) and ptype in self.rights(doc.doctype, 0, doc)

	def todo_role(self, ptype):
		from frappe.permissions import AUTOMATIC_ROLES

		return any(
			p.role in self.roles and p.role not in AUTOMATIC_ROLES and p.get(ptype) for p in docperms("ToDo")
		)


def is_app_field(df) -> bool:
	"""A field of the app's DocTypes, or one of its dms_ custom fields on an ERPNext DocType."""
	from aftersales_dms.roles import APP_MODULES

	if (df.fieldname or "").startswith("dms_"):
		return True
	return bool(df.parent) and frappe.get_meta(df.parent).module in APP_MODULES


# ------------------------------------------------------------------ values


def _link_value(df, doc, current):
	target = frappe.get_meta(df.options)
	if target.issingle or df.options in ("DocType", "User", "Module Def"):
		return None
	filters = {"name": ("!=", current or "")}
	company = doc.get("company") or (doc.parent_doc.get("company") if doc.get("parent_doc") else None)
	if df.options == "Company":
		filters["name"] = ("not in", [current or "", ""])
	elif target.has_field("company") and company:
		filters["company"] = company
	if target.is_submittable:
		filters["docstatus"] = 1
	names = frappe.get_all(df.options, filters=filters, pluck="name", limit=1, order_by="creation asc")
	return names[0] if names else None


def generate(df, d):
	"""A valid change of the field's value for its fieldtype, or (None, reason)."""
	cur = d.get(df.fieldname)
	ft = df.fieldtype
	if df.fieldname in ("naming_series", "amended_from", "workflow_state"):
		return None, "naming / amendment / workflow state are Frappe's"
	if ft in ("Data", "Autocomplete"):
		if df.options == "Email":
			return "matrix.probe@example.com", None
		if df.options == "Phone":
			return "+919800000999", None
		if df.options == "URL":
			return "https://example.com/matrix", None
		value = f"{cur or 'Matrix'} mx"
		return value[-(df.length or 140) :], None
	if ft in ("Small Text", "Text", "Long Text", "Text Editor", "Markdown Editor", "HTML Editor", "Code"):
		return f"{cur or ''} matrix probe".strip(), None
	if ft == "JSON":
		return json.dumps({"matrix": 1}), None
	if ft == "Int":
		return cint(cur) + 1, None
	if ft in ("Float", "Currency"):
		return flt(cur) + 1, None
	if ft == "Percent":
		return flt(cur) + 1 if flt(cur) < 99 else flt(cur) - 1, None
	if ft == "Rating":
		return 0.2 if flt(cur) >= 0.5 else flt(cur) + 0.2, None
	if ft == "Duration":
		return cint(cur) + 60, None
	if ft == "Check":
		return 0 if cint(cur) else 1, None
	if ft == "Color":
		return "#123456", None
	if ft == "Select":
		options = [o for o in (df.options or "").split("\n") if o]
		if len(options) < 2 and not (options and cur != options[0]):
			return None, "Select with fewer than two options"
		i = options.index(cur) if cur in options else -1
		return options[(i + 1) % len(options)], None
	if ft == "Date":
		return str(add_days(getdate(cur) if cur else getdate(), 1)), None
	if ft == "Datetime":
		return str(add_to_date(get_datetime(cur) if cur else now_datetime(), hours=1)), None
	if ft == "Time":
		t = get_time(cur) if cur else get_time("10:00:00")
		return f"{t.hour:02d}:{(t.minute + 1) % 60:02d}:{t.second:02d}", None
	if ft == "Link":
		value = _link_value(df, d, cur)
		return (value, None) if value else (None, f"no other {df.options} record to link")
	if ft in frappe.model.table_fields:
		if ft == "Table MultiSelect":
			return None, "Table MultiSelect"
		rows = d.get(df.fieldname) or []
		if not rows:
			return None, "no row to copy into a new row"
		copy = {k: v for k, v in rows[-1].as_dict().items() if k not in frappe.model.default_fields}
		return [*(r.as_dict() for r in rows), copy], None
	return None, f"no generator for fieldtype {ft}"


def norm(df, value):
	ft = df.fieldtype
	if value in (None, ""):
		return None if ft not in ("Int", "Float", "Currency", "Percent", "Check", "Rating", "Duration") else 0
	if ft in ("Int", "Check", "Duration"):
		return cint(value)
	if ft in ("Float", "Currency", "Percent", "Rating"):
		return round(flt(value), 6)
	if ft == "Date":
		return str(getdate(value))
	if ft == "Datetime":
		return str(get_datetime(value))
	if ft == "Time":
		return str(get_time(value))
	if ft in frappe.model.table_fields:
		return len(value) if isinstance(value, list) else value
	return str(value)


# ------------------------------------------------------------------ probes


class Probe:
	"""One field of one document: where it lives (the parent or a row) and the value to write."""

	def __init__(self, doc, df, row=None):
		self.doc, self.df, self.row = doc, df, row
		self.target = row or doc
		self.value, self.reason = generate(df, self.target)

	@property
	def key(self):
		return (self.target.doctype, self.df.fieldname)

	def stored(self):
		if self.df.fieldtype in frappe.model.table_fields:
			return frappe.db.count(
				self.df.options, {"parent": self.doc.name, "parentfield": self.df.fieldname}
			)
		return frappe.db.get_value(self.target.doctype, self.target.name, self.df.fieldname)

	def landed(self):
		return norm(self.df, self.stored()) == norm(self.df, self.value)


def probes_for(doc, only=None):
	out = []
	for df in probed_fields(doc.doctype, only):
		if not (only and doc.doctype in only and df.options in only):
			out.append(Probe(doc, df))
		if df.fieldtype == "Table":
			rows = doc.get(df.fieldname) or []
			for cdf in probed_fields(df.options, only):
				if cdf.fieldtype in frappe.model.table_fields:
					continue
				p = Probe(doc, cdf, rows[0]) if rows else None
				if p is None:
					p = Probe.__new__(Probe)
					p.doc, p.df, p.row, p.target = doc, cdf, None, frappe._dict(doctype=df.options, name=None)
					p.value, p.reason = None, f"no {df.options} row on the probe document"
				out.append(p)
	return out


def payload(doc, probes, full=False):
	"""The document as a client sends it: changed parent fields, changed tables whole."""
	data = doc.as_dict(convert_dates_to_str=True) if full else {}
	tables = {}
	for p in probes:
		if p.row is None:
			data[p.df.fieldname] = p.value
	for p in probes:
		if p.row is not None:
			field = p.row.parentfield
			if field not in tables:
				tables[field] = data.get(field) if isinstance(data.get(field), list) else None
				tables[field] = tables[field] or [
					r.as_dict(convert_dates_to_str=True) for r in doc.get(field)
				]
			for r in tables[field]:
				if r["name"] == p.row.name:
					r[p.df.fieldname] = p.value
	data.update(tables)
	return json.loads(frappe.as_json(data))


def _reset_request():
	frappe.local.form_dict = frappe._dict()
	frappe.local.response = frappe._dict(docs=[])
	frappe.local.message_log = []
	frappe.flags.in_import = False


def write(channel, doc, probes):
	"""Apply the probes through one channel as the current user; the exception, if any."""
	import frappe.api.v1 as v1
	import frappe.client

	_reset_request()
	try:
		if channel == "rest_put":
			frappe.local.form_dict = frappe._dict(data=json.dumps(payload(doc, probes)))
			v1.update_doc(doc.doctype, doc.name)
		elif channel == "client_save":
			frappe.client.save(json.dumps(payload(doc, probes, full=True)))
		elif channel == "client_set_value":
			parent = {p.df.fieldname: p.value for p in probes if p.row is None}
			if parent:
				frappe.client.set_value(doc.doctype, doc.name, json.dumps(parent, default=str))
			by_row = defaultdict(dict)
			for p in probes:
				if p.row is not None:
					by_row[(p.row.doctype, p.row.name)][p.df.fieldname] = p.value
			for (dt, name), values in by_row.items():
				frappe.client.set_value(dt, name, json.dumps(values, default=str))
		elif channel == "client_bulk_update":
			row = {"doctype": doc.doctype, "docname": doc.name, **payload(doc, probes)}
			failed = frappe.client.bulk_update(json.dumps([row]))["failed_docs"]
			if failed:
				raise BulkUpdateFailed(failed[0]["exc"].strip().splitlines()[-1])
		elif channel == "data_import":
			data_import(doc, probes)
		else:
			raise ValueError(channel)
	except Exception as e:
		return e
	finally:
		_reset_request()
	return None


class BulkUpdateFailed(Exception):
	"""frappe.client.bulk_update answers 200 with the failure in failed_docs."""


def data_import(doc, probes):
	"""Data Import, "Update Existing Records": the importer parses a CSV and updates the record as
	the user who runs it (the door, the Data Import DocType's own permission, is checked apart)."""
	from frappe.core.doctype.data_import.importer import Importer

	parent = [p for p in probes if p.row is None and p.df.fieldtype not in frappe.model.table_fields]
	rows = [p for p in probes if p.row is not None]
	header = ["ID"] + [p.df.fieldname for p in parent]
	values = [doc.name] + [p.value for p in parent]
	by_table = defaultdict(list)
	for p in rows:
		by_table[p.row.parentfield].append(p)
	for field, ps in by_table.items():
		label = frappe.get_meta(doc.doctype).get_field(field).label
		header += [f"ID ({label})"] + [f"{p.df.label} ({label})" for p in ps]
		values += [ps[0].row.name] + [p.value for p in ps]
	with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, newline="") as f:
		csv.writer(f).writerows([header, ["" if v is None else v for v in values]])
	try:
		# console: read the CSV from a path (the desk's Data Import reads it from a File record)
		importer = Importer(
			doc.doctype, file_path=f.name, import_type="Update Existing Records", console=True
		)
		warnings = [w for w in importer.import_file.get_warnings() if w.get("type") != "info"]
		if warnings:
			raise frappe.ValidationError(f"import warnings: {warnings}")
		for p in importer.import_file.get_payloads_for_import():
			importer.process_doc(p.doc)
	finally:
		os.unlink(f.name)


# ------------------------------------------------------------------ running a cell


def attempt(user, fn):
	"""Run fn() as user inside a savepoint; roll it back; (exception, result of check())."""
	frappe.db.savepoint("matrix")
	frappe.set_user(user)
	try:
		exc, seen = fn()
	finally:
		frappe.set_user(ADMIN)
		frappe.db.rollback(save_point="matrix")
	return exc, seen


def try_write(user, channel, doc, probes):
	def fn():
		exc = write(channel, doc, probes)
		frappe.set_user(ADMIN)
		return exc, {p.key for p in probes if p.landed()}

	return attempt(user, fn)


def describe(exc):
	if exc is None:
		return "saved"
	msg = frappe.utils.strip_html(str(exc) or "").strip()
	return f"{type(exc).__name__}: {msg[:160]}"


def is_clear(exc):
	"""A frappe exception with a message that the handler answers with a 4xx."""
	if exc is None:
		return True
	code = getattr(exc, "http_status_code", 500)
	return 400 <= code < 500 and bool(str(exc).strip() or getattr(exc, "matrix_messages", None))


def active_workflow(doctype):
	name = frappe.db.get_value("Workflow", {"document_type": doctype, "is_active": 1})
	return frappe.get_doc("Workflow", name) if name else None


class Matrix:
	"""The field matrix over a set of documents; results in .cells, .not_probed, .disagreements."""

	def __init__(self, docs, users, channels=FIELD_CHANNELS, only=None):
		self.docs, self.users, self.channels, self.only = docs, users, channels, only
		self.models = {label: Model(user) for label, user in users.items()}
		self.not_probed = {}  # (doctype, field) -> reason
		self.disagreements = []  # (doctype, field, role, channel, doc, expected, got)
		self.cells = 0
		self.attempts = 0

	def baseline(self, doc, probes):
		"""The probes Administrator can really change (one save, then one by one when refused)."""
		valid = [p for p in probes if p.value is not None]
		for p in probes:
			if p.value is None:
				self.not_probed.setdefault(p.key, p.reason)
		exc, landed = try_write(ADMIN, "client_save", doc, valid)
		self.attempts += 1
		if exc is None and landed == {p.key for p in valid}:
			return valid
		ok = []
		for p in valid:
			exc, landed = try_write(ADMIN, "client_save", doc, [p])
			self.attempts += 1
			if p.key in landed:
				ok.append(p)
			else:
				reason = describe(exc) if exc else "the controller keeps its own value"
				self.not_probed.setdefault(p.key, f"Administrator cannot change it either ({reason})")
		return ok

	def expect(self, model, doc, p):
		new_doc = None
		if p.row is None and p.df.fieldtype == "Link" and p.df.options == "Company":
			new_doc = frappe.get_doc(doc.as_dict())
			new_doc.set(p.df.fieldname, p.value)
		workflow = active_workflow(doc.doctype) if p.row is None else None
		if workflow and p.df.fieldname == workflow.workflow_state_field:
			# the workflow's state field (read-only in the form) moves only along its transitions,
			# for their roles, for whoever may write the document
			return (
				model.in_scope(doc)
				and "write" in model.rights(doc.doctype, 0, doc)
				and "write" in model.rights(doc.doctype, p.df.permlevel, doc)
				and any(
					t.state == doc.get(p.df.fieldname)
					and t.next_state == p.value
					and t.allowed in model.roles
					for t in workflow.transitions
				)
			)
		return model.may_write_field(doc, p.df, new_doc)

	def run_doc(self, doc):
		probes = self.baseline(doc, probes_for(doc, self.only))
		if not probes:
			return
		for label, user in self.users.items():
			model = self.models[label]
			expected = {p.key for p in probes if self.expect(model, doc, p)}
			reference = None  # (outcome of the group on client_save, per-field result)
			for channel in self.channels:
				ps = [
					p
					for p in probes
					if channel != "data_import" or p.df.fieldtype not in frappe.model.table_fields
				]
				self.cells += len(ps)
				exc, landed = try_write(user, channel, doc, ps)
				self.attempts += 1
				want = expected & {p.key for p in ps}
				if channel == "data_import":
					want -= {
						p.key
						for p in ps
						if p.row is not None
						and p.row.doctype in ROWS_NOT_REMOVABLE
						and len(doc.get(p.row.parentfield)) > 1
					}
				if landed == want and (exc is None or not want):
					continue
				# the group disagrees somewhere: find where, field by field
				group = (type(exc).__name__ if exc else None, frozenset(landed))
				if reference and reference[0] == group and channel != "data_import":
					per_field = reference[1]
				else:
					per_field = {}
					for p in ps:
						e, got = try_write(user, channel, doc, [p])
						self.attempts += 1
						per_field[p.key] = (e, p.key in got)
					if channel == "client_save":
						reference = (group, per_field)
				for p in ps:
					e, got = per_field[p.key]
					if got != (p.key in want):
						self.disagreements.append(
							(
								p.key[0],
								p.key[1],
								label,
								channel,
								doc.name,
								"changes" if p.key in want else "unchanged",
								"changed" if got else f"unchanged ({describe(e)})",
							)
						)

	def run(self):
		import time

		for doc in self.docs:
			t0, n = time.monotonic(), self.attempts
			self.run_doc(doc)
			print(f"  {doc.doctype} {doc.name}: {self.attempts - n} attempts, {time.monotonic() - t0:.1f} s")
		return self


# ------------------------------------------------------------------ document channels


def doc_level(docs, users):
	"""rest_post (create a copy), rename, delete and workflow actions, against the model."""
	out, cells = [], 0
	models = {label: Model(user) for label, user in users.items()}
	for doc in docs:
		meta = frappe.get_meta(doc.doctype)
		checks = {"delete": lambda d=doc: _delete(d), "rest_post": lambda d=doc: _create_copy(d)}
		if meta.allow_rename:
			checks["rename"] = lambda d=doc: _rename(d)
		for channel, fn in checks.items():
			admin_exc, admin_ok = attempt(ADMIN, fn)
			if not admin_ok:
				out.append(("not probed", doc.doctype, channel, doc.name, describe(admin_exc)))
				continue
			for label, user in users.items():
				m = models[label]
				if channel == "delete":
					want = m.may("delete", doc) and doc.docstatus != 1
				elif channel == "rename":
					want = m.may("write", doc)
				else:
					want = m.may("create", doc)
				exc, ok = attempt(user, fn)
				cells += 1
				if ok != want:
					out.append(
						(doc.doctype, "*document*", label, channel, doc.name, want, f"{ok} ({describe(exc)})")
					)
		workflow = frappe.db.get_value("Workflow", {"document_type": doc.doctype, "is_active": 1})
		if workflow:
			for action, roles in workflow_actions(workflow, doc):
				admin_exc, admin_ok = attempt(ADMIN, lambda a=action, d=doc: _workflow(d, a))
				if not admin_ok:
					out.append(
						("not probed", doc.doctype, f"workflow {action}", doc.name, describe(admin_exc))
					)
					continue
				for label, user in users.items():
					m = models[label]
					want = m.may("write", doc) and bool(roles & m.roles)
					exc, ok = attempt(user, lambda a=action, d=doc: _workflow(d, a))
					cells += 1
					if ok != want:
						out.append(
							(
								doc.doctype,
								"*document*",
								label,
								f"workflow {action}",
								doc.name,
								want,
								f"{ok} ({describe(exc)})",
							)
						)
	return out, cells


def workflow_actions(workflow, doc):
	wf = frappe.get_doc("Workflow", workflow)
	state = doc.get(wf.workflow_state_field)
	actions = defaultdict(set)
	for t in wf.transitions:
		if t.state == state:
			actions[t.action].add(t.allowed)
	return sorted(actions.items())


def _workflow(doc, action):
	from frappe.model.workflow import apply_workflow

	before = frappe.db.get_value(doc.doctype, doc.name, ["modified", "docstatus"])
	try:
		apply_workflow(frappe.get_doc(doc.doctype, doc.name).as_dict(), action)
	except Exception as e:
		return e, False
	return None, frappe.db.get_value(doc.doctype, doc.name, ["modified", "docstatus"]) != before


def _delete(doc):
	import frappe.client

	try:
		frappe.client.delete(doc.doctype, doc.name)
	except Exception as e:
		return e, False
	return None, not frappe.db.exists(doc.doctype, doc.name)


def _rename(doc):
	import frappe.client

	new = f"{doc.name} MX"
	try:
		frappe.client.rename_doc(doc.doctype, doc.name, new)
	except Exception as e:
		return e, False
	return None, bool(frappe.db.exists(doc.doctype, new))


UNIQUE_COPY = {}


def _create_copy(doc):
	"""POST /api/resource/<doctype> with a copy of the document (the REST v1 create handler)."""
	import frappe.api.v1 as v1

	data = frappe.copy_doc(doc).as_dict(convert_dates_to_str=True)
	for k in ("name", "docstatus", "amended_from", "status", "workflow_state"):
		data.pop(k, None)
	meta = frappe.get_meta(doc.doctype)
	for df in meta.fields:
		if df.unique and data.get(df.fieldname):
			data[df.fieldname] = f"{data[df.fieldname]}mx"
	if meta.autoname and meta.autoname.startswith("field:"):
		field = meta.autoname.split(":", 1)[1]
		data[field] = f"{data.get(field)} MX"
	_reset_request()
	frappe.local.form_dict = frappe._dict(data=frappe.as_json(data))
	try:
		new = v1.create_doc(doc.doctype)
	except Exception as e:
		return e, False
	finally:
		_reset_request()
	return None, bool(new and frappe.db.exists(doc.doctype, new.name))


# ------------------------------------------------------------------ whitelisted methods


def import_app():
	"""Import every module of the app, so that every @frappe.whitelist has registered itself."""
	package = importlib.import_module(APP)
	for info in pkgutil.walk_packages(package.__path__, f"{APP}."):
		if ".tests" in info.name or ".test_" in info.name or ".patches" in info.name:
			continue
		try:
			importlib.import_module(info.name)
		except Exception as e:  # a module that cannot be imported is a finding, not a skip
			raise AssertionError(f"cannot import {info.name}: {e}") from e


def whitelisted_functions():
	import_app()
	return sorted(
		(f for f in frappe.whitelisted if f.__module__.startswith(APP) and "." not in f.__qualname__),
		key=lambda f: f"{f.__module__}.{f.__qualname__}",
	)


def whitelisted_doc_methods(doctypes):
	from frappe.model.base_document import get_controller

	out = []
	for dt in doctypes:
		cls = get_controller(dt)
		for name, member in inspect.getmembers(cls, inspect.isfunction):
			if member in frappe.whitelisted and member.__module__.startswith(APP):
				out.append((dt, name, member))
	return out


def argument_sets(fn, candidates):
	"""Keyword arguments to call fn with: every required argument a candidate document (another
	dealer's, or one in the wrong state), tried per candidate whose DocType the argument names."""
	params = [
		p
		for p in inspect.signature(fn).parameters.values()
		if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
	]

	def fits(param, doctype):
		name = param.name.replace("_name", "").replace("docname", "").strip("_")
		return not name or name in frappe.scrub(doctype) or name in ("source", "doc", "name", "reference")

	out = []
	for doc in candidates:
		kwargs, usable = {}, True
		for p in params:
			ann = p.annotation if p.annotation is not inspect.Parameter.empty else str
			required = p.default is inspect.Parameter.empty
			if p.name == "doctype":
				kwargs[p.name] = doc.doctype
			elif p.name == "company":
				kwargs[p.name] = doc.get("company") or OTHER
			elif p.name in ("doc", "docs"):
				kwargs[p.name] = frappe.as_json(doc.as_dict())
			elif ann in (int, float) or "int" in str(ann) or "float" in str(ann):
				if required:
					kwargs[p.name] = 1
			elif ann is bool or "bool" in str(ann):
				if required:
					kwargs[p.name] = 0
			elif "list" in str(ann) or "dict" in str(ann):
				if required:
					kwargs[p.name] = "[]" if "list" in str(ann) else "{}"
			elif required:
				if not fits(p, doc.doctype) and any(fits(p, c.doctype) for c in candidates):
					usable = False
				kwargs[p.name] = doc.name
		if usable:
			out.append((doc, kwargs))
	return out


def snapshot(doctypes):
	"""Rows and last change of every table a method could write to (one query)."""
	tables = sorted(set(doctypes))
	sql = " union all ".join(
		f"select '{t}', count(*), max(modified) from `tab{t}`" for t in tables if frappe.db.table_exists(t)
	)
	return {r[0]: (r[1], str(r[2])) for r in frappe.db.sql(sql)}


def call_method(user, fn, kwargs, doc=None, method=None, watched=()):
	"""Call a whitelisted function (frappe.is_whitelisted then frappe.call, as execute_cmd does) or
	a doc method (frappe.handler.run_doc_method) as user; (exception, nothing saved)."""
	import frappe.handler

	def body():
		before = snapshot(watched)
		_reset_request()
		exc = None
		try:
			if method:
				from werkzeug.test import EnvironBuilder
				from werkzeug.wrappers import Request

				frappe.local.request = Request(EnvironBuilder(method="POST").get_environ())
				frappe.handler.run_doc_method(method, dt=doc.doctype, dn=doc.name, args=json.dumps(kwargs))
			else:
				frappe.is_whitelisted(fn)
				frappe.call(fn, **kwargs)
		except Exception as e:
			exc = e
			exc.matrix_messages = list(frappe.local.message_log or [])
		frappe.local.message_log = []
		frappe.local.request = None
		frappe.set_user(ADMIN)
		return exc, snapshot(watched) == before

	return attempt(user, body)


def summary(counter):
	return ", ".join(f"{k}: {v}" for k, v in sorted(counter.items()))
