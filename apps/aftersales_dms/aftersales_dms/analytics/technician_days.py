"""A technician's work per day, kept with the job clock for the Technician Efficiency report.

`Technician Work Day` (technician, day): hours of the closed clock entries started that day and
how many; the operations (labour lines) finished that day, their sold hours and first clock-on
to last clock-off; the job cards whose last operation by the technician was finished that day.
The report sums the rows of its range, so a network's year reads technicians x working days
rows, however many job cards there are.

A save that changes what a row summarises (the clock, a finished line's sold hours, a deleted
job card) marks the row stale in its own transaction; after the commit a background job
recomputes stale rows from the job cards and clears the mark (the scheduler's tick catches any
the job missed). The report sums the fresh rows and works out the stale ones from the job
cards itself, so it is exact at every commit, whenever the job runs. Marking takes only the
row's lock (in technician and day order); recomputing takes it first and then reads, so a
change committed meanwhile waits for it and marks the row again.
"""

from datetime import timedelta

import frappe
from frappe.utils import flt, get_datetime, getdate, now_datetime

from aftersales_dms.controllers.jobs import queue_once_after_commit, started

# a day's figures, as `figures` returns them and Technician Work Day keeps them
FIELDS = ("clocked_hours", "clock_logs", "lines_done", "sold_hours", "completion_hours", "jobs_done")


def clock_state(doc) -> set:
	"""What the rows summarise, per job card: clock entries and finished lines."""
	if not doc:
		return set()

	def at(value):
		return str(get_datetime(value)) if value else ""

	logs = {
		("log", t.technician, at(t.from_time), at(t.to_time), flt(t.hours, 6))
		for t in doc.time_logs
		if t.technician and t.from_time
	}
	lines = {
		("line", r.technician, at(r.finished_on), at(r.started_on), flt(r.standard_hours, 6), r.name)
		for r in doc.labour
		if r.technician and r.work_status == "Done" and r.finished_on
	}
	return logs | lines


def days_of(state: set) -> set[tuple[str, object]]:
	"""(technician, day) of each entry: a clock entry counts on the day it started, a finished
	line on the day it was finished."""
	return {(entry[1], getdate(entry[2])) for entry in state}


def before_save(doc):
	"""From the job card's validate: the technician days this save changes — every day of a
	technician whose entries change, as a changed entry can move the day the job card counts as
	finished — marked stale in on_update."""
	old, new = clock_state(doc.get_doc_before_save()), clock_state(doc)
	technicians = {entry[1] for entry in old ^ new}
	doc.flags.technician_days = {(t, day) for t, day in days_of(old | new) if t in technicians}


def on_update(doc):
	mark_stale(doc.flags.pop("technician_days", None) or set())


def before_delete(doc):
	doc.flags.technician_days = days_of(clock_state(doc))


def after_delete(doc):
	mark_stale(doc.flags.pop("technician_days", None) or set())


def mark_stale(days):
	if not days:
		return
	now, user = now_datetime(), frappe.session.user
	for technician, day in sorted(days):  # one order for every saver: no deadlock among them
		frappe.db.sql(
			"""insert into `tabTechnician Work Day`
				(name, creation, modified, owner, modified_by, technician, company, day, stale)
			values (%(name)s, %(now)s, %(now)s, %(user)s, %(user)s, %(technician)s, %(company)s,
				%(day)s, 1)
			on duplicate key update stale = 1, modified = values(modified),
				modified_by = values(modified_by)""",
			{
				"name": f"{technician}|{getdate(day)}",
				"now": now,
				"user": user,
				"technician": technician,
				"company": frappe.get_cached_value("Service Technician", technician, "company"),
				"day": getdate(day),
			},
		)
	queue_refresh()


REFRESH_QUEUED = "dms_technician_days_refresh_queued"


def queue_refresh():
	"""A refresh job after the commit: one per transaction, however many saves marked rows (the
	clock, an assignment and a workflow move each did), and none while one is queued that has not
	started yet: that one reads the stale rows after this commit (controllers/jobs). The
	scheduler's tick stays the safety net."""
	queue_once_after_commit(REFRESH_QUEUED, "aftersales_dms.analytics.technician_days.refresh_queued")


def refresh_queued() -> int:
	"""The job queue_refresh queues: marks itself started, then refresh_stale."""
	started(REFRESH_QUEUED)
	return refresh_stale()


