# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

"""Parts for a job card, issued and returned through ERPNext Stock Entries.

Design: an issue is a *Material Transfer* from the dealer's parts store to its workshop WIP
warehouse, a return the transfer back. The stock ledger and valuation are ERPNext's own; the
parts stay on the balance sheet (at cost, in WIP) until the invoice takes them out of stock,
so cost of goods sold is booked when the revenue is. Quantities issued and returned are always
recomputed from the submitted Stock Entries, never trusted from a client. A shortage raises a
purchase Material Request and a ToDo for the dealer's Parts Managers.
"""

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import add_days, flt, today

from aftersales_dms.controllers.dealer import dealer_users, get_workshop_settings
from aftersales_dms.controllers.guards import lock_document, retry_on_deadlock
from aftersales_dms.controllers.saves import LeanSave
from aftersales_dms.job_states import FINAL
from aftersales_dms.roles import PARTS_MANAGER, PARTS_ROLES, has_any_role
from aftersales_dms.workshop.status import on_parts_short
from aftersales_dms.workshop.tasks import SHORTAGE, on_parts_issued, open_task


class PartsRequest(LeanSave, Document):
	def validate(self):
		self.set_from_job_card()
		self.validate_items()
		self.set_availability()
		if self.docstatus == 0:
			self.status = "Draft"

	def set_from_job_card(self):
		company, status = frappe.db.get_value(
			"Service Job Card", self.service_job_card, ["company", "status"]
		)
		if status in FINAL:
			frappe.throw(_("Job card {0} is {1}.").format(self.service_job_card, status))
		self.company = company
		settings = get_workshop_settings(company)
		self.store_warehouse = self.store_warehouse or settings.parts_warehouse
		self.wip_warehouse = self.wip_warehouse or settings.wip_warehouse
		for field in ("store_warehouse", "wip_warehouse"):
			wh = self.get(field)
			if not wh:
				frappe.throw(
					_(
						"Set the parts store and WIP warehouses in the Dealer Workshop Settings of {0}."
					).format(company)
				)
			if frappe.get_cached_value("Warehouse", wh, "company") != company:
				frappe.throw(_("Warehouse {0} belongs to another dealer.").format(wh))
		if self.store_warehouse == self.wip_warehouse:
			frappe.throw(_("The parts store and the WIP warehouse must differ."))

	def validate_items(self):
		"""Each row is for one part line of the job card (job_card_part), of the same item, once.
		A row without its line (REST, Data Import), or pointing at a line of another item or at a
		line another row has, gets a free line of its item: the first that still needs parts."""
		lines = job_card_lines(self.service_job_card)
		foreign = [r for r in self.items if r.job_card_part and r.job_card_part not in lines]
		if foreign:
			frappe.throw(
				_("Row {0}: {1} is not a part line of job card {2}.").format(
					foreign[0].idx, foreign[0].job_card_part, self.service_job_card
				)
			)
		used, unplaced = set(), []
		for row in self.items:
			kind, is_stock = frappe.db.get_value("Item", row.item_code, ["dms_item_kind", "is_stock_item"])
			if kind != "Part" or not is_stock:
				frappe.throw(_("Row {0}: {1} is not a stock part.").format(row.idx, row.item_code))
			if not 0 < flt(row.qty) <= 10_000:
				frappe.throw(_("Row {0}: quantity must be more than 0 and at most 10,000.").format(row.idx))
			line = lines.get(row.job_card_part)
			if line and line.item_code == row.item_code and row.job_card_part not in used:
				used.add(row.job_card_part)
			else:
				unplaced.append(row)
			if self.docstatus == 1 and flt(row.qty) < flt(row.issued_qty) - flt(row.returned_qty):
				frappe.throw(_("Row {0}: more is issued than requested.").format(row.idx))
		if unplaced:
			needs = line_needs(self.service_job_card, exclude_request=self.name)
			for row in unplaced:
				row.job_card_part = pick_line(row, lines, used, needs, self.service_job_card)
				used.add(row.job_card_part)

	def set_availability(self):
		bins = bin_figures([r.item_code for r in self.items], self.store_warehouse)
		for row in self.items:
			figures = bins.get(row.item_code, {})
			row.actual_qty = flt(figures.get("actual_qty"))
			row.reserved_qty = flt(figures.get("reserved_qty"))
			row.projected_qty = flt(figures.get("projected_qty"))

	def before_submit(self):
		"""A request asks only for what its lines still need: the line's quantity less what is
		issued to it (net of returns) and what other submitted requests still have to issue."""
		lines = job_card_lines(self.service_job_card)
		needs = line_needs(self.service_job_card, exclude_request=self.name)
		for row in self.items:
			line = lines[row.job_card_part]
			if line.customer_decision == "Declined":
				frappe.throw(
					_("Row {0}: the customer declined {1} (line {2} of the job card).").format(
						row.idx, row.item_code, line.idx
					)
				)
			need = needs.get(row.job_card_part, 0)
			if flt(row.qty) > need:
				frappe.throw(
					_("Row {0}: line {1} of job card {2} needs {3} more {4}, not {5}.").format(
						row.idx,
						line.idx,
						self.service_job_card,
						f"{need:g}",
						row.item_code,
						f"{flt(row.qty):g}",
					)
				)
		self.status = "Requested"

	def before_cancel(self):
		outstanding = [r.item_code for r in self.items if flt(r.issued_qty) - flt(r.returned_qty) > 0]
		if outstanding:
			frappe.throw(_("Return the issued parts first: {0}").format(", ".join(outstanding)))

	def on_cancel(self):
		self.db_set("status", "Cancelled")

	# ---- actions
	@frappe.whitelist(methods=["POST"])
	def issue_parts(self):
		"""Issue what is in stock now; raise a Material Request for the rest."""
		return self._issue_parts()

	@retry_on_deadlock
	def _issue_parts(self):
		check_parts_role()
		start_locked_transaction()
		# Lock the job card, this request and the store's bins (in a fixed order: the job card
		# first, as its cancel does before it closes its requests) so two issues of the same
		# stock are serialised: the second one sees what the first took, and no issue slips in
		# while the job ends. The request is the stored one, read afresh under its lock and
		# writable by the user (its dealer), never the items, warehouses or docstatus a client sent.
		sent = self.service_job_card if isinstance(self.service_job_card, str) else None
		job_status = lock_job_card_status(sent)
		lock_document(self)
		if self.service_job_card != sent:  # a client named another job card: lock the stored one's
			job_status = lock_job_card_status(self.service_job_card)
		if self.docstatus != 1:
			frappe.throw(_("Submit the parts request before issuing."))
		if job_status in FINAL:
			frappe.throw(
				_("Job card {0} is {1}: no parts are issued to it.").format(
					self.service_job_card, _(job_status)
				),
				title=_("Job card closed"),
			)
		items = sorted({r.item_code for r in self.items})
		bins = bin_figures(items, self.store_warehouse, for_update=True)
		# per line: what the request still asks for, never more than the line still lacks (its
		# quantity may have been lowered, another request may have issued to it, the customer
		# may have declined it)
		pending_of = self.pending_per_row()
		available = {item: max(flt(bins.get(item, {}).get("actual_qty")), 0) for item in items}
		to_issue, shortages = [], []
		for row in self.items:
			pending = pending_of[row.name]
			if pending <= 0:
				continue
			now = min(pending, available[row.item_code])
			available[row.item_code] -= now
			if now > 0:
				to_issue.append((row.item_code, now, row.job_card_part))
			if pending - now > 0:
				shortages.append((row, pending - now))
		if not to_issue and not shortages:
			frappe.throw(_("Everything requested is already issued."))
		if to_issue:
			self.make_transfer(to_issue, self.store_warehouse, self.wip_warehouse)
		self.raise_shortage(shortages)
		self.update_quantities()
		short = per_item((row.item_code, qty) for row, qty in shortages)
		if short:
			on_parts_short(self.service_job_card, short)
		return {
			"issued": per_item((item, qty) for item, qty, _line in to_issue),
			"shortages": short,
			"material_request": self.material_request,
		}

	@frappe.whitelist(methods=["POST"])
	def return_parts(self, item_code: str | None = None, qty: float | None = None, row: str | None = None):
		"""Return issued parts to the store: everything, one item (qty, default all of it; from
		its last line first) or one row of the request (`row`, the row's name; qty as well)."""
		return self._return_parts(item_code, qty, row)

	@retry_on_deadlock
	def _return_parts(self, item_code=None, qty=None, row=None):
		check_parts_role()
		start_locked_transaction()
		lock_document(self)  # the stored request, as for an issue
		if self.docstatus != 1:
			frappe.throw(_("Only a submitted parts request has parts to return."))
		rows = [
			r
			for r in self.items
			if (not item_code or r.item_code == item_code) and (not row or r.name == row)
		]
		if (item_code or row) and not rows:
			frappe.throw(_("Parts request {0} has no such row: {1}.").format(self.name, row or item_code))
		outstanding = sum(flt(r.issued_qty) - flt(r.returned_qty) for r in rows)
		want = flt(qty) if (item_code or row) and qty else outstanding
		if (item_code or row) and (want <= 0 or want > outstanding):
			frappe.throw(_("{0}: {1} can be returned, not {2}.").format(row or item_code, outstanding, want))
		returns = []
		for r in reversed(rows):  # the later line first
			back = min(want, flt(r.issued_qty) - flt(r.returned_qty))
			if back > 0:
				returns.append((r.item_code, back, r.job_card_part))
				want -= back
		if not returns:
			frappe.throw(_("Nothing to return."))
		self.check_not_billed(returns)
		self.make_transfer(list(reversed(returns)), self.wip_warehouse, self.store_warehouse)
		self.update_quantities()

	def check_not_billed(self, returns):
		"""Issued = billed, per line: a part an invoice of the job card bills stays issued; the
		invoice is credited (or its draft removed) before the part goes back to the store."""
		from aftersales_dms.billing.invoice import billed_per_row

		lines = {
			r.name: r
			for r in frappe.get_all(
				"Service Job Card Part",
				filters={"parent": self.service_job_card, "name": ("in", [line for _i, _q, line in returns])},
				fields=["name", "idx", "item_code", "issued_qty", "bill_to"],
			)
		}
		billed = {}
		for item_code, back, line in returns:
			row = lines.get(line)
			if not row:
				continue
			bill_to = row.bill_to or "Customer"
			if bill_to not in billed:
				billed[bill_to] = billed_per_row(self.service_job_card, bill_to)
			if flt(flt(row.issued_qty) - flt(back), 4) < flt(billed[bill_to].get(line), 4):
				frappe.throw(
					_(
						"{0} of part line {1} of job card {2} is billed on its invoice: credit the invoice (or delete its draft) before returning it."
					).format(item_code, row.idx, self.service_job_card),
					title=_("Billed parts"),
				)

	def make_transfer(self, lines, source, target):
		se = frappe.get_doc(
			{
				"doctype": "Stock Entry",
				"stock_entry_type": "Material Transfer",
				"purpose": "Material Transfer",
				"company": self.company,
				"dms_parts_request": self.name,
				"dms_service_job_card": self.service_job_card,
				"remarks": _("Parts for job card {0} ({1})").format(self.service_job_card, self.name),
				"items": [
					{
						"item_code": item,
						"qty": qty,
						"s_warehouse": source,
						"t_warehouse": target,
						"dms_job_card_row": line,  # the job card's part line it moves for
					}
					for item, qty, line in lines
				],
			}
		)
		se.flags.ignore_permissions = True
		se.insert()
		se.submit()  # ERPNext refuses negative stock here
		return se

	def raise_shortage(self, shortages):
		"""shortages: (request row, qty) pairs. One purchase line per part."""
		for row in self.items:
			row.shortage_qty = 0
		for row, qty in shortages:
			row.shortage_qty = qty
		shortages = per_item((row.item_code, qty) for row, qty in shortages)
		if not shortages:
			return
		open_mr = self.material_request and frappe.db.get_value(
			"Material Request", self.material_request, "status"
		) in ("Draft", "Pending", "Partially Ordered")
		if open_mr:
			return
		mr = frappe.get_doc(
			{
				"doctype": "Material Request",
				"material_request_type": "Purchase",
				"company": self.company,
				"transaction_date": today(),
				"schedule_date": add_days(today(), 2),
				"dms_service_job_card": self.service_job_card,
				"items": [
					{
						"item_code": item,
						"qty": qty,
						"warehouse": self.store_warehouse,
						"schedule_date": add_days(today(), 2),
					}
					for item, qty in shortages
				],
			}
		)
		mr.flags.ignore_permissions = True
		mr.insert()
		mr.submit()
		self.db_set("material_request", mr.name)
		open_task(  # closed when the stores hold what the job needs (workshop/tasks.py)
			parts_managers(self.company),
			"Material Request",
			mr.name,
			SHORTAGE,
			_("Parts short for job card {0}: {1}").format(
				self.service_job_card, ", ".join(f"{q:g} x {i}" for i, q in shortages)
			),
		)

	def pending_per_row(self) -> dict[str, float]:
		"""What each row still has to issue: what it asks for less what is issued through it (net
		of returns), never more than its job card line still lacks (the line's quantity may have
		been lowered, another request may have issued to it); nothing for a line the customer
		declined or that is gone. The one measure of what is left, for an issue and the status."""
		lines = job_card_lines(self.service_job_card)
		issued = issued_per_line(self.service_job_card)
		pending = {}
		for row in self.items:
			line = lines.get(row.job_card_part)
			if not line or line.customer_decision == "Declined":
				pending[row.name] = 0
				continue
			pending[row.name] = max(
				min(
					flt(row.qty) - (flt(row.issued_qty) - flt(row.returned_qty)),
					flt(line.qty) - issued.get(line.name, 0),
				),
				0,
			)
		return pending

	def update_quantities(self):
		"""Issued and returned quantities per row, from this request's submitted Stock Entries
		(each of their rows names the job card line it moved parts for), and the status."""
		self.set_row_quantities()
		self.set_issue_status()
		update_job_card_issued_qty(self.service_job_card)

	def set_issue_status(self):
		"""Issued: nothing is left to issue (pending_per_row) and parts are out; Partially Issued:
		parts are out and some are still to issue; Returned: everything issued came back."""
		if self.docstatus != 1:
			return
		out = any(flt(r.issued_qty) - flt(r.returned_qty) > 0 for r in self.items)
		left = any(qty > 0 for qty in self.pending_per_row().values())
		if out:
			status = "Partially Issued" if left else "Issued"
		elif any(flt(r.returned_qty) > 0 for r in self.items):
			status = "Returned"
		else:
			status = "Requested"
		if status != self.status:
			self.db_set("status", status)

	def set_row_quantities(self):
		moved = frappe.db.sql(
			"""select d.dms_job_card_row, d.s_warehouse, d.t_warehouse, sum(d.transfer_qty) qty
			from `tabStock Entry Detail` d join `tabStock Entry` se on se.name = d.parent
			where se.dms_parts_request = %s and se.docstatus = 1
			group by d.dms_job_card_row, d.s_warehouse, d.t_warehouse""",
			self.name,
			as_dict=True,
		)
		for row in self.items:
			mine = [m for m in moved if m.dms_job_card_row and m.dms_job_card_row == row.job_card_part]
			row.issued_qty = sum(m.qty for m in mine if m.t_warehouse == self.wip_warehouse)
			row.returned_qty = sum(m.qty for m in mine if m.s_warehouse == self.wip_warehouse)
			row.db_update()


