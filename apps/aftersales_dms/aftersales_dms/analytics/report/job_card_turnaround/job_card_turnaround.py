"""Turnaround per stage, from the job cards' status history (time spent in each status left
during the period), and the whole visit from opening to Ready for Pickup.

*Job Cards* counts job cards, *Transitions* the times a status was left: a job sent back from
Quality Check to Repairing leaves Repairing twice but is one job card. The whole visit is
measured to each job card's first Ready for Pickup in the period."""

import frappe
from frappe import _
from frappe.utils import flt

from aftersales_dms.analytics.common import companies_for, date_range
from aftersales_dms.workshop.status import workflow_definition


def execute(filters=None):
	filters = frappe._dict(filters or {})
	companies = companies_for(filters)
	start, _end, end_exclusive = date_range(filters)
	params = {"companies": companies or [""], "start": start, "end": end_exclusive}
	stages = frappe.db.sql(
		"""select log.from_status stage, count(distinct log.parent) job_cards, count(*) transitions, avg(log.hours_in_from_status) avg_hours,
			max(log.hours_in_from_status) max_hours
		from `tabService Job Card Status Log` log join `tabService Job Card` jc on jc.name = log.parent
		where jc.company in %(companies)s and log.changed_on >= %(start)s and log.changed_on < %(end)s
		group by log.from_status""",
		params,
		as_dict=True,
	)
	order = [s["state"] for s in workflow_definition()["workflow"]["states"]]
	stages.sort(key=lambda r: order.index(r.stage) if r.stage in order else len(order))
	whole = frappe.db.sql(
		"""select count(*) job_cards, sum(visit.transitions) transitions,
			avg(timestampdiff(second, visit.opened, visit.ready)) / 3600 avg_hours,
			max(timestampdiff(second, visit.opened, visit.ready)) / 3600 max_hours
		from (
			select jc.name, jc.creation opened, min(log.changed_on) ready, count(*) transitions
			from `tabService Job Card Status Log` log join `tabService Job Card` jc on jc.name = log.parent
			where jc.company in %(companies)s and log.to_status = 'Ready for Pickup'
				and log.changed_on >= %(start)s and log.changed_on < %(end)s
			group by jc.name, jc.creation
		) visit""",
		params,
		as_dict=True,
	)[0]
	data = [
		{
			"stage": r.stage,
			"job_cards": r.job_cards,
			"transitions": r.transitions,
			"avg_hours": flt(r.avg_hours, 2),
			"max_hours": flt(r.max_hours, 2),
		}
		for r in stages
	]
	if whole.job_cards:
		data.append(
			{
				"stage": _("Whole visit: opened → Ready for Pickup"),
				"job_cards": whole.job_cards,
				"transitions": whole.transitions,
				"avg_hours": flt(whole.avg_hours, 2),
				"max_hours": flt(whole.max_hours, 2),
				"bold": 1,
			}
		)
	columns = [
		{"fieldname": "stage", "label": _("Stage"), "fieldtype": "Data", "width": 260},
		{"fieldname": "job_cards", "label": _("Job Cards"), "fieldtype": "Int", "width": 100},
		{"fieldname": "transitions", "label": _("Transitions"), "fieldtype": "Int", "width": 100},
		{"fieldname": "avg_hours", "label": _("Average Hours"), "fieldtype": "Float", "width": 130},
		{"fieldname": "max_hours", "label": _("Longest (h)"), "fieldtype": "Float", "width": 110},
	]
	chart = {
		"data": {
			"labels": [r.stage for r in stages],
			"datasets": [{"name": _("Average Hours"), "values": [flt(r.avg_hours, 2) for r in stages]}],
		},
		"type": "bar",
	}
	return columns, data, None, chart
