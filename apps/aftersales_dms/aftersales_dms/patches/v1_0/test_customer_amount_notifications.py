# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

import frappe
from frappe.tests.utils import FrappeTestCase

from aftersales_dms.patches.v1_0 import customer_amount_notifications as patch

SMS = "Vehicle Ready for Pickup - SMS"
EMAIL = "Vehicle Ready for Pickup - Email"


class TestCustomerAmountNotifications(FrappeTestCase):
	def test_shipped_text_is_updated_an_edited_one_kept(self):
		new = patch.shipped_messages()
		self.assertIn("customer_amount_due(doc)", new[SMS])
		frappe.db.set_value("Notification", SMS, "message", patch.OLD_MESSAGES[SMS])
		edited = "Your car is ready. Amount: {{ doc.grand_total }}"
		frappe.db.set_value("Notification", EMAIL, "message", edited)
		patch.execute()
		self.assertEqual(frappe.db.get_value("Notification", SMS, "message"), new[SMS])
		self.assertEqual(frappe.db.get_value("Notification", EMAIL, "message"), edited)
		self.assertTrue(
			frappe.db.exists(
				"Comment",
				{
					"reference_doctype": "Notification",
					"reference_name": EMAIL,
					"content": ("like", "%customer_amount_due%"),
				},
			)
		)
		patch.execute()  # again: nothing changes
		self.assertEqual(frappe.db.get_value("Notification", SMS, "message"), new[SMS])
