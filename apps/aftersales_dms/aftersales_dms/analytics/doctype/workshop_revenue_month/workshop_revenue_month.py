# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document


class WorkshopRevenueMonth(Document):
	"""Written only by aftersales_dms.analytics.revenue_rollup (no role may create or edit one)."""


def on_doctype_update():
	frappe.db.add_index("Workshop Revenue Month", ["company", "month"])
