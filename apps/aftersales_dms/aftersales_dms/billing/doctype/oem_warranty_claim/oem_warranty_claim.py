# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

"""A warranty claim to the OEM for one warranty invoice (ERPNext's Warranty Claim is the
customer-facing complaint; this is the dealer's claim on the OEM).

Draft → Submitted (the dealer files it) → Approved or Rejected (the OEM decides). A rejection
credits the OEM invoice with an ERPNext credit note (financial only: the parts were fitted, the
cost of goods sold stays) and, if asked, re-bills the same lines to the customer as a draft.
"""

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import now_datetime

from aftersales_dms.controllers.guards import lock_document
from aftersales_dms.roles import OEM_ROLES, has_any_role


class OEMWarrantyClaim(Document):
	def validate(self):
		inv = frappe.db.get_value(
			"Sales Invoice",
			self.sales_invoice,
			[
				"docstatus",
				"is_return",
				"dms_bill_to",
				"dms_service_job_card",
				"company",
				"customer",
				"grand_total",
				"currency",
				"dms_vehicle",
				"dms_odometer",
			],
			as_dict=True,
		)
		if not inv or inv.docstatus != 1 or inv.is_return or inv.dms_bill_to != "Warranty":
			frappe.throw(
				_("{0} is not a submitted warranty invoice of a job card.").format(self.sales_invoice)
			)
		other = frappe.db.get_value(
			"OEM Warranty Claim",
			{"sales_invoice": self.sales_invoice, "docstatus": ("<", 2), "name": ("!=", self.name)},
		)
		if other:
			frappe.throw(
				_("Invoice {0} is already claimed in {1}.").format(self.sales_invoice, other),
				frappe.DuplicateEntryError,
			)
		self.update(
			{
				"service_job_card": inv.dms_service_job_card,
				"company": inv.company,
				"oem_customer": inv.customer,
				"claim_amount": inv.grand_total,
				"currency": inv.currency,
				"vehicle": inv.dms_vehicle,
				"vin": frappe.db.get_value("Customer Vehicle", inv.dms_vehicle, "vin"),
				"odometer": inv.dms_odometer,
			}
		)
		if frappe.db.get_value("Item", self.causal_part, "dms_item_kind") != "Part":
			frappe.throw(_("The causal part must be a part item."))
		self.set("operations", [])
		for item in frappe.get_all(
			"Sales Invoice Item",
			filters={"parent": self.sales_invoice},
			fields=["item_code", "qty", "amount"],
			order_by="idx",
		):
			if frappe.db.get_value("Item", item.item_code, "dms_item_kind") == "Labour":
				self.append(
					"operations",
					{
						"item_code": item.item_code,
						"hours": item.qty,
						"amount": item.amount,
						"currency": self.currency,
					},
				)
		if self.docstatus == 0:
			self.status = "Draft"

	def before_submit(self):
		self.status = "Submitted"

	def on_cancel(self):
		if self.status in ("Approved", "Rejected"):
			frappe.throw(_("The OEM has decided this claim; it cannot be cancelled."))
		self.db_set("status", "Cancelled")

	def check_decidable(self):
		if not has_any_role(OEM_ROLES):
			frappe.throw(_("Only the OEM decides warranty claims."), frappe.PermissionError)
		# one decision, on the stored claim: lock it and read it afresh
		lock_document(self, check="read")
		if self.docstatus != 1 or self.status != "Submitted":
			frappe.throw(
				_("Claim {0} is {1}; only a submitted claim can be decided.").format(
					self.name, _(self.status)
				)
			)

	@frappe.whitelist(methods=["POST"])
	def approve(self, oem_reference: str | None = None):
		"""The OEM's approval of a submitted claim, with its reference."""
		self.check_decidable()
		self.db_set(
			{
				"status": "Approved",
				"oem_reference": (oem_reference or "").strip()[:140] or None,
				"decided_by": frappe.session.user,
				"decided_on": now_datetime(),
			}
		)

	@frappe.whitelist(methods=["POST"])
	def reject(self, reason: str, rebill_customer: int = 0):
		"""The OEM's rejection of a submitted claim: a credit note against the warranty invoice
		and, if asked, the work re-billed to the customer."""
		self.check_decidable()
		reason = (reason or "").strip()
		if len(reason) < 5:
			frappe.throw(_("Give the OEM's reason for rejecting the claim."))
		credit_note = make_credit_note(self.sales_invoice, reason)
		rebill = make_rebill(self.sales_invoice, self.name) if frappe.utils.cint(rebill_customer) else None
		self.db_set(
			{
				"status": "Rejected",
				"rejection_reason": reason,
				"credit_note": credit_note,
				"rebill_invoice": rebill,
				"decided_by": frappe.session.user,
				"decided_on": now_datetime(),
			}
		)


def make_credit_note(invoice: str, reason: str) -> str:
	"""A submitted credit note against the OEM invoice for its full amount, without stock."""
	from erpnext.accounts.doctype.sales_invoice.sales_invoice import make_sales_return

	decided_by = frappe.session.user
	# the dealer's books are written by the system on the OEM's decision (the OEM user cannot
	# create the dealer's invoices): this one credit note, with a narrow permission flag on it
	# (never by switching the request's user, which resets the session it belongs to). The OEM
	# reads the invoice it credits; the claim records who decided.
	target = frappe.new_doc("Sales Invoice")
	target.flags.ignore_permissions = True
	note = make_sales_return(invoice, target)
	note.update_stock = 0  # the parts are in the customer's car: only the money goes back
	note.update_outstanding_for_self = 0  # settle the OEM invoice itself
	for item in note.items:
		item.warehouse = None
	note.remarks = _("Warranty claim rejected by {0}: {1}").format(decided_by, reason)
	note.flags.ignore_permissions = True
	note.insert()
	note.submit()
	return note.name


def make_rebill(invoice: str, claim: str) -> str:
	"""The rejected warranty lines billed to the job card's customer (draft for the accountant)."""
	source = frappe.get_doc("Sales Invoice", invoice)
	customer = frappe.db.get_value("Service Job Card", source.dms_service_job_card, "customer")
	rebill = frappe.get_doc(
		{
			"doctype": "Sales Invoice",
			"customer": customer,
			"company": source.company,
			"currency": source.currency,
			"selling_price_list": source.selling_price_list,
			"ignore_pricing_rule": 1,
			"update_stock": 0,
			"taxes_and_charges": source.taxes_and_charges,
			"dms_service_job_card": source.dms_service_job_card,
			"dms_vehicle": source.dms_vehicle,
			"dms_odometer": source.dms_odometer,
			"dms_bill_to": "Re-bill",
			"remarks": _("Warranty claim {0} rejected by the OEM: re-billed to the customer").format(claim),
			"items": [
				{
					"item_code": i.item_code,
					"qty": i.qty,
					"rate": i.rate,
					"uom": i.uom,
					"description": i.description,
					"dms_job_card_row": i.dms_job_card_row,
				}
				for i in source.items
			],
		}
	)
	rebill.append_taxes_from_master()
	rebill.flags.ignore_permissions = True
	rebill.insert()
	return rebill.name
