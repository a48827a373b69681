"""Roles, custom fields and master records the app needs on every site.

Everything here is idempotent: after_install and after_migrate both call it.
"""

import json
import os

import frappe
from frappe.custom.doctype.custom_field.custom_field import create_custom_fields

from aftersales_dms.roles import ERPNEXT_PERMISSIONS, ERPNEXT_REPORTS, FRAPPE_PAGES, ROLES

ITEM_GROUPS = ("DMS Labour", "DMS Parts")


def get_custom_fields():
	return {
		# the system's task a ToDo is for (workshop/tasks.py); no role writes level 1, so a ToDo a
		# person makes never carries it and is never closed by the system
		"ToDo": [
			{
				"fieldname": "dms_task",
				"fieldtype": "Data",
				"label": "Aftersales Task",
				"insert_after": "assignment_rule",
				"read_only": 1,
				"hidden": 1,
				"no_copy": 1,
				"permlevel": 1,
			},
		],
		"Stock Entry": [
			{
				"fieldname": "dms_parts_request",
				"fieldtype": "Link",
				"label": "Parts Request",
				"options": "Parts Request",
				"insert_after": "stock_entry_type",
				"read_only": 1,
				"search_index": 1,
			},
			{
				"fieldname": "dms_service_job_card",
				"fieldtype": "Link",
				"label": "Service Job Card",
				"options": "Service Job Card",
				"insert_after": "dms_parts_request",
				"read_only": 1,
				"search_index": 1,
			},
		],
		# the job card part line a parts Stock Entry row moves parts for (parts/parts_request.py)
		"Stock Entry Detail": [
			{
				"fieldname": "dms_job_card_row",
				"fieldtype": "Data",
				"label": "Job Card Row",
				"insert_after": "item_code",
				"read_only": 1,
				"hidden": 1,
				"no_copy": 1,
				"search_index": 1,
			},
		],
		"Quotation": [
			{
				"fieldname": "dms_service_job_card",
				"fieldtype": "Link",
				"label": "Service Job Card",
				"options": "Service Job Card",
				"insert_after": "order_type",
				"read_only": 1,
				"search_index": 1,
			},
		],
		"Quotation Item": [
			{
				"fieldname": "dms_job_card_row",
				"fieldtype": "Data",
				"label": "Job Card Row",
				"insert_after": "item_code",
				"read_only": 1,
				"hidden": 1,
			},
		],
		"Sales Invoice": [
			{
				"fieldname": "dms_section",
				"fieldtype": "Section Break",
				"label": "Service",
				"insert_after": "customer_name",
				"collapsible": 1,
			},
			{
				"fieldname": "dms_service_job_card",
				"fieldtype": "Link",
				"label": "Service Job Card",
				"options": "Service Job Card",
				"insert_after": "dms_section",
				"read_only": 1,
				"search_index": 1,
			},
			{
				"fieldname": "dms_vehicle",
				"fieldtype": "Link",
				"label": "Vehicle",
				"options": "Customer Vehicle",
				"insert_after": "dms_service_job_card",
				"read_only": 1,
			},
			{
				"fieldname": "dms_column_break",
				"fieldtype": "Column Break",
				"insert_after": "dms_vehicle",
			},
			{
				"fieldname": "dms_odometer",
				"fieldtype": "Int",
				"label": "Odometer",
				"insert_after": "dms_column_break",
				"read_only": 1,
			},
			{
				"fieldname": "dms_bill_to",
				"fieldtype": "Select",
				"label": "Service Billing",
				"options": "\nCustomer\nWarranty\nInternal\nRe-bill",
				"insert_after": "dms_odometer",
				"read_only": 1,
				"description": "Which part of the job card this invoice bills",
			},
			{
				"fieldname": "dms_labour_amount",
				"fieldtype": "Currency",
				"label": "Labour (net)",
				"options": "Company:company:default_currency",
				"insert_after": "dms_bill_to",
				"read_only": 1,
				"no_copy": 1,
				"description": "Net amount of the labour lines, kept for the revenue report",
			},
			{
				"fieldname": "dms_parts_amount",
				"fieldtype": "Currency",
				"label": "Parts (net)",
				"options": "Company:company:default_currency",
				"insert_after": "dms_labour_amount",
				"read_only": 1,
				"no_copy": 1,
				"description": "Net amount of the parts lines, kept for the revenue report",
			},
		],
		"Sales Invoice Item": [
			{
				"fieldname": "dms_job_card_row",
				"fieldtype": "Data",
				"label": "Job Card Row",
				"insert_after": "item_code",
				"read_only": 1,
				"hidden": 1,
			},
		],
		"Material Request": [
			{
				"fieldname": "dms_service_job_card",
				"fieldtype": "Link",
				"label": "Service Job Card",
				"options": "Service Job Card",
				"insert_after": "material_request_type",
				"read_only": 1,
				"search_index": 1,
			},
		],
		"Item": [
			{
				"fieldname": "dms_section",
				"fieldtype": "Section Break",
				"label": "Aftersales",
				"insert_after": "description",
				"collapsible": 1,
			},
			{
				"fieldname": "dms_item_kind",
				"fieldtype": "Select",
				"label": "Aftersales Kind",
				"options": "\nLabour\nPart",
				"insert_after": "dms_section",
				"in_standard_filter": 1,
				"description": "Labour items are service items priced per hour; parts are stock items",
			},
			{
				"fieldname": "dms_op_code",
				"fieldtype": "Data",
				"label": "Labour Op Code",
				"insert_after": "dms_item_kind",
				"depends_on": "eval:doc.dms_item_kind=='Labour'",
			},
			{
				"fieldname": "dms_column_break",
				"fieldtype": "Column Break",
				"insert_after": "dms_op_code",
			},
			{
				"fieldname": "dms_standard_hours",
				"fieldtype": "Float",
				"label": "Standard Hours",
				"insert_after": "dms_column_break",
				"non_negative": 1,
				"depends_on": "eval:doc.dms_item_kind=='Labour'",
				"description": "Sold hours for this operation",
			},
			{
				"fieldname": "dms_required_skill",
				"fieldtype": "Link",
				"label": "Required Skill",
				"options": "Service Skill",
				"insert_after": "dms_standard_hours",
				"depends_on": "eval:doc.dms_item_kind=='Labour'",
			},
		],
	}


