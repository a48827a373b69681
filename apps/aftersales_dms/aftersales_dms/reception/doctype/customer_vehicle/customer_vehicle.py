# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint, getdate, now_datetime

from aftersales_dms.reception.wmi import decode_wmi
from aftersales_dms.utils.vin import InvalidVIN, normalize_plate, validate_vin


class CustomerVehicle(Document):
	@property
	def sms_gateway_configured(self) -> bool:
		"""Used by the shipped SMS notifications' conditions."""
		from aftersales_dms.controllers.guards import sms_gateway_configured

		return sms_gateway_configured()

	def autoname(self):
		self.validate_vin()
		self.name = self.vin

	def validate(self):
		self.validate_vin()
		self.validate_plate()
		self.validate_year()
		self.validate_warranty()
		self.set_current_odometer()

	def validate_vin(self):
		try:
			self.vin, warnings = validate_vin(self.vin)
		except InvalidVIN as e:
			frappe.throw(str(e), title=_("Invalid VIN"))
		for warning in warnings:
			frappe.msgprint(warning, title=_("VIN check digit"), indicator="orange")
		decoded = decode_wmi(self.vin)
		self.manufacturer = f"{decoded['manufacturer']} ({decoded['country']})" if decoded else None

	def validate_plate(self):
		plate = normalize_plate(self.registration_plate)
		if not 2 <= len(plate) <= 15 or not plate.isalnum():
			frappe.throw(
				_("Registration plate {0} is not valid: use 2 to 15 letters and digits.").format(
					frappe.bold(self.registration_plate)
				),
				title=_("Invalid registration plate"),
			)
		self.registration_plate = plate
		other = frappe.db.get_value(
			"Customer Vehicle", {"registration_plate": plate, "name": ("!=", self.name)}, "name"
		)
		if other:
			frappe.throw(
				_("Registration plate {0} already belongs to vehicle {1}.").format(frappe.bold(plate), other),
				frappe.DuplicateEntryError,
			)

	def validate_year(self):
		if self.year and not 1950 <= cint(self.year) <= getdate().year + 1:
			frappe.throw(_("Model year {0} is not plausible.").format(self.year))

	def validate_warranty(self):
		if (
			self.warranty_start
			and self.warranty_end
			and getdate(self.warranty_end) < getdate(self.warranty_start)
		):
			frappe.throw(_("Warranty end cannot be before warranty start."))

	def set_current_odometer(self):
		readings = [cint(r.odometer) for r in self.odometer_readings]
		self.current_odometer = max(readings) if readings else 0

	def add_odometer_reading(self, odometer: int, source_doctype=None, source_name=None, reading_date=None):
		"""Append a reading; callers decide whether a lower reading needs a manager override."""
		return self.append(
			"odometer_readings",
			{
				"reading_date": reading_date or now_datetime(),
				"odometer": cint(odometer),
				"source_doctype": source_doctype,
				"source_name": source_name,
				"recorded_by": frappe.session.user,
			},
		)

	def record_odometer_reading(self, odometer: int, source_doctype, source_name, reading_date=None):
		"""Add the reading a document took to this saved vehicle: the row is inserted and the
		current reading set, without saving the vehicle (a save rewrites and re-validates every
		earlier reading, and a vehicle that comes in every week gathers hundreds). The caller
		holds the vehicle's row lock (loaded with for_update)."""
		self.add_odometer_reading(odometer, source_doctype, source_name, reading_date).db_insert()
		self.set_current_odometer()
		self.db_set("current_odometer", self.current_odometer)

	def remove_odometer_readings(self, source_doctype, source_name):
		"""Take back the readings a cancelled document added (the caller holds the row lock)."""
		frappe.db.delete(
			"Vehicle Odometer Reading",
			{
				"parenttype": self.doctype,
				"parent": self.name,
				"source_doctype": source_doctype,
				"source_name": source_name,
			},
		)
		self.odometer_readings = [
			r
			for r in self.odometer_readings
			if not (r.source_doctype == source_doctype and r.source_name == source_name)
		]
		self.set_current_odometer()
		self.db_set("current_odometer", self.current_odometer)
