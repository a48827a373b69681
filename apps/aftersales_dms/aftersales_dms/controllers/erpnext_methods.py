"""ERPNext's whitelisted functions answer for the dealer a user names (issue #20).

ERPNext's `get_stock_balance`, `get_bin_details`, `get_valuation_rate`, `get_incoming_rate`,
`get_balance_on` … read the ledgers for the warehouse, account or company in their arguments and
check no User Permission: a Pune parts manager asking for a Nashik warehouse got its stock, a Pune
accountant Nashik's balances. Dealers are kept apart by the User Permission on Company
(controllers/dealer.py); this module carries that decision to those functions.

**The rule.** For a user restricted to some Companies (`report_access.allowed_companies`), every
ERPNext whitelisted function in `GUARDED` (hooks.override_whitelisted_methods points each at its
wrapper here) refuses, with a PermissionError and before the function runs, a call whose
arguments name a record of another dealer:

- a Company, or a record of a DocType with a `company` field named by an argument of a known
  DocType (`RECORD_ARGS`: warehouses, accounts, cost centres, bank accounts, serial nos, serial and
  batch bundles), or by a (DocType, name) pair (`PAIR_ARGS`: a voucher, a reference, a
  `dt`/`dn`, a party — an Employee is a company's; a Customer or Supplier is the network's);
- the same names inside a dict argument (`DICT_ARGS`: `args` as the item and payment forms send
  it, and `filters` as link queries get them; a JSON string or a dict, the dicts and lists in it,
  and Frappe's list filters with `=` or `in`);
- a record of a DocType the function implies, with no DocType argument beside it (`IMPLIED`);
- a function that, without one of its dealer arguments, would add up every dealer's ledgers
  (`REQUIRED`, e.g. a party's balance with no company or account) needs one of them.

A record that does not exist is left to the function (it has nothing of another dealer to show),
and a name is refused without saying whose it is. Users without a company restriction (the OEM
admin, Administrator) and Guest are unaffected, and the wrapper then calls the original with the
same arguments (through `frappe.call`, which passes it the arguments it takes, as Frappe's handler
does) and returns its answer unchanged. A wrapper is whitelisted exactly like its original (HTTP
methods, guest, XSS-safe), so the override changes nothing but the dealer check.

**Which functions.** `tests/test_erpnext_methods.py` reads ERPNext's source and lists every
module-level whitelisted function with a parameter named in `ENUMERATED_PARAMS`; each must be in
`GUARDED` or in `REVIEWED` with the reason it needs no guard, so a function ERPNext adds later
fails the test until someone classifies it. A bare `docname`/`name`/`source_name` (a document of
the function's own DocType, which it reads with `get_doc` or maps with `get_mapped_doc`, Frappe's
read check) is not among those parameters.

ERPNext's link queries (`erpnext.controllers.queries` …) are also run by Frappe's link search,
which resolves the query itself, not through `override_whitelisted_methods`: `search_link` and
`search_widget` (`SEARCH`) are overridden the same way, so their `filters` are checked whatever
query they name (Frappe's own search of a DocType already applies User Permissions).
"""

import json

import frappe
from frappe import _

# argument name -> the DocType it names
RECORD_ARGS = {
	"company": "Company",
	**dict.fromkeys(
		(
			"warehouse",
			"source_warehouse",
			"target_warehouse",
			"s_warehouse",
			"t_warehouse",
			"from_warehouse",
			"to_warehouse",
			"set_warehouse",
			"set_target_warehouse",
			"set_from_warehouse",
			"default_warehouse",
		),
		"Warehouse",
	),
	**dict.fromkeys(("account", "paid_from", "paid_to", "party_account"), "Account"),
	"cost_center": "Cost Center",
	"bank_account": "Bank Account",
	"serial_no": "Serial No",
	"batch_no": "Batch",
	"serial_and_batch_bundle": "Serial and Batch Bundle",
}
# (argument naming a DocType, argument naming a record of it)
PAIR_ARGS = (
	("voucher_type", "voucher_no"),
	("reference_doctype", "reference_name"),
	("against_voucher_type", "against_voucher"),
	("dt", "dn"),
	("doctype", "docname"),
	("party_type", "party"),
)
# arguments that carry a dict of such names (a JSON string or a dict, or Frappe's list filters)
DICT_ARGS = ("args", "filters")
# the parameters that make an ERPNext whitelisted function one to classify (the test's list)
ENUMERATED_PARAMS = frozenset(RECORD_ARGS) | {name for _type, name in PAIR_ARGS} | set(DICT_ARGS)

