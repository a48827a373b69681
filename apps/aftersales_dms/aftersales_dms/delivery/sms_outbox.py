"""Customer SMS through an outbox.

Frappe's Notification sends an SMS by calling the gateway inside the request that saves the
document: a change that is rolled back afterwards has still sent its SMS, a gateway that is
down loses the message (an Error Log is all that is left), and a gateway that hangs holds the
request. Here a Notification's SMS becomes an Outgoing SMS row written in the same transaction
as the document, and a background job sends it after the commit:

- a rolled-back change leaves no row, so nothing is sent;
- each row is sent inside its own transaction that holds the row's lock (``FOR UPDATE SKIP
  LOCKED``) until the gateway has answered and the row says Sent. A worker that dies mid-send
  releases the lock with its connection, the row is still Queued, and the next run sends it;
  two workers never send one row at once;
- the row's name travels to the gateway as a client reference (Aftersales Settings), so the one
  ambiguous case — the gateway accepted the message but the worker died before it could record
  that — is resent with the same reference, which a gateway that honours references delivers
  once;
- a failing gateway is retried after 1, 2, 4 and 8 minutes; the fifth failure marks the row
  Failed (with the error) for a manager to retry from the desk.
"""

import frappe
import requests
from frappe import _
from frappe.core.doctype.sms_settings.sms_settings import create_sms_log, get_headers, validate_receiver_nos
from frappe.utils import add_to_date, now_datetime

MAX_ATTEMPTS = 5
GATEWAY_TIMEOUT = 15  # seconds; Frappe's own send_request waits forever


def queue_sms(receivers, message: str, reference=None, notification: str | None = None) -> list[str]:
	"""Write one Outgoing SMS per number in the caller's transaction; a job sends them after the
	commit. Returns the rows' names."""
	numbers = validate_receiver_nos(receivers if isinstance(receivers, list | tuple) else [receivers])
	company = (
		reference.get("company") if reference is not None and reference.meta.has_field("company") else None
	)
	names = []
	for number in dict.fromkeys(numbers):  # one message per number, even if listed twice
		row = frappe.get_doc(
			{
				"doctype": "Outgoing SMS",
				"mobile": number,
				"message": message,
				"company": company,
				"reference_doctype": reference.doctype if reference is not None else None,
				"reference_name": reference.name if reference is not None else None,
				"notification": notification,
			}
		)
		row.insert(ignore_permissions=True)
		names.append(row.name)
	if names:
		schedule_send()
	return names


def schedule_send():
	"""Send the queue in a background job once the current transaction commits. Not deduplicated
	by job id: a job whose worker was killed stays "started" in Redis until RQ cleans it up,
	which would hold back every later send; concurrent jobs are safe (row locks)."""
	frappe.enqueue(
		"aftersales_dms.delivery.sms_outbox.send_pending", queue="short", enqueue_after_commit=True
	)


def send_pending(limit: int = 500, **filters) -> int:
	"""Send every Queued row that is due (the job after a commit, and the scheduler's safety net
	every tick); `filters` narrow the rows further. Returns how many were sent."""
	if not frappe.db.get_single_value("SMS Settings", "sms_gateway_url"):
		return 0
	sent, seen = 0, set()
	while True:  # rows committed while this runs are picked up by the next round
		due = [
			name
			for name in frappe.get_all(
				"Outgoing SMS",
				filters={**filters, "status": "Queued"},
				or_filters=[
					["next_attempt_after", "is", "not set"],
					["next_attempt_after", "<=", now_datetime()],
				],
				order_by="creation asc",
				pluck="name",
				limit=limit,
			)
			if name not in seen
		]
		if not due:
			return sent
		for name in due:
			seen.add(name)
			sent += send_one(name)


def send_one(name: str) -> bool:
	"""Send one row under its lock; commits. False if another worker holds it, it is not due or
	the gateway refused it."""
	frappe.db.commit()  # a transaction of its own: the lock below lasts until the row is settled
	row = frappe.db.sql(
		"""select name, mobile, message, attempts from `tabOutgoing SMS`
		where name = %s and status = 'Queued'
			and (next_attempt_after is null or next_attempt_after <= %s)
		for update skip locked""",
		(name, now_datetime()),
		as_dict=True,
	)
	if not row:
		return False
	row = row[0]
	error = None
	try:
		status = post_to_gateway(row)
		if not 200 <= status < 300:
			error = _("The SMS gateway answered HTTP {0}").format(status)
	except requests.RequestException as e:
		error = _("The SMS gateway could not be reached: {0}").format(str(e)[:300])
	except Exception as e:  # e.g. SMS Settings incomplete: a failed attempt, not a stuck row
		error = _("The SMS could not be sent: {0}").format(str(e)[:300])
	attempts = row.attempts + 1
	if error is None:
		values = {"status": "Sent", "sent_on": now_datetime(), "attempts": attempts, "last_error": None}
	elif attempts >= MAX_ATTEMPTS:
		values = {"status": "Failed", "attempts": attempts, "last_error": error}
	else:
		values = {
			"attempts": attempts,
			"last_error": error,
			"next_attempt_after": add_to_date(now_datetime(), minutes=2 ** (attempts - 1)),
		}
	frappe.db.set_value("Outgoing SMS", name, values)
	if error is None:
		create_sms_log({"message": row.message.encode("utf-8"), "receiver_list": [row.mobile]}, [row.mobile])
	elif values.get("status") == "Failed":
		frappe.log_error(
			title=_("SMS to {0} failed").format(row.mobile),
			message=error,
			reference_doctype="Outgoing SMS",
			reference_name=name,
		)
	frappe.db.commit()
	return error is None


def post_to_gateway(row) -> int:
	"""One request as SMS Settings describe the gateway, plus the row's reference."""
	settings = frappe.get_doc("SMS Settings")
	params = {settings.message_parameter: row.message, settings.receiver_parameter: row.mobile}
	params.update({p.parameter: p.value for p in settings.parameters if not p.header})
	if reference := frappe.db.get_single_value("Aftersales Settings", "sms_reference_parameter"):
		params[reference] = row.name
	headers = get_headers(settings)
	kwargs = {"headers": headers, "timeout": GATEWAY_TIMEOUT}
	if headers.get("Content-Type") == "application/json":
		kwargs["json"] = params
	elif settings.use_post:
		kwargs["data"] = params
	else:
		kwargs["params"] = params
	response = (requests.post if settings.use_post else requests.get)(settings.sms_gateway_url, **kwargs)
	return response.status_code
