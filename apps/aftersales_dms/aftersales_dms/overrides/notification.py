"""Frappe's Notification with its SMS channel going through the outbox (delivery/sms_outbox.py)
instead of calling the gateway inside the saving request. Every other channel is Frappe's."""

import frappe
from frappe import _
from frappe.email.doctype.notification.notification import Notification

from aftersales_dms.controllers import template_safety
from aftersales_dms.delivery.sms_outbox import queue_sms


class DMSNotification(Notification):
	def validate(self):
		# before Frappe's own validate evaluates the condition: no server powers unless a System
		# Manager saves it (controllers/template_safety.py; its doc_event checks again after)
		template_safety.validate(self)
		super().validate()
		self.validate_property_update()

	def validate_property_update(self):
		"""Set Property After Alert writes the document without permission checks (Frappe saves it
		with ignore_permissions), so only a System Manager sets it: an OEM admin edits the
		notifications' text and recipients, not fields beyond their role's reach."""
		from aftersales_dms.roles import SYSTEM_MANAGER

		if frappe.session.user == "Administrator" or SYSTEM_MANAGER in frappe.get_roles():
			return
		before = self.get_doc_before_save()

		def setting(d):
			return (d.set_property_after_alert or None, d.property_value or None) if d else (None, None)

		if setting(self) != setting(before) and (self.set_property_after_alert or setting(before)[0]):
			frappe.throw(
				_(
					"Only a System Manager sets a property after the alert: it changes the document without permission checks."
				),
				frappe.PermissionError,
			)

	def send_sms(self, doc, context):
		receivers = [r for r in self.get_receiver_list(doc, context) if r]
		if receivers:
			queue_sms(receivers, frappe.render_template(self.message, context), doc, self.name)
