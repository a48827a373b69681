# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

"""What the customer approved is what is billed, the leftovers of #19: a line's discount and the
job card's discount together stay within the saving user's limit (both orders, advisor and
manager, both dealers); a covered line is at its payer's price (warranty: the OEM's price,
internal: at most the internal customer's); a decision applies only to the very line the customer
saw (a row name swapped over REST preselects nothing and asks the customer again)."""

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import flt

from aftersales_dms.billing.approval import make_approval_link
from aftersales_dms.billing.discount import approve_discount
from aftersales_dms.billing.estimate import make_estimate
from aftersales_dms.billing.test_approval import decide_as_customer, token_of
from aftersales_dms.billing.test_invoice import estimated_job_card
from aftersales_dms.billing.test_reapproval import page_as_guest
from aftersales_dms.controllers.pricing import price_item
from aftersales_dms.workshop.doctype.service_job_card.service_job_card import labour_line
from aftersales_dms.workshop.test_job_card_status import ADVISOR, as_user

DEALERS = {
	"Orion Motors Pune": {
		"advisor": "advisor@omp.example",
		"manager": "manager@omp.example",
		"vehicle": "MA1TA2XX6GH123456",
	},
	"Orion Motors Nashik": {
		"advisor": "advisor@omn.example",
		"manager": "manager@omn.example",
		"vehicle": "MAT4XXXX0HL654321",
	},
}
LABOUR = "LAB-PMS-CAR"
PART = "PRT-OIL-FILTER-C"


def open_job_card(company, user, bill_to="Customer"):
	"""The advisor's job card with one labour line and one part, billed to `bill_to`."""
	vehicle = DEALERS[company]["vehicle"]

	def insert():
		return frappe.get_doc(
			{
				"doctype": "Service Job Card",
				"company": company,
				"customer": frappe.db.get_value("Customer Vehicle", vehicle, "customer"),
				"vehicle": vehicle,
				"labour": [{**labour_line(LABOUR, company), "bill_to": bill_to}],
				"parts": [{"item_code": PART, "qty": 1, "bill_to": bill_to}],
			}
		).insert()

	return as_user(user, insert)


def save_as(user, job_card, change):
	"""Read, change and save as `user`, as the desk form and a REST PUT do."""

	def save():
		jc = frappe.get_doc("Service Job Card", job_card)
		change(jc)
		jc.save()
		return jc

	return as_user(user, save)


def customer_price(jc, row):
	return flt(price_item(row.item_code, jc.company, jc.customer, row.standard_hours).rate)


def set_labour_rate(rate):
	def change(jc):
		jc.labour[0].rate = rate

	return change


def give_discount(pct):
	def change(jc):
		jc.discount_percentage, jc.discount_reason = pct, "loyal customer"

	return change


class TestDiscountStacking(FrappeTestCase):
	"""The limit is on what the customer gets off a line in all, however it is split."""

	def tearDown(self):
		frappe.set_user("Administrator")

	def cases(self):
		# (role, a line discount and a job card discount within the limit together, too much)
		for company, users in DEALERS.items():
			yield company, users["advisor"], (3, 2), (3, 3)  # limit 5: 4.94 % / 5.91 %
			yield company, users["manager"], (10, 5), (10, 6)  # limit 15: 14.5 % / 15.4 %

	def test_line_first_then_the_job_card_discount(self):
		for company, user, within, above in self.cases():
			with self.subTest(company=company, user=user):
				jc = open_job_card(company, user)
				price = customer_price(jc, jc.labour[0])
				save_as(user, jc.name, set_labour_rate(flt(price * (1 - above[0] / 100), 2)))
				with self.assertRaisesRegex(frappe.PermissionError, "together the customer gets"):
					save_as(user, jc.name, give_discount(above[1]))
				stored = frappe.get_doc("Service Job Card", jc.name)
				self.assertEqual((flt(stored.discount_percentage), stored.discount_status or None), (0, None))
				jc = save_as(user, jc.name, give_discount(within[1]))
				self.assertEqual(jc.discount_status, "Approved")

	def test_job_card_discount_first_then_the_line(self):
		for company, user, within, above in self.cases():
			with self.subTest(company=company, user=user):
				jc = open_job_card(company, user)
				price = customer_price(jc, jc.labour[0])
				jc = save_as(user, jc.name, give_discount(above[1]))
				self.assertEqual(jc.discount_status, "Approved")
				with self.assertRaisesRegex(frappe.PermissionError, "together the customer gets"):
					save_as(user, jc.name, set_labour_rate(flt(price * (1 - above[0] / 100), 2)))
				self.assertEqual(
					flt(frappe.db.get_value("Service Job Card Labour", jc.labour[0].name, "rate")),
					flt(price),
				)
				# a smaller line discount stays within the limit with the job card's
				rate = flt(price * (1 - (within[0] - 1) / 100), 2)
				jc = save_as(user, jc.name, set_labour_rate(rate))
				self.assertEqual(flt(jc.labour[0].rate), rate)

	def test_approving_a_waiting_discount_takes_the_lines_into_account(self):
		for company, users in DEALERS.items():
			with self.subTest(company=company):
				advisor, manager = users["advisor"], users["manager"]
				jc = open_job_card(company, advisor)
				price = customer_price(jc, jc.labour[0])
				save_as(advisor, jc.name, set_labour_rate(flt(price * 0.96, 2)))  # 4 %: within 5
				jc = save_as(advisor, jc.name, give_discount(12))  # above 5 %: waits
				self.assertEqual(jc.discount_status, "Pending Approval")
				# the manager's 15 % would allow 12 % alone, not 12 % on a line 4 % below its price
				with self.assertRaisesRegex(frappe.PermissionError, "together the customer gets"):
					as_user(manager, approve_discount, jc.name, 12)
				self.assertEqual(
					frappe.db.get_value("Service Job Card", jc.name, "discount_status"), "Pending Approval"
				)
				save_as(advisor, jc.name, set_labour_rate(flt(price)))  # the line back at its price
				as_user(manager, approve_discount, jc.name, 12)
				self.assertEqual(
					frappe.db.get_value("Service Job Card", jc.name, "discount_status"), "Approved"
				)


