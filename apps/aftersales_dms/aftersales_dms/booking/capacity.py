"""Workshop capacity: bays and technician shifts per dealer, overlaps and the slot finder.

An appointment holds a bay and a technician from scheduled_start to scheduled_end while its
status is Requested, Confirmed or Checked In. Two holdings of the same bay or technician
may not overlap. Bookers lock the bay and technician rows (SELECT ... FOR UPDATE) before
checking, so concurrent bookings of the same resource are serialised by the database.
"""

from datetime import date, datetime, timedelta

import frappe
from frappe import _
from frappe.utils import add_days, flt, get_datetime, getdate, to_timedelta

from aftersales_dms.controllers.dealer import get_workshop_settings
from aftersales_dms.utils import replica

ACTIVE_STATUSES = ("Requested", "Confirmed", "Checked In")
MAX_SLOTS = 200


def workshop_hours(company: str) -> tuple[timedelta, timedelta, int]:
	settings = get_workshop_settings(company)
	return (
		to_timedelta(settings.workshop_opens or "09:00:00"),
		to_timedelta(settings.workshop_closes or "18:00:00"),
		int(settings.slot_minutes or 30),
	)


def lock_resources(bay: str | None, technician: str | None):
	if bay:
		frappe.db.sql("select name from `tabService Bay` where name=%s for update", bay)
	if technician:
		frappe.db.sql("select name from `tabService Technician` where name=%s for update", technician)


def overlapping(field: str, value: str, start, end, exclude: str | None = None) -> list[dict]:
	return frappe.get_all(
		"Service Appointment",
		filters={
			field: value,
			"status": ("in", ACTIVE_STATUSES),
			"scheduled_start": ("<", end),
			"scheduled_end": (">", start),
			"name": ("!=", exclude or ""),
		},
		fields=["name", "scheduled_start", "scheduled_end"],
	)


def technician_skills(technician: str) -> set[str]:
	return set(frappe.get_all("Service Technician Skill", filters={"parent": technician}, pluck="skill"))


def check_booking(company, start, end, bay=None, technician=None, required_skills=(), exclude=None):
	"""Throw a clear error when the bay or technician cannot take [start, end)."""
	start, end = get_datetime(start), get_datetime(end)
	opens, closes, _step = workshop_hours(company)
	day = datetime.combine(start.date(), datetime.min.time())
	if start < day + opens or end > day + closes or end.date() != start.date():
		frappe.throw(
			_("{0} is open from {1} to {2}; the appointment runs from {3} to {4}.").format(
				company, str(opens)[:-3], str(closes)[:-3], start.strftime("%H:%M"), end.strftime("%H:%M")
			),
			title=_("Outside workshop hours"),
		)
	if bay:
		bay_company, active = frappe.db.get_value("Service Bay", bay, ["company", "is_active"])
		if bay_company != company or not active:
			frappe.throw(_("Service bay {0} is not an active bay of {1}.").format(bay, company))
		for other in overlapping("service_bay", bay, start, end, exclude):
			frappe.throw(
				_(
					"Bay {0} is already booked from {1} to {2} by {3}: the workshop has no capacity then."
				).format(bay, other.scheduled_start, other.scheduled_end, other.name),
				title=_("Bay fully booked"),
			)
	if technician:
		tech = frappe.db.get_value(
			"Service Technician", technician, ["company", "status", "shift_start", "shift_end"], as_dict=True
		)
		if tech.company != company or tech.status != "Active":
			frappe.throw(_("Technician {0} is not an active technician of {1}.").format(technician, company))
		if start < day + to_timedelta(tech.shift_start) or end > day + to_timedelta(tech.shift_end):
			frappe.throw(_("The appointment is outside technician {0}'s shift.").format(technician))
		missing = set(required_skills) - technician_skills(technician)
		if missing:
			frappe.throw(
				_("Technician {0} lacks the skills {1}.").format(technician, ", ".join(sorted(missing)))
			)
		for other in overlapping("technician", technician, start, end, exclude):
			frappe.throw(
				_("Technician {0} is already booked from {1} to {2} by {3}.").format(
					technician, other.scheduled_start, other.scheduled_end, other.name
				),
				title=_("Technician fully booked"),
			)


