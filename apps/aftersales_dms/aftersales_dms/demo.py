"""The demo dealer network, loaded from <bench>/fixtures/dms_demo.json.

Idempotent: every record is looked up by its natural key first, so running the loader
again changes nothing. Used by `./dms up`, by `./dms test` and by the tests themselves.

Dealers are ERPNext Companies (a dealer is its own legal entity with its own books,
taxes, warehouses and invoices; User Permissions on Company then isolate dealers).
The OEM is a Customer on each dealer's books (warranty is billed to it) and its staff
get the OEM Admin role without a Company restriction.
"""

import json
import os
from datetime import date, timedelta

import frappe
from frappe.utils import add_days, add_years, get_bench_path, getdate, to_timedelta, today

from aftersales_dms import setup
from aftersales_dms.oem_templates import sync_service_packages

DEMO_MARK = "Aftersales DMS demo"
DEMO_PRICE_LIST = "Standard Selling"  # the dealers' selling price list in the demo (Dealer Workshop Settings)


def load_config(fixtures_dir: str | None = None) -> dict:
	path = os.path.join(fixtures_dir or os.path.join(get_bench_path(), "fixtures"), "dms_demo.json")
	if not os.path.exists(path):
		frappe.throw(f"Demo data file not found: {path}")
	with open(path) as f:
		return json.load(f)


def load_demo(fixtures_dir: str | None = None) -> dict:
	cfg = load_config(fixtures_dir)
	frappe.flags.in_demo_load = True
	frappe.set_user("Administrator")
	dealers = cfg["dealers"]
	complete_setup(cfg["setup"], dealers[0])
	setup.after_install()  # item groups need ERPNext's trees, which the setup wizard creates
	companies = {d["abbr"]: make_dealer(d, cfg["setup"]) for d in dealers}
	oem = make_oem(cfg["oem"])
	for company in companies.values():
		set_bill_to_parties(company, oem)
	for row in cfg["vehicle_categories"]:
		upsert("Vehicle Category", row["category_name"], row)
	for skill, description in cfg["skills"]:
		upsert("Service Skill", skill, {"skill_name": skill, "description": description})
	for user in cfg["users"]:
		make_user(user, companies, cfg["demo_password"])
	for tech in cfg["technicians"]:
		make_technician(tech, companies, cfg["demo_password"])
	for item in cfg["labour_items"]:
		make_labour_item(item)
	for item in cfg["parts_items"]:
		make_part(item, companies)
	for abbr, company in companies.items():
		make_opening_stock(company, parts_warehouse(abbr), cfg["parts_items"])
	for customer in cfg["customers"]:
		make_customer(customer, companies)
	make_outbox(cfg["outbox"])
	make_sms_gateway(cfg["sms_gateway"])
	for campaign in cfg["recall_campaigns"]:
		make_recall_campaign(campaign)
	sync_service_packages()  # the OEM's packages need the items made above
	make_appointments(cfg["appointments"], companies)
	frappe.flags.in_demo_load = False
	return {
		"dealers (Company)": ", ".join(companies.values()),
		"users": len(cfg["users"]) + len(cfg["technicians"]),
		"technicians": frappe.db.count("Service Technician"),
		"service bays": frappe.db.count("Service Bay"),
		"labour items": frappe.db.count("Item", {"dms_item_kind": "Labour"}),
		"parts items": frappe.db.count("Item", {"dms_item_kind": "Part"}),
		"customers": frappe.db.count("Customer"),
		"vehicles": frappe.db.count("Customer Vehicle"),
		"appointments": frappe.db.count("Service Appointment"),
	}


def demo_users() -> list[tuple[str, str, str]]:
	cfg = load_config()
	names = {d["abbr"]: d["company_name"] for d in cfg["dealers"]}
	rows = [(u["email"], ", ".join(u["roles"]), names.get(u["dealer"], "all dealers")) for u in cfg["users"]]
	rows += [(t["email"], "Technician", names[t["dealer"]]) for t in cfg["technicians"]]
	return rows


def upsert(doctype: str, name: str, values: dict):
	"""Insert a record under its natural key, or return the existing one untouched."""
	if frappe.db.exists(doctype, name):
		return frappe.get_doc(doctype, name)
	doc = frappe.get_doc({"doctype": doctype, **values})
	doc.insert(ignore_permissions=True)
	return doc


