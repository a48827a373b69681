"""The OEM admin's Customize Form (#20): fields on the app's DocTypes, nothing that runs code.

Frappe keeps Customize Form, Custom Field and Property Setter to System Managers. roles.py gives the
OEM admin those DocTypes; this module narrows them back, for any user without System Manager, to
what the product promises: on DocTypes of the app's modules only, add fields and change their
label, description, options, mandatory, hidden, list / filter / print flags and order. Refused:

- any other DocType (ERPNext's, Frappe's: Sales Invoice, User …);
- code that runs in other users' browsers: an `eval:` condition (depends_on, mandatory_depends_on,
  read_only_depends_on, collapsible_depends_on …) or value, an HTML field's markup with scripts
  or event handlers, the form's server actions, links and states;
- loosening the permission model: permlevel, ignore_user_permissions, ignore_xss_filter, a
  read-only field made editable, allow_on_submit, virtual fields, a Link's target, fetching a
  value from a DocType the user may not read, and the DocType settings beyond list and form
  layout (naming, import, attachments made public, change tracking, email settings …).
"""

import json

import frappe
from frappe import _
from frappe.custom.doctype.customize_form.customize_form import CustomizeForm, docfield_properties

from aftersales_dms.controllers.template_safety import check_markup, may_save_anything

# DocType settings the OEM admin may change: how lists and forms look
DOCTYPE_PROPERTIES = {
	"search_fields",
	"title_field",
	"image_field",
	"sort_field",
	"sort_order",
	"default_print_format",
	"allow_copy",
	"quick_entry",
	"editable_grid",
	"show_preview_popup",
	"show_title_field_in_link",
	"default_view",
	"grid_page_length",
	"rows_threshold_for_grid_search",
	"field_order",
}
# field properties the OEM admin may set (values checked in check_field_property)
FIELD_PROPERTIES = {
	"idx",
	"insert_after",
	"label",
	"fieldtype",
	"options",
	"sort_options",
	"fetch_from",
	"fetch_if_empty",
	"show_dashboard",
	"width",
	"print_width",
	"non_negative",
	"reqd",
	"unique",
	"in_list_view",
	"in_standard_filter",
	"in_global_search",
	"in_preview",
	"bold",
	"no_copy",
	"hidden",
	"collapsible",
	"collapsible_depends_on",
	"print_hide",
	"print_hide_if_no_value",
	"report_hide",
	"translatable",
	"mandatory_depends_on",
	"read_only_depends_on",
	"depends_on",
	"description",
	"default",
	"precision",
	"read_only",
	"length",
	"columns",
	"remember_last_selected_value",
	"allow_bulk_edit",
	"allow_in_quick_entry",
	"hide_border",
	"hide_days",
	"hide_seconds",
	"placeholder",
}
# properties whose change on an existing field loosens the model (allowed only tightening)
LOOSENING = {
	"permlevel": None,  # no change at all
	"ignore_user_permissions": 0,  # the value an OEM admin may set
	"ignore_xss_filter": 0,
	"allow_on_submit": 0,
	"is_virtual": 0,
}


def refuse(message):
	frappe.throw(message, frappe.PermissionError, title=_("Not allowed"))


def is_app_doctype(doctype: str | None) -> bool:
	if not doctype or not frappe.db.exists("DocType", doctype):
		return False
	module = frappe.db.get_value("DocType", doctype, "module")
	return frappe.db.get_value("Module Def", module, "app_name") == "aftersales_dms"


def check_app_doctype(doctype: str | None):
	if not is_app_doctype(doctype):
		refuse(
			_(
				"{0} is customized by a System Manager; an OEM admin customizes the DMS's own DocTypes."
			).format(_(doctype or ""))
		)


