"""Technician suggestions and assignment for job card labour lines.

Ranking: technicians of the job card's dealer who are Active and hold the line's required
skill come first, by skill level (Master > Senior > Junior > Trainee), then by today's open
load (standard hours of unfinished labour lines assigned to them on open job cards, plus the
hours of today's appointments booked on them), then by name for a stable order.
"""

from datetime import datetime

import frappe
from frappe import _
from frappe.utils import flt, getdate

from aftersales_dms.roles import MANAGERS, has_any_role
from aftersales_dms.workshop.doctype.service_technician.service_technician import SKILL_LEVELS
from aftersales_dms.workshop.status import CLOSED

CLOSED_JOB_STATUSES = CLOSED  # no more work to load a technician with


def open_load_hours(technicians: list[str], day=None) -> dict[str, float]:
	"""Hours each technician already carries today: unfinished assigned labour + today's bookings."""
	load = dict.fromkeys(technicians, 0.0)
	if not technicians:
		return load
	lines = frappe.get_all(
		"Service Job Card Labour",
		filters={
			"technician": ("in", technicians),
			"work_status": ("!=", "Done"),
			"parenttype": "Service Job Card",
		},
		fields=["technician", "standard_hours", "clocked_hours", "parent"],
	)
	open_cards = set(
		frappe.get_all(
			"Service Job Card",
			filters={
				"name": ("in", list({line.parent for line in lines}) or [""]),
				"status": ("not in", CLOSED_JOB_STATUSES),
			},
			pluck="name",
		)
	)
	for line in lines:
		if line.parent in open_cards:
			load[line.technician] += max(flt(line.standard_hours) - flt(line.clocked_hours), 0)
	day = getdate(day)
	start, end = datetime.combine(day, datetime.min.time()), datetime.combine(day, datetime.max.time())
	for appt in frappe.get_all(
		"Service Appointment",
		filters={
			"technician": ("in", technicians),
			"status": ("in", ("Requested", "Confirmed")),
			"scheduled_start": ("between", [start, end]),
		},
		fields=["technician", "total_hours"],
	):
		load[appt.technician] += flt(appt.total_hours) or 1
	return {k: round(v, 2) for k, v in load.items()}


def rank_technicians(company: str, required_skill: str | None, day=None) -> list[dict]:
	techs = frappe.get_all(
		"Service Technician",
		filters={"company": company, "status": "Active"},
		fields=["name", "technician_name", "daily_hours"],
		order_by="name",
	)
	levels = {}
	for row in frappe.get_all(
		"Service Technician Skill",
		filters={"parent": ("in", [t.name for t in techs] or [""]), "skill": required_skill or ""},
		fields=["parent", "level"],
	):
		levels[row.parent] = SKILL_LEVELS.index(row.level) + 1
	load = open_load_hours([t.name for t in techs], day)
	ranked = [
		{
			"technician": t.name,
			"technician_name": t.technician_name,
			"skill_level": levels.get(t.name, 0) if required_skill else None,
			"has_skill": bool(levels.get(t.name)) or not required_skill,
			"open_hours": load[t.name],
			"free_hours": round(max(flt(t.daily_hours) - load[t.name], 0), 2),
		}
		for t in techs
	]
	ranked.sort(
		key=lambda r: (not r["has_skill"], -(r["skill_level"] or 0), r["open_hours"], r["technician"])
	)
	return ranked


@frappe.whitelist()
def suggest_technicians(job_card: str, labour_line: str) -> list[dict]:
	"""Technicians for one labour line of a job card, best first."""
	doc = frappe.get_doc("Service Job Card", job_card)
	doc.check_permission("read")
	line = doc.get_labour_line(labour_line)
	return rank_technicians(doc.company, line.required_skill)


def check_can_assign():
	if not has_any_role(MANAGERS):
		frappe.throw(_("Only a Workshop Manager assigns technicians."), frappe.PermissionError)
