# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

from datetime import timedelta

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_to_date, now_datetime

from aftersales_dms.tests.runner_deps import outside_links
from aftersales_dms.workshop.assignment import rank_technicians, suggest_technicians
from aftersales_dms.workshop.doctype.service_job_card.service_job_card import workshop_managers

# Frappe's test runner stops here when it comes from an ERPNext DocType (tests/runner_deps.py)
test_ignore = outside_links("Service Job Card")

COMPANY = "Orion Motors Pune"


def tech(first_name):
	return frappe.db.get_value("Employee", {"first_name": first_name})


def make_job_card(labour=("LAB-PMS-CAR",), technicians=(), vehicle="MA1TA2XX6GH123456", **kwargs):
	from aftersales_dms.workshop.doctype.service_job_card.service_job_card import labour_line

	doc = frappe.get_doc(
		{
			"doctype": "Service Job Card",
			"company": COMPANY,
			"customer": frappe.db.get_value("Customer Vehicle", vehicle, "customer"),
			"vehicle": vehicle,
			"labour": [
				labour_line(item, COMPANY, technician=tech(t) if t else None)
				for item, t in zip(labour, list(technicians) + [None] * len(labour), strict=False)
			],
			**kwargs,
		}
	)
	return doc.insert()


class TestJobCardWorkshop(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def test_new_job_card_gives_the_dealers_workshop_managers_a_todo(self):
		jc = make_job_card()
		self.assertEqual(workshop_managers(COMPANY), ["manager@omp.example"])
		todos = frappe.get_all(
			"ToDo",
			filters={"reference_type": "Service Job Card", "reference_name": jc.name, "status": "Open"},
			pluck="allocated_to",
		)
		self.assertEqual(todos, ["manager@omp.example"])

	def test_suggestion_ranks_by_skill_then_load(self):
		ranked = rank_technicians(COMPANY, "Diagnostics")
		self.assertEqual(
			[r["technician"] for r in ranked[:2]], [tech("Sunil"), tech("Amit")]
		)  # Master, Senior
		self.assertEqual({r["has_skill"] for r in ranked[2:]}, {False})
		# equal skill: the technician with less open work today comes first
		ranked = rank_technicians(COMPANY, "Periodic Maintenance")
		self.assertEqual(ranked[0]["technician"], tech("Amit"))  # Master
		jc = make_job_card(labour=("LAB-CLUTCH",), technicians=("Amit",))
		before = {r["technician"]: r["open_hours"] for r in ranked}
		after = {r["technician"]: r["open_hours"] for r in rank_technicians(COMPANY, "Periodic Maintenance")}
		self.assertEqual(after[tech("Amit")], before[tech("Amit")] + 6.0)
		line = jc.labour[0].name
		names = [r["technician"] for r in suggest_technicians(jc.name, line)]
		self.assertEqual(names[0], tech("Amit"))  # Engine: Amit Senior vs Raju Junior

	def test_assignment_only_by_workshop_manager(self):
		jc = make_job_card()
		frappe.set_user("advisor@omp.example")
		with self.assertRaises(frappe.PermissionError):
			jc.assign_technician(jc.labour[0].name, tech("Ganesh"))
		jc.reload()
		booked = jc.labour[0].technician
		jc.labour[0].technician = tech("Ganesh")
		jc.save()  # assignment is permlevel 3, the workshop managers': the advisor's change is dropped
		self.assertEqual(
			frappe.db.get_value("Service Job Card Labour", jc.labour[0].name, "technician"), booked
		)
		frappe.set_user("manager@omp.example")
		jc.reload()
		jc.assign_technician(jc.labour[0].name, tech("Ganesh"))
		self.assertEqual(frappe.get_doc("Service Job Card", jc.name).labour[0].technician, tech("Ganesh"))

	def test_job_clock_clocked_vs_standard(self):
		jc = make_job_card(labour=("LAB-PMS-CAR", "LAB-DIAG"), technicians=("Amit", "Amit"))
		first, second = (r.name for r in jc.labour)
		frappe.set_user("tech.amit@omp.example")
		jc.start_work(first)
		with self.assertRaisesRegex(frappe.ValidationError, "already clocked on"):
			jc.start_work(second)  # one clock at a time per technician
		# 1.5 h worked, 0.5 h pause, 1.25 h more: move the open log back in time to simulate it
		self.backdate_open_log(jc.name, hours=1.5)
		jc.pause_work(first)
		jc.start_work(second)
		self.backdate_open_log(jc.name, hours=0.5)
		jc.finish_work(second)
		jc.start_work(first)
		self.backdate_open_log(jc.name, hours=1.25)
		jc.finish_work(first)
		jc.reload()
		rows = {r.name: r for r in jc.labour}
		self.assertEqual((rows[first].work_status, rows[second].work_status), ("Done", "Done"))
		self.assertAlmostEqual(rows[first].clocked_hours, 2.75, places=2)
		self.assertAlmostEqual(rows[second].clocked_hours, 0.5, places=2)
		self.assertAlmostEqual(jc.total_clocked_hours, 3.25, places=2)
		self.assertAlmostEqual(jc.total_hours, 3.3)  # sold (standard) hours: 2.5 + 0.8
		with self.assertRaisesRegex(frappe.ValidationError, "is Done"):
			jc.start_work(first)

	def test_a_clock_save_leaves_no_exemption_behind(self):
		"""The clock's own save may write time logs and skip the link check; a later save of the
		same document object may not: its forged hours and broken links are refused."""
		jc = make_job_card(technicians=("Amit",))
		line = jc.labour[0].name
		frappe.set_user("manager@omp.example")
		jc.start_work(line)
		jc.finish_work(line)
		self.assertFalse(jc.flags.clocking or jc.flags.ignore_links or jc.flags.ignore_permissions)
		jc.time_logs[0].hours = 99
		jc.save()  # time logs are the system's (permlevel 2): the forged hours are dropped
		jc.reload()
		jc.service_bay = "No Such Bay"
		with self.assertRaises(frappe.LinkValidationError):
			jc.save()
		self.assertNotEqual(
			frappe.db.get_value("Service Job Card Time Log", {"parent": jc.name}, "hours"), 99
		)

	def test_only_the_technician_or_a_manager_clocks(self):
		jc = make_job_card(technicians=("Sunil",))
		frappe.set_user("tech.amit@omp.example")
		with self.assertRaisesRegex(frappe.PermissionError, "Only technician"):
			jc.start_work(jc.labour[0].name)
		frappe.set_user("manager@omp.example")
		jc.start_work(jc.labour[0].name)
		self.assertEqual(
			frappe.db.get_value("Service Job Card Labour", jc.labour[0].name, "work_status"), "In Progress"
		)
		jc.finish_work(jc.labour[0].name)

	def test_clock_buttons_by_name(self):
		from aftersales_dms.workshop.doctype.service_job_card.service_job_card import clock_labour

		jc = make_job_card(technicians=("Amit",))
		line = jc.labour[0].name
		frappe.set_user("tech.amit@omp.example")
		clock_labour(jc.name, line, "start")
		started = frappe.db.get_value("Service Job Card Labour", line, ["work_status", "started_on"])
		self.assertEqual(started[0], "In Progress")
		self.assertTrue(started[1])
		clock_labour(jc.name, line, "finish")
		done = frappe.db.get_value(
			"Service Job Card Labour", line, ["work_status", "finished_on"], as_dict=True
		)
		self.assertEqual(done.work_status, "Done")
		self.assertEqual(
			done.finished_on,
			frappe.db.get_value("Service Job Card Time Log", {"labour_line": line}, "max(to_time)"),
		)
		with self.assertRaisesRegex(frappe.ValidationError, "Unknown clock action"):
			clock_labour(jc.name, line, "explode")
		frappe.set_user("tech.deepak@omn.example")
		with self.assertRaises(frappe.PermissionError):
			clock_labour(jc.name, line, "start")  # another dealer's technician cannot even read it

	def test_time_logs_cannot_be_forged_or_orphaned(self):
		jc = make_job_card(labour=("LAB-PMS-CAR", "LAB-DIAG"), technicians=("Ganesh", None))
		jc.append(
			"time_logs",
			{
				"labour_line": jc.labour[0].name,
				"technician": tech("Ganesh"),
				"from_time": add_to_date(now_datetime(), hours=-8),
				"to_time": now_datetime(),
				"hours": 8,
			},
		)
		frappe.set_user("manager@omp.example")
		jc.save()  # the time logs are the system's (permlevel 2): the forged log is dropped
		frappe.set_user("Administrator")
		self.assertFalse(frappe.get_all("Service Job Card Time Log", filters={"parent": jc.name}))
		jc.reload()
		jc.start_work(jc.labour[0].name)
		jc.reload()
		jc.labour = [jc.labour[1]]
		with self.assertRaisesRegex(frappe.ValidationError, "cannot be removed"):
			jc.save()
		jc.reload()
		with self.assertRaisesRegex(frappe.ValidationError, "has no technician"):
			jc.start_work(jc.labour[1].name)
		jc.finish_work(jc.labour[0].name)

	@staticmethod
	def backdate_open_log(job_card, hours):
		name, start = frappe.db.get_value(
			"Service Job Card Time Log",
			{"parent": job_card, "to_time": ("is", "not set")},
			["name", "from_time"],
		)
		frappe.db.set_value("Service Job Card Time Log", name, "from_time", start - timedelta(hours=hours))
