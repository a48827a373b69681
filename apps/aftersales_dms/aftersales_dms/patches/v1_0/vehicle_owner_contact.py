"""Customer Vehicle got the owner's mobile and email (fetched from the Customer) for the
next-service reminder; fill them on vehicles saved before."""

import frappe


def execute():
	frappe.db.sql(
		"""update `tabCustomer Vehicle` v join `tabCustomer` c on c.name = v.customer
		set v.customer_mobile = c.mobile_no, v.customer_email = c.email_id
		where ifnull(v.customer_mobile, '') = '' and ifnull(v.customer_email, '') = ''"""
	)
