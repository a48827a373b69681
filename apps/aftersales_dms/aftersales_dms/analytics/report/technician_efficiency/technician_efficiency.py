"""Technician efficiency and productivity for a period.

- Sold hours: standard (sold) hours of the labour lines the technician finished in the period.
- Clocked hours: job-clock hours the technician started in the period.
- Efficiency = sold ÷ clocked; productivity = clocked ÷ attendance, where attendance is the
  technician's shift length times the days they clocked any work.
- Average completion: first clock-on to last clock-off of a finished line, in hours.

Both read by period through indexes: the clock by (technician, from_time), covering; finished
lines by their `finished_on` (the last clock-off, kept on the line). A technician works only on
their own dealer's job cards, so the dealer filter is the set of its technicians.
"""

import frappe
from frappe import _
from frappe.utils import flt, time_diff_in_hours

from aftersales_dms.analytics.common import companies_for, date_range


def execute(filters=None):
	filters = frappe._dict(filters or {})
	companies = companies_for(filters)
	start, _end, end_exclusive = date_range(filters)
	technicians = frappe.get_all(
		"Service Technician", filters={"company": ("in", companies or [""])}, pluck="name"
	)
	params = {"technicians": technicians or [""], "start": start, "end": end_exclusive}
	clocked = frappe.db.sql(
		"""select l.technician, sum(l.hours) clocked, count(distinct date(l.from_time)) days
		from `tabService Job Card Time Log` l
		where l.technician in %(technicians)s and l.to_time is not null
			and l.from_time >= %(start)s and l.from_time < %(end)s
		group by l.technician""",
		params,
		as_dict=True,
	)
	# lines finished in the period: their last clock-off falls in it
	finished = frappe.db.sql(
		"""select lab.technician, count(*) line_count, count(distinct lab.parent) jobs,
			sum(lab.standard_hours) sold,
			avg(timestampdiff(second, lab.started_on, lab.finished_on)) / 3600 avg_completion
		from `tabService Job Card Labour` lab
		where lab.finished_on >= %(start)s and lab.finished_on < %(end)s
			and lab.work_status = 'Done' and lab.technician in %(technicians)s
		group by lab.technician""",
		params,
		as_dict=True,
	)
	by_tech = {}
	for row in clocked:
		by_tech.setdefault(row.technician, frappe._dict()).update(clocked=flt(row.clocked, 2), days=row.days)
	for row in finished:
		by_tech.setdefault(row.technician, frappe._dict()).update(
			sold=flt(row.sold, 2),
			jobs=row.jobs,
			lines=row.line_count,
			avg_completion=flt(row.avg_completion, 2),
		)
	techs = frappe.get_all(
		"Service Technician",
		filters={"name": ("in", list(by_tech) or [""])},
		fields=["name", "technician_name", "company", "shift_start", "shift_end"],
	)
	data = []
	for tech in techs:
		row = by_tech[tech.name]
		shift = (
			time_diff_in_hours(str(tech.shift_end), str(tech.shift_start))
			if tech.shift_start and tech.shift_end
			else 8
		)
		attendance = flt(shift * (row.get("days") or 0), 2)
		clocked_hours, sold = row.get("clocked", 0), row.get("sold", 0)
		data.append(
			{
				"technician": tech.name,
				"technician_name": tech.technician_name,
				"company": tech.company,
				"jobs_completed": row.get("jobs", 0),
				"lines_completed": row.get("lines", 0),
				"sold_hours": sold,
				"clocked_hours": clocked_hours,
				"attendance_hours": attendance,
				"efficiency": flt(100 * sold / clocked_hours, 1) if clocked_hours else None,
				"productivity": flt(100 * clocked_hours / attendance, 1) if attendance else None,
				"avg_completion_hours": row.get("avg_completion"),
			}
		)
	data.sort(key=lambda r: (r["company"], r["technician_name"] or ""))
	columns = [
		{
			"fieldname": "technician",
			"label": _("Technician"),
			"fieldtype": "Link",
			"options": "Service Technician",
			"width": 120,
		},
		{"fieldname": "technician_name", "label": _("Name"), "fieldtype": "Data", "width": 150},
		{
			"fieldname": "company",
			"label": _("Dealer"),
			"fieldtype": "Link",
			"options": "Company",
			"width": 160,
		},
		{"fieldname": "jobs_completed", "label": _("Jobs"), "fieldtype": "Int", "width": 70},
		{"fieldname": "lines_completed", "label": _("Operations"), "fieldtype": "Int", "width": 90},
		{"fieldname": "sold_hours", "label": _("Sold Hours"), "fieldtype": "Float", "width": 100},
		{"fieldname": "clocked_hours", "label": _("Clocked Hours"), "fieldtype": "Float", "width": 110},
		{"fieldname": "attendance_hours", "label": _("Attendance Hours"), "fieldtype": "Float", "width": 120},
		{"fieldname": "efficiency", "label": _("Efficiency %"), "fieldtype": "Percent", "width": 100},
		{"fieldname": "productivity", "label": _("Productivity %"), "fieldtype": "Percent", "width": 110},
		{
			"fieldname": "avg_completion_hours",
			"label": _("Avg Completion (h)"),
			"fieldtype": "Float",
			"width": 130,
		},
	]
	chart = {
		"data": {
			"labels": [r["technician_name"] for r in data],
			"datasets": [
				{"name": _("Sold Hours"), "values": [r["sold_hours"] for r in data]},
				{"name": _("Clocked Hours"), "values": [r["clocked_hours"] for r in data]},
			],
		},
		"type": "bar",
	}
	return columns, data, None, chart
