"""What a save of a journey document costs: the parts of Frappe's save that do work for nothing."""

import frappe


class DefaultsForNewRowsOnly:
	"""Mixin (before Document in the bases) for documents with several child tables that are
	saved often (the job card: six tables, saved by each clock action, assignment and move).

	Frappe's `_set_defaults` builds the new-row template of every child table on every save (its
	`make_new_doc`: a `SELECT issingle` and the user's defaults per table and request) and then
	applies it only to the table's new rows. Here the template is built only for a table that has
	a new row: what a row gets is the same, a clock action no longer builds five templates it
	never uses (README, Benchmark: the per-step budget)."""

	def _set_defaults(self):
		if frappe.flags.in_import:
			return
		if self.is_new():
			self.update_if_missing(frappe.new_doc(self.doctype, as_dict=True))
		for df in self.meta.get_table_fields():
			rows = self.get(df.fieldname)
			new_rows = [d for d in rows if d.is_new()] if isinstance(rows, list) else []
			if not new_rows:
				continue
			template = frappe.new_doc(df.options, parent_doc=self, parentfield=df.fieldname, as_dict=True)
			for d in new_rows:
				d.update_if_missing(template)
