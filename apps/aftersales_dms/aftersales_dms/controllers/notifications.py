"""Frappe's "Value Change" Notifications, without loading each one on every save.

On each save Frappe (v15, Document.run_notifications) loads every enabled Notification of the
DocType whose event is "Value Change" from the database (the Notification and its recipients: two
queries each) and only then sees that the watched field did not change. The job card has four of
them (ready for pickup, feedback request; email and SMS), so each of its saves read eight rows that
decide nothing — the clock, assignments, QC checks, most of a journey's saves. This hook, run just
before Frappe's notifications of `on_change`, marks as already evaluated for this save the alerts
whose watched field has the value it had before the save: exactly the ones Frappe's
evaluate_alert would leave without effect (it marks every alert it evaluates the same way). An
alert whose field did change but whose condition does not hold now (the job card's status moved,
but not to Ready for Pickup) is marked the same way, after the same test Frappe's evaluate_alert
makes first (`frappe.safe_eval` of the condition with Frappe's own context; the condition read
from the cached Notification, which Frappe clears when the Notification is saved). Any other
alert is left to Frappe, which evaluates it as before. A condition that raises on the document
counts as not met: the alert is not sent and the failure is logged (in Frappe it would refuse
the save: one OEM admin's broken condition would stop every dealer's status moves).
"""

import frappe
from frappe import _
from frappe.utils import cast


def skip_unchanged_value_alerts(doc, method=None):
	"""doc_events "*" on_change: see the module's docstring."""
	if doc.flags.in_insert or doc.flags.in_delete or doc.is_new():
		return  # Frappe evaluates no "Value Change" alert then
	alerts = doc.flags.notifications
	if alerts is None:
		# Frappe's own cache of the DocType's enabled notifications; not filled yet: Frappe decides
		alerts = frappe.cache.hget("notifications", doc.doctype)
	if not alerts:
		return
	before = doc.get_doc_before_save()
	executed = doc.flags.notifications_executed
	if executed is None:
		executed = doc.flags.notifications_executed = []
	for alert in alerts:
		if alert.get("event") != "Value Change" or alert.get("name") in executed:
			continue
		fieldname = frappe.get_cached_value("Notification", alert.get("name"), "value_changed")
		df = doc.meta.get_field(fieldname) if fieldname else None
		if not df or df.is_virtual:
			continue  # Frappe's check of the column (and disabling of the alert) applies
		old = before.get(fieldname) if before else None
		if cast(df.fieldtype, doc.get(fieldname)) == cast(df.fieldtype, old):
			executed.append(alert.get("name"))
		elif not condition_holds(alert.get("name"), doc):
			executed.append(alert.get("name"))


def condition_holds(notification: str, doc) -> bool:
	"""The alert's condition, as Frappe's evaluate_alert tests it first (True when it has none, or
	when it cannot be evaluated here: Frappe then evaluates, and reports, as before)."""
	from frappe.email.doctype.notification.notification import get_context

	condition = frappe.get_cached_value("Notification", notification, "condition")
	if not condition:
		return True
	try:
		return bool(frappe.safe_eval(condition, None, get_context(doc)))
	except Exception:
		# a condition that fails on this document (an OEM admin's mistake) does not stop the
		# dealer's save, as it would in Frappe's evaluate_alert: the alert is not sent and the
		# failure goes to the Error Log, as a failed send does
		frappe.log_error(
			title=_("Notification {0}: its condition failed on {1} {2}").format(
				notification, doc.doctype, doc.name
			)
		)
		return False
