# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document


class TechnicianWorkDay(Document):
	"""Written only by aftersales_dms.analytics.technician_days (no role may create or edit one)."""


def on_doctype_update():
	# the efficiency report reads a technician's days by range; the job and the scheduler find
	# the stale ones
	frappe.db.add_index("Technician Work Day", ["technician", "day"])
	frappe.db.add_index("Technician Work Day", ["stale"])
