"""Parts are issued, returned and billed per job card line (#19): each Parts Request row points
at its job card part line and each parts Stock Entry row carries that line (dms_job_card_row).

For existing data, where it can be told: a request row without its line gets the job card's line
of the same item (rows and lines in their order, each line once per request); a Stock Entry row
of a request gets the line of the request's row of its item (a request listed an item once until
now). Then every request's issued and returned quantities and every job card line's issued
quantity are recomputed per line. Rows that cannot be told (an item no longer on the job card)
are left without a line and reported."""

import frappe
from frappe.custom.doctype.custom_field.custom_field import create_custom_fields

from aftersales_dms.parts.doctype.parts_request.parts_request import job_card_lines, set_line_issued_qty
from aftersales_dms.setup import get_custom_fields


def execute():
	# the field is made by after_migrate, which runs after the patches
	create_custom_fields(
		{"Stock Entry Detail": get_custom_fields()["Stock Entry Detail"]}, ignore_validate=True
	)
	fill(frappe.get_all("Parts Request", pluck="name", order_by="creation"))


def fill(names: list[str]):
	"""The per-line links and quantities of these parts requests and their job cards."""
	unlinked = []
	requests = frappe.get_all(
		"Parts Request", filters={"name": ("in", names or [""])}, fields=["name", "service_job_card"]
	)
	for pr in requests:
		rows = frappe.get_all(
			"Parts Request Item",
			filters={"parent": pr.name, "parenttype": "Parts Request"},
			fields=["name", "idx", "item_code", "job_card_part"],
			order_by="idx",
		)
		lines = job_card_lines(pr.service_job_card)
		used = {r.job_card_part for r in rows if r.job_card_part in lines}
		for row in rows:
			if row.job_card_part in lines:
				continue
			line = next(
				(n for n, ln in lines.items() if ln.item_code == row.item_code and n not in used), None
			)
			if not line:
				unlinked.append(row.name)
				continue
			used.add(line)
			row.job_card_part = line
			frappe.db.set_value("Parts Request Item", row.name, "job_card_part", line, update_modified=False)
		line_of_item = {}
		for row in rows:
			line_of_item.setdefault(row.item_code, []).append(row.job_card_part)
		for d in frappe.db.sql(
			"""select d.name, d.item_code from `tabStock Entry Detail` d
			join `tabStock Entry` se on se.name = d.parent
			where se.dms_parts_request = %s and ifnull(d.dms_job_card_row, '') = ''""",
			pr.name,
			as_dict=True,
		):
			candidates = line_of_item.get(d.item_code) or []
			if len(candidates) == 1 and candidates[0]:
				frappe.db.set_value(
					"Stock Entry Detail", d.name, "dms_job_card_row", candidates[0], update_modified=False
				)
	for pr in requests:
		doc = frappe.get_doc("Parts Request", pr.name)
		doc.set_row_quantities()
	for job_card in {pr.service_job_card for pr in requests}:
		set_line_issued_qty(job_card)
	if unlinked:
		print(f"Parts Request rows whose job card line could not be told: {', '.join(unlinked)}")
