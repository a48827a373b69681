# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

"""The job card's status lifecycle: workflow actions by role, the guards under them, the history."""

from datetime import timedelta

import frappe
from frappe.model.workflow import WorkflowPermissionError, WorkflowTransitionError, apply_workflow
from frappe.tests.utils import FrappeTestCase

from aftersales_dms.billing.approval import decide, make_approval_link
from aftersales_dms.billing.estimate import make_estimate
from aftersales_dms.billing.test_approval import token_of
from aftersales_dms.parts.doctype.parts_request.test_parts_request import STORE, bin_qty, make_request
from aftersales_dms.tests.peers import SmsGateway
from aftersales_dms.workshop.doctype.service_job_card.test_service_job_card import make_job_card
from aftersales_dms.workshop.status import JobCardStatusError

ADVISOR, MANAGER, PARTS, QC = (
	"advisor@omp.example",
	"manager@omp.example",
	"parts@omp.example",
	"qc@omp.example",
)
AMIT = "tech.amit@omp.example"


def act(job_card, action, user):
	"""Take a workflow action as `user`, the way the desk's Actions menu does."""
	frappe.set_user(user)
	try:
		return apply_workflow(frappe.get_doc("Service Job Card", job_card).as_dict(), action)
	finally:
		frappe.set_user("Administrator")


def as_user(user, fn, *args, **kwargs):
	frappe.set_user(user)
	try:
		return fn(*args, **kwargs)
	finally:
		frappe.set_user("Administrator")


def approved_job_card(decline_second_labour=True, part_qty=1, **kwargs):
	"""Job card with two labour lines (Amit on both) and one part, estimated and decided."""
	jc = make_job_card(
		labour=("LAB-PMS-CAR", "LAB-DIAG"),
		technicians=("Amit", "Amit"),
		parts=[{"item_code": "PRT-OIL-FILTER-C", "qty": part_qty, "rate": 450}],
		**kwargs,
	)
	act(jc.name, "Start Work", AMIT)
	make_estimate(jc.name)
	token = token_of(make_approval_link(jc.name))
	act(jc.name, "Request Approval", ADVISOR)
	jc.reload()
	decisions = {r.name: "Approved" for r in jc.labour + jc.parts}
	if decline_second_labour:
		decisions[jc.labour[1].name] = "Declined"
	frappe.set_user("Guest")
	decide(token, decisions)
	frappe.set_user("Administrator")
	return frappe.get_doc("Service Job Card", jc.name)


def issue_all(job_card):
	pr = make_request([(r.item_code, r.qty) for r in job_card.parts], job_card=job_card.name)
	as_user(PARTS, pr.issue_parts)
	return pr


def clock_done(job_card, user=AMIT):
	jc = frappe.get_doc("Service Job Card", job_card)
	for row in jc.labour:
		if row.customer_decision != "Declined":
			as_user(user, jc.start_work, row.name)
			as_user(user, jc.finish_work, row.name)


