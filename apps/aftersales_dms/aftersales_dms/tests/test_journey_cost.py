# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

"""What a journey's saves no longer do (issue #21), each with the rule it keeps: the job card's
saves do not look up again the links it already holds (a new or changed one is still checked),
do not load the Notifications whose watched field did not change (one that did change still
fires), a request queues the technician figures' refresh once, whatever it saved, and the job
card's ToDos in one job after the commit, not in the request, a save builds
the new-row template only of a table with a new row (and the row still gets its defaults), and a
new line is priced by one ERPNext lookup, not one to price it and one to check its discount, a
save looks up only the links that changed (Frappe's own link check too), and the Ready for Pickup
messages build the invoice they state once."""

import re
from contextlib import contextmanager
from datetime import timedelta

import frappe
from frappe.tests.utils import FrappeTestCase

from aftersales_dms.workshop.test_job_card_status import (
	ADVISOR,
	AMIT,
	MANAGER,
	act,
	as_user,
	complete_inspection,
	walk_in_job_card,
)

ITEM_LOOKUP = re.compile(r"select `name` from `tabItem` where `name`\s*=\s*'[^']*' limit 1$", re.I)
NOTIFICATION_LOAD = re.compile(r"from `tabNotification` where `name`\s*=", re.I)
TEMPLATE_BUILD = re.compile(r"select `issingle` from `tabDocType` where `name`\s*=\s*'([^']*)'", re.I)
# Frappe's link check: the linked record's name (and the fields fetched from it) by its name
LINK_LOOKUP = re.compile(
	r"^select `name`[^;]*? from `tab(Item|Service Skill|Customer|Customer Vehicle|Company|UOM)` "
	r"where `name`\s*=",
	re.I,
)
ITEM_PRICE = re.compile(r"from `tabItem Price` where `item_code`\s*=\s*'([^']*)'", re.I)
QUOTATION_READ = re.compile(r"select \* from `tabQuotation` where `name`\s*=", re.I)
ROW_UPDATE = re.compile(r"^\s*UPDATE `tab(Service Job Card [^`]+)`\s+SET", re.I)
JOB_CARD_READ = re.compile(r"select \* from `tabService Job Card` where `name`\s*=", re.I)


@contextmanager
def recorded_queries():
	"""The SQL statements run inside the block (as Frappe's own FrappeTestCase.assertQueryCount
	records them)."""
	queries = []
	sql = frappe.db.__class__.sql

	def recording_sql(db, *args, **kwargs):
		out = sql(db, *args, **kwargs)
		queries.append(db.last_query)
		return out

	frappe.db.__class__.sql = recording_sql
	try:
		yield queries
	finally:
		frappe.db.__class__.sql = sql


