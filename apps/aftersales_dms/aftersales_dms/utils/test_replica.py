# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

"""The read replica's routing: how far behind a GTID position is, and that every read-only
endpoint of Frappe's goes through the lag check. The replica itself (a second MariaDB following the
bench's primary): tests/system/test_read_replica.py."""

import ast
import os
import socket
import time

import frappe
from frappe.tests.utils import FrappeTestCase

from aftersales_dms.utils import replica


def free_port() -> int:
	with socket.socket() as s:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]


def frappe_read_only_endpoints() -> set[str]:
	"""Every function of Frappe and ERPNext that is both whitelisted and @frappe.read_only(), found
	in their sources (so one Frappe adds is found too)."""
	found = set()
	for app in ("frappe", "erpnext"):
		root = os.path.dirname(frappe.get_app_path(app))
		for folder, _dirs, files in os.walk(os.path.join(root, app)):
			for name in files:
				path = os.path.join(folder, name)
				if not name.endswith(".py") or "read_only()" not in open(path, errors="replace").read():
					continue
				tree = ast.parse(open(path).read())
				for node in tree.body:
					if not isinstance(node, ast.FunctionDef):
						continue
					decorators = {ast.unparse(d) for d in node.decorator_list}
					if "frappe.read_only()" in decorators and any(
						d.startswith("frappe.whitelist(") for d in decorators
					):
						module = os.path.relpath(path, root)[:-3].replace(os.sep, ".")
						found.add(f"{module}.{node.name}")
	return found


class TestReplicaRouting(FrappeTestCase):
	def test_transactions_behind_per_domain(self):
		self.assertEqual(replica.transactions_behind("0-1-120", "0-1-108"), 12)
		self.assertEqual(replica.transactions_behind("0-1-120,1-2-5", "0-1-120"), 5)
		self.assertEqual(replica.transactions_behind("0-1-120", "0-1-130"), 0)
		self.assertEqual(replica.transactions_behind("0-1-7", ""), 7)
		self.assertEqual(replica.transactions_behind("", "0-1-7"), 0)

	def test_every_read_only_endpoint_of_frappe_goes_through_the_lag_check(self):
		"""With read_from_replica set, Frappe's own @frappe.read_only() endpoints would read an
		unchecked replica; each is routed through utils/replica.py (hooks.override_whitelisted_methods)."""
		overrides = frappe.get_hooks("override_whitelisted_methods", app_name="aftersales_dms")
		endpoints = frappe_read_only_endpoints()
		self.assertIn("frappe.desk.reportview.get", endpoints)  # the scan finds them
		missing = []
		for method in sorted(endpoints):
			target = overrides.get(method, [None])[-1]
			if not target:
				missing.append(method)
				continue
			fn = frappe.get_attr(target)
			self.assertIn(fn, frappe.whitelisted, method)
			# whitelisted (Frappe's argument check) around ours: the lag check's wrapper
			self.assertEqual(fn.__wrapped__.__code__.co_filename, replica.__file__, method)
		self.assertFalse(
			missing, f"Frappe read-only endpoints not routed through utils/replica.py: {missing}"
		)

	def test_no_replica_configured_reads_on_the_primary(self):
		self.assertFalse(frappe.local.conf.read_from_replica)
		primary = frappe.local.db
		with replica.reads() as on_replica:
			self.assertFalse(on_replica)
			self.assertIs(frappe.local.db, primary)
		self.assertFalse(hasattr(frappe.local, "primary_db"))
		self.assertFalse(hasattr(frappe.local, "replica_db"))

	def test_a_transaction_that_wrote_or_an_unreachable_replica_reads_on_the_primary(self):
		port = free_port()  # nobody listens there
		where = f"127.0.0.1:{port}"
		conf = {"read_from_replica": 1, "replica_host": "127.0.0.1", "replica_db_port": port}
		saved = {k: frappe.local.conf.get(k) for k in conf}
		frappe.local.conf.update(conf)
		log = ReplicaLog()
		try:
			# this transaction wrote: only the primary has it, the replica is not even asked
			frappe.db.sql("update `tabDefaultValue` set defvalue = defvalue where name = 'no such row'")
			self.assertTrue(frappe.db.transaction_writes)
			self.assertIsNone(replica.open_replica())
			self.assertEqual(log.new_lines(), [])
			frappe.db.rollback()
			# nothing listens there: one line, then the replica is left alone for a while
			t0 = time.monotonic()
			self.assertIsNone(replica.open_replica())
			self.assertLess(time.monotonic() - t0, replica.CONNECT_TIMEOUT + 1)
			lines = log.new_lines()
			self.assertEqual(len(lines), 1, lines)
			self.assertRegex(
				lines[0],
				rf"replica {where} is unreachable \(OperationalError: .*\); reading from the primary$",
			)
			self.assertIsNone(replica.open_replica())
			with replica.reads() as on_replica:
				self.assertFalse(on_replica)
				# Frappe's own read_only inside finds the connections it looks for: no switch
				self.assertIs(frappe.local.replica_db, frappe.local.db)
			self.assertEqual(log.new_lines(), [])
		finally:
			frappe.local.conf.update(saved)
			frappe.cache.delete_value(replica.RETRY_KEY + where)
			frappe.cache.delete_value(replica.DEGRADED_KEY + where)


class ReplicaLog:
	"""The lines logs/aftersales_dms.replica.log (the bench's) gets from now on."""

	path = os.path.join("..", "logs", f"{replica.LOGGER}.log")  # from sites/, as Frappe's logger

	def __init__(self):
		self.offset = self.size()

	def size(self):
		return os.path.getsize(self.path) if os.path.exists(self.path) else 0

	def new_lines(self):
		if self.size() < self.offset:  # rotated
			self.offset = 0
		with open(self.path) if os.path.exists(self.path) else open(os.devnull) as f:
			f.seek(self.offset)
			text = f.read()
		self.offset += len(text.encode())
		return text.splitlines()
