"""A dealer user's query report is for their own Company.

ERPNext's Stock Ledger and General Ledger take the company as a plain filter and read their
ledger tables directly: a Pune user asking for company "Orion Motors Nashik" would get Nashik's
rows (Frappe checks Link filters against User Permissions only for filters declared on the Report
record, which script reports do not declare), and the Stock Ledger without a company reads every
dealer's. So for a user restricted to some Companies (controllers/dealer.py), Frappe's report
endpoints (hooks.override_whitelisted_methods) refuse another dealer's company in any report, and
the ERPNext reports our roles are given (roles.ERPNEXT_REPORTS) need the company set.

The filters checked are the ones Frappe goes on to use, on every path: a Custom Report's saved
filters replace the request's in `run` (`are_default_filters`); a prepared report named in the
filters (`prepared_report_name`) is read whatever the request's filters say, so it must be the
user's own and its stored filters pass; a prepared report is only queued for filters that pass;
export runs the same check. The user a report runs for is always the session's.
"""

import json

import frappe
from frappe import _
from frappe.desk import query_report
from frappe.utils import sbool

from aftersales_dms.roles import ERPNEXT_REPORTS
from aftersales_dms.utils import replica


def allowed_companies(user=None) -> set[str] | None:
	"""The Companies a user is restricted to, or None when not restricted."""
	from frappe.permissions import get_user_permissions

	rows = get_user_permissions(user or frappe.session.user).get("Company")
	return {row["doc"] for row in rows} if rows else None


def parse_filters(filters) -> dict:
	"""A report's filters as a dict (a JSON string, a dict, or nothing)."""
	if isinstance(filters, str):
		try:
			filters = json.loads(filters) if filters.strip() else {}
		except ValueError:
			frappe.throw(_("The report's filters are not valid JSON."))
	return filters if isinstance(filters, dict) else {}


def saved_filters(report_name) -> dict:
	"""A Custom Report's saved filters (what Frappe's run uses by default), else {}."""
	if frappe.db.get_value("Report", report_name, "report_type") != "Custom Report":
		return {}
	saved = frappe.db.get_value("Report", report_name, "json")
	try:
		data = json.loads(saved) if saved else {}
	except ValueError:
		return {}
	return (data.get("filters") if isinstance(data, dict) else None) or {}


def check_report_filters(report_name, filters, are_default_filters=False):
	"""Refuse another dealer's company in the filters a report run will use (the request's, or a
	Custom Report's saved ones when `are_default_filters`), and a prepared report that is not the
	user's own or whose stored filters do not pass."""
	if not report_name or not isinstance(report_name, str) or not frappe.db.exists("Report", report_name):
		frappe.throw(_("Report {0} not found.").format(report_name or ""), frappe.DoesNotExistError)
	allowed = allowed_companies()
	if allowed is None:
		return
	filters = parse_filters(filters)
	if sbool(are_default_filters) and (saved := saved_filters(report_name)):
		filters = parse_filters(saved)  # Frappe's run replaces the request's filters with these
	check_companies(report_name, filters, allowed)
	if prepared := filters.get("prepared_report_name"):
		check_prepared_report(prepared, report_name, allowed)


def check_companies(report_name, filters, allowed):
	company = filters.get("company")
	companies = [c for c in (company if isinstance(company, list | tuple) else [company]) if c]
	foreign = [c for c in companies if not isinstance(c, str) or c not in allowed]
	if foreign:
		frappe.throw(
			_("You may not read the report for company {0}.").format(", ".join(map(str, foreign))),
			frappe.PermissionError,
		)
	report = report_name
	if frappe.db.get_value("Report", report_name, "report_type") == "Custom Report":
		report = frappe.db.get_value("Report", report_name, "reference_report") or report_name
	if report in ERPNEXT_REPORTS and not companies:
		frappe.throw(_("Choose your dealer's company for the report {0}.").format(_(report)))


def check_prepared_report(name, report_name, allowed):
	"""A prepared report a restricted user reads: their own, of this report, for their company."""
	row = (
		frappe.db.get_value("Prepared Report", name, ["owner", "report_name", "filters"], as_dict=True)
		if isinstance(name, str)
		else None
	)
	if not row or row.owner != frappe.session.user or row.report_name != report_name:
		frappe.throw(_("Prepared report {0} is not yours.").format(name), frappe.PermissionError)
	check_companies(report_name, parse_filters(row.filters), allowed)


def prepared_report_permission(doc, ptype=None, user=None, debug=False):
	"""hooks.has_permission "Prepared Report": a user restricted to some Companies reads only
	their own prepared reports, and only those whose stored filters name none of another dealer's
	companies (its data file, `download_attachment` and the File attached). None otherwise:
	Frappe's own check decides."""
	user = user or frappe.session.user
	if user == "Administrator" or allowed_companies(user) is None:
		return None
	if (doc.get("owner") or "") != user and not (hasattr(doc, "is_new") and doc.is_new()):
		return False
	company = parse_filters(doc.get("filters")).get("company")
	companies = [c for c in (company if isinstance(company, list | tuple) else [company]) if c]
	if any(c not in allowed_companies(user) for c in companies):
		return False
	return None


def prepared_report_query(user=None):
	"""hooks.permission_query_conditions "Prepared Report": a restricted user's own only."""
	user = user or frappe.session.user
	if user == "Administrator" or allowed_companies(user) is None:
		return ""
	return f"`tabPrepared Report`.owner = {frappe.db.escape(user)}"


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
	dealer's company in the filters it will use (a Custom Report's saved ones by default, a
	prepared report's stored ones); ERPNext's ledgers given to our roles need the company set.
	`user` is ignored: the report runs for the session's user."""
	check_report_filters(report_name, filters, are_default_filters)
	return query_report.run(
		report_name,
		filters=filters,
		user=frappe.session.user,  # rows are filtered for this user: never another's
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


@frappe.whitelist(methods=["POST"])
def make_prepared_report(report_name, filters=None):
	"""Frappe's prepared report (hooks.override_whitelisted_methods): queued only for a report the
	user may run (Frappe's does not check) and filters that pass the company check."""
	check_report_filters(report_name, filters)
	query_report.get_report_doc(report_name)  # the report's roles and the doctype's report right
	from frappe.core.doctype.prepared_report.prepared_report import make_prepared_report as make

	return make(report_name, filters=filters)
