"""Which open recall / service campaigns affect a vehicle, the remedies done, and the vehicle lookup.

A campaign is closed for a vehicle once its remedy is done and billed: when the service invoice
that bills the campaign's lines of a job card is submitted (and every labour line of the campaign
on that job card the customer did not decline is billed on a submitted invoice), a *Recall
Remedy* (campaign, vehicle, dealer, job card, invoice) is recorded and the campaign is no longer
open for that vehicle. Cancelling the invoice removes it. (A Sales Invoice doc_event: the billing
stage is later, so it reaches this stage through the hook, never an import.)"""

import frappe
from frappe import _
from frappe.utils import cint, flt, fmt_money, format_date, getdate, nowdate

from aftersales_dms.job_states import CANCELLED, FINAL, RELEASED
from aftersales_dms.utils import replica
from aftersales_dms.utils.vin import clean_vin, normalize_plate


def campaign_matches(campaign, vehicle) -> bool:
	if vehicle.vin in {row.vin for row in campaign.vins}:
		return True
	if not (campaign.make or campaign.model or campaign.year_from or campaign.year_to):
		return False
	if campaign.make and campaign.make.lower() != (vehicle.make or "").lower():
		return False
	if campaign.model and campaign.model.lower() != (vehicle.model or "").lower():
		return False
	year = cint(vehicle.year)
	if campaign.year_from and year < cint(campaign.year_from):
		return False
	if campaign.year_to and year > cint(campaign.year_to):
		return False
	return True


def open_campaigns_for(vehicle_name: str) -> list:
	"""Open campaigns that affect the vehicle and whose remedy it has not had yet."""
	vehicle = frappe.get_cached_doc("Customer Vehicle", vehicle_name)
	today = getdate()
	remedied = set(
		frappe.get_all("Recall Remedy", filters={"vehicle": vehicle_name}, pluck="recall_campaign")
	)
	result = []
	for name in frappe.get_all("Recall Campaign", filters={"status": "Open"}, pluck="name", order_by="name"):
		if name in remedied:
			continue
		campaign = frappe.get_cached_doc("Recall Campaign", name)
		if campaign.start_date and getdate(campaign.start_date) > today:
			continue
		if campaign.end_date and getdate(campaign.end_date) < today:
			continue
		if campaign_matches(campaign, vehicle):
			result.append(campaign)
	return result


def campaign_lines(job_card: str) -> list:
	"""The job card's lines that carry a recall campaign (labour and parts)."""
	lines = []
	for doctype in ("Service Job Card Labour", "Service Job Card Part"):
		for row in frappe.get_all(
			doctype,
			filters={"parent": job_card, "parenttype": "Service Job Card", "recall_campaign": ("is", "set")},
			fields=["name", "recall_campaign", "customer_decision"],
		):
			lines.append(row.update(is_labour=doctype == "Service Job Card Labour"))
	return lines


def billed_rows(job_card: str, rows) -> set:
	"""Which of these job card rows are billed on a submitted (not credit-note) invoice."""
	if not rows:
		return set()
	invoice, item = frappe.qb.DocType("Sales Invoice"), frappe.qb.DocType("Sales Invoice Item")
	found = (
		frappe.qb.from_(item)
		.join(invoice)
		.on(invoice.name == item.parent)
		.select(item.dms_job_card_row)
		.where(
			(invoice.dms_service_job_card == job_card)
			& (invoice.docstatus == 1)
			& (invoice.is_return == 0)
			& item.dms_job_card_row.isin(list(rows))
		)
	).run(pluck=True)
	return set(found)


def on_service_invoice_change(doc, method=None):
	"""doc_events Sales Invoice on_submit / on_cancel: record or remove the recall remedies that
	this service invoice completes."""
	if not doc.get("dms_service_job_card") or doc.is_return:
		return
	if method == "on_cancel":
		for name in frappe.get_all("Recall Remedy", filters={"sales_invoice": doc.name}, pluck="name"):
			frappe.delete_doc("Recall Remedy", name, ignore_permissions=True, force=True)
		return
	job_card = doc.dms_service_job_card
	lines = campaign_lines(job_card)
	on_invoice = {d.dms_job_card_row for d in doc.items if d.get("dms_job_card_row")}
	campaigns = {line.recall_campaign for line in lines if line.name in on_invoice}
	if not campaigns:
		return
	vehicle = frappe.db.get_value("Service Job Card", job_card, "vehicle")
	for campaign in sorted(campaigns):
		labour = {
			line.name
			for line in lines
			if line.recall_campaign == campaign and line.is_labour and line.customer_decision != "Declined"
		}
		if labour - billed_rows(job_card, labour):
			continue  # part of the remedy is still to be billed on another invoice
		frappe.get_doc(
			{
				"doctype": "Recall Remedy",
				"recall_campaign": campaign,
				"vehicle": vehicle,
				"company": doc.company,
				"remedied_on": nowdate(),
				"service_job_card": job_card,
				"sales_invoice": doc.name,
			}
		).insert(ignore_permissions=True, ignore_if_duplicate=True)


