# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

from frappe.model.document import Document


class AftersalesBackupSettings(Document):
	def validate(self):
		from aftersales_dms.utils.backup import validate_directory, validate_retention

		if self.backup_directory or self.enabled:
			self.backup_directory = validate_directory(self.backup_directory)
		validate_retention(self.keep_daily, self.keep_weekly)