# Functions that read every dealer's ledgers when none of these arguments is given: a restricted
# user must give one (then it is checked like any other).
REQUIRED = {
	"erpnext.accounts.utils.get_balance_on": ("account", "company", "cost_center"),
	"erpnext.stock.doctype.batch.batch.get_batch_qty": ("warehouse",),
	"erpnext.stock.get_item_details.get_batch_qty": ("warehouse",),
	"erpnext.stock.utils.get_latest_stock_qty": ("warehouse",),
}

# ERPNext's whitelisted functions with a dealer argument (hooks.override_whitelisted_methods points
# each at its wrapper, `wrapper_name(method)` in this module).
GUARDED = (
	"erpnext.accounts.custom.address.get_shipping_address",
	"erpnext.accounts.dashboard_chart_source.account_balance_timeline.account_balance_timeline.get",
	"erpnext.accounts.doctype.account.account.get_parent_account",
	"erpnext.accounts.doctype.account.account.get_root_company",
	"erpnext.accounts.doctype.account.chart_of_accounts.chart_of_accounts.validate_bank_account",
	"erpnext.accounts.doctype.bank_account.bank_account.get_bank_account_details",
	"erpnext.accounts.doctype.bank_account.bank_account.make_bank_account",
	"erpnext.accounts.doctype.bank_guarantee.bank_guarantee.get_voucher_details",
	"erpnext.accounts.doctype.bank_reconciliation_tool.bank_reconciliation_tool.auto_reconcile_vouchers",
	"erpnext.accounts.doctype.bank_reconciliation_tool.bank_reconciliation_tool.create_journal_entry_bts",
	"erpnext.accounts.doctype.bank_reconciliation_tool.bank_reconciliation_tool.create_payment_entry_bts",
	"erpnext.accounts.doctype.bank_reconciliation_tool.bank_reconciliation_tool.get_account_balance",
	"erpnext.accounts.doctype.bank_reconciliation_tool.bank_reconciliation_tool.get_bank_transactions",
	"erpnext.accounts.doctype.bank_reconciliation_tool.bank_reconciliation_tool.update_bank_transaction",
	"erpnext.accounts.doctype.bank_transaction.bank_transaction_upload.create_bank_entries",
	"erpnext.accounts.doctype.chart_of_accounts_importer.chart_of_accounts_importer.download_template",
	"erpnext.accounts.doctype.chart_of_accounts_importer.chart_of_accounts_importer.import_coa",
	"erpnext.accounts.doctype.chart_of_accounts_importer.chart_of_accounts_importer.validate_company",
	"erpnext.accounts.doctype.exchange_rate_revaluation.exchange_rate_revaluation.get_account_details",
	"erpnext.accounts.doctype.invoice_discounting.invoice_discounting.get_invoices",
	"erpnext.accounts.doctype.journal_entry.journal_entry.get_account_details_and_party_type",
	"erpnext.accounts.doctype.journal_entry.journal_entry.get_against_jv",
	"erpnext.accounts.doctype.journal_entry.journal_entry.get_average_exchange_rate",
	"erpnext.accounts.doctype.journal_entry.journal_entry.get_default_bank_cash_account",
	"erpnext.accounts.doctype.journal_entry.journal_entry.get_exchange_rate",
	"erpnext.accounts.doctype.journal_entry.journal_entry.get_outstanding",
	"erpnext.accounts.doctype.journal_entry.journal_entry.get_party_account_and_currency",
	"erpnext.accounts.doctype.journal_entry.journal_entry.get_payment_entry_against_invoice",
	"erpnext.accounts.doctype.journal_entry.journal_entry.get_payment_entry_against_order",
	"erpnext.accounts.doctype.journal_entry.journal_entry.make_inter_company_journal_entry",
	"erpnext.accounts.doctype.loyalty_program.loyalty_program.get_loyalty_program_details",
	"erpnext.accounts.doctype.loyalty_program.loyalty_program.get_loyalty_program_details_with_points",
	"erpnext.accounts.doctype.opening_invoice_creation_tool.opening_invoice_creation_tool.get_temporary_opening_account",
	"erpnext.accounts.doctype.payment_entry.payment_entry.get_account_details",
	"erpnext.accounts.doctype.payment_entry.payment_entry.get_company_defaults",
	"erpnext.accounts.doctype.payment_entry.payment_entry.get_outstanding_reference_documents",
	"erpnext.accounts.doctype.payment_entry.payment_entry.get_party_and_account_balance",
	"erpnext.accounts.doctype.payment_entry.payment_entry.get_party_details",
	"erpnext.accounts.doctype.payment_entry.payment_entry.get_payment_entry",
	"erpnext.accounts.doctype.payment_entry.payment_entry.get_reference_details",
	"erpnext.accounts.doctype.payment_order.payment_order.get_mop_query",
	"erpnext.accounts.doctype.payment_order.payment_order.get_supplier_query",
	"erpnext.accounts.doctype.payment_reconciliation.payment_reconciliation.get_queries_for_dimension_filters",
	"erpnext.accounts.doctype.payment_request.payment_request.get_open_payment_requests_query",
	"erpnext.accounts.doctype.payment_request.payment_request.get_subscription_details",
	"erpnext.accounts.doctype.period_closing_voucher.period_closing_voucher.get_period_start_end_date",
	"erpnext.accounts.doctype.pos_closing_entry.pos_closing_entry.get_cashiers",
	"erpnext.accounts.doctype.pos_invoice.pos_invoice.get_stock_availability",
	"erpnext.accounts.doctype.pos_invoice.pos_invoice.item_query",
	"erpnext.accounts.doctype.pos_profile.pos_profile.pos_profile_query",
	"erpnext.accounts.doctype.pos_profile.pos_profile.set_default_profile",
	"erpnext.accounts.doctype.pricing_rule.pricing_rule.apply_pricing_rule",
	"erpnext.accounts.doctype.pricing_rule.pricing_rule.get_item_uoms",
	"erpnext.accounts.doctype.pricing_rule.pricing_rule.make_pricing_rule",
	"erpnext.accounts.doctype.purchase_invoice.purchase_invoice.make_purchase_receipt",
	"erpnext.accounts.doctype.repost_accounting_ledger.repost_accounting_ledger.get_repost_allowed_types",
	"erpnext.accounts.doctype.sales_invoice.sales_invoice.get_bank_cash_account",
	"erpnext.accounts.doctype.share_transfer.share_transfer.make_jv_entry",
	"erpnext.accounts.doctype.tax_rule.tax_rule.get_party_details",
	"erpnext.accounts.doctype.unreconcile_payment.unreconcile_payment.doc_has_references",
	"erpnext.accounts.doctype.unreconcile_payment.unreconcile_payment.get_linked_payments_for_doc",
	"erpnext.accounts.party.get_due_date",
	"erpnext.accounts.party.get_party_account",
	"erpnext.accounts.party.get_party_bank_account",
	"erpnext.accounts.party.get_party_details",
	"erpnext.accounts.party.get_payment_terms_template",
	"erpnext.accounts.party.set_taxes",
	"erpnext.accounts.report.utils.get_invoiced_item_gross_margin",
	"erpnext.accounts.utils.add_ac",
	"erpnext.accounts.utils.add_cc",
	"erpnext.accounts.utils.get_account_balances",
	"erpnext.accounts.utils.get_balance_on",
	"erpnext.accounts.utils.get_children",
	"erpnext.accounts.utils.get_company_default",
	"erpnext.accounts.utils.get_fiscal_year",
	"erpnext.accounts.utils.get_fiscal_year_filter_field",
	"erpnext.accounts.utils.update_cost_center",
	"erpnext.assets.doctype.asset.asset.create_asset_capitalization",
	"erpnext.assets.doctype.asset.asset.create_asset_maintenance",
	"erpnext.assets.doctype.asset.asset.create_asset_repair",
	"erpnext.assets.doctype.asset.asset.create_asset_value_adjustment",
	"erpnext.assets.doctype.asset.asset.make_sales_invoice",
	"erpnext.assets.doctype.asset.asset.transfer_asset",
	"erpnext.assets.doctype.asset.depreciation.get_disposal_account_and_cost_center",
	"erpnext.assets.doctype.asset_capitalization.asset_capitalization.get_consumed_asset_details",
	"erpnext.assets.doctype.asset_capitalization.asset_capitalization.get_consumed_stock_item_details",
	"erpnext.assets.doctype.asset_capitalization.asset_capitalization.get_service_item_details",
	"erpnext.assets.doctype.asset_capitalization.asset_capitalization.get_target_asset_details",
	"erpnext.assets.doctype.asset_capitalization.asset_capitalization.get_target_item_details",
	"erpnext.assets.doctype.asset_capitalization.asset_capitalization.get_warehouse_details",
	"erpnext.assets.doctype.asset_maintenance.asset_maintenance.get_team_members",
	"erpnext.assets.doctype.asset_maintenance_log.asset_maintenance_log.get_maintenance_tasks",
	"erpnext.buying.doctype.purchase_order.purchase_order.make_purchase_invoice",
	"erpnext.buying.doctype.purchase_order.purchase_order.make_purchase_receipt",
	"erpnext.buying.doctype.request_for_quotation.request_for_quotation.get_rfq_containing_supplier",
	"erpnext.buying.doctype.supplier.supplier.get_supplier_primary",
	"erpnext.buying.doctype.supplier_quotation.supplier_quotation.make_purchase_order",
	"erpnext.buying.report.supplier_quotation_comparison.supplier_quotation_comparison.set_default_supplier",
	"erpnext.controllers.accounts_controller.get_default_taxes_and_charges",
	"erpnext.controllers.item_variant.create_variant",
	"erpnext.controllers.item_variant.create_variant_doc_for_quick_entry",
	"erpnext.controllers.item_variant.enqueue_multiple_variant_creation",
	"erpnext.controllers.item_variant.get_variant",
	"erpnext.controllers.queries.bom",
	"erpnext.controllers.queries.employee_query",
	"erpnext.controllers.queries.get_account_list",
	"erpnext.controllers.queries.get_batch_no",
	"erpnext.controllers.queries.get_batch_numbers",
	"erpnext.controllers.queries.get_blanket_orders",
	"erpnext.controllers.queries.get_delivery_notes_to_be_billed",
	"erpnext.controllers.queries.get_doctypes_for_closing",
	"erpnext.controllers.queries.get_expense_account",
	"erpnext.controllers.queries.get_filtered_child_rows",
	"erpnext.controllers.queries.get_filtered_dimensions",
	"erpnext.controllers.queries.get_income_account",
	"erpnext.controllers.queries.get_item_uom_query",
	"erpnext.controllers.queries.get_payment_terms_for_references",
	"erpnext.controllers.queries.get_project_name",
	"erpnext.controllers.queries.get_purchase_invoices",
	"erpnext.controllers.queries.get_purchase_receipts",
	"erpnext.controllers.queries.get_tax_template",
	"erpnext.controllers.queries.item_manufacturer_query",
	"erpnext.controllers.queries.item_query",
	"erpnext.controllers.queries.lead_query",
	"erpnext.controllers.queries.tax_account_query",
	"erpnext.controllers.queries.warehouse_query",
	"erpnext.controllers.stock_controller.make_quality_inspections",
	"erpnext.controllers.stock_controller.show_accounting_ledger_preview",
	"erpnext.controllers.stock_controller.show_stock_ledger_preview",
	"erpnext.controllers.taxes_and_totals.get_round_off_applicable_accounts",
	"erpnext.crm.doctype.lead.lead.get_lead_details",
	"erpnext.crm.doctype.opportunity.opportunity.make_opportunity_from_communication",
	"erpnext.edi.doctype.code_list.code_list_import.process_genericode_import",
	"erpnext.erpnext_integrations.doctype.plaid_settings.plaid_settings.add_bank_accounts",
	"erpnext.manufacturing.doctype.bom.bom.get_bom_items",
	"erpnext.manufacturing.doctype.bom.bom.item_query",
	"erpnext.manufacturing.doctype.bom_creator.bom_creator.edit_qty",
	"erpnext.manufacturing.doctype.bom_update_tool.bom_update_tool.enqueue_replace_bom",
	"erpnext.manufacturing.doctype.job_card.job_card.get_job_details",
	"erpnext.manufacturing.doctype.job_card.job_card.get_operations",
	"erpnext.manufacturing.doctype.job_card.job_card.make_time_log",
	"erpnext.manufacturing.doctype.plant_floor.plant_floor.get_stock_summary",
	"erpnext.manufacturing.doctype.production_plan.production_plan.get_bin_details",
	"erpnext.manufacturing.doctype.production_plan.production_plan.sales_order_query",
	"erpnext.manufacturing.doctype.work_order.work_order.get_bom_operations",
	"erpnext.manufacturing.doctype.work_order.work_order.make_stock_entry",
	"erpnext.manufacturing.doctype.work_order.work_order.query_sales_order",
	"erpnext.manufacturing.report.bom_variance_report.bom_variance_report.get_work_orders",
	"erpnext.projects.doctype.project.project.get_users_for_project",
	"erpnext.projects.doctype.task.task.get_project",
	"erpnext.projects.doctype.timesheet.timesheet.get_events",
	"erpnext.projects.doctype.timesheet.timesheet.get_timesheet",
	"erpnext.projects.utils.query_task",
	"erpnext.regional.italy.utils.export_invoices",
	"erpnext.regional.report.irs_1099.irs_1099.irs_1099_print",
	"erpnext.selling.doctype.customer.customer.get_customer_primary",
	"erpnext.selling.doctype.customer.customer.send_emails",
	"erpnext.selling.doctype.product_bundle.product_bundle.get_new_item_code",
	"erpnext.selling.doctype.quotation.quotation.make_sales_invoice",
	"erpnext.selling.doctype.quotation.quotation.make_sales_order",
	"erpnext.selling.doctype.sales_order.sales_order.get_events",
	"erpnext.selling.doctype.sales_order.sales_order.make_raw_material_request",
	"erpnext.selling.doctype.sales_order.sales_order.make_sales_invoice",
	"erpnext.selling.doctype.sales_order.sales_order.make_work_orders",
	"erpnext.selling.page.point_of_sale.point_of_sale.create_opening_voucher",
	"erpnext.selling.page.point_of_sale.point_of_sale.item_group_query",
	"erpnext.selling.page.sales_funnel.sales_funnel.get_funnel_data",
	"erpnext.selling.page.sales_funnel.sales_funnel.get_opp_by_lead_source",
	"erpnext.selling.page.sales_funnel.sales_funnel.get_pipeline_data",
	"erpnext.selling.report.payment_terms_status_for_sales_order.payment_terms_status_for_sales_order.get_customers_or_items",
	"erpnext.setup.doctype.company.company.create_transaction_deletion_request",
	"erpnext.setup.doctype.company.company.get_children",
	"erpnext.setup.doctype.department.department.get_children",
	"erpnext.setup.doctype.employee.employee.get_children",
	"erpnext.setup.doctype.holiday_list.holiday_list.get_events",
	"erpnext.setup.doctype.party_type.party_type.get_party_type",
	"erpnext.setup.doctype.transaction_deletion_record.transaction_deletion_record.is_deletion_doc_running",
	"erpnext.setup.utils.get_exchange_rate",
	"erpnext.startup.leaderboard.get_all_customers",
	"erpnext.startup.leaderboard.get_all_items",
	"erpnext.startup.leaderboard.get_all_sales_partner",
	"erpnext.startup.leaderboard.get_all_sales_person",
	"erpnext.startup.leaderboard.get_all_suppliers",
	"erpnext.stock.dashboard.item_dashboard.get_data",
	"erpnext.stock.dashboard.warehouse_capacity_dashboard.get_data",
	"erpnext.stock.dashboard_chart_source.warehouse_wise_stock_value.warehouse_wise_stock_value.get",
	"erpnext.stock.doctype.batch.batch.get_batch_qty",
	"erpnext.stock.doctype.batch.batch.get_batches_by_oldest",
	"erpnext.stock.doctype.batch.batch.get_pos_reserved_batch_qty",
	"erpnext.stock.doctype.batch.batch.split_batch",
	"erpnext.stock.doctype.delivery_note.delivery_note.make_sales_invoice",
	"erpnext.stock.doctype.inventory_dimension.inventory_dimension.get_inventory_documents",
	"erpnext.stock.doctype.item.item.get_item_details",
	"erpnext.stock.doctype.item_alternative.item_alternative.get_alternative_items",
	"erpnext.stock.doctype.material_request.material_request.get_default_supplier_query",
	"erpnext.stock.doctype.material_request.material_request.get_material_requests_based_on_supplier",
	"erpnext.stock.doctype.material_request.material_request.make_purchase_order",
	"erpnext.stock.doctype.material_request.material_request.make_purchase_order_based_on_supplier",
	"erpnext.stock.doctype.packing_slip.packing_slip.item_details",
	"erpnext.stock.doctype.pick_list.pick_list.get_item_details",
	"erpnext.stock.doctype.pick_list.pick_list.get_pending_work_orders",
	"erpnext.stock.doctype.pick_list.pick_list.get_pick_list_query",
	"erpnext.stock.doctype.purchase_receipt.purchase_receipt.make_lcv",
	"erpnext.stock.doctype.purchase_receipt.purchase_receipt.make_purchase_invoice",
	"erpnext.stock.doctype.putaway_rule.putaway_rule.apply_putaway_rule",
	"erpnext.stock.doctype.quality_inspection.quality_inspection.item_query",
	"erpnext.stock.doctype.quality_inspection.quality_inspection.quality_inspection_query",
	"erpnext.stock.doctype.quick_stock_balance.quick_stock_balance.get_stock_item_details",
	"erpnext.stock.doctype.serial_and_batch_bundle.serial_and_batch_bundle.add_serial_batch_ledgers",
	"erpnext.stock.doctype.serial_and_batch_bundle.serial_and_batch_bundle.get_batch_no_from_serial_no",
	"erpnext.stock.doctype.serial_and_batch_bundle.serial_and_batch_bundle.get_serial_batch_ledgers",
	"erpnext.stock.doctype.serial_and_batch_bundle.serial_and_batch_bundle.is_duplicate_serial_no",
	"erpnext.stock.doctype.serial_and_batch_bundle.serial_and_batch_bundle.is_serial_batch_no_exists",
	"erpnext.stock.doctype.serial_and_batch_bundle.serial_and_batch_bundle.item_query",
	"erpnext.stock.doctype.serial_and_batch_bundle.serial_and_batch_bundle.update_serial_or_batch",
	"erpnext.stock.doctype.serial_no.serial_no.auto_fetch_serial_number",
	"erpnext.stock.doctype.serial_no.serial_no.get_pos_reserved_serial_nos",
	"erpnext.stock.doctype.stock_entry.stock_entry.get_warehouse_details",
	"erpnext.stock.doctype.stock_entry.stock_entry.get_work_order_details",
	"erpnext.stock.doctype.stock_entry.stock_entry.move_sample_to_retention_warehouse",
	"erpnext.stock.doctype.stock_reconciliation.stock_reconciliation.get_difference_account",
	"erpnext.stock.doctype.stock_reconciliation.stock_reconciliation.get_items",
	"erpnext.stock.doctype.stock_reconciliation.stock_reconciliation.get_stock_balance_for",
	"erpnext.stock.doctype.stock_reservation_entry.stock_reservation_entry.get_stock_reservation_entries_for_voucher",
	"erpnext.stock.doctype.warehouse.warehouse.get_children",
	"erpnext.stock.get_item_details.apply_price_list",
	"erpnext.stock.get_item_details.calculate_service_end_date",
	"erpnext.stock.get_item_details.get_batch_qty",
	"erpnext.stock.get_item_details.get_bin_details",
	"erpnext.stock.get_item_details.get_blanket_order_details",
	"erpnext.stock.get_item_details.get_item_details",
	"erpnext.stock.get_item_details.get_item_tax_info",
	"erpnext.stock.get_item_details.get_item_tax_map",
	"erpnext.stock.get_item_details.get_item_tax_template",
	"erpnext.stock.get_item_details.get_pos_profile",
	"erpnext.stock.get_item_details.get_projected_qty",
	"erpnext.stock.get_item_details.get_serial_no",
	"erpnext.stock.get_item_details.get_valuation_rate",
	"erpnext.stock.report.serial_and_batch_summary.serial_and_batch_summary.get_batch_nos",
	"erpnext.stock.report.serial_and_batch_summary.serial_and_batch_summary.get_serial_nos",
	"erpnext.stock.report.serial_and_batch_summary.serial_and_batch_summary.get_voucher_type",
	"erpnext.stock.report.stock_and_account_value_comparison.stock_and_account_value_comparison.create_reposting_entries",
	"erpnext.stock.report.stock_ledger_invariant_check.stock_ledger_invariant_check.create_reposting_entries",
	"erpnext.stock.utils.get_incoming_rate",
	"erpnext.stock.utils.get_latest_stock_qty",
	"erpnext.stock.utils.get_stock_balance",
	"erpnext.support.doctype.service_level_agreement.service_level_agreement.reset_service_level_agreement",
)

