"""One job card from Open to Delivered in Chromium, each role in its own browser session.

Advisor, workshop manager, parts manager, technician and QC supervisor log in to the desk
separately and take their workflow actions from the form's Actions menu; the customer approves
the estimate on the portal page in a browser context with no login; the workshop manager's board
moves the card without a reload (Frappe realtime). The accountant invoices from the job card,
submits the invoice and finds its postings in the General Ledger, takes the payment, and the
advisor hands the car over; the OEM admin opens the dealer network dashboard.
"""

import os
import re

import frappe
import pytest
from dmstest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
	from playwright.sync_api import sync_playwright

	with sync_playwright() as p:
		b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
		yield b
		b.close()


class Desk:
	"""A logged-in desk session of one user."""

	def __init__(self, browser, server, user, password):
		self.server, self.user = server, user
		self.context = browser.new_context(viewport={"width": 1440, "height": 1000})
		self.page = self.context.new_page()
		self.page.set_default_timeout(60_000)
		self.page.goto(f"{server}/login")
		self.page.fill("#login_email", user)
		self.page.fill("#login_password", password)
		self.page.click(".btn-login")
		self.page.wait_for_url("**/app**")
		self.page.wait_for_function("() => window.frappe && frappe.xcall && frappe.boot && frappe.boot.user")

	def shot(self, name):
		self.page.screenshot(path=os.path.join(ARTIFACTS, f"workshop-{name}.png"), full_page=True)

	def open(self, job_card):
		self.page.goto(f"{self.server}/app/service-job-card/{job_card}")
		self.page.wait_for_function(
			"(name) => window.cur_frm && cur_frm.docname === name && !cur_frm.is_dirty()", arg=job_card
		)

	def call(self, method, **args):
		return self.page.evaluate("([method, args]) => frappe.xcall(method, args)", [method, args])

	def action(self, label, expect_status):
		"""Take a workflow action from the form's Actions menu."""
		self.settled()
		page = self.page
		page.locator(".page-actions .actions-btn-group > button").click()
		page.locator(".page-actions .actions-btn-group .dropdown-item", has_text=label).first.click()
		page.wait_for_function("(s) => cur_frm.doc.status === s", arg=expect_status)

	def settled(self):
		"""No request in flight, no dialog open and the form loaded, for 1.5 s on end (clicking
		mid-reload sends no document; a save or a workflow action commits, and Frappe's realtime
		doc_update then reloads the form through a 1 s debounce: a click in between met a
		half-loaded form, "Missing Fields", or a dialog the reload left open)."""
		self.page.evaluate("() => { window.__dms_quiet_since = null; }")
		self.page.wait_for_function(
			"""() => {
				const ok = frappe.request.ajax_count === 0 && window.cur_frm && cur_frm.doc
					&& cur_frm.doc.name && cur_frm.doc.creation && !document.querySelector(".modal.show");
				if (!ok) { window.__dms_quiet_since = null; return false; }
				window.__dms_quiet_since = window.__dms_quiet_since || Date.now();
				return Date.now() - window.__dms_quiet_since > 1500;
			}""",
			polling=100,
		)

	def button(self, label, group=None):
		self.settled()
		page = self.page
		if group:
			page.locator(".page-actions .inner-group-button", has_text=group).locator("button").first.click()
			page.locator(".page-actions .dropdown-menu .dropdown-item", has_text=label).first.click()
		else:
			page.locator(".page-actions button", has_text=label).first.click()

	def close_dialog(self):
		self.page.locator(".modal.show .btn-modal-close").first.click()
		self.page.wait_for_selector(".modal.show", state="detached")

	def close(self):
		self.context.close()


@pytest.mark.commits  # the one write it makes itself (the job card's creation time) must land
def test_job_card_from_open_to_delivered_role_by_role(server, browser, demo_password):
	desks = {}

	def desk(user):
		if user not in desks:
			desks[user] = Desk(browser, server, user, demo_password)
		return desks[user]

	try:
		_walk(server, browser, desk)
	except Exception:
		for user, d in desks.items():
			d.shot(f"failure-{user.split('@')[0]}")
		raise
	finally:
		for d in desks.values():
			d.close()


