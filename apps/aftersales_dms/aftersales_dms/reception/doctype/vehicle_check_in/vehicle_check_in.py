# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.model.mapper import get_mapped_doc
from frappe.utils import cint, now_datetime

from aftersales_dms.booking.recall import open_campaigns_for
from aftersales_dms.controllers.guards import validate_vehicle_owner
from aftersales_dms.controllers.saves import LeanSave
from aftersales_dms.reception.doctype.vehicle_inspection.vehicle_inspection import make_inspection
from aftersales_dms.reception.doctype.vehicle_inspection_template.vehicle_inspection_template import (
	default_template,
)
from aftersales_dms.roles import MANAGERS, has_any_role


class VehicleCheckIn(LeanSave, Document):
	def validate(self):
		self.validate_appointment()
		self.validate_vehicle_owner()
		self.validate_odometer()
		self.set_open_recalls()

	def validate_appointment(self):
		if not self.service_appointment:
			return
		appt = frappe.db.get_value(
			"Service Appointment",
			self.service_appointment,
			["company", "customer", "vehicle", "status"],
			as_dict=True,
		)
		if appt.status not in ("Requested", "Confirmed"):
			frappe.throw(
				_(
					"Appointment {0} is {1}; only a requested or confirmed appointment can be checked in."
				).format(self.service_appointment, appt.status)
			)
		if appt.company != self.company or appt.customer != self.customer:
			frappe.throw(_("The check-in must be for the appointment's dealer and customer."))
		if appt.vehicle and appt.vehicle != self.vehicle:
			frappe.throw(
				_("Appointment {0} is for vehicle {1}.").format(self.service_appointment, appt.vehicle)
			)

	def validate_vehicle_owner(self):
		validate_vehicle_owner(self.vehicle, self.customer)

	def validate_odometer(self):
		self.last_odometer = cint(frappe.db.get_value("Customer Vehicle", self.vehicle, "current_odometer"))
		if cint(self.odometer) < 0 or cint(self.odometer) > 9_999_999:
			frappe.throw(_("Odometer must be between 0 and 9,999,999 km."))
		if cint(self.odometer) >= self.last_odometer:
			self.odometer_override = 0
			self.odometer_override_reason = None
			self.odometer_override_by = None
			return
		message = _("Odometer {0} km is below the last recorded reading of {1} km.").format(
			cint(self.odometer), self.last_odometer
		)
		if not self.odometer_override:
			frappe.throw(
				message + " " + _("A Workshop Manager must override it, with a reason."),
				title=_("Odometer rollback"),
			)
		if not has_any_role(MANAGERS):
			frappe.throw(message + " " + _("Only a Workshop Manager may accept it."), frappe.PermissionError)
		if not (self.odometer_override_reason or "").strip():
			frappe.throw(_("Give the reason for accepting a lower odometer reading."))
		self.odometer_override_by = frappe.session.user

	def set_open_recalls(self):
		self.open_recalls = (
			"\n".join(f"{c.name}: {c.title}" for c in open_campaigns_for(self.vehicle)) or None
		)

	def before_submit(self):
		self.check_in_time = now_datetime()

	def on_submit(self):
		# locked while read: another visit of this vehicle saving it meanwhile would otherwise
		# make this save fail as "modified after you opened it"
		vehicle = frappe.get_doc("Customer Vehicle", self.vehicle, for_update=True)
		vehicle.record_odometer_reading(self.odometer, self.doctype, self.name, self.check_in_time)
		if self.service_appointment:
			appt = frappe.get_doc("Service Appointment", self.service_appointment)
			appt.flags.ignore_permissions = True
			appt.set_status("Checked In")
		template = default_template(self.vehicle_category)
		if template:
			self.db_set("vehicle_inspection", make_inspection(self, template).name)

	def before_cancel(self):
		job_card = frappe.db.get_value(
			"Service Job Card", {"vehicle_check_in": self.name, "status": ("!=", "Cancelled")}
		)
		if job_card:
			frappe.throw(_("Job card {0} was opened from this check-in; cancel it first.").format(job_card))

	def on_cancel(self):
		vehicle = frappe.get_doc("Customer Vehicle", self.vehicle, for_update=True)
		vehicle.remove_odometer_readings(self.doctype, self.name)
		if self.service_appointment:
			appt = frappe.get_doc("Service Appointment", self.service_appointment)
			appt.status = "Confirmed" if appt.confirmed_on else "Requested"
			appt.flags.ignore_permissions = True
			appt.save()
		if self.vehicle_inspection:
			inspection = frappe.get_doc("Vehicle Inspection", self.vehicle_inspection)
			if inspection.docstatus == 1:
				inspection.flags.ignore_permissions = True
				inspection.cancel()
			elif inspection.docstatus == 0:
				self.db_set("vehicle_inspection", None)
				frappe.delete_doc("Vehicle Inspection", inspection.name, ignore_permissions=True)


