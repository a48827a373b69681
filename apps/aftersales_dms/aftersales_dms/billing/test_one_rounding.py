# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

"""One rounding, to the paisa, everywhere the customer sees a figure (#19): the estimate (the
Quotation), the customer's approval page (lines, discount, taxes, rounding adjustment), the
Dealer Estimate print, the decision's answer, the Ready-for-Pickup SMS and the customer's
submitted Sales Invoice agree. Hours are kept, estimated and billed to the hundredth of an hour.

The property test walks the whole journey as the roles do it (tests/test_stateful_invariants's
Journey: the advisor, the customer as Guest, the technician, QC, the accountant) at both dealers
for random lines: hours with fractions, part quantities, rates with paisa, a discount within the
advisor's limit, covered lines among them."""

import re

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import flt, fmt_money
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftersales_dms.billing.customer_figures import figures, payable
from aftersales_dms.billing.estimate import make_estimate
from aftersales_dms.billing.test_approval import token_of
from aftersales_dms.billing.test_line_rules import customer_price, open_job_card, save_as
from aftersales_dms.billing.test_reapproval import page_as_guest
from aftersales_dms.workshop.test_job_card_status import ADVISOR, as_user

PUNE = "Orion Motors Pune"


def money(amount, currency="INR"):
	return fmt_money(amount, currency=currency)


def text_of(html: str) -> str:
	return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def estimate_print(quotation: str) -> str:
	return text_of(frappe.get_print("Quotation", quotation, print_format="Dealer Estimate"))


def adds_up(page) -> bool:
	return flt(page.net_total - page.discount + page.taxes + page.rounding, 2) == flt(page.customer_pays, 2)