class TestNothingForFree(FrappeTestCase):
	"""A rate of 0 is 100 % off: checked against the limit like any rate below the price (attack
	finding 6: a kept line set to 0 was not checked); a negative rate or quantity never saves
	(a clear error, not "111 % below its price")."""

	def tearDown(self):
		frappe.set_user("Administrator")

	def test_rate_zero_on_a_kept_line_is_a_full_discount(self):
		for company, users in DEALERS.items():
			for user in (users["advisor"], users["manager"]):
				with self.subTest(company=company, user=user):
					jc = open_job_card(company, user)
					price = customer_price(jc, jc.labour[0])
					for rate in (0, None, ""):
						with self.assertRaisesRegex(frappe.PermissionError, "100.0 % below its price"):
							save_as(user, jc.name, set_labour_rate(rate))
					self.assertEqual(
						flt(frappe.db.get_value("Service Job Card Labour", jc.labour[0].name, "rate")),
						flt(price),
					)

					def part_at_zero(doc):
						doc.parts[0].rate = 0

					with self.assertRaisesRegex(frappe.PermissionError, "100.0 % below its price"):
						save_as(user, jc.name, part_at_zero)

	def test_negative_rates_and_quantities_are_refused(self):
		for company, users in DEALERS.items():
			user = users["advisor"]
			with self.subTest(company=company):
				jc = open_job_card(company, user)
				stored = frappe.get_doc("Service Job Card", jc.name)

				def negative_part_rate(doc):
					doc.parts[0].rate = -50

				def negative_qty(doc):
					doc.parts[0].qty = -1

				def negative_hours(doc):
					doc.labour[0].standard_hours = -1

				def fraction_of_a_whole_unit(doc):
					# (attack: 3.0000001 filters saved; the 0.0000001 left after the issue blocked the
					# parts request for good, as ERPNext refuses to issue it)
					self.assertTrue(frappe.get_cached_value("UOM", doc.parts[0].uom, "must_be_whole_number"))
					doc.parts[0].qty = 1.0000001

				for change, message in (
					(set_labour_rate(-100), "cannot be negative"),
					(negative_part_rate, "cannot be negative"),
					(negative_qty, "quantity must be more than 0"),
					(negative_hours, "standard hours must be more than 0"),
					(fraction_of_a_whole_unit, "is not a whole number"),
				):
					with self.assertRaisesRegex(frappe.ValidationError, message):
						save_as(user, jc.name, change)
				after = frappe.get_doc("Service Job Card", jc.name)
				self.assertEqual(
					[(flt(r.rate), flt(r.qty)) for r in after.parts],
					[(flt(r.rate), flt(r.qty)) for r in stored.parts],
				)
				self.assertEqual(flt(after.labour[0].rate), flt(stored.labour[0].rate))


