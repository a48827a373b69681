# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

from frappe.model.document import Document


class WorkshopRevenueJobCardMonth(Document):
	"""Written only by aftersales_dms.analytics.revenue_rollup (no role may create or edit one)."""