def check_field_property(doctype: str, fieldname: str, prop: str, value, before, fields=None):
	"""One property of one field: allowed, and its value runs no code and loosens nothing.
	`before` is the field's current value (None for a new field); `fields` the form's fields
	(to find a fetch's Link)."""
	label = f"{_(doctype)}, {fieldname}, {prop}"
	if prop in LOOSENING:
		allowed = LOOSENING[prop]
		if allowed is None:
			if before is not None and (value or 0) != (before or 0):
				refuse(_("{0}: permission levels are set by a System Manager.").format(label))
			return
		if value and value != allowed:
			refuse(_("{0}: this loosens the permission model; only a System Manager sets it.").format(label))
		return
	if prop not in FIELD_PROPERTIES:
		refuse(_("{0}: only a System Manager changes this property.").format(label))
	if isinstance(value, str) and value.strip().lower().startswith("eval:"):
		refuse(_("{0}: an eval: condition runs code in every user's browser.").format(label))
	if prop == "read_only" and before and not value:
		refuse(
			_("{0}: a read-only field is the system's; only a System Manager makes it editable.").format(
				label
			)
		)
	if prop == "fetch_from" and value:
		check_fetch(doctype, value, fields, label)
	if prop == "options" and before is not None and value != before:
		fieldtype = frappe.get_meta(doctype).get_field(fieldname)
		if fieldtype and fieldtype.fieldtype in ("Link", "Dynamic Link", "Table", "Table MultiSelect"):
			refuse(_("{0}: what a field links to is set by a System Manager.").format(label))


def check_field_markup(df, label):
	if df.get("fieldtype") == "HTML" and df.get("options"):
		check_markup(df.options, label)


def check_fetch(doctype, fetch_from, fields, label):
	"""A fetched value is read with the server's rights: only from a DocType the user reads."""
	from frappe.permissions import get_role_permissions

	link_field = fetch_from.split(".", 1)[0]
	link = next((f for f in (fields or []) if f.get("fieldname") == link_field), None) or frappe.get_meta(
		doctype
	).get_field(link_field)
	target = link.get("options") if link and link.get("fieldtype") == "Link" else None
	if not target or not get_role_permissions(frappe.get_meta(target)).get("read"):
		refuse(_("{0}: you may not read {1}, so you may not fetch from it.").format(label, _(target or "")))
	source = frappe.get_meta(target).get_field(fetch_from.split(".", 1)[-1])
	if not source or source.fieldtype == "Password" or source.permlevel:
		refuse(_("{0}: only fields everyone who reads {1} sees may be fetched.").format(label, _(target)))


def checked_properties():
	"""Every property Customize Form may change (Frappe's list), and ours."""
	return sorted({*docfield_properties, *FIELD_PROPERTIES, *LOOSENING} - {"idx", "insert_after"})


def check_new_field(doctype, df, fields=None):
	label = f"{_(doctype)}, {df.get('fieldname') or df.get('label')}"
	for prop in checked_properties():
		value = df.get(prop)
		# a new field holds nothing yet: its level and editing after submit only concern itself
		# (a workflow's state field is one: hidden, allow_on_submit)
		if value in (None, "", 0) or prop in ("fieldtype", "options", "permlevel", "allow_on_submit"):
			continue
		check_field_property(doctype, df.get("fieldname"), prop, value, None, fields)
	check_field_markup(df, label)


# ---------------------------------------------------------------- Customize Form


