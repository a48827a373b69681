"""Who works for a dealer: users restricted to its Company by a User Permission."""

import frappe


def dealer_users(role: str, company: str) -> list[str]:
	"""Enabled users holding `role` whose User Permission restricts them to `company`."""
	holders = frappe.get_all(
		"Has Role", filters={"role": role, "parenttype": "User"}, pluck="parent", distinct=True
	)
	enabled = frappe.get_all("User", filters={"name": ("in", holders or [""]), "enabled": 1}, pluck="name")
	restricted = set(
		frappe.get_all(
			"User Permission",
			filters={"user": ("in", enabled or [""]), "allow": "Company", "for_value": company},
			pluck="user",
		)
	)
	return sorted(restricted)
