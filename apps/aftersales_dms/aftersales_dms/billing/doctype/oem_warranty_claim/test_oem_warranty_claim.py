# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import flt

from aftersales_dms.billing.invoice import make_invoices
from aftersales_dms.billing.test_invoice import ACCOUNTANT, ready_job_card, submit_as_accountant
from aftersales_dms.workshop.test_job_card_status import as_user

OEM = "oem.admin@orion-oem.example"


def warranty_invoice():
	jc = ready_job_card(
		labour=(("LAB-PMS-CAR", "Customer"), ("LAB-DIAG", "Warranty")),
		parts=(("PRT-OIL-FILTER-C", 1, "Warranty"),),
	)
	invoices = make_invoices(jc.name)
	return jc, submit_as_accountant(invoices["Warranty"])


def file_claim(invoice):
	claim = frappe.get_doc(
		{
			"doctype": "OEM Warranty Claim",
			"sales_invoice": invoice.name,
			"causal_part": "PRT-OIL-FILTER-C",
			"defect_description": "Filter housing cracked, oil leak at 1,200 km",
		}
	)
	as_user(ACCOUNTANT, claim.insert)
	as_user(ACCOUNTANT, claim.submit)
	return claim


class TestOEMWarrantyClaim(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def test_claim_carries_the_job_and_is_approved_by_the_oem(self):
		jc, inv = warranty_invoice()
		claim = file_claim(inv)
		self.assertEqual(
			(claim.status, claim.service_job_card, claim.oem_customer, flt(claim.claim_amount), claim.vin),
			("Submitted", jc.name, inv.customer, flt(inv.grand_total), jc.vehicle),
		)
		self.assertEqual([(o.item_code, o.hours) for o in claim.operations], [("LAB-DIAG", 0.8)])
		with self.assertRaises(frappe.DuplicateEntryError):
			file_claim(inv)
		with self.assertRaises(frappe.PermissionError):
			as_user(ACCOUNTANT, claim.approve, "OEM-42")
		as_user(OEM, claim.approve, "OEM-42")
		claim.reload()
		self.assertEqual((claim.status, claim.oem_reference, claim.decided_by), ("Approved", "OEM-42", OEM))
		with self.assertRaisesRegex(frappe.ValidationError, "only a submitted claim"):
			as_user(OEM, claim.reject, "changed our mind")

	def test_rejection_credits_the_oem_and_rebills_the_customer(self):
		jc, inv = warranty_invoice()
		claim = file_claim(inv)
		cogs_before = frappe.db.sql(
			"select sum(debit - credit) from `tabGL Entry` where voucher_no = %s and account like 'Cost of Goods Sold%%'",
			inv.name,
		)[0][0]
		with self.assertRaisesRegex(frappe.ValidationError, "Give the OEM's reason"):
			as_user(OEM, claim.reject, "")
		as_user(OEM, claim.reject, "Not a manufacturing defect: impact damage", 1)
		claim.reload()
		self.assertEqual(claim.status, "Rejected")
		note = frappe.get_doc("Sales Invoice", claim.credit_note)
		self.assertEqual(
			(note.is_return, note.return_against, note.docstatus, note.update_stock, note.customer),
			(1, inv.name, 1, 0, inv.customer),
		)
		self.assertEqual(flt(note.grand_total), -flt(inv.grand_total))
		self.assertEqual(flt(frappe.db.get_value("Sales Invoice", inv.name, "outstanding_amount")), 0)
		# the parts stay consumed: no stock movement on the credit note, COGS untouched
		self.assertFalse(frappe.db.exists("Stock Ledger Entry", {"voucher_no": note.name}))
		self.assertGreater(flt(cogs_before), 0)
		entries = frappe.get_all("GL Entry", filters={"voucher_no": note.name}, fields=["debit", "credit"])
		self.assertAlmostEqual(sum(e.debit for e in entries), sum(e.credit for e in entries), 2)
		rebill = frappe.get_doc("Sales Invoice", claim.rebill_invoice)
		self.assertEqual(
			(rebill.customer, rebill.docstatus, rebill.dms_bill_to, rebill.update_stock),
			(jc.customer, 0, "Re-bill", 0),
		)
		self.assertEqual(flt(rebill.net_total), flt(inv.net_total))

	def test_only_submitted_warranty_invoices_can_be_claimed(self):
		jc, inv = warranty_invoice()
		customer_invoice = frappe.db.get_value("Service Job Card", jc.name, "customer_invoice")
		for invoice in (customer_invoice, "ACC-SINV-NOPE"):
			claim = frappe.get_doc(
				{
					"doctype": "OEM Warranty Claim",
					"sales_invoice": invoice,
					"causal_part": "PRT-OIL-FILTER-C",
					"defect_description": "x",
				}
			)
			with self.assertRaises(frappe.ValidationError):
				claim.insert()
