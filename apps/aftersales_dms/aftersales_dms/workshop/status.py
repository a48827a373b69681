"""The job card's status: an editable Frappe Workflow on top, fixed guards underneath.

The Workflow "Service Job Card" (created once from data/job_card_workflow.json, then the OEM
admin's to edit in the desk) decides which actions exist and which role may take them. Whatever
the workflow says, the controller refuses a status the job is not ready for (GUARDS below) and
records every change, with the time spent in the status it left, in the status history.

Two moves belong to the system, not to the workflow: a parts shortage puts the job in Waiting
for Parts, and the arrival of the parts puts it back where it was (system_transition).
"""

import json
import os

import frappe
from frappe import _
from frappe.utils import flt, now_datetime, time_diff_in_hours

from aftersales_dms.billing import approval
from aftersales_dms.controllers.guards import lock_document
from aftersales_dms.job_states import (  # noqa: F401 (the states, named once)
	ACTIVE,
	AT_WORK,
	AWAITING_APPROVAL,
	CANCELLED,
	CLOSED,
	DELIVERED,
	FINAL,
	HOLDS,
	INITIAL,
	NOT_STARTED,
	QUALITY_CHECK,
	READY,
	RELEASED,
	WORKFLOW,
	WORKING,
)

SYSTEM_MOVES = {
	"Waiting for Parts": ACTIVE,  # a shortage, from any working status
	"*": ("Waiting for Parts",),  # parts arrived: back to held_from
}


KANBAN_BOARD = "Workshop"
KANBAN_COLOURS = {
	"Awaiting Approval": "Orange",
	"Quality Check": "Orange",
	"Ready for Pickup": "Green",
	"Delivered": "Gray",
	"Released": "Gray",
	"Waiting for Parts": "Red",
	"Cancelled": "Red",
	"On Hold": "Gray",
}


class JobCardStatusError(frappe.ValidationError):
	pass


class JobCardClosedError(frappe.ValidationError):
	pass


def _refuse(message):
	frappe.throw(message, JobCardStatusError, title=_("Not yet"))


# ---- guards: what must be true for a job card to enter a status, whoever moves it
def guard_awaiting_approval(doc, old):
	if not doc.estimate or not doc.approval_status:
		_refuse(_("Make the estimate and send it to the customer (email or approval link) first."))


def guard_repairing(doc, old):
	if doc.approval_status not in ("Approved", "Partly Approved"):
		_refuse(
			_("The customer has not approved the estimate (approval: {0}).").format(
				_(doc.approval_status or "not requested")
			)
		)
	missing = [
		f"{flt(r.qty) - flt(r.issued_qty):g} x {r.item_code}"
		for r in doc.parts
		if r.customer_decision != "Declined" and flt(r.issued_qty) < flt(r.qty)
	]
	if missing:
		_refuse(_("Parts not issued yet: {0}.").format(", ".join(missing)))


def guard_quality_check(doc, old):
	open_lines = [
		f"{r.idx}. {r.item_name or r.item_code} ({_(r.work_status or 'Not Started')})"
		for r in doc.labour
		if r.customer_decision != "Declined" and r.work_status != "Done"
	]
	if open_lines:
		_refuse(_("Labour not finished on the job clock: {0}.").format(", ".join(open_lines)))


def guard_ready_for_pickup(doc, old):
	# the fact, whatever path led here: the last QC round passed (recorded when the job left
	# Quality Check with every item verified) and no work was done since (that voids the pass)
	if doc.qc_result != "Passed":
		_refuse(
			_("Only a passed quality check makes the vehicle ready for pickup (QC: {0}).").format(
				_(doc.qc_result or "not passed")
			)
		)
	pending = [r.check_item for r in doc.qc_items if not r.verified]
	if not doc.qc_items or pending:
		_refuse(_("QC checklist items not verified: {0}.").format(", ".join(pending) or _("none loaded")))
	approval.check_customer_decided(doc, JobCardStatusError)  # every line they pay for decided


