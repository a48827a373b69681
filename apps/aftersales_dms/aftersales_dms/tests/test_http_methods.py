"""No state change over GET (#20; CSRF: Frappe checks the token only on a request that is not a GET).

Generated: every whitelisted callable of the app (module functions, the app's DocTypes' methods and
those of its controller overrides, found in `frappe.whitelisted` as utils/api_reference.py finds
them) either allows POST (PUT, DELETE) only, or is in READ_ONLY below with the reason it changes
nothing. A new method is covered without a new test. Each document method that refuses GET is
refused a GET on Frappe's document-method routes too (controllers/http_methods.py: they do not
consult the method's HTTP methods). Over HTTP: tests/system/test_http_methods_http.py."""

import frappe
from frappe.model.base_document import get_controller
from frappe.tests.utils import FrappeTestCase

from aftersales_dms.controllers import http_methods
from aftersales_dms.tests.permission_matrix import APP, app_doctypes, import_app, whitelisted_doc_methods

# reviewed: these change nothing, so a GET may run them (the desk or a report calls some by GET)
READ_ONLY = {
	"aftersales_dms.analytics.dashboard.average_tat": "a dashboard figure",
	"aftersales_dms.analytics.dashboard.jobs_nobody_can_move": "a dashboard figure",
	"aftersales_dms.analytics.dashboard.technician_productivity": "a dashboard figure",
	"aftersales_dms.billing.consent.approval_evidence": "reads the stored approval and checks it",
	"aftersales_dms.booking.capacity.find_slots": "lists free slots",
	"aftersales_dms.booking.doctype.service_appointment.service_appointment.get_events": "calendar",
	"aftersales_dms.booking.recall.find_vehicle": "a search",
	"aftersales_dms.controllers.customization.DMSCustomizeForm.fetch_to_customize": (
		"loads a form's customization into the unsaved Customize Form"
	),
	"aftersales_dms.controllers.doc_methods.run_doc_method": (
		"a dispatcher: Frappe's run_doc_method refuses the method it runs an HTTP method it does not allow"
	),
	"aftersales_dms.controllers.read_access.global_search": "a search",
	"aftersales_dms.controllers.read_access.validate_link": "whether a linked document exists (Frappe's validate_link)",
	"aftersales_dms.controllers.report_access.export_query": "a report's rows as a file",
	"aftersales_dms.controllers.report_access.run": "runs a report (Frappe's desk calls it by GET)",
	"aftersales_dms.parts.doctype.parts_request.parts_request.make_parts_request": (
		"returns an unsaved draft"
	),
	"aftersales_dms.reception.doctype.vehicle_check_in.vehicle_check_in.make_check_in": (
		"returns an unsaved draft"
	),
	"aftersales_dms.reception.doctype.vehicle_check_in.vehicle_check_in.make_job_card": (
		"returns an unsaved draft"
	),
	"aftersales_dms.workshop.assignment.suggest_technicians": "a suggestion list",
	"aftersales_dms.workshop.board.get_board": "the workshop board",
	"aftersales_dms.workshop.status.get_transitions": "the actions the user may take",
}


def app_whitelisted() -> dict:
	"""dotted path -> every whitelisted function and method defined in the app."""
	import_app()
	return {
		f"{fn.__module__}.{fn.__qualname__}": fn
		for fn in list(frappe.whitelisted)
		if (getattr(fn, "__module__", "") or "").startswith(APP)
	}


def http_methods_of(fn) -> set[str]:
	return set(frappe.allowed_http_methods_for_whitelisted_func.get(fn, ("GET", "POST", "PUT", "DELETE")))