def bin_figures(items: list[str], warehouse: str, for_update: bool = False) -> dict[str, dict]:
	if not items:
		return {}
	rows = frappe.db.sql(
		f"""select item_code, actual_qty, reserved_qty, projected_qty from `tabBin`
		where warehouse = %s and item_code in %s order by item_code {"for update" if for_update else ""}""",
		(warehouse, tuple(items)),
		as_dict=True,
	)
	return {r.item_code: r for r in rows}


def start_locked_transaction():
	"""End the request's read snapshot before taking row locks.

	Under REPEATABLE READ a transaction reads from the snapshot of its first plain read. If an
	issue waited on another issue's locks, its later plain reads (ERPNext's Bin updates from a
	Material Request, for one) would still see the stock from before the other issue and write
	it back. Nothing has been written yet at this point, so committing here only starts a new
	transaction whose snapshot is taken after the locks are held.
	"""
	frappe.db.commit()  # nosemgrep: deliberate transaction boundary before locking stock rows


def lock_job_card_status(job_card: str | None) -> str | None:
	"""The job card's status, its row locked (a locking read: it takes no snapshot, see
	start_locked_transaction)."""
	return job_card and frappe.db.get_value("Service Job Card", job_card, "status", for_update=True)


def submitted_requests(job_card: str) -> list[str]:
	return frappe.get_all(
		"Parts Request", filters={"service_job_card": job_card, "docstatus": 1}, pluck="name"
	)