class TestOneRounding(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def test_hours_are_kept_estimated_and_billed_to_the_hundredth(self):
		"""Found by the review: the invoice billed hours rounded to 0.01 h, the estimate the hours as
		typed (1.333 h estimated, 1.33 h billed)."""
		jc = open_job_card(PUNE, ADVISOR)

		def hours(doc):
			doc.labour[0].standard_hours = 1.333

		jc = save_as(ADVISOR, jc.name, hours)
		self.assertEqual(flt(jc.labour[0].standard_hours, 6), 1.33)
		self.assertEqual(flt(jc.labour[0].amount), flt(1.33 * flt(jc.labour[0].rate), 2))
		quotation = frappe.get_doc("Quotation", as_user(ADVISOR, make_estimate, jc.name))
		self.assertEqual(flt(quotation.items[0].qty, 6), 1.33)

	def test_the_page_and_the_print_show_the_rounding_and_add_up(self):
		jc = open_job_card(PUNE, ADVISOR)
		price = customer_price(jc, jc.labour[0])

		def paisa(doc):
			doc.labour[0].rate = flt(price + 1.37, 2)  # above the price: no discount

		save_as(ADVISOR, jc.name, paisa)
		quotation = frappe.get_doc("Quotation", as_user(ADVISOR, make_estimate, jc.name))
		self.assertTrue(flt(quotation.rounding_adjustment), "the figures chosen to need rounding")
		from aftersales_dms.billing.approval import make_approval_link

		page = page_as_guest(token_of(as_user(ADVISOR, make_approval_link, jc.name)))
		self.assertFalse(page.get("error"), page.get("error"))
		self.assertEqual(flt(page.rounding, 2), flt(quotation.rounding_adjustment, 2))
		self.assertEqual(flt(page.customer_pays), payable(quotation))
		self.assertTrue(adds_up(page), page)
		text = estimate_print(quotation.name)
		self.assertIn("Rounding", text)
		self.assertIn(money(quotation.rounding_adjustment), text)
		self.assertIn(money(payable(quotation)), text)


LABOUR_ITEMS = ("LAB-PMS-CAR", "LAB-DIAG", "LAB-BATTERY")
PART_ITEMS = ("PRT-OIL-FILTER-C", "PRT-SPARK-PLUG")
HOURS = (0.33, 1.17, 0.5, 2.25, 1.333, 0.75)
# rates with paisa: a little above the price, or below it within the advisor's limit with the
# discount on top (0.89 % + 3 % < 5 %)
FACTORS = (1, 1.0037, 1.0123, 0.9911, 1.0571)
DISCOUNTS = (0, 1.5, 2.5, 3)

labour_lines = st.lists(
	st.tuples(
		st.sampled_from(LABOUR_ITEMS),
		st.sampled_from(HOURS),
		st.sampled_from(FACTORS),
		st.sampled_from(("Customer", "Customer", "Warranty")),
	),
	min_size=1,
	max_size=3,
)
part_lines = st.lists(
	st.tuples(st.sampled_from(PART_ITEMS), st.integers(1, 3), st.sampled_from(FACTORS)),
	min_size=0,
	max_size=2,
)


class TestOneRoundingProperty(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	@settings(
		max_examples=8,
		deadline=None,
		derandomize=True,
		database=None,
		suppress_health_check=list(HealthCheck),
	)
	@given(
		company=st.sampled_from(("Orion Motors Pune", "Orion Motors Nashik")),
		labour=labour_lines,
		parts=part_lines,
		discount=st.sampled_from(DISCOUNTS),
	)
	def test_every_figure_the_customer_sees_is_the_invoice_to_the_paisa(
		self, company, labour, parts, discount
	):
		from aftersales_dms.tests.test_stateful_invariants import Journey

		steps = []
		journey = Journey(company, log=steps.append)
		advisor = journey.users["advisor"]
		journey.open(
			parts=[(item, qty, "Customer") for item, qty, _f in parts],
			labour=[(item, payer) for item, _h, _f, payer in labour],
		)
		self.assertTrue(journey.job_card, steps)
		for k, (_item, hours, factor, payer) in enumerate(labour):
			journey.set_hours(k, hours, advisor)
			if payer == "Customer" and factor != 1:
				journey.reprice("labour", k, factor, advisor)
		for k, (_item, _qty, factor) in enumerate(parts):
			if factor != 1:
				journey.reprice("parts", k, factor, advisor)
		if discount:
			journey.discount(discount, advisor)
		refused = [s for s in steps if "refused" in s]
		self.assertEqual(refused, [], "every change is within the advisor's rights")

		page = None
		for _ in range(80):
			jc = journey.doc()
			if page is None and jc.status == "Awaiting Approval" and journey.token:
				page = journey.page()  # the customer's page, before they decide
				quotation = frappe.get_doc("Quotation", jc.estimate)
				printed = estimate_print(quotation.name)
			if (
				jc.customer_invoice
				and frappe.db.get_value("Sales Invoice", jc.customer_invoice, "docstatus") == 1
			):
				break
			journey.progress()
		else:
			self.fail(f"the journey did not reach a submitted invoice: {steps[-10:]}")
		self.assertIsNotNone(page, steps)
		self.assertFalse(page.get("error"), page.get("error"))

		shown = figures(quotation)
		pays = payable(quotation)
		currency = quotation.currency
		# the page: its lines, discount, taxes and rounding add up to what the estimate says
		self.assertEqual(flt(page.customer_pays), pays)
		self.assertTrue(adds_up(page), page)
		self.assertEqual(
			(flt(page.net_total), flt(page.discount), flt(page.taxes), flt(page.rounding)),
			(shown["lines"], shown["discount"], shown["taxes"], shown["rounding"]),
		)
		if flt(quotation.rounded_total):
			self.assertEqual(shown["rounding"], flt(quotation.rounding_adjustment, 2))
		# the estimate's print
		self.assertIn(money(pays, currency), printed)
		if shown["rounding"]:
			self.assertIn(money(shown["rounding"], currency), printed)
		# the decision's answer, the SMS and the submitted invoice
		self.assertEqual(flt(journey.seen.decide_figure), pays)
		invoice = frappe.get_doc("Sales Invoice", journey.doc().customer_invoice)
		self.assertEqual(payable(invoice), pays, steps[-15:])
		self.assertEqual(flt(invoice.rounding_adjustment, 2), flt(quotation.rounding_adjustment, 2))
		self.assertEqual(flt(journey.seen.sms_figure), pays)
		billed = {i.dms_job_card_row: flt(i.qty, 6) for i in invoice.items}
		estimated = {
			i.dms_job_card_row: flt(i.qty, 6) for i in quotation.items if i.dms_job_card_row in billed
		}
		self.assertEqual(billed, estimated)
