"""Selling prices of job card lines: the dealer's selling price list through ERPNext's own pricing.

One function, `price_item`, asks ERPNext's `get_item_details` (as a Quotation would) for an item's
price for a party: the Item Price of the dealer's price list (a customer-specific Item Price
first), then the Pricing Rules that apply (rate, discount, margin). The dealer's list is
`selling_price_list` of its Dealer Workshop Settings, or Selling Settings' default when that is
empty. Shared (controllers/) so the workshop prices its lines and billing names the same list on
the Quotation and the Sales Invoice.
"""

import frappe
from frappe import _
from frappe.utils import flt, nowdate

from aftersales_dms.controllers.saves import memo_scope, scope_memo


class NoSellingPriceError(frappe.ValidationError):
	pass


def dealer_price_list(company: str) -> str:
	"""The dealer's selling price list: its Dealer Workshop Settings, else Selling Settings'."""
	price_list = (
		company and frappe.db.get_value("Dealer Workshop Settings", company, "selling_price_list")
	) or frappe.db.get_single_value("Selling Settings", "selling_price_list")
	if not price_list:
		frappe.throw(
			_("Set a selling price list in the Dealer Workshop Settings of {0}.").format(company),
			title=_("No selling price list"),
		)
	return price_list


def one_lookup_per_price():
	"""Within it, price_item asks ERPNext once per set of arguments: a job card's save prices a new
	line and then checks the line against the discount limit at the same price (two
	get_item_details of ~10 statements each per line before). Scoped to the block, so a price
	changed later is read afresh; nested blocks share the outer one's answers."""
	return memo_scope("price")


def price_item(
	item_code: str,
	company: str,
	customer: str | None = None,
	qty: float = 1,
	price_list: str | None = None,
	transaction_date: str | None = None,
) -> frappe._dict:
	"""{price_list, price_list_rate, rate, pricing_rules} of one item for `customer` at `company`.

	`rate` is after the Pricing Rules (margin, then discount), computed as ERPNext's
	taxes_and_totals does for a line; `price_list_rate` is None when the item has no price in
	the list and no rule gives it one."""
	memo = scope_memo("price")
	key = (item_code, company, customer, flt(qty), price_list, transaction_date)
	if memo is not None and key in memo:
		return frappe._dict(memo[key])
	price = _price_item(item_code, company, customer, qty, price_list, transaction_date)
	if memo is not None:
		memo[key] = frappe._dict(price)
	return price


def _price_item(item_code, company, customer, qty, price_list, transaction_date) -> frappe._dict:
	from erpnext.stock.get_item_details import get_item_details

	price_list = price_list or dealer_price_list(company)
	currency = frappe.get_cached_value("Company", company, "default_currency")
	out = get_item_details(
		{
			"item_code": item_code,
			"company": company,
			"customer": customer,
			"doctype": "Quotation",
			"quotation_to": "Customer",
			"party_name": customer,
			"selling_price_list": price_list,
			"price_list": price_list,
			"currency": currency,
			"conversion_rate": 1,
			"transaction_date": transaction_date or nowdate(),
			"qty": flt(qty) or 1,
			"stock_qty": flt(qty) or 1,
			"conversion_factor": 1,
			"ignore_pricing_rule": 0,
		}
	)
	list_rate = flt(out.get("price_list_rate"))
	if not list_rate:
		return frappe._dict(price_list=price_list, price_list_rate=None, rate=0, pricing_rules=None)
	with_margin = list_rate
	if out.get("has_margin") or out.get("margin_rate_or_amount"):
		margin = flt(out.get("margin_rate_or_amount"))
		if out.get("margin_type") == "Percentage":
			with_margin = list_rate * (1 + margin / 100)
		elif out.get("margin_type") == "Amount":
			with_margin = list_rate + margin
	discount_pct = flt(out.get("discount_percentage"))
	if discount_pct:
		rate = with_margin * (1 - discount_pct / 100)
	else:
		rate = with_margin - flt(out.get("discount_amount"))
	return frappe._dict(
		price_list=price_list,
		price_list_rate=list_rate,
		rate=max(flt(rate, 2), 0),
		pricing_rules=out.get("pricing_rules"),
	)


def selling_rate(item_code: str, company: str, customer: str | None = None, qty: float = 1) -> float:
	"""The rate of a line that comes without one; a clear error when the item has no price."""
	price = price_item(item_code, company, customer, qty)
	if price.price_list_rate is None:
		frappe.throw(
			_("No selling price for {0} in price list {1}: add an Item Price or type the rate.").format(
				frappe.bold(item_code), frappe.bold(price.price_list)
			),
			NoSellingPriceError,
			title=_("No selling price"),
		)
	return price.rate


def check_covered_rate(row, company: str, party: str, qty: float = 1):
	"""A covered line's rate is its payer's price, not the dealer staff's to set: a Warranty line
	is billed to the OEM at exactly the OEM's price (its customer-specific Item Price or Pricing
	Rule in the dealer's list, the warranty labour rate), an Internal line to the dealer's internal
	customer at most at that customer's price (less, e.g. at cost, is the dealer's own business).
	The job card prices a line without a typed rate (and one whose payer changes) itself; a typed
	rate outside this is refused."""
	payer = row.bill_to
	price = price_item(row.item_code, company, party, qty)
	if price.price_list_rate is None:
		frappe.throw(
			_("Row {0}: no {1} price for {2} in price list {3}; add an Item Price for {4}.").format(
				row.idx, _(payer), frappe.bold(row.item_code), frappe.bold(price.price_list), party
			),
			NoSellingPriceError,
			title=_("No selling price"),
		)
	rate, allowed = flt(row.rate, 2), flt(price.rate, 2)
	if payer == "Warranty" and abs(rate - allowed) >= 0.005:
		frappe.throw(
			_(
				"Row {0}: {1} is warranty work, billed to the manufacturer at its price of {2}; a rate"
				" of {3} cannot be given (clear the rate to take the price)."
			).format(row.idx, row.item_code, allowed, rate),
			frappe.ValidationError,
			title=_("Warranty rate"),
		)
	if payer == "Internal" and rate > allowed + 0.005:
		frappe.throw(
			_(
				"Row {0}: {1} is internal work, billed to {2} at most at its price of {3}; a rate of"
				" {4} is above it."
			).format(row.idx, row.item_code, party, allowed, rate),
			frappe.ValidationError,
			title=_("Internal rate"),
		)
