# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

"""A production site's outgoing mail and SMS gateway, from the dealer's configuration file.

`./dms deploy --config FILE` reads the file (TOML or JSON) as root, reads the secrets it names
from their files, and hands the result to `bench --site S dms-production-settings` on standard
input (never on a command line). This module applies it to the site: one outgoing *Email
Account* (the default outgoing one), *SMS Settings* and the gateway reference parameter of
*Aftersales Settings*. Each record is written only when a value differs, so a re-run reports
"unchanged"; everything is checked before anything is written, and the caller commits once, so a
bad value leaves the site as it was.

The settings, as the command gets them (every key optional):

    {"smtp": {"server": str, "port": int, "security": "starttls" | "ssl" | "none",
              "login": str | None, "password": str | None, "sender": str,
              "account_name": str},
     "sms": {"gateway_url": str, "message_parameter": str, "receiver_parameter": str,
             "use_post": bool, "reference_parameter": str | None,
             "parameters": [{"parameter": str, "value": str, "header": bool}]},
     "admin_password": str}
"""

from urllib.parse import urlsplit

import frappe
from frappe import _
from frappe.utils.password import get_decrypted_password, update_password

DEFAULT_ACCOUNT = "DMS Outgoing"
SECURITY = ("starttls", "ssl", "none")


def apply(settings: dict) -> list[str]:
	"""Apply `settings` to the connected site; returns one line per record. Does not commit."""
	unknown = set(settings) - {"smtp", "sms", "admin_password"}
	if unknown:
		frappe.throw(_("Unknown production settings: {0}").format(", ".join(sorted(unknown))))
	smtp = _checked_smtp(settings["smtp"]) if settings.get("smtp") else None
	sms = _checked_sms(settings["sms"]) if settings.get("sms") else None
	lines = []
	if smtp:
		lines.append(_apply_smtp(smtp))
	if sms:
		lines.extend(_apply_sms(sms))
	if settings.get("admin_password"):
		update_password("Administrator", settings["admin_password"])
		lines.append("Administrator: password set")
	return lines


def _checked_smtp(smtp: dict) -> dict:
	unknown = set(smtp) - {"server", "port", "security", "login", "password", "sender", "account_name"}
	if unknown:
		frappe.throw(_("Unknown SMTP settings: {0}").format(", ".join(sorted(unknown))))
	for key in ("server", "sender"):
		if not isinstance(smtp.get(key), str) or not smtp[key].strip():
			frappe.throw(_("SMTP setting '{0}' is required").format(key))
	security = smtp.get("security", "starttls")
	if security not in SECURITY:
		frappe.throw(_("SMTP security must be one of {0}, not '{1}'").format(", ".join(SECURITY), security))
	port = smtp.get("port", {"starttls": 587, "ssl": 465, "none": 25}[security])
	if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
		frappe.throw(_("SMTP port must be a number from 1 to 65535, not '{0}'").format(port))
	login, password = smtp.get("login"), smtp.get("password")
	if bool(login) != bool(password):
		frappe.throw(_("SMTP login and password go together: give both or neither"))
	frappe.utils.validate_email_address(smtp["sender"], throw=True)
	return {
		"server": smtp["server"].strip(),
		"port": port,
		"security": security,
		"login": login or None,
		"password": password or None,
		"sender": smtp["sender"].strip(),
		"account_name": (smtp.get("account_name") or DEFAULT_ACCOUNT).strip(),
	}


