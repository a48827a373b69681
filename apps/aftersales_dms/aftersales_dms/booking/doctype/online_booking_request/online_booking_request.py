# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

"""A customer's online booking request (guest Web Form "book-service").

The request is kept as evidence; after insert it becomes a Requested Service Appointment,
matched to the existing customer and vehicle when the plate and the mobile number agree,
otherwise with a new customer and the appointment flagged for review. A guest never changes an
existing customer's contact: a matched appointment carries the customer's own mobile and email, and
an email the guest typed that the customer does not have goes to the advisor's review instead.

Rate limits, beyond the network address (which a caller can change at will): per mobile number, per
email address and per registration plate a day, and per dealer an hour.
"""

import re

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import add_days, add_to_date, cint, escape_html, getdate, now_datetime

from aftersales_dms.utils.vin import InvalidVIN, normalize_plate, validate_vin

MAX_PER_IP_PER_HOUR = 5
MAX_PER_MOBILE_PER_DAY = 3
MAX_PER_EMAIL_PER_DAY = 3
MAX_PER_PLATE_PER_DAY = 3
MAX_PER_DEALER_PER_HOUR = 60
BOOKING_HORIZON_DAYS = 90
LIMITS = {
	"full_name": 140,
	"email": 140,
	"registration_plate": 20,
	"vin": 17,
	"vehicle_description": 140,
	"concerns": 1000,
}


def normalize_mobile(number: str | None, country: str | None = None) -> str:
	"""One way of writing each number, so that a limit per mobile number counts every way of typing
	it: separators dropped, the international prefix 00 written +, and a national number (with its
	trunk 0 or without) given the dealer country's calling code — for India +91 98220 00101,
	0091 9822000101, 09822000101 and 9822000101 are all +919822000101."""
	number = re.sub(r"[\s\-().]", "", number or "")
	if number.startswith("00"):
		number = "+" + number[2:]
	if number and not number.startswith("+") and country:
		from frappe.geo.country_info import get_country_info

		calling_code = (get_country_info(country) or {}).get("isd")
		if calling_code:
			number = calling_code + number.lstrip("0")
	return number


def same_mobile(a: str | None, b: str | None) -> bool:
	"""Compare on the last 10 digits, so +91 98220 00101 and 09822000101 match."""
	da, db = re.sub(r"\D", "", a or ""), re.sub(r"\D", "", b or "")
	return len(da) >= 7 and len(db) >= 7 and da[-10:] == db[-10:]


