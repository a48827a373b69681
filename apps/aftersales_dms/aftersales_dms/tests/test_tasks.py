# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

"""Each role gets its ToDo when the work is theirs, and the system closes the ToDos it opened
when their reason is gone (workshop/tasks.py) — never one a person made."""

import frappe
from frappe.desk.form.assign_to import add as assign
from frappe.tests.utils import FrappeTestCase

from aftersales_dms.parts.doctype.parts_request.test_parts_request import STORE, bin_qty, make_request
from aftersales_dms.workshop.doctype.service_job_card.test_service_job_card import make_job_card, tech
from aftersales_dms.workshop.test_job_card_status import (
	ADVISOR,
	AMIT,
	MANAGER,
	PARTS,
	QC,
	act,
	approved_job_card,
	as_user,
	issue_all,
)

JOB_CARD = "Service Job Card"


def todos(reference_name, reference_type=JOB_CARD, **filters):
	"""{allocated_to: (status, task)} of the ToDos on a document."""
	rows = frappe.get_all(
		"ToDo",
		filters={"reference_type": reference_type, "reference_name": reference_name, **filters},
		fields=["allocated_to", "status", "dms_task", "description"],
		order_by="creation",
	)
	return {r.allocated_to: (r.status, r.dms_task) for r in rows}


def todo_text(reference_name, user):
	return frappe.db.get_value(
		"ToDo",
		{
			"reference_type": JOB_CARD,
			"reference_name": reference_name,
			"allocated_to": user,
			"status": "Open",
		},
		"description",
	)


def user_of(first_name):
	return frappe.db.get_value("Service Technician", tech(first_name), "user")


