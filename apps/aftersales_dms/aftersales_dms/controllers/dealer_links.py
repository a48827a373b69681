"""A document of one dealer links only that dealer's records (#20, found by the attack on the demo).

Frappe applies a user's User Permission on Company to a document's own Company link, not to the
records its other links name: a Pune advisor could save a Pune job card for a vehicle whose home
dealer is Nashik (a vehicle they cannot even read: its plate, VIN and owner then came back fetched
into their job card), with Nashik's bay, technician, check-in or appointment, or a parts request
with Nashik's warehouses.

On every save by a user (REST, `set_value`, Data Import, the desk; not the system's own saves) of
an app DocType, each Link — on the document and on its rows — to a dealer-scoped DocType (one with
a Link to Company named `company`) that the save sets or changes must name a record of the
document's own Company (unless that is read-only: the DocType derives it from these links) and
of one the user's User Permissions allow (a field fetched from the link may have set the document's
Company). A record with no Company (a vehicle without a home dealer) stays linkable.
"""

import frappe
from frappe import _

from aftersales_dms.controllers.guards import is_app_doctype, users_save


def dealer_scoped(doctype: str) -> bool:
	"""A DocType whose records belong to one dealer: it has a Link to Company named `company`."""
	meta = frappe.get_meta(doctype)
	field = meta.get_field("company")
	return bool(field and field.fieldtype == "Link" and field.options == "Company" and not meta.issingle)


def scoped_link_fields(meta) -> list:
	"""The Links of a DocType to dealer-scoped DocTypes: worked out once per meta object (a save
	asks for the document's and each row's, on every save of the request)."""
	known = getattr(frappe.local, "dms_scoped_link_fields", None)
	if known is None:
		known = frappe.local.dms_scoped_link_fields = {}
	cached = known.get(meta.name)
	if cached is not None and cached[0] is meta:
		return cached[1]
	fields = [df for df in meta.get_link_fields() if df.options != "Company" and dealer_scoped(df.options)]
	known[meta.name] = (meta, fields)
	return fields


def validate_dealer_links(doc, method=None):
	"""doc_events "*" before_validate (after keep_read_only_fields): see the module's docstring."""
	if not users_save(doc) or not is_app_doctype(doc.doctype):
		return
	field = doc.meta.get_field("company")
	# a read-only Company is derived by the DocType's validate from these very links (a parts
	# request's from its job card): only the user's own dealers decide then
	company = doc.get("company") if field and not field.read_only else None
	restricted = user_companies()
	if not company and not restricted:
		return  # a user of no dealer and a document of none: nothing to compare with
	before = None if doc.is_new() else doc.get_doc_before_save()
	stored_rows = {}
	if before:
		stored_rows = {row.name: row for row in before.get_all_children()}
	for d in [doc, *doc.get_all_children()]:
		stored = before if d is doc else stored_rows.get(d.name)
		for df in scoped_link_fields(d.meta):
			value = d.get(df.fieldname)
			if not value or (stored is not None and stored.get(df.fieldname) == value):
				continue  # empty or unchanged by this save
			owner = frappe.db.get_value(df.options, value, "company")
			# the document's company may itself have been fetched from this link (a technician's
			# from their employee): the user's own dealers decide too
			if owner and ((company and owner != company) or (restricted and owner not in restricted)):
				label = _(df.label or df.fieldname)
				if d.get("parentfield"):
					label = _("Row #{0}: {1}").format(d.idx, label)
				frappe.throw(
					_("{0}: {1} {2} is not a record of this dealer.").format(
						label, _(df.options), frappe.bold(value)
					),
					frappe.PermissionError,
					title=_("Another dealer's record"),
				)


def user_companies() -> set:
	"""The Companies the user's User Permissions allow (empty: not restricted)."""
	from frappe.permissions import get_user_permissions

	return {row["doc"] for row in get_user_permissions(frappe.session.user).get("Company", [])}