def leave_quality_check(doc, old, new):
	"""A QC round ends when the job leaves Quality Check: back to work (an ACTIVE status) is a
	fail, with the reason in QC Remarks; anywhere else except a hold or Cancelled (Ready for
	Pickup, or a status an OEM added after QC) is a pass, with every checklist item verified.
	Checked and recorded before the guards of the status entered, which may ask for the pass."""
	if old != QUALITY_CHECK or new in HOLDS or new == CANCELLED:
		return
	if new in ACTIVE:
		if not (doc.qc_remarks or "").strip():
			_refuse(_("Write in QC Remarks why the job fails QC; it goes back to the technicians."))
		result = "Failed"
	else:
		pending = [r.check_item for r in doc.qc_items if not r.verified]
		if not doc.qc_items or pending:
			_refuse(_("QC checklist items not verified: {0}.").format(", ".join(pending) or _("none loaded")))
		result = "Passed"
	doc.qc_result = result
	doc.qc_by = frappe.session.user
	doc.qc_on = now_datetime()


def guard_inspection_completed(doc, old=None):
	"""No work starts before the vehicle's inspection is completed (submitted). The inspection is
	the check-in's (a check-in makes one when its vehicle category has a default template); a job
	card opened without a check-in has none to wait for."""
	name = inspection_of(doc)
	if not name:
		return
	inspection = frappe.db.get_value(
		"Vehicle Inspection", name, ["docstatus", "status"], as_dict=True
	) or frappe._dict(docstatus=None, status=_("missing"))
	if inspection.docstatus == 1:
		return
	answered = frappe.db.count("Vehicle Inspection Item", {"parent": name, "result": ("is", "set")})
	total = frappe.db.count("Vehicle Inspection Item", {"parent": name})
	_refuse(
		_(
			"Complete vehicle inspection {0} before work starts: it is {1}, {2} of {3} checks answered."
		).format(name, _(inspection.status or "Draft"), answered, total)
	)


def inspection_of(doc) -> str | None:
	if doc.vehicle_check_in:
		return frappe.db.get_value("Vehicle Check In", doc.vehicle_check_in, "vehicle_inspection")
	return doc.vehicle_inspection


def guard_delivered(doc, old):
	from aftersales_dms.billing.invoice import check_deliverable

	if not (doc.customer_invoice or doc.warranty_invoice or doc.internal_invoice):
		_refuse(_("Invoice the job card before delivering the vehicle."))
	problem = check_deliverable(doc)
	if problem:
		_refuse(problem)


def guard_cancelled(doc, old):
	if any(flt(r.issued_qty) > 0 for r in doc.parts):
		_refuse(_("Return the issued parts before cancelling the job card."))
	if any(not t.to_time for t in doc.time_logs):
		_refuse(_("A technician is still clocked on this job card."))


def release_problem(doc) -> str | None:
	"""Why the vehicle cannot be handed back without the work (None: it can). The customer
	declined the work (all of it, or all but what is done, such as a diagnosis): every line they
	did not decline is labour that is done, no part is fitted or waiting to be, no clock runs."""
	if doc.approval_status not in ("Declined", "Partly Approved"):
		return _("The customer has not declined the work (approval: {0}).").format(
			_(doc.approval_status or "not requested")
		)
	undone = [
		f"{r.idx}. {r.item_name or r.item_code}"
		for r in doc.labour
		if r.customer_decision != "Declined" and r.work_status != "Done"
	]
	if undone:
		return _("Work the customer agreed to is not done: {0}. Repair the vehicle instead.").format(
			", ".join(undone)
		)
	if any(flt(r.issued_qty) > 0 for r in doc.parts):
		return _("Return the issued parts before releasing the vehicle.")
	parts = [r.item_code for r in doc.parts if r.customer_decision != "Declined"]
	if parts:
		return _("The customer agreed to parts ({0}): repair the vehicle instead.").format(", ".join(parts))
	if any(not t.to_time for t in doc.time_logs):
		return _("A technician is still clocked on this job card.")
	return None


def can_invoice(doc, current_status: str | None = None) -> bool:
	"""A job card is invoiced when it is Ready for Pickup, or, released without the work, for
	what the customer agreed to and got (a diagnosis) while it waits in Awaiting Approval."""
	current_status = current_status or doc.status
	if current_status == READY:
		return True
	return current_status == AWAITING_APPROVAL and not release_problem(doc)


