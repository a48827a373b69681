"""After delivery: the customer's feedback (1 to 5 stars and a comment) through a signed link, and the
vehicle's next service date from its category's interval (the reminder is a Notification)."""

import frappe
from frappe import _
from frappe.rate_limiter import rate_limit
from frappe.utils import add_days, cint, get_url, now_datetime, today

from aftersales_dms.billing.approval import make_token, open_token
from aftersales_dms.controllers.guards import call_with_deadlock_retry

FEEDBACK_VALID_HOURS = 14 * 24
SUBJECT = "feedback"


def on_delivered(jc):
	"""Called while the job card enters Delivered (in its validate): link and service plan."""
	token, digest, _expires = make_token(jc.name, SUBJECT, valid_hours=FEEDBACK_VALID_HOURS)
	jc.feedback_nonce = digest
	jc.feedback_link = get_url(f"/service_feedback?token={token}")
	if periodic_service_done(jc):
		plan_next_service(jc)


def periodic_service_done(jc) -> bool:
	"""Whether the job did the vehicle's periodic service: a labour line the customer did not
	decline, done, of an operation of one of the OEM's periodic service packages (a package with
	a service interval). A job of a diagnosis or a repair only leaves the service plan alone."""
	done = {r.item_code for r in jc.labour if r.customer_decision != "Declined" and r.work_status == "Done"}
	if not done:
		return False
	return bool(
		frappe.db.sql(
			"""select i.name from `tabService Package Item` i join `tabService Package` p on p.name = i.parent
			where p.disabled = 0 and p.interval_km > 0 and i.item_code in %s
				and ifnull(p.vehicle_category, '') in ('', %s)
			limit 1""",
			(tuple(done), jc.vehicle_category or ""),
		)
	)


def plan_next_service(jc):
	"""The vehicle's next service, from its category's interval, after its periodic service."""
	interval_days, interval_km = frappe.db.get_value(
		"Vehicle Category", jc.vehicle_category, ["service_interval_days", "service_interval_km"]
	) or (0, 0)
	values = {}
	if cint(interval_days):
		values["next_service_date"] = add_days(today(), cint(interval_days))
	if cint(interval_km):
		values["next_service_odometer"] = cint(jc.odometer) + cint(interval_km)
	if values and jc.vehicle:
		frappe.db.set_value("Customer Vehicle", jc.vehicle, values)


def read_feedback_token(token: str | None, for_update: bool = False):
	return open_token(token, "feedback_nonce", SUBJECT, for_update=for_update)


@frappe.whitelist(allow_guest=True, methods=["POST"])
@rate_limit(limit=10, seconds=60)
def submit_feedback(token: str | None = None, stars: int | None = None, comment: str | None = None):
	"""The customer's rating (1-5 stars) and comment on a delivered job, from the emailed
	feedback link; the link works once. A deadlock is retried, never a server error."""
	if not isinstance(token, str) or not isinstance(comment, str | None):
		frappe.throw(_("This feedback link is invalid, has expired or has already been used."))
	return call_with_deadlock_retry(_submit_feedback, token, stars, comment)


def _submit_feedback(token: str, stars: int, comment: str | None = None):
	jc = read_feedback_token(token, for_update=True)  # locked and read afresh: the link works once
	stars = cint(stars)
	if stars < 1 or stars > 5:
		frappe.throw(_("Choose 1 to 5 stars."))
	comment = (comment or "").strip()
	if len(comment) > 2000:
		frappe.throw(_("The comment is too long (2,000 characters at most)."))
	if "<" in comment and ">" in comment:
		frappe.throw(_("The comment may not contain HTML."))
	frappe.get_doc(
		{
			"doctype": "Service Feedback",
			"service_job_card": jc.name,
			"company": jc.company,
			"customer": jc.customer,
			"stars": stars,
			"rating": stars / 5,
			"comment": comment or None,
			"submitted_on": now_datetime(),
			"ip_address": getattr(frappe.local, "request_ip", None),
		}
	).insert(ignore_permissions=True)
	frappe.db.set_value("Service Job Card", jc.name, "feedback_nonce", None, update_modified=False)
	return {"stars": stars}
