"""Reports, number cards and the board's reads on a MariaDB read replica; writes on the primary.

A second mariadbd on 127.0.0.1 (its own datadir under the bench's db/replica/, general log on)
is seeded from the bench's primary (mariadb-dump --gtid --master-data) and follows it as a GTID
replica (CHANGE MASTER ... MASTER_USE_GTID=slave_pos). The test site's config points at it
(read_from_replica, replica_host, replica_db_port) and the reads go over HTTP as the roles:

- in step, the reads' SELECTs are in the replica's general log and a job card saved over HTTP
  is not (it reaches the replica through replication), and the count read right after the save
  already has it;
- lagging (MASTER_DELAY), with its replication stopped, its server stopped or frozen, the same
  reads give the new figure from the primary and the log says why; then the replica is used again.

The site config and the replica server are undone by the fixture's finalizer, whatever happens.
"""

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
from datetime import timedelta

import pytest
from dmstest import ARTIFACTS, BENCH, SITE, free_port, login
from frappe.utils import getdate, today

PUNE = "Orion Motors Pune"
VEHICLE = "MA1TA2XX6GH123456"  # demo vehicle of Pune
DIR = os.path.join(BENCH, "db", "replica")
PRIMARY_CNF = os.path.join(BENCH, "db", "root.cnf")  # the bench's root login (mode 600), ./dms writes it
REPLICA_LOG = os.path.join(BENCH, "logs", "aftersales_dms.replica.log")
RETRY_AFTER = 4  # dms_replica_retry_after for the test: seconds a degraded replica is left alone
MAX_WAIT = 2  # dms_replica_max_wait: how long a read waits for the replica (a loaded CI machine)
OPEN_STATES = [
	"Open",
	"In Progress",
	"Awaiting Approval",
	"Repairing",
	"Quality Check",
	"Waiting for Parts",
	"On Hold",
]
JOBS_IN_WORKSHOP = {  # the workspace's number card, as the desk sends it
	"name": "Jobs in Workshop",
	"function": "Count",
	"document_type": "Service Job Card",
}


def sql(cnf, query, timeout=120):
	"""Run a statement with the mariadb client (root, from a defaults file); tab-separated rows."""
	r = subprocess.run(
		["mariadb", f"--defaults-file={cnf}", "--batch", "--skip-column-names", "-e", query],
		capture_output=True,
		text=True,
		timeout=timeout,
	)
	assert r.returncode == 0, (query, r.stderr)
	return [line.split("\t") for line in r.stdout.splitlines()]


def one(cnf, query):
	return sql(cnf, query)[0][0]


