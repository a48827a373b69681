"""README command 1 after README command 2 on the same checkout, as root: `./dms test` leaves logs
that root wrote (these production tests write the bench's logs) and, once its site is dropped,
background jobs of that site in the queue's Redis; `./dms up` then failed twice ("cannot create
logs/worker.log: Permission denied", then a worker crashing in RQ's clean-up with
IncorrectSitePath). Here: both left-overs made on purpose, then the checkout's real `./dms up`
(serving the kept test site on a free port), and its worker must stay up."""

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

REPO = Path(os.environ.get("DMS_REPO", ""))
BENCH = Path(os.environ.get("DMS_BENCH", ""))
SITE = os.environ.get("DMS_TEST_SITE", "")
GONE = "dropped-by-dms-test.localhost"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the left-overs are root's: root only")


def free_port() -> int:
	with socket.socket() as s:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]


def bench_python(code: str) -> str:
	r = subprocess.run(
		[str(BENCH / "env" / "bin" / "python"), "-c", code, str(BENCH / "sites"), GONE],
		capture_output=True,
		text=True,
		timeout=120,
	)
	assert r.returncode == 0, r.stderr
	return r.stdout.strip()


LEAVE_JOBS = """
import json, os, sys
from redis import Redis
from rq import Queue
from rq.job import Job
from rq.registry import StartedJobRegistry
sites, gone = sys.argv[1:3]
conf = json.load(open(os.path.join(sites, "common_site_config.json")))
conn = Redis.from_url(conf["redis_queue"])
bench_id = conf.get("bench_id") or os.path.dirname(sites).strip("/").replace("/", "-")
queue = Queue(f"{bench_id}:default", connection=conn)  # the queue the bench's worker serves
queued = queue.enqueue("frappe.utils.background_jobs.execute_job", kwargs={"site": gone, "method": "frappe.ping",
	"event": None, "job_name": "frappe.ping", "kwargs": {}})
started = Job.create("frappe.utils.background_jobs.execute_job", kwargs={"site": gone}, connection=conn,
	origin=queue.name)
started.save()
StartedJobRegistry(queue=queue).add(started, ttl=-1)
# a started job long expired, with Frappe's failure callback (as its enqueue sets it): RQ's clean-up
# of the registry calls it, and it reads the dropped site's config (IncorrectSitePath)
from rq import Callback
expired = Job.create("frappe.utils.background_jobs.execute_job", kwargs={"site": gone}, connection=conn,
	origin=queue.name, on_failure=Callback("frappe.utils.background_jobs.truncate_failed_registry"))
expired.save()
conn.zadd(StartedJobRegistry(queue=queue).key, {expired.id: 1})
print(json.dumps([queued.id, started.id, expired.id]))
"""

JOBS_EXIST = """
import json, os, sys
from redis import Redis
from rq.job import Job
sites = sys.argv[1]
conf = json.load(open(os.path.join(sites, "common_site_config.json")))
conn = Redis.from_url(conf["redis_queue"])
print(json.dumps([Job.exists(i, connection=conn) for i in json.loads(os.environ["JOB_IDS"])]))
"""


def test_up_after_test_serves_and_its_worker_stays_up():
	logs = BENCH / "logs"
	root_log = logs / "worker.error.log"
	root_log.touch()
	os.chown(root_log, 0, 0)
	os.chmod(root_log, 0o644)
	job_ids = json.loads(bench_python(LEAVE_JOBS))
	offset = root_log.stat().st_size  # what the workers write from now on
	port = free_port()
	env = {
		**{k: v for k, v in os.environ.items() if k != "DMS_BENCH"},
		"DMS_SITE": SITE,
		"DMS_HTTP_PORT": str(port),
	}
	pid_file = BENCH / "config" / "pids" / "bench-start.pid"
	try:
		r = subprocess.run(
			[str(REPO / "dms"), "up"], cwd=REPO, env=env, capture_output=True, text=True, timeout=900
		)
		assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
		assert root_log.stat().st_uid != 0, "the log root left is still root's"
		exists = json.loads(
			subprocess.run(
				[str(BENCH / "env" / "bin" / "python"), "-c", JOBS_EXIST, str(BENCH / "sites")],
				capture_output=True,
				text=True,
				timeout=120,
				env={**os.environ, "JOB_IDS": json.dumps(job_ids)},
			).stdout
		)
		assert exists == [False, False, False], "jobs of a dropped site are still in the queue"
		deadline = time.monotonic() + 120
		while time.monotonic() < deadline:
			try:
				if requests.get(f"http://127.0.0.1:{port}/api/method/ping", timeout=5).ok:
					break
			except requests.ConnectionError:
				time.sleep(1)
		else:
			pytest.fail(f"./dms up did not serve on {port}")
		time.sleep(10)  # a worker meeting a left-over job dies within its first seconds
		workers = subprocess.run(
			["pgrep", "-u", "dms", "-f", f"{BENCH}/env/bin/.*frappe.*worker"], capture_output=True, text=True
		)
		with open(root_log, "rb") as f:
			f.seek(offset)
			errors = f.read().decode(errors="replace")
		assert workers.stdout.strip(), f"no worker runs after ./dms up:\n{errors[-3000:]}"
		assert "IncorrectSitePath" not in errors, errors[-3000:]
	finally:
		# stop what ./dms up started (its process group), not MariaDB: the session drops the test
		# site after this
		if pid_file.is_file():
			try:
				os.killpg(int(pid_file.read_text().strip()), signal.SIGTERM)
			except (OSError, ValueError):
				pass
			pid_file.unlink(missing_ok=True)
