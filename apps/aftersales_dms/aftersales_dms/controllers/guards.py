"""Checks shared by the journey's documents."""

import frappe
from frappe import _

from aftersales_dms.roles import JOB_EDITORS, has_any_role


def validate_vehicle_owner(vehicle: str | None, customer: str | None):
	"""A document's vehicle must belong to its customer."""
	if not vehicle:
		return
	owner = frappe.db.get_value("Customer Vehicle", vehicle, "customer")
	if owner != customer:
		frappe.throw(_("Vehicle {0} belongs to {1}, not to {2}.").format(vehicle, owner, customer))


def lock_document(doc, check: str | None = "write"):
	"""Lock the document's row and read it afresh in the same statements (parent and rows), then
	check the user's permission on what is stored. A whitelisted doc method works on this, never
	on the document a client sent. (A plain read after a lock would still see the transaction's
	first snapshot under REPEATABLE READ, i.e. what it read before it waited for the lock.)"""
	from aftersales_dms.controllers.saves import fresh_locked_load, keep_locked_copy

	if not isinstance(doc.name, str) or not doc.name:
		frappe.throw(_("Name the {0} to act on.").format(_(doc.doctype)))
	if not fresh_locked_load(doc):  # (the doc method request's own load was the locked read)
		doc.flags.for_update = True
		try:
			doc.reload()
		finally:
			doc.flags.for_update = False
		keep_locked_copy(doc)  # what its save compares with (saves.LeanSave)
	doc._doc_before_save = None
	if doc.get("__islocal"):
		# a client's "new" document under a stored one's name is never the stored one
		refuse_new_document_under_stored_name(doc.doctype, doc.name)
	if check:
		doc.check_permission(check)
	return doc


def refuse_new_document_under_stored_name(doctype: str, name: str):
	frappe.throw(
		_("{0} {1} already exists: a new document cannot take its name.").format(_(doctype), name),
		frappe.PermissionError,
	)


def clear_unwritable_fields_of_new_rows(doc):
	"""Frappe resets the fields a user may not write (by permlevel) on the document and on the
	rows it already has, but leaves rows a client adds alone. On those, clear the fields whose
	permlevel the user may not write — on a new document only the system's level (a new job card
	comes with its booked technician, not with time logs or customer decisions)."""
	from aftersales_dms.roles import SYSTEM_LEVEL

	if doc.flags.ignore_permissions or frappe.session.user == "Administrator":
		return
	writable = set(doc.get_permlevel_access("write"))
	before = None if doc.is_new() else doc.get_doc_before_save()
	for table in doc.meta.get_table_fields():
		known = {r.name for r in before.get(table.fieldname)} if before else set()
		fields = [
			df
			for df in frappe.get_meta(table.options).get_high_permlevel_fields()
			if df.permlevel not in writable and (before or df.permlevel == SYSTEM_LEVEL)
		]
		added = [row for row in doc.get(table.fieldname) if row.name not in known] if fields else []
		if not added:
			continue
		blank = frappe.new_doc(table.options)  # (the row template: built only for a table a row was added to)
		for row in added:
			for df in fields:
				row.set(df.fieldname, blank.get(df.fieldname))


def clear_unwritable_fields_of_added_rows(doc, method=None):
	"""doc_events before_validate: the same for rows a client adds to an existing document (a
	new document's rows are mapped by the server from the one it comes from)."""
	if not doc.is_new():
		clear_unwritable_fields_of_new_rows(doc)


def is_app_doctype(doctype: str) -> bool:
	from aftersales_dms.roles import APP_MODULES

	return frappe.get_meta(doctype).module in APP_MODULES


def read_only_fields(meta) -> list:
	"""The fields the form shows read-only that Frappe does not fill itself: read_only, not
	fetch_from (Frappe fetches those from their link) and holding data."""
	from frappe.model import no_value_fields

	return [
		df
		for df in meta.fields
		if df.read_only
		and not df.fetch_from
		and (df.fieldtype == "Table" or df.fieldtype not in no_value_fields)
		and df.fieldname != "amended_from"  # Frappe's amendment sets it
	]


