"""Which open recall / service campaigns affect a vehicle, and the vehicle lookup."""

import frappe
from frappe import _
from frappe.utils import cint, flt, fmt_money, format_date, getdate

from aftersales_dms.reception.vin import clean_vin, normalize_plate


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
	vehicle = frappe.get_cached_doc("Customer Vehicle", vehicle_name)
	today = getdate()
	result = []
	for name in frappe.get_all("Recall Campaign", filters={"status": "Open"}, pluck="name", order_by="name"):
		campaign = frappe.get_cached_doc("Recall Campaign", name)
		if campaign.start_date and getdate(campaign.start_date) > today:
			continue
		if campaign.end_date and getdate(campaign.end_date) < today:
			continue
		if campaign_matches(campaign, vehicle):
			result.append(campaign)
	return result


CLOSED_JOB_STATUSES = ("Delivered", "Cancelled")


def service_visit(row) -> dict:
	"""A service history row: the amount is the customer's, with tax — their invoice once
	submitted (the job card's invoiced amount), else the estimate's customer total."""
	if row.customer_invoice and flt(row.invoiced_amount):
		amount, basis = flt(row.invoiced_amount), _("invoiced")
	elif flt(row.estimate_total):
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
			filters={"vehicle": vehicle.name},
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
