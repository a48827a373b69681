"""`dms test`: the test site, pytest as the bench user over the app and tests/, then (as root) the
production tests in tests/production/, and the summary "N passed, N failed[, N skipped]" of every
artifacts/junit*.xml of the run as the last line."""

from __future__ import annotations

import os
import shutil
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.sax.saxutils import quoteattr

from . import sites
from .context import Context, exit_status
from .setup import prepare

NO_TESTS = 5  # pytest's exit code when the arguments select nothing
PRODUCTION = "tests/production"
NOT_ROOT = "the production tests install and drive system services: run ./dms test as root"


# ---------------------------------------------------------------- the summary
def junit_counts(path: Path) -> tuple[int, int, int]:
	"""(tests, failed incl. errors, skipped) of one JUnit XML file (pytest's <testsuites> or a bare
	<testsuite>)."""
	root = ET.parse(path).getroot()
	suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
	tests = sum(int(s.get("tests", 0)) for s in suites)
	failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
	skipped = sum(int(s.get("skipped", 0)) for s in suites)
	return tests, failed, skipped


def summary_line(paths: list[Path]) -> str:
	tests = failed = skipped = 0
	for p in paths:
		t, f, s = junit_counts(p)
		tests, failed, skipped = tests + t, failed + f, skipped + s
	line = f"{tests - failed - skipped} passed, {failed} failed"
	return line + (f", {skipped} skipped" if skipped else "")


def junit_files(artifacts: Path) -> list[Path]:
	return sorted(artifacts.glob("junit*.xml"))


def skipped_junit(name: str, reason: str) -> str:
	"""A JUnit file with one skipped test: a session that could not run counts in the summary."""
	return (
		'<?xml version="1.0" encoding="utf-8"?>\n'
		f'<testsuites><testsuite name={quoteattr(name)} tests="1" failures="0" errors="0" skipped="1">'
		f"<testcase classname={quoteattr(name)} name={quoteattr(name)}>"
		f"<skipped message={quoteattr(reason)}/></testcase></testsuite></testsuites>\n"
	)


# ---------------------------------------------------------------- the sessions
def combined_exit_code(codes: list[int | None]) -> int:
	"""One exit code for the sessions that ran (None: not run). A session whose arguments selected
	nothing (5) is no failure as long as another one ran tests; the first real failure wins."""
	ran = [c for c in codes if c is not None]
	for c in ran:
		if c not in (0, NO_TESTS):
			return c
	if ran and all(c == NO_TESTS for c in ran):
		return NO_TESTS
	return 0


def has_production_tests(repo: Path) -> bool:
	d = repo / PRODUCTION
	return d.is_dir() and any(d.rglob("test_*.py"))


def main_session_argv(ctx: Context, args: list[str]) -> list[str]:
	return [
		"python",
		"-m",
		"pytest",
		"-c",
		"tests/pytest.ini",
		"-p",
		"aftersales_dms.tests.pytest_frappe",
		f"--junitxml={ctx.bench}/artifacts/junit.xml",
		# the root session's (absolute: the Frappe plugin changes into sites/ before collecting)
		f"--ignore={ctx.bench}/{PRODUCTION}",
		"apps/aftersales_dms/aftersales_dms",
		"tests",
		*args,
	]


def production_session_argv(ctx: Context, args: list[str]) -> list[str]:
	return [
		str(ctx.bench / "env" / "bin" / "python"),
		"-m",
		"pytest",
		"-c",
		"tests/pytest.ini",
		f"--junitxml={ctx.repo}/artifacts/junit-production.xml",
		PRODUCTION,
		*args,
	]


def main_session_env(ctx: Context, site: str, environ=None) -> dict:
	"""The test session's settings: the site and bench, and the stateful test's DMS_STATEFUL_*
	(as root the session runs through runuser, which passes no other variable of the caller)."""
	environ = os.environ if environ is None else environ
	return {
		**{k: v for k, v in environ.items() if k.startswith("DMS_STATEFUL_")},
		"DMS_TEST_SITE": site,
		"DMS_BENCH": str(ctx.bench),
	}


def production_session_env(ctx: Context, environ=None) -> dict:
	env = {k: v for k, v in (os.environ if environ is None else environ).items() if k != "CI"}
	env.update(
		{
			"DMS_REPO": str(ctx.repo),
			"DMS_BENCH": str(ctx.bench),
			"DMS_TEST_SITE": ctx.test_site,
			"PYTHONDONTWRITEBYTECODE": "1",  # no root-owned caches in the bench's environment
		}
	)
	return env


def run_production_session(ctx: Context, args: list[str]) -> int | None:
	"""tests/production as root from the checkout; not root: one skipped test saying why."""
	if not has_production_tests(ctx.repo):
		return None
	artifacts = ctx.repo / "artifacts"
	artifacts.mkdir(exist_ok=True)
	if not ctx.is_root:
		ctx.say(f"{PRODUCTION}: skipped ({NOT_ROOT})")
		(artifacts / "junit-production.xml").write_text(skipped_junit(PRODUCTION, NOT_ROOT))
		return None
	ctx.say(f"running {PRODUCTION} as root (nginx, supervisor, MariaDB, upgrades)")
	r = ctx.run(
		production_session_argv(ctx, args), check=False, cwd=ctx.repo, env=production_session_env(ctx)
	)
	return r.returncode


def cmd_test(ctx: Context, args: list[str]) -> int:
	prepare(ctx, [("chromium", "chromium")])
	t = time.time()
	reuse = ctx.env_flag("DMS_REUSE_TEST_SITE")
	site = ctx.test_site
	if reuse and sites.site_exists(ctx, site):
		ctx.say(f"reusing {site} (DMS_REUSE_TEST_SITE=1): migrating")
		sites.migrate(ctx, site, "migrate-test.log")
	else:
		sites.drop_site(ctx, site)
		ctx.step(f"test site {site}", sites.create_site, ctx, site)
	ctx.bench_cmd(["--site", site, "set-config", "allow_tests", "true"], quiet=True)
	ctx.say("running every test (app Frappe tests, system tests, browser smoke test)")
	shutil.rmtree(ctx.bench / "artifacts", ignore_errors=True)
	ctx.as_bench(["mkdir", "-p", "artifacts"])
	main = ctx.as_bench(main_session_argv(ctx, args), check=False, env=main_session_env(ctx, site)).returncode
	if ctx.is_root:
		shutil.rmtree(ctx.repo / "artifacts", ignore_errors=True)
		shutil.copytree(ctx.bench / "artifacts", ctx.repo / "artifacts")
	production = run_production_session(ctx, args)
	if not (ctx.env_flag("DMS_KEEP_TEST_SITE") or reuse):
		sites.drop_site(ctx, site)
	ctx.say(f"tests took {int(time.time() - t)} s; artifacts in {ctx.repo}/artifacts")
	rc = combined_exit_code([main, production])
	rc = exit_status(rc) if rc else 0
	files = junit_files(ctx.repo / "artifacts")
	try:
		line = summary_line(files)
	except (OSError, ET.ParseError) as e:
		ctx.say(f"cannot read the JUnit files {[str(f) for f in files]}: {e}")
		line = "0 passed, 0 failed"
		rc = rc or 1
	if not files:
		rc = rc or 1
	print(line, flush=True)
	return rc
