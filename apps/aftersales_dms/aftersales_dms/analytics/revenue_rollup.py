"""Workshop revenue per dealer and month, kept as service invoices are submitted and cancelled.

The Workshop Revenue report reads whole months from `Workshop Revenue Month` and only the
partial months at the ends of its range from the invoices, so an OEM's network-wide year reads
dealers x 12 rows however many job cards the network has.

Kept in the invoice's own transaction (Sales Invoice on_submit / on_cancel): a rolled-back
submit changes nothing, and the figures equal what the invoices say at every commit. Each change
is an atomic upsert (`insert ... on duplicate key update x = x + ...`), so concurrent submits of
one dealer queue on its month's row for the moment between the upsert and their commit, and
never lose an update. The job card count is exact too: `Workshop Revenue Job Card Month` counts
each job card's invoices in the month; the month's count goes up with a job card's first and down
with its last.
"""

import frappe
from frappe.utils import flt, get_first_day, now_datetime

MONTH_FIELDS = ("labour", "parts", "customer_pay", "warranty", "internal", "total")
# the same figures summed over a set of service invoices `si` (in MONTH_FIELDS order): the
# report's partial months and the rebuild
INVOICE_SUMS = """sum(si.dms_labour_amount) labour, sum(si.dms_parts_amount) parts,
	sum(case when si.dms_bill_to in ('Customer', 'Re-bill') then si.base_net_total else 0 end)
		customer_pay,
	sum(case when si.dms_bill_to = 'Warranty' then si.base_net_total else 0 end) warranty,
	sum(case when si.dms_bill_to = 'Internal' then si.base_net_total else 0 end) internal,
	sum(si.base_net_total) total"""


def figures(si, sign: int) -> dict:
	"""The invoice's contribution, the same figures the report sums from invoices."""
	net = flt(si.base_net_total)
	return {
		"labour": sign * flt(si.dms_labour_amount),
		"parts": sign * flt(si.dms_parts_amount),
		"customer_pay": sign * net if si.dms_bill_to in ("Customer", "Re-bill") else 0,
		"warranty": sign * net if si.dms_bill_to == "Warranty" else 0,
		"internal": sign * net if si.dms_bill_to == "Internal" else 0,
		"total": sign * net,
	}


def on_invoice_change(si, method=None):
	"""Sales Invoice on_submit / on_cancel."""
	if not si.get("dms_service_job_card"):
		return
	sign = 1 if si.docstatus == 1 else -1
	month = get_first_day(si.posting_date)
	now, user = now_datetime(), frappe.session.user
	key = f"{si.dms_service_job_card}|{month:%Y-%m}"
	frappe.db.sql(
		"""insert into `tabWorkshop Revenue Job Card Month`
			(name, creation, modified, owner, modified_by, job_card, company, month, invoices)
		values (%s, %s, %s, %s, %s, %s, %s, %s, %s)
		on duplicate key update invoices = invoices + values(invoices),
			modified = values(modified), modified_by = values(modified_by)""",
		(key, now, now, user, user, si.dms_service_job_card, si.company, month, sign),
	)
	# the upsert holds this row's lock until commit: the count read here is ours alone
	invoices = frappe.db.sql(
		"select invoices from `tabWorkshop Revenue Job Card Month` where name = %s", key
	)[0][0]
	job_cards = 0
	if sign > 0 and invoices == 1:
		job_cards = 1  # the job card's first invoice in the month
	elif invoices <= 0:
		job_cards = -1  # its last one cancelled
		frappe.db.sql("delete from `tabWorkshop Revenue Job Card Month` where name = %s", key)

	values = figures(si, sign)
	columns = ", ".join(MONTH_FIELDS)
	frappe.db.sql(
		f"""insert into `tabWorkshop Revenue Month`
			(name, creation, modified, owner, modified_by, company, month, invoices, job_cards, {columns})
		values (%(name)s, %(now)s, %(now)s, %(user)s, %(user)s, %(company)s, %(month)s, %(invoices)s,
			%(job_cards)s, {", ".join(f"%({f})s" for f in MONTH_FIELDS)})
		on duplicate key update invoices = invoices + values(invoices),
			job_cards = job_cards + values(job_cards),
			{", ".join(f"{f} = {f} + values({f})" for f in MONTH_FIELDS)},
			modified = values(modified), modified_by = values(modified_by)""",
		{
			"name": f"{si.company}|{month:%Y-%m}",
			"now": now,
			"user": user,
			"company": si.company,
			"month": month,
			"invoices": sign,
			"job_cards": job_cards,
			**values,
		},
	)


def rebuild():
	"""Recompute both tables from the submitted invoices (the upgrade patch, and the benchmark's
	bulk loader, which writes invoices without their controllers). Run it while no invoice is
	being submitted, as migrations run."""
	frappe.db.sql("delete from `tabWorkshop Revenue Job Card Month`")
	frappe.db.sql("delete from `tabWorkshop Revenue Month`")
	service = "si.docstatus = 1 and ifnull(si.dms_service_job_card, '') != ''"
	frappe.db.sql(
		f"""insert into `tabWorkshop Revenue Job Card Month`
			(name, creation, modified, owner, modified_by, job_card, company, month, invoices)
		select concat(si.dms_service_job_card, '|', date_format(si.posting_date, '%Y-%m')),
			now(), now(), 'Administrator', 'Administrator', si.dms_service_job_card,
			min(si.company), date_format(si.posting_date, '%Y-%m-01'), count(*)
		from `tabSales Invoice` si
		where {service}
		group by si.dms_service_job_card, date_format(si.posting_date, '%Y-%m')"""
	)
	frappe.db.sql(
		f"""insert into `tabWorkshop Revenue Month`
			(name, creation, modified, owner, modified_by, company, month, invoices, job_cards,
			{", ".join(MONTH_FIELDS)})
		select concat(si.company, '|', date_format(si.posting_date, '%Y-%m')),
			now(), now(), 'Administrator', 'Administrator', si.company,
			date_format(si.posting_date, '%Y-%m-01'), count(*), count(distinct si.dms_service_job_card),
			{INVOICE_SUMS}
		from `tabSales Invoice` si
		where {service}
		group by si.company, date_format(si.posting_date, '%Y-%m')"""
	)