class Replica:
	"""The second server: its files, its root login and its general log."""

	def __init__(self):
		self.port = free_port()
		self.cnf = os.path.join(DIR, "my.cnf")
		self.root_cnf = os.path.join(DIR, "root.cnf")
		self.socket = os.path.join(DIR, "mysqld.sock")
		self.general_log = os.path.join(DIR, "general.log")
		self.proc = None

	def write_config(self, root_password):
		os.makedirs(os.path.join(DIR, "data"))
		with open(self.cnf, "w") as f:
			f.write(
				f"""[client]
socket = {self.socket}
default-character-set = utf8mb4

[mysqld]
datadir = {DIR}/data
socket = {self.socket}
pid-file = {DIR}/mysqld.pid
bind-address = 127.0.0.1
port = {self.port}
character-set-client-handshake = FALSE
character-set-server = utf8mb4
collation-server = utf8mb4_unicode_ci
innodb_buffer_pool_size = 128M
innodb_flush_log_at_trx_commit = 2
max_allowed_packet = 256M
server-id = 2
read-only = 1
skip-log-bin
relay-log = {DIR}/relay-bin
gtid-strict-mode = 1
general-log = 1
general-log-file = {self.general_log}
"""
			)
		fd = os.open(self.root_cnf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
		with os.fdopen(fd, "w") as f:
			f.write(f'!include {self.cnf}\n[client]\nuser = root\npassword = "{root_password}"\n')

	def start(self):
		log = open(os.path.join(DIR, "mariadbd.log"), "a")
		self.proc = subprocess.Popen(
			["mariadbd", f"--defaults-file={self.cnf}"],
			stdout=log,
			stderr=subprocess.STDOUT,
			start_new_session=True,
		)
		deadline = time.monotonic() + 120
		while time.monotonic() < deadline:
			assert self.proc.poll() is None, open(os.path.join(DIR, "mariadbd.log")).read()[-3000:]
			ping = subprocess.run(
				["mariadb-admin", f"--defaults-file={self.root_cnf}", "ping"], capture_output=True, text=True
			)
			if ping.returncode == 0 or "Access denied" in ping.stderr:
				return
			time.sleep(0.3)
		raise AssertionError("the replica's mariadbd did not start")

	def stop(self):
		if self.proc and self.proc.poll() is None:
			subprocess.run(
				["mariadb-admin", f"--defaults-file={self.root_cnf}", "shutdown"], capture_output=True
			)
			try:
				self.proc.wait(60)
			except subprocess.TimeoutExpired:
				self.proc.kill()
				self.proc.wait(10)

	def log_size(self):
		return os.path.getsize(self.general_log)

	def log_since(self, offset):
		with open(self.general_log, errors="replace") as f:
			f.seek(offset)
			return f.read()

	def catch_up(self):
		"""Wait until the replica has applied everything the primary has written."""
		position = one(PRIMARY_CNF, "select @@global.gtid_binlog_pos")
		assert one(self.root_cnf, f"select master_gtid_wait('{position}', 60)") == "0", self.status()

	def status(self):
		return sql(self.root_cnf, "show slave status")


def site_config(key, value):
	from frappe.installer import update_site_config

	update_site_config(key, value, site_config_path=os.path.join(BENCH, "sites", SITE, "site_config.json"))


@pytest.fixture(scope="module")
def replica():
	if one(PRIMARY_CNF, "select @@global.log_bin") != "1" or one(PRIMARY_CNF, "select @@port") in (
		"0",
		"3306",
	):
		pytest.fail(
			"the bench's MariaDB runs without a binary log or its own loopback port: it was started "
			"before config/mariadb.cnf.in had them — ./dms restarts it with the current configuration"
		)
	root_password = json.load(open(os.path.join(BENCH, "sites", "common_site_config.json")))["root_password"]
	shutil.rmtree(DIR, ignore_errors=True)
	rep = Replica()
	rep.write_config(root_password)
	keys = (
		"read_from_replica",
		"replica_host",
		"replica_db_port",
		"dms_replica_retry_after",
		"dms_replica_max_wait",
	)
	try:
		r = subprocess.run(
			[
				"mariadb-install-db",
				f"--defaults-file={rep.cnf}",
				"--auth-root-authentication-method=normal",
				"--skip-test-db",
			],
			capture_output=True,
			text=True,
			timeout=300,
		)
		assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
		rep.start()
		# the root password of the primary, which the dump below brings along with its users
		subprocess.run(
			["mariadb", f"--defaults-file={rep.cnf}", "-uroot"],
			input=f"ALTER USER 'root'@'localhost' IDENTIFIED BY '{root_password}'; FLUSH PRIVILEGES;",
			text=True,
			check=True,
			capture_output=True,
		)
		# the account the replica's IO thread logs in with (replicated with the dump)
		repl_password = secrets.token_hex(16)
		sql(
			PRIMARY_CNF,
			"CREATE OR REPLACE USER 'dms_replication'@'localhost' IDENTIFIED BY "
			f"'{repl_password}'; GRANT REPLICATION SLAVE ON *.* TO 'dms_replication'@'localhost'",
		)
		t0 = time.monotonic()
		dump = subprocess.Popen(
			[
				"mariadb-dump",
				f"--defaults-file={PRIMARY_CNF}",
				"--all-databases",
				"--single-transaction",
				"--gtid",
				"--master-data=1",
				"--routines",
				"--flush-privileges",
			],
			stdout=subprocess.PIPE,
			stderr=subprocess.PIPE,
		)
		load = subprocess.run(  # not in the general log, which is for the reads below
			["mariadb", f"--defaults-file={rep.root_cnf}", "--init-command=SET SESSION sql_log_off = 1"],
			stdin=dump.stdout,
			capture_output=True,
			timeout=900,
		)
		dump.stdout.close()
		assert dump.wait(60) == 0, dump.stderr.read()[-2000:]
		assert load.returncode == 0, load.stderr[-2000:]
		primary_port = one(PRIMARY_CNF, "select @@port")
		sql(
			rep.root_cnf,
			f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={primary_port}, "
			f"MASTER_USER='dms_replication', MASTER_PASSWORD='{repl_password}', "
			"MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1; START SLAVE",
		)
		rep.catch_up()
		print(f"\nreplica seeded from the primary and in step in {time.monotonic() - t0:.0f} s")
		site_config("read_from_replica", 1)
		site_config("replica_host", "127.0.0.1")
		site_config("replica_db_port", rep.port)
		site_config("dms_replica_retry_after", RETRY_AFTER)
		site_config("dms_replica_max_wait", MAX_WAIT)
		yield rep
	finally:
		for key in keys:
			site_config(key, "None")
		rep.stop()
		for name in ("general.log", "mariadbd.log"):
			if os.path.exists(os.path.join(DIR, name)):
				shutil.copy(os.path.join(DIR, name), os.path.join(ARTIFACTS, f"replica-{name}"))
		if os.path.exists(REPLICA_LOG):
			shutil.copy(REPLICA_LOG, os.path.join(ARTIFACTS, "aftersales_dms.replica.log"))
		shutil.rmtree(DIR, ignore_errors=True)
		subprocess.run(
			[
				"mariadb",
				f"--defaults-file={PRIMARY_CNF}",
				"-e",
				"DROP USER IF EXISTS 'dms_replication'@'localhost'",
			],
			capture_output=True,
		)


class Staff:
	"""A role's HTTP session with the reads of its desk."""

	def __init__(self, server, user, password):
		self.server, self.user = server, user
		self.s = login(server, user, password)

	def call(self, path, /, **data):
		data = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in data.items()}
		r = self.s.post(f"{self.server}/api/method/{path}", data=data, timeout=120)
		assert r.status_code == 200, (self.user, path, r.status_code, r.text[:1500])
		return r.json().get("message")

	def jobs_in_workshop(self):
		return self.call(
			"frappe.desk.doctype.number_card.number_card.get_result",
			doc=JOBS_IN_WORKSHOP,
			filters=[["Service Job Card", "status", "in", OPEN_STATES, False]],
		)

	def count(self, marker):
		"""The desk's count (a list's count, a workspace shortcut's)."""
		return self.call(
			"frappe.desk.reportview.get_count",
			doctype="Service Job Card",
			filters=[["Service Job Card", "concerns", "like", f"{marker}%"]],
		)

	def my_operations(self, job):
		"""The My Operations report's lines of this job card."""
		result = self.call("frappe.desk.query_report.run", report_name="My Operations", filters={})
		return [
			row for row in result["result"] if isinstance(row, dict) and row.get("job_card") == job["name"]
		]

	@property
	def technician(self):
		r = self.s.get(
			f"{self.server}/api/resource/Service Technician",
			params={"filters": json.dumps([["user", "=", "tech.amit@omp.example"]])},
			timeout=60,
		)
		return r.json()["data"][0]["name"]

	def assign(self, job):
		"""The workshop manager assigns the job's labour line (a write, on the primary)."""
		self.call(
			"run_doc_method",
			dt="Service Job Card",
			dn=job["name"],
			method="assign_technician",
			args={"labour_line": job["labour"][0]["name"], "technician": self.technician},
		)

	def new_job_card(self, marker):
		customer = self.s.get(f"{self.server}/api/resource/Customer Vehicle/{VEHICLE}", timeout=60).json()[
			"data"
		]["customer"]
		r = self.s.post(
			f"{self.server}/api/resource/Service Job Card",
			json={
				"company": PUNE,
				"customer": customer,
				"vehicle": VEHICLE,
				"concerns": marker,
				"labour": [{"item_code": "LAB-DIAG", "standard_hours": 0.8, "rate": 1100}],
			},
			timeout=120,
		)
		assert r.status_code == 200, r.text[:1500]
		return r.json()["data"]


