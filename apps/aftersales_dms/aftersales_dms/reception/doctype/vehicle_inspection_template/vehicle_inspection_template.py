# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document


class VehicleInspectionTemplate(Document):
	def validate(self):
		if not self.items:
			frappe.throw(_("A template needs at least one check."))
		seen = set()
		for row in self.items:
			key = ((row.section or "").strip().lower(), row.check_item.strip().lower())
			if key in seen:
				frappe.throw(_("Row {0}: check {1} is listed twice.").format(row.idx, row.check_item))
			seen.add(key)
		if self.is_default and not self.disabled:
			other = frappe.db.get_value(
				"Vehicle Inspection Template",
				{
					"vehicle_category": self.vehicle_category,
					"is_default": 1,
					"disabled": 0,
					"name": ("!=", self.name),
				},
			)
			if other:
				frappe.throw(
					_("{0} is already the default template for {1}.").format(other, self.vehicle_category)
				)


def default_template(vehicle_category: str) -> str | None:
	return frappe.db.get_value(
		"Vehicle Inspection Template", {"vehicle_category": vehicle_category, "is_default": 1, "disabled": 0}
	)