def figures(technician: str, day) -> dict:
	"""One technician's day worked out from the clock entries and finished lines."""
	start = getdate(day)
	period = {"technician": technician, "start": start, "end": start + timedelta(days=1)}
	clocked, logs = frappe.db.sql(
		"""select ifnull(sum(hours), 0), count(*) from `tabService Job Card Time Log`
		where technician = %(technician)s and to_time is not null
			and from_time >= %(start)s and from_time < %(end)s""",
		period,
	)[0]
	lines, sold, completion = frappe.db.sql(
		"""select count(*), ifnull(sum(standard_hours), 0),
			ifnull(sum(timestampdiff(microsecond, started_on, finished_on)), 0) / 3600000000
		from `tabService Job Card Labour`
		where technician = %(technician)s and work_status = 'Done'
			and finished_on >= %(start)s and finished_on < %(end)s""",
		period,
	)[0]
	jobs = 0
	if lines:
		# the job cards finished that day by this technician: their last finished line of it
		jobs = len(
			frappe.db.sql(
				"""select lab.parent from `tabService Job Card Labour` lab
				where lab.technician = %(technician)s and lab.work_status = 'Done'
					and lab.parent in (
						select parent from `tabService Job Card Labour`
						where technician = %(technician)s and work_status = 'Done'
							and finished_on >= %(start)s and finished_on < %(end)s)
				group by lab.parent
				having max(lab.finished_on) < %(end)s""",
				period,
			)
		)
	return frappe._dict(
		clocked_hours=flt(clocked),
		clock_logs=logs,
		lines_done=lines,
		sold_hours=flt(sold),
		completion_hours=flt(completion),
		jobs_done=jobs,
	)


def refresh_stale(limit: int = 500) -> int:
	"""Recompute stale rows, each in its own transaction (the job after a commit, and the
	scheduler's tick). Returns how many were recomputed."""
	done = 0
	for name in frappe.get_all("Technician Work Day", filters={"stale": 1}, pluck="name", limit=limit):
		frappe.db.commit()  # a new transaction: its snapshot starts after the lock below
		row = frappe.db.sql(
			"""select technician, day from `tabTechnician Work Day`
			where name = %s and stale = 1 for update skip locked""",
			name,
			as_dict=True,
		)
		if not row:
			continue  # fresh already, or a saver is marking it (it enqueues another refresh)
		values = figures(row[0].technician, row[0].day)
		if not values.clock_logs and not values.lines_done:
			frappe.db.sql("delete from `tabTechnician Work Day` where name = %s", name)
		else:
			frappe.db.set_value("Technician Work Day", name, {**values, "stale": 0}, update_modified=False)
		frappe.db.commit()
		done += 1
	return done


def rebuild():
	"""Recompute every row from the job cards (the upgrade patch, and the benchmark's bulk loader,
	which writes job cards without their controllers). Run it while nobody clocks, as migrations
	run. (No query arguments: a % here is MariaDB's own.)"""
	frappe.db.sql("delete from `tabTechnician Work Day`")
	frappe.db.sql(
		"""insert into `tabTechnician Work Day`
			(name, creation, modified, owner, modified_by, technician, company, day, clocked_hours,
			clock_logs, lines_done, sold_hours, completion_hours, jobs_done)
		select concat(x.technician, '|', x.day), now(), now(), 'Administrator', 'Administrator',
			x.technician, t.company, x.day, sum(x.clocked), sum(x.logs), sum(x.line_count), sum(x.sold),
			sum(x.completion), sum(x.jobs)
		from (
			select technician, date(from_time) day, sum(hours) clocked, count(*) logs, 0 line_count,
				0 sold, 0 completion, 0 jobs
			from `tabService Job Card Time Log`
			where to_time is not null and ifnull(technician, '') != ''
			group by technician, date(from_time)
			union all
			select technician, date(finished_on), 0, 0, count(*), sum(standard_hours),
				sum(timestampdiff(microsecond, started_on, finished_on)) / 3600000000, 0
			from `tabService Job Card Labour`
			where work_status = 'Done' and finished_on is not null and ifnull(technician, '') != ''
			group by technician, date(finished_on)
			union all
			select technician, date(last_finish), 0, 0, 0, 0, 0, count(*)
			from (
				select technician, parent, max(finished_on) last_finish
				from `tabService Job Card Labour`
				where work_status = 'Done' and finished_on is not null and ifnull(technician, '') != ''
				group by technician, parent
			) j
			group by technician, date(last_finish)
		) x
		join `tabService Technician` t on t.name = x.technician
		group by x.technician, x.day"""
	)
