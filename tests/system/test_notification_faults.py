"""Faults: the background worker is killed (SIGKILL, worker and work horse) while it sends customer
SMS to a slow gateway. Nothing is lost — the message it was sending is still queued, because its
row lock died with the worker's connection — and nothing is delivered twice: the one message
the gateway had already accepted is resent with the same reference, which the gateway
deduplicates. Two workers then share the rest without sending any row twice.

Real RQ workers (`frappe worker --queue short`) of the test bench, the real Redis queue and a
local HTTP gateway; the test commits, and removes what it made."""

import os
from collections import Counter

import frappe
import pytest
from aftersales_dms.delivery.sms_outbox import queue_sms
from aftersales_dms.tests.peers import SmsGateway, SmtpSink
from dmstest import ARTIFACTS, kill_worker, start_worker, wait_for


def statuses(names):
	return dict(
		frappe.get_all(
			"Outgoing SMS", filters={"name": ("in", names)}, fields=["name", "status"], as_list=True
		)
	)


@pytest.mark.commits
def test_worker_killed_while_sending_sms():
	sms_settings = frappe.get_doc("SMS Settings").as_dict()
	reference_parameter = frappe.db.get_single_value("Aftersales Settings", "sms_reference_parameter")
	tag = f"fault-sms-{os.getpid()}"
	names, workers = [], []
	log = open(os.path.join(ARTIFACTS, "test-worker.log"), "w")
	try:
		# the gateway accepts a message on receipt and answers 0.8 s later
		with SmsGateway(delay=0.8) as gateway:
			frappe.db.set_single_value("Aftersales Settings", "sms_reference_parameter", "ref")
			vehicle = frappe.get_doc("Customer Vehicle", "MA1TA2XX6GH123456")
			for k in range(8):
				names += queue_sms([f"+91980000{k:04d}"], f"{tag}: message {k}", vehicle)
			frappe.db.commit()  # the commit hands the send jobs to the queue

			def ours():  # the site may hold older queued SMS of other tests; they go first
				return [r for r in gateway.received if r["text"].startswith(tag)]

			workers.append(start_worker(log))
			wait_for(lambda: len(ours()) >= 3, 180, "the worker to reach the third message")
			kill_worker(workers[0])  # while the gateway holds the third message

			after_kill = statuses(names)
			assert sorted(Counter(after_kill.values()).items()) == [("Queued", 6), ("Sent", 2)], after_kill
			in_flight = ours()[2]["ref"]
			assert after_kill[in_flight] == "Queued"  # accepted by the gateway, not recorded: still queued

			workers += [start_worker(log), start_worker(log)]
			for _ in range(2):  # two jobs (as two commits would make) for two workers at once
				frappe.enqueue("aftersales_dms.delivery.sms_outbox.send_pending", queue="short")
			wait_for(
				lambda: set(statuses(names).values()) == {"Sent"}, 120, "the other workers to send the rest"
			)
			for w in workers[1:]:
				kill_worker(w)

		refs = Counter(r["ref"] for r in ours())
		assert set(refs) == set(names)  # nothing lost
		# the only repeat is the message in flight at the kill, with its reference (delivered once
		# by a gateway that honours references); the two workers sent no row twice
		assert {ref: n for ref, n in refs.items() if n > 1} == {in_flight: 2}, refs
		sent_to = frappe.get_all("Outgoing SMS", filters={"name": ("in", names)}, pluck="attempts")
		assert sorted(sent_to) == [1] * 8  # the killed attempt left no trace on the row
	finally:
		for w in workers:
			kill_worker(w)
		log.close()
		frappe.db.rollback()
		frappe.db.delete("Outgoing SMS", {"name": ("in", names or [""])})
		frappe.db.delete("SMS Log", {"message": ("like", f"{tag}%")})
		settings = frappe.get_doc("SMS Settings")
		settings.update(
			{
				k: sms_settings[k]
				for k in ("sms_gateway_url", "message_parameter", "receiver_parameter", "use_post")
			}
		)
		settings.set(
			"parameters",
			[
				{"parameter": p.parameter, "value": p.value, "header": p.header}
				for p in sms_settings.parameters
			],
		)
		settings.save()
		frappe.db.set_single_value("Aftersales Settings", "sms_reference_parameter", reference_parameter)
		frappe.db.commit()