def make_roles():
	for role, description in ROLES.items():
		if not frappe.db.exists("Role", role):
			frappe.get_doc(
				{"doctype": "Role", "role_name": role, "desk_access": 1, "description": description}
			).insert(ignore_permissions=True)


def make_role_permissions():
	from frappe.permissions import add_permission, update_permission_property

	for doctype, roles in ERPNEXT_PERMISSIONS.items():
		for role, rights in roles.items():
			if frappe.db.exists("Custom DocPerm", {"parent": doctype, "role": role, "permlevel": 0}):
				continue  # set once; later changes in Role Permission Manager are the admin's
			add_permission(doctype, role, 0, ptype=rights[0])
			for right in rights:
				update_permission_property(doctype, role, 0, right, 1, validate=False)
			if "read" not in rights:  # a DocPerm reads by default; select only is select only
				update_permission_property(doctype, role, 0, "read", 0, validate=False)


def grant_declared_rights(doctype: str, role: str):
	"""Add the rights roles.py now declares for `role` on `doctype` to its existing rule (for an
	upgrade patch: make_role_permissions sets a rule only once). Rights are added, never removed."""
	from frappe.permissions import add_permission, update_permission_property

	rights = ERPNEXT_PERMISSIONS.get(doctype, {}).get(role, ())
	if not rights:
		return
	if not frappe.db.exists("Custom DocPerm", {"parent": doctype, "role": role, "permlevel": 0}):
		add_permission(doctype, role, 0)
	for right in rights:
		update_permission_property(doctype, role, 0, right, 1, validate=False)


