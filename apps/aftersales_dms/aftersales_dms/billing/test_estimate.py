# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import flt

from aftersales_dms.billing.estimate import make_estimate
from aftersales_dms.workshop.doctype.service_job_card.test_service_job_card import make_job_card


class TestEstimate(FrappeTestCase):
	def test_quotation_prices_labour_and_parts_with_dealer_taxes(self):
		jc = make_job_card(
			labour=("LAB-PMS-CAR", "LAB-BRAKE-PADS"),
			parts=[
				{"item_code": "PRT-BRAKE-PAD-F", "qty": 1, "rate": 2400},
				{"item_code": "PRT-OIL-5W30-1L", "qty": 4, "rate": 650},
			],
		)
		jc.labour[1].rate = 800  # the advisor's price for this job, not the list price
		jc.save()
		name = make_estimate(jc.name)
		q = frappe.get_doc("Quotation", name)
		self.assertEqual(
			(q.docstatus, q.party_name, q.company, q.dms_service_job_card),
			(1, jc.customer, jc.company, jc.name),
		)
		lines = [(i.item_code, i.qty, i.rate, i.amount, i.dms_job_card_row) for i in q.items]
		self.assertEqual(
			lines,
			[
				("LAB-PMS-CAR", 2.5, 900, 2250, jc.labour[0].name),
				("LAB-BRAKE-PADS", 1.2, 800, 960, jc.labour[1].name),
				("PRT-BRAKE-PAD-F", 1, 2400, 2400, jc.parts[0].name),
				("PRT-OIL-5W30-1L", 4, 650, 2600, jc.parts[1].name),
			],
		)
		net = 2250 + 960 + 2400 + 2600
		self.assertEqual(flt(q.net_total), net)
		self.assertEqual(q.taxes_and_charges, "Service GST 18% - OMP")
		self.assertEqual(flt(q.total_taxes_and_charges), flt(net * 0.18, 2))
		self.assertEqual(flt(q.grand_total), flt(net * 1.18, 2))
		jc.reload()
		self.assertEqual(flt(jc.grand_total), net)  # the job card's own pre-tax total agrees
		# what the customer pays if they approve it all: the rounded total (one rounding)
		self.assertEqual((jc.estimate, flt(jc.estimate_total)), (name, flt(q.rounded_total)))
		self.assertEqual(flt(q.rounded_total), round(net * 1.18))

	def test_new_estimate_replaces_the_open_one(self):
		jc = make_job_card()
		first = make_estimate(jc.name)
		second = make_estimate(jc.name)
		self.assertEqual(frappe.db.get_value("Quotation", first, "docstatus"), 2)
		self.assertEqual(frappe.db.get_value("Service Job Card", jc.name, "estimate"), second)

	def test_nothing_to_estimate_and_permissions(self):
		jc = make_job_card(labour=())
		with self.assertRaisesRegex(frappe.ValidationError, "Add labour or parts"):
			make_estimate(jc.name)
		frappe.set_user("tech.amit@omp.example")
		try:
			with self.assertRaises(frappe.PermissionError):
				make_estimate(jc.name)
		finally:
			frappe.set_user("Administrator")
