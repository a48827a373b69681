"""The app's roles and who may take its actions: the one place they are named.

Field-level rights are declared where Frappe keeps them (DocPerms and permlevels in each
DocType's JSON, shown by the Role Permission Manager). The tuples below are for the actions
that are not a field write (make an estimate, assign a technician, release on credit …);
every module checks them through `has_any_role` with these names, never a list of its own.

Service Job Card permlevels (the same numbers in its child tables):

- 0: the status, which only the Workflow's transitions move (every role that works on the job);
- 1: the job's content — customer, vehicle, labour and part lines, concerns, discount
  (advisors, workshop managers, OEM admins);
- 2: the system's and the customer's: estimate, approval and its evidence, time logs, totals,
  invoices, QC sign-off, delivery. No desk role has write at 2; the server writes them through
  its own actions (db_set or explicit flags), and a row a client adds gets them cleared;
- 3: assignment — the technician of an existing labour line (workshop managers);
- 4: the QC checklist's verification and the QC remarks (quality supervisors, workshop managers).

Other DocTypes use level 2 the same way, read by their roles and written by no desk role (the OEM
Warranty Claim's decision: only the OEM's approve / reject write it). A field the form shows
read-only at a writable level keeps the server's value on every save by a user
(controllers/guards.keep_read_only_fields).
"""

import frappe

ADVISOR = "Service Advisor"
TECHNICIAN = "Technician"
WORKSHOP_MANAGER = "Workshop Manager"
PARTS_MANAGER = "Parts Manager"
QUALITY_SUPERVISOR = "Quality Supervisor"
ACCOUNTANT = "Service Accountant"
OEM_ADMIN = "OEM Admin"
SYSTEM_MANAGER = "System Manager"

ROLES = {
	ADVISOR: "Books appointments, checks vehicles in, opens job cards, talks to the customer",
	TECHNICIAN: "Works on job card labour lines and clocks time",
	WORKSHOP_MANAGER: "Runs the workshop: bays, technicians, assignment, capacity",
	PARTS_MANAGER: "Receives, issues and returns parts, works material requests",
	QUALITY_SUPERVISOR: "Signs off quality checks before delivery",
	ACCOUNTANT: "Invoices job cards, warranty claims and payments",
	OEM_ADMIN: "Sees the whole dealer network; maintains OEM templates, workflows and campaigns",
}
ALL_ROLES = tuple(ROLES)

# The desk each role lands on: its workspace (User.default_workspace) and the modules its
# sidebar keeps — every other module is blocked by the role's Module Profile, named
# MODULE_PROFILE_PREFIX + role. Each workspace is shown only to its roles (Workspace roles in its
# JSON). A user holding several of our roles gets the first of them in this order. Applied by
# controllers/desk.py when a user is saved and on install/migrate; an admin's own choice of
# workspace or Module Profile is kept.
APP_MODULES = ("Booking", "Reception", "Workshop", "Parts", "Billing", "Delivery", "Analytics")
MODULE_PROFILE_PREFIX = "DMS "
ROLE_DESK = {
	WORKSHOP_MANAGER: ("Aftersales DMS", APP_MODULES),
	OEM_ADMIN: ("Dealer Network", APP_MODULES),
	ADVISOR: ("Service Desk", APP_MODULES),
	ACCOUNTANT: ("Service Accounts", ("Workshop", "Billing", "Delivery", "Analytics", "Accounts")),
	PARTS_MANAGER: ("Parts Desk", ("Workshop", "Parts", "Analytics")),
	QUALITY_SUPERVISOR: ("Quality Desk", ("Workshop", "Analytics")),
	TECHNICIAN: ("Technician Desk", ("Workshop", "Analytics")),
}

# the job card's permlevels (see above)
STATUS_LEVEL = 0
CONTENT_LEVEL = 1
SYSTEM_LEVEL = 2
ASSIGNMENT_LEVEL = 3
QC_LEVEL = 4

# actions (not field writes)
MANAGERS = (WORKSHOP_MANAGER, SYSTEM_MANAGER)  # assign, override odometer, clock for others
JOB_EDITORS = (ADVISOR, WORKSHOP_MANAGER, OEM_ADMIN, SYSTEM_MANAGER)  # estimates, links, packages
QC_ROLES = (QUALITY_SUPERVISOR, WORKSHOP_MANAGER, SYSTEM_MANAGER)
PARTS_ROLES = (PARTS_MANAGER, SYSTEM_MANAGER)
INVOICE_ROLES = (ACCOUNTANT, ADVISOR, WORKSHOP_MANAGER, SYSTEM_MANAGER)
CREDIT_RELEASE_ROLES = (ACCOUNTANT, WORKSHOP_MANAGER, SYSTEM_MANAGER)
OEM_ROLES = (OEM_ADMIN, SYSTEM_MANAGER)
SMS_RETRY_ROLES = (WORKSHOP_MANAGER, SYSTEM_MANAGER)


