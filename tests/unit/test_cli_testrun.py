"""dms_cli.testrun: the summary line over every JUnit file, the exit code of the sessions, and the
root-only production session."""

import subprocess
import sys
import textwrap
from pathlib import Path

from dms_cli import testrun
from dms_cli.context import Context


def pytest_junit(tmp_path: Path, name: str, body: str) -> Path:
	"""A JUnit file written by a real pytest run of `body`."""
	test = tmp_path / name / f"test_{name}.py"
	test.parent.mkdir(parents=True)
	test.write_text(textwrap.dedent(body))
	junit = tmp_path / f"junit-{name}.xml"
	subprocess.run(
		[sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}", str(test)],
		cwd=test.parent,
		capture_output=True,
	)
	return junit


def test_summary_sums_every_junit_file_of_the_run(tmp_path):
	a = pytest_junit(
		tmp_path,
		"main",
		"""
		import pytest

		def test_ok(): pass
		def test_ok_too(): pass
		def test_fails(): assert False
		@pytest.fixture
		def broken(): raise RuntimeError
		def test_errors(broken): pass
		@pytest.mark.skip(reason="x")
		def test_skipped(): pass
		""",
	)
	b = pytest_junit(tmp_path, "production", "def test_root(): pass\ndef test_root_fails(): assert 0\n")
	assert testrun.junit_counts(a) == (5, 2, 1)
	assert testrun.summary_line([a]) == "2 passed, 2 failed, 1 skipped"
	assert testrun.summary_line([a, b]) == "3 passed, 3 failed, 1 skipped"
	assert testrun.summary_line([b]) == "1 passed, 1 failed"  # no ", 0 skipped"
	assert testrun.summary_line([]) == "0 passed, 0 failed"


def test_summary_reads_a_bare_testsuite_and_the_skip_placeholder(tmp_path):
	bare = tmp_path / "junit.xml"
	bare.write_text('<testsuite name="s" tests="4" failures="1" errors="0" skipped="1"></testsuite>')
	skipped = tmp_path / "junit-production.xml"
	skipped.write_text(testrun.skipped_junit("tests/production", 'needs "root" & <services>'))
	assert testrun.junit_counts(skipped) == (1, 0, 1)
	assert testrun.summary_line([bare, skipped]) == "2 passed, 1 failed, 2 skipped"
	assert testrun.junit_files(tmp_path) == [skipped, bare]  # every junit*.xml, in name order


def test_exit_code_of_the_sessions():
	c = testrun.combined_exit_code
	assert c([0]) == 0 and c([1]) == 1 and c([5]) == 5  # one session: pytest's own code
	assert c([0, None]) == 0 and c([1, None]) == 1  # production not run
	assert c([5, 0]) == 0 and c([0, 5]) == 0  # -k selected nothing in one session only
	assert c([5, 5]) == 5  # nothing anywhere
	assert c([0, 1]) == 1 and c([5, 1]) == 1 and c([2, 1]) == 2  # the first failure wins
	assert c([None, None]) == 0


def test_production_tests_are_found_only_when_there_are_some(checkout):
	assert not testrun.has_production_tests(checkout)
	prod = checkout / "tests" / "production"
	prod.mkdir(parents=True)
	assert not testrun.has_production_tests(checkout)
	(prod / "__init__.py").write_text('"""Tests run as root."""\n')
	(prod / "README.md").write_text("nginx, supervisor\n")
	assert not testrun.has_production_tests(checkout)
	(prod / "deploy").mkdir()
	(prod / "deploy" / "test_nginx.py").write_text("def test_x(): pass\n")
	assert testrun.has_production_tests(checkout)


def test_production_session_as_root_from_the_checkout(checkout):
	ctx = Context(repo=checkout, environ={"HOME": "/root", "DMS_TEST_SITE": "t.localhost"}, uid=0)
	argv = testrun.production_session_argv(ctx, ["-k", "nginx", "--ignore=tests/browser"])
	assert argv[:3] == [str(ctx.bench / "env/bin/python"), "-m", "pytest"]
	assert argv[3:5] == ["-c", "tests/pytest.ini"]
	assert f"--junitxml={checkout}/artifacts/junit-production.xml" in argv
	assert argv[-4:] == ["tests/production", "-k", "nginx", "--ignore=tests/browser"]
	env = testrun.production_session_env(ctx, {"CI": "true", "PATH": "/usr/bin"})
	assert "CI" not in env and env["PATH"] == "/usr/bin"
	assert env["DMS_REPO"] == str(checkout) and env["DMS_BENCH"] == str(ctx.bench)
	assert env["DMS_TEST_SITE"] == "t.localhost"
	main = testrun.main_session_argv(ctx, ["-k", "nginx"])
	assert main[-4:] == ["apps/aftersales_dms/aftersales_dms", "tests", "-k", "nginx"]
	assert f"--junitxml={ctx.bench}/artifacts/junit.xml" in main
	assert f"--ignore={ctx.bench}/tests/production" in main  # never as the bench user


def test_production_session_not_as_root_counts_as_one_skipped(user_context, checkout, capsys):
	ctx = user_context()
	assert testrun.run_production_session(ctx, []) is None  # no tests/production: nothing
	assert not (checkout / "artifacts").exists()
	(checkout / "tests" / "production").mkdir(parents=True)
	(checkout / "tests" / "production" / "test_nginx.py").write_text("def test_x(): pass\n")
	assert testrun.run_production_session(ctx, ["-k", "x"]) is None
	assert "tests/production: skipped" in capsys.readouterr().err
	junit = checkout / "artifacts" / "junit-production.xml"
	assert testrun.summary_line([junit]) == "0 passed, 0 failed, 1 skipped"


def test_main_session_gets_the_stateful_settings(user_context):
	"""DMS_STATEFUL_* reach the test session (as root it runs through runuser, which passes only
	what it is given), and nothing else of the caller's environment does."""
	ctx = user_context()
	env = testrun.main_session_env(
		ctx, "t.localhost", {"DMS_STATEFUL_EXAMPLES": "500", "DMS_STATEFUL_STRICT": "1", "SECRET": "x"}
	)
	assert env == {
		"DMS_STATEFUL_EXAMPLES": "500",
		"DMS_STATEFUL_STRICT": "1",
		"DMS_TEST_SITE": "t.localhost",
		"DMS_BENCH": str(ctx.bench),
	}
