# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

from frappe.model.document import Document


class TechnicianWorkDay(Document):
	"""Written only by aftersales_dms.analytics.technician_days (no role may create or edit one)."""
