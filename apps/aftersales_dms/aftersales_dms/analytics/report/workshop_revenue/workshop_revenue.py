"""Monthly workshop revenue per dealer from submitted service invoices (credit notes included).

Net amounts of the invoice lines: the same figures ERPNext credits to the income accounts, so
the report totals equal the ledger's service revenue for the period. Whole months in the range
are read from `Workshop Revenue Month` (kept as invoices are submitted and cancelled, see
analytics/revenue_rollup.py); a month the range covers only in part is summed from the invoices,
which keep their labour and parts net amounts, through the (company, posting_date) index.
"""

import frappe
from frappe import _
from frappe.utils import add_days, get_last_day

from aftersales_dms.analytics.common import companies_for, date_range
from aftersales_dms.analytics.revenue_rollup import INVOICE_SUMS


def execute(filters=None):
	filters = frappe._dict(filters or {})
	companies = companies_for(filters)
	start, end, _end = date_range(filters)
	whole, partial = split_months(start, end)
	rows = list(kept_months(companies, whole))
	for first, last in partial:
		rows += list(from_invoices(companies, first, last))
	rows.sort(key=lambda r: (r.month, r.company))
	currency = frappe.get_cached_value("Company", companies[0], "default_currency") if companies else None
	money = {"fieldtype": "Currency", "options": "currency", "width": 130}
	for row in rows:
		row.currency = currency
	columns = [
		{"fieldname": "month", "label": _("Month"), "fieldtype": "Data", "width": 90},
		{
			"fieldname": "company",
			"label": _("Dealer"),
			"fieldtype": "Link",
			"options": "Company",
			"width": 180,
		},
		{"fieldname": "labour", "label": _("Labour"), **money},
		{"fieldname": "parts", "label": _("Parts"), **money},
		{"fieldname": "customer_pay", "label": _("Customer Pay"), **money},
		{"fieldname": "warranty", "label": _("Warranty (OEM)"), **money},
		{"fieldname": "internal", "label": _("Internal"), **money},
		{"fieldname": "total", "label": _("Total (net of tax)"), **money},
		{"fieldname": "job_cards", "label": _("Job Cards"), "fieldtype": "Int", "width": 90},
		{
			"fieldname": "currency",
			"label": _("Currency"),
			"fieldtype": "Data",
			"hidden": 1,
		},
	]
	months = sorted({r.month for r in rows})
	chart = {
		"data": {
			"labels": months,
			"datasets": [
				{
					"name": _("Labour"),
					"values": [sum(r.labour for r in rows if r.month == m) for m in months],
				},
				{"name": _("Parts"), "values": [sum(r.parts for r in rows if r.month == m) for m in months]},
			],
		},
		"type": "bar",
		"barOptions": {"stacked": 1},
	}
	return columns, rows, None, chart


def split_months(start, end):
	"""The first days of the months the range covers whole, and the (first, last) days of the
	months it covers in part."""
	whole, partial = [], []
	month = start.replace(day=1)
	while month <= end:
		last = get_last_day(month)
		first_in, last_in = max(start, month), min(end, last)
		if (first_in, last_in) == (month, last):
			whole.append(month)
		else:
			partial.append((first_in, last_in))
		month = add_days(last, 1)
	return whole, partial


def kept_months(companies, months):
	if not months or not companies:
		return []
	return frappe.db.sql(
		"""select date_format(month, '%%Y-%%m') month, company, labour, parts, customer_pay,
			warranty, internal, total, job_cards
		from `tabWorkshop Revenue Month`
		where company in %(companies)s and month in %(months)s and invoices != 0""",
		{"companies": companies, "months": months},
		as_dict=True,
	)


def from_invoices(companies, start, end):
	"""The same figures summed from the submitted service invoices posted from start to end."""
	return frappe.db.sql(
		f"""select date_format(si.posting_date, '%%Y-%%m') month, si.company, {INVOICE_SUMS},
			count(distinct si.dms_service_job_card) job_cards
		from `tabSales Invoice` si
		where si.docstatus = 1 and ifnull(si.dms_service_job_card, '') != ''
			and si.company in %(companies)s and si.posting_date between %(start)s and %(end)s
		group by month, si.company""",
		{"companies": companies or [""], "start": start, "end": end},
		as_dict=True,
	)
