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
OEM = "oem.admin@orion-oem.example"


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


def walk_in_job_card(advisor=ADVISOR):
	"""A walk-in (no appointment) checked in and opened as a job card by the advisor, with Amit on
	its labour line; its inspection (the car template's) is left as the check-in made it: Draft."""
	from aftersales_dms.reception.doctype.vehicle_check_in.vehicle_check_in import (
		make_job_card as job_card_from_check_in,
	)
	from aftersales_dms.tests.test_reception_journey import VEHICLE, next_odometer

	def check_in_and_open():
		ci = frappe.get_doc(
			{
				"doctype": "Vehicle Check In",
				"company": "Orion Motors Pune",
				"customer": frappe.db.get_value("Customer Vehicle", VEHICLE, "customer"),
				"vehicle": VEHICLE,
				"odometer": next_odometer(),
				"fuel_level": "1/2",
				"services": [{"item_code": "LAB-DIAG"}],
			}
		).insert()
		ci.submit()
		return job_card_from_check_in(ci.name).insert()

	jc = as_user(advisor, check_in_and_open)
	amit = frappe.db.get_value("Employee", {"first_name": "Amit"})
	for row in jc.labour:
		as_user(MANAGER, jc.assign_technician, row.name, amit)
	return frappe.get_doc("Service Job Card", jc.name)


def complete_inspection(name, user=ADVISOR, results=None):
	"""The advisor answers every check (Green unless `results` says {idx: (result, note)}) and
	completes the inspection."""

	def complete():
		inspection = frappe.get_doc("Vehicle Inspection", name)
		for row in inspection.items:
			result, note = (results or {}).get(row.idx, ("Green", None))
			row.update({"result": result, "note": note})
		inspection.submit()
		return inspection

	return as_user(user, complete)


def edit_workflow(test, user, change):
	"""Change the job card workflow as `user` (the OEM admin), put back after the test."""
	workflow = frappe.get_doc("Workflow", "Service Job Card")
	original = {key: [row.as_dict() for row in workflow.get(key)] for key in ("states", "transitions")}

	def restore():
		doc = frappe.get_doc("Workflow", "Service Job Card")
		for key, rows in original.items():
			doc.set(key, rows)
		doc.save(ignore_permissions=True)

	test.addCleanup(restore)
	change(workflow)
	as_user(user, workflow.save)
	return workflow


def add_road_test(workflow):
	"""Road Test between Quality Check and Ready for Pickup for Quality Supervisors, plus a
	careless shortcut Repairing → Road Test for Workshop Managers."""
	for name, doctype, field in (
		("Road Test", "Workflow State", "workflow_state_name"),
		("Pass Road Test", "Workflow Action Master", "workflow_action_name"),
		("Fail Road Test", "Workflow Action Master", "workflow_action_name"),
		("Road Test", "Workflow Action Master", "workflow_action_name"),
	):
		if not frappe.db.exists(doctype, name):
			as_user(OEM, frappe.get_doc({"doctype": doctype, field: name}).insert)
	workflow.append("states", {"state": "Road Test", "doc_status": "0", "allow_edit": "Quality Supervisor"})
	for t in workflow.transitions:
		if t.state == "Quality Check" and t.action == "Pass QC":
			t.next_state = "Road Test"
	for state, action, next_state, role in (
		("Road Test", "Pass Road Test", "Ready for Pickup", "Quality Supervisor"),
		("Road Test", "Fail Road Test", "Repairing", "Quality Supervisor"),
		("Repairing", "Road Test", "Road Test", "Workshop Manager"),
	):
		workflow.append(
			"transitions",
			{
				"state": state,
				"action": action,
				"next_state": next_state,
				"allowed": role,
				"allow_self_approval": 1,
			},
		)


def in_quality_check(**kwargs):
	"""A job card approved, parts issued, repaired and sent to QC, by the roles."""
	jc = approved_job_card(**kwargs)
	issue_all(jc)
	act(jc.name, "Start Repair", MANAGER)
	clock_done(jc.name)
	act(jc.name, "Send to QC", AMIT)
	return frappe.get_doc("Service Job Card", jc.name)


def verify_all(job_card, user=QC):
	jc = frappe.get_doc("Service Job Card", job_card)
	for row in jc.qc_items:
		row.verified = 1
	as_user(user, jc.save)


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
		inspection = complete_inspection(
			ci.vehicle_inspection, results={6: ("Red", "2 mm left"), 8: ("Amber", "worn")}
		)
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


