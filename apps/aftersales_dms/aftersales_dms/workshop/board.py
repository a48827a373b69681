"""Data for the live workshop board: job cards by status, by bay and by technician.

Each status column holds its PER_COLUMN oldest job cards (the workshop's queue order) and the
count of all of them, so a backlog in one column never pushes another column's cards off.

Read with the user's permissions (frappe.get_list), so a dealer's staff see their dealer's
workshop only. The board page re-reads this when a job card changes (realtime event
"dms_workshop_board", published after commit by the job card's on_update).

Every open board re-reads at once when a job card changes, and wall screens refresh on their own,
so the result is cached in Redis per user, per what decides their view (roles, user permissions,
job cards shared with them) and per "board generation": a job card saved or deleted bumps the
generation (at once and again after its commit), so a cached board is never older than the last
committed change, and no user ever gets another's view. Where a read replica is configured the
board is read there, once the replica has applied what the primary had committed after the
generation was read (utils/replica.py), so a board cached under a generation is never older.
"""

import hashlib
import json

import frappe
from frappe.permissions import get_user_permissions
from frappe.share import get_shared
from frappe.utils import flt

from aftersales_dms.utils import replica
from aftersales_dms.workshop import status
from aftersales_dms.workshop.status import workflow_definition

GENERATION_KEY = "dms_workshop_board_generation"
CACHE_SECONDS = 600
# job cards shown per status column, the oldest first (the workshop's queue order); the column
# also tells how many it holds, so a backlog in one column never pushes another off the board
PER_COLUMN = 100

# the shipped workflow's statuses on the board (an OEM's own ones join them): all but the final
ON_BOARD = (*status.ACTIVE, *status.HOLDS, status.QUALITY_CHECK, status.READY)
OFF_BOARD = status.FINAL  # the vehicle has left, or will not be worked on


def board_states() -> list[str]:
	"""The board's columns: every status of the job card's active workflow (in its order, so a
	status an OEM admin adds, like Road Test, gets its column) but the finished ones, plus the
	system's Waiting for Parts."""
	workflow = frappe.get_all(
		"Workflow", filters={"document_type": "Service Job Card", "is_active": 1}, pluck="name", limit=1
	)
	states = (
		frappe.get_all(
			"Workflow Document State",
			filters={"parent": workflow[0], "parenttype": "Workflow"},
			pluck="state",
			order_by="idx",
		)
		if workflow
		else [s["state"] for s in workflow_definition()["workflow"]["states"]]
	)
	shown = [s for s in dict.fromkeys(states) if s not in OFF_BOARD]
	return shown if "Waiting for Parts" in shown else [*shown, "Waiting for Parts"]


def on_workflow_change(doc, method=None):
	"""doc_events on Workflow: the board's columns follow the job card's workflow at once."""
	if doc.document_type == "Service Job Card":
		invalidate()


def invalidate():
	"""A job card changed: boards cached before this are not read again."""
	frappe.cache.incr(frappe.cache.make_key(GENERATION_KEY))


def on_change(job_card=None):
	"""Called by the job card's and the technician's on_update/on_trash: drop cached boards now
	and again after the commit (a board read in between may hold the uncommitted state), then
	tell open boards of the job card's dealer to re-read — in that order, so none re-reads a
	board cached before the change."""
	invalidate()
	events = getattr(frappe.local, "dms_board_events", None)
	if events is None:  # once per transaction
		events = frappe.local.dms_board_events = []
		frappe.db.after_commit.add(_after_commit)
		frappe.db.after_rollback.add(_forget_events)
	if job_card:
		event = {"company": job_card.company, "job_card": job_card.name}
		if event not in events:
			events.append(event)


def _forget_events():
	if hasattr(frappe.local, "dms_board_events"):
		del frappe.local.dms_board_events


def _after_commit():
	events = getattr(frappe.local, "dms_board_events", [])
	_forget_events()
	invalidate()
	for event in events:
		frappe.publish_realtime("dms_workshop_board", event, doctype=None)


def cache_key(company: str | None) -> str:
	user = frappe.session.user
	view = json.dumps(
		[
			sorted(frappe.get_roles(user)),
			get_user_permissions(user),
			sorted(get_shared("Service Job Card", user)),
			company,
		],
		sort_keys=True,
		default=str,
	)
	generation = int(frappe.cache.get(frappe.cache.make_key(GENERATION_KEY)) or 0)
	return f"dms_workshop_board|{generation}|{user}|{hashlib.sha1(view.encode()).hexdigest()}"


@frappe.whitelist()
def get_board(company: str | None = None) -> dict:
	"""The workshop board: the dealer's job cards by status, bay and technician, read with the
	user's permissions (cached per user and view, see the module's docstring)."""
	frappe.has_permission("Service Job Card", "read", throw=True)
	key = cache_key(company)
	board = frappe.cache.get_value(key)
	if board is None:
		# on a read replica when one is in step — checked only now, after the generation in the
		# key was read: a board cached under it holds every change committed before it
		with replica.reads():
			board = read_board(company)
		frappe.cache.set_value(key, board, expires_in_sec=CACHE_SECONDS)
	return board


def read_board(company: str | None) -> dict:
	filters = {"company": company} if company else {}
	columns = board_states()
	# each column's oldest job cards, per status through the (status, creation, company) index
	names = []
	for state in columns:
		names += frappe.get_list(
			"Service Job Card",
			filters={**filters, "status": state},
			pluck="name",
			order_by="creation asc, name asc",
			limit_page_length=PER_COLUMN,
		)
	counts = {
		r.status: r.count
		for r in frappe.get_list(
			"Service Job Card",
			filters={**filters, "status": ("in", columns)},
			fields=["status", "count(name) as count"],
			group_by="status",
		)
	}
	cards = frappe.get_list(
		"Service Job Card",
		filters={"name": ("in", names or [""])},
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
		order_by="creation asc, name asc",
		limit_page_length=len(names) or 1,
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
	return {
		"columns": columns,
		"counts": {s: counts.get(s, 0) for s in columns},
		"cards": cards,
		"technicians": sorted(technicians.values(), key=lambda t: t["technician_name"] or ""),
		"bays": [{"service_bay": bay, "job_cards": jobs} for bay, jobs in sorted(bays.items())],
	}
