"""ERPNext's whitelisted functions answer a dealer's staff only for their own dealer (issue #20,
controllers/erpnext_methods.py).

Found by the attack on the demo: logged in as Pune's parts manager, `get_stock_balance`,
`get_bin_details`, `get_valuation_rate` and `get_incoming_rate` answered for a Nashik warehouse;
as Pune's accountant, `get_balance_on` gave Nashik's balances. The test reads ERPNext's source for
every module-level whitelisted function with a dealer argument and requires each to be guarded or
reviewed; every guarded one is called through the endpoint a request reaches
(hooks.override_whitelisted_methods applied, as frappe.handler.execute_cmd does) by Pune's staff
with Nashik's records, and must be refused before it runs.
"""

import ast
import inspect
import json
import os

import erpnext
import frappe
from frappe.tests.utils import FrappeTestCase

from aftersales_dms.controllers import erpnext_methods as em

PUNE, NASHIK = "Orion Motors Pune", "Orion Motors Nashik"
PARTS_PUNE, ACCOUNTS_PUNE, ADVISOR_PUNE = "parts@omp.example", "accounts@omp.example", "advisor@omp.example"
PARTS_NASHIK, ACCOUNTS_NASHIK = "parts@omn.example", "accounts@omn.example"
OEM = "oem.admin@orion-oem.example"
REFUSAL = "You may not read"


def erpnext_whitelisted_with_dealer_arguments() -> dict[str, list[str]]:
	"""Every module-level whitelisted function in ERPNext's source whose parameters name a dealer's
	record (a record argument, a dict argument, or a (DocType, name) pair), with those parameters."""
	root = os.path.dirname(erpnext.__file__)
	found = {}
	for folder, _dirs, files in os.walk(root):
		for file in files:
			if not file.endswith(".py") or file.startswith("test_") or "/patches" in folder:
				continue
			path = os.path.join(folder, file)
			with open(path, encoding="utf-8") as f:
				tree = ast.parse(f.read())
			module = "erpnext." + os.path.relpath(path, root)[:-3].replace(os.sep, ".")
			for node in tree.body:
				if not isinstance(node, ast.FunctionDef):
					continue
				if not any("whitelist" in ast.unparse(d) for d in node.decorator_list):
					continue
				params = [a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs]
				dealer = [p for p in params if p in em.RECORD_ARGS or p in em.DICT_ARGS]
				dealer += [n for t, n in em.PAIR_ARGS if t in params and n in params]
				if dealer:
					found[f"{module}.{node.name}"] = dealer
	return found


def endpoint(method):
	"""What /api/method/<method> runs, as frappe.handler.execute_cmd resolves and checks it."""
	fn = frappe.get_attr(frappe.override_whitelisted_method(method))
	frappe.is_whitelisted(fn)
	return fn


def call_as(user, method, **kwargs):
	"""A request's call: the endpoint with the request's form dict (some ERPNext functions read
	`frappe.form_dict` themselves)."""
	frappe.set_user(user)
	try:
		fn = endpoint(method)
		frappe.local.form_dict = frappe._dict(kwargs)
		return frappe.call(fn, **kwargs)
	finally:
		frappe.local.form_dict = frappe._dict()
		frappe.set_user("Administrator")


def call_original(user, method, **kwargs):
	frappe.set_user(user)
	try:
		frappe.local.form_dict = frappe._dict(kwargs)
		return frappe.call(frappe.get_attr(method), **kwargs)
	finally:
		frappe.local.form_dict = frappe._dict()
		frappe.set_user("Administrator")


def outcome(call, *args, **kwargs):
	"""What a call gives: its answer, or the error it raises (type and message)."""
	try:
		return ("answer", call(*args, **kwargs))
	except Exception as e:
		return ("error", type(e).__name__, str(e))
	finally:
		frappe.clear_messages()


def first(doctype, **filters):
	return frappe.get_all(doctype, filters=filters, pluck="name", order_by="creation", limit=1)[0]