# What our roles need on ERPNext/Frappe doctypes (added as role permissions, like the Role
# Permission Manager does; existing rights of other roles are kept).
ERPNEXT_PERMISSIONS = {
	# advisors register walk-in customers with their contact and address (every role reads them)
	"Customer": {**{r: ("read",) for r in ALL_ROLES}, ADVISOR: ("read", "write", "create")},
	"Contact": {ADVISOR: ("read", "write", "create")},
	"Address": {ADVISOR: ("read", "write", "create")},
	"Item": {r: ("read",) for r in ALL_ROLES},
	"Item Price": {r: ("read",) for r in (ADVISOR, WORKSHOP_MANAGER, PARTS_MANAGER, ACCOUNTANT)},
	"Company": {r: ("read",) for r in ALL_ROLES},
	"Employee": {r: ("read",) for r in (WORKSHOP_MANAGER, OEM_ADMIN)},
	"Quotation": {
		ADVISOR: ("read", "write", "create", "submit"),
		WORKSHOP_MANAGER: ("read",),
		ACCOUNTANT: ("read",),
		OEM_ADMIN: ("read",),
	},
	"Sales Taxes and Charges Template": {r: ("read",) for r in (ADVISOR, ACCOUNTANT)},
	"Warehouse": {r: ("read",) for r in ALL_ROLES},
	"Bin": {r: ("read",) for r in (PARTS_MANAGER, ADVISOR, WORKSHOP_MANAGER)},
	"Sales Invoice": {r: ("read",) for r in (ADVISOR, WORKSHOP_MANAGER, OEM_ADMIN)},
	"Payment Entry": {r: ("read",) for r in (ADVISOR, WORKSHOP_MANAGER)},
	# The OEM admin's no-code tools, global like the records themselves (the OEM owns them, for
	# every dealer): the job card workflow with its states and actions (workshop/status.py keeps
	# the admin to the app's doctypes), notifications (changing a document after an alert stays
	# System Manager's: overrides/notification.py), print formats and letter heads. The Workflow
	# and Notification forms link roles and doctypes: those are only selected, never read. What
	# these render or evaluate has no server powers unless a System Manager saved it
	# (controllers/template_safety.py).
	**{
		doctype: {OEM_ADMIN: ("read", "write", "create")}
		for doctype in (
			"Workflow",
			"Workflow State",
			"Workflow Action Master",
			"Notification",
			"Print Format",
			"Letter Head",
		)
	},
	# Customize Form on the app's DocTypes only, nothing that runs code or loosens permissions
	# (controllers/customization.py narrows these back)
	"Customize Form": {OEM_ADMIN: ("read", "write", "create")},
	**{
		doctype: {OEM_ADMIN: ("read", "write", "create", "delete")}
		for doctype in ("Custom Field", "Property Setter")
	},
	"Role": {OEM_ADMIN: ("select",)},
	"DocType": {OEM_ADMIN: ("select",)},
	# -- parts staff receive stock for their dealer; both ledgers for parts and accounts (#13).
	# Dealer isolation is the User Permission on Company every one of these documents carries.
	"Stock Entry": {  # Material Receipt / Issue / Transfer
		PARTS_MANAGER: ("read", "write", "create", "submit", "cancel"),
		ACCOUNTANT: ("read",),
	},
	"Purchase Receipt": {PARTS_MANAGER: ("read", "write", "create", "submit")},
	"Material Request": {PARTS_MANAGER: ("read", "write", "submit")},  # work the job's request
	"Supplier": {PARTS_MANAGER: ("read",)},
	"UOM": {r: ("read",) for r in (PARTS_MANAGER, ACCOUNTANT)},  # the Stock Ledger's columns
	"Item Group": {PARTS_MANAGER: ("read",)},
	"Account": {PARTS_MANAGER: ("read",)},  # the General Ledger's
	"Stock Ledger Entry": {r: ("read", "report") for r in (PARTS_MANAGER, ACCOUNTANT)},
	"GL Entry": {PARTS_MANAGER: ("read", "report")},  # accountants read it as Accounts User
}

# ERPNext's standard reports our roles run, beside the roles ERPNext gives them (a Custom Role
# record, Frappe's way of adding roles to a standard report without editing it); each run by a
# dealer user is for their own Company (controllers/report_access.py).
ERPNEXT_REPORTS = {
	"Stock Ledger": (PARTS_MANAGER, ACCOUNTANT),
	"General Ledger": (PARTS_MANAGER, ACCOUNTANT),
}

# Frappe's desk pages our roles open, beside the roles Frappe gives them (a Custom Role record, as
# for reports): the OEM admin's Workflow Builder (it saves through the Workflow's own checks).
FRAPPE_PAGES = {"workflow-builder": (OEM_ADMIN,)}


def has_any_role(roles) -> bool:
	return bool(set(roles) & set(frappe.get_roles()))
