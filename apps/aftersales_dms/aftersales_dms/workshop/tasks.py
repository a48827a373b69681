"""Tasks the system gives each role (Frappe ToDos, through Frappe's assignment: the assignee gets
the ToDo, a notification and a share of the document), and closes when their reason is gone.

| task (ToDo.dms_task) | to                               | on                 | closed when                        |
|----------------------|----------------------------------|--------------------|------------------------------------|
| assign               | the dealer's Workshop Managers   | a line has no      | every labour line has a technician |
|                      |                                  | technician         |                                    |
| labour               | the line's technician (its user) | a line assigned    | their lines are Done, reassigned   |
|                      |                                  |                    | or declined                        |
| qc                   | the dealer's Quality Supervisors | is in Quality      | it leaves Quality Check            |
|                      | (none: its Workshop Managers,    | Check              |                                    |
|                      | status.who_acts)                 |                    |                                    |
| parts-arrived        | the dealer's Parts Managers      | the parts came in  | nothing is left to issue           |
| shortage             | the dealer's Parts Managers      | a shortage (on the | the stores hold what the job needs |
|                      |                                  | Material Request)  | or the request is cancelled        |

Every one of them is closed when the job card is delivered, released or cancelled (status.FINAL).
The system closes only ToDos it opened: those carry the task in `dms_task` (a custom field no
role can write, permlevel 1), so a ToDo a person made is never touched. Frappe keeps one open ToDo per user and document, so
a user who already has one on the document gets no second (one technician's lines share one ToDo,
whose text lists them).

A job card's own tasks follow it in a background job after the commit (on_job_card_update): the
job reads the job card as stored and opens and closes what the table says for it now, so one job
covers any number of saves; a technician or QC supervisor sees their ToDo a moment after the
save, not in the same request.
"""

import frappe
from frappe import _
from frappe.desk.form.assign_to import add as assign
from frappe.desk.form.assign_to import set_status

from aftersales_dms.controllers.dealer import dealer_users
from aftersales_dms.controllers.jobs import queue_once_after_commit, started
from aftersales_dms.roles import QUALITY_SUPERVISOR
from aftersales_dms.workshop.status import FINAL, who_acts

TASK_FIELD = "dms_task"
ASSIGN, LABOUR, QC, PARTS_ARRIVED, SHORTAGE = "assign", "labour", "qc", "parts-arrived", "shortage"
JOB_CARD = "Service Job Card"


# ---- opening and closing the system's ToDos
def open_task(users, doctype: str, name: str, task: str, description: str):
	"""Give each user a ToDo for the document, marked as the system's `task`."""
	for user in users or ():
		existing = frappe.db.get_value(
			"ToDo",
			{"reference_type": doctype, "reference_name": name, "allocated_to": user, "status": "Open"},
			["name", TASK_FIELD, "description"],
			as_dict=True,
		)
		if existing:
			if existing.get(TASK_FIELD) == task and existing.description != description:
				frappe.db.set_value("ToDo", existing.name, "description", description)
			continue  # Frappe's one open ToDo per user and document (a person's is left as it is)
		assign(
			{"assign_to": [user], "doctype": doctype, "name": name, "description": description},
			ignore_permissions=True,
		)
		todo = frappe.db.get_value(
			"ToDo",
			{"reference_type": doctype, "reference_name": name, "allocated_to": user, "status": "Open"},
		)
		if todo:
			frappe.db.set_value("ToDo", todo, TASK_FIELD, task, update_modified=False)


def open_tasks(doctype: str, names, task: str | None = None) -> list[dict]:
	names = [names] if isinstance(names, str) else list(names)
	if not names:
		return []
	filters = {"reference_type": doctype, "reference_name": ("in", names), "status": "Open"}
	filters[TASK_FIELD] = task or ("is", "set")
	return frappe.get_all("ToDo", filters=filters, fields=["name", "allocated_to", "reference_name"])


def close_tasks(doctype: str, names, task: str | None = None, keep_users=()):
	"""Close the system's open ToDos (of `task`, or all of them) on the documents."""
	for todo in open_tasks(doctype, names, task):
		if todo.allocated_to not in keep_users:
			set_status(
				doctype,
				todo.reference_name,
				todo=todo.name,
				assign_to=todo.allocated_to,
				status="Closed",
				ignore_permissions=True,
			)


# ---- the job card's tasks
def open_assign_task(job_card):
	"""Called when a job card is created: its dealer's Workshop Managers assign its technicians
	(not needed when every line came with one)."""
	from aftersales_dms.roles import WORKSHOP_MANAGER

	if job_card.labour and all(r.technician for r in job_card.labour):
		return
	open_task(
		dealer_users(WORKSHOP_MANAGER, job_card.company),
		JOB_CARD,
		job_card.name,
		ASSIGN,
		_("Assign technicians to job card {0} ({1}, {2})").format(
			job_card.name, job_card.registration_plate, job_card.customer_name
		),
	)


def on_job_card_update(doc, method=None):
	"""doc_events Service Job Card on_update: its tasks follow the change — in a background job after
	the commit, once per job card however many saves the transaction made (queue_once_after_commit),
	so the person who saved waits for none of Frappe's assignment work (a ToDo, its comment, share
	and notification each). Inline under tests, as Frappe's own `now=frappe.flags.in_test`."""
	if frappe.flags.in_test:
		sync_job_card_tasks(doc)
		return
	queue_once_after_commit(
		sync_key(doc.name), "aftersales_dms.workshop.tasks.sync_queued_job_card", job_card=doc.name
	)


