# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document

SKILL_LEVELS = ("Trainee", "Junior", "Senior", "Master")


class ServiceTechnician(Document):
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
		if not 0 < (self.daily_hours or 0) <= 24:
			frappe.throw(_("Working hours per day must be more than 0 and at most 24."))

	def skill_level(self, skill: str) -> int:
		"""0 when the technician lacks the skill, else 1 (Trainee) to 4 (Master)."""
		for row in self.skills:
			if row.skill == skill:
				return SKILL_LEVELS.index(row.level) + 1
		return 0