def refresh_statuses(job_card: str):
	"""The job card's lines changed (a quantity, the customer's decision): the status of each of
	its submitted parts requests follows what is left to issue."""
	for name in submitted_requests(job_card):
		frappe.get_doc("Parts Request", name).set_issue_status()


def close_for_job(job_card: str):
	"""The job card ended without the work (Cancelled, Released): its submitted parts requests
	that never moved stock are cancelled, so nothing more is asked or issued for it. One that
	moved stock stays, as the record of it (its returns still bring the parts back; the job's
	guards ask that all is returned before it ends, and issue_parts refuses a final job).
	Called only from the job card's own on_update (workshop/status.on_job_card_update), after
	the user's save of that stored job card passed its write right and the workflow's role for
	the move; the requests are that job card's, so the cancel needs no parts right of its own."""
	for name in submitted_requests(job_card):
		if frappe.db.exists("Stock Entry", {"dms_parts_request": name, "docstatus": 1}):
			continue
		request = frappe.get_doc("Parts Request", name, for_update=True)
		request.flags.ignore_permissions = True
		request.cancel()


def check_parts_role():
	if not has_any_role(PARTS_ROLES):
		frappe.throw(_("Only a Parts Manager issues and returns parts."), frappe.PermissionError)


def parts_managers(company: str) -> list[str]:
	return dealer_users(PARTS_MANAGER, company)


