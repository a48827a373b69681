# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import now_datetime

RESULTS = ("Green", "Amber", "Red")


class VehicleInspection(Document):
	def validate(self):
		self.validate_items_from_template()
		self.set_counts()

	def validate_items_from_template(self):
		template_items = {
			(r.section or "", r.check_item): r.mandatory
			for r in frappe.get_doc("Vehicle Inspection Template", self.template).items
		}
		for row in self.items:
			key = (row.section or "", row.check_item)
			if key not in template_items:
				frappe.throw(
					_("Row {0}: {1} is not a check of template {2}.").format(
						row.idx, row.check_item, self.template
					)
				)
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
