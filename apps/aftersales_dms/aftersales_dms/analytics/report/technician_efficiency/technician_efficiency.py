"""Technician efficiency and productivity for a period.

- Sold hours: standard (sold) hours of the labour lines the technician finished in the period.
- Clocked hours: job-clock hours the technician started in the period.
- Efficiency = sold ÷ clocked, in whole percent; productivity = clocked ÷ attendance, where attendance is the
  technician's shift length times the days they clocked any work.
- Jobs: job cards whose last operation by the technician was finished in the period.
- Average completion: first clock-on to last clock-off of a finished line, in hours.

Summed from `Technician Work Day` (one row per technician and working day, kept with the job
clock, see analytics/technician_days.py; a day changed since it was last worked out is worked
out from the job cards here), so a network's year reads technicians x working days rows. A
technician works only on their own dealer's job cards, so the dealer filter is the set of its
technicians.

Efficiency is not rated on less than `MIN_CLOCKED_HOURS` of clock (a few seconds against a
sold hour would read 25,000 %): the cell is blank and *Note* says why. Above
`MAX_PLAUSIBLE_EFFICIENCY` the figure is shown and flagged (sold hours far beyond the clock
usually mean work done off the clock).
"""

import frappe
from frappe import _
from frappe.utils import cint, flt, time_diff_in_hours

from aftersales_dms.analytics import technician_days
from aftersales_dms.analytics.common import companies_for, date_range

MIN_CLOCKED_HOURS = 0.1  # six minutes
MAX_PLAUSIBLE_EFFICIENCY = 300


def rate(sold_hours, clocked_hours) -> tuple[float | None, str]:
	"""Efficiency in whole percent and a note when it is not rated or implausible."""
	clocked_hours = flt(clocked_hours)
	if clocked_hours < MIN_CLOCKED_HOURS:
		if not clocked_hours and not flt(sold_hours):
			return None, ""
		return None, _("Too little clocked time to rate (under {0} h)").format(MIN_CLOCKED_HOURS)
	efficiency = flt(100 * flt(sold_hours) / clocked_hours, 0)
	if efficiency > MAX_PLAUSIBLE_EFFICIENCY:
		return efficiency, _("Implausible: sold hours far exceed the clock; check the time logs")
	return efficiency, ""


def execute(filters=None):
	filters = frappe._dict(filters or {})
	companies = companies_for(filters)
	start, end, _end_exclusive = date_range(filters)
	technicians = frappe.get_all(
		"Service Technician", filters={"company": ("in", companies or [""])}, pluck="name"
	)
	fields = technician_days.FIELDS
	params = {"technicians": technicians or [""], "start": start, "end": end}
	by_tech = {
		row.technician: row
		for row in frappe.db.sql(
			f"""select technician, {", ".join(f"sum({f}) {f}" for f in fields)},
				sum(clock_logs > 0) days
			from `tabTechnician Work Day`
			where technician in %(technicians)s and day between %(start)s and %(end)s and stale = 0
			group by technician""",
			params,
			as_dict=True,
		)
	}
	# a stale day (changed since the job last worked it out) is worked out from the job cards here
	for technician, day in frappe.db.sql(
		"""select technician, day from `tabTechnician Work Day`
		where technician in %(technicians)s and day between %(start)s and %(end)s and stale = 1""",
		params,
	):
		figures = technician_days.figures(technician, day)
		total = by_tech.setdefault(technician, frappe._dict({f: 0 for f in (*fields, "days")}))
		for f in fields:
			total[f] = flt(total[f]) + flt(figures[f])
		total.days = cint(total.days) + (1 if figures.clock_logs else 0)
	by_tech = {t: row for t, row in by_tech.items() if row.clock_logs or row.lines_done}
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
		attendance = flt(shift * cint(row.days), 2)
		clocked_hours, sold = flt(row.clocked_hours, 2), flt(row.sold_hours, 2)
		efficiency, note = rate(row.sold_hours, row.clocked_hours)
		data.append(
			{
				"technician": tech.name,
				"technician_name": tech.technician_name,
				"company": tech.company,
				"jobs_completed": cint(row.jobs_done),
				"lines_completed": cint(row.lines_done),
				"sold_hours": sold,
				"clocked_hours": clocked_hours,
				"attendance_hours": attendance,
				"efficiency": efficiency,
				"productivity": flt(100 * flt(row.clocked_hours) / attendance, 0) if attendance else None,
				"avg_completion_hours": (
					flt(flt(row.completion_hours) / cint(row.lines_done), 2) if cint(row.lines_done) else None
				),
				"note": note,
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
		{"fieldname": "note", "label": _("Note"), "fieldtype": "Data", "width": 280},
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