def fiscal_year_dates(month_day: str) -> tuple[date, date]:
	month, day = (int(x) for x in month_day.split("-"))
	now = getdate(today())
	start = date(now.year, month, day)
	if start > now:
		start = date(now.year - 1, month, day)
	return start, getdate(add_days(add_years(start, 1), -1))


def complete_setup(cfg: dict, dealer: dict):
	from frappe.desk.page.setup_wizard.setup_wizard import setup_complete

	if frappe.db.get_single_value("System Settings", "setup_complete"):
		return
	fy_start, fy_end = fiscal_year_dates(cfg["fy_start_month_day"])
	result = setup_complete(
		{
			"language": cfg["language"],
			"country": cfg["country"],
			"timezone": cfg["timezone"],
			"currency": cfg["currency"],
			"full_name": "Administrator",
			"email": "admin@aftersales-dms.example",
			"company_name": dealer["company_name"],
			"company_abbr": dealer["abbr"],
			"chart_of_accounts": cfg["chart_of_accounts"],
			"fy_start_date": str(fy_start),
			"fy_end_date": str(fy_end),
			"setup_demo": 0,
		}
	)
	if not frappe.db.get_single_value("System Settings", "setup_complete"):
		frappe.throw(f"ERPNext setup wizard did not complete: {result}")
	frappe.db.commit()  # the rest of the loader needs the wizard's records


def make_dealer(dealer: dict, cfg: dict) -> str:
	name, abbr = dealer["company_name"], dealer["abbr"]
	if not frappe.db.exists("Company", name):
		frappe.get_doc(
			{
				"doctype": "Company",
				"company_name": name,
				"abbr": abbr,
				"default_currency": cfg["currency"],
				"country": cfg["country"],
				"create_chart_of_accounts_based_on": "Standard Template",
				"chart_of_accounts": cfg["chart_of_accounts"],
			}
		).insert(ignore_permissions=True)
	warehouse = parts_warehouse(abbr)
	if not frappe.db.exists("Warehouse", warehouse):
		frappe.get_doc(
			{
				"doctype": "Warehouse",
				"warehouse_name": "Parts Store",
				"company": name,
				"parent_warehouse": f"All Warehouses - {abbr}",
			}
		).insert(ignore_permissions=True)
	set_workshop_settings(
		name,
		{
			"workshop_opens": dealer["workshop_opens"],
			"workshop_closes": dealer["workshop_closes"],
			"slot_minutes": dealer["slot_minutes"],
			"parts_warehouse": parts_warehouse(abbr),
			"wip_warehouse": f"Work In Progress - {abbr}",
			"selling_price_list": DEMO_PRICE_LIST,
		},
	)
	make_sales_tax_template(name, abbr, dealer["tax_rate"])
	make_letter_head(name, dealer.get("city"))
	for bay_name, bay_type in dealer["bays"]:
		upsert("Service Bay", bay_name, {"bay_name": bay_name, "company": name, "bay_type": bay_type})
	return name


def make_letter_head(company: str, city: str | None):
	"""The dealer's letterhead, the Company's default: ERPNext puts it on the dealer's quotations
	and invoices, so the estimate and invoice prints carry it."""
	if not frappe.db.exists("Letter Head", company):
		frappe.get_doc(
			{
				"doctype": "Letter Head",
				"letter_head_name": company,
				"source": "HTML",
				"content": f'<div class="dms-letter-head"><h2 style="margin:0">{frappe.utils.escape_html(company)}</h2>'
				f"<p>{frappe.utils.escape_html(city or '')} · Authorised service</p></div>",
			}
		).insert(ignore_permissions=True)
	if frappe.db.get_value("Company", company, "default_letter_head") != company:
		frappe.db.set_value("Company", company, "default_letter_head", company)


def parts_warehouse(abbr: str) -> str:
	return f"Parts Store - {abbr}"


