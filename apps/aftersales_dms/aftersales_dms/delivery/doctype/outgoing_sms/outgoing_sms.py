# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document

from aftersales_dms.controllers.guards import lock_document
from aftersales_dms.delivery.sms_outbox import schedule_send
from aftersales_dms.roles import SMS_RETRY_ROLES, has_any_role

# rows are written only by the outbox (delivery/sms_outbox.py): no role may create or edit one,
# or a forged row would be sent to any number; these may queue a Failed one again


class OutgoingSMS(Document):
	@frappe.whitelist(methods=["POST"])
	def retry(self):
		"""Queue a Failed message again (after the gateway is fixed); a sent one is never resent."""
		if not has_any_role(SMS_RETRY_ROLES):
			frappe.throw(_("Only a Workshop Manager can retry an SMS."), frappe.PermissionError)
		# the stored message, locked and read afresh (never the status or company a client sent)
		lock_document(self, check="read")
		if self.status != "Failed":
			frappe.throw(_("Only a Failed SMS can be retried; this one is {0}.").format(_(self.status)))
		self.db_set({"status": "Queued", "attempts": 0, "next_attempt_after": None, "last_error": None})
		schedule_send()
