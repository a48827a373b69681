app_name = "aftersales_dms"
app_title = "Aftersales DMS"
app_publisher = "Aftersales DMS contributors"
app_description = "Dealer Management System for automotive aftersales, on ERPNext"
app_email = "maintainers@aftersales-dms.invalid"
app_license = "GPL-3.0-or-later"
app_icon = "octicon octicon-tools"
app_color = "#1f6feb"

required_apps = ["erpnext"]

# the list of guarded ERPNext methods is defined once, there (underscored: not a hook)
from aftersales_dms.controllers import erpnext_methods as _erpnext_methods  # noqa: E402

add_to_apps_screen = [
	{
		"name": "aftersales_dms",
		"logo": "/assets/erpnext/images/erpnext-logo.svg",
		"title": "Aftersales DMS",
		"route": "/app/aftersales-dms",
	}
]

app_include_js = "aftersales_dms.bundle.js"

after_install = "aftersales_dms.install.after_install"
after_migrate = "aftersales_dms.install.after_migrate"
before_uninstall = "aftersales_dms.install.before_uninstall"
before_tests = "aftersales_dms.install.before_tests"

# what the customer owes, with tax: for Notification texts and print formats
jinja = {
	"methods": [
		"aftersales_dms.billing.customer_figures.customer_amount_due",
		# the reads a template may make, as the user printing or notifying (controllers/template_safety.py)
		"aftersales_dms.controllers.template_safety.dms_job_card",
		"aftersales_dms.controllers.template_safety.dms_vehicle",
		"aftersales_dms.controllers.template_safety.dms_item_kind",
		"aftersales_dms.controllers.template_safety.dms_invoice_total",
	]
}

# a Notification's SMS is queued with the document and sent by a worker (delivery/sms_outbox.py)
override_doctype_class = {
	"Notification": "aftersales_dms.overrides.notification.DMSNotification",
	# the OEM admin customizes the app's DocTypes only (controllers/customization.py)
	"Customize Form": "aftersales_dms.controllers.customization.DMSCustomizeForm",
}

scheduler_events = {
	# safety net for the job each commit enqueues: due retries and anything it missed
	"all": [
		"aftersales_dms.delivery.sms_outbox.send_pending",
		"aftersales_dms.analytics.technician_days.refresh_stale",
	],
	# the long queue: a backup of a big site outlasts the default queue's timeout
	"daily_long": ["aftersales_dms.utils.backup.daily_backup"],
	"cron": {
		"*/15 * * * *": [
			"aftersales_dms.booking.doctype.service_appointment.service_appointment.mark_no_shows"
		],
	},
}

# workflow actions (any doctype) retried when the database picks them as a deadlock victim
override_whitelisted_methods = {
	"frappe.model.workflow.apply_workflow": "aftersales_dms.workshop.status.apply_workflow",
	# the job card's actions a Workshop Manager takes where the dealer has nobody of their role
	"frappe.model.workflow.get_transitions": "aftersales_dms.workshop.status.get_transitions",
	# a dealer user's query report is for their own Company (ERPNext's ledgers take any company)
	"frappe.desk.query_report.run": "aftersales_dms.controllers.report_access.run",
	"frappe.desk.query_report.export_query": "aftersales_dms.controllers.report_access.export_query",
	# a doc method of the app's DocTypes runs on the stored document (controllers/doc_methods.py)
	**{
		method: "aftersales_dms.controllers.doc_methods.run_doc_method"
		for method in (
			"run_doc_method",
			"runserverobj",
			"frappe.handler.run_doc_method",
			"frappe.handler.runserverobj",
		)
	},
	"frappe.core.doctype.prepared_report.prepared_report.make_prepared_report": (
		"aftersales_dms.controllers.report_access.make_prepared_report"
	),
	# global search shows only documents the user may read (controllers/read_access.py)
	"frappe.utils.global_search.search": "aftersales_dms.controllers.read_access.global_search",
	# a link check answers for another dealer's record as for a missing one (controllers/read_access.py)
	"frappe.client.validate_link": "aftersales_dms.controllers.read_access.validate_link",
	# ERPNext's whitelisted functions answer a dealer user only for their own dealer's warehouses,
	# accounts, vouchers … (controllers/erpnext_methods.py)
	**_erpnext_methods.override_paths(),
	# where a read replica is configured, these read on it only when it is in step with the primary
	# (utils/replica.py): Frappe's own read-only endpoints, number cards and dashboard charts
	**{
		method: f"aftersales_dms.utils.replica.{name}"
		for method, name in (
			("frappe.desk.reportview.get", "reportview_get"),
			("frappe.desk.reportview.get_list", "reportview_get_list"),
			("frappe.desk.reportview.get_count", "reportview_get_count"),
			("frappe.desk.reportview.export_query", "reportview_export_query"),
			("frappe.desk.reportview.get_sidebar_stats", "reportview_get_sidebar_stats"),
			("frappe.desk.reportview.get_stats", "reportview_get_stats"),
			("frappe.desk.desktop.get_desktop_page", "desktop_get_desktop_page"),
			("frappe.desk.notifications.get_notifications", "notifications_get_notifications"),
			("frappe.desk.notifications.get_open_count", "notifications_get_open_count"),
			("frappe.desk.doctype.number_card.number_card.get_result", "number_card_get_result"),
			(
				"frappe.desk.doctype.number_card.number_card.get_percentage_difference",
				"number_card_get_percentage_difference",
			),
			("frappe.desk.doctype.dashboard_chart.dashboard_chart.get", "dashboard_chart_get"),
		)
	},
}

