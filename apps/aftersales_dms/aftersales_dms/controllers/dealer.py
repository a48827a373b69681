"""A dealer: who works for it (users restricted to its Company by a User Permission) and its
settings (Dealer Workshop Settings, one per Company, read by every stage)."""

import frappe
from frappe import _

# the settings every stage reads (booking hours and slots, warehouses, payers, prices, stand-in)
FIELDS = (
	"workshop_opens",
	"workshop_closes",
	"slot_minutes",
	"parts_warehouse",
	"wip_warehouse",
	"oem_customer",
	"internal_customer",
	"labour_billing",
	"selling_price_list",
	"managers_stand_in",
)


class MissingWorkshopSettingsError(frappe.ValidationError):
	pass


def get_workshop_settings(company: str) -> frappe._dict:
	"""The dealer's settings; a clear error when the dealer has none yet. (The selling price list
	is read through controllers.pricing.dealer_price_list, which falls back to Selling Settings.)"""
	settings = company and frappe.db.get_value(
		"Dealer Workshop Settings", {"company": company}, FIELDS, as_dict=True
	)
	if not settings:
		frappe.throw(
			_("Set up Dealer Workshop Settings for company {0}.").format(company),
			MissingWorkshopSettingsError,
			title=_("Dealer Workshop Settings missing"),
		)
	return settings


def dealer_users(role: str, company: str) -> list[str]:
	"""Enabled users holding `role` whose User Permission restricts them to `company`."""
	holders = frappe.get_all(
		"Has Role", filters={"role": role, "parenttype": "User"}, pluck="parent", distinct=True
	)
	enabled = frappe.get_all("User", filters={"name": ("in", holders or [""]), "enabled": 1}, pluck="name")
	restricted = set(
		frappe.get_all(
			"User Permission",
			filters={"user": ("in", enabled or [""]), "allow": "Company", "for_value": company},
			pluck="user",
		)
	)
	return sorted(restricted)


def website_permission(doc, ptype=None, user=None, verbose=False):
	"""hooks.has_website_permission: keep ERPNext's portal check from opening another dealer's
	documents to dealer staff. ERPNext lets anyone who can read the doctype see the portal view
	(print included) of any customer's document they can list, and customers are shared across
	dealers; a user restricted to some Companies may only pass for documents of those.

	Frappe grants website permission when every hook of the doctype says yes
	(frappe.has_website_permission), so this hook only narrows where another app's hook decides:
	Guest never passes, and for a doctype no other app checks (Payment Entry has no portal check
	of ERPNext's) it answers no — a lone "yes" here would open the document to anyone."""
	from frappe.permissions import get_user_permissions

	user = user or frappe.session.user
	if user == "Guest" or not doc or not others_decide_website_permission(doc.doctype):
		return False
	allowed = get_user_permissions(user).get("Company")
	if not allowed or not doc.get("company"):
		return True  # not restricted: ERPNext's own check decides
	return doc.company in {row["doc"] for row in allowed}


def others_decide_website_permission(doctype) -> bool:
	"""Whether an app other than ours has a has_website_permission hook for the doctype."""
	hooks = (frappe.get_hooks("has_website_permission") or {}).get(doctype) or []
	return any(not method.startswith("aftersales_dms.") for method in hooks)


def dealer_permission(doc, ptype=None, user=None, debug=False):
	"""hooks.has_permission "*": refuse a document of a Company the user is not allowed, before
	Frappe's User Permission check does. The decision is Frappe's (the same User Permissions,
	`applicable_for` and descendants included, the same exemptions); only the 403 differs: Frappe's
	says the record "is linked to Company 'Orion Motors Pune'", telling one dealer's staff which
	dealer a record they probed belongs to, where this one says only that the document is not
	accessible. None (no opinion) whenever Frappe's own check would decide otherwise."""
	from frappe.core.doctype.user_permission.user_permission import get_user_permissions
	from frappe.permissions import get_allowed_docs_for_doctype

	user = user or frappe.session.user
	company = doc.get("company") if hasattr(doc, "get") else None
	if not company or user == "Administrator":
		return None
	if not doc.get("name") or (hasattr(doc, "is_new") and doc.is_new()):
		return None  # a new document's Company is the client's own input: Frappe's message may name it
	meta = frappe.get_meta(doc.get("doctype"))
	if meta.issingle:
		return None
	field = meta.get_field("company")
	if not field or field.fieldtype != "Link" or field.options != "Company" or field.ignore_user_permissions:
		return None
	if (doc.get("owner") or "").lower() == user.lower():
		return None  # Frappe may still grant the owner's rights: leave it to Frappe
	allowed = get_allowed_docs_for_doctype(get_user_permissions(user).get("Company", []), doc.doctype)
	if not allowed or company in allowed:
		return None
	return False


def check_stored_document(doc, method=None):
	"""doc_events "*" before_validate: permission on the document as it is stored, not only as
	the client changed it. Frappe's set_value, bulk_update and REST PUT load a document, apply
	the client's values and then check write on the result, so a user of one dealer could set
	another dealer's document's company to their own and pass. The stored document must be
	writable by the user too (submit permission for a submit), whatever the client sent."""
	from aftersales_dms.controllers.guards import users_save

	if not users_save(doc) or doc.is_new():
		return
	stored = doc.get_doc_before_save()
	if not stored:
		return
	ptype = "submit" if doc._action == "submit" else "write"
	if not stored.has_permission(ptype):
		frappe.throw(
			frappe._("You may not change {0} {1}.").format(frappe._(doc.doctype), doc.name),
			frappe.PermissionError,
		)
