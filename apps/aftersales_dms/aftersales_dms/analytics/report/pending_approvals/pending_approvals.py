"""Job cards waiting for the customer's decision on their estimate, oldest first."""

import frappe
from frappe import _
from frappe.utils import flt, now_datetime, time_diff_in_hours

from aftersales_dms.analytics.common import companies_for


def execute(filters=None):
	filters = frappe._dict(filters or {})
	companies = companies_for(filters)
	rows = frappe.db.sql(
		"""select jc.name job_card, jc.company, jc.registration_plate, jc.customer_name, jc.contact_mobile,
			jc.estimate, jc.estimate_total, jc.currency, jc.approval_status, jc.approval_link_expires,
			(select max(log.changed_on) from `tabService Job Card Status Log` log
				where log.parent = jc.name and log.to_status = 'Awaiting Approval') since
		from `tabService Job Card` jc
		where jc.company in %(companies)s and jc.status = 'Awaiting Approval'
			and ifnull(jc.approval_status, '') in ('', 'Awaiting Customer')
		order by since""",
		{"companies": companies or [""]},
		as_dict=True,
	)
	now = now_datetime()
	for r in rows:
		r.waiting_hours = flt(time_diff_in_hours(now, r.since), 1) if r.since else None
		r.link_expired = 1 if r.approval_link_expires and r.approval_link_expires < now else 0
	columns = [
		{
			"fieldname": "job_card",
			"label": _("Job Card"),
			"fieldtype": "Link",
			"options": "Service Job Card",
			"width": 140,
		},
		{
			"fieldname": "company",
			"label": _("Dealer"),
			"fieldtype": "Link",
			"options": "Company",
			"width": 160,
		},
		{"fieldname": "registration_plate", "label": _("Vehicle"), "fieldtype": "Data", "width": 110},
		{"fieldname": "customer_name", "label": _("Customer"), "fieldtype": "Data", "width": 150},
		{"fieldname": "contact_mobile", "label": _("Mobile"), "fieldtype": "Data", "width": 120},
		{
			"fieldname": "estimate",
			"label": _("Estimate"),
			"fieldtype": "Link",
			"options": "Quotation",
			"width": 140,
		},
		{
			"fieldname": "estimate_total",
			"label": _("Amount"),
			"fieldtype": "Currency",
			"options": "currency",
			"width": 110,
		},
		{"fieldname": "approval_status", "label": _("Approval"), "fieldtype": "Data", "width": 130},
		{"fieldname": "waiting_hours", "label": _("Waiting (h)"), "fieldtype": "Float", "width": 100},
		{"fieldname": "link_expired", "label": _("Link Expired"), "fieldtype": "Check", "width": 100},
		{
			"fieldname": "currency",
			"label": _("Currency"),
			"fieldtype": "Data",
			"hidden": 1,
		},
	]
	return columns, rows
