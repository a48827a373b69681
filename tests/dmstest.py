"""Helpers shared by the system and browser tests (imported by name; tests/ is on sys.path)."""

import os
import signal
import socket
import subprocess
import sys
import time

import psutil
import requests

BENCH = os.environ.get("DMS_BENCH", "")
SITE = os.environ.get("DMS_TEST_SITE", "")
ARTIFACTS = os.path.join(BENCH, "artifacts")


def copy_dms(dest) -> None:
	"""The `dms` command of this bench into a checkout folder: the bootstrap, setup.py, dms_cli/."""
	import shutil

	os.makedirs(dest, exist_ok=True)
	for name in ("dms", "setup.py"):
		shutil.copy(os.path.join(BENCH, name), os.path.join(dest, name))
	ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
	shutil.copytree(
		os.path.join(BENCH, "dms_cli"), os.path.join(dest, "dms_cli"), ignore=ignore, dirs_exist_ok=True
	)


def free_port() -> int:
	with socket.socket() as s:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]


def login(url: str, user: str, password: str) -> requests.Session:
	s = requests.Session()
	r = s.post(f"{url}/api/method/login", data={"usr": user, "pwd": password}, timeout=30)
	assert r.status_code == 200, (user, r.status_code, r.text[:300])
	return s


CHROMIUM = "/usr/bin/chromium"
# Debian's chromium as root, headless, without reaching for the network it does not have here
CHROMIUM_ARGS = [
	"--no-sandbox",
	"--disable-gpu",
	"--disable-quic",
	"--no-first-run",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
	"--disable-dev-shm-usage",
]


def start_worker(log):
	"""A real RQ worker of the test bench on the short queue (where the app queues its jobs)."""
	return subprocess.Popen(
		[sys.executable, "-m", "frappe.utils.bench_helper", "frappe", "worker", "--queue", "short"],
		cwd=os.path.join(BENCH, "sites"),
		stdout=log,
		stderr=subprocess.STDOUT,
	)


def kill_worker(worker):
	"""SIGKILL the worker and its work horses (RQ puts each horse in a session of its own)."""
	try:
		horses = psutil.Process(worker.pid).children(recursive=True)
	except psutil.NoSuchProcess:
		horses = []
	for p in [*horses, psutil.Process(worker.pid)] if worker.poll() is None else horses:
		try:
			p.send_signal(signal.SIGKILL)
		except psutil.NoSuchProcess:
			pass
	worker.wait(30)


def wait_for(condition, seconds, what):
	"""Poll condition() with a fresh database snapshot each time (this process only looks) until it
	holds; fail after `seconds` (a bound on a wait, never a timing assertion)."""
	import frappe

	deadline = time.monotonic() + seconds
	while time.monotonic() < deadline:
		frappe.db.commit()  # a fresh snapshot for the next read
		if condition():
			return
		time.sleep(0.1)
	raise AssertionError(f"timed out waiting for {what}")
