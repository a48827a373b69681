"""The labour lines assigned to a technician that are still to do: the technician's day.

A technician sees their own lines whatever the filter says; a workshop manager picks a
technician (or sees every assigned line of the job cards they may read). Rows are read with
the user's permissions (`frappe.get_list`), so a dealer's user sees only that dealer's job cards.
"""

import frappe
from frappe import _
from frappe.utils import cint, flt, today

from aftersales_dms.roles import MANAGERS, has_any_role
from aftersales_dms.workshop.status import FINAL

OPEN_WORK = ("Not Started", "In Progress", "Paused")
CLOSED_JOBS = FINAL


def technician_of(user: str) -> str | None:
	return frappe.db.get_value("Service Technician", {"user": user}, "name")


def execute(filters=None):
	filters = frappe._dict(filters or {})
	technician = filters.get("technician")
	if not has_any_role(MANAGERS):
		technician = technician_of(frappe.session.user)
		if not technician:
			frappe.throw(_("Your user is not linked to a Service Technician."))
	conditions = [
		["Service Job Card", "status", "not in", CLOSED_JOBS],
		["Service Job Card Labour", "technician", "is", "set"],
	]
	if technician:
		conditions.append(["Service Job Card Labour", "technician", "=", technician])
	if cint(filters.get("include_done")):
		conditions.append(
			["Service Job Card Labour", "work_status", "in", (*OPEN_WORK, "Done")],
		)
	else:
		conditions.append(["Service Job Card Labour", "work_status", "in", OPEN_WORK])
	rows = frappe.get_list(
		"Service Job Card",
		filters=conditions,
		fields=[
			"name as job_card",
			"status",
			"company",
			"registration_plate",
			"`tabService Job Card Labour`.technician",
			"`tabService Job Card Labour`.item_code",
			"`tabService Job Card Labour`.item_name",
			"`tabService Job Card Labour`.standard_hours",
			"`tabService Job Card Labour`.clocked_hours",
			"`tabService Job Card Labour`.work_status",
			"`tabService Job Card Labour`.finished_on",
		],
		order_by="`tabService Job Card`.creation asc",
		limit_page_length=500,
	)
	if cint(filters.get("include_done")):
		rows = [r for r in rows if r.work_status != "Done" or str(r.finished_on or "")[:10] == today()]
	data = [
		{
			"job_card": r.job_card,
			"status": r.status,
			"registration_plate": r.registration_plate,
			"technician": r.technician,
			"item_code": r.item_code,
			"item_name": r.item_name,
			"standard_hours": flt(r.standard_hours, 2),
			"clocked_hours": flt(r.clocked_hours, 2),
			"work_status": r.work_status,
		}
		for r in rows
	]
	columns = [
		{
			"fieldname": "job_card",
			"label": _("Job Card"),
			"fieldtype": "Link",
			"options": "Service Job Card",
			"width": 140,
		},
		{"fieldname": "status", "label": _("Job Status"), "fieldtype": "Data", "width": 130},
		{"fieldname": "registration_plate", "label": _("Plate"), "fieldtype": "Data", "width": 110},
		{
			"fieldname": "technician",
			"label": _("Technician"),
			"fieldtype": "Link",
			"options": "Service Technician",
			"width": 120,
		},
		{
			"fieldname": "item_code",
			"label": _("Operation"),
			"fieldtype": "Link",
			"options": "Item",
			"width": 140,
		},
		{"fieldname": "item_name", "label": _("Description"), "fieldtype": "Data", "width": 200},
		{"fieldname": "standard_hours", "label": _("Sold Hours"), "fieldtype": "Float", "width": 100},
		{"fieldname": "clocked_hours", "label": _("Clocked Hours"), "fieldtype": "Float", "width": 110},
		{"fieldname": "work_status", "label": _("Work"), "fieldtype": "Data", "width": 100},
	]
	return columns, data