def _walk(server, browser, desk):
	advisor = desk("advisor@omp.example")
	customer = advisor.call(
		"frappe.client.get_value",
		doctype="Customer Vehicle",
		filters="MA1TA2XX6GH123456",
		fieldname="customer",
	)["customer"]
	job_card = advisor.call(
		"frappe.client.insert",
		doc={
			"doctype": "Service Job Card",
			"company": "Orion Motors Pune",
			"customer": customer,
			"vehicle": "MA1TA2XX6GH123456",
			"concerns": "Oil change due; check noise",
			"labour": [{"item_code": "LAB-PMS-CAR", "standard_hours": 2.5, "rate": 900}],
			"parts": [{"item_code": "PRT-OIL-FILTER-C", "qty": 1, "rate": 450}],
		},
	)["name"]
	# each board column shows its oldest job cards: make this one the oldest, so the board shows
	# it however many job cards earlier runs left on a reused test site
	frappe.db.set_value("Service Job Card", job_card, "creation", "2000-01-01", update_modified=False)
	frappe.db.commit()

	# the workshop manager watches the board, assigns a technician and starts the job
	manager = desk("manager@omp.example")
	board = manager.context.new_page()
	board.goto(f"{server}/app/workshop-board")
	card = f'.dms-card[data-name="{job_card}"]'
	board.wait_for_selector(f'.dms-column[data-column="Open"] {card}')
	manager.open(job_card)
	amit = manager.call(
		"frappe.client.get_value",
		doctype="Service Technician",
		filters={"user": "tech.amit@omp.example"},
		fieldname="name",
	)["name"]
	manager.page.evaluate(
		"([line, tech]) => cur_frm.call('assign_technician', {labour_line: line, technician: tech})"
		".then(() => cur_frm.reload_doc())",
		[manager.page.evaluate("() => cur_frm.doc.labour[0].name"), amit],
	)
	manager.page.wait_for_function("(t) => cur_frm.doc.labour[0].technician === t", arg=amit)
	manager.action("Start Work", "In Progress")
	board.wait_for_selector(f'.dms-column[data-column="In Progress"] {card}')  # no reload

	# the advisor prices the estimate and asks for approval
	advisor.open(job_card)
	advisor.button("Estimate", group="Create")
	advisor.page.wait_for_function("() => !!cur_frm.doc.estimate")
	advisor.button("Customer Approval Link", group="Create")
	code = advisor.page.locator(".modal.show code")
	code.wait_for()
	link = code.inner_text()
	assert re.match(rf"{re.escape(server)}/estimate_approval\?token=", link), link
	advisor.close_dialog()
	advisor.page.wait_for_function("() => cur_frm.doc.approval_status === 'Awaiting Customer'")
	advisor.action("Request Approval", "Awaiting Approval")
	advisor.shot("1-awaiting-approval")

	# the customer, not logged in, approves on the portal page
	guest = browser.new_context()
	page = guest.new_page()
	page.goto(link)
	page.wait_for_selector("#estimate-decision")
	assert page.locator("tr[data-row]").count() == 2
	page.screenshot(path=os.path.join(ARTIFACTS, "workshop-2-customer-approval.png"), full_page=True)
	# nothing is preselected: the customer answers each line (the form will not send without)
	page.click("#estimate-decision button[type=submit]")
	assert not page.locator("text=Your decision has been recorded").count()
	for radio in page.locator("#estimate-decision input[type=radio][value=Approved]").all():
		radio.check()
	page.click("#estimate-decision button[type=submit]")
	page.wait_for_selector("text=Your decision has been recorded")
	guest.close()

	# repair cannot start before the parts are issued
	manager.open(job_card)
	manager.page.wait_for_function("() => cur_frm.doc.approval_status === 'Approved'")
	manager.page.locator(".page-actions .actions-btn-group > button").click()
	manager.page.locator(
		".page-actions .actions-btn-group .dropdown-item", has_text="Start Repair"
	).first.click()
	manager.page.wait_for_selector(".modal.show >> text=Parts not issued yet")
	manager.close_dialog()

	# the parts manager raises the parts request from the job card and issues it
	parts = desk("parts@omp.example")
	parts.open(job_card)
	parts.button("Parts Request", group="Create")
	parts.page.wait_for_function(
		"() => cur_frm && cur_frm.doctype === 'Parts Request' && cur_frm.doc.items.length"
	)
	parts.page.keyboard.press("Control+s")
	parts.page.wait_for_function("() => !cur_frm.doc.__islocal && !cur_frm.is_dirty()")
	parts.page.evaluate("() => { cur_frm.savesubmit(); }")
	parts.page.locator(".modal.show .btn-primary").filter(has_text="Yes").click()
	parts.page.wait_for_function("() => cur_frm.doc.docstatus === 1")
	parts.button("Issue Parts")
	parts.page.wait_for_function("() => cur_frm.doc.status === 'Issued'")

	manager.open(job_card)
	manager.action("Start Repair", "Repairing")

	# the technician clocks the work and sends the job to QC
	tech = desk("tech.amit@omp.example")
	tech.open(job_card)
	for label in ("Clock On", "Clock Off"):
		tech.button(label, group="Job Clock")
		tech.page.locator(".modal.show .btn-primary").click()
		tech.page.wait_for_function("() => !document.querySelector('.modal.show')")
		expected = "In Progress" if label == "Clock On" else "Done"
		tech.page.wait_for_function("(s) => cur_frm.doc.labour[0].work_status === s", arg=expected)
	tech.action("Send to QC", "Quality Check")

	# the QC supervisor verifies every checklist item, then passes QC
	qc = desk("qc@omp.example")
	qc.open(job_card)
	qc.settled()
	qc.page.evaluate(
		"() => { cur_frm.doc.qc_items.forEach((r) => frappe.model.set_value(r.doctype, r.name, 'verified', 1)); }"
	)
	qc.page.keyboard.press("Control+s")
	qc.page.wait_for_function("() => !cur_frm.is_dirty() && cur_frm.doc.qc_items.every((r) => r.verified)")
	qc.action("Pass QC", "Ready for Pickup")
	qc.shot("3-ready-for-pickup")

	# the manager's board moved the card by itself
	board.wait_for_selector(f'.dms-column[data-column="Ready for Pickup"] {card}')
	board.screenshot(path=os.path.join(ARTIFACTS, "workshop-4-board.png"), full_page=True)
	history = qc.page.evaluate("() => cur_frm.doc.status_log.map((r) => [r.to_status, r.changed_by])")
	assert history == [
		["In Progress", "manager@omp.example"],
		["Awaiting Approval", "advisor@omp.example"],
		["Repairing", "manager@omp.example"],
		["Quality Check", "tech.amit@omp.example"],
		["Ready for Pickup", "qc@omp.example"],
	]

	# the accountant invoices from the job card, submits, and reads the ledger
	accountant = desk("accounts@omp.example")
	accountant.open(job_card)
	accountant.button("Invoices", group="Create")
	accountant.page.wait_for_function(
		"() => cur_frm && cur_frm.doctype === 'Sales Invoice' && !cur_frm.is_new()"
	)
	invoice = accountant.page.evaluate("() => cur_frm.doc.name")
	assert accountant.page.evaluate("() => cur_frm.doc.dms_service_job_card") == job_card
	accountant.page.evaluate("() => { cur_frm.savesubmit(); }")
	accountant.page.locator(".modal.show .btn-primary").filter(has_text="Yes").click()
	accountant.page.wait_for_function("() => cur_frm.doc.docstatus === 1")
	accountant.shot("5-invoice-submitted")
	today = accountant.page.evaluate("() => frappe.datetime.get_today()")
	accountant.page.goto(
		f"{server}/app/query-report/General Ledger?company=Orion Motors Pune&from_date={today}"
		f"&to_date={today}&voucher_no={invoice}"
	)
	accountant.page.wait_for_selector(".dt-scrollable .dt-row", timeout=60_000)
	ledger = accountant.page.locator(".dt-scrollable").inner_text()
	for account in ("Debtors", "Cost of Goods Sold", "Output GST"):
		assert account in ledger, (account, ledger[:2000])
	accountant.shot("6-general-ledger")
	accountant.call(
		"frappe.client.submit",
		doc={
			**accountant.call(
				"erpnext.accounts.doctype.payment_entry.payment_entry.get_payment_entry",
				dt="Sales Invoice",
				dn=invoice,
			),
			"reference_no": "UPI-BROWSER",
			"reference_date": today,
		},
	)

	# the advisor hands the car over
	advisor.open(job_card)
	advisor.page.wait_for_function(
		"() => cur_frm.doc.outstanding_amount === 0 && cur_frm.doc.paid_amount > 0"
	)
	advisor.action("Deliver", "Delivered")
	advisor.shot("7-delivered")

	# the OEM admin compares the dealers
	oem = desk("oem.admin@orion-oem.example")
	oem.page.goto(f"{server}/app/dealer-network")
	oem.page.wait_for_selector(".number-widget-box", timeout=60_000)
	oem.page.wait_for_selector(".chart-container .frappe-chart, .widget .chart-wrapper svg", timeout=60_000)
	oem.shot("8-dealer-network")