class TestJourneyCost(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def add_part(self, job_card, item_code):
		def add():
			doc = frappe.get_doc("Service Job Card", job_card)
			doc.append("parts", {"item_code": item_code, "qty": 1})
			doc.save()
			return doc

		return as_user(ADVISOR, add)

	def test_a_save_looks_up_only_the_links_that_are_new(self):
		jc = walk_in_job_card()
		complete_inspection(jc.vehicle_inspection)
		# a part added by the advisor is a new link: looked up, and one that does not exist is refused
		with recorded_queries() as queries:
			self.add_part(jc.name, "PRT-OIL-FILTER-C")
		self.assertTrue([q for q in queries if ITEM_LOOKUP.search(q) and "PRT-OIL-FILTER-C" in q])
		with self.assertRaises(frappe.LinkValidationError):
			self.add_part(jc.name, "No Such Part 4711")
		self.assertFalse(
			frappe.db.exists("Service Job Card Part", {"parent": jc.name, "item_code": "No Such Part 4711"})
		)
		# the technician's workflow move changes no link: none of the stored ones is looked up again
		with recorded_queries() as queries:
			act(jc.name, "Start Work", AMIT)
		self.assertEqual(frappe.db.get_value("Service Job Card", jc.name, "status"), "In Progress")
		self.assertEqual([q for q in queries if ITEM_LOOKUP.search(q)], [])

	def test_a_save_that_changes_no_watched_field_loads_no_notification(self):
		jc = walk_in_job_card()
		complete_inspection(jc.vehicle_inspection)
		labour = jc.labour[0].name
		# the manager's reassignment changes no status: the job card's four "Value Change"
		# Notifications (on status) are not loaded
		with recorded_queries() as queries:
			as_user(
				MANAGER,
				frappe.get_doc("Service Job Card", jc.name).assign_technician,
				labour,
				jc.labour[0].technician,
			)
		self.assertEqual([q for q in queries if NOTIFICATION_LOAD.search(q)], [])
		# a move that changes the status, but not to one their conditions name (Ready for Pickup,
		# Delivered): not loaded either
		with recorded_queries() as queries:
			act(jc.name, "Start Work", AMIT)
		self.assertEqual([q for q in queries if NOTIFICATION_LOAD.search(q)], [])
		# one whose condition holds is evaluated and sent by Frappe as before (the Ready for Pickup
		# SMS: test_the_ready_for_pickup_messages_build_the_invoice_once, billing/test_invoice.py)
		from aftersales_dms.controllers.notifications import condition_holds

		doc = frappe.get_doc("Service Job Card", jc.name)
		self.assertFalse(condition_holds("Vehicle Ready for Pickup - SMS", doc))
		doc.status = "Ready for Pickup"
		self.assertTrue(condition_holds("Vehicle Ready for Pickup - SMS", doc))

	def test_a_status_notification_whose_condition_fails_does_not_stop_the_move(self):
		"""(attack: an OEM admin's condition that raises on some job cards refused their status
		moves, for every dealer) The alert is not sent and the failure is in the Error Log."""
		jc = walk_in_job_card()
		complete_inspection(jc.vehicle_inspection)
		probe = frappe.get_doc(
			{
				"doctype": "Notification",
				"name": f"probe-{jc.name}",
				"subject": "probe",
				"document_type": "Service Job Card",
				"event": "Value Change",
				"value_changed": "status",
				"channel": "System Notification",
				"condition": f"doc.name == '{jc.name}' and doc.items()",
				"message": "probe",
				"recipients": [{"receiver_by_document_field": "owner"}],
			}
		).insert()
		try:
			before = frappe.db.count("Error Log")
			act(jc.name, "Start Work", AMIT)  # refused with "no attribute 'items'" before
			self.assertEqual(frappe.db.get_value("Service Job Card", jc.name, "status"), "In Progress")
			self.assertGreater(frappe.db.count("Error Log"), before)
		finally:
			frappe.delete_doc("Notification", probe.name, force=True)
			frappe.cache.hdel("notifications", "Service Job Card")

	def test_a_workflow_move_of_ones_own_role_reads_the_job_card_once_under_lock(self):
		from aftersales_dms.workshop.status import apply_workflow

		jc = walk_in_job_card()
		complete_inspection(jc.vehicle_inspection)
		doc = frappe.get_doc("Service Job Card", jc.name).as_dict()
		frappe.set_user(AMIT)
		frappe.local.new_doc_templates = {}  # as at the start of a request
		with recorded_queries() as queries:
			apply_workflow(doc, "Start Work")
		frappe.set_user("Administrator")
		self.assertEqual(frappe.db.get_value("Service Job Card", jc.name, "status"), "In Progress")
		# Frappe's apply_workflow reads it, under lock, and its save compares with a copy of that
		# read (controllers/saves.LeanSave); the override looks only at its status to see that the
		# technician's own role has the action
		full_reads = [q for q in queries if JOB_CARD_READ.search(q)]
		self.assertEqual(len(full_reads), 1, full_reads)
		self.assertIn("for update", full_reads[0].lower())
		# the move adds a status log row: that table's row template is built, no other (the check
		# of rows a user adds builds one only for a table a row was added to)
		built = {m.group(1) for q in queries if (m := TEMPLATE_BUILD.search(q))}
		self.assertLessEqual(
			{b for b in built if b.startswith("Service Job Card")}, {"Service Job Card Status Log"}
		)
		# an action none of the user's roles has is still refused
		frappe.set_user(AMIT)
		with self.assertRaises(frappe.ValidationError):
			apply_workflow(frappe.get_doc("Service Job Card", jc.name).as_dict(), "Pass QC")

	def test_a_doc_method_request_reads_its_job_card_once_under_lock(self):
		"""Frappe's handler loads the document, the method locked and read it again, and the save
		read it a third time: now the handler's load is the locked read and the save compares
		with a copy of it — the same rows, locked the same way."""
		from aftersales_dms.controllers.saves import locked_read

		jc = walk_in_job_card()
		complete_inspection(jc.vehicle_inspection)
		act(jc.name, "Start Work", AMIT)
		line = jc.labour[0].name

		def clock(action):
			# as controllers/doc_methods.run_doc_method has Frappe's handler do it: load, then the method
			with locked_read("Service Job Card", jc.name):
				doc = frappe.get_doc("Service Job Card", jc.name)
				getattr(doc, f"{action}_work")(line)

		with recorded_queries() as queries:
			as_user(AMIT, clock, "start")
		reads = [q for q in queries if JOB_CARD_READ.search(q)]
		self.assertEqual(len(reads), 1, reads)
		self.assertIn("for update", reads[0].lower())
		stored = frappe.get_doc("Service Job Card", jc.name)
		self.assertEqual(stored.get_labour_line(line).work_status, "In Progress")
		self.assertEqual(len([t for t in stored.time_logs if t.labour_line == line and not t.to_time]), 1)
		as_user(AMIT, clock, "finish")
		self.assertEqual(frappe.db.get_value("Service Job Card Labour", line, "work_status"), "Done")

	def test_a_save_writes_only_the_rows_it_changed(self):
		jc = walk_in_job_card()
		complete_inspection(jc.vehicle_inspection)
		act(jc.name, "Start Work", AMIT)
		line = jc.labour[0].name
		with recorded_queries() as queries:
			as_user(AMIT, frappe.get_doc("Service Job Card", jc.name).start_work, line)
		updates = [m.group(1) for q in queries if (m := ROW_UPDATE.search(q))]
		# the started line (its status) and the parent; the new time log is inserted; no other row
		self.assertEqual(updates.count("Service Job Card Labour"), 1, updates)
		self.assertFalse(
			{"Service Job Card Part", "Service Job Card Status Log", "Service Job Card Approval Log"}
			& set(updates)
		)
		stored = frappe.get_doc("Service Job Card", jc.name)
		self.assertEqual(stored.get_labour_line(line).work_status, "In Progress")
		# a removed row: the table is written as Frappe does (its row deleted)
		doc = frappe.get_doc("Service Job Card", jc.name)
		part = self.add_part(jc.name, "PRT-AIR-FILTER-C").parts[-1].name
		doc = frappe.get_doc("Service Job Card", jc.name)
		doc.parts = [p for p in doc.parts if p.name != part]
		as_user(ADVISOR, doc.save)
		self.assertFalse(frappe.db.exists("Service Job Card Part", part))
		as_user(AMIT, frappe.get_doc("Service Job Card", jc.name).finish_work, line)  # clocked off again

	def test_a_write_after_the_locked_read_makes_the_save_read_the_stored_document_again(self):
		"""As the advisor: lock_document checks their write right on the stored job card."""
		from aftersales_dms.controllers.guards import lock_document

		jc = walk_in_job_card()
		frappe.set_user(ADVISOR)
		try:
			doc = lock_document(frappe.get_doc("Service Job Card", jc.name))
			# this transaction writes the job card behind the document object's back
			frappe.db.set_value(
				"Service Job Card", jc.name, "concerns", "written after the read", update_modified=False
			)
			with recorded_queries() as queries:
				doc.save()
			self.assertEqual(len([q for q in queries if JOB_CARD_READ.search(q)]), 1)
			self.assertEqual(doc.get_doc_before_save().concerns, "written after the read")
			# and without a write, the save compares with the copy of the locked read: no read
			doc = lock_document(frappe.get_doc("Service Job Card", jc.name))
			stored = frappe.db.get_value("Service Job Card", jc.name, "concerns")
			doc.concerns = "changed in the save"
			with recorded_queries() as queries:
				doc.save()
			self.assertEqual([q for q in queries if JOB_CARD_READ.search(q)], [])
			self.assertEqual(doc.get_doc_before_save().concerns, stored)
			self.assertTrue(doc.has_value_changed("concerns"))
		finally:
			frappe.set_user("Administrator")

	def test_the_technician_figures_refresh_is_queued_once_per_commit(self):
		from aftersales_dms.analytics import technician_days as days
		from aftersales_dms.controllers import jobs

		jc = walk_in_job_card()
		complete_inspection(jc.vehicle_inspection)
		jobs._forget_pending()
		before = list(frappe.db.after_commit._functions).count(jobs._enqueue_pending)
		line = jc.labour[0].name
		as_user(AMIT, frappe.get_doc("Service Job Card", jc.name).start_work, line)
		as_user(AMIT, frappe.get_doc("Service Job Card", jc.name).finish_work, line)
		after = list(frappe.db.after_commit._functions).count(jobs._enqueue_pending)
		# two clock saves marked the technician's day stale: one refresh after the commit
		self.assertEqual(after - before, 1)
		self.assertEqual(
			[m for m, _kw in frappe.flags[jobs.PENDING].values()].count(
				"aftersales_dms.analytics.technician_days.refresh_queued"
			),
			1,
		)
		self.assertTrue(
			frappe.db.exists("Technician Work Day", {"technician": jc.labour[0].technician, "stale": 1})
		)
		jobs._forget_pending()
		self.assertTrue(days.REFRESH_QUEUED)

	def test_a_job_cards_tasks_follow_it_in_one_job_after_the_commit_not_in_the_request(self):
		"""The ToDos of a job card are Frappe assignments (a ToDo, its comment, share and
		notification each): the saves of a request queue one job for the job card after the
		commit and wait for none of it; the job gives the technician their ToDo, and marks itself
		started, so the next commit queues a new one."""
		from aftersales_dms.controllers import jobs
		from aftersales_dms.workshop import tasks
		from aftersales_dms.workshop.doctype.service_job_card.test_service_job_card import tech

		jc = walk_in_job_card()  # Amit's line, and Amit's ToDo
		line = jc.labour[0].name
		amit, ganesh = jc.labour[0].technician, tech("Ganesh")
		ganesh_user = frappe.db.get_value("Service Technician", ganesh, "user")
		jobs._forget_pending()
		before = list(frappe.db.after_commit._functions).count(jobs._enqueue_pending)
		frappe.flags.in_test = False  # as a request does it (under tests Frappe runs jobs inline)
		try:
			with recorded_queries() as queries:
				for technician in (ganesh, amit, ganesh):  # three saves of the job card
					as_user(
						MANAGER,
						frappe.get_doc("Service Job Card", jc.name).assign_technician,
						line,
						technician,
					)
		finally:
			frappe.flags.in_test = True
		# no ToDo was written in the request; one job is asked for the job card
		self.assertFalse([q for q in queries if re.search(r"into `tabToDo`|update `tabToDo`", q, re.I)])
		self.assertEqual(list(frappe.db.after_commit._functions).count(jobs._enqueue_pending) - before, 1)
		self.assertEqual(
			frappe.flags[jobs.PENDING][tasks.sync_key(jc.name)],
			("aftersales_dms.workshop.tasks.sync_queued_job_card", {"job_card": jc.name}),
		)
		self.assertFalse(frappe.db.exists("ToDo", {"reference_name": jc.name, "allocated_to": ganesh_user}))
		jobs._forget_pending()
		# the job, as the worker runs it (as the user who queued it): Ganesh's ToDo names the line,
		# Amit's (the recall line is still his) no longer does
		frappe.cache.set(frappe.cache.make_key(tasks.sync_key(jc.name)), 1, ex=60)
		self.assertTrue(jobs.is_queued(tasks.sync_key(jc.name)))
		as_user(MANAGER, tasks.sync_queued_job_card, jc.name)
		self.assertFalse(jobs.is_queued(tasks.sync_key(jc.name)))  # a new commit queues again
		todos = {
			t.allocated_to: t
			for t in frappe.get_all(
				"ToDo",
				filters={"reference_name": jc.name, "dms_task": tasks.LABOUR, "status": "Open"},
				fields=["allocated_to", "description"],
			)
		}
		self.assertIn(f"{jc.labour[0].idx}. ", todos[ganesh_user].description)
		self.assertNotIn(f"{jc.labour[0].idx}. ", (todos.get(AMIT) or frappe._dict()).description or "")

	def test_an_app_documents_notifications_are_built_in_a_job_after_the_commit(self):
		"""Frappe decides in the request that the confirmation fires (its status changed to
		Confirmed); the e-mail and the SMS are built by one job each after the commit, from the
		appointment as stored — nothing of them is rendered or written in the request."""
		from aftersales_dms.booking.doctype.service_appointment.test_service_appointment import (
			future_day,
			make_appointment,
		)
		from aftersales_dms.controllers import jobs
		from aftersales_dms.overrides.notification import queued_key, send_queued

		appointment = as_user(
			ADVISOR, make_appointment, future_day() + timedelta(days=3, hours=11), bay="OMP Bay 3"
		)
		jobs._forget_pending()
		frappe.flags.in_test = False  # as a request does it (under tests Frappe sends inline)
		try:
			with recorded_queries() as queries:
				as_user(ADVISOR, frappe.get_doc("Service Appointment", appointment.name).confirm)
		finally:
			frappe.flags.in_test = True
		self.assertFalse(
			[q for q in queries if re.search(r"into `tab(Communication|Email Queue|Outgoing SMS)`", q, re.I)]
		)
		asked = {
			key: kwargs
			for key, (method, kwargs) in frappe.flags[jobs.PENDING].items()
			if method == "aftersales_dms.overrides.notification.send_queued"
		}
		email = "Service Appointment Confirmed - Email"
		self.assertIn(queued_key(email, "Service Appointment", appointment.name), asked)
		jobs._forget_pending()
		# the job, as the worker runs it: the e-mail to the customer, about this appointment
		as_user(ADVISOR, send_queued, email, "Service Appointment", appointment.name)
		self.assertTrue(
			frappe.db.exists(
				"Communication",
				{"reference_doctype": "Service Appointment", "reference_name": appointment.name,
					"subject": ("like", f"%{appointment.name} confirmed%")},
			)
		)  # fmt: skip

	def test_a_doctypes_dealer_scoped_links_are_worked_out_once_per_request(self):
		from aftersales_dms.controllers.dealer_links import scoped_link_fields

		meta = frappe.get_meta("Service Job Card Labour")
		first = scoped_link_fields(meta)
		self.assertIn("technician", [df.fieldname for df in first])
		self.assertIs(scoped_link_fields(meta), first)  # every later save of the request

	def test_make_invoices_reads_the_job_card_once_for_both_invoices(self):
		"""It read the job card for the permission check, again after its lock (the same snapshot),
		and each invoice's validate read it twice more: now the request's one read serves them."""
		from aftersales_dms.billing.invoice import make_invoices
		from aftersales_dms.billing.test_invoice import ACCOUNTANT, ready_job_card

		jc = ready_job_card(labour=(("LAB-PMS-CAR", "Customer"), ("LAB-DIAG", "Warranty")), parts=())
		with recorded_queries() as queries:
			invoices = as_user(ACCOUNTANT, make_invoices, jc.name)
		self.assertEqual(sorted(invoices), ["Customer", "Warranty"])
		self.assertEqual(len([q for q in queries if JOB_CARD_READ.search(q)]), 1)
		# a draft saved later is checked against the job card as stored, read again
		draft = frappe.get_doc("Sales Invoice", invoices["Customer"])
		with recorded_queries() as queries:
			as_user(ACCOUNTANT, draft.save)
		self.assertEqual(len([q for q in queries if JOB_CARD_READ.search(q)]), 1)

	def test_a_save_builds_the_new_row_template_only_for_a_table_with_a_new_row(self):
		jc = walk_in_job_card()
		complete_inspection(jc.vehicle_inspection)
		act(jc.name, "Start Work", AMIT)
		line = jc.labour[0].name

		def clock_on():
			frappe.local.new_doc_templates = {}  # as at the start of a request
			frappe.get_doc("Service Job Card", jc.name).start_work(line)

		with recorded_queries() as queries:
			as_user(AMIT, clock_on)
		as_user(AMIT, frappe.get_doc("Service Job Card", jc.name).finish_work, line)  # clocked off again
		built = {m.group(1) for q in queries if (m := TEMPLATE_BUILD.search(q))}
		# the clock-on adds a time log: that table's template, none of the other five
		self.assertIn("Service Job Card Time Log", built)
		self.assertFalse(built & {"Service Job Card Labour", "Service Job Card Part", "Service Job Card Status Log",
			"Service Job Card QC Item", "Service Job Card Approval Log"}, built)  # fmt: skip
		# a new row still gets its defaults from the template: a part line without a payer is the customer's
		doc = self.add_part(jc.name, "PRT-AIR-FILTER-C")
		self.assertEqual(doc.parts[-1].bill_to, "Customer")
		self.assertEqual(
			frappe.db.get_value("Service Job Card Part", doc.parts[-1].name, "bill_to"), "Customer"
		)

		# and one a REST client sends with an empty payer (not a missing one, which the default
		# fills) is stored as the customer's too, new or changed (attack of 2026-12-07)
		def empty_payers():
			doc = frappe.get_doc("Service Job Card", jc.name)
			doc.append("labour", {"item_code": "LAB-DIAG", "standard_hours": 1, "bill_to": ""})
			doc.parts[0].bill_to = ""
			doc.save()
			return doc

		doc = as_user(ADVISOR, empty_payers)
		for row in (doc.labour[-1], doc.parts[0]):
			self.assertEqual(frappe.db.get_value(row.doctype, row.name, "bill_to"), "Customer")

	def test_a_new_line_is_priced_by_one_lookup(self):
		from aftersales_dms.controllers.pricing import price_item

		jc = walk_in_job_card()
		complete_inspection(jc.vehicle_inspection)
		item = "PRT-COOLANT-1L"
		with recorded_queries() as one:
			price_item(item, jc.company, jc.customer, 1)
		one_lookup = len([q for q in one if (m := ITEM_PRICE.search(q)) and m.group(1) == item])
		self.assertTrue(one_lookup)
		with recorded_queries() as queries:
			doc = self.add_part(jc.name, item)
		looked_up = len([q for q in queries if (m := ITEM_PRICE.search(q)) and m.group(1) == item])
		# priced (no rate given) and checked against the advisor's discount limit: one lookup
		self.assertEqual(looked_up, one_lookup)
		self.assertEqual(doc.parts[-1].rate, price_item(item, jc.company, jc.customer, 1).rate)
		# the limit is still checked on a typed rate: 100 % off is above the advisor's limit
		with self.assertRaises(frappe.PermissionError):
			as_user(ADVISOR, self._typed_rate, jc.name, item, 0.01)

	def _typed_rate(self, job_card, item, rate):
		doc = frappe.get_doc("Service Job Card", job_card)
		doc.append("parts", {"item_code": item, "qty": 1, "rate": rate})
		doc.save()

	def test_the_ready_for_pickup_messages_build_the_invoice_once(self):
		from aftersales_dms.billing.customer_figures import customer_amount_due
		from aftersales_dms.billing.test_invoice import ready_job_card

		built = []
		from aftersales_dms.billing import invoice

		real = invoice.customer_bill

		def counting(jc):
			built.append(jc.name)
			return real(jc)

		invoice.customer_bill = counting
		try:
			jc = ready_job_card(labour=(("LAB-PMS-CAR", "Customer"),), parts=())
		finally:
			invoice.customer_bill = real
		# the move to Ready for Pickup sent the SMS and the email, both with the amount: one build
		self.assertEqual(built.count(jc.name), 1, built)
		sms = frappe.get_all(
			"Outgoing SMS", filters={"reference_name": jc.name}, pluck="message", order_by="creation"
		)
		fresh = frappe.get_doc("Service Job Card", jc.name)
		self.assertIn(customer_amount_due(fresh), sms[-1])
		# outside a save's notifications nothing is kept: each call states it afresh
		self.assertIsNone(fresh.flags.get("dms_amount_due_memo"))

	def test_a_save_looks_up_only_the_links_that_changed(self):
		jc = walk_in_job_card()
		complete_inspection(jc.vehicle_inspection)
		# the manager's reassignment changes one row's technician and no other link: Frappe's link
		# check looks none of the stored ones up again (the clock's own saves skip it altogether)
		with recorded_queries() as queries:
			as_user(
				MANAGER,
				frappe.get_doc("Service Job Card", jc.name).assign_technician,
				jc.labour[0].name,
				jc.labour[0].technician,
			)
		self.assertEqual([q for q in queries if LINK_LOOKUP.search(q)], [])

		# a changed link is still checked: one that names no record is refused, nothing saved
		def set_advisor(user):
			doc = frappe.get_doc("Service Job Card", jc.name)
			doc.service_advisor = user
			doc.save()

		with self.assertRaises(frappe.LinkValidationError):
			as_user(ADVISOR, set_advisor, "nobody-4711@example.com")
		self.assertEqual(
			frappe.db.get_value("Service Job Card", jc.name, "service_advisor"), jc.service_advisor
		)

		# a fetched value a client changes is fetched again from its unchanged link (attack of
		# 2026-12-07: a forged customer name, plate and item name were stored and shown to the customer)
		def forge():
			doc = frappe.get_doc("Service Job Card", jc.name)
			doc.customer_name = "Priya Nair"
			doc.registration_plate = "MH14GH7788"
			doc.labour[0].item_name = "Free"
			doc.save()

		as_user(ADVISOR, forge)
		stored = frappe.get_doc("Service Job Card", jc.name)
		self.assertEqual(
			(stored.customer_name, stored.registration_plate, stored.labour[0].item_name),
			(
				frappe.db.get_value("Customer", stored.customer, "customer_name"),
				frappe.db.get_value("Customer Vehicle", stored.vehicle, "registration_plate"),
				frappe.db.get_value("Item", stored.labour[0].item_code, "item_name"),
			),
		)
		# a new row is checked and gets its fetched fields
		doc = self.add_part(jc.name, "PRT-SPARK-PLUG")
		self.assertEqual(doc.parts[-1].item_name, frappe.db.get_value("Item", "PRT-SPARK-PLUG", "item_name"))

		# so is a row whose link changed, and an emptied fetched field is fetched again
		def change_item():
			doc = frappe.get_doc("Service Job Card", jc.name)
			doc.parts[-1].item_code = "PRT-OIL-FILTER-C"
			doc.parts[-1].rate = 0
			doc.save()
			return doc

		doc = as_user(ADVISOR, change_item)
		self.assertEqual(
			doc.parts[-1].item_name, frappe.db.get_value("Item", "PRT-OIL-FILTER-C", "item_name")
		)
		stored = frappe.get_doc("Service Job Card", jc.name)
		stored.parts[-1].item_name = None
		stored.flags.ignore_permissions = True  # a system save: a user's would restore it from the stored row
		stored.save()
		self.assertEqual(
			frappe.db.get_value("Service Job Card Part", stored.parts[-1].name, "item_name"),
			frappe.db.get_value("Item", "PRT-OIL-FILTER-C", "item_name"),
		)

	def test_the_customers_decision_reads_the_estimate_once(self):
		from aftersales_dms.billing.approval import decide
		from aftersales_dms.billing.test_customer_figures import estimated

		jc, token = estimated()
		customer_row = jc.labour[0].name
		with recorded_queries() as queries:
			result = as_user("Guest", decide, token, {customer_row: "Approved"})
		self.assertEqual(result["approval_status"], "Approved")
		reads = [q for q in queries if QUOTATION_READ.search(q)]
		# the page's lines, the evidence and the two totals read the one submitted estimate (four
		# full reads before); once, in the decision's transaction
		self.assertEqual(len(reads), 1, reads)
