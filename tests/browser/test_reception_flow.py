"""An advisor in Chromium: calendar, booking, check-in, inspection, and the job card it opens."""

import os

import pytest
from dmstest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(server, demo_password):
	from playwright.sync_api import sync_playwright

	with sync_playwright() as p:
		browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
		page = browser.new_page(viewport={"width": 1440, "height": 1000})
		page.set_default_timeout(60_000)
		page.goto(f"{server}/login")
		page.fill("#login_email", "advisor@omp.example")
		page.fill("#login_password", demo_password)
		page.click(".btn-login")
		page.wait_for_url("**/app**")
		yield page
		browser.close()


@pytest.fixture(autouse=True)
def screenshot_on_failure(request, page):
	"""Keep what the browser showed when a step failed (artifacts/browser-failure-<test>.png)."""
	yield
	report = getattr(request.node, "rep_call", None)
	if report is not None and report.failed:
		shot(page, f"browser-failure-{request.node.name}")


def shot(page, name):
	page.screenshot(path=os.path.join(ARTIFACTS, f"{name}.png"), full_page=True)


def wait_saved(page):
	page.wait_for_function("() => window.cur_frm && !cur_frm.doc.__islocal && !cur_frm.is_dirty()")


def save(page):
	page.keyboard.press("Control+s")
	wait_saved(page)


def submit(page):
	page.evaluate("() => { cur_frm.savesubmit(); }")  # returns before the confirm dialog is answered
	page.locator(".modal.show .btn-primary").filter(has_text="Yes").click()
	page.wait_for_function("() => window.cur_frm && cur_frm.doc.docstatus === 1")


def click_button(page, label, group=None):
	if group:
		page.locator(".page-actions .inner-group-button", has_text=group).locator("button").first.click()
		page.locator(".page-actions .dropdown-menu .dropdown-item", has_text=label).first.click()
	else:
		page.locator(".page-actions button", has_text=label).first.click()


def test_advisor_books_checks_in_inspects_and_opens_the_job_card(server, page):
	# the calendar shows the dealer's booked week
	page.goto(f"{server}/app/service-appointment/view/calendar/default")
	page.wait_for_selector(".fc-view", state="visible")
	shot(page, "reception-1-calendar")

	# book: customer, vehicle, service; Find Slot proposes a free bay and technician
	page.goto(f"{server}/app/service-appointment/new")
	page.wait_for_function("() => window.cur_frm && cur_frm.doctype === 'Service Appointment'")
	customer = page.evaluate(
		"() => frappe.db.get_value('Customer', {customer_name: 'Aarav Mehta'}, 'name').then(r => r.message.name)"
	)
	page.evaluate(
		"""async (customer) => {
			await cur_frm.set_value('company', 'Orion Motors Pune');
			await cur_frm.set_value('customer', customer);
			await cur_frm.set_value('vehicle', 'MA1TA2XX6GH123456');
			await cur_frm.set_value('preferred_date', frappe.datetime.add_days(frappe.datetime.get_today(), 25));
			await cur_frm.set_value('concerns', 'Brake noise at low speed');
			const row = cur_frm.add_child('services');
			await frappe.model.set_value(row.doctype, row.name, 'item_code', 'LAB-PMS-CAR');
			cur_frm.refresh_field('services');
		}""",
		customer,
	)
	save(page)
	click_button(page, "Find Slot")
	page.locator(".modal.show select").wait_for()
	page.locator(".modal.show .btn-primary").click()
	page.wait_for_function(
		"() => cur_frm.doc.scheduled_start && cur_frm.doc.service_bay && cur_frm.doc.technician"
	)
	save(page)
	click_button(page, "Confirm")
	page.wait_for_function("() => cur_frm.doc.status === 'Confirmed'")
	appointment = page.evaluate("() => cur_frm.doc.name")
	shot(page, "reception-2-appointment")

	# check in from the appointment: customer, vehicle, concerns and services arrive filled in
	click_button(page, "Check In")
	page.wait_for_function("() => window.cur_frm && cur_frm.doctype === 'Vehicle Check In'")
	assert page.evaluate("() => cur_frm.doc.service_appointment") == appointment
	assert page.evaluate("() => cur_frm.doc.concerns") == "Brake noise at low speed"
	# above the vehicle's last reading (a reused test site has readings from earlier runs)
	last = page.evaluate(
		"() => frappe.db.get_value('Customer Vehicle', 'MA1TA2XX6GH123456', 'current_odometer')"
		".then(r => r.message.current_odometer)"
	)
	odometer = max(31250, int(last or 0) + 250)
	page.locator('[data-fieldname="odometer"] input').fill(str(odometer))
	page.locator('[data-fieldname="fuel_level"] select').select_option("3/4")
	page.locator('[data-fieldname="belongings"] textarea').fill("Child seat")
	save(page)
	submit(page)
	check_in = page.evaluate("() => cur_frm.doc.name")
	shot(page, "reception-3-check-in")

	# the multi-point inspection from the car template: answer every check and complete it
	click_button(page, "Inspection", group="Open")
	page.wait_for_function(
		"() => window.cur_frm && cur_frm.doctype === 'Vehicle Inspection' && cur_frm.doc.items"
	)
	page.evaluate(
		"""async () => {
			for (const row of cur_frm.doc.items) {
				await frappe.model.set_value(row.doctype, row.name, 'result', row.check_item === 'Front brake pads' ? 'Amber' : 'Green');
			}
			cur_frm.refresh_field('items');
		}"""
	)
	save(page)
	submit(page)
	assert page.evaluate("() => cur_frm.doc.status") == "Completed"
	shot(page, "reception-4-inspection")

	# the job card, created in one click from the check-in, inherits everything
	page.goto(f"{server}/app/vehicle-check-in/{check_in}")
	page.wait_for_function(f"() => window.cur_frm && cur_frm.doc.name === '{check_in}'")
	click_button(page, "Job Card", group="Create")
	page.wait_for_function("() => window.cur_frm && cur_frm.doctype === 'Service Job Card'")
	save(page)
	doc = page.evaluate("() => cur_frm.doc")
	assert doc["vehicle_check_in"] == check_in
	assert doc["service_appointment"] == appointment
	assert (doc["customer"], doc["vehicle"], doc["odometer"], doc["fuel_level"]) == (
		customer,
		"MA1TA2XX6GH123456",
		odometer,
		"3/4",
	)
	assert doc["concerns"] == "Brake noise at low speed"
	assert doc["vehicle_inspection"]
	assert doc["labour"][0]["item_code"] == "LAB-PMS-CAR" and doc["labour"][0]["standard_hours"] == 2.5
	assert doc["contact_mobile"] and doc["registration_plate"] == "MH12AB1234"
	assert "OM-RC-2026-01" in doc["open_recalls"]
	page.wait_for_selector(".form-dashboard .alert, .form-message", state="attached")
	shot(page, "reception-5-job-card")