def guard_released(doc, old):
	"""The vehicle goes back to its owner without the work: what was agreed is done and invoiced
	(the gate pass of Delivered: submitted, and paid or released on credit)."""
	from aftersales_dms.billing.invoice import check_deliverable

	problem = release_problem(doc) or check_deliverable(doc)
	if problem:
		_refuse(problem)


def guard_resume(doc, old):
	if doc.status != doc.held_from:
		_refuse(_("The job card resumes in {0}, where it was put on hold.").format(_(doc.held_from or "?")))


GUARDS = {
	"Awaiting Approval": [guard_awaiting_approval],
	"Repairing": [guard_repairing],
	"Quality Check": [guard_quality_check],
	"Ready for Pickup": [guard_ready_for_pickup],
	"Delivered": [guard_delivered],
	"Released": [guard_released],
	"Cancelled": [guard_cancelled],
}


def validate_status(doc):
	"""Called from the job card's validate: check and record a status change."""
	before = doc.get_doc_before_save()
	old = before.status if before else INITIAL
	if not before:
		if doc.status != INITIAL:
			frappe.throw(_("A new job card starts as {0}.").format(_(INITIAL)))
		doc.set("status_log", [])
		return
	if doc.status == old:
		return
	new = doc.status
	system = doc.flags.system_transition
	if system:
		allowed = SYSTEM_MOVES.get(new, ()) + (SYSTEM_MOVES["*"] if new == before.held_from else ())
		if old not in allowed:
			frappe.throw(_("The system cannot move a job card from {0} to {1}.").format(old, new))
	elif not frappe.get_all("Workflow", filters={"document_type": doc.doctype, "is_active": 1}, limit=1):
		frappe.throw(
			_("The job card's status changes only through its workflow, and no workflow is active for it."),
			JobCardStatusError,
		)
	if old in HOLDS and new != CANCELLED:
		guard_resume(doc, old)  # back where it was: it passed that status's guards already
	else:
		if new not in NOT_STARTED:
			guard_inspection_completed(doc, old)
		leave_quality_check(doc, old, new)
		for guard in GUARDS.get(new, ()):
			guard(doc, old)
	on_enter(doc, old, new)
	previous = doc.status_log[-1].changed_on if doc.status_log else doc.creation
	now = now_datetime()
	doc.append(
		"status_log",
		{
			"from_status": old,
			"to_status": new,
			"changed_on": now,
			"changed_by": frappe.session.user,
			"hours_in_from_status": flt(time_diff_in_hours(now, previous), 2) if previous else 0,
			"remarks": system if isinstance(system, str) else _status_remarks(doc, old, new),
		},
	)


def _status_remarks(doc, old, new):
	if old == QUALITY_CHECK and new in ACTIVE:
		return _("QC failed: {0}").format(doc.qc_remarks.strip())
	if doc.flags.pop("qc_pass_voided", None):
		return _("The passed QC no longer counts: the job went back to work.")
	return None


def on_enter(doc, old, new):
	"""Side effects of entering a status that belong to the document itself."""
	if new in HOLDS:
		doc.held_from = old
	elif old in HOLDS:
		doc.held_from = None
	if new == QUALITY_CHECK:
		load_qc_checklist(doc)
	elif new in ACTIVE and old not in (*ACTIVE, *HOLDS, QUALITY_CHECK) and doc.qc_result == "Passed":
		# back to work after a pass (from Ready for Pickup, or a status an OEM added after QC):
		# the pass was for the work before, so the vehicle needs a new QC to be ready for pickup
		doc.qc_result = None
		doc.flags.qc_pass_voided = True
	if new == DELIVERED:
		# the later stages' part (hooks.dms_job_card_delivered: the service record, the feedback
		# link and the next service), called in the order the hook lists them
		for method in frappe.get_hooks("dms_job_card_delivered"):
			frappe.get_attr(method)(doc)
	elif new == RELEASED:
		doc.delivered_on = now_datetime()  # handed back; no service done, so no service plan


def validate_not_final(doc):
	"""Called first in the job card's validate: a delivered, released or cancelled job card is a
	record of what happened; no save changes it (the system's own writes are not saves)."""
	before = doc.get_doc_before_save()
	if before and before.status in FINAL:
		frappe.throw(
			_("Job card {0} is {1}: it can no longer be changed.").format(doc.name, _(before.status)),
			JobCardClosedError,
			title=_("Job card closed"),
		)


