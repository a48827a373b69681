# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

"""A recall closes for a vehicle when its remedy is done and billed (and reopens when that
invoice is cancelled); other vehicles of the campaign still get it."""

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import flt

from aftersales_dms.billing.invoice import make_invoices
from aftersales_dms.billing.test_invoice import approved_to_ready, to_approval
from aftersales_dms.booking.recall import open_campaigns_for
from aftersales_dms.workshop.doctype.service_job_card.service_job_card import add_recall_lines
from aftersales_dms.workshop.test_job_card_status import (
	ADVISOR,
	AMIT,
	MANAGER,
	as_user,
)

COMPANY = "Orion Motors Pune"
ACCOUNTANT = "accounts@omp.example"
OEM_ADMIN = "oem.admin@orion-oem.example"
REMEDIED, OTHER = "MA1TA2XX6GH123456", "MA3EWDE16KM456123"  # both Pune vehicles in the campaign
CAMPAIGN = "RC-REMEDY-01"


def make_campaign():
	doc = frappe.get_doc(
		{
			"doctype": "Recall Campaign",
			"campaign_code": CAMPAIGN,
			"title": "Battery terminal recall",
			"vins": [{"vin": REMEDIED}, {"vin": OTHER}],
			"remedy_items": [{"item_code": "LAB-BATTERY", "qty": 1}],
		}
	)
	return as_user(OEM_ADMIN, doc.insert)


def recall_job_card(vehicle):
	"""A job card opened by the advisor with the vehicle's open recall lines (no rates sent)."""
	doc = frappe.get_doc(
		{
			"doctype": "Service Job Card",
			"company": COMPANY,
			"customer": frappe.db.get_value("Customer Vehicle", vehicle, "customer"),
			"vehicle": vehicle,
		}
	)
	add_recall_lines(doc, vehicle, COMPANY)
	return as_user(ADVISOR, doc.insert)


def walk_to_ready(jc):
	amit = frappe.db.get_value("Service Technician", {"user": AMIT})
	for row in jc.labour:
		as_user(MANAGER, frappe.get_doc("Service Job Card", jc.name).assign_technician, row.name, amit)
	return approved_to_ready(jc, to_approval(jc))


def campaign_lines(jc):
	return [r.item_code for r in jc.labour + jc.parts if r.recall_campaign == CAMPAIGN]


class TestRecallRemedy(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def test_billed_remedy_closes_the_campaign_for_that_vehicle_only(self):
		make_campaign()
		jc = recall_job_card(REMEDIED)
		self.assertEqual(campaign_lines(jc), ["LAB-BATTERY"])
		line = next(r for r in jc.labour if r.recall_campaign == CAMPAIGN)
		# priced on the server from the dealer's list, for the OEM that pays the warranty line
		self.assertEqual((line.bill_to, flt(line.rate)), ("Warranty", 1000))

		jc = walk_to_ready(jc)
		invoices = as_user(ACCOUNTANT, make_invoices, jc.name)
		warranty = frappe.get_doc("Sales Invoice", invoices["Warranty"])
		self.assertEqual(
			warranty.selling_price_list,
			frappe.db.get_value("Dealer Workshop Settings", COMPANY, "selling_price_list"),
		)
		self.assertIn(("LAB-BATTERY", 1000), [(i.item_code, flt(i.rate)) for i in warranty.items])
		# invoiced but not yet submitted: still open
		self.assertIn(CAMPAIGN, [c.name for c in open_campaigns_for(REMEDIED)])

		as_user(ACCOUNTANT, warranty.submit)
		self.assertTrue(frappe.db.exists("Recall Remedy", {"recall_campaign": CAMPAIGN, "vehicle": REMEDIED}))
		self.assertNotIn(CAMPAIGN, [c.name for c in open_campaigns_for(REMEDIED)])
		self.assertEqual(campaign_lines(recall_job_card(REMEDIED)), [])  # the next visit
		self.assertEqual(campaign_lines(recall_job_card(OTHER)), ["LAB-BATTERY"])  # another car

		# no demo role may cancel a submitted invoice (ERPNext's Accounts Manager does; our roles get
		# no cancel right on Sales Invoice): cancelled as the site's administrator, as accounts would
		warranty.reload()
		warranty.cancel()
		self.assertFalse(
			frappe.db.exists("Recall Remedy", {"recall_campaign": CAMPAIGN, "vehicle": REMEDIED})
		)
		self.assertIn(CAMPAIGN, [c.name for c in open_campaigns_for(REMEDIED)])
