# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import flt, get_datetime, now_datetime, time_diff_in_hours

from aftersales_dms.analytics import technician_days
from aftersales_dms.billing.approval import review_changes
from aftersales_dms.billing.customer_figures import hours
from aftersales_dms.billing.discount import (
	applied_discount,
	check_line_discount,
	user_limit,
	validate_discount,
)
from aftersales_dms.booking.recall import open_campaigns_for
from aftersales_dms.controllers.dealer import dealer_users, get_workshop_settings
from aftersales_dms.controllers.guards import (
	clear_unwritable_fields_of_new_rows,
	default_contact,
	lock_document,
	retry_on_deadlock,
	validate_vehicle_owner,
)
from aftersales_dms.controllers.pricing import check_covered_rate, one_lookup_per_price, selling_rate
from aftersales_dms.controllers.saves import LeanSave
from aftersales_dms.roles import JOB_EDITORS, MANAGERS, WORKSHOP_MANAGER, has_any_role
from aftersales_dms.workshop import board, status, tasks


def labour_line(
	item_code: str, company: str, technician=None, source="Customer Request", recall_campaign=None
) -> dict:
	"""A labour line at the operation's standard hours; the job card's validate prices it."""
	hours = flt(frappe.db.get_value("Item", item_code, "dms_standard_hours"))
	return {
		"item_code": item_code,
		"standard_hours": hours,
		"technician": technician,
		"source": source,
		"recall_campaign": recall_campaign,
	}


def add_recall_lines(job_card, vehicle: str, company: str):
	"""Append each open campaign's remedy (labour and parts) once, marked with the campaign."""
	for campaign in open_campaigns_for(vehicle):
		for row in campaign.remedy_items:
			kind = frappe.db.get_value("Item", row.item_code, "dms_item_kind")
			if kind == "Labour":
				job_card.append(
					"labour",
					{
						**labour_line(
							row.item_code, company, source="Recall Campaign", recall_campaign=campaign.name
						),
						"bill_to": "Warranty",  # the OEM pays for its recalls
					},
				)
			else:
				job_card.append(
					"parts",
					{
						"item_code": row.item_code,
						"qty": flt(row.qty) or 1,
						"source": "Recall Campaign",
						"recall_campaign": campaign.name,
						"bill_to": "Warranty",
					},
				)


def item_facts(codes) -> dict[str, dict]:
	"""Kind and stock flag of each item, in one query (a save checks every line)."""
	codes = {c for c in codes if c}
	if not codes:
		return {}
	rows = frappe.get_all(
		"Item",
		filters={"name": ("in", list(codes))},
		fields=["name", "dms_item_kind", "is_stock_item"],
	)
	return {r.name: r for r in rows}


