"""Trust findings, each reproduced first: methods act on the stored document, no user switch in a
request, locking reads where a guard depends on what another request just wrote, and a job
Waiting for Parts always has a way out."""

import json

import frappe
import pytest
from frappe.tests.utils import FrappeTestCase

from aftersales_dms.billing.approval import decide, make_approval_link
from aftersales_dms.billing.estimate import make_estimate
from aftersales_dms.billing.test_approval import token_of
from aftersales_dms.parts.doctype.parts_request.test_parts_request import STORE, bin_qty, make_request
from aftersales_dms.tests.races import at_once
from aftersales_dms.workshop.doctype.service_job_card.test_service_job_card import make_job_card, tech
from aftersales_dms.workshop.test_job_card_status import ADVISOR, MANAGER, PARTS, act, as_user

ITEM = "PRT-BATTERY-12V"


def empty_the_store(item=ITEM):
	"""Issue the whole store stock of one part (inside the test's rollback)."""
	have = bin_qty(item, STORE)
	if have > 0:
		se = frappe.get_doc(
			{
				"doctype": "Stock Entry",
				"stock_entry_type": "Material Issue",
				"company": "Orion Motors Pune",
				"items": [{"item_code": item, "qty": have, "s_warehouse": STORE}],
			}
		)
		se.insert()
		se.submit()


def waiting_for_parts(extra_parts=()):
	"""A job card In Progress whose battery line cannot be issued: Waiting for Parts."""
	empty_the_store()
	jc = make_job_card(parts=[{"item_code": ITEM, "qty": 1, "rate": 5200}, *extra_parts])
	act(jc.name, "Start Work", MANAGER)
	pr = make_request([(ITEM, 1)], job_card=jc.name)
	as_user(PARTS, pr.issue_parts)
	jc.reload()
	assert (jc.status, jc.held_from) == ("Waiting for Parts", "In Progress"), jc.status
	return jc, frappe.get_doc("Parts Request", pr.name)


