# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import flt

from aftersales_dms.booking.recall import open_campaigns_for

PRICE_LIST = "Standard Selling"


def selling_rate(item_code: str) -> float:
	return flt(
		frappe.db.get_value(
			"Item Price", {"item_code": item_code, "price_list": PRICE_LIST}, "price_list_rate"
		)
	)


def labour_line(
	item_code: str, company: str, technician=None, source="Customer Request", recall_campaign=None
) -> dict:
	hours = flt(frappe.db.get_value("Item", item_code, "dms_standard_hours"))
	return {
		"item_code": item_code,
		"standard_hours": hours,
		"rate": selling_rate(item_code),
		"technician": technician,
		"source": source,
		"recall_campaign": recall_campaign,
	}


def add_recall_lines(job_card, vehicle: str, company: str):
	"""Append each open campaign's remedy (labour and parts) once, marked with the campaign."""
	for campaign in open_campaigns_for(vehicle):
		for row in campaign.remedy_items:
			kind = frappe.db.get_value("Item", row.item_code, "dms_item_kind")
			if kind == "Labour":
				job_card.append(
					"labour",
					labour_line(
						row.item_code, company, source="Recall Campaign", recall_campaign=campaign.name
					),
				)
			else:
				job_card.append(
					"parts",
					{
						"item_code": row.item_code,
						"qty": flt(row.qty) or 1,
						"rate": selling_rate(row.item_code),
						"source": "Recall Campaign",
						"recall_campaign": campaign.name,
					},
				)


class ServiceJobCard(Document):
	def validate(self):
		self.validate_status_untouched()
		self.validate_vehicle_owner()
		self.validate_check_in()
		self.validate_labour()
		self.validate_parts()
		self.set_totals()

	def validate_status_untouched(self):
		before = self.get_doc_before_save()
		old = before.status if before else "Open"
		if self.status != old and not self.flags.status_change:
			frappe.throw(_("The job card's status changes only through its workflow actions."))

	def validate_vehicle_owner(self):
		owner = frappe.db.get_value("Customer Vehicle", self.vehicle, "customer")
		if owner != self.customer:
			frappe.throw(
				_("Vehicle {0} belongs to {1}, not to {2}.").format(self.vehicle, owner, self.customer)
			)

	def validate_check_in(self):
		if not self.vehicle_check_in:
			return
		ci = frappe.db.get_value(
			"Vehicle Check In", self.vehicle_check_in, ["docstatus", "vehicle", "company"], as_dict=True
		)
		if ci.docstatus != 1 or ci.vehicle != self.vehicle or ci.company != self.company:
			frappe.throw(
				_("Check-in {0} is not a submitted check-in of this vehicle at this dealer.").format(
					self.vehicle_check_in
				)
			)
		if self.is_new():
			other = frappe.db.get_value(
				"Service Job Card", {"vehicle_check_in": self.vehicle_check_in, "status": ("!=", "Cancelled")}
			)
			if other:
				frappe.throw(
					_("Job card {0} is already open for this check-in.").format(other),
					frappe.DuplicateEntryError,
				)

	def validate_labour(self):
		for row in self.labour:
			if frappe.db.get_value("Item", row.item_code, "dms_item_kind") != "Labour":
				frappe.throw(_("Labour row {0}: {1} is not a labour item.").format(row.idx, row.item_code))
			if flt(row.standard_hours) <= 0 or flt(row.standard_hours) > 100:
				frappe.throw(
					_("Labour row {0}: standard hours must be more than 0 and at most 100.").format(row.idx)
				)
			if (
				row.technician
				and frappe.db.get_value("Service Technician", row.technician, "company") != self.company
			):
				frappe.throw(
					_("Labour row {0}: technician {1} works for another dealer.").format(
						row.idx, row.technician
					)
				)
			row.amount = flt(flt(row.standard_hours) * flt(row.rate), row.precision("amount"))

	def validate_parts(self):
		for row in self.parts:
			kind, is_stock = frappe.db.get_value("Item", row.item_code, ["dms_item_kind", "is_stock_item"])
			if kind != "Part" or not is_stock:
				frappe.throw(_("Parts row {0}: {1} is not a stock part.").format(row.idx, row.item_code))
			if flt(row.qty) <= 0 or flt(row.qty) > 10_000:
				frappe.throw(
					_("Parts row {0}: quantity must be more than 0 and at most 10,000.").format(row.idx)
				)
			row.amount = flt(flt(row.qty) * flt(row.rate), row.precision("amount"))

	def set_totals(self):
		self.total_hours = flt(sum(flt(r.standard_hours) for r in self.labour), 2)
		self.labour_total = sum(flt(r.amount) for r in self.labour)
		self.parts_total = sum(flt(r.amount) for r in self.parts)
		self.grand_total = self.labour_total + self.parts_total

	def after_insert(self):
		if self.vehicle_check_in:
			frappe.db.set_value("Vehicle Check In", self.vehicle_check_in, "service_job_card", self.name)

	def on_trash(self):
		if self.vehicle_check_in:
			frappe.db.set_value("Vehicle Check In", self.vehicle_check_in, "service_job_card", None)


def on_doctype_update():
	frappe.db.add_index("Service Job Card", ["company", "status"])