def test_a_form_left_behind_does_not_take_the_desk_back_when_it_reloads(server, page):
	"""Frappe reloads an open form a second after its document changed (the realtime doc_update, which
	also arrives before the answer to the user's own button). An advisor who opens another form in
	that second keeps it: `cur_frm` (Ctrl+S and every desk script) stays on the form shown, and the
	form left behind shows the change when the advisor comes back to it."""
	vehicle = "MA1TA2XX6GH123456"
	appointment = page.evaluate(
		"""async (vehicle) => {
			const customer = (await frappe.db.get_value('Customer Vehicle', vehicle, 'customer')).message.customer;
			const doc = await frappe.xcall('frappe.client.insert', {doc: {
				doctype: 'Service Appointment', company: 'Orion Motors Pune', customer, vehicle,
				preferred_date: frappe.datetime.add_days(frappe.datetime.get_today(), 20),
				concerns: 'Wipers streak', services: [{item_code: 'LAB-PMS-CAR'}],
			}});
			return doc.name;
		}""",
		vehicle,
	)
	page.goto(f"{server}/app/service-appointment/{appointment}")
	page.wait_for_function(
		"(name) => window.cur_frm && cur_frm.docname === name && !cur_frm.is_dirty()", arg=appointment
	)
	page.evaluate(
		"""async ([name, vehicle]) => {
			const changed = new Promise((resolve) => {
				const seen = (data) => {
					if (data.name !== name) return;
					frappe.realtime.off('doc_update', seen);
					resolve();
				};
				frappe.realtime.on('doc_update', seen);
			});
			await frappe.xcall('frappe.client.set_value', {
				doctype: 'Service Appointment', name, fieldname: 'concerns', value: 'Wipers streak; horn weak',
			});
			await changed; // Frappe's own handler has now scheduled the appointment form's reload
			frappe.set_route('Form', 'Customer Vehicle', vehicle);
		}""",
		[appointment, vehicle],
	)
	page.wait_for_function(
		"(vehicle) => window.cur_frm && cur_frm.doctype === 'Customer Vehicle' && cur_frm.docname === vehicle",
		arg=vehicle,
	)
	page.wait_for_timeout(2500)  # the scheduled reload (one second) has run by now
	assert page.evaluate(
		"() => [cur_frm.doctype, cur_frm === frappe.container.page.frm, frappe.get_route()[1]]"
	) == ["Customer Vehicle", True, "Customer Vehicle"]

	page.evaluate("(name) => frappe.set_route('Form', 'Service Appointment', name)", appointment)
	page.wait_for_function(
		"(name) => window.cur_frm && cur_frm.docname === name && cur_frm.doc.concerns === 'Wipers streak; horn weak'",
		arg=appointment,
	)