def on_job_card_update(doc, method=None):
	"""doc_events Service Job Card on_update: a job that ends without the work closes what was
	left open for it: the customer's estimate (Quotation Lost) and, when cancelled, its
	appointment, and its parts requests that never moved stock (cancelled: nothing more is
	issued to it). (The tasks close in workshop/tasks.py.)"""
	from aftersales_dms.parts.doctype.parts_request.parts_request import close_for_job

	before = doc.get_doc_before_save()
	if doc.status not in (CANCELLED, RELEASED) or (before and before.status == doc.status):
		return
	close_for_job(doc.name)
	reason = _("Job card {0} {1}").format(doc.name, _(doc.status).lower())
	if doc.estimate and frappe.db.get_value("Quotation", doc.estimate, "status") == "Open":
		# ERPNext's Lost (declare_enquiry_lost, less its lost-reason list, which needs rights on
		# Quotation Lost Reason that no dealer role has): the estimate will never be ordered
		frappe.get_doc("Quotation", doc.estimate).db_set({"status": "Lost", "order_lost_reason": reason})
	if doc.status == CANCELLED and doc.service_appointment:
		appointment = frappe.db.get_value(
			"Service Appointment", doc.service_appointment, ["status"], as_dict=True
		)
		if appointment and appointment.status == "Checked In":
			# the system's fields (permlevel 2); a checked-in appointment has no user transition
			frappe.db.set_value(
				"Service Appointment",
				doc.service_appointment,
				{"status": "Cancelled", "cancellation_reason": reason},
			)


def load_qc_checklist(doc):
	"""What the Quality Supervisor verifies: every inspection item found Red or Amber, and every
	labour line the customer approved. A new QC round starts unverified."""
	doc.set("qc_items", [])
	doc.qc_remarks = None
	doc.qc_result = None  # the round's result is recorded when the job leaves Quality Check
	if doc.vehicle_inspection:
		for item in frappe.get_all(
			"Vehicle Inspection Item",
			filters={"parent": doc.vehicle_inspection, "result": ("in", ("Red", "Amber"))},
			fields=["name", "section", "check_item", "result", "note"],
			order_by="idx",
		):
			doc.append(
				"qc_items",
				{
					"check_item": f"{item.section}: {item.check_item}" if item.section else item.check_item,
					"source": "Inspection",
					"inspection_result": item.result,
					"reference": item.name,
				},
			)
	for row in doc.labour:
		if row.customer_decision != "Declined":
			doc.append(
				"qc_items",
				{
					"check_item": row.item_name or row.item_code,
					"source": "Labour",
					"reference": row.name,
				},
			)


def validate_qc_items(doc):
	"""The QC checklist is the system's list (loaded on entering Quality Check: no row added or
	removed by hand) and is filled in only while the job is in Quality Check. Who may verify is
	declared (permlevel 4); what a row checks is the system's (permlevel 2)."""
	before = doc.get_doc_before_save()
	if not before or doc.status != before.status:
		return
	if [r.name for r in doc.qc_items] != [r.name for r in before.qc_items]:
		frappe.throw(_("The QC checklist is loaded by the system when the job enters Quality Check."))

	def filled(d):
		return [(r.verified, r.remarks or "") for r in d.qc_items], d.qc_remarks or ""

	if doc.status != "Quality Check" and filled(doc) != filled(before):
		frappe.throw(_("The QC checklist is filled in while the job card is in Quality Check."))


# ---- system moves
def system_transition(job_card: str, new: str, reason: str):
	"""Move a job card as the system does (Waiting for Parts in and out), with the same guards."""
	doc = lock_document(frappe.get_doc("Service Job Card", job_card), check=None)
	if doc.status == new:
		return doc
	doc.status = new
	doc.flags.system_transition = reason
	doc.flags.ignore_permissions = True
	doc.save()
	return doc


def on_parts_short(job_card: str, shortages):
	status = frappe.db.get_value("Service Job Card", job_card, "status")
	if status in ACTIVE:
		system_transition(
			job_card,
			"Waiting for Parts",
			_("Parts short: {0}").format(", ".join(f"{q:g} x {i}" for i, q in shortages)),
		)


