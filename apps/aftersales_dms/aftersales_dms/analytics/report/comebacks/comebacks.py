"""Comebacks: the same vehicle back for the same operation (op code, or labour item without one)
within N days and N km of an earlier job card. The earlier job's technician is shown."""

import frappe
from frappe import _
from frappe.utils import cint

from aftersales_dms.analytics.common import companies_for, date_range


def execute(filters=None):
	filters = frappe._dict(filters or {})
	companies = companies_for(filters)
	start, end, _end = date_range(filters)
	days, km = cint(filters.get("within_days") or 30), cint(filters.get("within_km") or 1000)
	if days <= 0 or km <= 0 or days > 3650 or km > 1_000_000:
		frappe.throw(_("Within days and within km must be positive."))
	rows = frappe.db.sql(
		"""select b.vehicle, b.registration_plate, coalesce(nullif(lb.op_code, ''), lb.item_code) operation,
			lb.item_name, a.name first_job_card, a.posting_date first_date, a.odometer first_odometer,
			la.technician first_technician, b.name job_card, b.posting_date, b.odometer, b.company,
			datediff(b.posting_date, a.posting_date) days_between, b.odometer - a.odometer km_between
		from `tabService Job Card` b
		join `tabService Job Card Labour` lb on lb.parent = b.name
		join `tabService Job Card` a on a.vehicle = b.vehicle and a.name != b.name and a.creation < b.creation
		join `tabService Job Card Labour` la on la.parent = a.name
			and coalesce(nullif(la.op_code, ''), la.item_code) = coalesce(nullif(lb.op_code, ''), lb.item_code)
		where b.company in %(companies)s and b.posting_date between %(start)s and %(end)s
			and a.status != 'Cancelled' and b.status != 'Cancelled'
			and ifnull(la.customer_decision, '') != 'Declined' and ifnull(lb.customer_decision, '') != 'Declined'
			and datediff(b.posting_date, a.posting_date) <= %(days)s
			and ifnull(b.odometer, 0) - ifnull(a.odometer, 0) <= %(km)s
		order by b.posting_date, b.name""",
		{"companies": companies or [""], "start": start, "end": end, "days": days, "km": km},
		as_dict=True,
	)
	columns = [
		{"fieldname": "registration_plate", "label": _("Vehicle"), "fieldtype": "Data", "width": 110},
		{"fieldname": "operation", "label": _("Operation"), "fieldtype": "Data", "width": 120},
		{"fieldname": "item_name", "label": _("Description"), "fieldtype": "Data", "width": 180},
		{
			"fieldname": "first_job_card",
			"label": _("First Job Card"),
			"fieldtype": "Link",
			"options": "Service Job Card",
			"width": 140,
		},
		{
			"fieldname": "first_technician",
			"label": _("First Technician"),
			"fieldtype": "Link",
			"options": "Service Technician",
			"width": 120,
		},
		{
			"fieldname": "job_card",
			"label": _("Comeback Job Card"),
			"fieldtype": "Link",
			"options": "Service Job Card",
			"width": 150,
		},
		{
			"fieldname": "company",
			"label": _("Dealer"),
			"fieldtype": "Link",
			"options": "Company",
			"width": 150,
		},
		{"fieldname": "days_between", "label": _("Days"), "fieldtype": "Int", "width": 70},
		{"fieldname": "km_between", "label": _("km"), "fieldtype": "Int", "width": 80},
	]
	return columns, rows
