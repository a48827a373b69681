"""Appointments per day by channel, with check-ins and no-shows (no-show rate)."""

import frappe
from frappe import _
from frappe.utils import flt

from aftersales_dms.analytics.common import companies_for, date_range

CHANNELS = ("Phone", "Walk-in", "Online", "OEM Campaign")


def execute(filters=None):
	filters = frappe._dict(filters or {})
	companies = companies_for(filters)
	start, end, _end = date_range(filters)
	rows = frappe.db.sql(
		"""select coalesce(date(scheduled_start), preferred_date) day, company, channel, status, count(*) n
		from `tabService Appointment`
		where company in %(companies)s and coalesce(date(scheduled_start), preferred_date) between %(start)s and %(end)s
		group by day, company, channel, status""",
		{"companies": companies or [""], "start": start, "end": end},
		as_dict=True,
	)
	days = {}
	for r in rows:
		day = days.setdefault(
			(r.day, r.company),
			frappe._dict(day=r.day, company=r.company, total=0, checked_in=0, no_show=0, cancelled=0),
		)
		day.total += r.n
		key = "ch_" + frappe.scrub(r.channel or "Phone")
		day[key] = day.get(key, 0) + r.n
		if r.status == "Checked In":
			day.checked_in += r.n
		elif r.status == "No Show":
			day.no_show += r.n
		elif r.status == "Cancelled":
			day.cancelled += r.n
	data = sorted(days.values(), key=lambda d: (d.day, d.company))
	for d in data:
		due = d.checked_in + d.no_show
		d.no_show_rate = flt(100 * d.no_show / due, 1) if due else None
	columns = [
		{"fieldname": "day", "label": _("Date"), "fieldtype": "Date", "width": 100},
		{
			"fieldname": "company",
			"label": _("Dealer"),
			"fieldtype": "Link",
			"options": "Company",
			"width": 170,
		},
		{"fieldname": "total", "label": _("Appointments"), "fieldtype": "Int", "width": 110},
		*[
			{"fieldname": "ch_" + frappe.scrub(c), "label": _(c), "fieldtype": "Int", "width": 90}
			for c in CHANNELS
		],
		{"fieldname": "checked_in", "label": _("Checked In"), "fieldtype": "Int", "width": 100},
		{"fieldname": "no_show", "label": _("No-shows"), "fieldtype": "Int", "width": 90},
		{"fieldname": "cancelled", "label": _("Cancelled"), "fieldtype": "Int", "width": 90},
		{"fieldname": "no_show_rate", "label": _("No-show %"), "fieldtype": "Percent", "width": 100},
	]
	labels = sorted({str(d.day) for d in data})
	chart = {
		"data": {
			"labels": labels,
			"datasets": [
				{
					"name": _("Appointments"),
					"values": [sum(d.total for d in data if str(d.day) == x) for x in labels],
				},
				{
					"name": _("No-shows"),
					"values": [sum(d.no_show for d in data if str(d.day) == x) for x in labels],
				},
			],
		},
		"type": "line",
	}
	return columns, data, None, chart