def pending_parts(doc) -> dict[str, float]:
	"""What the job card still needs issued, per part: its lines the customer did not decline."""
	pending = {}
	for row in doc.parts:
		if row.customer_decision != "Declined" and flt(row.qty) > flt(row.issued_qty):
			pending[row.item_code] = pending.get(row.item_code, 0) + flt(row.qty) - flt(row.issued_qty)
	return pending


def short_parts(doc) -> dict[str, float]:
	"""The parts the job card still needs that its dealer's parts stores do not hold (the stores
	its parts requests draw from; a part nobody requested is not being waited for)."""
	pending = pending_parts(doc)
	if not pending or doc.is_new():
		return {}
	stores = frappe.db.sql(
		"""select distinct i.item_code, pr.store_warehouse
		from `tabParts Request Item` i join `tabParts Request` pr on pr.name = i.parent
		where pr.service_job_card = %s and pr.docstatus = 1 and i.item_code in %s""",
		(doc.name, tuple(pending)),
		as_dict=True,
	)
	in_store = {}
	for row in stores:
		in_store[row.item_code] = in_store.get(row.item_code, 0) + flt(
			frappe.db.get_value(
				"Bin", {"item_code": row.item_code, "warehouse": row.store_warehouse}, "actual_qty"
			)
		)
	return {item: qty for item, qty in pending.items() if item in in_store and in_store[item] < qty}


def resume_when_no_longer_short(doc):
	"""Called from the job card's validate: a job Waiting for Parts whose missing parts are no
	longer needed (the line removed, reduced or declined by the customer) goes back to where it
	was, in the same save."""
	before = doc.get_doc_before_save()
	if not before or before.status != "Waiting for Parts" or doc.status != "Waiting for Parts":
		return
	if not doc.held_from or short_parts(doc):
		return
	doc.status = doc.held_from
	doc.flags.system_transition = _("No parts missing any more")


def before_material_request_cancel(doc, method=None):
	"""doc_events: a job's purchase request may be cancelled although its Parts Request (which
	stays, as the record of what the job asked for) links to it."""
	if doc.get("dms_service_job_card"):
		doc.ignore_linked_doctypes = (*(doc.get("ignore_linked_doctypes") or ()), "Parts Request")


def on_material_request_cancel(doc, method=None):
	"""doc_events: the purchase request for a waiting job's parts was cancelled, so those parts
	will not arrive: the job goes back to where it was, and the advisor decides what next."""
	job_card = doc.get("dms_service_job_card")
	if not job_card:
		return
	values = frappe.db.get_value("Service Job Card", job_card, ["status", "held_from"], as_dict=True)
	if values and values.status == "Waiting for Parts" and values.held_from:
		system_transition(
			job_card,
			values.held_from,
			_("Material Request {0} cancelled: the missing parts will not arrive").format(doc.name),
		)


def parts_covered(job_card: str) -> bool:
	"""True when the dealer's parts stores hold everything still to issue for this job card."""
	rows = frappe.db.sql(
		"""select i.item_code, pr.store_warehouse,
			sum(i.qty - (i.issued_qty - i.returned_qty)) pending
		from `tabParts Request Item` i join `tabParts Request` pr on pr.name = i.parent
		where pr.service_job_card = %s and pr.docstatus = 1
		group by i.item_code, pr.store_warehouse""",
		job_card,
		as_dict=True,
	)
	for row in rows:
		if flt(row.pending) <= 0:
			continue
		actual = flt(
			frappe.db.get_value(
				"Bin", {"item_code": row.item_code, "warehouse": row.store_warehouse}, "actual_qty"
			)
		)
		if actual < flt(row.pending):
			return False
	return True


