"""No state change over GET, and a clear 4xx for malformed calls Frappe answers with a 500 (#20).

Frappe checks the CSRF token only on a request that is not a GET, so a method a GET can run is one a
link or an `<img>` on any page makes a logged-in user run. Every whitelisted method of the app that
changes anything is `@frappe.whitelist(methods=["POST"])` and Frappe refuses it a GET on
`/api/method/…` and `run_doc_method`; but Frappe's document-method routes do not consult the
method's HTTP methods: `GET /api/v2/document/<doctype>/<name>/method/<method>` and
`GET /api/resource/<doctype>/<name>?run_method=<method>` run any whitelisted method on a document
the user may read. `before_request` refuses those a GET unless the method allows GET. It only
narrows: a request it lets through is answered by Frappe as before.

It also refuses, with a clear 417 instead of Frappe's 500 TypeError:
- `get_count` (`frappe.client.get_count`, `frappe.desk.reportview.get_count`) with an argument the
  count's query does not take (`parent=`: Frappe passes every form field on to its query);
- `frappe.client.set_value` with a standard field (name, parent, parentfield, docstatus, …) in its
  dict form: Frappe refuses one given as `fieldname` ("Cannot edit standard fields") but applied
  the dict, and `{"parentfield": …}` on a child row hid it from its document — an invoiced job
  card's part line, a submitted Quotation's item (attack of 2026-12-07);
- a call of one of the app's own whitelisted functions (`/api/method/aftersales_dms.…`) that leaves
  out an argument the function requires (Frappe calls it anyway: TypeError);
- `/api/v2/method/run_doc_method` without `method` or `document`, with a `document` or `kwargs` that
  is not a JSON object (a form-encoded `kwargs` ran the method with no arguments), or a `method`
  the document's DocType does not whitelist.
"""

import inspect
import json

import frappe
from frappe import _
from frappe.model.base_document import get_controller


class MethodNotAllowed(frappe.ValidationError):
	http_status_code = 405


COUNT_PATHS = ("frappe.client.get_count", "frappe.desk.reportview.get_count")


def before_request():
	"""hooks.before_request: refuse what the module docstring says; let anything else through."""
	request = getattr(frappe.local, "request", None)
	if request is None:
		return
	parts = request.path.strip("/").split("/")
	if parts[:1] != ["api"]:
		return
	version = parts[1] if parts[1:2] in (["v1"], ["v2"]) else "v1"
	route = parts[2:] if parts[1:2] in (["v1"], ["v2"]) else parts[1:]
	form = frappe.local.form_dict or {}
	# HEAD: werkzeug routes it as a GET (and Frappe checks no CSRF token on it either)
	if request.method in ("GET", "HEAD"):
		target = doc_method_target(version, route, form)
		if target:
			refuse_get_of_doc_method(*target)
	if route[:1] == ["method"] and len(route) == 2:
		if route[1].startswith("aftersales_dms."):
			check_required_arguments(route[1], form)
		if route[1] in COUNT_PATHS:
			check_count_arguments(form)
		if route[1] == "frappe.client.set_value":
			check_set_value_fields(form)
		if version == "v2" and route[1] == "run_doc_method":
			check_run_doc_method_arguments(form)


def doc_method_target(version, route, form) -> tuple[str, str] | None:
	"""(doctype, method) of a document-method route: v2's `document/<dt>/<name>/method/<m>` and the
	REST read route with `run_method` (v1 and the unversioned `/api/resource`)."""
	if version == "v2" and len(route) >= 5 and route[0] == "document" and route[-2] == "method":
		return route[1], route[-1]
	if version == "v1" and len(route) >= 3 and route[0] == "resource" and "run_method" in form:
		return route[1], form.get("run_method")
	return None


