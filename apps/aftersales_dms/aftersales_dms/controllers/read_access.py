"""Read surfaces Frappe does not narrow by dealer: stock levels and global search.

**Stock levels.**
ERPNext's Bin (the quantity of an item in a warehouse) carries no company: the User Permission on
Company that keeps each dealer's staff to their own documents does not apply to it, so both
dealers' parts managers could read each other's stock. A Bin is its warehouse's, and a warehouse
is its company's: for a user restricted to some Companies (controllers/report_access.py
`allowed_companies`), lists and counts (hooks.permission_query_conditions) and single documents
(hooks.has_permission) are narrowed to the warehouses of those Companies. Users without a company
restriction (the OEM admin, Administrator) are unaffected; these hooks never grant anything.

Of the other ERPNext DocTypes our roles read (roles.ERPNEXT_PERMISSIONS), the dealer's ones carry
a company (Warehouse, Stock Entry, Stock Ledger Entry, GL Entry, Account, Employee …); the rest
are the network's masters, shared by design (Item, Customer, Supplier, UOM, Item Group, Item
Price).

**Global search.** Frappe's `frappe.utils.global_search.search` returns every indexed document of
the doctypes a user's roles may read, with its indexed text (Sales Invoice, Payment Entry, Stock
Entry, Warehouse … of every dealer), checking no User Permission. Its override
(hooks.override_whitelisted_methods) keeps only the results the user may read.

**Link check.** Frappe's `frappe.client.validate_link` (the desk calls it as a link field is
typed) checks the DocType only and answers with the record's name when it exists: another dealer's
invoice, warehouse or job card names could be told apart from made-up ones. Its override answers
for a record the user may neither select nor read as for one that does not exist.
"""

import frappe

from aftersales_dms.controllers.report_access import allowed_companies

# doctype -> its Link field to Warehouse: the dealer data without a company of its own
WAREHOUSE_SCOPED = {"Bin": "warehouse"}


def warehouse_company(warehouse) -> str | None:
	return frappe.get_cached_value("Warehouse", warehouse, "company") if warehouse else None


def stock_permission(doc, ptype=None, user=None, debug=False):
	"""hooks.has_permission for WAREHOUSE_SCOPED: False for another dealer's warehouse, else None
	(Frappe's own check decides)."""
	user = user or frappe.session.user
	field = WAREHOUSE_SCOPED.get(doc.get("doctype"))
	if not field or user == "Administrator":
		return None
	allowed = allowed_companies(user)
	if allowed is None:
		return None
	return None if warehouse_company(doc.get(field)) in allowed else False


def stock_query(user=None, doctype=None):
	"""hooks.permission_query_conditions for WAREHOUSE_SCOPED: the user's companies' warehouses."""
	user = user or frappe.session.user
	if user == "Administrator":
		return ""
	allowed = allowed_companies(user)
	if allowed is None:
		return ""
	field = WAREHOUSE_SCOPED[doctype]
	companies = ", ".join(frappe.db.escape(c) for c in sorted(allowed))
	return (
		f"`tab{doctype}`.`{field}` in (select `tabWarehouse`.`name` from `tabWarehouse`"
		f" where `tabWarehouse`.`company` in ({companies}))"
	)


@frappe.whitelist()
def global_search(text, start=0, limit=20, doctype=""):
	"""Frappe's global search (hooks.override_whitelisted_methods), keeping only the documents
	the user may read (User Permissions included): Frappe checks the doctype only."""
	from frappe.utils.global_search import search

	results = search(text, start=start, limit=limit, doctype=doctype)
	if frappe.session.user == "Administrator":
		return results
	return [r for r in results if frappe.has_permission(r.doctype, "read", doc=r.name)]


@frappe.whitelist()
def validate_link(doctype: str, docname: str, fields=None):
	"""Frappe's link check (hooks.override_whitelisted_methods): a record the user may not select
	or read (another dealer's) is answered as one that does not exist."""
	from frappe.client import validate_link as frappe_validate_link

	values = frappe_validate_link(doctype, docname, fields)
	name = values.get("name") if isinstance(values, dict) else None
	if (
		name
		and doctype != "DocType"
		and frappe.session.user != "Administrator"
		and not frappe.get_meta(doctype).istable
		and not (
			frappe.has_permission(doctype, "select", doc=name)
			or frappe.has_permission(doctype, "read", doc=name)
		)
	):
		return frappe._dict(name=None)  # what Frappe answers for a name that does not exist
	return values
