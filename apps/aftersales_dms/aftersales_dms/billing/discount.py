"""Discounts on the customer-pay part of a job card, within each role's limit.

The limits live in Aftersales Settings (role → highest discount %). A user gives a discount up
to the highest limit among their roles; above it the discount waits (Pending Approval) until
someone whose roles allow that much approves it. Who approved and when are kept on the job card,
and only an approved discount reaches the invoice.

The limit is on what the customer gets off a line in all: a rate typed below the line's price
and the job card's discount on top of it together (`given_on_line`) stay within the limit of the
user who saves the line or gives the discount, and of the one who approves a waiting discount.
"""

import frappe
from frappe import _
from frappe.utils import flt, now_datetime

from aftersales_dms.billing.approval import ask_again_after_discount
from aftersales_dms.billing.customer_figures import job_lines
from aftersales_dms.controllers.pricing import price_item

DEFAULT_LIMITS = {
	"Service Advisor": 5,
	"Service Accountant": 10,
	"Workshop Manager": 15,
	"System Manager": 100,
}


def user_limit(user: str | None = None) -> float:
	limits = {
		row.role: flt(row.max_discount_percent)
		for row in frappe.get_cached_doc("Aftersales Settings").discount_limits
	}
	return max((limits.get(role, 0) for role in frappe.get_roles(user)), default=0)


def given_on_line(rate: float, price: float, pct: float) -> float:
	"""The discount % a customer line gets in all: its rate below its price (a rate above the
	price gives nothing back), then the job card's discount of `pct` % on what is left."""
	if not flt(price):
		return flt(pct, 2)
	paid = min(flt(rate), flt(price)) * (1 - flt(pct) / 100)
	return flt((1 - paid / flt(price)) * 100, 2)


def applied_discount(jc) -> float:
	"""The job card's discount % that applies to its lines after this save: the approved one, or
	the one this user gives now within their limit (approved on this save); a waiting one does not
	apply until someone whose limit allows the lines and the discount together approves it."""
	before = jc.get_doc_before_save()
	pct = flt(jc.discount_percentage)
	if before and flt(before.discount_percentage) == pct:
		return pct if jc.discount_status == "Approved" else 0.0
	return pct if pct <= user_limit() else 0.0


def check_line_discount(jc, row, qty, pct: float, limit: float):
	"""A customer line's rate below its price and the job card's discount together stay within
	`limit` % (the limit is on what the customer gets off the line, however it is split). A
	rate of 0 is the line for nothing: 100 % off, checked like any rate below the price; a
	negative rate is no discount but an error (the rate fields are non_negative too, checked
	after the controller's validate)."""
	if flt(row.rate) < 0:
		frappe.throw(_("Row {0}: the rate of {1} cannot be negative.").format(row.idx, row.item_code))
	if (row.bill_to or "Customer") != "Customer":
		return
	price = price_item(row.item_code, jc.company, jc.customer, qty)
	if not price.price_list_rate or not flt(price.rate):
		return
	given = given_on_line(row.rate, price.rate, pct)
	if given <= flt(limit):
		return
	below = given_on_line(row.rate, price.rate, 0)
	if not flt(pct) or not below:
		message = _(
			"Row {0}: a rate of {1} for {2} is {3} % below its price of {4}; your discount limit "
			"is {5} %. Keep the price and give a discount on the job card instead (above your "
			"limit it waits for approval)."
		).format(row.idx, flt(row.rate), row.item_code, below, flt(price.rate), flt(limit))
	else:
		message = _(
			"Row {0}: a rate of {1} for {2} is {3} % below its price of {4} and the job card's "
			"discount is {5} %: together the customer gets {6} % off this line, above your limit "
			"of {7} %. Put the line back at its price or lower the discount, or ask someone with a "
			"higher limit."
		).format(row.idx, flt(row.rate), row.item_code, below, flt(price.rate), flt(pct), given, flt(limit))
	frappe.throw(message, frappe.PermissionError, title=_("Discount above your limit"))