@pytest.fixture(scope="module")
def staff(server, demo_password, replica):
	return {
		"manager": Staff(server, "manager@omp.example", demo_password),
		"advisor": Staff(server, "advisor@omp.example", demo_password),
	}


def log_lines_since(offset):
	if not os.path.exists(REPLICA_LOG):
		return ""
	with open(REPLICA_LOG) as f:
		f.seek(offset)
		return f.read()


def log_offset():
	return os.path.getsize(REPLICA_LOG) if os.path.exists(REPLICA_LOG) else 0


def on_replica(replica, fn):
	"""Run fn (HTTP reads) and return its result and the replica's general log meanwhile."""
	offset = replica.log_size()
	result = fn()
	time.sleep(0.2)  # the general log is written as the server runs the statement
	return result, replica.log_since(offset)


def queries(log):
	return [line for line in log.splitlines() if "\tQuery\t" in line or " Query\t" in line]


def assert_read_on_replica(log, *tables):
	assert "master_gtid_wait" in log, log[-3000:]
	for table in tables:
		assert re.search(rf"select .*`{re.escape(table)}`", log, re.I | re.S), (table, log[-3000:])


def assert_read_on_primary(log):
	"""Only the check (the GTID wait), if anything, reached the replica: no table was read there."""
	assert not re.search(r"select .*`tab", log, re.I), log[-3000:]


