"""Our app beside ERPNext's own tests (README, "ERPNext's own tests beside ours").

Frappe's test runner builds test records for every DocType a tested DocType links to, custom
fields included. Our custom fields on ERPNext DocTypes may therefore link only to our own
DocTypes, and the runner must stop there (tests/runner_deps.py), so that ERPNext's tests walk
the same DocTypes in the same order with our app as without it. The dealer's workshop settings
left Company for Dealer Workshop Settings for this reason; the patch that moved them is tested
here too.
"""

import frappe
import pytest
from frappe.custom.doctype.custom_field.custom_field import create_custom_fields
from frappe.custom.doctype.property_setter.property_setter import make_property_setter
from frappe.test_runner import get_dependencies, get_modules
from frappe.tests.utils import FrappeTestCase

from aftersales_dms.patches.v1_0 import dealer_workshop_settings as patch
from aftersales_dms.setup import get_custom_fields

LINKS = ("Link", "Table", "Table MultiSelect")


def app_doctypes() -> set[str]:
	modules = frappe.get_module_list("aftersales_dms")
	return set(frappe.get_all("DocType", filters={"module": ("in", modules)}, pluck="name"))


def ours(df) -> bool:
	return bool(df.get("is_custom_field")) and df.fieldname.startswith("dms_")


def standard_dependencies(doctype: str) -> set[str]:
	"""What frappe.test_runner.get_dependencies returns for `doctype` without our custom fields."""
	_module, test_module = get_modules(doctype)
	meta = frappe.get_meta(doctype)
	links = [df for df in meta.get_link_fields() if not ours(df)]
	for df in meta.get_table_fields():
		if not ours(df):
			links += [d for d in frappe.get_meta(df.options).get_link_fields() if not ours(d)]
	deps = {df.options for df in links} | {doctype} | set(getattr(test_module, "test_dependencies", ()))
	return deps - set(getattr(test_module, "test_ignore", ()))


class TestCustomFieldsOnERPNext(FrappeTestCase):
	def test_company_has_no_custom_field_of_ours(self):
		self.assertNotIn("Company", get_custom_fields())
		fields = [df.fieldname for df in frappe.get_meta("Company").fields if df.fieldname.startswith("dms_")]
		self.assertEqual(fields, [])
		self.assertFalse(frappe.db.exists("Custom Field", {"dt": "Company", "fieldname": ("like", "dms_%")}))

	def test_custom_links_on_erpnext_doctypes_point_to_our_doctypes(self):
		app = app_doctypes()
		declared = [
			(dt, df["fieldname"], df["options"])
			for dt, fields in get_custom_fields().items()
			for df in fields
			if df["fieldtype"] in LINKS
		]
		installed = frappe.get_all(
			"Custom Field",
			filters={"fieldname": ("like", "dms_%"), "fieldtype": ("in", LINKS)},
			fields=["dt", "fieldname", "options"],
			as_list=True,
		)
		self.assertTrue(declared)
		self.assertEqual(sorted(declared), sorted(tuple(row) for row in installed))
		outside = [(dt, f, options) for dt, f, options in declared if dt not in app and options not in app]
		self.assertEqual(outside, [])

	def test_runner_walks_the_same_erpnext_doctypes_with_our_fields(self):
		app = app_doctypes()
		extended = sorted(dt for dt in get_custom_fields() if dt not in app)
		for doctype in extended:
			with self.subTest(doctype=doctype):
				self.assertEqual(set(get_dependencies(doctype)) - app, standard_dependencies(doctype))

	def test_runner_stops_at_our_doctypes(self):
		targets = {
			df["options"]
			for fields in get_custom_fields().values()
			for df in fields
			if df["fieldtype"] in LINKS
		}
		self.assertIn("Service Job Card", targets)
		for doctype in sorted(targets):
			with self.subTest(doctype=doctype):
				self.assertEqual(get_dependencies(doctype), [doctype])


COMPANY = "Orion Motors Nashik"


@pytest.mark.commits
def test_patch_moves_company_fields_to_dealer_workshop_settings():
	"""A site from before the move: the values on Company's custom fields land in the dealer's
	Dealer Workshop Settings; the fields, their Property Setters and columns leave Company."""
	saved = frappe.get_doc("Dealer Workshop Settings", COMPANY).as_dict()
	before = set(frappe.get_all("Dealer Workshop Settings", pluck="name"))
	old = {
		"dms_workshop_opens": "08:30:00",
		"dms_workshop_closes": "19:00:00",
		"dms_slot_minutes": 20,
		"dms_parts_warehouse": "Parts Store - OMN",
		"dms_wip_warehouse": "Work In Progress - OMN",
		"dms_oem_customer": saved.oem_customer,
		"dms_internal_customer": saved.internal_customer,
		"dms_labour_billing": "Clocked Hours",
	}
	try:
		frappe.delete_doc("Dealer Workshop Settings", COMPANY, ignore_permissions=True, force=True)
		create_custom_fields({"Company": patch.OLD_COMPANY_FIELDS}, ignore_validate=True)
		make_property_setter(
			"Company", "dms_slot_minutes", "hidden", 1, "Check", validate_fields_for_doctype=False
		)
		frappe.db.set_value("Company", COMPANY, dict(old))  # set_value adds "modified" to its dict
		frappe.db.commit()
		assert frappe.get_meta("Company").get_field("dms_parts_warehouse")

		patch.execute()
		frappe.db.commit()

		moved = frappe.get_doc("Dealer Workshop Settings", COMPANY)
		assert {f: moved.get(f.removeprefix("dms_")) for f in old} == {
			**old,
			"dms_workshop_opens": frappe.utils.to_timedelta("08:30:00"),
			"dms_workshop_closes": frappe.utils.to_timedelta("19:00:00"),
		}
		assert (
			frappe.get_doc("Dealer Workshop Settings", "Orion Motors Pune").parts_warehouse
			== "Parts Store - OMP"
		)
		assert not frappe.get_all("Custom Field", filters={"dt": "Company", "fieldname": ("like", "dms_%")})
		assert not frappe.get_all(
			"Property Setter", filters={"doc_type": "Company", "field_name": ("like", "dms_%")}
		)
		assert not [c for c in frappe.db.get_table_columns("Company") if c.startswith("dms_")]
		assert not [df for df in frappe.get_meta("Company").fields if df.fieldname.startswith("dms_")]
		patch.execute()  # run twice (a re-run migrate): nothing left to move, nothing fails
		assert frappe.db.get_value("Dealer Workshop Settings", COMPANY, "slot_minutes") == 20
	finally:
		try:
			patch.execute()  # never leave the old fields behind, whatever failed above
		finally:
			for name in set(frappe.get_all("Dealer Workshop Settings", pluck="name")) - before:
				frappe.delete_doc("Dealer Workshop Settings", name, ignore_permissions=True, force=True)
			if frappe.db.exists("Dealer Workshop Settings", COMPANY):
				frappe.delete_doc("Dealer Workshop Settings", COMPANY, ignore_permissions=True, force=True)
			frappe.get_doc({**saved, "doctype": "Dealer Workshop Settings"}).insert(ignore_permissions=True)
			frappe.db.commit()