# Arguments that name a record of a DocType the function implies (no DocType argument beside
# them): method -> {argument: ((DocType, field the value matches), …)}.
IMPLIED = {
	# a bank guarantee's Sales Order (Receiving) or Purchase Order (Providing): total and party
	"erpnext.accounts.doctype.bank_guarantee.bank_guarantee.get_voucher_details": {
		"reference_name": (("Sales Order", "name"), ("Purchase Order", "name")),
	},
	# the serials and batches of a voucher's bundles (read with get_all: no permission check)
	"erpnext.stock.doctype.serial_and_batch_bundle.serial_and_batch_bundle.get_serial_batch_ledgers": {
		"voucher_no": (("Serial and Batch Bundle", "voucher_no"),),
		"name": (("Serial and Batch Bundle", "name"),),
	},
}

# ERPNext's whitelisted functions with such a parameter that need no guard, and why.
REVIEWED = {
	"erpnext.stock.doctype.stock_entry.stock_entry.validate_sample_quantity": (
		"its only dealer argument is a batch, which is the network's (Batch has no company); the "
		"quantity it reads is in the one sample-retention warehouse of Stock Settings, not one the "
		"caller names, and it answers a sample quantity capped by the item's setting"
	),
}


# Frappe's link search runs a DocType's query function itself (resolved from the request, not
# through override_whitelisted_methods): its filters are checked in the same way.
SEARCH = ("frappe.desk.search.search_link", "frappe.desk.search.search_widget")