class TestJobCardLifecycle(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def test_open_to_ready_for_pickup_role_by_role(self):
		jc = make_job_card(
			labour=("LAB-PMS-CAR", "LAB-DIAG"),
			technicians=("Amit", "Amit"),
			parts=[{"item_code": "PRT-OIL-FILTER-C", "qty": 1, "rate": 450}],
			contact_mobile="+919822000777",
		)
		self.assertEqual(jc.status, "Open")
		act(jc.name, "Start Work", AMIT)
		with self.assertRaisesRegex(JobCardStatusError, "Make the estimate"):
			act(jc.name, "Request Approval", ADVISOR)
		make_estimate(jc.name)
		token = token_of(make_approval_link(jc.name))
		act(jc.name, "Request Approval", ADVISOR)
		with self.assertRaisesRegex(JobCardStatusError, "not approved the estimate"):
			act(jc.name, "Start Repair", MANAGER)

		jc.reload()
		frappe.set_user("Guest")
		decide(
			token,
			{
				r.name: ("Declined" if r.idx == 2 and r.parentfield == "labour" else "Approved")
				for r in jc.labour + jc.parts
			},
		)
		frappe.set_user("Administrator")
		with self.assertRaisesRegex(JobCardStatusError, "Parts not issued yet: 1 x PRT-OIL-FILTER-C"):
			act(jc.name, "Start Repair", MANAGER)
		issue_all(jc)
		with self.assertRaises(WorkflowTransitionError):  # not a technician's action
			act(jc.name, "Start Repair", AMIT)
		act(jc.name, "Start Repair", MANAGER)

		with self.assertRaisesRegex(JobCardStatusError, "Labour not finished on the job clock: 1. "):
			act(jc.name, "Send to QC", AMIT)
		clock_done(jc.name)  # only the approved line; the declined one needs no work
		act(jc.name, "Send to QC", AMIT)
		jc.reload()
		self.assertEqual(jc.status, "Quality Check")
		self.assertEqual([(q.source, q.verified) for q in jc.qc_items], [("Labour", 0)])

		with self.assertRaisesRegex(JobCardStatusError, "QC checklist items not verified"):
			act(jc.name, "Pass QC", QC)
		with self.assertRaisesRegex(JobCardStatusError, "Write in QC Remarks"):
			act(jc.name, "Fail QC", QC)
		jc.qc_remarks = "Oil level above max"
		as_user(QC, jc.save)
		act(jc.name, "Fail QC", QC)
		jc.reload()
		self.assertEqual((jc.status, jc.qc_result, jc.qc_by), ("Repairing", "Failed", QC))
		self.assertEqual(jc.status_log[-1].remarks, "QC failed: Oil level above max")

		act(jc.name, "Send to QC", MANAGER)  # labour still done; a new QC round starts unverified
		jc.reload()
		self.assertEqual((jc.qc_remarks, [q.verified for q in jc.qc_items]), (None, [0]))
		for row in jc.qc_items:
			row.verified = 1
		as_user(QC, jc.save)
		with SmsGateway() as gateway:
			act(jc.name, "Pass QC", QC)
			gateway.flush()
		jc.reload()
		self.assertEqual((jc.status, jc.qc_result), ("Ready for Pickup", "Passed"))
		self.assertEqual([s["to"] for s in gateway.received], ["+919822000777"])
		self.assertIn(f"{jc.registration_plate} is ready for pickup", gateway.received[0]["text"])

		self.assertEqual(
			[(r.from_status, r.to_status, r.changed_by) for r in jc.status_log],
			[
				("Open", "In Progress", AMIT),
				("In Progress", "Awaiting Approval", ADVISOR),
				("Awaiting Approval", "Repairing", MANAGER),
				("Repairing", "Quality Check", AMIT),
				("Quality Check", "Repairing", QC),
				("Repairing", "Quality Check", MANAGER),
				("Quality Check", "Ready for Pickup", QC),
			],
		)
		self.assertTrue(all(r.changed_on and r.hours_in_from_status >= 0 for r in jc.status_log))
		with self.assertRaisesRegex(JobCardStatusError, "Invoice the job card"):
			act(jc.name, "Deliver", ADVISOR)
		with self.assertRaisesRegex(frappe.ValidationError, "can no longer change"):
			as_user(AMIT, jc.start_work, jc.labour[0].name)

	def test_status_cannot_be_typed_or_the_history_forged(self):
		jc = make_job_card()
		jc.status = "Ready for Pickup"
		with self.assertRaisesRegex(JobCardStatusError, "Only a passed quality check"):
			jc.save()
		jc.reload()
		jc.status = "Cancelled"  # no guard stops it, but technicians have no Cancel action
		with self.assertRaises(WorkflowPermissionError):
			as_user(AMIT, jc.save)
		jc.reload()
		act(jc.name, "Start Work", MANAGER)
		jc.reload()
		jc.status_log[0].to_status = "Delivered"
		as_user(MANAGER, jc.save)  # the history is at the system's permlevel: the forgery is dropped
		self.assertEqual(
			frappe.db.get_value("Service Job Card Status Log", jc.status_log[0].name, "to_status"),
			"In Progress",
		)
		with self.assertRaises(frappe.ValidationError):  # Frappe's workflow check comes first
			make_job_card(status="Repairing")

	def test_technician_and_qc_supervisor_change_only_status_and_checklist(self):
		jc = approved_job_card()
		concerns, rate = jc.concerns, jc.labour[0].rate
		jc.concerns = "changed by a technician"
		as_user(AMIT, jc.save)  # content is permlevel 1, which technicians do not write: kept
		self.assertEqual(frappe.db.get_value("Service Job Card", jc.name, "concerns"), concerns)
		jc.reload()
		jc.labour[0].rate = 1
		jc.append("labour", {"item_code": "LAB-BATTERY", "standard_hours": 1, "rate": 1})
		as_user(QC, jc.save)
		jc.reload()
		self.assertEqual((len(jc.labour), jc.labour[0].rate), (2, rate))
		jc.qc_remarks = "not in QC yet"
		with self.assertRaisesRegex(frappe.ValidationError, "while the job card is in Quality Check"):
			as_user(MANAGER, jc.save)

	def test_qc_checklist_holds_the_inspections_red_and_amber_items(self):
		from aftersales_dms.booking.doctype.service_appointment.test_service_appointment import (
			future_day,
			make_appointment,
		)
		from aftersales_dms.reception.doctype.vehicle_check_in.vehicle_check_in import (
			make_job_card as job_card_from_check_in,
		)
		from aftersales_dms.tests.test_reception_journey import checked_in

		ci = checked_in(make_appointment(future_day() + timedelta(days=11, hours=9)))
		inspection = frappe.get_doc("Vehicle Inspection", ci.vehicle_inspection)
		for row in inspection.items:
			row.result = "Green"
		inspection.items[5].update({"result": "Red", "note": "2 mm left"})
		inspection.items[7].update({"result": "Amber", "note": "worn"})
		inspection.submit()
		jc = job_card_from_check_in(ci.name)
		jc.set("parts", [])
		jc.insert()
		self.assertEqual(jc.service_bay, "OMP Bay 1")  # from the appointment
		act(jc.name, "Start Work", MANAGER)
		make_estimate(jc.name)
		token = token_of(make_approval_link(jc.name))
		act(jc.name, "Request Approval", ADVISOR)
		jc.reload()
		# the customer decides the lines they pay for; the vehicle's recall work is covered
		as_user("Guest", decide, token, {r.name: "Approved" for r in jc.labour if r.bill_to == "Customer"})
		act(jc.name, "Start Repair", MANAGER)
		amit = frappe.db.get_value("Employee", {"first_name": "Amit"})
		for row in jc.labour:
			jc.reload()
			as_user(MANAGER, jc.assign_technician, row.name, amit)
		clock_done(jc.name, user=MANAGER)
		act(jc.name, "Send to QC", AMIT)
		jc.reload()
		checks = [(q.source, q.check_item, q.inspection_result) for q in jc.qc_items]
		self.assertEqual(
			checks[:2],
			[
				("Inspection", f"{inspection.items[5].section}: {inspection.items[5].check_item}", "Red"),
				("Inspection", f"{inspection.items[7].section}: {inspection.items[7].check_item}", "Amber"),
			],
		)
		self.assertEqual(len(checks), 2 + len(jc.labour))
		jc.qc_items[0].check_item = "something easier"
		as_user(QC, jc.save)  # what a row checks is the system's (permlevel 2): kept
		jc.reload()
		self.assertEqual(jc.qc_items[0].check_item, checks[0][1])
		jc.append("qc_items", {"check_item": "an easy one", "verified": 1})
		with self.assertRaisesRegex(frappe.ValidationError, "loaded by the system"):
			as_user(QC, jc.save)
		jc.reload()
		for row in jc.qc_items[:-1]:
			row.verified = 1
		as_user(QC, jc.save)
		with self.assertRaisesRegex(JobCardStatusError, "not verified: " + jc.qc_items[-1].check_item):
			act(jc.name, "Pass QC", QC)

	def test_waiting_for_parts_and_back_when_they_arrive(self):
		in_store = bin_qty("PRT-BATTERY-12V", STORE)
		jc = make_job_card(parts=[{"item_code": "PRT-BATTERY-12V", "qty": in_store + 2, "rate": 5200}])
		act(jc.name, "Start Work", MANAGER)
		pr = make_request([("PRT-BATTERY-12V", in_store + 2)], job_card=jc.name)
		as_user(PARTS, pr.issue_parts)
		jc.reload()
		self.assertEqual((jc.status, jc.held_from), ("Waiting for Parts", "In Progress"))
		self.assertEqual(jc.status_log[-1].remarks, "Parts short: 2 x PRT-BATTERY-12V")
		with self.assertRaises(WorkflowTransitionError):  # no action leaves it: the parts do
			act(jc.name, "Request Approval", ADVISOR)

		def receive(qty):
			se = frappe.get_doc(
				{
					"doctype": "Stock Entry",
					"stock_entry_type": "Material Receipt",
					"company": jc.company,
					"items": [
						{"item_code": "PRT-BATTERY-12V", "qty": qty, "t_warehouse": STORE, "basic_rate": 3900}
					],
				}
			)
			se.insert()
			se.submit()

		receive(1)  # not enough yet
		self.assertEqual(frappe.db.get_value("Service Job Card", jc.name, "status"), "Waiting for Parts")
		receive(1)
		jc.reload()
		self.assertEqual((jc.status, jc.held_from), ("In Progress", None))
		self.assertTrue(jc.status_log[-1].remarks.startswith("Parts arrived (Stock Entry "))
		self.assertIn(
			PARTS,
			frappe.get_all(
				"ToDo",
				filters={"reference_name": jc.name, "description": ("like", "Parts arrived%")},
				pluck="allocated_to",
			),
		)

	def test_hold_resume_and_cancel(self):
		jc = approved_job_card()
		act(jc.name, "Hold", ADVISOR)
		jc.reload()
		self.assertEqual((jc.status, jc.held_from), ("On Hold", "Awaiting Approval"))
		act(jc.name, "Resume", MANAGER)
		jc.reload()
		self.assertEqual(jc.status, "Awaiting Approval")
		issue_all(jc)
		with self.assertRaisesRegex(JobCardStatusError, "Return the issued parts"):
			act(jc.name, "Cancel", ADVISOR)

	def test_the_workflow_is_editable_but_the_guards_stay(self):
		"""An OEM admin adds a shortcut Open → Repairing for Service Advisors: it shows up as an
		action, and still refuses a job without the customer's approval."""
		workflow = frappe.get_doc("Workflow", "Service Job Card")
		workflow.append(
			"transitions",
			{
				"state": "Open",
				"action": "Start Repair",
				"next_state": "Repairing",
				"allowed": "Service Advisor",
				"allow_self_approval": 1,
			},
		)
		workflow.save()

		def restore():
			workflow.reload()
			workflow.transitions = [
				t for t in workflow.transitions if t.state != "Open" or t.action != "Start Repair"
			]
			workflow.save()

		self.addCleanup(restore)
		jc = make_job_card()
		frappe.set_user(ADVISOR)
		actions = {t["action"] for t in frappe.model.workflow.get_transitions(jc)}
		frappe.set_user("Administrator")
		self.assertIn("Start Repair", actions)
		with self.assertRaisesRegex(JobCardStatusError, "not approved the estimate"):
			act(jc.name, "Start Repair", ADVISOR)


def oldest_on_board(jc):
	"""Make jc the oldest job card of its column, so the board shows it however many job cards a
	reused test site has (a column shows its oldest)."""
	frappe.db.set_value("Service Job Card", jc.name, "creation", "2000-01-01", update_modified=False)
	return jc


class TestWorkshopBoard(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def test_board_groups_by_status_bay_and_technician(self):
		from aftersales_dms.workshop.board import get_board

		jc = oldest_on_board(approved_job_card(service_bay="OMP Bay 2"))
		board = as_user(MANAGER, get_board, "Orion Motors Pune")
		self.assertEqual(board["columns"][:3], ["Open", "In Progress", "Awaiting Approval"])
		card = next(c for c in board["cards"] if c.name == jc.name)
		self.assertEqual((card.status, card.service_bay), ("Awaiting Approval", "OMP Bay 2"))
		self.assertIn(jc.name, next(b for b in board["bays"] if b["service_bay"] == "OMP Bay 2")["job_cards"])
		amit = next(t for t in board["technicians"] if t["technician_name"].startswith("Amit"))
		self.assertIn(jc.name, {j["job_card"] for j in amit["jobs"]})
		self.assertNotIn(jc.name, {c.name for c in get_board("Orion Motors Nashik")["cards"]})

	def test_each_column_shows_its_oldest_and_counts_them_all(self):
		"""A backlog in one column (here more open job cards than a column shows) never pushes
		another column's job cards off the board: each column shows its oldest, up to the limit,
		and counts all of them."""
		from unittest.mock import patch

		from aftersales_dms.workshop import board

		for _ in range(3):
			make_job_card()
		approved_job_card()
		with patch.object(board, "PER_COLUMN", 2):
			data = as_user(MANAGER, board.read_board, "Orion Motors Pune")
		self.assertGreater(data["counts"]["Open"], 2)
		for state in board.ON_BOARD:
			shown = [c.name for c in data["cards"] if c.status == state]
			oldest = frappe.get_all(
				"Service Job Card",
				filters={"company": "Orion Motors Pune", "status": state},
				pluck="name",
				order_by="creation asc, name asc",
				limit=2,
			)
			self.assertEqual(shown, oldest, state)
			count = frappe.db.count("Service Job Card", {"company": "Orion Motors Pune", "status": state})
			self.assertEqual(data["counts"][state], count, state)
		self.assertTrue([c for c in data["cards"] if c.status == "Awaiting Approval"])

	def test_cached_board_follows_every_change_and_each_users_view(self):
		from aftersales_dms.workshop.board import get_board

		jc = oldest_on_board(make_job_card())
		before = as_user(MANAGER, get_board, "Orion Motors Pune")
		self.assertEqual(next(c for c in before["cards"] if c.name == jc.name).status, "Open")
		self.assertEqual(as_user(MANAGER, get_board, "Orion Motors Pune"), before)  # from the cache
		act(jc.name, "Start Work", AMIT)
		after = as_user(MANAGER, get_board, "Orion Motors Pune")
		self.assertEqual(next(c for c in after["cards"] if c.name == jc.name).status, "In Progress")
		# another dealer's manager, with the same roles, never gets this dealer's cached board
		other = as_user("manager@omn.example", get_board)
		self.assertNotIn(jc.name, {c.name for c in other["cards"]})
		self.assertTrue(all(c.company == "Orion Motors Nashik" for c in other["cards"]))
		frappe.delete_doc("Service Job Card", jc.name, force=True)
		gone = as_user(MANAGER, get_board, "Orion Motors Pune")
		self.assertNotIn(jc.name, {c.name for c in gone["cards"]})

	def test_kanban_drag_goes_through_the_same_rules(self):
		from frappe.desk.doctype.kanban_board.kanban_board import update_order_for_single_card

		jc = make_job_card()
		frappe.set_user(ADVISOR)
		with self.assertRaisesRegex(JobCardStatusError, "Only a passed quality check"):
			update_order_for_single_card("Workshop", jc.name, "Open", "Ready for Pickup", 0, 0)
		update_order_for_single_card("Workshop", jc.name, "Open", "In Progress", 0, 0)
		frappe.set_user("Administrator")
		self.assertEqual(frappe.db.get_value("Service Job Card", jc.name, "status"), "In Progress")
