"""Real network peers for the tests: a local HTTP SMS gateway and a local SMTP server.

Both listen on 127.0.0.1 on a free port, record what they receive, and are configured into
the site (SMS Settings, a default outgoing Email Account) inside the test's transaction.
"""

import asyncio
import email
import socket
import threading
import time
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import frappe


def free_port() -> int:
	with socket.socket() as s:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]


class SmsGateway:
	"""A local HTTP SMS gateway (GET ?to=…&text=…&sender=…): records every request it accepts.

	`status` is the HTTP status it answers (a 5xx: it accepts nothing); `delay` seconds pass
	between accepting a message and answering, as with a slow gateway."""

	def __init__(self, status=200, delay=0.0):
		self.received = []
		self.requests = 0
		self.status, self.delay = status, delay
		gateway = self

		class Handler(BaseHTTPRequestHandler):
			def do_GET(self):
				gateway.requests += 1
				if gateway.status < 300:
					gateway.received.append({k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()})
				time.sleep(gateway.delay)
				self.send_response(gateway.status)
				self.end_headers()
				self.wfile.write(b'{"status": "queued"}' if gateway.status < 300 else b'{"error": "down"}')

			def log_message(self, *args):
				pass

		self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
		self.url = f"http://127.0.0.1:{self.server.server_port}/send"
		self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

	def __enter__(self):
		self.thread.start()
		self.started = frappe.utils.now_datetime()
		settings = frappe.get_doc("SMS Settings")
		settings.sms_gateway_url = self.url
		settings.message_parameter = "text"
		settings.receiver_parameter = "to"
		settings.use_post = 0
		settings.set("parameters", [{"parameter": "sender", "value": "ORIONS"}])
		settings.save()
		return self

	def __exit__(self, *exc):
		self.server.shutdown()
		self.server.server_close()

	def flush(self):
		"""Send the SMS queued since this gateway started, now (the worker's job, done inline);
		older rows other tests committed stay queued."""
		from aftersales_dms.delivery.sms_outbox import send_pending

		send_pending(creation=(">=", self.started))
		return self.received


class SmtpSink:
	"""A local SMTP server (aiosmtpd) set as the site's default outgoing Email Account."""

	def __init__(self, rcpt_delay=0.0):
		"""rcpt_delay: seconds it takes to accept each recipient, as with a slow server."""
		from aiosmtpd.controller import Controller

		self.messages = []
		sink = self

		class Handler:
			async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
				await asyncio.sleep(rcpt_delay)
				envelope.rcpt_tos.append(address)
				return "250 OK"

			async def handle_DATA(self, server, session, envelope):
				msg = email.message_from_bytes(envelope.content, policy=policy.default)
				sink.messages.append(
					{"to": list(envelope.rcpt_tos), "subject": str(msg["subject"]), "message": msg}
				)
				return "250 OK"

		self.port = free_port()
		self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

	def __enter__(self):
		self.controller.start()
		port = self.port
		for name in frappe.get_all("Email Account", filters={"default_outgoing": 1}, pluck="name"):
			frappe.db.set_value("Email Account", name, "default_outgoing", 0)
		account = frappe.get_doc(
			{
				"doctype": "Email Account",
				"email_account_name": f"Test SMTP {port}",
				"email_id": f"service-{port}@omp.example",
				"smtp_server": "127.0.0.1",
				"smtp_port": port,
				"use_tls": 0,
				"use_ssl_for_outgoing": 0,
				"no_smtp_authentication": 1,
				"enable_outgoing": 1,
				"default_outgoing": 1,
			}
		)
		account.insert(ignore_permissions=True)
		frappe.local.outgoing_email_account = {}
		return self

	def __exit__(self, *exc):
		self.controller.stop()
		frappe.local.outgoing_email_account = {}

	def flush(self, **filters):
		"""Send the queued emails matching filters through SMTP now (the worker's job, done inline).

		Email Queue commits its status updates; the pytest plugin holds commits back during a
		test, so the test class still rolls everything back.
		"""
		frappe.flags.testing_email = True
		try:
			for name in frappe.get_all(
				"Email Queue", filters={"status": "Not Sent", **filters}, pluck="name"
			):
				frappe.get_doc("Email Queue", name).send()
		finally:
			frappe.flags.testing_email = False
		return self.messages
