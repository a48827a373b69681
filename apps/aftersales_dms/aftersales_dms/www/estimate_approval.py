"""/estimate_approval?token=…: the customer's view of an estimate, and nothing else."""

import frappe

from aftersales_dms.billing.approval import InvalidApprovalLink, estimate_lines, read_token

no_cache = 1


def get_context(context):
	context.no_cache = 1
	context.show_sidebar = False
	context.token = frappe.form_dict.get("token") or ""
	try:
		jc = read_token(context.token)
	except InvalidApprovalLink as e:
		context.error = str(e)
		return context
	lines, quotation = estimate_lines(jc)
	context.lines = lines
	context.dealer = jc.company
	context.plate = jc.registration_plate
	context.vehicle = f"{frappe.db.get_value('Customer Vehicle', jc.vehicle, 'make')} {frappe.db.get_value('Customer Vehicle', jc.vehicle, 'model')}"
	context.quotation = quotation
	context.currency = quotation.currency
	return context