class TestTasks(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def test_technician_gets_a_todo_per_job_card_naming_lines_closed_when_done_or_reassigned(self):
		ganesh = user_of("Ganesh")
		jc = as_user(ADVISOR, make_job_card, labour=("LAB-PMS-CAR", "LAB-DIAG"))
		self.assertEqual(todos(jc.name), {MANAGER: ("Open", "assign")})
		first, second = (r.name for r in jc.labour)

		as_user(MANAGER, jc.assign_technician, first, tech("Amit"))
		self.assertEqual(todos(jc.name)[AMIT], ("Open", "labour"))
		text = todo_text(jc.name, AMIT)
		self.assertIn(jc.name, text)
		self.assertIn(jc.registration_plate, text)
		self.assertIn("1. Periodic maintenance service - car", text)
		# the technician reads their ToDo (their own list, as the desk shows it)
		self.assertEqual(
			as_user(AMIT, frappe.get_list, "ToDo", filters={"reference_name": jc.name}, pluck="allocated_to"),
			[AMIT],
		)
		self.assertEqual(todos(jc.name)[MANAGER], ("Open", "assign"))  # line 2 has nobody yet

		as_user(MANAGER, jc.assign_technician, first, tech("Ganesh"))  # reassigned: Amit's closes
		as_user(MANAGER, jc.assign_technician, second, tech("Ganesh"))
		now = todos(jc.name)
		self.assertEqual(now[AMIT], ("Closed", "labour"))
		self.assertEqual(now[ganesh], ("Open", "labour"))
		self.assertEqual(now[MANAGER], ("Closed", "assign"))  # every line has a technician
		self.assertIn("2. ", todo_text(jc.name, ganesh))  # both lines in the one ToDo

		jc.reload()
		as_user(ganesh, jc.start_work, first)
		as_user(ganesh, jc.finish_work, first)
		self.assertEqual(todos(jc.name)[ganesh], ("Open", "labour"))  # line 2 still to do
		self.assertNotIn("1. ", todo_text(jc.name, ganesh))
		as_user(ganesh, jc.start_work, second)
		as_user(ganesh, jc.finish_work, second)
		self.assertEqual(todos(jc.name)[ganesh], ("Closed", "labour"))

	def test_a_line_whose_technician_is_taken_off_gets_the_managers_assign_todo_again(self):
		"""(attack: a technician set to "" over REST closed their ToDo and left nobody a task)"""
		from aftersales_dms.workshop.test_job_card_status import walk_in_job_card

		jc = walk_in_job_card()  # every line has Amit: the managers' assign ToDo is closed
		self.assertNotEqual(todos(jc.name).get(MANAGER), ("Open", "assign"))

		def take_off():
			doc = frappe.get_doc(JOB_CARD, jc.name)
			doc.labour[0].technician = None
			doc.save()

		as_user(MANAGER, take_off)
		self.assertEqual(todos(jc.name)[MANAGER], ("Open", "assign"))

	def test_quality_supervisor_todo_while_the_job_is_in_quality_check(self):
		jc = approved_job_card()
		issue_all(jc)
		act(jc.name, "Start Repair", MANAGER)
		jc = frappe.get_doc(JOB_CARD, jc.name)
		as_user(AMIT, jc.start_work, jc.labour[0].name)
		as_user(AMIT, jc.finish_work, jc.labour[0].name)
		self.assertEqual(todos(jc.name)[AMIT], ("Closed", "labour"))  # line 2 declined: no work
		self.assertNotIn(QC, todos(jc.name))
		act(jc.name, "Send to QC", AMIT)
		self.assertEqual(todos(jc.name)[QC], ("Open", "qc"))
		self.assertIn(jc.name, todo_text(jc.name, QC))
		jc.reload()
		jc.qc_remarks = "Oil level above max"
		as_user(QC, jc.save)
		act(jc.name, "Fail QC", QC)
		self.assertEqual(todos(jc.name)[QC], ("Closed", "qc"))
		act(jc.name, "Send to QC", MANAGER)  # the next round: a new ToDo
		self.assertEqual(
			frappe.db.count(
				"ToDo", {"reference_name": jc.name, "allocated_to": QC, "status": "Open", "dms_task": "qc"}
			),
			1,
		)

	def test_shortage_and_parts_arrived_todos_close_when_their_reason_is_gone(self):
		in_store = bin_qty("PRT-BATTERY-12V", STORE)
		jc = as_user(
			ADVISOR,
			make_job_card,
			parts=[{"item_code": "PRT-BATTERY-12V", "qty": in_store + 2, "rate": 5200}],
		)
		act(jc.name, "Start Work", MANAGER)
		pr = make_request([("PRT-BATTERY-12V", in_store + 2)], job_card=jc.name)
		result = as_user(PARTS, pr.issue_parts)
		mr = result["material_request"]
		self.assertEqual(todos(mr, "Material Request"), {PARTS: ("Open", "shortage")})

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
			as_user(PARTS, lambda: se.insert().submit())

		receive(1)  # not enough yet: still short
		self.assertEqual(todos(mr, "Material Request"), {PARTS: ("Open", "shortage")})
		receive(1)
		self.assertEqual(frappe.db.get_value(JOB_CARD, jc.name, "status"), "In Progress")
		self.assertEqual(todos(mr, "Material Request"), {PARTS: ("Closed", "shortage")})
		self.assertEqual(todos(jc.name)[PARTS], ("Open", "parts-arrived"))
		as_user(PARTS, frappe.get_doc("Parts Request", pr.name).issue_parts)
		self.assertEqual(todos(jc.name)[PARTS], ("Closed", "parts-arrived"))

	def test_cancelled_job_closes_the_systems_todos_and_never_a_persons(self):
		jc = as_user(ADVISOR, make_job_card, labour=("LAB-PMS-CAR", "LAB-DIAG"), technicians=("Amit",))
		as_user(
			MANAGER,
			assign,
			{
				"assign_to": [ADVISOR],
				"doctype": JOB_CARD,
				"name": jc.name,
				"description": "Call the customer",
			},
		)
		self.assertEqual(
			todos(jc.name),
			{MANAGER: ("Open", "assign"), AMIT: ("Open", "labour"), ADVISOR: ("Open", None)},
		)
		act(jc.name, "Cancel", ADVISOR)
		self.assertEqual(
			todos(jc.name),
			{
				MANAGER: ("Closed", "assign"),
				AMIT: ("Closed", "labour"),
				ADVISOR: ("Open", None),
			},
		)

	def test_delivered_job_leaves_no_system_todo_open(self):
		from erpnext.accounts.doctype.payment_entry.payment_entry import get_payment_entry
		from frappe.utils import today

		from aftersales_dms.billing.invoice import make_invoices
		from aftersales_dms.billing.test_invoice import ready_job_card, submit_as_accountant
		from aftersales_dms.workshop.tasks import open_task

		jc = ready_job_card(parts=())
		inv = submit_as_accountant(make_invoices(jc.name)["Customer"])
		pe = get_payment_entry("Sales Invoice", inv.name)
		pe.reference_no, pe.reference_date = "UPI-9", today()
		as_user("accounts@omp.example", lambda: pe.insert().submit())
		# a task of the system's left open (none of its own reasons closes it on this move)
		open_task([QC], JOB_CARD, jc.name, "qc", "left over")
		self.assertEqual(todos(jc.name)[QC], ("Open", "qc"))
		act(jc.name, "Deliver", ADVISOR)
		self.assertEqual(frappe.db.get_value(JOB_CARD, jc.name, "status"), "Delivered")
		self.assertEqual({status for status, _ in todos(jc.name).values()}, {"Closed"})

	def test_a_user_cannot_mark_a_todo_as_the_systems(self):
		todo = as_user(
			ADVISOR,
			lambda: frappe.get_doc(
				{"doctype": "ToDo", "description": "mine", "allocated_to": ADVISOR, "dms_task": "labour"}
			).insert(),
		)
		self.assertIsNone(frappe.db.get_value("ToDo", todo.name, "dms_task"))
