"""Helpers shared by the system and browser tests (imported by name; tests/ is on sys.path)."""

import os
import socket

import requests

BENCH = os.environ.get("DMS_BENCH", "")
SITE = os.environ.get("DMS_TEST_SITE", "")
ARTIFACTS = os.path.join(BENCH, "artifacts")


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