def on_stock_received(doc, method=None):
	"""doc_events: stock came in (Purchase Receipt, Stock Entry, ...); wake job cards waiting for it."""
	items = {row.item_code for row in doc.get("items") or []}
	if not items:
		return
	waiting = frappe.db.sql(
		"""select distinct pr.service_job_card from `tabParts Request` pr
		join `tabParts Request Item` i on i.parent = pr.name
		join `tabService Job Card` jc on jc.name = pr.service_job_card
		where jc.status = 'Waiting for Parts' and pr.docstatus = 1 and pr.company = %s
			and i.item_code in %s""",
		(doc.company, tuple(items)),
		pluck=True,
	)
	for job_card in waiting:
		if parts_covered(job_card):
			held_from = frappe.db.get_value("Service Job Card", job_card, "held_from") or "In Progress"
			system_transition(job_card, held_from, _("Parts arrived ({0} {1})").format(doc.doctype, doc.name))
			notify_parts_arrived(job_card)


def notify_parts_arrived(job_card: str):
	from aftersales_dms.workshop.tasks import open_parts_arrived_task

	open_parts_arrived_task(job_card)  # the Parts Managers' ToDo, closed once all is issued


# ---- the workflow record
def workflow_definition() -> dict:
	path = os.path.join(os.path.dirname(__file__), "data", "job_card_workflow.json")
	with open(path) as f:
		return json.load(f)


def make_workflow():
	"""Create the job card workflow (and its states and actions) once; never overwrite it."""
	data = workflow_definition()
	for state, style in data["state_styles"].items():
		if not frappe.db.exists("Workflow State", state):
			frappe.get_doc(
				{"doctype": "Workflow State", "workflow_state_name": state, "style": style}
			).insert(ignore_permissions=True)
	for action in {t["action"] for t in data["workflow"]["transitions"]}:
		if not frappe.db.exists("Workflow Action Master", action):
			frappe.get_doc({"doctype": "Workflow Action Master", "workflow_action_name": action}).insert(
				ignore_permissions=True
			)
	if not frappe.db.exists("Workflow", data["workflow"]["workflow_name"]):
		frappe.get_doc({"doctype": "Workflow", **data["workflow"]}).insert(ignore_permissions=True)
	if not frappe.db.exists("Kanban Board", KANBAN_BOARD):
		# dragging a card sets the status through the same save: workflow and guards apply
		frappe.get_doc(
			{
				"doctype": "Kanban Board",
				"kanban_board_name": KANBAN_BOARD,
				"reference_doctype": "Service Job Card",
				"field_name": "status",
				"show_labels": 1,
				"fields": json.dumps(["registration_plate", "customer_name", "service_bay"]),
				"columns": [
					{
						"column_name": s["state"],
						"indicator": KANBAN_COLOURS.get(s["state"], "Blue"),
						"status": "Archived" if s["state"] in FINAL else "Active",
					}
					for s in data["workflow"]["states"]
				],
			}
		).insert(ignore_permissions=True)


def validate_workflow_editor(doc, method=None):
	"""doc_events on Workflow: OEM admins edit the workflows of the app's doctypes (the job card's
	among them); a workflow on an ERPNext or Frappe doctype stays System Manager's."""
	from aftersales_dms.roles import SYSTEM_MANAGER

	if frappe.session.user == "Administrator" or SYSTEM_MANAGER in frappe.get_roles():
		return
	before = doc.get_doc_before_save()
	for doctype in {doc.document_type, before.document_type if before else doc.document_type}:
		module = frappe.db.get_value("DocType", doctype, "module")
		if frappe.db.get_value("Module Def", module, "app_name") != "aftersales_dms":
			frappe.throw(
				_("Workflows of {0} are maintained by a System Manager.").format(_(doctype)),
				frappe.PermissionError,
			)


def on_workflow_update(doc, method=None):
	"""doc_events on Workflow: the job card's status options follow its active workflow, so a
	status an OEM admin adds in the desk can be entered (a Select refuses values it does not
	list). Set through a Property Setter, the Frappe way of changing a standard field; the shipped
	options (Waiting for Parts, the system's, among them) are always kept. The Kanban board gets a
	column for each new status too."""
	if doc.document_type != "Service Job Card" or not doc.is_active or doc.workflow_state_field != "status":
		return
	states = [row.state for row in doc.states if row.state]
	standard = (
		frappe.db.get_value("DocField", {"parent": doc.document_type, "fieldname": "status"}, "options") or ""
	).split("\n")
	options = "\n".join(dict.fromkeys([*states, *standard]))
	current = frappe.db.get_value(
		"Property Setter",
		{"doc_type": doc.document_type, "field_name": "status", "property": "options"},
		["name", "value"],
		as_dict=True,
	)
	if options == "\n".join(standard):
		if current:
			frappe.delete_doc("Property Setter", current.name, ignore_permissions=True)
	elif not current or current.value != options:
		from frappe.custom.doctype.property_setter.property_setter import make_property_setter

		make_property_setter(doc.document_type, "status", "options", options, "Text")
	frappe.clear_cache(doctype=doc.document_type)
	if frappe.db.exists("Kanban Board", KANBAN_BOARD):
		board = frappe.get_doc("Kanban Board", KANBAN_BOARD)
		have = {c.column_name for c in board.columns}
		missing = [state for state in states if state not in have]
		for state in missing:
			board.append("columns", {"column_name": state, "indicator": "Blue", "status": "Active"})
		if missing:
			board.save(ignore_permissions=True)