@pytest.mark.commits
def test_worker_killed_while_sending_email():
	"""Emails go through Frappe's Email Queue, which marks a message Sending before it talks to
	SMTP: a worker killed in the middle of the conversation leaves it Sending, and Frappe's own
	scheduler job (`retry_sending_emails`) queues it again once it has been Sending for 15
	minutes. The test ages the stuck row past that window instead of waiting for it."""
	from frappe.email.queue import retry_sending_emails

	default_outgoing = frappe.get_all("Email Account", filters={"default_outgoing": 1}, pluck="name")
	tag = f"fault-mail-{os.getpid()}"
	names, workers, account = [], [], None
	log = open(os.path.join(ARTIFACTS, "test-worker-mail.log"), "w")
	try:
		with SmtpSink(rcpt_delay=0.8) as smtp:  # each recipient takes the server 0.8 s to accept
			account = frappe.get_all("Email Account", filters={"default_outgoing": 1}, pluck="name", limit=1)[
				0
			]
			for k in range(6):
				frappe.sendmail(
					recipients=[f"customer{k}@example.com"],
					subject=f"{tag} {k}",
					message="Your car is ready for pickup.",
					reference_doctype="Customer Vehicle",
					reference_name="MA1TA2XX6GH123456",
					send_priority=10,  # ahead of whatever else the test site has queued
				)
			frappe.db.commit()
			names = frappe.get_all("Email Queue", filters={"message": ("like", f"%{tag}%")}, pluck="name")
			assert len(names) == 6

			def queue_states():
				return Counter(frappe.get_all("Email Queue", filters={"name": ("in", names)}, pluck="status"))

			workers.append(start_worker(log))
			frappe.enqueue("frappe.email.queue.flush", queue="short")
			# two sent (the sink has them and their rows say so: a row stays Sending for a moment
			# after the sink has its message) and the third one Sending
			wait_for(
				lambda: sum(m["subject"].startswith(tag) for m in smtp.messages) >= 2
				and queue_states() == Counter({"Sent": 2, "Sending": 1, "Not Sent": 3}),
				90,
				"the third email",
			)
			kill_worker(workers[0])  # while the server is accepting the third message's recipient

			assert queue_states() == Counter({"Sent": 2, "Sending": 1, "Not Sent": 3}), queue_states()
			(stuck,) = frappe.get_all(
				"Email Queue", filters={"name": ("in", names), "status": "Sending"}, pluck="name"
			)
			frappe.db.sql(
				"update `tabEmail Queue` set modified = now() - interval 16 minute where name = %s", stuck
			)
			retry_sending_emails()  # the scheduler's job, run here
			frappe.db.commit()
			assert frappe.db.get_value("Email Queue", stuck, "status") == "Not Sent"

			workers += [start_worker(log), start_worker(log)]
			for _ in range(2):  # two flushes (two scheduler ticks) for two workers at once
				frappe.enqueue("frappe.email.queue.flush", queue="short")
			wait_for(
				lambda: queue_states() == Counter({"Sent": 6}), 120, "the other workers to send the rest"
			)

		subjects = Counter(m["subject"] for m in smtp.messages if m["subject"].startswith(tag))
		assert subjects == Counter({f"{tag} {k}": 1 for k in range(6)}), subjects  # none lost, none twice
	finally:
		for w in workers:
			kill_worker(w)
		log.close()
		frappe.db.rollback()
		if names:
			frappe.db.delete("Email Queue Recipient", {"parent": ("in", names)})
			frappe.db.delete("Email Queue", {"name": ("in", names)})
		if account:
			frappe.delete_doc("Email Account", account, ignore_permissions=True, force=True)
		for name in default_outgoing:
			frappe.db.set_value("Email Account", name, "default_outgoing", 1)
		frappe.db.commit()
