"""Monthly workshop revenue per dealer from submitted service invoices (credit notes included).

Net amounts of the invoice lines: the same figures ERPNext credits to the income accounts, so
the report totals equal the ledger's service revenue for the period. Each invoice keeps its
labour and parts net amounts (set when it is validated), so a year is read from the invoices
alone through the (company, posting_date) index, not from their lines.
"""

import frappe
from frappe import _

from aftersales_dms.analytics.common import companies_for, date_range


def execute(filters=None):
	filters = frappe._dict(filters or {})
	companies = companies_for(filters)
	start, end, _end = date_range(filters)
	rows = frappe.db.sql(
		"""select date_format(si.posting_date, '%%Y-%%m') month, si.company,
			sum(si.dms_labour_amount) labour,
			sum(si.dms_parts_amount) parts,
			sum(case when si.dms_bill_to in ('Customer', 'Re-bill') then si.base_net_total else 0 end)
				customer_pay,
			sum(case when si.dms_bill_to = 'Warranty' then si.base_net_total else 0 end) warranty,
			sum(case when si.dms_bill_to = 'Internal' then si.base_net_total else 0 end) internal,
			sum(si.base_net_total) total,
			count(distinct si.dms_service_job_card) job_cards
		from `tabSales Invoice` si
		where si.docstatus = 1 and ifnull(si.dms_service_job_card, '') != ''
			and si.company in %(companies)s and si.posting_date between %(start)s and %(end)s
		group by month, si.company
		order by month, si.company""",
		{"companies": companies or [""], "start": start, "end": end},
		as_dict=True,
	)
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
