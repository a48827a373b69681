# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

"""Production settings (`./dms deploy --config`): applied to Email Account, SMS Settings and
Aftersales Settings, written only when they differ, refused whole when one value is wrong. The
deployment itself: tests/production/test_deploy.py."""

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils.password import get_decrypted_password

from aftersales_dms.utils import production

SMTP = {
	"server": "smtp.dealer.example",
	"port": 587,
	"security": "starttls",
	"login": "dms-relay",
	"password": "s3cret-relay",
	"sender": "service@dealer.example",
	"account_name": "Dealer Production Outbox",
}
SMS = {
	"gateway_url": "https://sms.provider.example/api/send",
	"message_parameter": "text",
	"receiver_parameter": "to",
	"use_post": True,
	"reference_parameter": "client_ref",
	"parameters": [
		{"parameter": "sender", "value": "ORIONS", "header": False},
		{"parameter": "Authorization", "value": "Bearer abc", "header": True},
	],
}


class TestProductionSettings(FrappeTestCase):
	def tearDown(self):
		frappe.db.rollback()  # commits are held back in tests: each test starts from the site as it was

	def test_smtp_creates_the_default_outgoing_account_then_reports_unchanged(self):
		before = frappe.get_all("Email Account", filters={"default_outgoing": 1}, pluck="name")
		self.assertEqual(
			production.apply({"smtp": SMTP}), ["Email Account 'Dealer Production Outbox': created"]
		)
		account = frappe.get_doc("Email Account", "Dealer Production Outbox")
		self.assertEqual(
			(account.smtp_server, account.smtp_port, account.use_tls, account.email_id, account.login_id),
			("smtp.dealer.example", "587", 1, "service@dealer.example", "dms-relay"),
		)
		self.assertEqual(
			(account.enable_outgoing, account.default_outgoing, account.no_smtp_authentication), (1, 1, 0)
		)
		self.assertEqual(get_decrypted_password("Email Account", account.name, "password"), "s3cret-relay")
		for other in before:  # the demo's sink account is no longer the default
			self.assertEqual(frappe.db.get_value("Email Account", other, "default_outgoing"), 0)
		self.assertEqual(
			production.apply({"smtp": SMTP}), ["Email Account 'Dealer Production Outbox': unchanged"]
		)

	def test_smtp_change_names_what_changed(self):
		production.apply({"smtp": SMTP})
		changed = {**SMTP, "port": 465, "security": "ssl", "password": "new-pass"}
		self.assertEqual(
			production.apply({"smtp": changed}),
			[
				"Email Account 'Dealer Production Outbox': updated "
				"(smtp_port, use_tls, use_ssl_for_outgoing, password)"
			],
		)
		account = frappe.get_doc("Email Account", "Dealer Production Outbox")
		self.assertEqual((account.smtp_port, account.use_tls, account.use_ssl_for_outgoing), ("465", 0, 1))
		self.assertEqual(get_decrypted_password("Email Account", account.name, "password"), "new-pass")

	def test_smtp_without_login(self):
		relay = {"server": "127.0.0.1", "port": 25, "security": "none", "sender": "dms@dealer.example"}
		self.assertEqual(production.apply({"smtp": relay}), ["Email Account 'DMS Outgoing': created"])
		account = frappe.get_doc("Email Account", "DMS Outgoing")
		self.assertEqual((account.no_smtp_authentication, account.use_tls, account.login_id), (1, 0, None))

	def test_sms_settings_and_reference_parameter(self):
		lines = production.apply({"sms": SMS})
		self.assertEqual(lines[0].split(" (")[0], "SMS Settings: updated")
		self.assertEqual(lines[1], "Aftersales Settings: gateway reference parameter set")
		settings = frappe.get_doc("SMS Settings")
		self.assertEqual(settings.sms_gateway_url, SMS["gateway_url"])
		self.assertEqual(
			(settings.message_parameter, settings.receiver_parameter, settings.use_post), ("text", "to", 1)
		)
		self.assertEqual(
			[(p.parameter, p.value, p.header) for p in settings.parameters],
			[("sender", "ORIONS", 0), ("Authorization", "Bearer abc", 1)],
		)
		self.assertEqual(
			frappe.db.get_single_value("Aftersales Settings", "sms_reference_parameter"), "client_ref"
		)
		self.assertEqual(
			production.apply({"sms": SMS}), ["SMS Settings: unchanged", "Aftersales Settings: unchanged"]
		)

	def test_a_bad_value_refuses_everything_and_names_it(self):
		url = frappe.db.get_single_value("SMS Settings", "sms_gateway_url")
		accounts = frappe.db.count("Email Account")
		cases = [
			(
				{"smtp": SMTP, "sms": {**SMS, "gateway_url": "ftp://sms.example"}},
				"gateway_url must be an http",
			),
			({"sms": SMS, "smtp": {**SMTP, "port": 70000}}, "SMTP port must be a number"),
			({"sms": SMS, "smtp": {**SMTP, "security": "tls"}}, "SMTP security must be one of"),
			({"sms": SMS, "smtp": {**SMTP, "password": None}}, "login and password go together"),
			({"sms": SMS, "smtp": {**SMTP, "sender": "not an address"}}, "is not a valid Email Address"),
			({"sms": SMS, "smtp": {**SMTP, "pasword": "x"}}, "Unknown SMTP settings: pasword"),
			({"sms": {**SMS, "use_post": "yes"}}, "use_post must be true or false"),
			({"mail": {}}, "Unknown production settings: mail"),
		]
		for settings, message in cases:
			with self.subTest(message=message):
				with self.assertRaises(frappe.ValidationError) as caught:
					production.apply(settings)
				self.assertIn(message, str(caught.exception))
				self.assertEqual(frappe.db.get_single_value("SMS Settings", "sms_gateway_url"), url)
				self.assertEqual(frappe.db.count("Email Account"), accounts)