def wrapper_name(method: str) -> str:
	"""The name of a guarded method's wrapper in this module."""
	return "guarded__" + method.replace(".", "__")


def override_paths() -> dict[str, str]:
	"""hooks.override_whitelisted_methods entries: each guarded method -> its wrapper."""
	return {method: f"{__name__}.{wrapper_name(method)}" for method in GUARDED + SEARCH}


_WRAPPERS = {wrapper_name(method): method for method in GUARDED + SEARCH}
_built = {}


def __getattr__(name):
	"""A guarded method's wrapper, made on first use (importing every ERPNext module when hooks
	load would be slow). Only the names of `GUARDED` methods exist."""
	method = _WRAPPERS.get(name)
	if method is None:
		raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
	if name not in _built:
		_built[name] = make_wrapper(method)
	return _built[name]


def make_wrapper(method: str):
	original = frappe.get_attr(method)
	if original not in frappe.whitelisted:
		raise frappe.PermissionError(f"{method} is not whitelisted")

	def wrapper(*args, **kwargs):
		check_arguments(method, original, args, kwargs)
		return frappe.call(original, *args, **kwargs)

	# named as the original (Frappe's messages name it; the app's introspection of its own
	# whitelisted functions, the permission matrix and docs/api.md, leaves it to ERPNext)
	wrapper.__name__, wrapper.__qualname__ = original.__name__, original.__qualname__
	wrapper.__module__ = original.__module__
	wrapper.__doc__ = f"{method}, refused for another dealer's records (controllers/erpnext_methods.py)."
	return frappe.whitelist(
		allow_guest=original in frappe.guest_methods,
		xss_safe=original in frappe.xss_safe_methods,
		methods=frappe.allowed_http_methods_for_whitelisted_func.get(original),
	)(wrapper)


