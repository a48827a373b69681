"""ruff over the app, the tests and the dms command (the project's style is enforced, not suggested)."""

import os
import subprocess
import sys

BENCH = os.environ["DMS_BENCH"]
PATHS = [
	os.path.join(BENCH, "apps", "aftersales_dms"),
	os.path.join(BENCH, "tests"),
	os.path.join(BENCH, "dms_cli"),
	os.path.join(BENCH, "setup.py"),
]
CONFIG = os.path.join(BENCH, "apps", "aftersales_dms", "pyproject.toml")


def ruff(*args):
	return subprocess.run(
		[sys.executable, "-m", "ruff", *args, "--config", CONFIG, *PATHS],
		# ruff resolves the config's src (what is first-party: dms_cli) against the working
		# directory: the bench root, as when ruff runs in a checkout (the Frappe plugin moves
		# the session into sites/)
		cwd=BENCH,
		capture_output=True,
		text=True,
		timeout=120,
	)


def test_ruff_check():
	r = ruff("check")
	assert r.returncode == 0, r.stdout + r.stderr


def test_ruff_format():
	r = ruff("format", "--check")
	assert r.returncode == 0, r.stdout + r.stderr