# a prepared report's job reads on the replica only when it is in step (utils/replica.py)
before_job = ["aftersales_dms.utils.replica.before_job"]

# dealer staff never pass ERPNext's portal check for another dealer's documents (print included);
# only doctypes ERPNext checks itself: Frappe grants when every hook says yes (controllers/dealer.py)
has_website_permission = {
	doctype: "aftersales_dms.controllers.dealer.website_permission"
	for doctype in (
		"Sales Invoice",
		"Quotation",
		"Sales Order",
		"Delivery Note",
		"Material Request",
		"Purchase Order",
		"Purchase Invoice",
		"Supplier Quotation",
	)
}

# another dealer's document is refused without naming its Company (controllers/dealer.py);
# stock levels (no company of their own) by their warehouse's (controllers/read_access.py); a
# prepared report only its own user's, for their company (controllers/report_access.py)
has_permission = {
	"*": "aftersales_dms.controllers.dealer.dealer_permission",
	"Bin": "aftersales_dms.controllers.read_access.stock_permission",
	"Prepared Report": "aftersales_dms.controllers.report_access.prepared_report_permission",
}
# a child table's rows and a private file attached to a document are listed only with a parent
# document the user may list (controllers/child_rows.py)
permission_query_conditions = {
	"*": "aftersales_dms.controllers.child_rows.child_rows_query",
	"Bin": "aftersales_dms.controllers.read_access.stock_query",
	"Prepared Report": "aftersales_dms.controllers.report_access.prepared_report_query",
	"File": "aftersales_dms.controllers.child_rows.file_query",
}

# a request naming a child table's row needs read on the row's parent document: Frappe checks only the
# parent DocType for a row loaded on its own (controllers/child_rows.py); run once the user is known
auth_hooks = ["aftersales_dms.controllers.child_rows.check_child_row_request"]

# a document method that changes anything is refused a GET (CSRF: Frappe checks the token only when
# not a GET), and malformed get_count / run_doc_method calls get a 4xx (controllers/http_methods.py)
before_request = ["aftersales_dms.controllers.http_methods.before_request"]

# a job card entering Delivered (workshop/status.py calls these in order): the stages after the
# workshop add their part without the workshop importing them
dms_job_card_delivered = [
	"aftersales_dms.billing.invoice.on_delivered",
	"aftersales_dms.delivery.feedback.on_delivered",
]

STOCK_RECEIVED = [
	"aftersales_dms.workshop.status.on_stock_received",
	"aftersales_dms.workshop.tasks.on_stock_received",
]

