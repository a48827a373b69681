"""Faults: the Redis servers restart while staff keep working over HTTP. Requests may fail while
Redis is away — with an error, never half-saved — and every request that succeeded left its
document; afterwards the server works again without a restart of its own."""

import json
import os
import subprocess
import threading
import time

from dmstest import BENCH, login

PUNE = "Orion Motors Pune"


def redis_port(name):
	"""The bench's own Redis port (its common_site_config.json; ./dms starts Redis on it)."""
	with open(os.path.join(BENCH, "sites", "common_site_config.json")) as f:
		return json.load(f)[f"redis_{name}"].rsplit(":", 1)[1].strip("/")


def restart_redis(name):
	port = redis_port(name)
	subprocess.run(["redis-cli", "-p", port, "shutdown", "nosave"], capture_output=True, timeout=30)
	time.sleep(1.5)  # requests meanwhile find no Redis
	subprocess.run(
		[
			"redis-server",
			os.path.join(BENCH, "config", f"redis_{name}.conf"),
			"--port",
			port,
			"--daemonize",
			"yes",
			"--pidfile",
			os.path.join(BENCH, "config", "pids", f"redis_{name}.pid"),
			"--logfile",
			os.path.join(BENCH, "logs", f"redis_{name}.log"),
		],
		check=True,
		cwd=BENCH,
		timeout=30,
	)
	for _ in range(40):
		if subprocess.run(["redis-cli", "-p", port, "ping"], capture_output=True).returncode == 0:
			return
		time.sleep(0.25)
	raise AssertionError(f"redis {name} did not come back")


def while_staff_work(server, demo_password, tag, fault):
	"""An advisor keeps creating job cards over HTTP while fault() runs; returns the markers of
	the requests that succeeded and failed, the stored job cards, and the session."""
	s = login(server, "advisor@omp.example", demo_password)
	customer = s.get(f"{server}/api/resource/Customer Vehicle/MA1TA2XX6GH123456", timeout=30).json()["data"][
		"customer"
	]
	made, failed, stop = [], [], threading.Event()

	def work():
		k = 0
		while not stop.is_set():
			k += 1
			marker = f"{tag}-{k}"
			try:
				r = s.post(
					f"{server}/api/resource/Service Job Card",
					json={
						"company": PUNE,
						"customer": customer,
						"vehicle": "MA1TA2XX6GH123456",
						"concerns": marker,
						"labour": [{"item_code": "LAB-DIAG", "standard_hours": 0.8, "rate": 1100}],
					},
					timeout=60,
				)
				(made if r.status_code == 200 else failed).append(marker)
			except Exception:
				failed.append(marker)
			time.sleep(0.05)

	worker = threading.Thread(target=work)
	worker.start()
	try:
		time.sleep(1)
		fault()
		time.sleep(2)
	finally:
		stop.set()
		worker.join(120)
	rows = s.get(
		f"{server}/api/resource/Service Job Card",
		params={
			"filters": json.dumps([["concerns", "like", f"{tag}-%"]]),
			"fields": '["concerns","total_hours"]',
			"limit_page_length": 10000,
		},
		timeout=60,
	).json()["data"]
	return made, failed, rows, s


def assert_nothing_lost_or_half_saved(made, rows, s, server):
	stored = {r["concerns"] for r in rows}
	assert set(made) <= stored, set(made) - stored  # nothing that succeeded was lost
	# nothing half-saved: every stored job card has its labour line (a request cut off after its
	# commit may have saved a whole job card and still reported an error; never a part of one)
	assert all(r["total_hours"] == 0.8 for r in rows), rows
	# and it works again
	assert (
		s.get(f"{server}/api/method/aftersales_dms.workshop.board.get_board", timeout=60).status_code == 200
	)


def test_redis_restarts_while_staff_work(server, demo_password):
	made, _failed, rows, s = while_staff_work(
		server,
		demo_password,
		f"fault-probe-{os.getpid()}",
		lambda: (restart_redis("cache"), restart_redis("queue")),
	)
	assert made, "no request succeeded at all"
	assert_nothing_lost_or_half_saved(made, rows, s, server)


def restart_mariadb():
	with open(os.path.join(BENCH, "sites", "common_site_config.json")) as f:
		password = json.load(f)["root_password"]
	cnf = os.path.join(BENCH, "db", "my.cnf")
	sock = os.path.join(BENCH, "db", "mysqld.sock")
	subprocess.run(
		["mariadb-admin", f"--defaults-file={cnf}", "-uroot", f"-p{password}", "shutdown"],
		capture_output=True,
		timeout=120,
	)
	for _ in range(120):
		if not os.path.exists(sock):
			break
		time.sleep(0.25)
	time.sleep(1)  # requests meanwhile find no database
	with open(os.path.join(BENCH, "logs", "mariadb.log"), "a") as log:
		subprocess.Popen(
			["mariadbd", f"--defaults-file={cnf}"],
			cwd=BENCH,
			stdout=log,
			stderr=subprocess.STDOUT,
			stdin=subprocess.DEVNULL,
			start_new_session=True,
		)
	for _ in range(120):
		ping = subprocess.run(
			["mariadb-admin", f"--defaults-file={cnf}", "-uroot", f"-p{password}", "ping"],
			capture_output=True,
		)
		if ping.returncode == 0:
			return
		time.sleep(0.5)
	raise AssertionError("MariaDB did not come back")


def test_mariadb_restarts_while_staff_work(server, demo_password):
	import frappe

	try:
		made, failed, rows, s = while_staff_work(
			server, demo_password, f"db-fault-{os.getpid()}", restart_mariadb
		)
	finally:
		if getattr(frappe.local, "db", None):  # this test process's own connection died with the server
			frappe.local.db.connect()
	assert made and failed, (len(made), len(failed))  # it worked before and after, and failed during
	assert_nothing_lost_or_half_saved(made, rows, s, server)
