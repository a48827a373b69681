"""The README commands' own behaviour that a test can reach without a second bench."""

import glob
import os
import re
import shutil
import subprocess

from dmstest import copy_dms

BENCH = os.environ["DMS_BENCH"]
NETWORK = re.compile(
	r"(?i)^(UV_|PIP_|https?_proxy$|no_proxy$|all_proxy$|SSL_CERT_|REQUESTS_CA_BUNDLE$|CURL_CA_BUNDLE$)"
)


def run_dms(tmp_path, *args, env_extra=None):
	"""Run ./dms from a fresh copy of the repository files in tmp_path (made on the first call),
	with an empty HOME."""
	repo = tmp_path / "checkout"
	home = tmp_path / "home"
	if not (repo / "dms").exists():
		(repo / "config").mkdir(parents=True, exist_ok=True)
		copy_dms(repo)
		shutil.copy(os.path.join(BENCH, "config", "versions.env"), repo / "config" / "versions.env")
		home.mkdir(exist_ok=True)
	env = {
		"PATH": os.environ["PATH"],
		"HOME": str(home),
		"LANG": "C.UTF-8",
		# the empty HOME gets the command's own virtualenv; uv's package cache is the user's
		"UV_CACHE_DIR": os.path.expanduser("~/.cache/uv"),
		# how this machine reaches the package index (proxies, certificates, index settings)
		**{k: v for k, v in os.environ.items() if NETWORK.match(k)},
		**(env_extra or {}),
	}
	return subprocess.run(
		["bash", str(repo / "dms"), *args],
		cwd=repo,
		env=env,
		capture_output=True,
		text=True,
		timeout=120,
	)


def test_offline_without_sources_fails_fast_and_says_what_to_provide(tmp_path):
	r = run_dms(tmp_path, "up", env_extra={"DMS_OFFLINE": "1"})
	assert r.returncode != 0
	assert "cannot get Frappe/ERPNext" in r.stderr
	assert "DMS_SOURCE_DIR" in r.stderr
	assert "yarn-offline-mirror" in r.stderr
	assert "ed37b94d95c68d8544357e330be0c89d044a3eea" in r.stderr
	assert not (tmp_path / "checkout" / "apps" / "frappe").exists()


def test_source_dir_without_repositories_refused(tmp_path):
	empty = tmp_path / "empty-source"
	empty.mkdir()
	r = run_dms(tmp_path, "up", env_extra={"DMS_SOURCE_DIR": str(empty)})
	assert r.returncode != 0
	assert f"DMS_SOURCE_DIR={empty} must hold git repositories frappe/ and erpnext/" in r.stderr


def test_versions_printed_on_start(tmp_path):
	r = run_dms(tmp_path, "up", env_extra={"DMS_OFFLINE": "1"})
	assert "Frappe 15.101.1, ERPNext 15.99.1" in r.stderr


def test_help_lists_the_commands(tmp_path):
	r = run_dms(tmp_path)
	assert r.returncode == 2
	for word in ("./dms up", "./dms test", "DMS_SOURCE_DIR"):
		assert word in r.stdout


def test_the_command_is_installed_once_and_again_when_setup_py_changes(tmp_path):
	"""./dms keeps the dms command in a virtualenv outside the checkout, one per checkout, and
	installs it only when setup.py or the package's files change; checkouts gone lose theirs."""
	cli_home = tmp_path / "home" / ".local" / "share" / "aftersales-dms" / "cli"
	repo = tmp_path / "checkout"
	r = run_dms(tmp_path)
	assert r.returncode == 2 and "./dms up" in r.stdout, r.stderr[-2000:]
	assert "installing the dms command" in r.stderr
	(venv,) = [p for p in cli_home.iterdir() if p.is_dir()]
	assert (venv / ".dms-origin").read_text().strip() == str(repo)
	assert os.access(venv / "bin" / "dms", os.X_OK)
	assert not any(repo.glob("env")) and not (repo / "artifacts").exists()

	r = run_dms(tmp_path, "release", "--help")
	assert r.returncode == 0 and "installing" not in r.stderr
	assert r.stdout.startswith("  ./dms release [--branch NAME]")

	stale = cli_home / "gone-00000000"
	(stale / "bin").mkdir(parents=True)
	(stale / ".dms-origin").write_text(str(tmp_path / "no-such-checkout") + "\n")
	with open(repo / "setup.py", "a") as f:
		f.write("\n# changed\n")
	r = run_dms(tmp_path)
	assert r.returncode == 2 and "installing the dms command" in r.stderr
	assert not stale.exists() and venv.exists()

	with open(repo / "dms_cli" / "main.py", "a") as f:
		f.write("\n# an edit: the editable install runs it as it is\n")
	r = run_dms(tmp_path)
	assert r.returncode == 2 and "installing" not in r.stderr

	(repo / "dms_cli" / "extra.py").write_text('"""A new module."""\n')
	r = run_dms(tmp_path)
	assert r.returncode == 2 and "installing the dms command" in r.stderr


