"""OEM standard templates shared across the dealer network, versioned.

Inspection templates (reception/data/standard_inspection.json) and service packages
(workshop/data/oem_service_packages.json) each carry a version. On install and every migrate:
- a template that is missing is created, stamped with the version and a checksum of its content;
- a template at an older version that nobody changed here (its content still matches the stamped
  checksum) is replaced by the new version;
- a template changed here is left alone, and the timeline says which OEM version was not applied.
"""

import hashlib
import json
import os

import frappe
from frappe import _
from frappe.utils import cint, flt

APP_DIR = os.path.dirname(__file__)


def load(relative_path: str) -> dict:
	with open(os.path.join(APP_DIR, relative_path)) as f:
		return json.load(f)


def checksum(content: dict) -> str:
	return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()[:32]


def version_key(version: str | None) -> tuple:
	return tuple(int(p) if p.isdigit() else p for p in (version or "0").split("."))


def sync_record(doctype: str, name: str, content: dict, version: str, current_content, defaults=None) -> str:
	"""Create or update one template; returns what happened (created/updated/kept/customized)."""
	stamp = checksum(content)  # before Frappe turns the dicts into rows (it adds keys to them)
	content = json.loads(json.dumps(content))
	if not frappe.db.exists(doctype, name):
		doc = frappe.get_doc({"doctype": doctype, **content, **(defaults or {})})
		doc.oem_version, doc.oem_checksum = version, stamp
		doc.insert(ignore_permissions=True)
		return "created"
	doc = frappe.get_doc(doctype, name)
	if version_key(doc.oem_version) >= version_key(version):
		return "kept"
	# changed here since the OEM version it came with (a record made before templates were
	# versioned counts as changed unless it equals the shipped content)
	if checksum(current_content(doc)) != (doc.oem_checksum or stamp):
		note = _("OEM template version {0} was not applied: this template was changed here.").format(version)
		if not frappe.db.exists(
			"Comment", {"reference_doctype": doctype, "reference_name": name, "content": note}
		):
			doc.add_comment("Info", note)
		return "customized"
	doc.update(content)
	if "items" in content:
		doc.set("items", content["items"])
	doc.oem_version, doc.oem_checksum = version, stamp
	doc.flags.ignore_permissions = True
	doc.save()
	return "updated"


# ---- inspection templates
def inspection_content(tpl: dict) -> dict:
	return {
		"template_name": tpl["template_name"],
		"vehicle_category": tpl["vehicle_category"],
		"items": [
			{"section": section, "check_item": item, "mandatory": cint(mandatory)}
			for section, item, mandatory in tpl["items"]
		],
	}


def current_inspection_content(doc) -> dict:
	return {
		"template_name": doc.template_name,
		"vehicle_category": doc.vehicle_category,
		"items": [
			{"section": r.section, "check_item": r.check_item, "mandatory": int(r.mandatory or 0)}
			for r in doc.items
		],
	}


def sync_inspection_templates() -> dict:
	data = load("reception/data/standard_inspection.json")
	for row in data["vehicle_categories"]:
		if not frappe.db.exists("Vehicle Category", row["category_name"]):
			frappe.get_doc({"doctype": "Vehicle Category", **row}).insert(ignore_permissions=True)
	result = {}
	for tpl in data["templates"]:
		content = inspection_content(tpl)
		result[tpl["template_name"]] = sync_record(
			"Vehicle Inspection Template",
			tpl["template_name"],
			content,
			data["version"],
			current_inspection_content,
			defaults={"is_default": 1},
		)
	return result


# ---- service packages
def package_content(pkg: dict) -> dict:
	return {
		"package_name": pkg["package_name"],
		"vehicle_category": pkg.get("vehicle_category"),
		"interval_km": cint(pkg.get("interval_km")),
		"description": pkg.get("description") or None,
		"items": [{"item_code": code, "qty": flt(qty)} for code, qty in pkg["items"]],
	}


def current_package_content(doc) -> dict:
	return {
		"package_name": doc.package_name,
		"vehicle_category": doc.vehicle_category,
		"interval_km": cint(doc.interval_km),
		"description": doc.description or None,
		"items": [{"item_code": r.item_code, "qty": flt(r.qty)} for r in doc.items],
	}


def sync_service_packages() -> dict:
	data = load("workshop/data/oem_service_packages.json")
	result = {}
	for pkg in data["packages"]:
		missing = [code for code, _qty in pkg["items"] if not frappe.db.exists("Item", code)]
		if missing:
			result[pkg["package_name"]] = "waiting for items"  # the OEM's items come with the dealer data
			continue
		result[pkg["package_name"]] = sync_record(
			"Service Package",
			pkg["package_name"],
			package_content(pkg),
			data["version"],
			current_package_content,
		)
	return result


def sync_all() -> dict:
	return {"inspection": sync_inspection_templates(), "packages": sync_service_packages()}
