"""Another dealer's child-table rows over HTTP (issue #20, controllers/child_rows.py).

Generated like aftersales_dms/tests/test_child_rows.py: every child DocType in a table of a dealer's
DocType (a Link to Company), each demo user of both dealers who reads the parent DocType, and a row
of the other dealer's (the test site's demo documents). By its name the row is refused on every
route that loads one document (REST v1 and v2, `frappe.client.get`, the form load, the print view),
and no list, value or count surface returns it; a row of the user's own dealer still loads. Pairs
without a row at a dealer are printed as not probed."""

import json

import frappe
from aftersales_dms.controllers.report_access import allowed_companies
from aftersales_dms.tests import test_child_rows as probe
from dmstest import login


def single_row_routes(server, child, parent, row):
	"""(surface, url, params) loading one child row by its name."""
	return [
		("REST v1 get", f"{server}/api/resource/{child}/{row}", None),
		("REST v2 get", f"{server}/api/v2/document/{child}/{row}", None),
		(
			"frappe.client.get",
			f"{server}/api/method/frappe.client.get",
			{"doctype": child, "name": row, "parent": parent},
		),
		("form load", f"{server}/api/method/frappe.desk.form.load.getdoc", {"doctype": child, "name": row}),
		("print view", f"{server}/printview", {"doctype": child, "name": row}),
	]


def list_routes(server, child, parent, row):
	"""(surface, url, params) listing, reading a value of or counting child rows, filtered to the row."""
	filters = json.dumps([[child, "name", "=", row]])
	return [
		(
			"frappe.client.get_list",
			f"{server}/api/method/frappe.client.get_list",
			{"doctype": child, "parent": parent, "fields": '["name", "parent"]', "filters": filters},
		),
		(
			"frappe.client.get_value",
			f"{server}/api/method/frappe.client.get_value",
			{"doctype": child, "parent": parent, "fieldname": '["name", "parent"]', "filters": filters},
		),
		(
			"reportview.get",
			f"{server}/api/method/frappe.desk.reportview.get",
			{
				"doctype": child,
				"parent_doctype": parent,
				"fields": json.dumps([f"`tab{child}`.`name`"]),
				"filters": filters,
			},
		),
		(
			"reportview.get_count",
			f"{server}/api/method/frappe.desk.reportview.get_count",
			{"doctype": child, "parent_doctype": parent, "filters": filters},
		),
	]


def leaked(response, row) -> bool:
	"""Whether a response gave the row away (a 2xx naming it; a count above 0)."""
	if response.status_code >= 400:
		return False
	try:
		message = response.json()
	except ValueError:
		return row in response.text
	payload = message.get("message", message.get("data"))
	if isinstance(payload, int) and not isinstance(payload, bool):
		return payload > 0
	return row in json.dumps(payload, default=str)


def test_another_dealers_child_rows_are_refused_by_name_and_not_listed(server, demo_password):
	users = probe.dealer_users()
	pairs = probe.child_pairs()
	sessions, leaks, not_probed, own_refused, probes = {}, [], set(), [], 0
	for user in users:
		allowed = allowed_companies(user)
		assert allowed, f"{user} is restricted to a dealer"
		foreign_companies = [c for c in probe.DEALERS if c not in allowed]
		for parent, child in pairs:
			if not probe.role_reads(parent, user):
				continue
			foreign = probe.rows_of(parent, child, foreign_companies, limit=1)
			if not foreign:
				not_probed.add((parent, child, ", ".join(foreign_companies)))
				continue
			row = next(iter(foreign))
			s = sessions.get(user) or sessions.setdefault(user, login(server, user, demo_password))
			for surface, url, params in single_row_routes(server, child, parent, row) + list_routes(
				server, child, parent, row
			):
				probes += 1
				r = s.get(url, params=params, timeout=60)
				if leaked(r, row):
					leaks.append(
						f"{user}: {surface} {child} {row} of {parent} -> {r.status_code} {r.text[:150]}"
					)
			own = probe.rows_of(parent, child, allowed, limit=1)
			if own:
				r = s.get(f"{server}/api/resource/{child}/{next(iter(own))}", timeout=60)
				if r.status_code != 200 and frappe.has_permission(
					parent, "read", doc=next(iter(own.values())), user=user
				):
					own_refused.append(f"{user}: {child} of {parent} {r.status_code}")
	print(f"child rows over HTTP: {len(users)} users, {probes} probes")
	for parent, child, dealer in sorted(not_probed):
		print(f"  not probed (no row at {dealer}): {child} of {parent}")
	assert probes, "nothing was probed"
	assert leaks == [], "\n".join(leaks)
	assert own_refused == [], "\n".join(own_refused)
