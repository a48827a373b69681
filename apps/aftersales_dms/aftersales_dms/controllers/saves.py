"""What a save of a journey document costs: the parts of Frappe's save that do work for nothing."""

import pickle
from contextlib import contextmanager

import frappe
from frappe import _

# the document a doc method request acts on: its one load is the locked read (locked_read)
LOCK_ON_LOAD = "dms_lock_on_load"
LOCKED_LOAD = "_dms_locked_load"  # on the document: the transaction's writes when it was read
LOCKED_COPY = "_dms_locked_copy"  # on the document: (writes then, a copy of what was read)


class LeanSave:
	"""Mixin (before Document in the bases) for documents with several child tables that are
	saved often (the job card: six tables, saved by each clock action, assignment and move).

	- Frappe's `_set_defaults` builds the new-row template of every child table on every save (its
	  `make_new_doc`: a `SELECT issingle` and the user's defaults per table and request) and then
	  applies it only to the table's new rows. Here the template is built only for a table that
	  has a new row: what a row gets is the same, a clock action no longer builds five templates it
	  never uses.
	- Frappe's `_validate_links` looks up every link of the document and of each row on every
	  save (~27 statements for a job card: its customer, vehicle, check-in, every item and skill),
	  to find a link that does not exist and to fetch the fields fetched from it again. Here the
	  document or a row whose links, and the fields fetched from them, all hold what the stored
	  one holds is not looked up again: it was checked when it was stored, and Frappe refuses to
	  delete a record a document links to. A new row, a changed link, a fetched field that differs
	  from the stored one (a client's forged customer name or item name): checked and fetched again
	  by Frappe as before. What this leaves out is only Frappe's refresh of
	  fetched values from an unchanged link (a customer renamed since: the job card keeps the name
	  it was made with; a user cannot change a fetched field, as it is read-only:
	  guards.keep_read_only_fields).

	- A doc method reads its document three times: Frappe's handler loads it, the method locks
	  and reads it afresh (guards.lock_document), and Frappe's save reads it a third time, under
	  lock, as the stored document to compare with. For the app's doc methods the handler's load
	  is the locked read (`locked_read`, set by controllers/doc_methods for the one document
	  the request names), so lock_document need not read again, and so is the load in Frappe's
	  apply_workflow (workshop/status.apply_workflow); the save compares with a copy of what the
	  locked read read (`keep_locked_copy`). Either is used only while this
	  transaction has written nothing since the read (no commit, no rollback, no write: the rows
	  are locked, so nobody else can have changed them); otherwise the document is read again as
	  before.

	README, Benchmark: the per-step budget."""

	def load_from_db(self):
		wanted = frappe.flags.get(LOCK_ON_LOAD)
		if not wanted or wanted != (self.doctype, str(self.name)) or self.flags.for_update:
			return super().load_from_db()
		frappe.flags.pop(LOCK_ON_LOAD, None)  # the handler's load only, once
		self.flags.for_update = True
		try:
			super().load_from_db()
		finally:
			self.flags.for_update = False
		self.__dict__[LOCKED_LOAD] = frappe.db.transaction_writes
		_forget_at_transaction_end(self, LOCKED_LOAD)
		keep_locked_copy(self)  # what its save compares with
		return self

	def load_doc_before_save(self, *, raise_exception: bool = False):
		kept = self.__dict__.pop(LOCKED_COPY, None)
		if kept is not None and kept[0] == frappe.db.transaction_writes and not self.is_new():
			self._doc_before_save = kept[1]
			return
		return super().load_doc_before_save(raise_exception=raise_exception)

	def update_child_table(self, fieldname: str, df=None):
		"""Frappe writes every row of every table on every save (an UPDATE of each labour line, part,
		approval and status log on each clock action). Here a row that holds what the stored row
		holds (all but the save's own timestamp) is not written again; a new or changed row is, and
		a table a row was removed from is written by Frappe as before (its delete of the rows the
		document no longer has). The stored rows are those the save compares with: read under
		lock in this transaction (`get_doc_before_save`)."""
		df = df or self.meta.get_field(fieldname)
		before = None if self.is_new() else self.get_doc_before_save()
		if (
			before is None
			or df.options in (self.flags.ignore_children_type or ())
			or frappe.get_meta(df.options).is_virtual
		):
			return super().update_child_table(fieldname, df)
		rows = self.get(df.fieldname) or []
		stored = {r.name: r for r in before.get(df.fieldname) or []}
		if set(stored) - {r.name for r in rows if r.name and not r.is_new()}:
			return super().update_child_table(fieldname, df)  # a row was removed
		for d in rows:
			if d.is_new() or not d.name or row_changed(d, stored.get(d.name)):
				d.db_update()

	def _validate_links(self):
		before = None if self.is_new() else self.get_doc_before_save()
		if before is None or self.flags.ignore_links or self._action == "cancel":
			return super()._validate_links()
		stored = {(d.doctype, d.name): d for d in [before, *before.get_all_children()]}
		invalid_links, cancelled_links = [], []
		for d in [self, *self.get_all_children()]:
			if links_unchanged(d, stored.get((d.doctype, d.name))):
				continue
			result = d.get_invalid_links(is_submittable=self.meta.is_submittable)
			invalid_links.extend(result[0])
			cancelled_links.extend(result[1])
		# as Frappe's Document._validate_links says it
		if invalid_links:
			msg = ", ".join(each[2] for each in invalid_links)
			frappe.throw(_("Could not find {0}").format(msg), frappe.LinkValidationError)
		if cancelled_links:
			msg = ", ".join(each[2] for each in cancelled_links)
			frappe.throw(_("Cannot link cancelled document: {0}").format(msg), frappe.CancelledLinkError)

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


