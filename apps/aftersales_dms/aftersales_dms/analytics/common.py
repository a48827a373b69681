"""Filters shared by the app's reports: the dealers a user may see, and the date range.

Reports run SQL, so they apply dealer isolation themselves: a user with User Permissions on
Company sees only those dealers; asking for another dealer is refused, not silently emptied.
"""

import frappe
from frappe import _
from frappe.utils import add_days, getdate


def allowed_companies(user: str | None = None) -> list[str] | None:
	"""Companies the user is restricted to, or None when unrestricted (OEM, system managers)."""
	from frappe.permissions import get_user_permissions

	allowed = get_user_permissions(user or frappe.session.user).get("Company")
	return [row["doc"] for row in allowed] if allowed else None


def companies_for(filters: dict) -> list[str]:
	allowed = allowed_companies()
	if filters.get("company"):
		if allowed is not None and filters["company"] not in allowed:
			frappe.throw(
				_("You do not have access to dealer {0}.").format(filters["company"]), frappe.PermissionError
			)
		return [filters["company"]]
	return allowed if allowed is not None else frappe.get_all("Company", pluck="name")


def date_range(filters: dict):
	start, end = getdate(filters.get("from_date")), getdate(filters.get("to_date"))
	if start > end:
		frappe.throw(_("From must be on or before To."))
	if (end - start).days > 3660:
		frappe.throw(_("Choose a range of at most ten years."))
	return start, end, add_days(end, 1)  # end_exclusive for datetimes
