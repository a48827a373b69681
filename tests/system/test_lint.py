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
	# from the bench's root, as a developer runs it from the checkout's: ruff takes the working
	# directory for the project root, where it finds first-party packages (dms_cli) for isort
	return subprocess.run(
		[sys.executable, "-m", "ruff", *args, "--config", CONFIG, *PATHS],
		capture_output=True,
		text=True,
		timeout=120,
		cwd=BENCH,
	)


def test_ruff_check():
	r = ruff("check")
	assert r.returncode == 0, r.stdout + r.stderr


def test_ruff_format():
	r = ruff("format", "--check")
	assert r.returncode == 0, r.stdout + r.stderr
