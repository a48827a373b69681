"""Helpers shared by the system and browser tests (imported by name; tests/ is on sys.path)."""

import os
import socket

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