def check_arguments(method, original, args=(), kwargs=None):
	"""Refuse a restricted user's call naming another dealer's record (see the module's doc)."""
	from aftersales_dms.controllers.report_access import allowed_companies

	if frappe.session.user == "Administrator":
		return
	allowed = allowed_companies()
	if allowed is None:
		return
	values = dict(kwargs or {})
	if args:
		import inspect

		try:
			values.update(inspect.signature(original).bind_partial(*args).arguments)
		except TypeError:
			pass  # the call itself will fail on its arguments
	if (required := REQUIRED.get(method)) and not any(values.get(arg) for arg in required):
		frappe.throw(
			_("Name your dealer's {0} for {1}.").format(
				_(" or ").join(_(frappe.unscrub(arg)) for arg in required), method.rsplit(".", 1)[-1]
			),
			frappe.PermissionError,
		)
	for arg, sources in IMPLIED.get(method, {}).items():
		for name in names(values.get(arg)):
			for doctype, field in sources:
				for company in frappe.get_all(doctype, {field: name}, pluck="company", distinct=True):
					if company and company not in allowed:
						frappe.throw(
							_("You may not read {0} {1}.").format(_(doctype), name), frappe.PermissionError
						)
	for doctype, name in named_records(values):
		company = record_company(doctype, name)
		if company is not None and company not in allowed:
			frappe.throw(_("You may not read {0} {1}.").format(_(doctype), name), frappe.PermissionError)


