# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import to_timedelta

SKILL_LEVELS = ("Trainee", "Junior", "Senior", "Master")


class ServiceTechnician(Document):
	def on_update(self):
		from aftersales_dms.workshop import board

		board.on_change()  # the workshop board shows technicians' names and loads

	def validate(self):
		self.validate_skills()
		self.validate_hours()

	def validate_skills(self):
		seen = set()
		for row in self.skills:
			if row.skill in seen:
				frappe.throw(_("Row {0}: skill {1} is listed twice.").format(row.idx, frappe.bold(row.skill)))
			seen.add(row.skill)

	def validate_hours(self):
		start, end = to_timedelta(self.shift_start), to_timedelta(self.shift_end)
		if end <= start:
			frappe.throw(_("The shift must end after it starts."))
		self.daily_hours = round((end - start).total_seconds() / 3600, 2)

	def skill_level(self, skill: str) -> int:
		"""0 when the technician lacks the skill, else 1 (Trainee) to 4 (Master)."""
		for row in self.skills:
			if row.skill == skill:
				return SKILL_LEVELS.index(row.level) + 1
		return 0
