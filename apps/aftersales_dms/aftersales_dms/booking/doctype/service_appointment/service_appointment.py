# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

import re

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import add_to_date, flt, get_datetime, getdate, now_datetime

from aftersales_dms.booking.capacity import check_booking, lock_resources
from aftersales_dms.booking.recall import open_campaigns_for
from aftersales_dms.controllers.guards import (
	default_contact,
	lock_document,
	retry_on_deadlock,
	validate_vehicle_owner,
)
from aftersales_dms.controllers.saves import LeanSave
from aftersales_dms.utils import replica

PHONE = re.compile(r"^\+?[0-9]{7,15}$")

# status -> statuses it may move to (set only through set_status)
TRANSITIONS = {
	"Requested": {"Confirmed", "Cancelled", "No Show", "Checked In"},
	"Confirmed": {"Checked In", "Cancelled", "No Show"},
	"Checked In": set(),
	"No Show": set(),
	"Cancelled": set(),
}


class ServiceAppointment(LeanSave, Document):
	def validate(self):
		self.validate_customer_and_vehicle()
		self.set_technician_name()
		self.set_contact()
		self.validate_services()
		self.set_schedule()
		self.validate_capacity()
		self.set_open_recalls()

	def set_technician_name(self):
		"""The system's copy of the technician's name (permlevel 2): Frappe's fetch_from runs before
		the permlevel reset on insert, so it is set here, after it."""
		self.technician_name = (
			frappe.db.get_value("Service Technician", self.technician, "technician_name")
			if self.technician
			else None
		)

	def validate_customer_and_vehicle(self):
		validate_vehicle_owner(self.vehicle, self.customer)
		if self.preferred_date and getdate(self.preferred_date) < getdate() and self.is_new():
			frappe.throw(_("The preferred date cannot be in the past."))

	def set_contact(self):
		"""Confirmations and reminders go to the appointment's contact, defaulting to the customer's."""
		default_contact(self)
		self.contact_mobile = re.sub(r"[\s\-().]", "", self.contact_mobile or "") or None
		self.contact_email = (self.contact_email or "").strip() or None
		if self.contact_email:
			frappe.utils.validate_email_address(self.contact_email, throw=True)
		if self.contact_mobile and not PHONE.match(self.contact_mobile):
			frappe.throw(
				_("Mobile number {0} is not valid: use digits, optionally a leading +.").format(
					frappe.bold(self.contact_mobile)
				)
			)

	def validate_services(self):
		seen = set()
		for row in self.services:
			kind = frappe.db.get_value("Item", row.item_code, "dms_item_kind")
			if kind != "Labour":
				frappe.throw(_("Row {0}: {1} is not a labour item.").format(row.idx, row.item_code))
			if row.item_code in seen:
				frappe.throw(_("Row {0}: {1} is listed twice.").format(row.idx, row.item_code))
			seen.add(row.item_code)
		self.total_hours = flt(sum(flt(r.standard_hours) for r in self.services), 2)

	def set_schedule(self):
		if not self.scheduled_start:
			self.scheduled_end = None
			return
		hours = self.total_hours or 1
		self.scheduled_end = add_to_date(get_datetime(self.scheduled_start), hours=hours)
		self.preferred_date = getdate(self.scheduled_start)

	def validate_capacity(self):
		if self.status not in ("Requested", "Confirmed") or not self.scheduled_start:
			return
		if not (self.service_bay and self.technician):
			frappe.throw(_("A scheduled appointment needs a service bay and a technician (use Find Slot)."))
		if self.is_new() and get_datetime(self.scheduled_start) < now_datetime():
			frappe.throw(_("The scheduled start is in the past."))
		lock_resources(self.service_bay, self.technician)
		check_booking(
			self.company,
			self.scheduled_start,
			self.scheduled_end,
			bay=self.service_bay,
			technician=self.technician,
			required_skills={r.required_skill for r in self.services if r.required_skill},
			exclude=self.name,
		)

	def set_open_recalls(self):
		self.open_recalls = (
			"\n".join(f"{c.name}: {c.title}" for c in open_campaigns_for(self.vehicle))
			if self.vehicle
			else None
		)

	@property
	def sms_gateway_configured(self) -> bool:
		"""Used by the shipped SMS notifications' conditions."""
		from aftersales_dms.controllers.guards import sms_gateway_configured

		return sms_gateway_configured()

	@retry_on_deadlock
	def set_status(self, status: str, reason: str | None = None):
		if status not in TRANSITIONS.get(self.status, set()):
			frappe.throw(_("A {0} appointment cannot become {1}.").format(self.status, status))
		self.status = status
		if status == "Confirmed":
			self.confirmed_on = now_datetime()
		if status == "Cancelled":
			self.cancellation_reason = reason
		# the system's fields (permlevel 2, which no role writes): this action sets them; the save
		# still checks the user's write permission on the appointment
		self.flags.ignore_permlevel_for_fields = ["status", "confirmed_on", "cancellation_reason"]
		try:
			self.save()
		finally:
			self.flags.ignore_permlevel_for_fields = None

	@frappe.whitelist(methods=["POST"])
	def confirm(self):
		"""Confirm a requested appointment that has a slot (the customer is notified)."""
		lock_document(self)  # the stored appointment, locked and read afresh, writable by the user
		if not self.scheduled_start:
			frappe.throw(_("Pick a slot before confirming."))
		self.set_status("Confirmed")

	@frappe.whitelist(methods=["POST"])
	def cancel_appointment(self, reason: str | None = None):
		"""Cancel the appointment, with the reason kept on it."""
		lock_document(self)
		self.set_status("Cancelled", reason)


def on_doctype_update():
	frappe.db.add_index("Service Appointment", ["service_bay", "scheduled_start"])
	frappe.db.add_index("Service Appointment", ["technician", "scheduled_start"])
	frappe.db.add_index("Service Appointment", ["company", "status"])


def mark_no_shows():
	"""Scheduler: appointments whose slot has ended without check-in become No Show."""
	for name in frappe.get_all(
		"Service Appointment",
		filters={"status": ("in", ("Requested", "Confirmed")), "scheduled_end": ("<", now_datetime())},
		pluck="name",
	):
		frappe.db.savepoint("no_show")
		try:
			frappe.get_doc("Service Appointment", name).set_status("No Show")
		except Exception:
			frappe.db.rollback(save_point="no_show")
			frappe.log_error(f"Could not mark {name} as No Show")


@frappe.whitelist()
@replica.read_only()
def get_events(start: str, end: str, filters: str | None = None) -> list[dict]:
	"""Calendar view: appointments the user may read (permission-checked through get_list)."""
	for value in (start, end):
		try:
			get_datetime(value)
		except Exception:
			frappe.throw(_("{0} is not a date and time.").format(frappe.bold(str(value)[:40])))
	conditions = frappe.parse_json(filters) if filters else []
	if isinstance(conditions, dict):
		conditions = [["Service Appointment", k, "=", v] for k, v in conditions.items()]
	conditions += [
		["Service Appointment", "scheduled_start", "<=", end],
		["Service Appointment", "scheduled_end", ">=", start],
		["Service Appointment", "status", "!=", "Cancelled"],
	]
	events = frappe.get_list(
		"Service Appointment",
		filters=conditions,
		fields=["name", "customer_name", "scheduled_start", "scheduled_end", "status", "service_bay"],
	)
	for event in events:
		event["allDay"] = 0
	return events