CLOSED_JOB_STATUSES = FINAL  # a job not over is the vehicle's open job


def service_visit(row) -> dict:
	"""A service history row: the amount is the customer's, with tax — their invoice once
	submitted (the job card's invoiced amount), else the estimate's customer total."""
	if row.customer_invoice and flt(row.invoiced_amount):
		amount, basis = flt(row.invoiced_amount), _("invoiced")
	elif flt(row.estimate_total) and row.status != RELEASED:  # a declined estimate is not paid
		amount, basis = flt(row.estimate_total), _("estimate")
	else:
		amount, basis = 0.0, ""
	currency = row.currency or frappe.get_cached_value("Company", row.company, "default_currency")
	return {
		"name": row.name,
		"status": row.status,
		"posting_date": row.posting_date,
		"posting_date_formatted": format_date(row.posting_date) if row.posting_date else "",
		"odometer": row.odometer,
		"company": row.company,
		"customer_amount": amount,
		"customer_amount_formatted": (
			_("{0} incl. tax ({1})").format(fmt_money(amount, currency=currency), basis) if basis else ""
		),
	}


@frappe.whitelist()
@replica.read_only()
def find_vehicle(query: str) -> dict:
	"""Look a vehicle up by registration plate or VIN (any spelling): vehicle, owner, history, recalls."""
	if not query or len(query) > 40:
		frappe.throw(_("Give a registration plate or a VIN."))
	plate, vin = normalize_plate(query), clean_vin(query)
	names = frappe.get_list(
		"Customer Vehicle", or_filters={"registration_plate": plate, "name": vin}, pluck="name", limit=2
	)
	if not names:
		frappe.throw(
			_("No vehicle with plate or VIN {0}.").format(frappe.bold(query)), frappe.DoesNotExistError
		)
	vehicle = frappe.get_doc("Customer Vehicle", names[0])
	vehicle.check_permission("read")
	history = [
		service_visit(row)
		for row in frappe.get_list(
			"Service Job Card",
			filters={"vehicle": vehicle.name, "status": ("!=", CANCELLED)},  # a cancelled job: no visit
			fields=[
				"name",
				"status",
				"posting_date",
				"odometer",
				"company",
				"currency",
				"invoiced_amount",
				"estimate_total",
				"customer_invoice",
			],
			order_by="posting_date desc, creation desc",
			limit=20,
		)
	]
	open_job = next((row for row in history if row["status"] not in CLOSED_JOB_STATUSES), None)
	appointments = frappe.get_list(
		"Service Appointment",
		filters={"vehicle": vehicle.name, "status": ("in", ("Requested", "Confirmed"))},
		fields=["name", "status", "scheduled_start", "preferred_date"],
		order_by="preferred_date",
	)
	for row in appointments:
		row["scheduled_start_formatted"] = (
			frappe.utils.format_datetime(row.scheduled_start, "dd MMM yyyy, HH:mm")
			if row.scheduled_start
			else ""
		)
	return {
		"vehicle": {
			f: vehicle.get(f)
			for f in (
				"name",
				"vin",
				"registration_plate",
				"make",
				"model",
				"variant",
				"year",
				"vehicle_category",
				"fuel_type",
				"colour",
				"company",
				"current_odometer",
				"last_service_date",
				"warranty_start",
				"warranty_end",
			)
		},
		"owner": frappe.db.get_value(
			"Customer", vehicle.customer, ["name", "customer_name", "mobile_no", "email_id"], as_dict=True
		),
		"last_service_date_formatted": format_date(vehicle.last_service_date)
		if vehicle.last_service_date
		else "",
		"history": history,
		"upcoming_appointments": appointments,
		# what the desk offers next: an open job card to open, else a booking or a walk-in check-in
		"open_job_card": open_job and open_job["name"],
		"next_steps": ["Open job card"] if open_job else ["Book appointment", "Walk-in check-in"],
		"prefill": {"customer": vehicle.customer, "vehicle": vehicle.name},
		"open_recalls": [
			{"name": c.name, "title": c.title, "campaign_type": c.campaign_type}
			for c in open_campaigns_for(vehicle.name)
		],
	}