def wait_for_retry():
	time.sleep(RETRY_AFTER + 0.5)


def test_reads_land_on_the_replica_and_writes_on_the_primary(replica, staff):
	from aftersales_dms.workshop import board

	manager, advisor = staff["manager"], staff["advisor"]
	marker = f"replica-step-{os.getpid()}-"
	replica.catch_up()  # the logins' writes

	reads = {
		"report (query_report.run, My Operations)": (
			lambda: manager.call("frappe.desk.query_report.run", report_name="My Operations", filters={}),
			("tabService Job Card",),
		),
		"report (Workshop Revenue: kept months, and a partial month from the invoices)": (
			lambda: manager.call(
				"frappe.desk.query_report.run",
				report_name="Workshop Revenue",
				filters={
					"company": PUNE,
					"from_date": str((getdate(today()) - timedelta(days=90)).replace(day=15)),
					"to_date": today(),  # the site's day (its time zone), as its documents are dated
				},
			),
			("tabWorkshop Revenue Month", "tabSales Invoice"),
		),
		"number card (Document Type)": (manager.jobs_in_workshop, ("tabService Job Card",)),
		"number card (custom: average TAT)": (
			lambda: manager.call("aftersales_dms.analytics.dashboard.average_tat"),
			("tabService Job Card Status Log",),
		),
		"dashboard chart (Group By)": (
			lambda: manager.call(
				"frappe.desk.doctype.dashboard_chart.dashboard_chart.get",
				chart_name="Job Cards by Status",
				refresh=1,
			),
			("tabService Job Card",),
		),
		"desk count (reportview.get_count)": (lambda: manager.count(marker), ("tabService Job Card",)),
		"list view (reportview.get)": (
			lambda: manager.call(
				"frappe.desk.reportview.get",
				doctype="Service Job Card",
				fields=["name", "status"],
				filters=[["status", "=", "Open"]],
				page_length=20,
			),
			("tabService Job Card",),
		),
		"workspace (get_desktop_page)": (
			lambda: manager.call("frappe.desk.desktop.get_desktop_page", page={"name": "Aftersales DMS"}),
			(),
		),
		"Find Vehicle": (
			lambda: advisor.call("aftersales_dms.booking.recall.find_vehicle", query=VEHICLE),
			("tabCustomer Vehicle",),
		),
		"workshop board": (
			lambda: (board.invalidate(), manager.call("aftersales_dms.workshop.board.get_board"))[1],
			("tabService Job Card",),
		),
	}
	for what, (read, tables) in reads.items():
		_result, log = on_replica(replica, read)
		try:
			assert_read_on_replica(log, *tables)
		except AssertionError as e:
			raise AssertionError(f"{what} did not read on the replica: {e}") from e

	# a save goes to the primary only; the replica gets it through replication
	before = manager.jobs_in_workshop()
	offset = replica.log_size()
	job = advisor.new_job_card(marker + "1")
	time.sleep(0.2)
	log = replica.log_since(offset)
	assert not re.search(r"\b(insert|update|delete)\b", log, re.I), queries(log)
	replica.catch_up()
	assert sql(
		replica.root_cnf,
		f"select name from `{_site_db()}`.`tabService Job Card` where name = '{job['name']}'",
	)
	# ... and the reads right after the save see it, on the replica (read-your-writes)
	(count, figure), log = on_replica(replica, lambda: (manager.count(marker), manager.jobs_in_workshop()))
	assert (count, figure) == (1, before + 1)
	assert_read_on_replica(log, "tabService Job Card")