class TestOemWorkflowAndFacts(FrappeTestCase):
	"""States an OEM adds work without code, and each guard checks the fact it protects."""

	def tearDown(self):
		frappe.set_user("Administrator")

	def test_work_waits_for_the_completed_inspection(self):
		jc = walk_in_job_card()
		self.assertTrue(jc.vehicle_inspection)
		message = (
			rf"Complete vehicle inspection {jc.vehicle_inspection} before work starts: it is Draft, 0 of 13"
		)
		with self.assertRaisesRegex(JobCardStatusError, message):
			act(jc.name, "Start Work", MANAGER)
		with self.assertRaisesRegex(JobCardStatusError, message):  # nor on the job clock
			as_user(AMIT, jc.start_work, jc.labour[0].name)
		jc.reload()
		jc.vehicle_inspection = None  # a client dropping the link does not drop the rule
		as_user(ADVISOR, jc.save)
		with self.assertRaisesRegex(JobCardStatusError, message):
			act(jc.name, "Start Work", MANAGER)
		complete_inspection(jc.vehicle_inspection)
		act(jc.name, "Start Work", MANAGER)
		jc.reload()
		as_user(AMIT, jc.start_work, jc.labour[0].name)
		jc.reload()
		self.assertEqual((jc.status, jc.labour[0].work_status), ("In Progress", "In Progress"))

	def test_status_options_follow_the_workflow_the_oem_admin_edits(self):
		def standard():
			return frappe.get_meta("Service Job Card").get_field("status").options.split("\n")

		from aftersales_dms.workshop import board

		shipped = standard()
		self.assertNotIn("Road Test", as_user(MANAGER, board.get_board, "Orion Motors Pune")["columns"])
		edit_workflow(self, OEM, add_road_test)
		self.assertEqual(standard(), [*shipped, "Road Test"])
		self.assertIn(
			"Road Test", [c.column_name for c in frappe.get_doc("Kanban Board", "Workshop").columns]
		)

		def back(workflow):
			workflow.states = [s for s in workflow.states if s.state != "Road Test"]
			workflow.transitions = [
				t for t in workflow.transitions if "Road Test" not in (t.state, t.next_state)
			]

		# the workshop board has a column for it at once (a board cached before the workflow's
		# save is not read again)
		columns = as_user(MANAGER, board.get_board, "Orion Motors Pune")["columns"]
		self.assertIn("Road Test", columns)
		self.assertNotIn("Delivered", columns)

		edit_workflow(self, OEM, back)
		self.assertEqual(standard(), shipped)
		self.assertNotIn("Road Test", as_user(MANAGER, board.get_board, "Orion Motors Pune")["columns"])
		self.assertFalse(
			frappe.db.exists("Property Setter", {"doc_type": "Service Job Card", "field_name": "status"})
		)

	def test_road_test_the_oem_added_needs_a_passed_qc_whatever_the_path(self):
		edit_workflow(self, OEM, add_road_test)
		jc = in_quality_check()
		# the careless path: QC failed, back to work, then the shortcut into Road Test
		jc.qc_remarks = "Noise still there"
		as_user(QC, jc.save)
		act(jc.name, "Fail QC", QC)
		act(jc.name, "Road Test", MANAGER)
		with self.assertRaisesRegex(JobCardStatusError, r"Only a passed quality check .*\(QC: Failed\)"):
			act(jc.name, "Pass Road Test", QC)
		jc.reload()
		self.assertEqual(jc.status, "Road Test")
		# a checkpoint: no new work and no clock while in it
		with self.assertRaisesRegex(frappe.ValidationError, "no new work"):
			as_user(
				ADVISOR, jc.add_service_package, frappe.get_all("Service Package", pluck="name", limit=1)[0]
			)
		with self.assertRaisesRegex(frappe.ValidationError, "can no longer change"):
			as_user(AMIT, jc.start_work, jc.labour[0].name)
		act(jc.name, "Fail Road Test", QC)
		act(jc.name, "Send to QC", MANAGER)
		with self.assertRaisesRegex(JobCardStatusError, "QC checklist items not verified"):
			act(jc.name, "Pass QC", QC)  # leaving Quality Check forward is a pass: all verified
		verify_all(jc.name)
		act(jc.name, "Pass QC", QC)
		jc.reload()
		self.assertEqual((jc.status, jc.qc_result, jc.qc_by), ("Road Test", "Passed", QC))
		# failing the road test sends it back to work: the pass no longer counts
		act(jc.name, "Fail Road Test", QC)
		jc.reload()
		self.assertEqual((jc.status, jc.qc_result), ("Repairing", None))
		self.assertEqual(
			jc.status_log[-1].remarks, "The passed QC no longer counts: the job went back to work."
		)
		act(jc.name, "Road Test", MANAGER)
		with self.assertRaisesRegex(JobCardStatusError, r"Only a passed quality check .*\(QC: not passed\)"):
			act(jc.name, "Pass Road Test", QC)
		act(jc.name, "Fail Road Test", QC)
		act(jc.name, "Send to QC", MANAGER)
		verify_all(jc.name)
		act(jc.name, "Pass QC", QC)
		act(jc.name, "Pass Road Test", QC)
		jc.reload()
		self.assertEqual((jc.status, jc.qc_result), ("Ready for Pickup", "Passed"))

	def test_oem_admin_edits_only_the_apps_workflows_and_no_notification_writes_documents(self):
		wf = frappe.new_doc("Workflow")
		wf.update(
			{
				"workflow_name": "OEM on invoices",
				"document_type": "Sales Invoice",
				"workflow_state_field": "workflow_state",
				"is_active": 0,
				"states": [{"state": "Open", "doc_status": "0", "allow_edit": "Accounts User"}],
			}
		)
		with self.assertRaisesRegex(frappe.PermissionError, "maintained by a System Manager"):
			as_user(OEM, wf.insert)
		notification = frappe.get_doc(
			"Notification", frappe.get_all("Notification", pluck="name", limit=1)[0]
		)
		notification.subject = "Edited by the OEM"
		as_user(OEM, notification.save)  # text and recipients are the OEM admin's
		notification.reload()
		notification.update({"set_property_after_alert": "approval_status", "property_value": "Approved"})
		with self.assertRaisesRegex(frappe.PermissionError, "Only a System Manager sets a property"):
			as_user(OEM, notification.save)


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
