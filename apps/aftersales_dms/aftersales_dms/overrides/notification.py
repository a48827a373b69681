"""Frappe's Notification with its SMS channel going through the outbox (delivery/sms_outbox.py)
instead of calling the gateway inside the saving request. Every other channel is Frappe's."""

import frappe
from frappe.email.doctype.notification.notification import Notification

from aftersales_dms.delivery.sms_outbox import queue_sms


class DMSNotification(Notification):
	def send_sms(self, doc, context):
		receivers = [r for r in self.get_receiver_list(doc, context) if r]
		if receivers:
			queue_sms(receivers, frappe.render_template(self.message, context), doc, self.name)
