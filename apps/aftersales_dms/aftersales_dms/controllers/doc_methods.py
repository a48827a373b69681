"""A document method of the app's DocTypes runs on the stored document, never on one a client sent.

Frappe's `run_doc_method` (`/api/method/run_doc_method`, the desk's `frm.call`) makes `self` from
the `docs` the client posts: a "new" document (`__islocal`) under the name of another dealer's,
with the user's own company and any docstatus or status, passes its read check and reaches the
method. Each method of the app locks and re-reads its document and checks the user's rights on
what is stored (`guards.lock_document`); this override is the defence in depth in front of them:
for the app's DocTypes, a document that exists is loaded from the database (the client's unsaved
values are not the method's input) and a "new" one under an existing name is refused. Other
DocTypes (ERPNext's, Frappe's) keep Frappe's behaviour.
"""

import frappe
import frappe.handler
from frappe import _
from frappe.model.base_document import get_controller

from aftersales_dms.controllers.guards import refuse_new_document_under_stored_name
from aftersales_dms.controllers.saves import locked_read
from aftersales_dms.roles import APP_MODULES


# Frappe's execute_cmd lets anyone call its run_doc_method (it is exempt from the whitelist
# check) and leaves the rest to the document's read permission and the method's own whitelisting
# (allow_guest, HTTP methods); an override must be whitelisted, so it is open like the original:
# it adds nothing, it only narrows what reaches the method.
@frappe.whitelist(allow_guest=True)
def run_doc_method(method: str, docs=None, dt=None, dn=None, arg=None, args=None):
	"""Run a whitelisted method of a document (Frappe's run_doc_method); for the app's DocTypes
	on the stored document, locked and checked by the method itself."""
	if dt:
		if isinstance(dt, str) and frappe.db.exists("DocType", dt):
			check_doc_method(dt, method)
	elif docs:
		doc = frappe.parse_json(docs)
		doctype = doc.get("doctype") if isinstance(doc, dict) else None
		if isinstance(doctype, str) and frappe.db.exists("DocType", doctype):
			check_doc_method(doctype, method)
		if isinstance(doctype, str) and is_app_doctype(doctype):
			name = doc.get("name")
			if not isinstance(name, str | int) or isinstance(name, bool):
				frappe.throw(_("Name the {0} to act on.").format(_(doctype)))
			name = str(name)
			if frappe.db.exists(doctype, name):
				if doc.get("__islocal"):
					refuse_new_document_under_stored_name(doctype, name)
				dt, dn, docs = doctype, name, None
	# the handler's load of an app document is its locked read (one read instead of two)
	lock = dt and dn and isinstance(dt, str) and frappe.session.user != "Guest" and is_app_doctype(dt)
	with locked_read(dt if lock else None, dn):
		return frappe.handler.run_doc_method(method, docs=docs, dt=dt, dn=dn, arg=arg, args=args)


def is_app_doctype(doctype: str) -> bool:
	"""A DocType of the app's modules (False for one that does not exist)."""
	module = frappe.db.get_value("DocType", doctype, "module", cache=True)
	return module in APP_MODULES


def check_doc_method(doctype: str, method) -> None:
	"""The method must be a whitelisted method of the DocType's controller: a clear refusal
	instead of an AttributeError for any other name."""
	member = getattr(get_controller(doctype), method, None) if isinstance(method, str) else None
	if getattr(member, "__func__", member) not in frappe.whitelisted:
		frappe.throw(
			_("{0} has no method {1} one may call.").format(_(doctype), frappe.bold(str(method)[:80])),
			frappe.PermissionError,
		)
