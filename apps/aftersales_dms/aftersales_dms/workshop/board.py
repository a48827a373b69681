"""Data for the live workshop board: job cards by status, by bay and by technician.

Read with the user's permissions (frappe.get_list), so a dealer's staff see their dealer's
workshop only. The board page re-reads this when a job card changes (realtime event
"dms_workshop_board", published after commit by the job card's on_update).
"""

import frappe
from frappe.utils import flt

from aftersales_dms.workshop.status import workflow_definition

ON_BOARD = (
	"Open",
	"In Progress",
	"Awaiting Approval",
	"Waiting for Parts",
	"On Hold",
	"Repairing",
	"Quality Check",
	"Ready for Pickup",
)


@frappe.whitelist()
def get_board(company: str | None = None) -> dict:
	filters = {"status": ("in", ON_BOARD)}
	if company:
		filters["company"] = company
	cards = frappe.get_list(
		"Service Job Card",
		filters=filters,
		fields=[
			"name",
			"company",
			"status",
			"registration_plate",
			"customer_name",
			"service_bay",
			"total_hours",
			"total_clocked_hours",
			"modified",
		],
		order_by="creation asc",
		limit_page_length=500,
	)
	names = [c.name for c in cards]
	lines = (
		frappe.get_all(
			"Service Job Card Labour",
			filters={"parent": ("in", names)},
			fields=["parent", "item_name", "technician", "work_status", "standard_hours"],
			order_by="idx",
		)
		if names
		else []
	)
	by_card = {c.name: c for c in cards}
	for card in cards:
		card.lines = []
	for line in lines:
		by_card[line.parent].lines.append(line)
	names_of = dict(
		frappe.get_all(
			"Service Technician",
			filters={"name": ("in", list({line.technician for line in lines if line.technician}) or [""])},
			fields=["name", "technician_name"],
			as_list=True,
		)
	)
	technicians = {}
	for card in cards:
		for line in card.lines:
			if not line.technician:
				continue
			tech = technicians.setdefault(
				line.technician,
				{
					"technician": line.technician,
					"technician_name": names_of.get(line.technician),
					"jobs": [],
					"hours": 0,
				},
			)
			tech["jobs"].append(
				{
					"job_card": card.name,
					"registration_plate": card.registration_plate,
					"item_name": line.item_name,
					"work_status": line.work_status or "Not Started",
				}
			)
			if line.work_status != "Done":
				tech["hours"] = flt(tech["hours"] + flt(line.standard_hours), 2)
	bays = {}
	for card in cards:
		bays.setdefault(card.service_bay or "", []).append(card.name)
	states = [s["state"] for s in workflow_definition()["workflow"]["states"]]
	return {
		"columns": [s for s in states if s in ON_BOARD],
		"cards": cards,
		"technicians": sorted(technicians.values(), key=lambda t: t["technician_name"] or ""),
		"bays": [{"service_bay": bay, "job_cards": jobs} for bay, jobs in sorted(bays.items())],
	}
