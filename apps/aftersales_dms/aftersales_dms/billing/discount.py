"""Discounts on the customer-pay part of a job card, within each role's limit.

The limits live in Aftersales Settings (role → highest discount %). A user gives a discount up
to the highest limit among their roles; above it the discount waits (Pending Approval) until
someone whose roles allow that much approves it. Who approved and when are kept on the job card,
and only an approved discount reaches the invoice.
"""

import frappe
from frappe import _
from frappe.utils import flt, now_datetime

from aftersales_dms.billing.approval import ask_again_after_discount

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
