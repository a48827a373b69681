"""Custom number cards of the workspaces (dealer-scoped like the reports)."""

import frappe
from frappe.utils import add_days, flt, today

from aftersales_dms.analytics.common import companies_for
from aftersales_dms.utils import replica


def _filters(filters) -> frappe._dict:
	filters = frappe.parse_json(filters) if isinstance(filters, str) else (filters or {})
	return frappe._dict(filters if isinstance(filters, dict) else {})


@frappe.whitelist()
@replica.read_only()
def average_tat(filters=None) -> dict:
	"""Average hours from opening a job card to Ready for Pickup, over the last 30 days."""
	frappe.has_permission("Service Job Card", "read", throw=True)
	companies = companies_for(_filters(filters))
	value = frappe.db.sql(
		"""select avg(timestampdiff(second, jc.creation, log.changed_on)) / 3600
		from `tabService Job Card Status Log` log join `tabService Job Card` jc on jc.name = log.parent
		where log.to_status = 'Ready for Pickup' and jc.company in %(companies)s and log.changed_on >= %(since)s""",
		{"companies": companies or [""], "since": add_days(today(), -30)},
	)[0][0]
	return {"value": flt(value, 1), "fieldtype": "Float"}


@frappe.whitelist()
@replica.read_only()
def technician_productivity(filters=None) -> dict:
	"""Clocked job hours ÷ attendance hours of all technicians over the last 30 days, in %."""
	from aftersales_dms.analytics.report.technician_efficiency.technician_efficiency import execute

	frappe.has_permission("Service Job Card", "read", throw=True)
	f = _filters(filters)
	f.update({"from_date": add_days(today(), -30), "to_date": today()})
	_columns, rows, *_ = execute(f)
	clocked = sum(flt(r["clocked_hours"]) for r in rows)
	attendance = sum(flt(r["attendance_hours"]) for r in rows)
	return {"value": flt(100 * clocked / attendance, 1) if attendance else 0, "fieldtype": "Percent"}


@frappe.whitelist()
@replica.read_only()
def jobs_nobody_can_move(filters=None) -> dict:
	"""Open job cards of the user's dealers in a status where nobody of the dealer can take any of
	its actions, nor a Workshop Manager in their place (workshop/status.py): the manager's to
	unblock (give someone the role, or turn Workshop Managers Act Where Nobody Else Can on)."""
	from aftersales_dms.workshop.status import jobs_nobody_can_move as stuck

	frappe.has_permission("Service Job Card", "read", throw=True)
	return {"value": len(stuck(companies_for(_filters(filters)))), "fieldtype": "Int"}