def per_item(pairs) -> list[tuple[str, float]]:
	"""(item, qty) pairs summed per item, in first-seen order."""
	out = {}
	for item, qty in pairs:
		out[item] = out.get(item, 0) + qty
	return list(out.items())


def job_card_lines(job_card: str) -> dict:
	"""The job card's part lines by row name."""
	return {
		r.name: r
		for r in frappe.get_all(
			"Service Job Card Part",
			filters={"parent": job_card, "parenttype": "Service Job Card"},
			fields=["name", "idx", "item_code", "qty", "issued_qty", "customer_decision"],
			order_by="idx",
		)
	}


def issued_per_line(job_card: str) -> dict[str, float]:
	"""Net quantity issued (issued less returned) to each part line of the job card, from all
	its submitted parts Stock Entries."""
	rows = frappe.db.sql(
		"""select d.dms_job_card_row,
			sum(case when d.t_warehouse = pr.wip_warehouse then d.transfer_qty else 0 end)
			- sum(case when d.s_warehouse = pr.wip_warehouse then d.transfer_qty else 0 end) qty
		from `tabStock Entry Detail` d
		join `tabStock Entry` se on se.name = d.parent
		join `tabParts Request` pr on pr.name = se.dms_parts_request
		where se.dms_service_job_card = %s and se.docstatus = 1 and ifnull(d.dms_job_card_row, '') != ''
		group by d.dms_job_card_row""",
		job_card,
		as_dict=True,
	)
	return {r.dms_job_card_row: flt(r.qty) for r in rows}