# ---- who can act: every status has someone at each dealer
def managers_stand_in(company: str) -> bool:
	"""Dealer Workshop Settings: where the dealer has nobody of the role an action needs, its
	Workshop Managers take the action (on by default)."""
	value = frappe.db.get_value("Dealer Workshop Settings", {"company": company}, "managers_stand_in")
	return value is None or bool(value)


def who_acts(role: str, company: str) -> list[str]:
	"""The dealer's enabled users who take an action of `role`: its holders, or where it has
	none and the setting allows, its Workshop Managers."""
	from aftersales_dms.controllers.dealer import dealer_users
	from aftersales_dms.roles import WORKSHOP_MANAGER

	users = dealer_users(role, company)
	if users or role == WORKSHOP_MANAGER or not managers_stand_in(company):
		return users
	return dealer_users(WORKSHOP_MANAGER, company)


def stand_in_transitions(doc, workflow=None) -> list[dict]:
	"""The workflow's transitions from the job card's status that the session user (a Workshop
	Manager of its dealer) takes because the dealer has nobody of the role they are for. The
	transition's condition still applies, and the guards of the status entered."""
	from frappe.model.workflow import get_workflow, is_transition_condition_satisfied

	from aftersales_dms.controllers.dealer import dealer_users
	from aftersales_dms.roles import WORKSHOP_MANAGER

	roles = frappe.get_roles()
	if WORKSHOP_MANAGER not in roles or not doc.company or not managers_stand_in(doc.company):
		return []
	if frappe.session.user not in dealer_users(WORKSHOP_MANAGER, doc.company):
		return []
	workflow = workflow or get_workflow(doc.doctype)
	current = doc.get(workflow.workflow_state_field)
	own = {
		(t.action, t.next_state) for t in workflow.transitions if t.state == current and t.allowed in roles
	}
	found, nobody = {}, {}
	for t in workflow.transitions:
		key = (t.action, t.next_state)
		if t.state != current or key in own or key in found:
			continue
		if t.allowed not in nobody:
			nobody[t.allowed] = not dealer_users(t.allowed, doc.company)
		if nobody[t.allowed] and is_transition_condition_satisfied(t, doc):
			found[key] = {**t.as_dict(), "dms_stand_in_for": t.allowed}
	return list(found.values())


def is_stand_in_move(doc) -> bool:
	"""Called from the job card's validate_workflow: the status change is one the user takes in
	place of a role the dealer has nobody for."""
	before = doc.get_doc_before_save()
	if not before or before.status == doc.status:
		return False
	return any(t["next_state"] == doc.status for t in stand_in_transitions(before))


@frappe.whitelist()
def get_transitions(doc, workflow=None, raise_exception: bool = False) -> list[dict]:
	"""hooks.override_whitelisted_methods: Frappe's actions of the document for the user, with the
	job card's stand-in actions (so the form offers them)."""
	from frappe.model.document import Document
	from frappe.model.workflow import get_transitions as frappe_get_transitions

	if not isinstance(doc, Document):
		doc = frappe.get_doc(frappe.parse_json(doc))
		doc.load_from_db()
	transitions = frappe_get_transitions(doc, raise_exception=raise_exception)
	if doc.doctype == WORKFLOW and not doc.is_new():
		transitions += stand_in_transitions(doc)
	return transitions