def make_records(company):
	"""A company's records for every kind of argument the guard checks: its own (warehouse, account,
	cost centre, employee) and, made here, a bank account, a serial no and a draft invoice."""
	abbr = frappe.get_cached_value("Company", company, "abbr")
	suffix = frappe.generate_hash(length=6)
	if not frappe.db.exists("Bank", "DMS Probe Bank"):
		frappe.get_doc({"doctype": "Bank", "bank_name": "DMS Probe Bank"}).insert()
	bank_account = frappe.get_doc(
		{
			"doctype": "Bank Account",
			"account_name": f"Probe {abbr} {suffix}",
			"bank": "DMS Probe Bank",
			"company": company,
		}
	).insert()
	item = frappe.get_doc(
		{
			"doctype": "Item",
			"item_code": f"DMS-SN-PROBE-{suffix}",
			"item_group": frappe.db.get_value("Item Group", {"is_group": 0}, "name"),
			"stock_uom": "Nos",
			"has_serial_no": 1,
		}
	).insert()
	serial_no = frappe.get_doc(
		{
			"doctype": "Serial No",
			"serial_no": f"SN-{abbr}-{suffix}",
			"item_code": item.name,
			"company": company,
		}
	).insert()
	invoice = frappe.get_doc(
		{
			"doctype": "Sales Invoice",
			"company": company,
			"customer": first("Customer"),
			"items": [{"item_code": "LAB-DIAG", "qty": 1, "rate": 1100}],
		}
	)
	invoice.set_missing_values()
	invoice.insert()
	order = frappe.get_doc(
		{
			"doctype": "Sales Order",
			"company": company,
			"customer": first("Customer"),
			"delivery_date": frappe.utils.add_days(frappe.utils.today(), 7),
			"items": [{"item_code": "LAB-DIAG", "qty": 1, "rate": 1100}],
		}
	)
	order.set_missing_values()
	order.insert()
	# a bundle's row as a voucher's stock posting leaves it (its own validation needs a whole
	# serialised receipt; the guard reads only its company and voucher)
	bundle = frappe.get_doc(
		{
			"doctype": "Serial and Batch Bundle",
			"company": company,
			"item_code": item.name,
			"voucher_type": "Sales Invoice",
			"voucher_no": invoice.name,
			"type_of_transaction": "Outward",
		}
	)
	bundle.name = f"SABB-PROBE-{abbr}-{suffix}"
	bundle.db_insert()
	warehouse = frappe.db.get_value(
		"Warehouse", {"company": company, "is_group": 0, "name": ["like", "Parts%"]}
	)
	return {
		"Company": company,
		"Warehouse": warehouse,
		"Account": frappe.db.get_value(
			"Account", {"company": company, "account_type": "Receivable", "is_group": 0}
		),
		"Cost Center": frappe.db.get_value("Cost Center", {"company": company, "is_group": 0}),
		"Bank Account": bank_account.name,
		"Serial No": serial_no.name,
		"Employee": first("Employee", company=company),
		"Sales Invoice": invoice.name,
		"Sales Order": order.name,
		"Serial and Batch Bundle": bundle.name,
		"item_code": frappe.db.get_value("Bin", {"warehouse": warehouse}, "item_code") or "LAB-DIAG",
	}


def foreign_arguments(method, records) -> dict:
	"""Arguments the function takes, each naming one of `records` (another dealer's)."""
	params = inspect.signature(frappe.get_attr(method)).parameters
	kwargs = {}
	for arg, doctype in em.RECORD_ARGS.items():
		if arg in params and records.get(doctype):
			kwargs[arg] = records[doctype]
	for type_arg, name_arg in em.PAIR_ARGS:
		if type_arg in params and name_arg in params:
			doctype = "Employee" if name_arg == "party" else "Sales Invoice"
			kwargs[type_arg], kwargs[name_arg] = doctype, records[doctype]
	for arg, sources in em.IMPLIED.get(method, {}).items():
		if arg in params:
			doctype, field = sources[0]
			kwargs[arg] = frappe.db.get_value(doctype, records[doctype], field)
	for arg in em.DICT_ARGS:
		if arg in params:
			kwargs[arg] = json.dumps({"company": records["Company"], "warehouse": records["Warehouse"]})
	return kwargs


