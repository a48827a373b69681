"""Read-heavy requests on a MariaDB read replica, where one is configured — never a replica
that is behind the primary.

Frappe's way (`frappe.read_only()`, `frappe.connect_replica`) sends a decorated function's
queries to the server named by the site config's `replica_host` / `replica_db_port` when
`read_from_replica` is set — whatever that replica holds. A replica whose replication stopped or
lags would answer a report, a number card or the board with old figures. Here every switch to
the replica first asks it to have applied everything the primary had committed when the read
began (read-your-writes):

1. the primary's `@@gtid_binlog_pos` (one query on the connection the request already has);
2. on the replica: `MASTER_GTID_WAIT(position, dms_replica_max_wait)` — 0 when the replica has
   applied that position (at once on a replica in step), -1 after the wait (replication stopped,
   or lagging more than that);
3. only then are the function's queries run there, in a read-only session
   (`SET SESSION TRANSACTION READ ONLY`, and Frappe's read-only flag, so Frappe defers the
   writes it knows how to defer — error logs, view logs — instead of sending them to the replica).

A replica that is behind, unreachable or answers with an error is left for
`dms_replica_retry_after` seconds (shared by every worker through Redis): the reads go to the
primary, and one warning line says why — in `logs/aftersales_dms.replica.log` of the bench and of
the site, e.g. "replica 127.0.0.1:3307 is 12 transactions behind the primary (waited 0.5 s);
reading from the primary". Another line says when it is back in step. A request that has written
in its transaction reads on the primary (the replica cannot see what is not committed).

Neither the GTID wait nor the two global variables need a privilege: the site's own database
user (or `replica_db_name` with `different_credentials_for_replica`) does. That user must be
allowed to connect to the replica from the app servers; the replica should run with `read_only`.

Used as `@replica.read_only()` on our read-only whitelisted functions and around the board's
read; Frappe's own read-only endpoints (list views, counts, sidebar stats, the workspace page,
notifications) and the number cards and dashboard charts are routed through here by
`hooks.override_whitelisted_methods` (the wrappers below keep Frappe's arguments, checks and
answers), and a prepared report's background job is checked before it starts (`before_job`).
"""

import functools
import logging
import time
from contextlib import contextmanager

import frappe
from frappe.database.mariadb.database import MariaDBDatabase
from frappe.utils import cint, now

LOGGER = "aftersales_dms.replica"
CONNECT_TIMEOUT = 2  # seconds to reach the replica and get its greeting before reading on the primary
DEFAULT_MAX_WAIT = 0.5  # seconds a read waits for the replica to apply the primary's position
DEFAULT_RETRY_AFTER = 30  # seconds a replica found behind or unreachable is left alone
RETRY_KEY = "dms_replica_retry|"  # + address: set (with expiry) while reads go to the primary
DEGRADED_KEY = "dms_replica_degraded|"  # + address: set until the replica is found in step again


class ReplicaDatabase(MariaDBDatabase):
	"""Frappe's MariaDB connection, with timeouts while it connects and checks the replica (a
	replica that does not answer is left after CONNECT_TIMEOUT plus the wait, not after pymysql's
	10 s connect timeout or never)."""

	check_timeout = None

	def get_connection_settings(self) -> dict:
		settings = super().get_connection_settings()
		settings["connect_timeout"] = CONNECT_TIMEOUT
		if self.check_timeout:
			settings["read_timeout"] = self.check_timeout
		return settings

	def end_check(self):
		"""The check is over: the function's queries may take as long as they take."""
		if self._conn is not None and hasattr(self._conn, "_read_timeout"):
			self._conn._read_timeout = None


def address() -> str:
	conf = frappe.local.conf
	return f"{conf.replica_host}:{conf.replica_db_port or MariaDBDatabase.default_port}"


def transactions_behind(primary: str, replica: str | None) -> int:
	"""How many transactions of the primary's GTID position (domain-server-seq, comma-separated)
	the replica's position has not reached, summed over the primary's domains."""

	def seqs(position):
		out = {}
		for gtid in (position or "").split(","):
			parts = gtid.strip().split("-")
			if len(parts) == 3 and all(p.isdigit() for p in parts):
				out[int(parts[0])] = int(parts[2])
		return out

	have = seqs(replica)
	return sum(max(0, seq - have.get(domain, 0)) for domain, seq in seqs(primary).items())