def _apply_smtp(smtp: dict) -> str:
	name = smtp["account_name"]
	different_login = bool(smtp["login"]) and smtp["login"] != smtp["sender"]
	want = {
		"email_id": smtp["sender"],
		"enable_outgoing": 1,
		"default_outgoing": 1,
		"smtp_server": smtp["server"],
		"smtp_port": str(smtp["port"]),
		"use_tls": int(smtp["security"] == "starttls"),
		"use_ssl_for_outgoing": int(smtp["security"] == "ssl"),
		"no_smtp_authentication": int(not smtp["login"]),
		"login_id_is_different": int(different_login),
		"login_id": smtp["login"] if different_login else None,
		"awaiting_password": 0,
	}
	exists = frappe.db.exists("Email Account", name)
	account = frappe.get_doc("Email Account", name) if exists else frappe.new_doc("Email Account")
	changed = [k for k, v in want.items() if (account.get(k) or None) != (v or None)]
	stored = (
		get_decrypted_password("Email Account", name, "password", raise_exception=False) if exists else None
	)
	if (stored or None) != smtp["password"]:
		changed.append("password")
	if exists and not changed:
		return f"Email Account '{name}': unchanged"
	account.update(want)
	account.email_account_name = name
	account.password = smtp["password"]
	# Frappe un-defaults the other accounts by saving them, which tests their SMTP connection: the
	# demo's sink (127.0.0.1:2525) does not run in production, so set the flag without a save.
	for other in frappe.get_all(
		"Email Account", filters={"default_outgoing": 1, "name": ("!=", name)}, pluck="name"
	):
		frappe.db.set_value("Email Account", other, "default_outgoing", 0)
	# Frappe's validate connects to the server and logs in (outside tests): a wrong host, port
	# or password is refused here, before anything is committed.
	account.save(ignore_permissions=True) if exists else account.insert(ignore_permissions=True)
	return f"Email Account '{name}': {'updated (' + ', '.join(changed) + ')' if exists else 'created'}"


def _checked_sms(sms: dict) -> dict:
	unknown = set(sms) - {
		"gateway_url",
		"message_parameter",
		"receiver_parameter",
		"use_post",
		"reference_parameter",
		"parameters",
	}
	if unknown:
		frappe.throw(_("Unknown SMS settings: {0}").format(", ".join(sorted(unknown))))
	url = sms.get("gateway_url")
	if (
		not isinstance(url, str)
		or urlsplit(url.strip()).scheme not in ("http", "https")
		or not urlsplit(url).netloc
	):
		frappe.throw(_("SMS gateway_url must be an http:// or https:// URL, not '{0}'").format(url))
	for key in ("message_parameter", "receiver_parameter"):
		if not isinstance(sms.get(key), str) or not sms[key].strip():
			frappe.throw(_("SMS setting '{0}' is required").format(key))
	if not isinstance(sms.get("use_post", False), bool):
		frappe.throw(_("SMS use_post must be true or false"))
	parameters = []
	for row in sms.get("parameters") or []:
		if set(row) - {"parameter", "value", "header"} or not str(row.get("parameter") or "").strip():
			frappe.throw(_("Each SMS parameter needs a name and a value: {0}").format(row.get("parameter")))
		parameters.append(
			(str(row["parameter"]).strip(), str(row.get("value") or ""), int(bool(row.get("header"))))
		)
	reference = sms.get("reference_parameter")
	if reference is not None and (not isinstance(reference, str) or not reference.strip()):
		frappe.throw(_("SMS reference_parameter must be a parameter name"))
	return {
		"gateway_url": url.strip(),
		"message_parameter": sms["message_parameter"].strip(),
		"receiver_parameter": sms["receiver_parameter"].strip(),
		"use_post": int(sms.get("use_post", False)),
		"parameters": parameters,
		"reference_parameter": reference.strip() if reference else None,
	}


def _apply_sms(sms: dict) -> list[str]:
	lines = []
	settings = frappe.get_doc("SMS Settings")
	want = {k: sms[k] for k in ("gateway_url", "message_parameter", "receiver_parameter", "use_post")}
	want["sms_gateway_url"] = want.pop("gateway_url")
	changed = [k for k, v in want.items() if (settings.get(k) or None) != (v or None)]
	have = [(p.parameter, p.value or "", int(p.header or 0)) for p in settings.parameters]
	if have != sms["parameters"]:
		changed.append("parameters")
	if changed:
		settings.update(want)
		settings.set(
			"parameters", [{"parameter": p, "value": v, "header": h} for p, v, h in sms["parameters"]]
		)
		settings.save(ignore_permissions=True)
		lines.append(f"SMS Settings: updated ({', '.join(changed)})")
	else:
		lines.append("SMS Settings: unchanged")
	if sms["reference_parameter"] is not None:
		have_ref = frappe.db.get_single_value("Aftersales Settings", "sms_reference_parameter")
		if have_ref != sms["reference_parameter"]:
			frappe.db.set_single_value(
				"Aftersales Settings", "sms_reference_parameter", sms["reference_parameter"]
			)
			lines.append("Aftersales Settings: gateway reference parameter set")
		else:
			lines.append("Aftersales Settings: unchanged")
	return lines