def test_down_stops_only_this_benchs_mariadb(tmp_path):
	"""Another bench's MariaDB runs as the same user with the same relative arguments; `./dms
	down` in this checkout must leave it running (it used to kill every process matching that
	command line)."""
	import socket
	import time

	repo = tmp_path / "checkout"
	(repo / "db").mkdir(parents=True)
	sock = socket.socket(socket.AF_UNIX)
	sock.bind(str(repo / "db" / "mysqld.sock"))  # this bench's socket exists: down looks at it
	other = subprocess.Popen(
		["bash", "-c", 'exec -a "mariadbd --defaults-file=db/my.cnf" sleep 120'],
		start_new_session=True,
	)
	try:
		time.sleep(0.3)
		r = run_dms(tmp_path, "down")
		assert r.returncode == 0, r.stderr[-500:]
		time.sleep(0.3)
		assert other.poll() is None, "another bench's MariaDB was killed"
	finally:
		other.kill()
		sock.close()


def test_no_password_on_a_command_line():
	"""Every user on the machine can read command lines (ps): ./dms gives the MariaDB root
	password to clients in a file and lets bench read it from the site config."""
	sources = [os.path.join(BENCH, "dms")]
	sources += glob.glob(os.path.join(BENCH, "dms_cli", "**", "*.py"), recursive=True)
	assert len(sources) > 5, sources
	for path in sources:
		with open(path) as f:
			script = f.read()
		assert "--db-root-password" not in script, path
		# a password glued to -p (bash "-p$pw", Python f"-p{pw}") or given to --password
		assert not re.search(r'-p"\$|-p\{|"--password|--password=', script), path
		assert 'mysql_root -e "ALTER USER' not in script and '"-e", f"ALTER USER' not in script, path
	root_cnf = os.path.join(BENCH, "db", "root.cnf")
	assert os.stat(root_cnf).st_mode & 0o077 == 0  # the bench user's alone


def test_restore_and_backup_arguments_checked_before_anything_is_set_up(tmp_path):
	r = run_dms(tmp_path / "1", "restore")
	assert r.returncode != 0 and "which backup?" in r.stderr and "usage: ./dms restore FILE" in r.stderr
	r = run_dms(tmp_path / "2", "restore", "--bogus")
	assert r.returncode != 0 and "unknown option --bogus" in r.stderr
	r = run_dms(tmp_path / "3", "restore", str(tmp_path / "missing"))
	assert r.returncode != 0 and "does not exist" in r.stderr
	r = run_dms(tmp_path / "4", "restore", str(tmp_path), "--site")
	assert r.returncode != 0 and "--site needs a site name" in r.stderr
	r = run_dms(tmp_path / "5", "backup", "--x")
	assert r.returncode != 0 and "unknown argument --x" in r.stderr
	r = run_dms(tmp_path / "6", "restore", "--help")
	assert r.returncode == 0 and "./dms restore FILE [--site NEW] [--force] [--key-file K]" in r.stdout
	assert not any(
		(tmp_path / str(n) / "checkout" / "apps").exists() for n in range(1, 7)
	)  # nothing was set up


def test_jobs_of_a_dropped_site_are_purged_before_a_worker_meets_them():
	"""./dms test drops its site with jobs of it still in the queue's Redis (queued or in a
	registry); a worker starting later crashed in RQ's clean-up on them (IncorrectSitePath) and
	./dms up gave up. The purge that drop_site and ./dms up run removes exactly those jobs."""
	import json
	import sys

	from redis import Redis
	from rq import Queue
	from rq.job import Job
	from rq.registry import StartedJobRegistry

	from dms_cli.sites import PURGE_JOBS

	sites = os.path.join(BENCH, "sites")
	with open(os.path.join(sites, "common_site_config.json")) as f:
		conn = Redis.from_url(json.load(f)["redis_queue"])
	queue = Queue("dms-purge-test", connection=conn)
	live_site = os.environ["DMS_TEST_SITE"]
	jobs = {}
	for name, site in (("gone", "dropped-long-ago.localhost"), ("live", live_site)):
		jobs[name] = queue.enqueue("frappe.ping", kwargs={"site": site, "method": "x"})
	started = Job.create("frappe.ping", kwargs={"site": "dropped-long-ago.localhost"}, connection=conn)
	started.origin = queue.name
	started.save()
	StartedJobRegistry(queue=queue).add(started, ttl=600)
	try:
		r = subprocess.run(
			[sys.executable, "-c", PURGE_JOBS, sites], capture_output=True, text=True, timeout=60
		)
		assert r.returncode == 0, r.stderr
		assert int(r.stdout.strip()) >= 2
		assert jobs["gone"].id not in queue.get_job_ids()
		assert not Job.exists(jobs["gone"].id, connection=conn)
		assert started.id not in StartedJobRegistry(queue=queue).get_job_ids()
		assert not Job.exists(started.id, connection=conn)
		assert jobs["live"].id in queue.get_job_ids()  # the test site's own job is left alone
	finally:
		queue.delete(delete_jobs=True)
		StartedJobRegistry(queue=queue).remove(started.id)