def make_sales_tax_template(company: str, abbr: str, rate: float):
	account_name = f"Output GST {rate:g}%"
	account = f"{account_name} - {abbr}"
	if not frappe.db.exists("Account", account):
		frappe.get_doc(
			{
				"doctype": "Account",
				"account_name": account_name,
				"company": company,
				"parent_account": f"Duties and Taxes - {abbr}",
				"account_type": "Tax",
				"tax_rate": rate,
			}
		).insert(ignore_permissions=True)
	title = f"Service GST {rate:g}%"
	if not frappe.db.exists("Sales Taxes and Charges Template", f"{title} - {abbr}"):
		frappe.get_doc(
			{
				"doctype": "Sales Taxes and Charges Template",
				"title": title,
				"company": company,
				"is_default": 1,
				"taxes": [
					{
						"charge_type": "On Net Total",
						"account_head": account,
						"description": f"GST @ {rate:g}%",
						"rate": rate,
					}
				],
			}
		).insert(ignore_permissions=True)


def make_oem(oem: dict):
	group = oem["customer_group"]
	if not frappe.db.exists("Customer Group", group):
		frappe.get_doc(
			{
				"doctype": "Customer Group",
				"customer_group_name": group,
				"parent_customer_group": "All Customer Groups",
			}
		).insert(ignore_permissions=True)
	if not frappe.db.exists("Customer", {"customer_name": oem["customer_name"]}):
		frappe.get_doc(
			{
				"doctype": "Customer",
				"customer_name": oem["customer_name"],
				"customer_type": "Company",
				"customer_group": group,
				"territory": "All Territories",
				"email_id": oem["email"],
			}
		).insert(ignore_permissions=True)
	# the OEM also supplies the dealers' parts (their Purchase Receipts)
	if not frappe.db.exists("Supplier", {"supplier_name": oem["customer_name"]}):
		frappe.get_doc(
			{
				"doctype": "Supplier",
				"supplier_name": oem["customer_name"],
				"supplier_type": "Company",
				"supplier_group": "Distributor"
				if frappe.db.exists("Supplier Group", "Distributor")
				else "All Supplier Groups",
			}
		).insert(ignore_permissions=True)
	return frappe.db.get_value("Customer", {"customer_name": oem["customer_name"]})


def set_bill_to_parties(company: str, oem_customer: str):
	"""Warranty lines go to the OEM; internal lines to the dealer's own internal customer."""
	internal = f"{company} (Internal)"
	if not frappe.db.exists("Customer", {"customer_name": internal}):
		frappe.get_doc(
			{
				"doctype": "Customer",
				"customer_name": internal,
				"customer_type": "Company",
				"customer_group": "Commercial",
				"territory": "All Territories",
			}
		).insert(ignore_permissions=True)
	set_workshop_settings(
		company,
		{
			"oem_customer": oem_customer,
			"internal_customer": frappe.db.get_value("Customer", {"customer_name": internal}),
		},
	)


def set_workshop_settings(company: str, values: dict):
	"""The dealer's Dealer Workshop Settings with these values (saved only when they differ;
	the labour billing mode and other fields a user changed are kept)."""
	if frappe.db.exists("Dealer Workshop Settings", company):
		doc = frappe.get_doc("Dealer Workshop Settings", company)
	else:
		doc = frappe.new_doc("Dealer Workshop Settings")
		doc.company = company
	if doc.is_new() or any(not same_value(doc.get(k), v) for k, v in values.items()):
		doc.update(values)
		doc.save(ignore_permissions=True)


def same_value(stored, wanted) -> bool:
	if isinstance(stored, timedelta) or isinstance(wanted, timedelta):  # Time fields
		return to_timedelta(stored) == to_timedelta(wanted)
	return str(stored or "") == str(wanted or "")


def make_user(row: dict, companies: dict, password: str, extra_roles=()):
	email = row["email"]
	if not frappe.db.exists("User", email):
		user = frappe.get_doc(
			{
				"doctype": "User",
				"email": email,
				"first_name": row["first_name"],
				"last_name": row.get("last_name"),
				"send_welcome_email": 0,
				"user_type": "System User",
				"new_password": password,
			}
		)
		user.insert(ignore_permissions=True)
		user.add_roles(*row.get("roles", []), *extra_roles)
	company = companies.get(row.get("dealer"))
	if company and not frappe.db.exists(
		"User Permission", {"user": email, "allow": "Company", "for_value": company}
	):
		frappe.get_doc(
			{
				"doctype": "User Permission",
				"user": email,
				"allow": "Company",
				"for_value": company,
				"apply_to_all_doctypes": 1,
				"is_default": 1,
			}
		).insert(ignore_permissions=True)
	return email