class DMSCustomizeForm(CustomizeForm):
	@frappe.whitelist()
	def fetch_to_customize(self):
		if self.doc_type and not may_save_anything():
			check_app_doctype(self.doc_type)
		return super().fetch_to_customize()

	@frappe.whitelist(methods=["POST"])
	def save_customization(self):
		if self.doc_type and not may_save_anything():
			check_app_doctype(self.doc_type)
			self.check_changes()
		return super().save_customization()

	# a reset removes every customization, the System Manager's and the workflow's among them
	@frappe.whitelist(methods=["POST"])
	def reset_to_defaults(self):
		if not may_save_anything():
			refuse(_("Only a System Manager resets a form's customizations."))
		return super().reset_to_defaults()

	@frappe.whitelist(methods=["POST"])
	def reset_layout(self):
		if not may_save_anything():
			refuse(_("Only a System Manager resets a form's customizations."))
		return super().reset_layout()

	@frappe.whitelist(methods=["POST"])
	def trim_table(self):
		if not may_save_anything():
			refuse(_("Only a System Manager removes columns from a table."))
		return super().trim_table()

	def check_changes(self):
		"""Everything this save would change, compared as Frappe compares it when it makes the
		property setters and custom fields."""
		from frappe.custom.doctype.customize_form.customize_form import doctype_properties

		meta = frappe.get_meta(self.doc_type, cached=False)
		for prop in doctype_properties:
			if self.get(prop) != meta.get(prop) and prop not in DOCTYPE_PROPERTIES:
				refuse(
					_("{0}: only a System Manager changes the setting {1}.").format(_(self.doc_type), prop)
				)
		for table in ("links", "actions", "states"):
			current = meta.get(table) or []
			mine = self.get(table) or []
			if len(mine) != len(current) or any(
				not frappe.db.exists(row.doctype, row.name) or row.get("custom") for row in mine
			):
				refuse(
					_("{0}: the form's links, actions and states are set by a System Manager.").format(
						_(self.doc_type)
					)
				)
		for df in self.get("fields"):
			existing = meta.get("fields", {"fieldname": df.fieldname})
			if not existing:
				check_new_field(self.doc_type, df, self.fields)
				continue
			before = existing[0]
			for prop in checked_properties():
				if (df.get(prop) or "") != (before.get(prop) or ""):
					check_field_property(
						self.doc_type, df.fieldname, prop, df.get(prop), before.get(prop), self.fields
					)
			check_field_markup(df, f"{_(self.doc_type)}, {df.fieldname}")


# ---------------------------------------------------------------- Custom Field, Property Setter


def validate_custom_field(doc, method=None):
	"""doc_events validate on Custom Field (also what Customize Form inserts)."""
	if may_save_anything():
		return
	check_app_doctype(doc.dt)
	before = doc.get_doc_before_save()
	if before and before.dt != doc.dt:
		check_app_doctype(before.dt)
	if not before:
		check_new_field(doc.dt, doc)
		return
	for prop in checked_properties():
		if (doc.get(prop) or "") != (before.get(prop) or ""):
			check_field_property(doc.dt, doc.fieldname, prop, doc.get(prop), before.get(prop))
	check_field_markup(doc, f"{_(doc.dt)}, {doc.fieldname}")


def validate_property_setter(doc, method=None):
	"""doc_events validate on Property Setter (also what Customize Form makes)."""
	if may_save_anything():
		return
	check_app_doctype(doc.doc_type)
	if doc.doctype_or_field == "DocType":
		if doc.property not in DOCTYPE_PROPERTIES:
			refuse(
				_("{0}: only a System Manager changes the setting {1}.").format(_(doc.doc_type), doc.property)
			)
		if doc.property == "field_order":
			json.loads(doc.value or "[]")
		return
	if doc.doctype_or_field != "DocField":
		refuse(
			_("{0}: the form's links, actions and states are set by a System Manager.").format(
				_(doc.doc_type)
			)
		)
	df = frappe.get_meta(doc.doc_type).get_field(doc.field_name)
	if not df:
		refuse(_("{0} has no field {1}.").format(_(doc.doc_type), doc.field_name))
	# the value before any customization of this property
	standard = (
		frappe.db.get_value("DocField", {"parent": doc.doc_type, "fieldname": doc.field_name}, doc.property)
		if frappe.db.has_column("DocField", doc.property)
		else None
	)
	value = frappe.utils.cint(doc.value) if doc.property_type in ("Check", "Int") else doc.value
	check_field_property(
		doc.doc_type,
		doc.field_name,
		doc.property,
		value,
		standard if standard is not None else df.get(doc.property),
	)
	if doc.property == "options" and df.fieldtype == "HTML":
		check_markup(doc.value or "", f"{_(doc.doc_type)}, {doc.field_name}")


def on_trash(doc, method=None):
	"""doc_events on_trash on Custom Field and Property Setter: the app's DocTypes only."""
	if may_save_anything():
		return
	check_app_doctype(doc.get("dt") or doc.get("doc_type"))