def named_records(values: dict, depth: int = 0):
	"""(DocType, name) of each record the arguments name, dict arguments included."""
	for arg, doctype in RECORD_ARGS.items():
		for name in names(values.get(arg)):
			yield doctype, name
	for type_arg, name_arg in PAIR_ARGS:
		doctype = values.get(type_arg)
		if isinstance(doctype, str) and doctype:
			for name in names(values.get(name_arg)):
				yield doctype, name
	if depth > 3:
		return
	nested = [values.get(arg) for arg in DICT_ARGS] if depth == 0 else list(values.values())
	for value in nested:
		for inner in as_dicts(value):
			yield from named_records(inner, depth + 1)


def as_dicts(value) -> list[dict]:
	"""The dicts in a dict argument: a dict or a JSON string of one, a list of them, or Frappe's
	list filters (`[field, op, value]` or `[doctype, field, op, value]`) as {field: value} for
	the operators that name records (NAMING_OPERATORS)."""
	if isinstance(value, str) and value.lstrip().startswith(("{", "[")):
		try:
			value = json.loads(value)
		except ValueError:
			return []
	if isinstance(value, dict):
		return [value]
	if not isinstance(value, list | tuple):
		return []
	out = []
	for item in value:
		if isinstance(item, dict):
			out.append(item)
		elif isinstance(item, list | tuple) and len(item) in (3, 4) and isinstance(item[-3], str):
			field, op, operand = item[-3:]
			if str(op).strip().lower() in NAMING_OPERATORS:
				out.append({field: operand})
		elif isinstance(item, list | tuple):
			out.extend(as_dicts(list(item)))
	return out