def line_needs(job_card: str, exclude_request: str | None = None) -> dict[str, float]:
	"""What each part line the customer did not decline still lacks: its quantity less what is
	issued to it (net of returns) and less what submitted requests still have to issue for it."""
	issued = issued_per_line(job_card)
	pending = {}
	for r in frappe.db.sql(
		"""select i.job_card_part, i.qty, i.issued_qty, i.returned_qty
		from `tabParts Request Item` i join `tabParts Request` pr on pr.name = i.parent
		where pr.service_job_card = %s and pr.docstatus = 1 and pr.name != %s""",
		(job_card, exclude_request or ""),
		as_dict=True,
	):
		left = flt(r.qty) - (flt(r.issued_qty) - flt(r.returned_qty))
		if left > 0:
			pending[r.job_card_part] = pending.get(r.job_card_part, 0) + left
	return {
		name: max(flt(line.qty) - issued.get(name, 0) - pending.get(name, 0), 0)
		for name, line in job_card_lines(job_card).items()
		if line.customer_decision != "Declined"
	}


def pick_line(row, lines: dict, used: set, needs: dict, job_card: str) -> str:
	"""The job card line a request row without one is for: of its item, not yet in the request,
	the first that still needs parts (else the first)."""
	free = [n for n, line in lines.items() if line.item_code == row.item_code and n not in used]
	if not free:
		if any(line.item_code == row.item_code for line in lines.values()):
			frappe.throw(
				_("Row {0}: {1} is listed twice (the job card has no other line of it).").format(
					row.idx, row.item_code
				)
			)
		frappe.throw(
			_("Row {0}: job card {1} has no line for {2}; add it to the job card first.").format(
				row.idx, job_card, row.item_code
			)
		)
	return next((n for n in free if needs.get(n, 0) > 0), free[0])


