# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

"""A dealer's workshop settings: one record per Company, named by it.

Kept in a DocType of our own rather than as custom fields on Company: a Link custom field on
Company (to Warehouse, Customer) makes ERPNext's test runner build Warehouse and Customer test
records before `_Test Company`, which they need (see README, "ERPNext's own tests beside ours").
Every stage reads them through controllers/dealer.py `get_workshop_settings`.
"""

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint, to_timedelta

MIN_SLOT, MAX_SLOT = 5, 240


class DealerWorkshopSettings(Document):
	def validate(self):
		if to_timedelta(self.workshop_closes) <= to_timedelta(self.workshop_opens):
			frappe.throw(_("The workshop must close after it opens."))
		if not MIN_SLOT <= cint(self.slot_minutes) <= MAX_SLOT:
			frappe.throw(
				_("The booking slot must be between {0} and {1} minutes.").format(MIN_SLOT, MAX_SLOT)
			)
		for field in ("parts_warehouse", "wip_warehouse"):
			warehouse = self.get(field)
			if not warehouse:
				continue
			company, is_group = frappe.db.get_value("Warehouse", warehouse, ["company", "is_group"]) or (
				None,
				0,
			)
			if company != self.company:
				frappe.throw(_("Warehouse {0} belongs to another dealer.").format(warehouse))
			if is_group:
				frappe.throw(
					_("Warehouse {0} is a group; choose a warehouse that holds stock.").format(warehouse)
				)
		if self.parts_warehouse and self.parts_warehouse == self.wip_warehouse:
			frappe.throw(_("The parts store and the WIP warehouse must differ."))
		self.validate_price_list()

	def validate_price_list(self):
		if not self.selling_price_list:
			return
		selling, enabled = frappe.db.get_value(
			"Price List", self.selling_price_list, ["selling", "enabled"]
		) or (0, 0)
		if not selling or not enabled:
			frappe.throw(
				_("Price list {0} is not an enabled selling price list.").format(self.selling_price_list)
			)