class TestHttpMethods(FrappeTestCase):
	def test_every_method_that_may_change_something_is_post_only(self):
		methods = app_whitelisted()
		self.assertGreater(len(methods), 30, "the app's whitelisted methods were not found")
		unreviewed = sorted(
			path for path, fn in methods.items() if "GET" in http_methods_of(fn) and path not in READ_ONLY
		)
		self.assertEqual(
			unreviewed,
			[],
			"GET runs these: whitelist them with methods=['POST'] or list them in READ_ONLY with why",
		)
		stale = sorted(p for p in READ_ONLY if p not in methods or "GET" not in http_methods_of(methods[p]))
		self.assertEqual(stale, [], "READ_ONLY lists what is gone or no longer GET-able")

	def test_overrides_of_frappe_methods_are_as_strict(self):
		"""Frappe's own apply_workflow is GET-able; the override the desk reaches is not."""
		for original, path in frappe.get_hooks("override_whitelisted_methods").items():
			path = path[-1] if isinstance(path, list) else path
			if not path.startswith(APP):
				continue
			fn = frappe.get_attr(path)
			if path not in READ_ONLY and fn.__module__.startswith(APP):
				self.assertNotIn("GET", http_methods_of(fn), original)
		self.assertNotIn(
			"GET",
			http_methods_of(
				frappe.get_attr(frappe.override_whitelisted_method("frappe.model.workflow.apply_workflow"))
			),
		)

	def test_document_routes_refuse_get_to_post_only_methods(self):
		parents, _children = app_doctypes()
		parents.append("Customize Form")
		checked = 0
		for doctype in parents:
			cls = get_controller(doctype)
			for name, fn in vars_whitelisted(cls):
				post_only = "GET" not in http_methods_of(fn)
				self.assertEqual(http_methods.allows_get(doctype, name), not post_only, (doctype, name))
				checked += post_only
		self.assertGreater(checked, 10)
		self.assertGreater(len(whitelisted_doc_methods(app_doctypes()[0])), 10)


def vars_whitelisted(cls):
	import inspect

	for name, member in inspect.getmembers(cls, inspect.isfunction):
		if member in frappe.whitelisted:
			yield name, member


class TestRequiredArguments(FrappeTestCase):
	"""Generated: each of the app's whitelisted module functions, called over /api/method without
	an argument it requires, is refused with a clear 417 before Frappe calls it (a 500 TypeError
	before: make_parts_request without source_name, attack of 2026-12-07)."""

	def tearDown(self):
		frappe.local.request = None
		frappe.local.form_dict = frappe._dict()

	def call(self, path, form):
		from werkzeug.test import EnvironBuilder
		from werkzeug.wrappers import Request

		frappe.local.request = Request(
			EnvironBuilder(method="POST", path=f"/api/method/{path}").get_environ()
		)
		frappe.local.form_dict = frappe._dict(form)
		http_methods.before_request()

	def test_a_call_without_a_required_argument_is_a_clear_error(self):
		import inspect

		checked = 0
		for path, fn in sorted(app_whitelisted().items()):
			if "." in fn.__qualname__:  # a document's method: run_doc_method, not /api/method
				continue
			required = [
				name
				for name, param in inspect.signature(fn).parameters.items()
				if param.default is inspect.Parameter.empty
				and param.kind in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY)
			]
			if not required:
				continue
			with self.subTest(path=path), self.assertRaises(frappe.ValidationError) as refused:
				self.call(path, {})
			self.assertIn(required[0], str(refused.exception))
			# given every required argument, the check lets the call through to Frappe
			self.call(path, {name: "x" for name in required})
			checked += 1
		self.assertGreater(checked, 10)


class TestSetValueStandardFields(FrappeTestCase):
	"""frappe.client.set_value's dict form names no standard field (attack of 2026-12-07:
	{"parentfield": …} hid a part line from its invoiced job card)."""

	def tearDown(self):
		frappe.local.request = None
		frappe.local.form_dict = frappe._dict()

	def test_set_value_refuses_standard_fields_in_its_dict_form(self):
		from frappe.model import child_table_fields, default_fields
		from werkzeug.test import EnvironBuilder
		from werkzeug.wrappers import Request

		def call(form):
			frappe.local.request = Request(
				EnvironBuilder(method="POST", path="/api/method/frappe.client.set_value").get_environ()
			)
			frappe.local.form_dict = frappe._dict(form)
			http_methods.before_request()

		for field in default_fields + child_table_fields:
			for values in ({field: "x"}, frappe.as_json({field: "x", "qty": 2})):
				with self.subTest(field=field), self.assertRaises(frappe.ValidationError):
					call({"doctype": "Service Job Card Part", "name": "x", "fieldname": values})
		# an ordinary field, in either form, goes on to Frappe
		call({"doctype": "Service Job Card Part", "name": "x", "fieldname": {"qty": 2}})
		call({"doctype": "Service Job Card Part", "name": "x", "fieldname": "qty", "value": 2})