def links_unchanged(d, stored) -> bool:
	"""Every link (and dynamic link with its doctype) of `d`, and every field fetched from one,
	holds what the stored `stored` holds. A fetched field a client changed (a customer name, a
	plate, an item name: read-only, but left to Frappe's fetch, see guards.read_only_fields) makes
	the row changed, so Frappe fetches it again from its link."""
	if stored is None:
		return False
	for df in d.meta.get_link_fields() + d.meta.get("fields", {"fieldtype": "Dynamic Link"}):
		if d.get(df.fieldname) != stored.get(df.fieldname):
			return False
		if df.fieldtype == "Dynamic Link" and d.get(df.options) != stored.get(df.options):
			return False
		fetched = d.meta.get_fields_to_fetch(df.fieldname)
		if any(d.get(f.fieldname) != stored.get(f.fieldname) for f in fetched):
			return False
	return True


SAVE_STAMP = ("modified", "modified_by")


def row_changed(d, stored) -> bool:
	"""The row would write something other than what is stored (compared as Frappe's db_update
	writes it; a value of another type or form counts as changed)."""
	if stored is None:
		return True
	mine = d.get_valid_dict(convert_dates_to_str=True, ignore_virtual=True)
	theirs = stored.get_valid_dict(convert_dates_to_str=True, ignore_virtual=True)
	return any(v != theirs.get(k) for k, v in mine.items() if k not in SAVE_STAMP) or set(mine) != set(theirs)


@contextmanager
def locked_read(doctype: str | None, name):
	"""Within it, the next load of this document (Frappe's run_doc_method handler's, or its
	apply_workflow's) reads it under lock: see LeanSave. No document (None): nothing changes."""
	if doctype and name:
		frappe.flags[LOCK_ON_LOAD] = (doctype, str(name))
	try:
		yield
	finally:
		frappe.flags.pop(LOCK_ON_LOAD, None)


def fresh_locked_load(doc) -> bool:
	"""The document was loaded under lock by the request's handler (locked_read), and this
	transaction has written nothing since: what it holds is what is stored, and stays so. Once."""
	marker = doc.__dict__.pop(LOCKED_LOAD, None)
	return marker is not None and marker == frappe.db.transaction_writes


def keep_locked_copy(doc) -> None:
	"""lock_document has just read the document under lock: keep a copy (what Frappe's cached
	documents are: a pickled round trip) for its save to compare with, while nothing is written."""
	if not isinstance(doc, LeanSave) or doc.get("__islocal"):
		return
	try:
		copy = pickle.loads(pickle.dumps(doc, protocol=pickle.HIGHEST_PROTOCOL))
	except (pickle.PickleError, TypeError, AttributeError):
		return  # something unpicklable on it: its save reads the stored document, as Frappe does
	for attr in (LOCKED_COPY, LOCKED_LOAD, "__unsaved", "_doc_before_save"):
		copy.__dict__.pop(attr, None)
	doc.__dict__[LOCKED_COPY] = (frappe.db.transaction_writes, copy)
	_forget_at_transaction_end(doc, LOCKED_COPY)


def _forget_at_transaction_end(doc, attr: str) -> None:
	def forget():
		doc.__dict__.pop(attr, None)

	frappe.db.after_commit.add(forget)
	frappe.db.after_rollback.add(forget)


@contextmanager
def memo_scope(name: str):
	"""Within it, scope_memo(name) is one dict kept for the block, for answers a request would
	otherwise compute again (a line's price, an estimate read); nested blocks share the outer
	one's; outside any block scope_memo(name) is None and callers compute afresh."""
	attr = f"dms_memo_{name}"
	if getattr(frappe.local, attr, None) is not None:
		yield
		return
	setattr(frappe.local, attr, {})
	try:
		yield
	finally:
		setattr(frappe.local, attr, None)


def scope_memo(name: str) -> dict | None:
	return getattr(frappe.local, f"dms_memo_{name}", None)