def _busy(field: str, company: str, start: datetime, end: datetime) -> dict[str, list[tuple]]:
	rows = frappe.get_all(
		"Service Appointment",
		filters={
			"company": company,
			"status": ("in", ACTIVE_STATUSES),
			"scheduled_start": ("<", end),
			"scheduled_end": (">", start),
			field: ("is", "set"),
		},
		fields=[field, "scheduled_start", "scheduled_end"],
	)
	busy: dict[str, list[tuple]] = {}
	for r in rows:
		busy.setdefault(r[field], []).append((r.scheduled_start, r.scheduled_end))
	return busy


def _free(intervals: list[tuple], start: datetime, end: datetime) -> bool:
	return all(e <= start or s >= end for s, e in intervals)


@frappe.whitelist()
@replica.read_only()
def find_slots(
	company: str,
	from_date: str | date,
	to_date: str | date | None = None,
	hours: float | None = None,
	services: str | list | None = None,
	limit: int = 50,
) -> list[dict]:
	"""Free slots between two dates for the given standard hours (or labour items).

	Returns [{start, end, service_bay, technician, technician_name}], earliest first; each
	slot names a free bay and the least-loaded free technician holding every required skill.
	"""
	frappe.has_permission("Service Appointment", "create", throw=True)
	if not frappe.has_permission("Company", "read", company) or not frappe.db.exists("Company", company):
		frappe.throw(_("Unknown dealer {0}.").format(company), frappe.PermissionError)
	services = frappe.parse_json(services) if isinstance(services, str) else (services or [])
	skills = set()
	if services:
		rows = frappe.get_all(
			"Item",
			filters={"name": ("in", services), "dms_item_kind": "Labour"},
			fields=["name", "dms_standard_hours", "dms_required_skill"],
		)
		unknown = set(services) - {r.name for r in rows}
		if unknown:
			frappe.throw(_("Not labour items: {0}").format(", ".join(sorted(unknown))))
		hours = hours or sum(flt(r.dms_standard_hours) for r in rows)
		skills = {r.dms_required_skill for r in rows if r.dms_required_skill}
	hours = flt(hours)
	if not 0 < hours <= 24:
		frappe.throw(_("Give the work's standard hours (more than 0, at most 24) or labour items."))
	start_day, end_day = getdate(from_date), getdate(to_date or from_date)
	if end_day < start_day or (end_day - start_day).days > 31:
		frappe.throw(_("Search at most 31 days, from a date to a later one."))
	limit = min(int(limit or 50), MAX_SLOTS)

	opens, closes, step = workshop_hours(company)
	duration = timedelta(hours=hours)
	bays = frappe.get_all(
		"Service Bay", filters={"company": company, "is_active": 1}, pluck="name", order_by="name"
	)
	techs = frappe.get_all(
		"Service Technician",
		filters={"company": company, "status": "Active"},
		fields=["name", "technician_name", "shift_start", "shift_end"],
		order_by="name",
	)
	techs = [t for t in techs if skills <= technician_skills(t.name)]
	window_start = datetime.combine(start_day, datetime.min.time())
	window_end = datetime.combine(add_days(end_day, 1), datetime.min.time())
	bay_busy = _busy("service_bay", company, window_start, window_end)
	tech_busy = _busy("technician", company, window_start, window_end)
	now = get_datetime()
	slots = []
	day = start_day
	while day <= end_day and len(slots) < limit:
		midnight = datetime.combine(day, datetime.min.time())
		booked_today = {
			x.name: sum((e - s).total_seconds() for s, e in tech_busy.get(x.name, []) if s.date() == day)
			for x in techs
		}
		t = midnight + opens
		while t + duration <= midnight + closes and len(slots) < limit:
			end = t + duration
			if t >= now:
				bay = next((b for b in bays if _free(bay_busy.get(b, []), t, end)), None)
				if bay:
					free_techs = [
						x
						for x in techs
						if midnight + to_timedelta(x.shift_start) <= t
						and end <= midnight + to_timedelta(x.shift_end)
						and _free(tech_busy.get(x.name, []), t, end)
					]
					if free_techs:
						tech = min(free_techs, key=lambda x: booked_today[x.name])
						slots.append(
							{
								"start": t,
								"end": end,
								"service_bay": bay,
								"technician": tech.name,
								"technician_name": tech.technician_name,
							}
						)
			t += timedelta(minutes=step)
		day = add_days(day, 1)
	return slots