def sync_key(job_card: str) -> str:
	return f"dms_job_card_tasks:{job_card}"


def sync_queued_job_card(job_card: str):
	"""The queued job: the job card's tasks as it is stored now (a later change queues another)."""
	started(sync_key(job_card))
	try:
		doc = frappe.get_doc(JOB_CARD, job_card)
	except frappe.DoesNotExistError:
		frappe.clear_last_message()
		return  # deleted since: Frappe removed its ToDos with it
	sync_job_card_tasks(doc)


def sync_job_card_tasks(doc):
	"""Open and close the system's tasks of the job card as it stands: what each task's reason
	(the module's table) says now, whatever the saves before were."""
	if doc.status in FINAL:
		close_tasks(JOB_CARD, doc.name)
		close_tasks("Material Request", job_card_material_requests(doc.name))
		return
	sync_technician_tasks(doc)
	if doc.labour and all(r.technician for r in doc.labour):
		close_tasks(JOB_CARD, doc.name, ASSIGN)
	else:
		open_assign_task(doc)  # a line nobody is assigned to (again: a technician taken off it)
	if doc.status == "Quality Check":
		# (Frappe's one open ToDo per user and document: an open one is left as it is)
		open_task(
			who_acts(QUALITY_SUPERVISOR, doc.company),
			JOB_CARD,
			doc.name,
			QC,
			_("Quality check of job card {0} ({1})").format(doc.name, vehicle_label(doc)),
		)
	else:
		close_tasks(JOB_CARD, doc.name, QC)
	from aftersales_dms.workshop.status import pending_parts as parts_still_needed

	if not parts_still_needed(doc):  # the saved document's own lines: no query
		close_tasks(JOB_CARD, doc.name, PARTS_ARRIVED)
	close_shortage_if_resolved(doc)


def vehicle_label(doc) -> str:
	return doc.registration_plate or doc.vehicle or ""


def sync_technician_tasks(doc):
	"""Each technician with an open labour line of the job card has a ToDo naming the lines; one
	whose lines are all Done, reassigned or declined has it closed."""
	lines = [
		r
		for r in doc.labour
		if r.technician and r.work_status != "Done" and r.customer_decision != "Declined"
	]
	users = (
		dict(
			frappe.get_all(
				"Service Technician",
				filters={"name": ("in", list({r.technician for r in lines}))},
				fields=["name", "user"],
				as_list=True,
			)
		)
		if lines
		else {}
	)
	wanted = {}
	for row in lines:
		user = users.get(row.technician)
		if user:
			wanted.setdefault(user, []).append(row)
	close_tasks(JOB_CARD, doc.name, LABOUR, keep_users=tuple(wanted))
	for user, rows in wanted.items():
		open_task(
			[user],
			JOB_CARD,
			doc.name,
			LABOUR,
			_("Job card {0} ({1}): {2}").format(
				doc.name,
				vehicle_label(doc),
				", ".join(f"{r.idx}. {r.item_name or r.item_code}" for r in rows),
			),
		)


# ---- parts
def pending_parts(job_card: str) -> bool:
	"""True when the job card still has parts to issue (lines the customer did not decline)."""
	return bool(
		frappe.db.sql(
			"""select name from `tabService Job Card Part`
			where parent = %s and parenttype = 'Service Job Card'
				and ifnull(customer_decision, '') != 'Declined' and qty > ifnull(issued_qty, 0)
			limit 1""",
			job_card,
		)
	)


def on_parts_issued(job_card: str):
	"""Called when a job card's issued quantities were recomputed (parts stage)."""
	if not pending_parts(job_card):
		close_tasks(JOB_CARD, job_card, PARTS_ARRIVED)


def open_parts_arrived_task(job_card: str):
	from aftersales_dms.roles import PARTS_MANAGER

	company = frappe.db.get_value(JOB_CARD, job_card, "company")
	open_task(
		dealer_users(PARTS_MANAGER, company),
		JOB_CARD,
		job_card,
		PARTS_ARRIVED,
		_("Parts arrived for job card {0}: issue them").format(job_card),
	)


def job_card_material_requests(job_card: str) -> list[str]:
	return frappe.get_all("Material Request", filters={"dms_service_job_card": job_card}, pluck="name")


def close_shortage_if_resolved(job_card):
	"""The shortage ToDos of the job card's Material Requests close once its dealer's stores hold
	every part it still needs (or it needs none)."""
	from aftersales_dms.workshop.status import short_parts

	requests = job_card_material_requests(job_card.name)
	if requests and open_tasks("Material Request", requests, SHORTAGE) and not short_parts(job_card):
		close_tasks("Material Request", requests, SHORTAGE)


def on_stock_received(doc, method=None):
	"""doc_events (Purchase Receipt, Stock Entry, ...): stock came in; close shortage ToDos it ends
	for jobs that are not waiting (a waiting job's own move closes them)."""
	todos = frappe.db.sql(
		"""select distinct mr.dms_service_job_card from `tabToDo` t
		join `tabMaterial Request` mr on mr.name = t.reference_name
		where t.reference_type = 'Material Request' and t.status = 'Open' and t.dms_task = %s
			and mr.company = %s and ifnull(mr.dms_service_job_card, '') != ''""",
		(SHORTAGE, doc.company),
		pluck=True,
	)
	for job_card in todos:
		close_shortage_if_resolved(frappe.get_doc(JOB_CARD, job_card))


def on_material_request_cancel(doc, method=None):
	"""doc_events Material Request on_cancel: the shortage it was raised for is no longer ordered."""
	close_tasks("Material Request", doc.name, SHORTAGE)