class ServiceJobCard(LeanSave, Document):
	def validate(self):
		self.flags.dms_amount_due_memo = None  # see on_change
		status.validate_not_final(self)  # delivered, released or cancelled: a record, read-only
		# who may write which field is declared in the DocType (permlevels, see roles.py); Frappe
		# resets what a user may not write on the rows it knows, this does it on rows a client adds
		clear_unwritable_fields_of_new_rows(self)
		for row in [*self.labour, *self.parts]:
			# a line without a payer is the customer's, as every figure reads it: stored so too (a
			# REST client's "" or null is not Frappe's missing value, which the row default fills)
			row.bill_to = row.bill_to or "Customer"
		self.validate_vehicle_owner()
		default_contact(self)
		self.validate_check_in()
		self.validate_labour()
		self.validate_assignment_and_clock()
		self.validate_parts()
		self.price_new_lines()
		validate_discount(self, self.get_doc_before_save())
		review_changes(self)  # the customer's decision binds what they pay (billing/approval.py)
		status.validate_qc_items(self)
		status.resume_when_no_longer_short(self)
		status.validate_status(self)
		self.set_totals()
		technician_days.before_save(self)

	def validate_workflow(self):
		# the system's own moves (Waiting for Parts in and out) are not workflow actions;
		# status.validate_status checks them instead. A Workshop Manager's move in place of a role
		# the dealer has nobody for is the workflow's own transition (status.stand_in_transitions)
		if not self.flags.system_transition and not status.is_stand_in_move(self):
			super().validate_workflow()

	def validate_vehicle_owner(self):
		validate_vehicle_owner(self.vehicle, self.customer)

	def validate_check_in(self):
		if not self.vehicle_check_in:
			return
		ci = frappe.db.get_value(
			"Vehicle Check In",
			self.vehicle_check_in,
			[
				"docstatus",
				"vehicle",
				"company",
				"vehicle_inspection",
				"service_appointment",
				"odometer",
				"fuel_level",
				"open_recalls",
			],
			as_dict=True,
		)
		if not ci or ci.docstatus != 1 or ci.vehicle != self.vehicle or ci.company != self.company:
			frappe.throw(
				_("Check-in {0} is not a submitted check-in of this vehicle at this dealer.").format(
					self.vehicle_check_in
				)
			)
		if self.is_new():
			other = frappe.db.get_value(
				"Service Job Card", {"vehicle_check_in": self.vehicle_check_in, "status": ("!=", "Cancelled")}
			)
			if other:
				frappe.throw(
					_("Job card {0} is already open for this check-in.").format(other),
					frappe.DuplicateEntryError,
				)
		# the check-in's, whatever a client sent (read-only in the form: controllers/guards.py)
		self.vehicle_inspection = ci.vehicle_inspection
		self.service_appointment = ci.service_appointment
		self.odometer = ci.odometer
		self.fuel_level = ci.fuel_level
		self.open_recalls = ci.open_recalls

	def validate_labour(self):
		items = item_facts(r.item_code for r in self.labour)
		technicians = {r.technician for r in self.labour if r.technician}
		company_of = dict(
			frappe.get_all(
				"Service Technician",
				filters={"name": ("in", list(technicians))},
				fields=["name", "company"],
				as_list=True,
			)
			if technicians
			else []
		)
		for row in self.labour:
			# to the hundredth of an hour, as the estimate and the invoice bill it
			row.standard_hours = hours(row.standard_hours)
			if items.get(row.item_code, {}).get("dms_item_kind") != "Labour":
				frappe.throw(_("Labour row {0}: {1} is not a labour item.").format(row.idx, row.item_code))
			if flt(row.standard_hours) <= 0 or flt(row.standard_hours) > 100:
				frappe.throw(
					_("Labour row {0}: standard hours must be more than 0 and at most 100.").format(row.idx)
				)
			if row.technician and company_of.get(row.technician) != self.company:
				frappe.throw(
					_("Labour row {0}: technician {1} works for another dealer.").format(
						row.idx, row.technician
					)
				)
			row.amount = flt(flt(row.standard_hours) * flt(row.rate), row.precision("amount"))

	def validate_assignment_and_clock(self):
		"""A line being worked on keeps its technician; clocked lines keep their logs. (Who assigns,
		and that logs and work status come only from the clock, is declared: permlevels 3 and 2.)"""
		before = self.get_doc_before_save()
		if before:
			old = {r.name: r for r in before.labour}
			for row in self.labour:
				prev = old.get(row.name)
				if prev and prev.technician != row.technician:
					if row.work_status in ("In Progress", "Done"):
						frappe.throw(
							_("Labour row {0} is {1}: its technician cannot change.").format(
								row.idx, row.work_status
							)
						)
		names = {r.name for r in self.labour}
		for log in self.time_logs:
			if log.labour_line not in names:
				frappe.throw(
					_("A labour line with clocked time cannot be removed ({0}).").format(log.item_code)
				)

	def validate_parts(self):
		before = self.get_doc_before_save()
		issued = {r.name: flt(r.issued_qty) for r in before.parts} if before else {}
		issued_item = {r.name: r.item_code for r in before.parts} if before else {}
		kept = {r.name for r in self.parts}
		for name, qty in issued.items():
			if qty > 0 and name not in kept:
				frappe.throw(_("A part line with issued stock cannot be removed; return the parts first."))
		items = item_facts(r.item_code for r in self.parts)
		for row in self.parts:
			row.issued_qty = issued.get(row.name, 0)  # derived from the stock entries only
			if flt(row.qty) <= 0 or flt(row.qty) > 10_000:
				frappe.throw(
					_("Parts row {0}: quantity must be more than 0 and at most 10,000.").format(row.idx)
				)
			if flt(row.qty) < flt(row.issued_qty):
				frappe.throw(
					_("Parts row {0}: {1} are issued; the quantity cannot be lower.").format(
						row.idx, flt(row.issued_qty)
					)
				)
			if (
				row.uom
				and flt(row.qty) != int(flt(row.qty))
				and frappe.get_cached_value("UOM", row.uom, "must_be_whole_number")
			):
				# (a fraction left over after an issue could never be issued: ERPNext refuses it)
				frappe.throw(
					_("Parts row {0}: {1} is counted in whole {2}; {3} is not a whole number.").format(
						row.idx, row.item_code, row.uom, flt(row.qty)
					)
				)
			if flt(row.issued_qty) > 0 and row.item_code != issued_item.get(row.name):
				# issued and billed per line: the line's stock is of its item
				frappe.throw(
					_("Parts row {0}: {1} of {2} are issued; its part cannot change.").format(
						row.idx, flt(row.issued_qty), issued_item.get(row.name)
					)
				)
			item = items.get(row.item_code, {})
			if item.get("dms_item_kind") != "Part" or not item.get("is_stock_item"):
				frappe.throw(_("Parts row {0}: {1} is not a stock part.").format(row.idx, row.item_code))
			row.amount = flt(flt(row.qty) * flt(row.rate), row.precision("amount"))

	def price_new_lines(self):
		"""Every line that comes without a rate (REST, Data Import, a package, a recall, the check-in)
		is priced here from the dealer's selling price list through ERPNext's pricing, for the
		party it is billed to; so is a line whose item or payer changed while its rate stayed. A
		rate a user typed (more than 0) is kept. An item with no price is an error, never a line
		at 0. Whatever changed on a line (new, item, payer, hours or quantity, rate), a customer's
		line below its price is then checked against the user's discount limit."""
		with one_lookup_per_price():
			self._price_new_lines()

	def _price_new_lines(self):
		before = self.get_doc_before_save()
		old = {r.name: r for r in (before.labour + before.parts)} if before else {}
		for row in [*self.labour, *self.parts]:
			prev = old.get(row.name)
			qty = row.standard_hours if row.doctype == "Service Job Card Labour" else row.qty
			typed = flt(row.rate) > 0 and not (prev and flt(prev.rate) == flt(row.rate))
			# a kept line whose rate changed (to 0 too: the line for nothing) is checked again
			rate_changed = bool(prev) and flt(prev.rate) != flt(row.rate)
			same = prev and prev.item_code == row.item_code and prev.bill_to == row.bill_to
			if not (typed or same):
				row.rate = selling_rate(row.item_code, self.company, self.price_party(row.bill_to), qty)
				row.amount = flt(flt(qty) * flt(row.rate), row.precision("amount"))
			prev_qty = prev and (
				prev.standard_hours if row.doctype == "Service Job Card Labour" else prev.qty
			)
			if typed or rate_changed or not same or flt(prev_qty) != flt(qty):
				self.check_typed_rate(row, qty)

	def check_typed_rate(self, row, qty):
		"""A rate typed below the customer's price is a discount: with the job card's discount on
		top it stays within the user's discount limit (billing/discount.py), and the discount
		field (which goes for approval) is the way to give more. A covered line is at its payer's
		price (controllers/pricing.check_covered_rate)."""
		if (row.bill_to or "Customer") != "Customer":
			check_covered_rate(row, self.company, self.price_party(row.bill_to), qty)
			return
		check_line_discount(self, row, qty, applied_discount(self), user_limit())

	def price_party(self, bill_to: str | None) -> str:
		"""Whose prices a line gets: the customer's, or the OEM's / internal customer's for
		warranty and internal lines (their customer-specific prices and Pricing Rules apply)."""
		if bill_to in ("Warranty", "Internal"):
			settings = get_workshop_settings(self.company)
			party = settings.oem_customer if bill_to == "Warranty" else settings.internal_customer
			if party:
				return party
		return self.customer

	def set_totals(self):
		self.total_hours = flt(sum(flt(r.standard_hours) for r in self.labour), 2)
		for row in self.labour:
			logs = [t for t in self.time_logs if t.labour_line == row.name]
			row.clocked_hours = flt(sum(flt(t.hours) for t in logs), 2)
			# kept on the line for the efficiency report (read by period through an index)
			row.started_on = min((t.from_time for t in logs), default=None, key=get_datetime)
			ends = [t.to_time for t in logs if t.to_time]
			row.finished_on = max(ends, key=get_datetime) if row.work_status == "Done" and ends else None
		self.total_clocked_hours = flt(sum(flt(t.hours) for t in self.time_logs), 2)
		self.labour_total = sum(flt(r.amount) for r in self.labour)
		self.parts_total = sum(flt(r.amount) for r in self.parts)
		self.grand_total = self.labour_total + self.parts_total

	@property
	def sms_gateway_configured(self) -> bool:
		"""Used by the shipped SMS notifications' conditions."""
		from aftersales_dms.controllers.guards import sms_gateway_configured

		return sms_gateway_configured()

	def on_change(self):
		# Frappe evaluates the Notifications of this save next: they state the amount due from
		# this saved state, built once for all of them (billing/customer_figures.customer_amount_due)
		self.flags.dms_amount_due_memo = {}

	def on_update(self):
		self.flags.system_transition = None  # for this save only (see validate_workflow)
		board.on_change(self)
		technician_days.on_update(self)
		self.refresh_parts_requests()

	def refresh_parts_requests(self):
		"""A part line's quantity or the customer's decision on it changed: the job's parts
		requests' statuses follow what is left to issue (parts_request.set_issue_status)."""
		from aftersales_dms.parts.doctype.parts_request.parts_request import refresh_statuses

		before = self.get_doc_before_save()

		def lines(doc):
			return {(r.name, flt(r.qty), r.customer_decision) for r in doc.parts}

		if before and lines(before) != lines(self):
			refresh_statuses(self.name)

	def after_insert(self):
		if self.vehicle_check_in:
			frappe.db.set_value("Vehicle Check In", self.vehicle_check_in, "service_job_card", self.name)
		tasks.open_assign_task(self)  # the dealer's Workshop Managers assign its technicians

	@frappe.whitelist(methods=["POST"])
	def add_service_package(self, package: str):
		"""Append a service package's operations (sold at standard hours) and parts."""
		self._add_service_package(package)

	def _add_service_package(self, package: str):
		lock_document(self)
		if not has_any_role(JOB_EDITORS):
			frappe.throw(
				_("Only a Service Advisor or Workshop Manager adds packages."), frappe.PermissionError
			)
		if self.status not in status.ACTIVE:
			frappe.throw(_("Job card {0} is {1}: no new work.").format(self.name, _(self.status)))
		pkg = frappe.get_doc("Service Package", package)
		if pkg.disabled:
			frappe.throw(_("Service package {0} is disabled.").format(package))
		if pkg.vehicle_category and self.vehicle_category and pkg.vehicle_category != self.vehicle_category:
			frappe.throw(
				_("Package {0} is for {1}, this vehicle is a {2}.").format(
					package, pkg.vehicle_category, self.vehicle_category
				)
			)
		for row in pkg.items:
			if frappe.db.get_value("Item", row.item_code, "dms_item_kind") == "Labour":
				self.append("labour", labour_line(row.item_code, self.company, source="Service Package"))
			else:
				self.append(
					"parts",
					{
						"item_code": row.item_code,
						"qty": flt(row.qty) or 1,
						"source": "Service Package",
					},
				)
		self.save()

	# ---- labour lines: assignment and the job clock
	def get_labour_line(self, row_name: str):
		for row in self.labour:
			if row.name == row_name:
				return row
		frappe.throw(_("Job card {0} has no labour line {1}.").format(self.name, row_name))

	@frappe.whitelist(methods=["POST"])
	def assign_technician(self, labour_line: str, technician: str):
		"""Assign a labour line to a technician (workshop managers), before work starts or while
		paused."""
		self._assign_technician(labour_line, technician)

	@retry_on_deadlock  # (on an inner method: Frappe reads the whitelisted method's own arguments)
	def _assign_technician(self, labour_line: str, technician: str):
		from aftersales_dms.workshop.assignment import check_can_assign

		check_can_assign()
		lock_document(self)
		self.check_not_closed()
		line = self.get_labour_line(labour_line)
		if line.work_status in ("In Progress", "Done"):
			frappe.throw(
				_("Labour line {0} is {1}; reassign it only before work starts or while paused.").format(
					line.idx, line.work_status
				)
			)
		line.technician = technician
		self.save()  # as the manager: the technician is theirs to write (permlevel 3)

	@frappe.whitelist(methods=["POST"])
	def start_work(self, labour_line: str):
		"""Clock on a labour line (its technician, or a manager): one open clock per technician."""
		self.clock(labour_line, "start")

	@frappe.whitelist(methods=["POST"])
	def pause_work(self, labour_line: str):
		"""Pause the labour line's open clock."""
		self.clock(labour_line, "pause")

	@frappe.whitelist(methods=["POST"])
	def finish_work(self, labour_line: str):
		"""Clock off and finish the labour line."""
		self.clock(labour_line, "finish")

	@retry_on_deadlock
	def clock(self, labour_line: str, action: str):
		# Locks in a fixed order, the one every job card save keeps: the job card (then read it
		# fresh), then the line's technician (one technician's clocks happen one at a time, so
		# "one open clock per technician" holds under concurrency).
		lock_document(self)
		self.check_not_closed()
		line = self.get_labour_line(labour_line)
		if not line.technician:
			frappe.throw(_("Labour line {0} has no technician yet.").format(line.idx))
		frappe.db.get_value("Service Technician", line.technician, "name", for_update=True)
		check_clocking_user(line.technician)
		now = now_datetime()
		open_log = next((t for t in self.time_logs if t.labour_line == line.name and not t.to_time), None)
		if action == "start":
			status.guard_inspection_completed(self)
			if line.work_status not in ("Not Started", "Paused"):
				frappe.throw(_("Labour line {0} is {1}.").format(line.idx, line.work_status))
			busy = technician_open_clock(line.technician)
			if busy:
				frappe.throw(
					_("Technician {0} is already clocked on {1}; pause or finish that first.").format(
						line.technician, busy
					)
				)
			self.append(
				"time_logs",
				{
					"labour_line": line.name,
					"item_code": line.item_code,
					"technician": line.technician,
					"from_time": now,
				},
			)
			line.work_status = "In Progress"
		else:
			if line.work_status == "Done" or (line.work_status == "Paused" and action == "pause"):
				frappe.throw(_("Labour line {0} is {1}.").format(line.idx, line.work_status))
			if open_log:
				open_log.to_time = now
				open_log.hours = flt(time_diff_in_hours(now, open_log.from_time), 4)
			elif line.work_status != "Paused":
				frappe.throw(_("Labour line {0} has not been started.").format(line.idx))
			line.work_status = "Paused" if action == "pause" else "Done"
		# the clock writes only time logs and work status, from the line it read under lock: no
		# link changes, so Frappe need not look up every link of the job card again (~30 queries).
		# For this save only: a later save of the same object checks everything again.
		before = {flag: self.flags.get(flag) for flag in ("ignore_permissions", "clocking", "ignore_links")}
		self.flags.update(ignore_permissions=True, clocking=True, ignore_links=True)
		try:
			self.save()
		finally:
			self.flags.update(before)

	def check_not_closed(self):
		# closed, or a status an OEM added to the workflow (a checkpoint such as a road test)
		if self.status not in status.WORKING:
			frappe.throw(
				_("Job card {0} is {1}: its labour can no longer change.").format(self.name, self.status)
			)

	def on_trash(self):
		board.on_change(self)
		technician_days.before_delete(self)
		if self.vehicle_check_in:
			frappe.db.set_value("Vehicle Check In", self.vehicle_check_in, "service_job_card", None)

	def after_delete(self):
		technician_days.after_delete(self)