def users_save(doc) -> bool:
	"""A save of a whole document by a user, checked against what they may do: not the system's
	own (flags.ignore_permissions, install, migrate, patches), not Administrator's, not a row's."""
	return not (
		doc.flags.ignore_permissions
		or frappe.session.user == "Administrator"
		or frappe.flags.in_install
		or frappe.flags.in_migrate
		or frappe.flags.in_patch
		or doc.meta.istable
	)


def keep_read_only_fields(doc, method=None):
	"""doc_events before_validate of the app's DocTypes: a field the form shows read-only is
	read-only on the server too (REST, set_value, Data Import get what the desk gets). On a save by
	a user (the system's own saves are flagged ignore_permissions), every read-only field at a
	permlevel the user may write (the higher ones Frappe resets itself) gets back its stored value,
	on a new document its default; so do those of rows that already existed (a new row: its
	defaults). The DocType's validate then derives what it computes. Kept from the client: the
	workflow's state field (only the workflow's transitions move it, which Frappe checks) and, on a
	new document, a read-only field that is also set_only_once: the document it is made from
	(the job card's check-in), which its validate checks and derives the rest from."""
	if not users_save(doc) or not is_app_doctype(doc.doctype):
		return
	from frappe.model.workflow import get_workflow_name

	writable = set(doc.get_permlevel_access("write"))
	keep = set(doc.flags.get("ignore_permlevel_for_fields") or [])
	workflow = get_workflow_name(doc.doctype)
	if workflow:
		keep.add(frappe.get_cached_value("Workflow", workflow, "workflow_state_field"))
	new = doc.is_new()
	before = None if new else doc.get_doc_before_save()
	if not new and not before:
		return
	_restore_read_only(doc, before, writable, keep, new_document=new)
	for table in doc.meta.get_table_fields():
		if table.read_only and table.permlevel in writable:
			continue  # restored as a whole above
		known = {r.name: r for r in before.get(table.fieldname)} if before else {}
		for row in doc.get(table.fieldname):
			_restore_read_only(row, known.get(row.name), writable, keep)


def _restore_read_only(doc, stored, writable: set, keep: set, new_document=False):
	fields = [
		df
		for df in read_only_fields(doc.meta)
		if df.permlevel in writable and df.fieldname not in keep and not (new_document and df.set_only_once)
	]
	if not fields:
		return
	reference = stored or frappe.new_doc(doc.doctype, parent_doc=doc.parent_doc if doc.meta.istable else None)
	for df in fields:
		if df.fieldtype == "Table":
			doc.set(
				df.fieldname, [row.as_dict(no_default_fields=True) for row in reference.get(df.fieldname)]
			)
		else:
			doc.set(df.fieldname, reference.get(df.fieldname))


def validate_fetching_links(doc, method=None):
	"""doc_events before_validate of the app's DocTypes: every link names a record that exists.
	Frappe (v15, BaseDocument.get_invalid_links) lets a link pass unchecked when the link has
	fields fetched from it (the vehicle's customer_name from its customer) and the record does not
	exist; this checks those links, on the document and its rows. A link the stored document (or
	the stored row) already holds is not looked up again: it was checked when it was stored, and
	Frappe refuses to delete a record a document links to (a workflow move or a clock save of a job
	card looked up its every item again, ~10 queries a save)."""
	if doc.flags.ignore_links or doc.meta.istable or not is_app_doctype(doc.doctype):
		return
	stored = stored_link_values(doc)
	for d in [doc, *doc.get_all_children()]:
		for df in d.meta.get_link_fields() + d.meta.get("fields", {"fieldtype": "Dynamic Link"}):
			value = d.get(df.fieldname)
			if not value or not d.meta.get_fields_to_fetch(df.fieldname):
				continue
			if (d.doctype, d.name, df.fieldname, value) in stored and (
				df.fieldtype == "Link" or (d.doctype, d.name, df.options, d.get(df.options)) in stored
			):
				continue  # unchanged since it was stored (a dynamic link: its doctype too)
			doctype = df.options if df.fieldtype == "Link" else d.get(df.options)
			if not doctype or frappe.get_meta(doctype).issingle or frappe.get_meta(doctype).is_virtual:
				continue
			if not frappe.db.exists(doctype, value):
				label = _(df.label or df.fieldname)
				if d.get("parentfield"):
					label = _("Row #{0}: {1}").format(d.idx, label)
				frappe.throw(
					_("{0}: {1} {2} does not exist.").format(label, _(doctype), frappe.bold(value)),
					frappe.LinkValidationError,
					title=_("Invalid link"),
				)


