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
	doc.flags.for_update = True
	try:
		doc.reload()
	finally:
		doc.flags.for_update = False
	doc._doc_before_save = None
	if check:
		doc.check_permission(check)
	return doc


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
		if not fields:
			continue
		blank = frappe.new_doc(table.options)
		for row in doc.get(table.fieldname):
			if row.name not in known:
				for df in fields:
					row.set(df.fieldname, blank.get(df.fieldname))


def clear_unwritable_fields_of_added_rows(doc, method=None):
	"""doc_events before_validate: the same for rows a client adds to an existing document (a
	new document's rows are mapped by the server from the one it comes from)."""
	if not doc.is_new():
		clear_unwritable_fields_of_new_rows(doc)


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
	before_retry(), e.g. reload the document) and run it again, four times at most, after a
	random pause that doubles each time (two saves of neighbouring job cards can deadlock on
	the gap locks of their child rows again and again while they run in step); then give a
	clear error instead of a server error."""
	import random
	import time

	attempts = 5
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
			time.sleep(random.uniform(0.05, 0.2) * 2**attempt)
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