class TestClassification(FrappeTestCase):
	def test_every_erpnext_method_with_a_dealer_argument_is_guarded_or_reviewed(self):
		"""A function ERPNext adds (or gives a dealer argument) fails here until classified."""
		found = erpnext_whitelisted_with_dealer_arguments()
		self.assertGreater(len(found), 100)  # the walk read ERPNext's source
		unclassified = sorted(set(found) - set(em.GUARDED) - set(em.REVIEWED))
		self.assertEqual(unclassified, [], "guard each in GUARDED or give the reason in REVIEWED")
		self.assertFalse(set(em.GUARDED) & set(em.REVIEWED))
		for method, reason in em.REVIEWED.items():
			self.assertGreater(len(reason), 20, method)

	def test_every_guarded_method_is_an_erpnext_whitelisted_function_overridden_by_its_wrapper(self):
		found = erpnext_whitelisted_with_dealer_arguments()
		overrides = frappe.get_hooks("override_whitelisted_methods", {})
		for method in em.GUARDED:
			if method not in found:  # its dealer argument's DocType is implied
				self.assertIn(
					method, em.IMPLIED, "no longer an ERPNext whitelisted function with a dealer argument"
				)
			original = frappe.get_attr(method)
			wrapper = endpoint(method)
			self.assertEqual(overrides[method][-1], f"{em.__name__}.{em.wrapper_name(method)}")
			self.assertIsNot(wrapper, original)
			# whitelisted exactly like the original: HTTP methods, guest, XSS-safe
			self.assertEqual(
				frappe.allowed_http_methods_for_whitelisted_func[wrapper],
				frappe.allowed_http_methods_for_whitelisted_func[original],
				method,
			)
			self.assertEqual(wrapper in frappe.guest_methods, original in frappe.guest_methods, method)

	def test_only_guarded_names_resolve_in_the_module(self):
		"""The module makes wrappers for GUARDED only: no path to any other function."""
		for name in ("guarded__frappe__db__sql", "guarded__erpnext__stock__utils__get_stock_value_on"):
			with self.assertRaises(AttributeError):
				getattr(em, name)