def _setting(key, default) -> float:
	value = frappe.local.conf.get(key)
	return default if value is None else float(value)


def log(message: str):
	"""A warning in logs/aftersales_dms.replica.log (bench and site). Frappe's loggers keep only
	errors outside its development server, so this one is set to keep warnings too."""
	logger = frappe.logger(LOGGER)
	if logger.level > logging.WARNING:
		logger.setLevel(logging.WARNING)
	logger.warning(message)


def _degrade(where: str, why: str):
	retry_after = _setting("dms_replica_retry_after", DEFAULT_RETRY_AFTER)
	if retry_after > 0:
		frappe.cache.set_value(RETRY_KEY + where, why, expires_in_sec=max(1, int(retry_after)))
	frappe.cache.set_value(DEGRADED_KEY + where, why)
	log(f"replica {where} {why}; reading from the primary")


def open_replica() -> ReplicaDatabase | None:
	"""A connection to the configured replica that has applied everything the primary had
	committed a moment ago, or None: read on the primary (no replica configured, this transaction
	wrote, or the replica is behind or unreachable — the last two logged)."""
	conf = frappe.local.conf
	if not conf.read_from_replica or not conf.replica_host:
		return None
	if frappe.db.transaction_writes:  # its own writes are not committed yet: only the primary has them
		return None
	where = address()
	if frappe.cache.get_value(RETRY_KEY + where, expires=True):  # from Redis, not this request's copy
		return None  # left alone for a while (logged when it was found so)
	position, log_bin = frappe.db.sql("select @@global.gtid_binlog_pos, @@global.log_bin")[0]
	if not int(log_bin):
		_degrade(where, "cannot follow the primary: the primary writes no binary log")
		return None
	max_wait = _setting("dms_replica_max_wait", DEFAULT_MAX_WAIT)
	user, password = conf.db_name, conf.db_password
	if conf.different_credentials_for_replica:
		user, password = conf.replica_db_name, conf.replica_db_password
	replica = ReplicaDatabase(
		host=conf.replica_host,
		port=conf.replica_db_port,
		user=user,
		password=password,
		cur_db_name=conf.db_name,
	)
	replica.check_timeout = CONNECT_TIMEOUT + max_wait
	started = time.monotonic()
	try:
		replica.connect()
		replica.sql("set session transaction read only")
		reached = replica.sql("select master_gtid_wait(%s, %s)", (position, max_wait))[0][0]
		if reached != 0:
			behind = transactions_behind(position, replica.sql("select @@global.gtid_slave_pos")[0][0])
			replica.close()
			_degrade(
				where,
				f"is {behind} transaction{'' if behind == 1 else 's'} behind the primary "
				f"(waited {time.monotonic() - started:.1f} s)"
				if reached == -1
				else f"did not wait for the primary's position {position} (answer {reached})",
			)
			return None
		replica.sql("rollback")  # the function's reads get a snapshot taken after the wait
		replica.end_check()
	except Exception as e:
		try:
			replica.close()
		except Exception:
			pass
		_degrade(where, f"is unreachable ({type(e).__name__}: {e})")
		return None
	if frappe.cache.get_value(DEGRADED_KEY + where, expires=True):
		frappe.cache.delete_value(DEGRADED_KEY + where)
		log(f"replica {where} is in step with the primary again; reading from it")
	if hasattr(frappe.local, "_recorder"):
		frappe.local._recorder._patch_sql(replica)
	return replica


def on_replica() -> bool:
	"""Whether the current queries go to a replica."""
	primary = getattr(frappe.local, "primary_db", None)
	return primary is not None and frappe.local.db is not primary


@contextmanager
def reads():
	"""Run the block's queries on the replica when one is configured and in step, else on the
	primary; yields whether it is the replica. Nested inside a switch already made (ours, or
	Frappe's read_only) it changes nothing. Frappe's read_only inside the block finds the
	connections it looks for (frappe.local.primary_db and replica_db) and does not switch again —
	to an unchecked replica."""
	local = frappe.local
	if hasattr(local, "primary_db") and hasattr(local, "replica_db"):
		yield on_replica()
		return
	primary = local.db
	replica = open_replica()
	flag = frappe.flags.read_only
	local.primary_db = primary
	local.replica_db = replica or primary
	if replica:
		local.db = replica
		frappe.flags.read_only = True
	try:
		yield replica is not None
	finally:
		local.db = primary
		frappe.flags.read_only = flag
		del local.primary_db, local.replica_db
		if replica:
			replica.close()


