"""Shared fixtures of the system and browser tests: a real server of the test site."""

import os
import subprocess
import sys
import time

import pytest
import requests
from dmstest import ARTIFACTS, BENCH, SITE, free_port, kill_worker, start_worker, wait_for


@pytest.fixture(scope="session")
def server():
	"""`bench --site <test site> serve` on a free loopback port, with Frappe's realtime (socket.io)
	server beside it on another, stopped after the session."""
	from frappe.installer import update_site_config

	site_config = os.path.join(BENCH, "sites", SITE, "site_config.json")
	port, socketio_port = free_port(), free_port()
	# the desk connects to socket.io on this port (dev-server mode: same host, own port)
	update_site_config("socketio_port", socketio_port, site_config_path=site_config)
	socketio_log = open(os.path.join(ARTIFACTS, "test-socketio.log"), "w")
	socketio = subprocess.Popen(
		["node", os.path.join(BENCH, "apps", "frappe", "socketio.js")],
		cwd=BENCH,
		env={
			**os.environ,
			"FRAPPE_BENCH_ROOT": BENCH,
			"FRAPPE_SITE": SITE,
			"FRAPPE_SOCKETIO_PORT": str(socketio_port),
		},
		stdout=socketio_log,
		stderr=subprocess.STDOUT,
	)
	log = open(os.path.join(ARTIFACTS, "test-server.log"), "w")
	proc = subprocess.Popen(
		[
			sys.executable,
			"-m",
			"frappe.utils.bench_helper",
			"frappe",
			"--site",
			SITE,
			"serve",
			"--port",
			str(port),
			"--noreload",
		],
		cwd=os.path.join(BENCH, "sites"),
		env={**os.environ, "DEV_SERVER": "1"},
		stdout=log,
		stderr=subprocess.STDOUT,
	)
	url = f"http://127.0.0.1:{port}"
	deadline = time.monotonic() + 60
	while time.monotonic() < deadline:
		if proc.poll() is not None:
			raise RuntimeError(f"test server exited with {proc.returncode}; see {log.name}")
		try:
			if requests.get(f"{url}/api/method/ping", timeout=2).ok:
				break
		except requests.ConnectionError:
			time.sleep(0.3)
	else:
		proc.kill()
		raise RuntimeError(f"test server did not answer within 60 s; see {log.name}")
	# the site's public URL is this server: links in emails and wkhtmltopdf's asset fetches use it
	update_site_config("host_name", url, site_config_path=site_config)
	yield url
	update_site_config("host_name", "None", site_config_path=site_config)
	update_site_config("socketio_port", "None", site_config_path=site_config)
	for p in (proc, socketio):
		p.terminate()
		try:
			p.wait(10)
		except subprocess.TimeoutExpired:
			p.kill()
	log.close()
	socketio_log.close()


def short_queue_is_idle() -> bool:
	from frappe.utils.background_jobs import get_queue

	queue = get_queue("short")
	return queue.count == 0 and queue.started_job_registry.count == 0


@pytest.fixture
def worker(server):
	"""A real RQ worker of the test bench on the short queue while the test runs: what the app
	queues after a commit (a job card's ToDos, a technician's day, SMS) runs as it does in
	production. Stopped as a supervisor stops one (SIGTERM: it finishes the job it has), then
	killed if it has not within 30 s."""
	log = open(os.path.join(ARTIFACTS, "test-worker.log"), "a")
	proc = start_worker(log)
	# first what earlier tests queued (no worker runs beside the other tests): the test's own jobs
	# then wait behind nothing
	wait_for(short_queue_is_idle, 900, "the worker to run the jobs queued before this test")
	yield proc
	proc.terminate()
	try:
		proc.wait(30)
	except subprocess.TimeoutExpired:
		kill_worker(proc)
	log.close()


@pytest.fixture(scope="session")
def demo_password():
	import json

	with open(os.path.join(BENCH, "fixtures", "dms_demo.json")) as f:
		return json.load(f)["demo_password"]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
	"""Expose each phase's report on the item (item.rep_call) for fixtures that react to failures."""
	outcome = yield
	report = outcome.get_result()
	setattr(item, f"rep_{report.when}", report)
