# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document

from aftersales_dms.delivery.sms_outbox import schedule_send


class OutgoingSMS(Document):
	@frappe.whitelist()
	def retry(self):
		"""Queue a Failed message again (after the gateway is fixed); a sent one is never resent."""
		self.check_permission("write")
		if self.status != "Failed":
			frappe.throw(_("Only a Failed SMS can be retried; this one is {0}.").format(_(self.status)))
		self.db_set({"status": "Queued", "attempts": 0, "next_attempt_after": None, "last_error": None})
		schedule_send()