def _site_db():
	return json.load(open(os.path.join(BENCH, "sites", SITE, "site_config.json")))["db_name"]


def degraded_reads(replica, staff, marker, fault, undo, expect_log):
	"""With fault() done, a job card saved and assigned on the primary is in the figures at once —
	the desk's count, the number card, the My Operations report — read on the primary, with one
	log line (expect_log) and none while the replica is left alone; after undo() the replica is
	used again, with a line saying so."""
	manager, advisor = staff["manager"], staff["advisor"]
	before = manager.jobs_in_workshop()
	log_at = log_offset()
	fault()
	try:
		job = advisor.new_job_card(marker + "1")
		manager.assign(job)
		t0 = time.monotonic()
		(count, figure, lines_of_job), log = on_replica(
			replica, lambda: (manager.count(marker), manager.jobs_in_workshop(), manager.my_operations(job))
		)
		took = time.monotonic() - t0
		assert (count, figure, len(lines_of_job)) == (1, before + 1, 1), "the figures are not the primary's"
		assert lines_of_job[0]["technician"] == manager.technician
		assert_read_on_primary(log)
		lines = log_lines_since(log_at)
		assert re.search(expect_log, lines), lines
		assert lines.count("reading from the primary") == 1, lines  # the later reads did not ask again
		assert took < 10, f"the degraded reads took {took:.1f} s"
	finally:
		undo()
	replica.catch_up()
	wait_for_retry()
	log_at = log_offset()
	(count, figure, lines_of_job), log = on_replica(
		replica, lambda: (manager.count(marker), manager.jobs_in_workshop(), manager.my_operations(job))
	)
	assert (count, figure, len(lines_of_job)) == (1, before + 1, 1)
	assert_read_on_replica(log, "tabService Job Card", "tabService Job Card Labour")
	assert "is in step with the primary again; reading from it" in log_lines_since(log_at)


def test_a_lagging_replica_degrades_to_the_primary(replica, staff):
	def delay():
		sql(replica.root_cnf, "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=15; START SLAVE")

	def undo():
		sql(replica.root_cnf, "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=0; START SLAVE")

	degraded_reads(
		replica,
		staff,
		f"replica-lag-{os.getpid()}-",
		delay,
		undo,
		rf"replica 127\.0\.0\.1:{replica.port} is [1-9]\d* transactions? behind the primary \(waited \d\.\d s\); reading from the primary",
	)


def test_stopped_replication_degrades_to_the_primary(replica, staff):
	degraded_reads(
		replica,
		staff,
		f"replica-stopped-{os.getpid()}-",
		lambda: sql(replica.root_cnf, "STOP SLAVE"),
		lambda: sql(replica.root_cnf, "START SLAVE"),
		rf"replica 127\.0\.0\.1:{replica.port} is [1-9]\d* transactions? behind the primary",
	)


def test_a_stopped_replica_server_degrades_to_the_primary(replica, staff):
	degraded_reads(
		replica,
		staff,
		f"replica-down-{os.getpid()}-",
		replica.stop,
		replica.start,
		rf"replica 127\.0\.0\.1:{replica.port} is unreachable \(OperationalError: .*\); reading from the primary",
	)


def test_a_frozen_replica_server_degrades_to_the_primary(replica, staff):
	"""A server that accepts connections and never answers (SIGSTOP) is left after the check's
	timeout, not waited on for ever."""
	degraded_reads(
		replica,
		staff,
		f"replica-frozen-{os.getpid()}-",
		lambda: os.kill(replica.proc.pid, signal.SIGSTOP),
		lambda: os.kill(replica.proc.pid, signal.SIGCONT),
		rf"replica 127\.0\.0\.1:{replica.port} is unreachable \(OperationalError: .*\); reading from the primary",
	)


