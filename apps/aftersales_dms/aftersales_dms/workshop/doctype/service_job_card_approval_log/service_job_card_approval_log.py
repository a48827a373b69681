# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

from frappe.model.document import Document


class ServiceJobCardApprovalLog(Document):
	pass