# filter operators whose operand names the records read (not `!=`, `not in` …, which exclude them)
NAMING_OPERATORS = ("=", "in", "descendants of", "descendants of (inclusive)")


def names(value):
	"""The record names in an argument: a name, a list of them, serial nos one a line, or a dict
	filter's [operator, operand] where the operator names records."""
	if isinstance(value, str):
		return [line.strip() for line in value.splitlines() if line.strip()]
	if not isinstance(value, list | tuple):
		return []
	if len(value) == 2 and isinstance(value[0], str) and is_operator(value[0]):
		return names(value[1]) if value[0].strip().lower() in NAMING_OPERATORS else []
	return [v for v in value if isinstance(v, str) and v]


def is_operator(text: str) -> bool:
	from frappe.database.operator_map import OPERATOR_MAP
	from frappe.database.utils import NestedSetHierarchy

	return text.strip().lower() in (*OPERATOR_MAP, *NestedSetHierarchy)


def record_company(doctype: str, name: str) -> str | None:
	"""The Company a record is of: the name of a Company, the `company` of a record of a DocType
	that has one; None for the network's records (Customer, Item …) and names that exist nowhere."""
	if doctype == "Company":
		return name if frappe.db.exists("Company", name) else None
	if not frappe.db.exists("DocType", doctype):
		return None
	meta = frappe.get_meta(doctype)
	if meta.issingle or not meta.has_field("company"):
		return None
	return frappe.db.get_value(doctype, name, "company") or None