def make_technician(row: dict, companies: dict, password: str):
	company = companies[row["dealer"]]
	user = make_user(row, companies, password, extra_roles=("Technician",))
	employee = frappe.db.get_value("Employee", {"user_id": user})
	if not employee:
		employee = (
			frappe.get_doc(
				{
					"doctype": "Employee",
					"first_name": row["first_name"],
					"last_name": row.get("last_name"),
					"gender": "Male",
					"date_of_birth": "1990-01-01",
					"date_of_joining": "2020-01-01",
					"company": company,
					"user_id": user,
					"status": "Active",
				}
			)
			.insert(ignore_permissions=True)
			.name
		)
	if not frappe.db.exists("Service Technician", employee):
		frappe.get_doc(
			{
				"doctype": "Service Technician",
				"employee": employee,
				"shift_start": row["shift"][0],
				"shift_end": row["shift"][1],
				"skills": [{"skill": skill, "level": level} for skill, level in row["skills"]],
			}
		).insert(ignore_permissions=True)


def set_selling_price(item_code: str, rate: float):
	if not frappe.db.exists("Item Price", {"item_code": item_code, "price_list": DEMO_PRICE_LIST}):
		frappe.get_doc(
			{
				"doctype": "Item Price",
				"item_code": item_code,
				"price_list": DEMO_PRICE_LIST,
				"price_list_rate": rate,
			}
		).insert(ignore_permissions=True)


def make_labour_item(row: dict):
	upsert(
		"Item",
		row["item_code"],
		{
			"item_code": row["item_code"],
			"item_name": row["item_name"],
			"item_group": "DMS Labour",
			"stock_uom": "Hour",
			"is_stock_item": 0,
			"include_item_in_manufacturing": 0,
			"dms_item_kind": "Labour",
			"dms_op_code": row["op_code"],
			"dms_standard_hours": row["hours"],
			"dms_required_skill": row["skill"],
		},
	)
	set_selling_price(row["item_code"], row["rate"])


def make_part(row: dict, companies: dict):
	upsert(
		"Item",
		row["item_code"],
		{
			"item_code": row["item_code"],
			"item_name": row["item_name"],
			"item_group": "DMS Parts",
			"stock_uom": row["uom"],
			"is_stock_item": 1,
			"valuation_rate": row["valuation_rate"],
			"dms_item_kind": "Part",
			"item_defaults": [
				{"company": company, "default_warehouse": parts_warehouse(abbr)}
				for abbr, company in companies.items()
			],
		},
	)
	set_selling_price(row["item_code"], row["rate"])


def make_opening_stock(company: str, warehouse: str, parts: list[dict]):
	items = [
		{
			"item_code": p["item_code"],
			"warehouse": warehouse,
			"qty": p["opening_qty"],
			"valuation_rate": p["valuation_rate"],
		}
		for p in parts
		if p["opening_qty"] > 0
		and not frappe.db.exists("Stock Ledger Entry", {"item_code": p["item_code"], "warehouse": warehouse})
	]
	if not items:
		return
	abbr = frappe.get_cached_value("Company", company, "abbr")
	reco = frappe.get_doc(
		{
			"doctype": "Stock Reconciliation",
			"company": company,
			"purpose": "Opening Stock",
			"posting_date": today(),
			"expense_account": f"Temporary Opening - {abbr}",
			"cost_center": frappe.get_cached_value("Company", company, "cost_center"),
			"items": items,
		}
	)
	reco.insert(ignore_permissions=True)
	reco.submit()


def make_outbox(row: dict):
	"""The demo's default outgoing Email Account (a local SMTP sink; see fixtures)."""
	if frappe.db.exists("Email Account", row["email_account_name"]):
		return
	account = frappe.get_doc(
		{
			"doctype": "Email Account",
			"email_account_name": row["email_account_name"],
			"email_id": row["email_id"],
			"smtp_server": row["smtp_server"],
			"smtp_port": row["smtp_port"],
			"use_tls": 0,
			"no_smtp_authentication": 1,
			"enable_outgoing": 1,
			"default_outgoing": not frappe.db.exists("Email Account", {"default_outgoing": 1}),
		}
	)
	account.flags.ignore_validate = True  # the sink runs only while the bench is up: no connection test now
	account.insert(ignore_permissions=True)


