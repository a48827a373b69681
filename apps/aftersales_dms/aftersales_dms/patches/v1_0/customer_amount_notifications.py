"""The Ready-for-Pickup Notifications name what the customer owes, with tax.

v1.0 shipped the SMS with "Amount due: <the job card's pre-tax total of every line>" (warranty
work included) and the email with no amount. A Notification still holding the shipped text gets
the new text (`customer_amount_due(doc)`, billing/customer_figures.py); one the OEM admin or
dealer has edited is theirs and stays as it is, with a comment on it saying what changed."""

import json
import os

import frappe

OLD_MESSAGES = {
	"Vehicle Ready for Pickup - SMS": "{{ doc.company }}: your vehicle {{ doc.registration_plate }} is"
	" ready for pickup (job card {{ doc.name }}). Amount due: {{ frappe.utils.fmt_money(doc.grand_total,"
	" currency=doc.currency) }}.",
	"Vehicle Ready for Pickup - Email": "<p>Dear {{ doc.customer_name }},</p>\n<p>the work on your"
	" vehicle <b>{{ doc.registration_plate }}</b> (job card {{ doc.name }}) is done and has passed our"
	" quality check. You can collect it at <b>{{ doc.company }}</b>.</p>",
}


def shipped_messages() -> dict:
	path = os.path.join(os.path.dirname(__file__), "..", "..", "booking", "data", "notifications.json")
	with open(path) as f:
		return {n["name"]: n["message"] for n in json.load(f)["notifications"]}


def execute():
	new = shipped_messages()
	for name, old in OLD_MESSAGES.items():
		stored = frappe.db.get_value("Notification", name, "message")
		if stored is None or stored == new[name]:
			continue
		if stored == old:
			frappe.db.set_value("Notification", name, "message", new[name])
		else:
			frappe.get_doc("Notification", name).add_comment(
				"Comment",
				"Aftersales DMS 1.1 ships this notification with the amount the customer owes, taxes"
				" included: {{ customer_amount_due(doc) }}. This one was edited locally and is left as"
				" it is; doc.grand_total is the job card's pre-tax total of all lines.",
			)