def workshop_managers(company: str) -> list[str]:
	return dealer_users(WORKSHOP_MANAGER, company)


def check_clocking_user(technician: str):
	"""Technicians clock their own work; a Workshop Manager may clock for anyone."""
	if has_any_role(MANAGERS):
		return
	if frappe.db.get_value("Service Technician", technician, "user") != frappe.session.user:
		frappe.throw(
			_("Only technician {0} or a Workshop Manager can clock this line.").format(technician),
			frappe.PermissionError,
		)


@frappe.whitelist(methods=["POST"])
def clock_labour(job_card: str, labour_line: str, action: str):
	"""The form's Job Clock buttons: by name, so a click while the form reloads still carries
	everything (run_doc_method needs the form's document and gets none mid-reload)."""
	methods = {"start": "start_work", "pause": "pause_work", "finish": "finish_work"}
	if action not in methods:
		frappe.throw(_("Unknown clock action {0}.").format(action))
	doc = frappe.get_doc("Service Job Card", job_card)
	doc.check_permission("read")
	getattr(doc, methods[action])(labour_line)
	return doc.name


def technician_open_clock(technician: str) -> str | None:
	# a locking read: the latest committed clock, not this transaction's first snapshot (the
	# caller holds the technician's lock, so a clock committed while it waited is seen)
	return frappe.db.get_value(
		"Service Job Card Time Log",
		{"technician": technician, "to_time": ("is", "not set")},
		"parent",
		for_update=True,
	)


def on_doctype_update():
	frappe.db.add_index("Service Job Card", ["company", "status"])
	frappe.db.add_index("Service Job Card Time Log", ["technician", "to_time"])
	# reports: efficiency reads logs by period and per labour line; turnaround reads the history
	frappe.db.add_index("Service Job Card Time Log", ["to_time"])
	frappe.db.add_index("Service Job Card Time Log", ["from_time"])
	frappe.db.add_index("Service Job Card Time Log", ["labour_line"])
	frappe.db.add_index("Service Job Card Status Log", ["changed_on"])