def read_only():
	"""Decorator: the function reads on the replica when one is configured and in step (see the
	module's docstring), else on the primary."""

	def decorator(fn):
		@functools.wraps(fn)
		def wrapper(*args, **kwargs):
			with reads():
				return fn(*args, **kwargs)

		return wrapper

	return decorator


def _frappe_read(path: str):
	"""Frappe's whitelisted function at `path`, reading through `reads()`: same arguments,
	permission checks and answer, whitelisted as Frappe whitelists it (for
	hooks.override_whitelisted_methods)."""
	fn = frappe.get_attr(path)
	wrapped = read_only()(fn)
	return frappe.whitelist(
		allow_guest=fn in frappe.guest_methods,
		xss_safe=fn in frappe.xss_safe_methods,
		methods=frappe.allowed_http_methods_for_whitelisted_func.get(fn),
	)(wrapped)


# Frappe's own read-only endpoints (@frappe.read_only in Frappe): on a replica only when in step
reportview_get = _frappe_read("frappe.desk.reportview.get")
reportview_get_list = _frappe_read("frappe.desk.reportview.get_list")
reportview_get_count = _frappe_read("frappe.desk.reportview.get_count")
reportview_export_query = _frappe_read("frappe.desk.reportview.export_query")
reportview_get_sidebar_stats = _frappe_read("frappe.desk.reportview.get_sidebar_stats")
reportview_get_stats = _frappe_read("frappe.desk.reportview.get_stats")
desktop_get_desktop_page = _frappe_read("frappe.desk.desktop.get_desktop_page")
notifications_get_notifications = _frappe_read("frappe.desk.notifications.get_notifications")
notifications_get_open_count = _frappe_read("frappe.desk.notifications.get_open_count")
# the workspaces' number cards (a Document Type card's count or sum)
number_card_get_result = _frappe_read("frappe.desk.doctype.number_card.number_card.get_result")
number_card_get_percentage_difference = _frappe_read(
	"frappe.desk.doctype.number_card.number_card.get_percentage_difference"
)

_chart_get = frappe.get_attr("frappe.desk.doctype.dashboard_chart.dashboard_chart.get")


@functools.wraps(_chart_get)
def _dashboard_chart_get(*args, **kwargs):
	chart_name = kwargs.get("chart_name")
	# Frappe's cache_source computes the chart when asked to refresh or when Redis has none, and
	# then stamps the chart's last_synced_on — a write it skips in read-only mode; on the
	# replica it is made on the primary afterwards
	computes = (
		bool(chart_name)
		and not kwargs.get("no_cache")
		and (
			cint(kwargs.get("refresh"))
			or not frappe.cache.get_value(f"chart-data:{chart_name}", expires=True)
		)
	)
	with reads() as replica:
		result = _chart_get(*args, **kwargs)
	if replica and computes:
		frappe.db.set_value("Dashboard Chart", chart_name, "last_synced_on", now(), update_modified=False)
	return result


# a Group By or Count dashboard chart (a Report chart reads through query_report.run)
dashboard_chart_get = frappe.whitelist()(_dashboard_chart_get)

# background jobs that read through Frappe's own read_only (not a whitelisted call we route)
CHECKED_JOBS = ("frappe.core.doctype.prepared_report.prepared_report.generate_report",)


def before_job(method=None, kwargs=None, transaction_type=None):
	"""hooks.before_job: a prepared report's job reads on the replica through Frappe's read_only;
	when the replica is behind or unreachable, the job is kept on the primary (Frappe's
	read_only then finds the connections it looks for and does not switch)."""
	if method not in CHECKED_JOBS or not frappe.local.conf.read_from_replica:
		return
	replica = open_replica()
	if replica:
		replica.close()  # in step now; Frappe's read_only opens its own connection
		return
	frappe.local.primary_db = frappe.local.replica_db = frappe.local.db