class OnlineBookingRequest(Document):
	def validate(self):
		self.validate_lengths()
		self.validate_contact()
		self.validate_vehicle()
		self.validate_date()
		if self.is_new():
			self.validate_rate()

	def validate_lengths(self):
		for field, limit in LIMITS.items():
			value = (self.get(field) or "").strip()
			if len(value) > limit:
				frappe.throw(
					_("{0} is too long (at most {1} characters).").format(self.meta.get_label(field), limit)
				)
			self.set(field, value or None)
		for field in ("full_name", "vehicle_description", "concerns"):
			if self.get(field) and re.search(r"<\s*/?\s*[a-zA-Z!]", self.get(field)):
				frappe.throw(_("{0} may not contain HTML.").format(self.meta.get_label(field)))
		if not self.full_name or not self.concerns:
			frappe.throw(_("Tell us your name and what we should look at."))

	def validate_contact(self):
		country = frappe.get_cached_value("Company", self.company, "country") if self.company else None
		self.mobile_no = normalize_mobile(self.mobile_no, country)
		if not re.match(r"^\+?[0-9]{7,15}$", self.mobile_no):
			frappe.throw(_("Mobile number {0} is not valid.").format(escape_html(self.mobile_no)))
		if self.email:
			frappe.utils.validate_email_address(self.email, throw=True)
		if not frappe.db.exists("Company", self.company):
			frappe.throw(_("Choose one of our dealers."))

	def validate_vehicle(self):
		self.registration_plate = normalize_plate(self.registration_plate)
		if not 2 <= len(self.registration_plate) <= 15 or not self.registration_plate.isalnum():
			frappe.throw(_("The registration plate is not valid."))
		if self.vin:
			try:
				self.vin, _warnings = validate_vin(self.vin)
			except InvalidVIN as e:
				frappe.throw(str(e))

	def validate_date(self):
		date = getdate(self.preferred_date)
		if date < getdate() or date > getdate(add_days(getdate(), BOOKING_HORIZON_DAYS)):
			frappe.throw(_("Choose a date from today to {0} days ahead.").format(BOOKING_HORIZON_DAYS))

	def validate_rate(self):
		self.ip_address = getattr(frappe.local, "request_ip", None) or self.ip_address
		hour_ago, day_ago = add_to_date(now_datetime(), hours=-1), add_to_date(now_datetime(), days=-1)

		def count(field, value, since):
			return frappe.db.count("Online Booking Request", {field: value, "creation": (">", since)})

		checks = (
			(
				"ip_address",
				self.ip_address,
				hour_ago,
				MAX_PER_IP_PER_HOUR,
				_("Too many booking requests from your network; please call the dealer."),
			),
			(
				"mobile_no",
				self.mobile_no,
				day_ago,
				MAX_PER_MOBILE_PER_DAY,
				_("This mobile number already has requests today; we will call you."),
			),
			(
				"email",
				self.email,
				day_ago,
				MAX_PER_EMAIL_PER_DAY,
				_("This email address already has requests today; we will call you."),
			),
			(
				"registration_plate",
				self.registration_plate,
				day_ago,
				MAX_PER_PLATE_PER_DAY,
				_("This vehicle already has requests today; we will call you."),
			),
			(
				"company",
				self.company,
				hour_ago,
				MAX_PER_DEALER_PER_HOUR,
				_("The dealer has too many online requests right now; please call the dealer."),
			),
		)
		for field, value, since, limit, message in checks:
			if value and count(field, value, since) >= limit:
				frappe.throw(message, frappe.RateLimitExceededError)

	def after_insert(self):
		customer, vehicle = self.match()
		new_email = self.email_not_on_customer(customer)
		needs_review = not (customer and vehicle) or bool(new_email)
		contact = {"contact_mobile": self.mobile_no, "contact_email": self.email}
		if customer:
			# the customer's own contact, never what a guest typed (a plate and a mobile number are
			# not proof of who is asking)
			known = frappe.db.get_value("Customer", customer, ["mobile_no", "email_id"], as_dict=True)
			contact = {"contact_mobile": known.mobile_no or self.mobile_no, "contact_email": known.email_id}
		else:
			customer = self.make_customer()
		appointment = frappe.get_doc(
			{
				"doctype": "Service Appointment",
				"company": self.company,
				"channel": "Online",
				"customer": customer,
				"vehicle": vehicle,
				**contact,
				"sms_opt_in": cint(self.sms_opt_in),
				"preferred_date": self.preferred_date,
				"concerns": self.review_note(not vehicle, new_email) if needs_review else self.concerns,
			}
		)
		appointment.needs_review = needs_review
		appointment.flags.ignore_permissions = True
		appointment.insert()
		# stored, not set on this document: the web form answers the guest with the document, and
		# whether a plate and mobile matched, and whose they are, is nothing to tell a guest
		frappe.db.set_value(
			self.doctype,
			self.name,
			{
				"service_appointment": appointment.name,
				"customer": customer,
				"vehicle": vehicle,
				"status": "Needs Review" if needs_review else "Matched",
			},
		)

	def email_not_on_customer(self, customer: str | None) -> str | None:
		"""An email the guest gave that the matched customer does not have: for the advisor to
		confirm with the customer, never added by the request."""
		if not customer or not self.email:
			return None
		known = (frappe.db.get_value("Customer", customer, "email_id") or "").strip().lower()
		return self.email if self.email.strip().lower() != known else None

	def match(self) -> tuple[str | None, str | None]:
		vehicle = frappe.db.get_value(
			"Customer Vehicle",
			{"registration_plate": self.registration_plate},
			["name", "customer"],
			as_dict=True,
		)
		if vehicle:
			mobile = frappe.db.get_value("Customer", vehicle.customer, "mobile_no")
			if same_mobile(mobile, self.mobile_no):
				return vehicle.customer, vehicle.name
		return None, None

	def make_customer(self) -> str:
		customer = frappe.get_doc(
			{
				"doctype": "Customer",
				"customer_name": self.full_name,
				"customer_type": "Individual",
				"customer_group": frappe.db.get_single_value("Selling Settings", "customer_group")
				or "Individual",
				"territory": frappe.db.get_single_value("Selling Settings", "territory") or "All Territories",
				"mobile_no": self.mobile_no,
				"email_id": self.email,
			}
		)
		customer.flags.ignore_permissions = True
		customer.insert()
		return customer.name

	def review_note(self, unmatched: bool = True, new_email: str | None = None) -> str:
		vehicle = ", ".join(filter(None, [self.registration_plate, self.vin, self.vehicle_description]))
		note = self.concerns + "\n"
		if unmatched:
			note += "\n" + _("[Online request {0}: new customer or vehicle to review — {1}]").format(
				self.name, vehicle
			)
		if new_email:
			note += "\n" + _(
				"[The request gave the email {0}, which the customer's record does not have: confirm it with the customer before adding it.]"
			).format(new_email)
		return note