class TestDealerArguments(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		frappe.set_user("Administrator")
		cls.pune = make_records(PUNE)
		cls.nashik = make_records(NASHIK)

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.clear_messages()

	def test_every_guarded_method_refuses_another_dealers_records(self):
		"""Pune's parts manager and accountant name Nashik's records to every guarded function: each
		is refused by the guard (our message), before the function runs."""
		not_refused, not_probed = [], []
		for method in em.GUARDED:
			kwargs = foreign_arguments(method, self.nashik)
			if not kwargs:
				not_probed.append(method)
				continue
			for user in (PARTS_PUNE, ACCOUNTS_PUNE):
				try:
					call_as(user, method, **kwargs)
				except frappe.PermissionError as e:
					if REFUSAL not in str(e):
						not_refused.append((method, user, f"another PermissionError: {e}"))
				except Exception as e:
					not_refused.append((method, user, f"{type(e).__name__}: {e}"[:200]))
				else:
					not_refused.append((method, user, "answered"))
				finally:
					frappe.clear_messages()
		self.assertEqual(not_probed, [], "a guarded function with no argument the guard can check")
		self.assertEqual(not_refused, [])

	def test_the_attack(self):
		"""The five functions of the finding, as the roles that would call them."""
		n, item = self.nashik, self.nashik["item_code"]
		stock = {
			"erpnext.stock.utils.get_stock_balance": {"item_code": item, "warehouse": n["Warehouse"]},
			"erpnext.stock.get_item_details.get_bin_details": {
				"item_code": item,
				"warehouse": n["Warehouse"],
				"company": NASHIK,
			},
			"erpnext.stock.get_item_details.get_valuation_rate": {
				"item_code": item,
				"company": NASHIK,
				"warehouse": n["Warehouse"],
			},
			"erpnext.stock.utils.get_incoming_rate": {
				"args": json.dumps(
					{
						"item_code": item,
						"warehouse": n["Warehouse"],
						"company": NASHIK,
						"qty": 1,
						"posting_date": "2026-12-07",
					}
				)
			},
		}
		for method, kwargs in stock.items():
			with self.assertRaisesRegex(frappe.PermissionError, REFUSAL, msg=method):
				call_as(PARTS_PUNE, method, **kwargs)
		for kwargs in (
			{"account": n["Account"]},
			{"company": NASHIK, "party_type": "Customer", "party": first("Customer")},
			{"cost_center": n["Cost Center"]},
		):
			with self.assertRaisesRegex(frappe.PermissionError, REFUSAL, msg=str(kwargs)):
				call_as(ACCOUNTS_PUNE, "erpnext.accounts.utils.get_balance_on", **kwargs)

	def test_a_balance_of_every_dealer_needs_the_dealer(self):
		"""A party's balance with no company, account or cost centre adds up every dealer's ledger."""
		with self.assertRaisesRegex(frappe.PermissionError, "Name your dealer"):
			call_as(
				ACCOUNTS_PUNE,
				"erpnext.accounts.utils.get_balance_on",
				party_type="Customer",
				party=first("Customer"),
			)
		with self.assertRaisesRegex(frappe.PermissionError, "Name your dealer"):
			call_as(PARTS_PUNE, "erpnext.stock.utils.get_latest_stock_qty", item_code=self.pune["item_code"])

	def test_own_dealer_and_the_oem_get_the_original_answer(self):
		"""Each dealer's staff for their own records, and the OEM admin (no company restriction)
		for either dealer's, get exactly what ERPNext's function answers."""
		answered = set()
		for user, records in (
			(PARTS_PUNE, self.pune),
			(ACCOUNTS_PUNE, self.pune),
			(PARTS_NASHIK, self.nashik),
			(ACCOUNTS_NASHIK, self.nashik),
			(OEM, self.nashik),
			(OEM, self.pune),
		):
			item, company, warehouse = records["item_code"], records["Company"], records["Warehouse"]
			calls = (
				("erpnext.stock.utils.get_stock_balance", {"item_code": item, "warehouse": warehouse}),
				(
					"erpnext.stock.get_item_details.get_bin_details",
					{"item_code": item, "warehouse": warehouse, "company": company},
				),
				(
					"erpnext.stock.get_item_details.get_valuation_rate",
					{"item_code": item, "company": company, "warehouse": warehouse},
				),
				(
					"erpnext.stock.utils.get_incoming_rate",
					{
						"args": json.dumps(
							{"item_code": item, "warehouse": warehouse, "qty": 1, "company": company}
						)
					},
				),
				(
					"erpnext.accounts.utils.get_balance_on",
					{"account": records["Account"], "company": company},
				),
				(
					"erpnext.accounts.party.get_party_account",
					{"party_type": "Customer", "party": first("Customer"), "company": company},
				),
				# what the Sales Invoice form asks when the customer is set
				(
					"erpnext.accounts.party.get_party_details",
					{
						"party": first("Customer"),
						"party_type": "Customer",
						"company": company,
						"doctype": "Sales Invoice",
						"posting_date": "2026-12-07",
					},
				),
				# what the Payment Entry form asks
				(
					"erpnext.accounts.doctype.payment_entry.payment_entry.get_party_details",
					{
						"company": company,
						"party_type": "Customer",
						"party": first("Customer"),
						"date": "2026-12-07",
					},
				),
				(
					"erpnext.accounts.doctype.payment_entry.payment_entry.get_account_details",
					{"account": records["Account"], "date": "2026-12-07"},
				),
				(
					"erpnext.accounts.doctype.payment_entry.payment_entry.get_outstanding_reference_documents",
					{
						"args": json.dumps(
							{
								"company": company,
								"party_type": "Customer",
								"party": first("Customer"),
								"party_account": records["Account"],
								"posting_date": "2026-12-07",
							}
						)
					},
				),
				(
					"erpnext.stock.get_item_details.get_item_details",
					{
						"args": json.dumps(
							{
								"item_code": item,
								"company": company,
								"warehouse": warehouse,
								"doctype": "Sales Invoice",
								"customer": first("Customer"),
								"selling_price_list": "Standard Selling",
								"price_list_currency": "INR",
								"plc_conversion_rate": 1,
								"conversion_rate": 1,
								"currency": "INR",
							}
						)
					},
				),
			)
			for method, kwargs in calls:
				expected = outcome(call_original, user, method, **kwargs)
				self.assertEqual(outcome(call_as, user, method, **kwargs), expected, f"{user} {method}")
				if expected[0] == "answer":
					answered.add(method)
		# each function answered someone (not only refusals compared)
		self.assertEqual(answered, {method for method, _kwargs in calls})

	def test_link_search_filters_name_the_users_dealer_only(self):
		"""Frappe's link search runs ERPNext's queries with the form's filters (a warehouse query shows
		each warehouse's stock, a batch query a warehouse's batches): another dealer's company or
		warehouse in them is refused; the own dealer's search is Frappe's."""
		n, p = self.nashik, self.pune
		searches = (
			("Warehouse", "erpnext.controllers.queries.warehouse_query", "company"),
			("Batch", "erpnext.controllers.queries.get_batch_no", "warehouse"),
		)
		for method in em.SEARCH:
			for doctype, query, field in searches:
				value = {"company": NASHIK, "warehouse": n["Warehouse"]}[field]
				for filters in (
					{field: value, "item_code": n["item_code"]},
					json.dumps({field: value, "item_code": n["item_code"]}),
					[[doctype, field, "=", value]],
				):
					with self.assertRaisesRegex(
						frappe.PermissionError, REFUSAL, msg=f"{method} {query} {filters}"
					):
						call_as(PARTS_PUNE, method, doctype=doctype, txt="", query=query, filters=filters)
				own = {"company": PUNE, "warehouse": p["Warehouse"]}[field]
				kwargs = {
					"doctype": doctype,
					"txt": "",
					"query": query,
					"filters": {field: own, "item_code": p["item_code"]},
				}
				self.assertEqual(
					outcome(call_as, PARTS_PUNE, method, **kwargs),
					outcome(call_original, PARTS_PUNE, method, **kwargs),
				)
		# a filter that leaves another dealer's records out names none: Frappe's answer
		for filters in ({"company": ["!=", NASHIK]}, [["Warehouse", "company", "not in", [NASHIK]]]):
			kwargs = {"doctype": "Warehouse", "txt": "", "query": searches[0][1], "filters": filters}
			self.assertEqual(
				outcome(call_as, PARTS_PUNE, "frappe.desk.search.search_link", **kwargs),
				outcome(call_original, PARTS_PUNE, "frappe.desk.search.search_link", **kwargs),
				filters,
			)
		# a plain search of a DocType (Frappe applies the User Permissions) is unchanged
		kwargs = {"doctype": "Warehouse", "txt": "Parts"}
		found = outcome(call_as, PARTS_PUNE, "frappe.desk.search.search_link", **kwargs)
		self.assertEqual(
			found, outcome(call_original, PARTS_PUNE, "frappe.desk.search.search_link", **kwargs)
		)
		self.assertEqual(found[0], "answer")
		self.assertIn(p["Warehouse"], [r["value"] for r in found[1]])

	def test_guest_gets_nothing_from_the_wrappers(self):
		"""A wrapper is whitelisted as its original: Guest may call none of these."""
		frappe.set_user("Guest")
		for method in ("erpnext.stock.utils.get_stock_balance", "erpnext.accounts.utils.get_balance_on"):
			with self.assertRaises(frappe.PermissionError):
				endpoint(method)