class TestStoredDocument(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def test_assign_technician_needs_write_on_the_stored_job_card(self):
		"""Another dealer's manager, with a document naming a Pune job card, gets a clear error."""
		jc = make_job_card()
		other = frappe.db.get_value("User", {"name": ("like", "manager@omn%")})
		self.assertTrue(other)
		frappe.set_user(other)
		with self.assertRaises(frappe.PermissionError):
			jc.assign_technician(jc.labour[0].name, tech("Ganesh"))
		frappe.set_user("Administrator")
		self.assertEqual(
			frappe.db.get_value("Service Job Card Labour", jc.labour[0].name, "technician"),
			jc.labour[0].technician,
		)


class TestNoUserSwitchInARequest(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def test_rejecting_a_warranty_claim_leaves_the_oem_admins_session_alone(self):
		from aftersales_dms.billing.doctype.oem_warranty_claim.test_oem_warranty_claim import (
			OEM,
			file_claim,
			warranty_invoice,
		)

		_jc, inv = warranty_invoice()
		claim = file_claim(inv)
		frappe.set_user(OEM)
		# what a web request's session holds: its id and data (the CSRF token among them)
		frappe.session.sid, frappe.session.data = "the-oem-admins-sid", frappe._dict(csrf_token="tok-1")
		claim.reject("Not a manufacturing defect")
		self.assertEqual(
			(frappe.session.user, frappe.session.sid, frappe.session.data.get("csrf_token")),
			(OEM, "the-oem-admins-sid", "tok-1"),
		)
		frappe.set_user("Administrator")
		claim.reload()
		self.assertEqual((claim.status, claim.decided_by), ("Rejected", OEM))
		note = frappe.get_doc("Sales Invoice", claim.credit_note)
		self.assertEqual((note.docstatus, note.is_return, note.return_against), (1, 1, inv.name))


class TestWaitingForPartsWayOut(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def test_the_missing_line_removed(self):
		jc, _pr = waiting_for_parts(extra_parts=[{"item_code": "PRT-OIL-FILTER-C", "qty": 1, "rate": 450}])
		jc.set("parts", [r for r in jc.parts if r.item_code != ITEM])
		as_user(ADVISOR, jc.save)
		jc.reload()
		self.assertEqual((jc.status, jc.held_from), ("In Progress", None))
		self.assertEqual(jc.status_log[-1].remarks, "No parts missing any more")

	def test_the_missing_line_declined_by_the_customer(self):
		empty_the_store()
		jc = make_job_card(parts=[{"item_code": ITEM, "qty": 1, "rate": 5200}])
		act(jc.name, "Start Work", MANAGER)
		make_estimate(jc.name)
		token = token_of(make_approval_link(jc.name))
		act(jc.name, "Request Approval", ADVISOR)
		as_user(PARTS, make_request([(ITEM, 1)], job_card=jc.name).issue_parts)
		self.assertEqual(frappe.db.get_value("Service Job Card", jc.name, "status"), "Waiting for Parts")
		jc.reload()
		decisions = {r.name: "Approved" for r in jc.labour} | {jc.parts[0].name: "Declined"}
		as_user("Guest", decide, token, decisions)
		jc.reload()
		self.assertEqual((jc.status, jc.approval_status), ("Awaiting Approval", "Partly Approved"))

	def test_its_material_request_cancelled(self):
		jc, pr = waiting_for_parts()
		self.assertTrue(pr.material_request)
		mr = frappe.get_doc("Material Request", pr.material_request)
		mr.cancel()
		jc.reload()
		self.assertEqual(jc.status, "In Progress")
		self.assertIn(mr.name, jc.status_log[-1].remarks)

	def test_still_short_stays_waiting(self):
		jc, _pr = waiting_for_parts()
		jc.concerns = "customer called"
		as_user(ADVISOR, jc.save)
		self.assertEqual(frappe.db.get_value("Service Job Card", jc.name, "status"), "Waiting for Parts")


@pytest.mark.commits
def test_two_submits_of_one_feedback_link_store_one_feedback():
	"""Both requests pass the token check before either commits; the second one, after the lock,
	must see the first one's spent nonce (a plain read after the lock saw the old snapshot)."""
	from aftersales_dms.delivery.feedback import submit_feedback
	from aftersales_dms.delivery.test_feedback import delivered_job_card

	jc = delivered_job_card()
	frappe.db.commit()
	token = jc.feedback_link.split("token=")[1]
	results = at_once(
		lambda: submit_feedback(token, 5, "first tab"),
		lambda: submit_feedback(token, 1, "second tab"),
		user="Guest",
	)
	stored = frappe.get_all("Service Feedback", filters={"service_job_card": jc.name}, pluck="comment")
	assert len(stored) == 1, (stored, results)
	assert sum(isinstance(r, Exception) for r in results) == 1, results


@pytest.mark.commits
def test_two_estimates_at_once_leave_one_live_quotation():
	"""Two advisors click Create → Estimate at the same moment: one estimate stays submitted, the
	other is cancelled (before, the second read the job card's estimate from its old snapshot and
	left both live)."""
	jc = make_job_card()
	frappe.db.commit()
	results = at_once(lambda: make_estimate(jc.name), lambda: make_estimate(jc.name), user=ADVISOR)
	assert all(isinstance(r, str) for r in results), results
	live = frappe.get_all(
		"Quotation", filters={"dms_service_job_card": jc.name, "docstatus": 1}, pluck="name"
	)
	assert live == [frappe.db.get_value("Service Job Card", jc.name, "estimate")], (live, results)


class TestGuestPagesEscape(FrappeTestCase):
	def test_estimate_page_escapes_what_it_prints(self):
		from frappe.website.serve import get_response_content

		from aftersales_dms.billing.test_approval import estimated_job_card

		jc = estimated_job_card()
		link = make_approval_link(jc.name)
		script = '<img src=x onerror="alert(1)">'
		# as a Data Import or another app might store it, past Frappe's sanitising of form input
		frappe.db.set_value("Quotation Item", {"parent": jc.estimate}, "description", script)
		frappe.db.set_value("Customer Vehicle", jc.vehicle, "model", "<b>bold</b>")
		frappe.set_user("Guest")
		try:
			frappe.form_dict.token = token_of(link)
			html = get_response_content("estimate_approval")
		finally:
			frappe.set_user("Administrator")
			frappe.form_dict.pop("token", None)
		self.assertIn("&lt;img src=x onerror=", html)
		self.assertNotIn(script, html)
		self.assertIn("&lt;b&gt;bold&lt;/b&gt;", html)


class TestAnotherDealersDocument(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def test_cannot_be_taken_over_by_setting_its_company(self):
		"""frappe.client.set_value / bulk_update / save load the document, apply the values and
		check write on the result: a Pune advisor setting a Nashik vehicle's company to Pune
		would pass. The stored document is checked too."""
		from frappe.client import bulk_update, save, set_value

		vehicle = frappe.get_all(
			"Customer Vehicle", filters={"company": "Orion Motors Nashik"}, pluck="name"
		)[0]
		sent = frappe.get_doc("Customer Vehicle", vehicle).as_dict()
		sent["company"] = "Orion Motors Pune"
		frappe.set_user(ADVISOR)
		for call in (
			lambda: set_value("Customer Vehicle", vehicle, "company", "Orion Motors Pune"),
			lambda: save(json.dumps(sent, default=str)),
		):
			with self.assertRaises(frappe.PermissionError):
				call()
		result = bulk_update(
			json.dumps([{"doctype": "Customer Vehicle", "docname": vehicle, "company": "Orion Motors Pune"}])
		)
		self.assertTrue(result["failed_docs"])
		frappe.set_user("Administrator")
		self.assertEqual(frappe.db.get_value("Customer Vehicle", vehicle, "company"), "Orion Motors Nashik")

	def test_the_apps_links_on_an_erpnext_invoice_keep_their_values(self):
		"""A draft service invoice's job card, bill-to and line rows are the app's: an accountant's
		set_value or save changes what ERPNext lets them change, not those."""
		from frappe.client import set_value

		from aftersales_dms.billing.invoice import make_invoices
		from aftersales_dms.billing.test_invoice import ACCOUNTANT, ready_job_card

		jc = ready_job_card(parts=())
		invoice = make_invoices(jc.name)["Customer"]
		row = frappe.db.get_value(
			"Sales Invoice Item", {"parent": invoice}, ["name", "dms_job_card_row"], as_dict=True
		)
		frappe.set_user(ACCOUNTANT)
		set_value(
			"Sales Invoice", invoice, {"dms_bill_to": "Internal", "dms_odometer": 1, "remarks": "checked"}
		)
		set_value("Sales Invoice Item", row.name, "dms_job_card_row", "forged")
		frappe.set_user("Administrator")
		stored = frappe.get_doc("Sales Invoice", invoice)
		self.assertEqual(
			(stored.dms_bill_to, stored.dms_odometer, stored.remarks), ("Customer", jc.odometer, "checked")
		)
		self.assertEqual(stored.items[0].dms_job_card_row, row.dms_job_card_row)