@frappe.whitelist()
def make_check_in(source_name: str, target_doc=None):
	"""Check-in from an appointment: an unsaved draft carrying customer, vehicle, concerns and services."""
	# the right to read it first: another dealer's appointment's status is not for this user
	frappe.get_doc("Service Appointment", source_name).check_permission("read")
	status = frappe.db.get_value("Service Appointment", source_name, "status")
	if status not in ("Requested", "Confirmed"):
		frappe.throw(_("Appointment {0} is {1} and cannot be checked in.").format(source_name, status))
	return get_mapped_doc(
		"Service Appointment",
		source_name,
		{
			"Service Appointment": {
				"doctype": "Vehicle Check In",
				"field_map": {"name": "service_appointment"},
				"field_no_map": ["naming_series"],
			},
			"Service Appointment Service": {"doctype": "Service Appointment Service"},
		},
		target_doc,
	)


@frappe.whitelist()
def make_job_card(source_name: str, target_doc=None):
	"""Job card from a submitted check-in: an unsaved draft inheriting everything."""
	from aftersales_dms.workshop.doctype.service_job_card.service_job_card import (
		add_recall_lines,
		labour_line,
	)

	check_in = frappe.get_doc("Vehicle Check In", source_name)
	check_in.check_permission("read")
	if check_in.docstatus != 1:
		frappe.throw(_("Submit the check-in before opening a job card."))
	existing = frappe.db.get_value(
		"Service Job Card", {"vehicle_check_in": source_name, "status": ("!=", "Cancelled")}
	)
	if existing:
		frappe.throw(
			_("Job card {0} is already open for this check-in.").format(existing), frappe.DuplicateEntryError
		)

	def postprocess(source, target):
		customer = frappe.db.get_value("Customer", source.customer, ["mobile_no", "email_id"], as_dict=True)
		target.contact_mobile = customer.mobile_no
		target.contact_email = customer.email_id
		if source.service_appointment:
			appt = frappe.db.get_value(
				"Service Appointment",
				source.service_appointment,
				["contact_mobile", "contact_email", "technician", "service_bay"],
				as_dict=True,
			)
			target.service_bay = appt.service_bay
			target.contact_mobile = appt.contact_mobile or target.contact_mobile
			target.contact_email = appt.contact_email or target.contact_email
		else:
			appt = frappe._dict()
		for row in source.services:
			target.append("labour", labour_line(row.item_code, source.company, technician=appt.technician))
		add_recall_lines(target, source.vehicle, source.company)

	return get_mapped_doc(
		"Vehicle Check In",
		source_name,
		{
			"Vehicle Check In": {
				"doctype": "Service Job Card",
				"field_map": {
					"name": "vehicle_check_in",
					"service_appointment": "service_appointment",
					"vehicle_inspection": "vehicle_inspection",
					"odometer": "odometer",
					"fuel_level": "fuel_level",
					"concerns": "concerns",
					"open_recalls": "open_recalls",
				},
				"field_no_map": ["naming_series", "status"],
				"validation": {"docstatus": ["=", 1]},
			},
		},
		target_doc,
		postprocess,
	)