def apply_stand_in(doc: str, action: str):
	"""Frappe's apply_workflow for an action the user takes in place of a role the dealer has
	nobody for (the job card's states are all drafts: the status is set and the document saved,
	with every check of a save, the guards and the workflow's among them)."""
	from frappe.model.workflow import has_approval_access

	doc = lock_document(frappe.get_doc(WORKFLOW, doc), check="write")
	transition = next((t for t in stand_in_transitions(doc) if t["action"] == action), None)
	if not transition:
		from frappe.model.workflow import WorkflowTransitionError

		frappe.throw(_("Not a valid Workflow Action"), WorkflowTransitionError)
	if not has_approval_access(frappe.session.user, doc, frappe._dict(transition)):
		frappe.throw(_("Self approval is not allowed"))
	doc.status = transition["next_state"]
	doc.save()
	doc.add_comment(
		"Workflow",
		_("{0} (by a Workshop Manager: the dealer has no {1})").format(
			_(transition["next_state"]), _(transition["dms_stand_in_for"])
		),
	)
	return doc


@frappe.whitelist(methods=["POST"])
def apply_workflow(doc, action):
	"""hooks.override_whitelisted_methods: Frappe's apply_workflow, retried when the database picks
	it as a deadlock victim (parallel workshops showed it), then a clear error instead of a 500.
	On a job card, an action the user's roles do not have but takes as a stand-in (the dealer
	has nobody of its role) goes through apply_stand_in."""
	from frappe.model.workflow import apply_workflow as frappe_apply_workflow
	from frappe.model.workflow import get_transitions as frappe_get_transitions

	from aftersales_dms.controllers.guards import call_with_deadlock_retry
	from aftersales_dms.controllers.saves import locked_read

	parsed = frappe.parse_json(doc)
	if (
		parsed.get("doctype") == WORKFLOW
		and parsed.get("name")
		and not role_has_action(parsed.get("name"), action)
	):
		current = frappe.get_doc(WORKFLOW, parsed.get("name"))
		if not any(t.action == action for t in frappe_get_transitions(current)):
			return call_with_deadlock_retry(apply_stand_in, parsed.get("name"), action)
	# Frappe's apply_workflow loads the job card and its save reads it again: one locked read
	name = parsed.get("name") if parsed.get("doctype") == WORKFLOW else None
	with locked_read(WORKFLOW, name if isinstance(name, str) else None):
		return call_with_deadlock_retry(frappe_apply_workflow, doc, action)  # it reloads the document itself


def role_has_action(job_card: str, action: str) -> bool:
	"""Whether the workflow has `action` from the job card's stored status for one of the user's
	own roles: then Frappe's apply_workflow decides (its transitions, conditions and checks) and
	the job card need not be loaded a third time to look for a stand-in move (one query, not
	seven, per workflow action)."""
	from frappe.model.workflow import get_workflow, get_workflow_name

	if not get_workflow_name(WORKFLOW):
		return False
	workflow = get_workflow(WORKFLOW)
	current = frappe.db.get_value(WORKFLOW, job_card, workflow.workflow_state_field)
	roles = set(frappe.get_roles())
	return any(t.state == current and t.action == action and t.allowed in roles for t in workflow.transitions)


def jobs_nobody_can_move(companies) -> list[str]:
	"""Job cards of the dealers in a status where nobody of the dealer can take any of the
	workflow's actions (nor a Workshop Manager in their place): the ones that would sit forever.
	Waiting for Parts is the system's to leave, and the final statuses have nowhere to go."""
	from frappe.model.workflow import get_workflow, get_workflow_name

	if not get_workflow_name(WORKFLOW):
		return []
	workflow = get_workflow(WORKFLOW)
	roles_by_state = {}
	for t in workflow.transitions:
		roles_by_state.setdefault(t.state, set()).add(t.allowed)
	stuck = []
	for company in companies:
		rows = frappe.get_all(
			WORKFLOW,
			filters={"company": company, "status": ("not in", (*FINAL, "Waiting for Parts"))},
			fields=["name", "status"],
		)
		holders = {}
		for row in rows:
			roles = roles_by_state.get(row.status, set())
			for role in roles - set(holders):
				holders[role] = bool(who_acts(role, company))
			if not any(holders[role] for role in roles):
				stuck.append(row.name)
	return stuck