def set_line_issued_qty(job_card: str):
	"""Each part line's issued quantity (net of returns), from the stock entries for that line."""
	net = issued_per_line(job_card)
	for name in job_card_lines(job_card):
		frappe.db.set_value(
			"Service Job Card Part", name, "issued_qty", net.get(name, 0), update_modified=False
		)


def update_job_card_issued_qty(job_card: str):
	"""Net issued quantity per part line of the job card, from all its submitted parts stock entries."""
	set_line_issued_qty(job_card)
	on_parts_issued(job_card)  # the parts-arrived ToDo closes once nothing is left to issue


def on_stock_entry_change(doc, method=None):
	"""doc_events: a parts Stock Entry cancelled (or submitted) outside the request keeps quantities true."""
	if doc.get("dms_parts_request") and frappe.db.exists("Parts Request", doc.dms_parts_request):
		frappe.get_doc("Parts Request", doc.dms_parts_request).update_quantities()


@frappe.whitelist()
def make_parts_request(source_name: str, target_doc=None):
	"""Parts request from a job card's part lines (unsaved draft, with the dealer's warehouses):
	one row per line that still needs parts, for what it still needs (its quantity less what is
	issued to it and what submitted requests still have to issue). What the customer declined is
	not fitted, so not requested."""
	from frappe.model.mapper import get_mapped_doc

	# the right to read it first: what another dealer's job still needs is not for this user
	frappe.get_doc("Service Job Card", source_name).check_permission("read")
	needs = line_needs(source_name)
	if not any(needs.values()):
		frappe.throw(_("Every part line of job card {0} is issued or requested already.").format(source_name))

	def postprocess(source, target):
		settings = get_workshop_settings(source.company)
		target.store_warehouse, target.wip_warehouse = settings.parts_warehouse, settings.wip_warehouse
		for row in target.items:
			row.qty = needs[row.job_card_part]

	return get_mapped_doc(
		"Service Job Card",
		source_name,
		{
			"Service Job Card": {
				"doctype": "Parts Request",
				"field_map": {"name": "service_job_card"},
				"field_no_map": ["naming_series", "status"],
			},
			"Service Job Card Part": {
				"doctype": "Parts Request Item",
				"field_map": {"name": "job_card_part"},
				"field_no_map": ["issued_qty"],
				"condition": lambda row: needs.get(row.name, 0) > 0,
			},
		},
		target_doc,
		postprocess,
	)
