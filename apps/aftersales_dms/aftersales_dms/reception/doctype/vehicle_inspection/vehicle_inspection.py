# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import now_datetime

from aftersales_dms.controllers.saves import LeanSave
from aftersales_dms.reception.doctype.vehicle_inspection_template.vehicle_inspection_template import (
	default_template,
)

RESULTS = ("Green", "Amber", "Red")


class VehicleInspection(LeanSave, Document):
	def validate(self):
		self.validate_template()
		self.validate_items_from_template()
		self.set_counts()

	def validate_template(self):
		"""The template is the one the check-in's vehicle category gave it when the check-in
		made it (read-only: a client's change is undone by controllers/guards.py); an inspection
		made without a check-in gets its vehicle category's."""
		if self.template:
			return
		category = frappe.db.get_value("Customer Vehicle", self.vehicle, "vehicle_category")
		self.template = default_template(category) if category else None
		if not self.template:
			frappe.throw(_("No inspection template applies to vehicle {0}.").format(self.vehicle))

	def template_items(self) -> dict:
		return {
			(r.section or "", r.check_item): r.mandatory
			for r in frappe.get_doc("Vehicle Inspection Template", self.template).items
		}

	def validate_items_from_template(self):
		"""The checks are the template's, put there when the inspection was made: a row is
		answered, never removed (a mandatory check would go unanswered) nor added twice."""
		template_items = self.template_items()
		before = self.get_doc_before_save()
		if before:
			kept = {r.name for r in self.items}
			removed = [r.check_item for r in before.items if r.name not in kept]
			if removed:
				frappe.throw(
					_("The checks of an inspection cannot be removed: {0}").format(", ".join(removed)),
					title=_("Inspection checks"),
				)
		seen = set()
		for row in self.items:
			key = (row.section or "", row.check_item)
			if key not in template_items:
				frappe.throw(
					_("Row {0}: {1} is not a check of template {2}.").format(
						row.idx, row.check_item, self.template
					)
				)
			if key in seen:
				frappe.throw(_("Row {0}: {1} is listed twice.").format(row.idx, row.check_item))
			seen.add(key)
			row.mandatory = template_items[key]  # the template decides, not the client

	def set_counts(self):
		for result in RESULTS:
			self.set(f"{result.lower()}_count", sum(1 for r in self.items if r.result == result))

	def before_submit(self):
		missing = [r.check_item for r in self.items if r.mandatory and not r.result]
		if missing:
			frappe.throw(
				_("Answer every mandatory check before completing the inspection: {0}").format(
					", ".join(missing)
				),
				title=_("Inspection incomplete"),
			)
		unexplained = [r.check_item for r in self.items if r.result == "Red" and not (r.note or "").strip()]
		if unexplained:
			frappe.throw(_("Say what is wrong for every Red result: {0}").format(", ".join(unexplained)))
		self.status = "Completed"
		self.completed_on = now_datetime()

	def on_cancel(self):
		self.db_set("status", "Cancelled")


def make_inspection(check_in, template: str) -> "VehicleInspection":
	tpl = frappe.get_doc("Vehicle Inspection Template", template)
	doc = frappe.get_doc(
		{
			"doctype": "Vehicle Inspection",
			"company": check_in.company,
			"vehicle_check_in": check_in.name,
			"vehicle": check_in.vehicle,
			"template": template,
			"items": [
				{"section": r.section, "check_item": r.check_item, "mandatory": r.mandatory}
				for r in tpl.items
			],
		}
	)
	doc.insert(ignore_permissions=True)
	return doc
