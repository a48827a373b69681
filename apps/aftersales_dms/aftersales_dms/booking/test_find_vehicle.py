# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

"""Find Vehicle shows the last service date, the customer's amounts with tax, and the next step."""

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, fmt_money, format_date, today

from aftersales_dms.billing.estimate import make_estimate
from aftersales_dms.booking.recall import find_vehicle
from aftersales_dms.workshop.doctype.service_job_card.test_service_job_card import make_job_card
from aftersales_dms.workshop.test_job_card_status import ADVISOR, as_user

VEHICLE = "MA3EWDE16KM456123"  # Priya Nair's, Pune


class TestFindVehicle(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def test_last_service_amounts_with_tax_and_next_steps(self):
		# the vehicle's state, as delivery leaves it: served 40 days ago, no open job card
		served = add_days(today(), -40)
		frappe.db.set_value("Customer Vehicle", VEHICLE, "last_service_date", served)
		for name in frappe.get_all(
			"Service Job Card",
			{"vehicle": VEHICLE, "status": ("not in", ("Delivered", "Cancelled"))},
			pluck="name",
		):
			frappe.db.set_value("Service Job Card", name, "status", "Cancelled")

		found = as_user(ADVISOR, find_vehicle, "mh14gh7788")
		self.assertEqual(found["last_service_date_formatted"], format_date(served))
		self.assertEqual(found["next_steps"], ["Book appointment", "Walk-in check-in"])
		self.assertIsNone(found["open_job_card"])
		self.assertEqual(found["prefill"], {"customer": found["owner"]["name"], "vehicle": VEHICLE})

		jc = make_job_card(
			labour=("LAB-PMS-CAR", "LAB-DIAG"),
			vehicle=VEHICLE,
			parts=[{"item_code": "PRT-OIL-FILTER-C", "qty": 1, "bill_to": "Warranty"}],
		)
		jc.labour[1].bill_to = "Warranty"
		jc.save()
		as_user(ADVISOR, make_estimate, jc.name)
		found = as_user(ADVISOR, find_vehicle, VEHICLE)
		self.assertEqual((found["open_job_card"], found["next_steps"]), (jc.name, ["Open job card"]))
		visit = next(row for row in found["history"] if row["name"] == jc.name)
		# the customer's line with GST 18 %, not the pre-tax total of every line
		self.assertEqual(
			visit["customer_amount_formatted"],
			f"{fmt_money(2250 * 1.18, currency='INR')} incl. tax (estimate)",
		)
		self.assertEqual(visit["posting_date_formatted"], format_date(jc.posting_date))
		self.assertNotIn("grand_total", visit)
