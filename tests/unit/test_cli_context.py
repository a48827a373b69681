"""dms_cli.context: versions.env, where the bench is, who runs what, stamps, files, pid files."""

import hashlib
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from dms_cli.context import (
	Context,
	DmsError,
	bench_dir,
	checkout_slug,
	exit_status,
	parse_versions,
	short_hash,
)


def test_versions_env_of_this_checkout_is_read_whole(repo_dir):
	v = parse_versions((repo_dir / "config" / "versions.env").read_text())
	for key in (
		"FRAPPE_VERSION",
		"ERPNEXT_VERSION",
		"FRAPPE_REF",
		"ERPNEXT_REF",
		"FRAPPE_BRANCH",
		"FRAPPE_UPSTREAM",
		"ERPNEXT_UPSTREAM",
		"PAYMENTS_UPSTREAM",
		"UV_VERSION",
		"BENCH_CLI_VERSION",
		"YARN_VERSION",
		"PYTHON",
	):
		assert v.get(key), key
	assert v["FRAPPE_REF"] == f"v{v['FRAPPE_VERSION']}"
	assert v["PYTHON"].startswith("python3")


def test_versions_env_syntax():
	v = parse_versions("# comment\n\nA=1\nexport C=3\nD='quoted value'\nE=\"x\"\nURL=https://x/y?a=b#frag\n")
	assert v == {"A": "1", "C": "3", "D": "quoted value", "E": "x", "URL": "https://x/y?a=b#frag"}
	with pytest.raises(ValueError, match="not KEY=VALUE"):
		parse_versions("FRAPPE_VERSION 15\n")


def test_bench_of_a_checkout_run_as_root_is_named_as_the_bash_script_named_it():
	# the names ./dms (bash) gave the benches on this kind of machine: <folder>-<sha1(path)[:8]>
	assert checkout_slug("/work/main") == "main-261c2146"
	assert checkout_slug("/work/wt-replica") == "wt-replica-d1851968"
	odd = "/tmp/a b/my.repo+x"
	assert checkout_slug(odd) == "my_repo_x-" + hashlib.sha1(odd.encode()).hexdigest()[:8]
	root = bench_dir(Path("/work/main"), is_root=True, bench_user="dealer")
	assert root == Path("/home/dealer/benches/main-261c2146")
	assert bench_dir(Path("/work/main"), True, "dms", override="/srv/bench") == Path("/srv/bench")
	assert bench_dir(Path("/work/main"), is_root=False, bench_user="me") == Path("/work/main")


def test_context_reads_the_dms_settings(checkout):
	env = {
		"HOME": "/root",
		"DMS_USER": "dealer",
		"DMS_SITE": "a.localhost",
		"DMS_TEST_SITE": "t.localhost",
		"DMS_HTTP_PORT": "8123",
		"DMS_ADMIN_PASSWORD": "pw",
		"DMS_BENCH_DIR": "/srv/b",
	}
	ctx = Context(repo=checkout, environ=env, uid=0)
	assert ctx.is_root and ctx.bench_user == "dealer" and ctx.bench == Path("/srv/b")
	assert (ctx.site, ctx.test_site, ctx.http_port, ctx.admin_password) == (
		"a.localhost",
		"t.localhost",
		"8123",
		"pw",
	)
	assert ctx.versions["PYTHON"] == ctx.python
	defaults = Context(repo=checkout, environ={"HOME": "/root"}, uid=0)
	assert defaults.bench_user == "dms" and defaults.site == "dms.localhost"
	assert defaults.test_site == "dms-test.localhost" and defaults.http_port == "8000"
	assert defaults.bench == Path("/home/dms/benches") / checkout_slug(checkout)
	assert defaults.tools == defaults.bench_home / ".local/share/aftersales-dms/tools"


def test_as_root_bench_commands_run_as_the_bench_user_without_ci(checkout):
	ctx = Context(repo=checkout, environ={"HOME": "/root", "DMS_USER": "dealer"}, uid=0)
	argv, env = ctx.bench_argv(["bench", "--version"], {"X": "1"})
	assert env is None  # runuser's env sets what the bench user gets
	assert argv[:4] == ["runuser", "-u", "dealer", "--"]
	assert argv[4:7] == ["env", "-u", "CI"]
	assert f"HOME={ctx.bench_home}" in argv and "USER=dealer" in argv and "X=1" in argv
	path = next(a for a in argv if a.startswith("PATH="))
	assert path.startswith(f"PATH={ctx.bench}/env/bin:{ctx.tools}/bin:")
	assert argv[-2:] == ["bench", "--version"]


