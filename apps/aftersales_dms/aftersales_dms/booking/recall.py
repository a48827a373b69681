"""Which open recall / service campaigns affect a vehicle, and the vehicle lookup."""

import frappe
from frappe import _
from frappe.utils import cint, getdate

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
	history = frappe.get_list(
		"Service Job Card",
		filters={"vehicle": vehicle.name},
		fields=["name", "status", "posting_date", "odometer", "grand_total", "company"],
		order_by="posting_date desc",
		limit=20,
	)
	appointments = frappe.get_list(
		"Service Appointment",
		filters={"vehicle": vehicle.name, "status": ("in", ("Requested", "Confirmed"))},
		fields=["name", "status", "scheduled_start", "preferred_date"],
		order_by="preferred_date",
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
		"history": history,
		"upcoming_appointments": appointments,
		"open_recalls": [
			{"name": c.name, "title": c.title, "campaign_type": c.campaign_type}
			for c in open_campaigns_for(vehicle.name)
		],
	}
