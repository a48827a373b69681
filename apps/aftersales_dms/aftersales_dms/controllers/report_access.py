"""A dealer user's query report is for their own Company.

ERPNext's Stock Ledger and General Ledger take the company as a plain filter and read their
ledger tables directly: a Pune user asking for company "Orion Motors Nashik" would get Nashik's
rows (Frappe checks Link filters against User Permissions only for filters declared on the Report
record, which script reports do not declare), and the Stock Ledger without a company reads every
dealer's. So for a user restricted to some Companies (controllers/dealer.py), Frappe's report
endpoints (hooks.override_whitelisted_methods) refuse another dealer's company in any report, and
the ERPNext reports our roles are given (roles.ERPNEXT_REPORTS) need the company set.
"""

import json

import frappe
from frappe import _
from frappe.desk import query_report

from aftersales_dms.roles import ERPNEXT_REPORTS
from aftersales_dms.utils import replica


def allowed_companies(user=None) -> set[str] | None:
	"""The Companies a user is restricted to, or None when not restricted."""
	from frappe.permissions import get_user_permissions

	rows = get_user_permissions(user or frappe.session.user).get("Company")
	return {row["doc"] for row in rows} if rows else None


def check_report_filters(report_name, filters):
	if not report_name or not isinstance(report_name, str) or not frappe.db.exists("Report", report_name):
		frappe.throw(_("Report {0} not found.").format(report_name or ""), frappe.DoesNotExistError)
	allowed = allowed_companies()
	if allowed is None:
		return
	if isinstance(filters, str):
		try:
			filters = json.loads(filters) if filters.strip() else {}
		except ValueError:
			frappe.throw(_("The report's filters are not valid JSON."))
	if not isinstance(filters, dict):
		filters = {}
	company = (filters or {}).get("company")
	companies = [c for c in (company if isinstance(company, list | tuple) else [company]) if c]
	foreign = [c for c in companies if c not in allowed]
	if foreign:
		frappe.throw(
			_("You may not read the report for company {0}.").format(", ".join(foreign)),
			frappe.PermissionError,
		)
	report = report_name
	if frappe.db.get_value("Report", report_name, "report_type") == "Custom Report":
		report = frappe.db.get_value("Report", report_name, "reference_report") or report_name
	if report in ERPNEXT_REPORTS and not companies:
		frappe.throw(_("Choose your dealer's company for the report {0}.").format(_(report)))


@frappe.whitelist()
@replica.read_only()
def run(
	report_name,
	filters=None,
	user=None,
	ignore_prepared_report=False,
	custom_columns=None,
	is_tree=False,
	parent_field=None,
	are_default_filters=True,
):
	"""Frappe's query report run (hooks.override_whitelisted_methods), refused for another
	dealer's company; ERPNext's ledgers given to our roles need the company set."""
	check_report_filters(report_name, filters)  # the session's user, whatever `user` says
	return query_report.run(
		report_name,
		filters=filters,
		user=user,
		ignore_prepared_report=ignore_prepared_report,
		custom_columns=custom_columns,
		is_tree=is_tree,
		parent_field=parent_field,
		are_default_filters=are_default_filters,
	)


@frappe.whitelist()
@replica.read_only()
def export_query():
	"""Frappe's report export, with the same company check as run."""
	form = frappe.local.form_dict
	check_report_filters(form.get("report_name"), form.get("filters"))
	return query_report.export_query()