def make_report_roles():
	"""Our roles on ERPNext's standard reports (roles.ERPNEXT_REPORTS), through Frappe's Custom Role
	(the desk's "Role Permission for Page and Report"): its roles replace the report's own, so
	ERPNext's are copied in beside ours. Created once, when missing; later changes are the admin's,
	as with role permissions. Frappe's desk pages (roles.FRAPPE_PAGES) the same way."""
	for doctype, field, declared in (("Report", "report", ERPNEXT_REPORTS), ("Page", "page", FRAPPE_PAGES)):
		for name, roles in declared.items():
			if not frappe.db.exists(doctype, name) or frappe.db.exists("Custom Role", {field: name}):
				continue
			standard = frappe.get_all(
				"Has Role", filters={"parenttype": doctype, "parent": name}, pluck="role", order_by="idx"
			)
			doc = frappe.new_doc("Custom Role")
			doc.set(field, name)
			for role in (*standard, *(r for r in roles if r not in standard)):
				doc.append("roles", {"role": role})
			doc.insert(ignore_permissions=True)


def make_item_groups():
	if not frappe.db.exists("Item Group", "All Item Groups"):
		return  # ERPNext's setup wizard has not run yet; the demo loader calls us again
	for group in ITEM_GROUPS:
		if not frappe.db.exists("Item Group", group):
			frappe.get_doc(
				{"doctype": "Item Group", "item_group_name": group, "parent_item_group": "All Item Groups"}
			).insert(ignore_permissions=True)


def make_standard_inspection_data():
	"""OEM standard templates (vehicle categories, inspection checklists, service packages),
	versioned: see oem_templates.py."""
	from aftersales_dms.oem_templates import sync_all

	sync_all()


def make_notifications():
	"""Shipped Notification records: created when missing, never overwritten (editable in the desk)."""
	path = os.path.join(os.path.dirname(__file__), "booking", "data", "notifications.json")
	with open(path) as f:
		rows = json.load(f)["notifications"]
	for row in rows:
		if not frappe.db.exists("Notification", row["name"]):
			doc = frappe.get_doc(row)
			doc.insert(ignore_permissions=True, set_name=row["name"])


def make_discount_limits():
	from aftersales_dms.billing.discount import make_default_limits

	make_default_limits()


def make_workflow():
	from aftersales_dms.workshop.status import make_workflow

	make_workflow()


def add_indexes():
	"""Indexes the service reports read by (idempotent; ERPNext's tables and multi-column ones)."""
	frappe.db.add_index("Sales Invoice", ["company", "posting_date"])
	# revenue report: an index-only range scan per dealer
	frappe.db.add_index(
		"Sales Invoice",
		[
			"company",
			"posting_date",
			"docstatus",
			"dms_service_job_card",
			"dms_bill_to",
			"base_net_total",
			"dms_labour_amount",
			"dms_parts_amount",
		],
		"dms_service_revenue",
	)
	frappe.db.add_index("Sales Invoice", ["dms_service_job_card"])
	# the workshop board: open job cards per status, oldest first
	frappe.db.add_index("Service Job Card", ["status", "creation", "company"])
	# efficiency report, clocked hours: an index-only range scan per technician
	frappe.db.add_index(
		"Service Job Card Time Log",
		["technician", "from_time", "to_time", "hours"],
		"technician_from_time_hours",
	)
	# efficiency report, finished lines: an index-only range scan per technician
	frappe.db.add_index(
		"Service Job Card Labour",
		["technician", "finished_on", "work_status", "standard_hours", "started_on", "parent"],
		"technician_finished_on_report",
	)


def make_desks():
	"""Each role's Module Profile, and the landing of the users holding our roles (roles.ROLE_DESK)."""
	from aftersales_dms.controllers.desk import apply_to_users, make_module_profiles

	make_module_profiles()
	apply_to_users()


def after_install():
	"""Everything here is idempotent and creates only what is missing, so migrate runs it too."""
	make_roles()
	create_custom_fields(get_custom_fields(), ignore_validate=True)
	make_item_groups()
	make_standard_inspection_data()
	make_notifications()
	make_workflow()
	make_discount_limits()
	make_role_permissions()
	make_report_roles()
	add_indexes()
	make_desks()


after_migrate = after_install


def before_uninstall():
	for doctype, fields in get_custom_fields().items():
		for df in fields:
			name = frappe.db.get_value("Custom Field", {"dt": doctype, "fieldname": df["fieldname"]})
			if name:
				frappe.delete_doc("Custom Field", name, ignore_permissions=True)