def check_stacked(jc, pct: float, limit: float):
	"""Every customer line of the job card with the job card's discount of `pct` % on top stays
	within `limit` %."""
	for row in job_lines(jc):
		qty = row.standard_hours if row.doctype == "Service Job Card Labour" else row.qty
		check_line_discount(jc, row, qty, pct, limit)


def validate_discount(jc, before):
	"""Called from the job card's validate (the status fields are system fields, kept from before)."""
	pct = flt(jc.discount_percentage)
	if pct < 0 or pct > 100:
		frappe.throw(_("The discount must be between 0 and 100 %."))
	old = flt(before.discount_percentage) if before else 0
	if pct == old:
		return
	if jc.customer_invoice and frappe.db.get_value("Sales Invoice", jc.customer_invoice, "docstatus") != 2:
		frappe.throw(
			_("The customer is already invoiced ({0}); the discount can no longer change.").format(
				jc.customer_invoice
			)
		)
	if not pct:
		jc.discount_status = jc.discount_approved_by = jc.discount_approved_on = None
		return
	if not (jc.discount_reason or "").strip():
		frappe.throw(_("Give a reason for the discount."))
	if pct <= user_limit():
		check_stacked(jc, pct, user_limit())
		set_approved(jc)
	else:
		jc.discount_status = "Pending Approval"
		jc.discount_approved_by = jc.discount_approved_on = None


def set_approved(jc):
	jc.discount_status = "Approved"
	jc.discount_approved_by = frappe.session.user
	jc.discount_approved_on = now_datetime()


@frappe.whitelist(methods=["POST"])
def approve_discount(job_card: str, discount_percentage: float | None = None):
	"""Approve the job card's discount waiting for approval, within the approver's discount limit.
	The job card is locked and the discount read under the lock: what is approved is the figure
	stored (and, when `discount_percentage` is given, the figure the approver saw)."""
	jc = frappe.get_doc("Service Job Card", job_card)
	jc.check_permission("read")
	locked = frappe.db.get_value(
		"Service Job Card",
		job_card,
		["discount_status", "discount_percentage", "customer_invoice"],
		as_dict=True,
		for_update=True,
	)
	pct = flt(locked.discount_percentage)
	if locked.discount_status != "Pending Approval":
		frappe.throw(_("Job card {0} has no discount waiting for approval.").format(jc.name))
	if discount_percentage is not None and flt(discount_percentage) != pct:
		frappe.throw(
			_("The discount on job card {0} changed to {1} %; reload and check it before approving.").format(
				jc.name, pct
			)
		)
	if pct > user_limit():
		frappe.throw(
			_("A {0} % discount is above your limit of {1} %.").format(pct, user_limit()),
			frappe.PermissionError,
		)
	# the lines as stored now (the job card is locked): the approved figure is the lines' too
	check_stacked(frappe.get_doc("Service Job Card", job_card), pct, user_limit())
	if (
		locked.customer_invoice
		and frappe.db.get_value("Sales Invoice", locked.customer_invoice, "docstatus") != 2
	):
		frappe.throw(
			_("The customer is already invoiced ({0}); the discount can no longer change.").format(
				locked.customer_invoice
			)
		)
	approved = frappe._dict()
	set_approved(approved)
	frappe.db.set_value("Service Job Card", jc.name, approved)
	ask_again_after_discount(jc.name)  # what the customer pays changed: their decision again
	jc.add_comment("Info", _("Discount of {0} % approved").format(pct))


def make_default_limits():
	"""Install: default limits once; OEM admins and system managers change them in the desk."""
	settings = frappe.get_single("Aftersales Settings")
	if settings.discount_limits:
		return
	for role, pct in DEFAULT_LIMITS.items():
		settings.append("discount_limits", {"role": role, "max_discount_percent": pct})
	settings.flags.ignore_permissions = True
	settings.save()