doc_events = {
	# every save is checked against the stored document too (controllers/dealer.py); on the app's
	# DocTypes, a field the form shows read-only keeps the server's value and every link must exist
	# (controllers/guards.py)
	"*": {
		"before_validate": [
			"aftersales_dms.controllers.dealer.check_stored_document",
			# a row that names a stored row is one of this document's (controllers/child_rows.py)
			"aftersales_dms.controllers.child_rows.refuse_rows_of_other_documents",
			"aftersales_dms.controllers.guards.keep_read_only_fields",
			"aftersales_dms.controllers.guards.validate_fetching_links",
			# a link to a dealer's record names one of the document's dealer (controllers/dealer_links.py)
			"aftersales_dms.controllers.dealer_links.validate_dealer_links",
		],
		# a "Value Change" Notification whose field did not change is not loaded again on every
		# save (controllers/notifications.py)
		"on_change": "aftersales_dms.controllers.notifications.skip_unchanged_value_alerts",
	},
	"Stock Entry": {
		"before_validate": "aftersales_dms.controllers.erpnext_links.keep_app_fields",
		"on_submit": [
			"aftersales_dms.parts.doctype.parts_request.parts_request.on_stock_entry_change",
			"aftersales_dms.workshop.status.on_stock_received",
			"aftersales_dms.workshop.tasks.on_stock_received",
		],
		"on_cancel": "aftersales_dms.parts.doctype.parts_request.parts_request.on_stock_entry_change",
	},
	# parts arriving wake job cards that wait for them (and end the shortage ToDos they answer)
	"Purchase Receipt": {"on_submit": STOCK_RECEIVED},
	# every journey document: malformed dates are a clear error; rows a client adds to an
	# existing document have the fields its role may not write cleared (controllers/guards.py)
	**{
		doctype: {
			"before_validate": [
				"aftersales_dms.controllers.guards.validate_dates",
				"aftersales_dms.controllers.guards.clear_unwritable_fields_of_added_rows",
			]
		}
		for doctype in (
			"Service Appointment",
			"Online Booking Request",
			"Vehicle Check In",
			"Vehicle Inspection",
			"Parts Request",
			"Service Technician",
			"Customer Vehicle",
			"Recall Campaign",
		)
	},
	# the job card clears them itself, first in its validate, on new documents too
	"Service Job Card": {
		"before_validate": "aftersales_dms.controllers.guards.validate_dates",
		"on_update": [
			"aftersales_dms.workshop.tasks.on_job_card_update",  # each role's ToDos
			"aftersales_dms.workshop.status.on_job_card_update",  # a job's end closes its estimate, appointment
		],
	},
	"Purchase Invoice": {"on_submit": STOCK_RECEIVED},
	# a cancelled purchase request for a waiting job's parts: the job is not left waiting forever
	"Material Request": {
		"before_validate": "aftersales_dms.controllers.erpnext_links.keep_app_fields",
		"before_cancel": "aftersales_dms.workshop.status.before_material_request_cancel",
		"on_cancel": [
			"aftersales_dms.workshop.status.on_material_request_cancel",
			"aftersales_dms.workshop.tasks.on_material_request_cancel",
		],
	},
	"Quotation": {
		"before_validate": "aftersales_dms.controllers.erpnext_links.keep_app_fields",
	},
	"Sales Invoice": {
		"before_validate": "aftersales_dms.controllers.erpnext_links.keep_app_fields",
		"validate": "aftersales_dms.billing.invoice.validate_sales_invoice",
		"on_submit": [
			"aftersales_dms.billing.invoice.on_sales_invoice_change",
			"aftersales_dms.analytics.revenue_rollup.on_invoice_change",
			"aftersales_dms.booking.recall.on_service_invoice_change",
		],
		"on_cancel": [
			"aftersales_dms.billing.invoice.on_sales_invoice_change",
			"aftersales_dms.analytics.revenue_rollup.on_invoice_change",
			"aftersales_dms.booking.recall.on_service_invoice_change",
		],
	},
	"Payment Entry": {
		"on_submit": "aftersales_dms.billing.invoice.on_payment_change",
		"on_cancel": "aftersales_dms.billing.invoice.on_payment_change",
	},
	"Stock Reconciliation": {"on_submit": STOCK_RECEIVED},
	# the job card's status options follow the states of its workflow (an OEM admin adds some)
	"Workflow": {
		"validate": [
			"aftersales_dms.workshop.status.validate_workflow_editor",
			"aftersales_dms.controllers.template_safety.validate",  # its transitions' conditions
		],
		"on_update": [
			"aftersales_dms.workshop.status.on_workflow_update",
			"aftersales_dms.workshop.board.on_workflow_change",
		],
	},
	# templates and conditions without server powers unless saved by a System Manager (#20)
	**{
		doctype: {"validate": "aftersales_dms.controllers.template_safety.validate"}
		for doctype in (
			"Print Format",
			"Letter Head",
			"Notification",
			"Workflow State",
			"Workflow Action Master",
		)
	},
	# Customize Form's records, also through REST: the app's DocTypes, no code, nothing loosened
	"Custom Field": {
		"validate": "aftersales_dms.controllers.customization.validate_custom_field",
		"on_trash": "aftersales_dms.controllers.customization.on_trash",
	},
	"Property Setter": {
		"validate": "aftersales_dms.controllers.customization.validate_property_setter",
		"on_trash": "aftersales_dms.controllers.customization.on_trash",
	},
	# the desk a user of our roles lands on (roles.ROLE_DESK, controllers/desk.py)
	"User": {"before_validate": "aftersales_dms.controllers.desk.set_landing"},
	# no upload a browser would run as a page or script, except by a System Manager (controllers/uploads.py)
	"File": {"validate": "aftersales_dms.controllers.uploads.validate_file"},
}
