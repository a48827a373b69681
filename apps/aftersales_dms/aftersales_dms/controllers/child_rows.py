"""Child-table rows and attachments are their parent document's (issue #20).

Frappe lists a child DocType's rows (`frappe.client.get_list` / `get_value`,
`frappe.desk.reportview.get` / `get_count` with `parent=` or `parent_doctype=`) to anyone who may
read the parent DOCTYPE: it checks no parent document, so User Permissions on Company and our hooks,
which apply to parents, did not apply to their rows. A Pune user listed Nashik's invoice lines,
quotation lines, payment references, taxes, parts request rows and stock entry lines.

So for a user restricted to some Companies (controllers/report_access.py `allowed_companies`), a
`"*"` `permission_query_conditions` hook (hooks.py) narrows every child DocType's rows to those
whose parent is a document the user may list: for each parent DocType the child table sits in (read
from the metadata, custom fields included), the parent's own list conditions as Frappe builds them
for the user (User Permissions on its links, every app's `permission_query_conditions`, documents
shared with the user), as a subquery on the parent's table. Rows of a parent DocType the user may
not read at all, and rows of no known parent, are not listed.

A single child row is its parent's too, but not in Frappe: loaded on its own (REST `GET
/api/resource/<child>/<name>`, `/api/v2/document/…`, `frappe.client.get`, the form load, the print
view), a row has no parent document in memory, and Frappe's `has_child_permission` then checks only
the parent DocType. So every request naming a child row (`auth_hooks`: run once the request's user
is known, before it is dispatched) needs read on the row's stored parent document
(`check_child_row_request`); this applies to every user but Administrator.

Files: Frappe lists a private File attached to any document of a DocType the user reads, so its
name, URL and the document it is attached to were listed across dealers (its content was already
refused). For the same users, private files attached to a document are listed only with a document
the user may list (`file_query`; the user's own uploads stay listed). A public file is public in
Frappe's model (its URL is served to anyone, and Frappe lists it to every desk user, in a condition
an app's cannot narrow: Frappe joins the hooks' conditions with AND after its own unbracketed OR);
attachments are private unless the uploader makes them public.

Users without a company restriction (the OEM admin, Administrator) are unaffected by the list
conditions. Nothing here grants: the hooks add conditions to Frappe's or refuse.
"""

import frappe
from frappe import _
from frappe.model import table_fields
from frappe.model.db_query import DatabaseQuery
from frappe.utils.caching import request_cache

from aftersales_dms.controllers.report_access import allowed_companies


def restricted(user) -> bool:
	"""Whether the narrowing applies to the user: restricted to some Companies."""
	return user != "Administrator" and allowed_companies(user) is not None


@request_cache
def parent_doctypes(child_doctype) -> tuple[str, ...]:
	"""The DocTypes with a table field of `child_doctype` (DocType fields and Custom Fields)."""
	parents = set(
		frappe.get_all(
			"DocField",
			filters={"fieldtype": ("in", table_fields), "options": child_doctype, "parenttype": "DocType"},
			pluck="parent",
		)
	)
	parents.update(
		frappe.get_all(
			"Custom Field", filters={"fieldtype": ("in", table_fields), "options": child_doctype}, pluck="dt"
		)
	)
	return tuple(sorted(p for p in parents if not frappe.is_table(p)))


def listable_condition(doctype, user) -> str | None:
	"""A condition on `tab{doctype}` selecting the documents `user` may list: "" for all of them,
	None for none (no read or select right and nothing shared)."""
	meta = frappe.get_meta(doctype)
	role_permissions = frappe.permissions.get_role_permissions(meta, user=user)
	if not (role_permissions.get("read") or role_permissions.get("select")):
		if meta.issingle or meta.is_virtual:
			return None
		shared = frappe.share.get_shared(doctype, user)
		if not shared:
			return None
		names = ", ".join(frappe.db.escape(name, percent=False) for name in shared)
		return f"`tab{doctype}`.`name` in ({names})"
	if meta.issingle or meta.is_virtual:
		return ""
	# Frappe's own list conditions for the user (User Permissions, permission_query_conditions
	# hooks of every app, shared documents): what frappe.get_list of the parent would apply
	return DatabaseQuery(doctype, user=user).build_match_conditions() or ""


def in_listable(doctype, column, user) -> str | None:
	"""`column in (the names of the documents of doctype the user may list)`, "" when they may list
	every one, None when none."""
	condition = listable_condition(doctype, user)
	if not condition:
		return condition
	return f"{column} in (select `tab{doctype}`.`name` from `tab{doctype}` where {condition})"


def child_rows_query(user=None, doctype=None):
	"""hooks.permission_query_conditions "*": a child DocType's rows only of parents the user may
	list ("" for other DocTypes and for users without a company restriction)."""
	user = user or frappe.session.user
	if not doctype or not frappe.is_table(doctype) or not restricted(user):
		return ""
	table = f"`tab{doctype}`"
	clauses, narrowed = [], False
	for parent in parent_doctypes(doctype):
		condition = in_listable(parent, f"{table}.`parent`", user)
		if condition is None:
			narrowed = True
			continue
		parenttype = f"{table}.`parenttype` = {frappe.db.escape(parent, percent=False)}"
		if condition:
			narrowed = True
			clauses.append(f"({parenttype} and {condition})")
		else:
			clauses.append(f"({parenttype})")
	if not narrowed:
		return ""
	return f"({' or '.join(clauses)})" if clauses else "1=0"


