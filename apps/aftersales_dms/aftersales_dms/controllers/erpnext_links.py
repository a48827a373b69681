"""The app's read-only custom fields on ERPNext documents (a Sales Invoice's job card, vehicle,
odometer and bill-to; a Quotation's job card; each line's job card row, a parts Stock Entry's
request and job card and each of its rows' job card line) are written by the app
when it makes the document, and by nobody afterwards.

On the app's own DocTypes that is declared with permlevels. On ERPNext's it is not: a permlevel
there would need read rights at that level for every ERPNext role that reads the document,
changing ERPNext's permission model for everyone. So this one rule is the same everywhere: on a
document that exists, a read-only `dms_` custom field keeps its stored value on every save by a
user (REST, frappe.client.*, Data Import); Administrator and the app's own saves
(flags.ignore_permissions) are exempt, as with permlevels.
"""

import frappe


def _kept_fields(meta) -> list[str]:
	return [
		df.fieldname
		for df in meta.fields
		if df.get("is_custom_field") and df.fieldname.startswith("dms_") and df.read_only
	]


def keep_app_fields(doc, method=None):
	"""doc_events before_validate of the ERPNext DocTypes the app links from."""
	if doc.is_new() or doc.flags.ignore_permissions or frappe.session.user == "Administrator":
		return
	stored = doc.get_doc_before_save()
	if not stored:
		return
	for field in _kept_fields(doc.meta):
		doc.set(field, stored.get(field))
	for table in doc.meta.get_table_fields():
		fields = _kept_fields(frappe.get_meta(table.options))
		if not fields:
			continue
		old = {row.name: row for row in stored.get(table.fieldname)}
		for row in doc.get(table.fieldname):
			before = old.get(row.name)
			for field in fields:
				row.set(field, before.get(field) if before else None)
