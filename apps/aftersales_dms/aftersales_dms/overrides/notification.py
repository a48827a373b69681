"""Frappe's Notification with its SMS channel going through the outbox (delivery/sms_outbox.py)
instead of calling the gateway inside the saving request. Every other channel is Frappe's.

A notification of one of the app's documents is built and sent in a background job after the
commit (`send`): Frappe still decides in the saving request whether it fires (its event, condition
and value change), and the job renders it from the document as stored then — the person who
saved waits for no message to be rendered (the Ready for Pickup message states the amount the
invoice will bill, which builds that invoice). One job per notification and document however
many saves fired it before the job started (controllers/jobs). Under tests it is sent inline,
as Frappe's own jobs are (`now=frappe.flags.in_test`)."""

import frappe
from frappe import _
from frappe.email.doctype.notification.notification import Notification

from aftersales_dms.controllers import template_safety
from aftersales_dms.controllers.guards import is_app_doctype
from aftersales_dms.controllers.jobs import queue_once_after_commit, started
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

	def send(self, doc):
		if frappe.flags.in_test or not is_app_doctype(doc.doctype):
			return super().send(doc)
		queue_once_after_commit(
			queued_key(self.name, doc.doctype, doc.name),
			"aftersales_dms.overrides.notification.send_queued",
			notification=self.name,
			doctype=doc.doctype,
			name=doc.name,
		)

	def send_sms(self, doc, context):
		receivers = [r for r in self.get_receiver_list(doc, context) if r]
		if receivers:
			queue_sms(receivers, frappe.render_template(self.message, context), doc, self.name)


def queued_key(notification: str, doctype: str, name: str) -> str:
	return f"dms_notification:{notification}:{doctype}:{name}"


def send_queued(notification: str, doctype: str, name: str):
	"""The job DMSNotification.send queues: the notification, built from the document as stored."""
	started(queued_key(notification, doctype, name))
	alert = frappe.get_doc("Notification", notification)
	if not alert.enabled:
		return  # switched off since it fired
	try:
		doc = frappe.get_doc(doctype, name)
	except frappe.DoesNotExistError:
		frappe.clear_last_message()
		return
	Notification.send(alert, doc)
