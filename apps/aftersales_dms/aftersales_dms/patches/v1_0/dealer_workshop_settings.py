"""Move the dealer's workshop settings off Company into Dealer Workshop Settings.

Until v1.0 they were custom fields on Company (section "Aftersales Workshop"). Their Link
fields (warehouses, customers) made ERPNext's test runner build Warehouse and Customer test
records before `_Test Company`, so ERPNext's own tests could not run beside our app. Each
Company that holds any of the values gets a record with them (as they were: the values were
accepted under the old rules, the form checks them on the next save); then the custom
fields, their Property Setters and their columns are removed from Company.
"""

import frappe

# the custom fields as v1.0 shipped them on Company (kept for the patch's test)
OLD_COMPANY_FIELDS = [
	{
		"fieldname": "dms_workshop_section",
		"fieldtype": "Section Break",
		"label": "Aftersales Workshop",
		"insert_after": "default_holiday_list",
		"collapsible": 1,
	},
	{
		"fieldname": "dms_workshop_opens",
		"fieldtype": "Time",
		"label": "Workshop Opens",
		"default": "09:00:00",
		"insert_after": "dms_workshop_section",
	},
	{
		"fieldname": "dms_workshop_closes",
		"fieldtype": "Time",
		"label": "Workshop Closes",
		"default": "18:00:00",
		"insert_after": "dms_workshop_opens",
	},
	{
		"fieldname": "dms_parts_warehouse",
		"fieldtype": "Link",
		"label": "Parts Store Warehouse",
		"options": "Warehouse",
		"insert_after": "dms_workshop_closes",
	},
	{
		"fieldname": "dms_wip_warehouse",
		"fieldtype": "Link",
		"label": "Workshop WIP Warehouse",
		"options": "Warehouse",
		"insert_after": "dms_parts_warehouse",
		"description": "Parts issued to job cards wait here until invoiced",
	},
	{
		"fieldname": "dms_oem_customer",
		"fieldtype": "Link",
		"label": "OEM (Warranty Bill-To)",
		"options": "Customer",
		"insert_after": "dms_wip_warehouse",
		"description": "Warranty lines of job cards are invoiced to this customer",
	},
	{
		"fieldname": "dms_internal_customer",
		"fieldtype": "Link",
		"label": "Internal Bill-To",
		"options": "Customer",
		"insert_after": "dms_oem_customer",
		"description": "Internal lines (used cars, goodwill, demo fleet) are invoiced to this customer",
	},
	{
		"fieldname": "dms_labour_billing",
		"fieldtype": "Select",
		"label": "Bill Labour By",
		"options": "Sold Hours\nClocked Hours",
		"default": "Sold Hours",
		"insert_after": "dms_internal_customer",
		"description": "Sold: the standard hours of each operation. Clocked: the hours technicians clocked",
	},
	{
		"fieldname": "dms_slot_minutes",
		"fieldtype": "Int",
		"label": "Booking Slot (minutes)",
		"default": "30",
		"non_negative": 1,
		"insert_after": "dms_workshop_closes",
	},
]

# old Company column -> Dealer Workshop Settings field
MOVED = {df["fieldname"]: df["fieldname"].removeprefix("dms_") for df in OLD_COMPANY_FIELDS}
MOVED.pop("dms_workshop_section")
DEFAULTS = {
	"workshop_opens": "09:00:00",
	"workshop_closes": "18:00:00",
	"slot_minutes": 30,
	"labour_billing": "Sold Hours",
}


def execute():
	columns = [c for c in MOVED if frappe.db.has_column("Company", c)]
	if columns:
		move_values(columns)
	for df in OLD_COMPANY_FIELDS:
		for name in frappe.get_all(
			"Custom Field", filters={"dt": "Company", "fieldname": df["fieldname"]}, pluck="name"
		):
			frappe.delete_doc("Custom Field", name, ignore_permissions=True, force=True)
		frappe.db.delete("Property Setter", {"doc_type": "Company", "field_name": df["fieldname"]})
	for column in columns:
		frappe.db.sql_ddl(f"alter table `tabCompany` drop column `{column}`")
	frappe.cache.hdel("table_columns", "tabCompany")  # Frappe's cached column list
	frappe.clear_cache(doctype="Company")


def move_values(columns: list[str]):
	select = ", ".join(f"`{c}`" for c in columns)
	for row in frappe.db.sql(f"select name, {select} from `tabCompany`", as_dict=True):
		values = {MOVED[c]: row[c] for c in columns if row[c] not in (None, "")}
		if not values or frappe.db.exists("Dealer Workshop Settings", {"company": row.name}):
			continue
		doc = frappe.new_doc("Dealer Workshop Settings")
		doc.update({**DEFAULTS, **values, "company": row.name})
		doc.flags.ignore_validate = True
		doc.insert(ignore_permissions=True, ignore_links=True)