class TestCoveredRates(FrappeTestCase):
	"""A warranty line is billed to the OEM at the OEM's price, an internal one at most at the
	internal customer's: no role types another rate, on a new line or a payer switch."""

	def tearDown(self):
		frappe.set_user("Administrator")

	def payer_price(self, jc, row, payer):
		field = "oem_customer" if payer == "Warranty" else "internal_customer"
		party = frappe.db.get_value("Dealer Workshop Settings", jc.company, field)
		return flt(price_item(row.item_code, jc.company, party, row.standard_hours).rate)

	def test_a_warranty_line_is_at_the_oems_price(self):
		for company, users in DEALERS.items():
			for user in (users["advisor"], users["manager"]):
				with self.subTest(company=company, user=user):
					jc = open_job_card(company, user, bill_to="Warranty")
					oem_price = self.payer_price(jc, jc.labour[0], "Warranty")
					self.assertEqual(flt(jc.labour[0].rate), oem_price)  # priced by the job card
					for rate in (oem_price * 10, oem_price + 0.01, oem_price / 2):
						with self.assertRaisesRegex(frappe.ValidationError, "warranty work"):
							save_as(user, jc.name, set_labour_rate(flt(rate, 2)))
					self.assertEqual(
						flt(frappe.db.get_value("Service Job Card Labour", jc.labour[0].name, "rate")),
						oem_price,
					)

	def test_a_payer_switch_takes_the_payers_price_and_no_typed_rate(self):
		for company, users in DEALERS.items():
			user = users["advisor"]
			with self.subTest(company=company):
				jc = open_job_card(company, user)
				row = jc.labour[0]
				oem_price = self.payer_price(jc, row, "Warranty")

				def to_warranty_at(rate):
					def change(doc):
						doc.labour[0].bill_to = "Warranty"
						if rate is not None:
							doc.labour[0].rate = rate

					return change

				with self.assertRaisesRegex(frappe.ValidationError, "warranty work"):
					save_as(user, jc.name, to_warranty_at(flt(oem_price * 10, 2)))
				jc = save_as(user, jc.name, to_warranty_at(None))
				self.assertEqual((jc.labour[0].bill_to, flt(jc.labour[0].rate)), ("Warranty", oem_price))

	def test_an_internal_line_at_most_at_the_internal_price(self):
		for company, users in DEALERS.items():
			user = users["manager"]
			with self.subTest(company=company):
				jc = open_job_card(company, user, bill_to="Internal")
				internal_price = self.payer_price(jc, jc.labour[0], "Internal")
				self.assertEqual(flt(jc.labour[0].rate), internal_price)
				with self.assertRaisesRegex(frappe.ValidationError, "internal work"):
					save_as(user, jc.name, set_labour_rate(flt(internal_price * 10, 2)))
				# at cost, below the price: the dealer's own business
				jc = save_as(user, jc.name, set_labour_rate(flt(internal_price / 2, 2)))
				self.assertEqual(flt(jc.labour[0].rate), flt(internal_price / 2, 2))


class TestDecisionKeyedToTheLine(FrappeTestCase):
	"""The customer's page preselects an earlier decision only on the very line it was made on."""

	def tearDown(self):
		frappe.set_user("Administrator")

	def decided(self):
		jc, token = estimated_job_card(labour=((LABOUR, "Customer"), ("LAB-DIAG", "Customer")), parts=())
		first, second = jc.labour[0].name, jc.labour[1].name
		decide_as_customer(token, {first: "Approved", second: "Declined"})
		return frappe.get_doc("Service Job Card", jc.name), first, second

	def put_labour(self, job_card, rows):
		"""The advisor's REST PUT of the job card with these labour rows (dicts with names)."""

		def put():
			doc = frappe.get_doc("Service Job Card", job_card, for_update=True)
			doc.update({"labour": rows})
			doc.save()

		as_user(ADVISOR, put)
		return frappe.get_doc("Service Job Card", job_card)

	def new_link_page(self, job_card):
		as_user(ADVISOR, make_estimate, job_card)
		page = page_as_guest(token_of(as_user(ADVISOR, make_approval_link, job_card)))
		self.assertFalse(page.get("error"), page.get("error"))
		return page

	def test_row_names_swapped_over_rest_preselect_nothing_and_ask_again(self):
		jc, first, second = self.decided()
		rows = [r.as_dict() for r in jc.labour]
		rows[0]["name"], rows[1]["name"] = second, first  # each line under the other's name
		rows[0]["idx"], rows[1]["idx"] = 2, 1
		jc = self.put_labour(jc.name, rows)
		self.assertEqual(jc.approval_status, "Awaiting Re-approval")
		self.assertEqual([r.customer_decision for r in jc.labour], [None, None])
		page = self.new_link_page(jc.name)
		self.assertEqual(page.previous["result"], "Partly Approved")  # told it replaces a decision
		self.assertEqual({line["row"]: line["previous"] for line in page.lines}, {first: None, second: None})

	def test_a_row_only_moved_keeps_its_decision_preselected(self):
		jc, first, second = self.decided()
		rows = [r.as_dict() for r in jc.labour]
		rows[0]["idx"], rows[1]["idx"] = 2, 1  # the same lines, in another order
		jc = self.put_labour(jc.name, list(reversed(rows)))
		self.assertEqual(jc.approval_status, "Partly Approved")  # nothing the customer pays changed
		page = self.new_link_page(jc.name)
		self.assertEqual(
			{line["row"]: line["previous"] for line in page.lines}, {first: "Approved", second: "Declined"}
		)

	def test_a_line_changed_after_the_decision_preselects_nothing(self):
		jc, first, second = self.decided()

		def more_hours(doc):
			doc.labour[0].standard_hours = flt(doc.labour[0].standard_hours) + 1

		jc = save_as(ADVISOR, jc.name, more_hours)
		self.assertEqual(jc.approval_status, "Awaiting Re-approval")
		page = self.new_link_page(jc.name)
		self.assertEqual(
			{line["row"]: line["previous"] for line in page.lines}, {first: None, second: "Declined"}
		)