def attached_doctypes() -> tuple[str, ...]:
	"""The DocTypes files are attached to (index on attached_to_doctype, attached_to_name)."""
	return tuple(
		frappe.db.sql_list(
			"select distinct `attached_to_doctype` from `tabFile` where ifnull(`attached_to_doctype`, '') != ''"
		)
	)


def file_query(user=None, doctype=None):
	"""hooks.permission_query_conditions "File": a restricted user's own files, files attached to
	nothing, and files attached to documents they may list (Frappe's own condition lets public
	files through before this one applies)."""
	user = user or frappe.session.user
	if not restricted(user):
		return ""
	clauses, narrowed = [], []
	for attached_to in attached_doctypes():
		if not frappe.db.exists("DocType", attached_to):
			continue
		condition = in_listable(attached_to, "`tabFile`.`attached_to_name`", user)
		if condition == "":
			continue
		narrowed.append(frappe.db.escape(attached_to, percent=False))
		if condition:
			clauses.append(
				f"(`tabFile`.`attached_to_doctype` = {frappe.db.escape(attached_to, percent=False)}"
				f" and {condition})"
			)
	if not narrowed:
		return ""
	clauses[:0] = [
		f"`tabFile`.`owner` = {frappe.db.escape(user, percent=False)}",
		f"ifnull(`tabFile`.`attached_to_doctype`, '') not in ({', '.join(narrowed)})",
	]
	return f"({' or '.join(clauses)})"


def named_child_rows(request, form) -> list[tuple[str, str]]:
	"""The (child DocType, row name) pairs a request may name: the REST document routes' path (the
	rest of the path, or its first part before a sub-route such as `/copy`), and the form's
	`doctype` with `name` or `docname`."""
	candidates = []
	parts = (request.path if request else "").strip("/").split("/")
	if parts[:1] == ["api"]:
		route = parts[2:] if parts[1:2] in (["v1"], ["v2"]) else parts[1:]
		if len(route) >= 3 and route[0] in ("resource", "document"):
			candidates += [(route[1], "/".join(route[2:])), (route[1], route[2])]
	doctype = form.get("doctype")
	for key in ("name", "docname"):
		if isinstance(doctype, str) and isinstance(form.get(key), str):
			candidates.append((doctype, form.get(key)))
	return [(dt, name) for dt, name in dict.fromkeys(candidates) if dt and name and frappe.is_table(dt)]


def check_child_row_request():
	"""hooks.auth_hooks: a request naming a child-table row (to read, print, change or delete it)
	needs read on the row's stored parent document. Frappe checks only the parent DocType for a row
	loaded on its own (its `parent_doc` is unset), so any user who reads Sales Invoices read every
	dealer's invoice lines by name. Administrator is exempt; nothing is granted."""
	user = frappe.session.user
	if user == "Administrator":
		return
	for doctype, name in named_child_rows(
		getattr(frappe.local, "request", None), frappe.local.form_dict or {}
	):
		check_child_row(doctype, name, user=user)


def check_child_row(doctype, name, user=None):
	"""Refuse `user` a child row whose stored parent document they may not read (nothing to do
	for a row that does not exist: Frappe answers that)."""
	user = user or frappe.session.user
	row = frappe.db.get_value(doctype, name, ["parent", "parenttype"], as_dict=True)
	if not row or not row.parenttype or not row.parent:
		return
	if not frappe.db.exists("DocType", row.parenttype) or frappe.is_table(row.parenttype):
		return
	if not frappe.db.exists(row.parenttype, row.parent) or not frappe.has_permission(
		row.parenttype, "read", doc=row.parent, user=user
	):
		frappe.throw(_("You may not access {0} {1}.").format(_(doctype), name), frappe.PermissionError)


def refuse_rows_of_other_documents(doc, method=None):
	"""doc_events "*" before_validate: a user's save keeps its rows its own.

	Frappe saves a row that comes with the name of a stored row by updating that row, wherever it
	is stored: a REST PUT of a job card whose `parts` named another job card's row (another
	dealer's, or an invoiced one's) moved that row into this job card, and its own job card lost
	it with no save, no check of its dealer and no freeze (attack of 2026-12-07; row names are on
	the approval page). A row with a name that is not new must be one of the stored document's
	rows, in the same table; anything else (another document's row, a name that names no row,
	which Frappe dropped without a word) is refused. System saves are not narrowed."""
	from aftersales_dms.controllers.guards import users_save

	for df in doc.meta.get_table_fields():
		for row in doc.get(df.fieldname) or []:
			# the table a row is saved under is the one it sits in: Frappe puts back a row's parent
			# and parenttype on save but keeps the parentfield a client set (set_value
			# {"parentfield": …} on a part line hid it from its invoiced job card, attack of
			# 2026-12-07)
			row.parentfield = df.fieldname
	if not users_save(doc) or doc.is_new():
		return
	stored = doc.get_doc_before_save()
	if stored is None:
		return
	own = {(d.doctype, d.name, d.parentfield) for d in stored.get_all_children()}
	for df in doc.meta.get_table_fields():
		for row in doc.get(df.fieldname) or []:
			if not row.name or row.is_new() or (row.doctype, row.name, df.fieldname) in own:
				continue
			frappe.throw(
				_(
					"{0} row {1}: {2} is not a row of this {3}; send a new row (without a name) instead."
				).format(
					_(df.label or df.fieldname), row.idx, frappe.bold(str(row.name)[:40]), _(doc.doctype)
				),
				frappe.PermissionError,
				title=_("Not this document's row"),
			)