def test_as_a_user_bench_commands_run_here_without_ci(user_context, checkout, monkeypatch):
	monkeypatch.setenv("CI", "true")
	ctx = user_context()
	r = ctx.as_bench(["sh", "-c", 'echo "${CI-unset} $PWD $LANG $X"'], capture=True, env={"X": "y"})
	assert r.stdout.split() == ["unset", str(checkout), "C.UTF-8", "y"]
	with pytest.raises(subprocess.CalledProcessError) as e:
		ctx.as_bench(["sh", "-c", "exit 3"])
	assert e.value.returncode == 3
	assert ctx.as_bench(["sh", "-c", "exit 3"], check=False).returncode == 3


def test_as_bench_log_and_silent(user_context, checkout):
	ctx = user_context()
	log = checkout / "out.log"
	ctx.as_bench(["sh", "-c", "echo out; echo err >&2"], log=log)
	assert log.read_text() == "out\nerr\n"
	ctx.as_bench(["sh", "-c", "echo again"], log=log, append=True)
	assert log.read_text().endswith("err\nagain\n")
	r = ctx.as_bench(["sh", "-c", "echo out; echo err >&2"], capture=True, silent=True)
	assert r.stdout == "out\n"


def test_stamps_are_files_with_exactly_their_value(user_context, checkout):
	ctx = user_context()
	(checkout / ".stamps").mkdir()
	assert not ctx.stamp_ok("python", "abc")
	ctx.stamp_set("python", "abc")
	assert (checkout / ".stamps" / "python").read_text() == "abc"
	assert ctx.stamp_ok("python", "abc") and not ctx.stamp_ok("python", "abcd")
	ctx.stamp_set("site-x.localhost", "ready")
	assert ctx.stamp_ok("site-x.localhost", "ready")


def test_private_files_are_the_users_alone(user_context, checkout):
	ctx = user_context()
	ctx.write_file(checkout / "root.cnf", 'password = "s3cret"\n', private=True)
	assert (checkout / "root.cnf").read_text() == 'password = "s3cret"\n'
	assert (checkout / "root.cnf").stat().st_mode & 0o077 == 0
	ctx.write_file(checkout / "root.cnf", "x")  # replaced whole, never appended
	assert (checkout / "root.cnf").read_text() == "x"
	assert not (checkout / "root.cnf.new").exists()


def test_short_hash_is_sha1sum_cut_16():
	data = b"frappe\nerpnext\n"
	shell = subprocess.run(
		["sh", "-c", "sha1sum | cut -c1-16"], input=data, capture_output=True, check=True
	).stdout.decode()
	assert short_hash(data) == shell.strip()


def test_stop_bench_processes_stops_what_the_pid_files_name_and_nothing_else(user_context, checkout):
	ctx = user_context()
	pids = checkout / "config" / "pids"
	pids.mkdir(parents=True)
	mine = subprocess.Popen(["sleep", "60"], start_new_session=True)
	other = subprocess.Popen(["sleep", "60"], start_new_session=True)
	try:
		(pids / "web.pid").write_text(f"{mine.pid}\n")
		(pids / "junk.pid").write_text("not a pid\n")
		(pids / "gone.pid").write_text("999999999\n")
		ctx.stop_bench_processes()
		assert mine.wait(timeout=10) == -signal.SIGTERM
		time.sleep(0.2)
		assert other.poll() is None
		assert list(pids.iterdir()) == []
	finally:
		for p in (mine, other):
			if p.poll() is None:
				os.kill(p.pid, signal.SIGKILL)
				p.wait()


def test_die_is_a_clear_error_with_exit_code_1(user_context, capsys):
	ctx = user_context()
	with pytest.raises(DmsError) as e:
		ctx.die("no site x in /b")
	assert e.value.exit_code == 1
	e.value.show()
	assert "dms: no site x in /b" in capsys.readouterr().err


def test_exit_status_as_a_shell_reports_it():
	assert exit_status(3) == 3 and exit_status(-15) == 143 and exit_status(-9) == 137
	assert exit_status(0) == 1  # a failure never exits 0