def make_sms_gateway(row: dict):
	if not frappe.db.get_single_value("Aftersales Settings", "sms_reference_parameter"):
		frappe.db.set_single_value(
			"Aftersales Settings", "sms_reference_parameter", row["reference_parameter"]
		)
	settings = frappe.get_doc("SMS Settings")
	if settings.sms_gateway_url:
		return
	settings.sms_gateway_url = row["sms_gateway_url"]
	settings.message_parameter = row["message_parameter"]
	settings.receiver_parameter = row["receiver_parameter"]
	settings.set("parameters", [{"parameter": "sender", "value": row["sender"]}])
	settings.save(ignore_permissions=True)


def make_customer(row: dict, companies: dict):
	company = companies[row["dealer"]]
	customer = frappe.db.get_value("Customer", {"customer_name": row["customer_name"]})
	if not customer:
		customer = (
			frappe.get_doc(
				{
					"doctype": "Customer",
					"customer_name": row["customer_name"],
					"customer_type": row["customer_type"],
					"customer_group": row["customer_group"],
					"territory": "All Territories",
					"mobile_no": row["mobile_no"],
					"email_id": row["email_id"],
				}
			)
			.insert(ignore_permissions=True)
			.name
		)
	for v in row["vehicles"]:
		if frappe.db.exists("Customer Vehicle", v["vin"]):
			continue
		vehicle = frappe.get_doc(
			{
				"doctype": "Customer Vehicle",
				"vin": v["vin"],
				"registration_plate": v["registration_plate"],
				"vehicle_category": v["category"],
				"make": v["make"],
				"model": v["model"],
				"variant": v["variant"],
				"year": v["year"],
				"fuel_type": v["fuel_type"],
				"colour": v["colour"],
				"customer": customer,
				"company": company,
			}
		)
		if v["warranty_years"]:
			vehicle.warranty_start = date(v["year"], 6, 1)
			vehicle.warranty_end = add_years(vehicle.warranty_start, v["warranty_years"])
		vehicle.add_odometer_reading(v["odometer"], reading_date=f"{getdate(today()).year}-01-15 10:00:00")
		vehicle.insert(ignore_permissions=True)


def make_recall_campaign(row: dict):
	upsert(
		"Recall Campaign",
		row["campaign_code"],
		{
			**{k: v for k, v in row.items() if k != "remedy_items"},
			"remedy_items": [{"item_code": item, "qty": qty} for item, qty in row["remedy_items"]],
		},
	)


def make_appointments(rows: list[dict], companies: dict):
	"""Appointments for the coming week, booked into free slots; skipped once a dealer has any."""
	from aftersales_dms.booking.capacity import find_slots

	start = add_days(today(), 1)
	for abbr, company in companies.items():
		if frappe.db.exists("Service Appointment", {"company": company, "preferred_date": (">=", start)}):
			continue
		for row in (r for r in rows if r["dealer"] == abbr):
			day = add_days(today(), row["day"])
			slots = find_slots(company, day, add_days(day, 2), services=row["services"], limit=1)
			if not slots:
				continue
			customer = frappe.db.get_value("Customer", {"customer_name": row["customer"]})
			appt = frappe.get_doc(
				{
					"doctype": "Service Appointment",
					"company": company,
					"channel": row["channel"],
					"customer": customer,
					"vehicle": row["vehicle"],
					"concerns": row["concerns"],
					"preferred_date": day,
					"scheduled_start": slots[0]["start"],
					"service_bay": slots[0]["service_bay"],
					"technician": slots[0]["technician"],
					"services": [{"item_code": s} for s in row["services"]],
				}
			).insert(ignore_permissions=True)
			if row["confirm"]:
				# loaded like a data import: no confirmation emails/SMS to fictitious customers
				frappe.flags.in_import, frappe.flags.mute_emails = True, True
				try:
					appt.confirm()
				finally:
					frappe.flags.in_import, frappe.flags.mute_emails = False, False