def test_a_prepared_reports_job_reads_on_the_replica_only_when_it_is_in_step(replica, staff):
	"""Frappe's prepared report job reads through Frappe's own read_only; the before_job hook lets
	it switch to a replica in step and keeps it on the primary otherwise."""
	import frappe
	from aftersales_dms.utils import replica as dms_replica
	from frappe.desk.query_report import generate_report_result, get_report_doc

	job = "frappe.core.doctype.prepared_report.prepared_report.generate_report"
	conf = {"read_from_replica": 1, "replica_host": "127.0.0.1", "replica_db_port": replica.port}
	report = get_report_doc("Job Card Turnaround")
	filters = {"from_date": str(getdate(today()) - timedelta(days=30)), "to_date": today()}

	def run_job():
		frappe.db.rollback()  # a fresh snapshot, and no writes of this transaction pending
		offset = replica.log_size()
		try:
			dms_replica.before_job(method=job, kwargs={}, transaction_type="job")
			pinned = getattr(frappe.local, "replica_db", None) is frappe.local.db
			generate_report_result(report, filters)
		finally:
			for attr in ("primary_db", "replica_db"):
				if hasattr(frappe.local, attr):
					delattr(frappe.local, attr)
		time.sleep(0.2)
		return pinned, replica.log_since(offset)

	saved = {k: frappe.local.conf.get(k) for k in conf}
	frappe.local.conf.update(conf)
	try:
		frappe.cache.delete_value(dms_replica.RETRY_KEY + dms_replica.address())
		pinned, log = run_job()
		assert not pinned
		assert re.search(r"select .*`tabService Job Card", log, re.I | re.S), log[-3000:]
		sql(replica.root_cnf, "STOP SLAVE")
		staff["advisor"].new_job_card(f"replica-job-{os.getpid()}")  # on the primary only
		log_at = log_offset()
		pinned, log = run_job()
		assert pinned
		assert_read_on_primary(log)
		assert re.search(
			rf"replica 127\.0\.0\.1:{replica.port} is [1-9]\d* transactions? behind the primary",
			log_lines_since(log_at),
		)
	finally:
		sql(replica.root_cnf, "START SLAVE")
		frappe.local.conf.update(saved)
		for key in (dms_replica.RETRY_KEY, dms_replica.DEGRADED_KEY):
			frappe.cache.delete_value(key + f"127.0.0.1:{replica.port}")
		replica.catch_up()


def test_reads_on_the_replica_refuse_what_the_primary_refuses(replica, staff, server):
	"""The routed endpoints keep Frappe's and our checks: with the replica in step, Guest is refused
	every one of them, and the Pune manager gets no Nashik rows and no Nashik report."""
	import requests

	replica.catch_up()
	guest = requests.Session()
	for path, data in (
		("frappe.desk.reportview.get_count", {"doctype": "Service Job Card"}),
		("frappe.desk.reportview.get", {"doctype": "Service Job Card", "fields": '["name"]'}),
		("frappe.desk.doctype.number_card.number_card.get_result", {"doc": json.dumps(JOBS_IN_WORKSHOP)}),
		("frappe.desk.query_report.run", {"report_name": "My Operations", "filters": "{}"}),
		("aftersales_dms.analytics.dashboard.average_tat", {}),
	):
		r = guest.post(f"{server}/api/method/{path}", data=data, timeout=60)
		assert r.status_code == 403, (path, r.status_code, r.text[:300])
	manager = staff["manager"]
	count, log = on_replica(
		replica,
		lambda: manager.call(
			"frappe.desk.reportview.get_count",
			doctype="Service Job Card",
			filters=[["Service Job Card", "company", "=", "Orion Motors Nashik"]],
		),
	)
	assert count == 0 and "master_gtid_wait" in log, (count, log[-2000:])  # read there, and filtered
	r = manager.s.post(
		f"{server}/api/method/frappe.desk.query_report.run",
		data={"report_name": "Workshop Revenue", "filters": json.dumps({"company": "Orion Motors Nashik"})},
		timeout=60,
	)
	assert r.status_code == 403, (r.status_code, r.text[:300])
