# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

from frappe.model.document import Document


class RecallRemedy(Document):
	def autoname(self):
		# one remedy per campaign and vehicle
		self.name = f"{self.recall_campaign}|{self.vehicle}"