def stored_link_values(doc) -> set:
	"""(doctype, name, fieldname, value) of every value the stored document and its stored rows
	hold (nothing for a new document): what validate_fetching_links need not look up again."""
	if doc.is_new():
		return set()
	before = doc.get_doc_before_save()
	if not before:
		return set()
	return {
		(d.doctype, d.name, fieldname, value)
		for d in [before, *before.get_all_children()]
		for fieldname, value in d.as_dict().items()
		if value and isinstance(value, str)
	}


def default_contact(doc):
	"""Fill the document's contact_mobile / contact_email from its customer where empty."""
	if doc.contact_mobile and doc.contact_email:
		return
	customer = frappe.db.get_value("Customer", doc.customer, ["mobile_no", "email_id"], as_dict=True) or {}
	doc.contact_mobile = doc.contact_mobile or customer.get("mobile_no")
	doc.contact_email = doc.contact_email or customer.get("email_id")


def check_job_card_editor(job_card):
	"""Estimates and approval links are the advisors' and managers' (write access to this job card)."""
	job_card.check_permission("write")
	if not has_any_role(JOB_EDITORS):
		frappe.throw(
			_("Only a Service Advisor or Workshop Manager can do this on a job card."), frappe.PermissionError
		)


def validate_dates(doc, method=None):
	"""doc_events before_validate: a malformed date or time is a clear error, not a crash later."""
	from frappe.utils import get_datetime, get_time, getdate

	parse = {"Date": getdate, "Datetime": get_datetime, "Time": get_time}
	for d in [doc, *doc.get_all_children()]:
		for df in d.meta.get("fields", {"fieldtype": ("in", tuple(parse))}):
			value = d.get(df.fieldname)
			if not value or not isinstance(value, str):
				continue
			try:
				parse[df.fieldtype](value)
			except Exception:
				frappe.throw(
					_("{0}: {1} is not a valid {2}.").format(
						_(df.label or df.fieldname), frappe.bold(value[:40]), _(df.fieldtype).lower()
					),
					title=_("Invalid date"),
				)


def call_with_deadlock_retry(fn, *args, before_retry=None, **kwargs):
	"""Run fn; when the database picks its transaction as a deadlock victim, roll back (and
	before_retry(), e.g. reload the document) and run it again, seven times at most, after a
	random pause that doubles each time up to 2 s (about 9 s in all at worst); then give a clear
	error instead of a server error.

	Why deadlocks come at all: Frappe reads a document's child rows FOR UPDATE when it locks the
	document (every save, every get_doc(for_update=True)), and under REPEATABLE READ that locks
	the index gap after its last row, shared with the next document's rows (or the end of the
	table for the newest one); two transactions on neighbouring job cards then wait on each
	other's gap as they insert rows. The benchmark's 4 parallel journeys, in step on a loaded
	2-core CI machine, once made one customer decision lose five times in a row (CI, session 10)."""
	import random
	import time

	attempts = 8
	for attempt in range(attempts):
		try:
			return fn(*args, **kwargs)
		except frappe.QueryDeadlockError:
			frappe.db.rollback()
			if attempt == attempts - 1:
				frappe.throw(
					_("Someone else changed the same records at the same moment; please try again."),
					title=_("Busy"),
				)
			time.sleep(min(2.0, random.uniform(0.05, 0.2) * 2**attempt))
			if before_retry:
				before_retry()


def retry_on_deadlock(method):
	"""For a document's action (decorate an inner method, not the whitelisted one: Frappe reads
	the whitelisted method's own argument list): call_with_deadlock_retry, reloading the document
	before each new attempt. Actions that lock rows in a fixed order rarely need it; the
	benchmark's parallel journeys showed the few that do."""
	import functools

	@functools.wraps(method)
	def wrapper(doc, *args, **kwargs):
		return call_with_deadlock_retry(method, doc, *args, before_retry=doc.reload, **kwargs)

	return wrapper


def sms_gateway_configured() -> bool:
	"""Used by the shipped SMS notifications' conditions (through each doctype's property)."""
	return bool(frappe.db.get_single_value("SMS Settings", "sms_gateway_url"))
