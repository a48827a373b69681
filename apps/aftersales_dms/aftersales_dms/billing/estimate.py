"""The job card's estimate: an ERPNext Quotation priced from its labour and parts.

Labour lines become quotation lines of the labour item with qty = standard hours and rate =
hourly rate; part lines keep qty and rate. Warranty and internal lines are covered: they are on
the estimate at a zero rate, so the Quotation's totals (taxes included) are what the customer
pays, and the approved discount goes on it as on the customer's invoice. Taxes come from the dealer's default Sales Taxes and
Charges Template, so ERPNext computes them exactly as it will on the invoice. Each quotation line
remembers its job card row (dms_job_card_row) for the customer's per-line decision later. A new
estimate replaces an open one, which is cancelled so only one is ever live.
"""

import frappe
from frappe import _
from frappe.utils import add_days, flt, today

from aftersales_dms.billing.approval import check_not_invoiced
from aftersales_dms.billing.customer_figures import apply_discount, hours, is_covered, payable
from aftersales_dms.controllers.guards import check_job_card_editor, lock_document
from aftersales_dms.controllers.pricing import dealer_price_list

ESTIMATE_VALID_DAYS = 15


def dealer_tax_template(company: str) -> str | None:
	return frappe.db.get_value(
		"Sales Taxes and Charges Template", {"company": company, "is_default": 1, "disabled": 0}
	)


def price(row) -> dict:
	"""A customer line at its rate; a covered one at zero (a zero price list rate too, or
	ERPNext would fill the list price in)."""
	if is_covered(row):
		return {"rate": 0, "price_list_rate": 0}
	return {"rate": flt(row.rate)}


@frappe.whitelist(methods=["POST"])
def make_estimate(job_card: str) -> str:
	"""Create and submit the Quotation for a job card; returns its name."""
	jc = frappe.get_doc("Service Job Card", job_card)
	check_job_card_editor(jc)
	# one estimate at a time: lock the job card and read it afresh (parent and lines) in the
	# same statements, so a second request waits here and then sees the first one's estimate
	lock_document(jc, check=None)
	if jc.status in ("Delivered", "Released", "Cancelled"):
		frappe.throw(_("Job card {0} is {1}: no new estimate.").format(jc.name, jc.status))
	# Ready for Pickup too, for a re-approval before invoicing (billing/approval.py); not after
	check_not_invoiced(jc, _("no new estimate; correct the invoice with a credit note"))
	if not (jc.labour or jc.parts):
		frappe.throw(_("Add labour or parts to the job card before estimating."))
	previous = jc.estimate
	items = [
		{
			"item_code": row.item_code,
			"qty": hours(row.standard_hours),
			"uom": frappe.db.get_value("Item", row.item_code, "stock_uom"),
			"description": row.item_name,
			"dms_job_card_row": row.name,
			**price(row),
		}
		for row in jc.labour
	] + [
		{
			"item_code": row.item_code,
			"qty": flt(row.qty),
			"dms_job_card_row": row.name,
			**price(row),
		}
		for row in jc.parts
	]
	quotation = frappe.get_doc(
		{
			"doctype": "Quotation",
			"quotation_to": "Customer",
			"party_name": jc.customer,
			"company": jc.company,
			"transaction_date": today(),
			"valid_till": add_days(today(), ESTIMATE_VALID_DAYS),
			"order_type": "Maintenance",
			"selling_price_list": dealer_price_list(jc.company),
			"ignore_pricing_rule": 1,
			"taxes_and_charges": dealer_tax_template(jc.company),
			"dms_service_job_card": jc.name,
			"items": items,
		}
	)
	apply_discount(quotation, jc)
	quotation.append_taxes_from_master()  # the dealer's template, whatever Accounts Settings say
	quotation.flags.ignore_permissions = True
	quotation.insert()
	quotation.submit()
	# a locking read too: the previous estimate may be another request's, committed while this
	# one waited, which this transaction's snapshot does not hold
	if previous and frappe.db.get_value("Quotation", previous, "docstatus", for_update=True) == 1:
		old = frappe.get_doc("Quotation", previous, for_update=True)
		old.flags.ignore_permissions = True
		old.cancel()
	frappe.db.set_value(
		"Service Job Card",
		jc.name,
		# a new estimate needs a new decision: any earlier link stops working
		{
			"estimate": quotation.name,
			"estimate_total": payable(quotation),  # what the customer pays if they approve it all
			"approval_nonce": None,
			"approval_status": None,
			"approval_link_expires": None,
		},
	)
	return quotation.name
