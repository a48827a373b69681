"""/service_feedback?token=…: rate the service of one delivered job card, and nothing else."""

import frappe

from aftersales_dms.controllers.guards import call_with_deadlock_retry
from aftersales_dms.delivery.feedback import read_feedback_token

no_cache = 1


def get_context(context):
	context.no_cache = 1
	context.show_sidebar = False
	context.token = frappe.form_dict.get("token") or ""
	try:
		jc = call_with_deadlock_retry(read_feedback_token, context.token)
	except frappe.ValidationError as e:  # an invalid link, or still busy after the retries
		context.error = str(e)
		return context
	context.dealer = jc.company
	context.plate = jc.registration_plate
	return context
