# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import getdate

from aftersales_dms.utils.vin import InvalidVIN, validate_vin


class RecallCampaign(Document):
	def validate(self):
		self.validate_scope()
		self.validate_dates()
		self.validate_vins()

	def validate_scope(self):
		if not (self.make or self.model or self.year_from or self.year_to or self.vins):
			frappe.throw(_("Say which vehicles are affected: a make/model/year range or a list of VINs."))
		if self.year_from and self.year_to and self.year_to < self.year_from:
			frappe.throw(_("Model year to cannot be before model year from."))

	def validate_dates(self):
		if self.start_date and self.end_date and getdate(self.end_date) < getdate(self.start_date):
			frappe.throw(_("End date cannot be before start date."))

	def validate_vins(self):
		seen = set()
		for row in self.vins:
			try:
				row.vin, _warnings = validate_vin(row.vin)
			except InvalidVIN as e:
				frappe.throw(_("Row {0}: {1}").format(row.idx, e))
			if row.vin in seen:
				frappe.throw(_("Row {0}: VIN {1} is listed twice.").format(row.idx, row.vin))
			seen.add(row.vin)
