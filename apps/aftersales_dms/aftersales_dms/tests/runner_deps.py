"""Frappe's test runner beside ERPNext's tests: how far it walks into our DocTypes.

Before running an ERPNext test, Frappe's runner builds test records for every DocType the
tested one links to (custom fields included), depth first (frappe.test_runner
make_test_records / get_dependencies). Our custom Link fields on ERPNext DocTypes point to
our DocTypes (Sales Invoice -> Service Job Card, ...); without a stop there the runner walks
on from ours into Company, Customer, Item and builds their test records in another order than
ERPNext expects (e.g. a Customer before `_Test Company`). The test module of each DocType our
custom fields point to sets `test_ignore = outside_links(<its DocType>)`: we ship no Frappe
test records, so nothing is lost, and ERPNext's own order stays as it is without our app.
"""

import frappe


def outside_links(doctype: str) -> list[str]:
	"""Every DocType `doctype` and its child tables link to: what the runner would walk next."""
	meta = frappe.get_meta(doctype)
	links = list(meta.get_link_fields())
	for df in meta.get_table_fields():
		links += frappe.get_meta(df.options).get_link_fields()
	return sorted({df.options for df in links} - {doctype})