def allows_get(doctype, method) -> bool:
	"""The method is a whitelisted method of the DocType's controller that declares GET (anything
	else is left to Frappe, which refuses a method that is not whitelisted)."""
	if not isinstance(method, str) or not isinstance(doctype, str):
		return True
	if not frappe.db.exists("DocType", doctype):
		return True
	member = getattr(get_controller(doctype), method, None)
	fn = getattr(member, "__func__", member)
	if fn not in frappe.whitelisted:
		return True
	return "GET" in frappe.allowed_http_methods_for_whitelisted_func.get(fn, ("GET",))


def refuse_get_of_doc_method(doctype, method):
	if not allows_get(doctype, method):
		frappe.throw(
			_("{0} changes the document: call it with POST.").format(frappe.bold(str(method)[:80])),
			MethodNotAllowed,
			title=_("Method Not Allowed"),
		)


def count_arguments() -> set[str]:
	from frappe.desk.reportview import DISALLOWED_PARAMS
	from frappe.model.db_query import DatabaseQuery

	return (
		set(inspect.signature(DatabaseQuery.execute).parameters)
		| set(DISALLOWED_PARAMS)
		| {"doctype", "cache", "cmd", "aggregate_on_doctype", "aggregate_on_field", "aggregate_function"}
	) - {"self"}


def check_count_arguments(form):
	unknown = sorted(str(k) for k in form if k not in count_arguments())
	if unknown:
		frappe.throw(
			_("get_count takes no argument {0}.").format(", ".join(frappe.bold(k[:80]) for k in unknown[:5])),
			title=_("Invalid Argument"),
		)


def check_run_doc_method_arguments(form):
	"""v2's run_doc_method: `method` a whitelisted method of the `document`'s DocType, `document` and
	`kwargs` JSON objects (Frappe answered a missing or malformed one with a 500, and ran a
	form-encoded `kwargs` as no arguments at all)."""
	from aftersales_dms.controllers.doc_methods import check_doc_method

	for key in ("method", "document"):
		if not form.get(key):
			frappe.throw(_("{0} is required.").format(frappe.bold(key)), title=_("Invalid Argument"))
	for key in ("document", "kwargs"):
		value = form.get(key)
		if isinstance(value, str):
			try:
				value = json.loads(value)
			except ValueError:
				value = ""  # not JSON: refused below
			form[key] = value
		if value is not None and not isinstance(value, dict):
			frappe.throw(
				_("{0} must be a JSON object.").format(frappe.bold(key)), title=_("Invalid Argument")
			)
	doctype = form["document"].get("doctype")
	if not isinstance(doctype, str) or not frappe.db.exists("DocType", doctype):
		frappe.throw(_("The document must name its DocType."), title=_("Invalid Argument"))
	check_doc_method(doctype, form.get("method"))


def check_required_arguments(path: str, form):
	"""The app's whitelisted function at `path` gets every argument it requires (one without a
	default); a missing one is a clear 417. A path that is no such function is left to Frappe."""
	try:
		fn = frappe.get_attr(path)
	except Exception:
		return
	if fn not in frappe.whitelisted:
		return
	if frappe.session.user == "Guest" and fn not in frappe.guest_methods:
		return  # Frappe refuses the Guest (403) before anything else
	missing = [
		name
		for name, param in inspect.signature(fn).parameters.items()
		if param.default is inspect.Parameter.empty
		and param.kind in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY)
		and form.get(name) in (None, "")
	]
	if missing:
		frappe.throw(
			_("{0} is required.").format(", ".join(frappe.bold(name) for name in missing)),
			title=_("Invalid Argument"),
		)


def check_set_value_fields(form):
	"""frappe.client.set_value's dict form may not name a standard field (see the module's docstring)."""
	from frappe.model import child_table_fields, default_fields

	values = form.get("fieldname")
	if isinstance(values, str) and not form.get("value"):
		try:
			values = json.loads(values)
		except ValueError:
			return  # a plain field name: Frappe's own check applies
	if isinstance(values, dict):
		standard = sorted(str(k) for k in values if k in default_fields + child_table_fields)
		if standard:
			frappe.throw(
				_("Cannot edit standard fields: {0}.").format(
					", ".join(frappe.bold(k[:40]) for k in standard)
				),
				title=_("Invalid Argument"),
			)
