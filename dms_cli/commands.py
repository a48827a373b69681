"""The commands other than `test` and `release`: up, down, status, demo, bench, benchmark,
erpnext-tests, backup, restore — and the argument checks that run before anything is set up."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field

from . import deploy, sites
from .context import Context, DmsError
from .services import http_up
from .setup import (
	ensure_user,
	keep_payments_listed,
	prepare,
	resolve_sources,
	secure_site_configs,
	sync_repo,
)

BACKUP_USAGE = "usage: ./dms backup [--site S]"
RESTORE_USAGE = "usage: ./dms restore FILE [--site NEW] [--force] [--key-file K]"


# ---------------------------------------------------------------- up
def cmd_up(ctx: Context) -> None:
	if not (ctx.http_port.isdigit() and 0 < int(ctx.http_port) < 65536):
		ctx.die(f"DMS_HTTP_PORT={ctx.http_port} is not a port number (1-65535)")
	names = deploy.deployment_of(ctx.bench)
	if names:
		# the development server beside supervisor's gunicorn and workers would run every job twice
		ctx.die(
			f"{ctx.bench} is served for production (./dms deploy; {names.state_file}): ./dms status "
			"shows its services, ./dms deploy re-applies it, ./dms deploy --remove takes it down "
			"before ./dms up serves the development server"
		)
	prepare(ctx)
	site = ctx.site
	if sites.site_exists(ctx, site):
		ctx.say(f"site {site} exists: reusing it (migrating if the app changed)")
		key = sites.migrate_key(ctx.bench)
		if not ctx.stamp_ok(f"migrate-{site}", key):
			sites.migrate(ctx, site, "migrate.log")
			ctx.stamp_set(f"migrate-{site}", key)
	else:
		ctx.step(f"site {site}", sites.create_site, ctx, site)
		ctx.stamp_set(f"migrate-{site}", sites.migrate_key(ctx.bench))
	ctx.bench_cmd(["use", site], quiet=True)
	# links in emails and wkhtmltopdf's asset fetches use the site's URL
	ctx.bench_cmd(
		["--site", site, "set-config", "host_name", f"http://localhost:{ctx.http_port}"], quiet=True
	)
	if http_up(ctx.http_port):
		ctx.say(f"the desk is already being served on port {ctx.http_port}")
	else:
		sites.purge_jobs_of_missing_sites(ctx)  # a worker would crash on them
		ctx.say("starting web, socketio, worker and scheduler (Procfile)")
		# the Procfile's web server on DMS_HTTP_PORT: a copy beside the pid files, run by bench start
		procfile = ctx.bench / "config" / "pids" / "Procfile"
		ctx.write_file(procfile, procfile_for_port((ctx.bench / "Procfile").read_text(), ctx.http_port))
		ctx.as_bench(
			[
				"bash",
				"-c",
				f"setsid nohup bench start --procfile {procfile} >>logs/bench-start.log 2>&1 < /dev/null &"
				" echo $! > config/pids/bench-start.pid",
			]
		)
		for _ in range(120):
			if http_up(ctx.http_port):
				break
			time.sleep(0.5)
		else:
			log = ctx.bench / "logs" / "bench-start.log"
			from .setup import tail

			tail(log, 30)
			ctx.die(f"the web server did not answer on port {ctx.http_port} (log: {log})")
	users = (
		ctx.bench_cmd(["--site", site, "dms-demo-users"], capture=True, check=False, silent=True).stdout or ""
	)
	users = "".join(f"    {line}\n" for line in users.splitlines())
	print(
		f"""
  Aftersales DMS is running: http://localhost:{ctx.http_port}   (site {site}, bench {ctx.bench})
  Started in {int(time.time() - ctx.t0)} s.

  Demo logins (password for all demo users: {demo_password(ctx)}):
    Administrator                      password {ctx.admin_password}
{users.rstrip()}

  Stop with ./dms down; logs in {ctx.bench}/logs/.""",
		flush=True,
	)


def procfile_for_port(procfile: str, port: str) -> str:
	"""The Procfile with its web server (`web: bench serve --port N`) on `port`."""
	return re.sub(r"^(web:.*--port )\d+", lambda m: m.group(1) + str(port), procfile, flags=re.MULTILINE)


def demo_password(ctx: Context) -> str:
	return json.loads((ctx.bench / "fixtures" / "dms_demo.json").read_text())["demo_password"]


# ---------------------------------------------------------------- down, status, demo, bench
def cmd_down(ctx: Context) -> None:
	try:
		ensure_user(ctx)
	except (DmsError, OSError, subprocess.CalledProcessError):
		pass
	names = deploy.deployment_of(ctx.bench)
	if names:
		# supervisor would restart what is killed: stop its programs instead (MariaDB and Redis last)
		if not ctx.is_root:
			ctx.die(f"{ctx.bench} is served for production: run ./dms down as root (supervisorctl)")
		groups = [f"{g}:" for g in reversed(names.groups)]  # workers, web, redis, db
		ctx.say(f"stopping the production programs of {ctx.bench} ({', '.join(groups)})")
		r = deploy.supervisorctl("stop", *groups)
		if r.returncode:
			ctx.die(f"supervisorctl stop failed: {(r.stdout + r.stderr).strip()}")
		ctx.say("stopped; ./dms deploy starts them again (and supervisor does at boot)")
		return
	ctx.say(f"stopping processes of {ctx.bench}")
	ctx.stop_bench_processes()
	subprocess.run(["pkill", "-u", ctx.bench_user, "-f", f"{ctx.bench}/env/bin"], capture_output=True)
	# this bench's MariaDB only (its pid file went above; a server that outlived it is asked to
	# shut down through its own socket) — never a pattern that matches every bench's server
	if (ctx.bench / "db" / "mysqld.sock").is_socket() and (ctx.bench / "db" / "root.cnf").is_file():
		ctx.mysql_admin("shutdown", check=False)


def status_lines(ctx: Context) -> list[str]:
	v = ctx.versions
	return [
		f"bench: {ctx.bench} (user {ctx.bench_user})",
		f"pinned: Frappe {v['FRAPPE_VERSION']}, ERPNext {v['ERPNEXT_VERSION']}",
		f"sources: {ctx.source_desc}",
		f"web: up on port {ctx.http_port}" if http_up(ctx.http_port) else "web: down",
	]


def cmd_status(ctx: Context) -> None:
	from .deploy import status_lines as production_lines

	ensure_user(ctx)
	resolve_sources(ctx)
	for line in status_lines(ctx) + production_lines(ctx):
		print(line, flush=True)


def cmd_demo(ctx: Context) -> None:
	ensure_user(ctx)
	sync_repo(ctx)
	sites.load_demo(ctx, ctx.site)


def cmd_bench(ctx: Context, args: list[str]) -> int:
	ensure_user(ctx)
	sync_repo(ctx)
	return ctx.bench_cmd(list(args)).returncode


# ---------------------------------------------------------------- benchmark
def copy_artifact(ctx: Context, name: str) -> None:
	if not ctx.is_root:
		return
	(ctx.repo / "artifacts").mkdir(exist_ok=True)
	try:
		shutil.copy(ctx.bench / "artifacts" / name, ctx.repo / "artifacts" / name)
	except OSError:
		pass


def cmd_benchmark(ctx: Context, args: list[str]) -> None:
	prepare(ctx)
	site = ctx.benchmark_site
	if ctx.env_flag("DMS_BENCHMARK_FRESH"):
		sites.drop_site(ctx, site)
	if sites.site_exists(ctx, site):
		ctx.say(f"reusing {site} (DMS_BENCHMARK_FRESH=1 recreates it): migrating")
		sites.migrate(ctx, site, "migrate-benchmark.log", failure="migrate failed")
	else:
		ctx.step(f"benchmark site {site}", sites.create_site, ctx, site)
	ctx.as_bench(["mkdir", "-p", "artifacts"])
	ctx.say("benchmark: gunicorn on loopback, in-process journeys, scale data, load")
	ctx.as_bench(
		["python", "tests/load/benchmark.py", "--site", site, *args], env={"DMS_BENCH": str(ctx.bench)}
	)
	copy_artifact(ctx, "benchmark.json")


# ---------------------------------------------------------------- erpnext-tests
# ERPNext's Sales Invoice tests need Frappe's payments app (Payment Request imports it). It is
# fetched into the bench for this comparison only and installed on its two sites only; the
# product's sites/apps.txt does not list it, the bench's copy does once it is there (as root;
# as an ordinary user the checkout is the bench, and its sites/apps.txt gets the line).
def ensure_payments(ctx: Context) -> None:
	branch = ctx.versions["FRAPPE_BRANCH"]
	upstream = ctx.versions["PAYMENTS_UPSTREAM"]
	dest = ctx.bench / "apps" / "payments"
	if not (dest / ".git").is_dir():
		shutil.rmtree(dest, ignore_errors=True)
		src = ctx.source_dir
		if src and (src / "payments" / ".git").is_dir():
			ctx.say(f"cloning payments from {src}/payments ({branch})")
			ctx.run(["git", "clone", "-q", "--branch", branch, f"{src}/payments", str(dest)])
		else:
			where = str(src) if src else "the source directory"
			if ctx.env_flag("DMS_OFFLINE"):
				ctx.die(
					f"payments is not in {where} and DMS_OFFLINE=1 is set: put a git repository payments/ (branch {branch}) there"
				)
			ctx.say(f"cloning payments {branch} from {upstream}")
			clone = [
				"timeout",
				"120",
				"git",
				"clone",
				"-q",
				"--depth",
				"1",
				"--branch",
				branch,
				upstream,
				str(dest),
			]
			if ctx.run(clone, check=False).returncode != 0:
				ctx.die(f"cannot get payments: neither {src or 'a source directory'}/payments nor {upstream}")
		ctx.chown(dest, recursive=True)
	if ctx.as_bench(["env/bin/python", "-c", "import payments"], check=False, silent=True).returncode != 0:
		ctx.as_bench(
			[
				"uv",
				"pip",
				"install",
				"-q",
				"--python",
				"env/bin/python",
				"--constraint",
				"config/python-constraints.txt",
				"-e",
				"apps/payments",
			]
		)
	keep_payments_listed(ctx)


def ensure_comparison_site(ctx: Context, site: str, *apps: str) -> None:
	if ctx.env_flag("DMS_ERPNEXT_TESTS_FRESH"):
		sites.drop_site(ctx, site)
	if sites.site_exists(ctx, site):
		ctx.say(f"reusing {site} (DMS_ERPNEXT_TESTS_FRESH=1 recreates it)")
		return
	sites.drop_site(ctx, site)
	ctx.say(
		f"creating site {site} with {' '.join(apps)} (no demo data; ERPNext's before_tests completes its setup)"
	)
	sites.new_site(ctx, site, list(apps))
	ctx.bench_cmd(["--site", site, "set-config", "allow_tests", "true"], quiet=True)
	ctx.stamp_set(f"site-{site}", "ready")


def cmd_erpnext_tests(ctx: Context, args: list[str]) -> int:
	prepare(ctx)
	ensure_payments(ctx)
	a, b = ctx.erpnext_only_site, ctx.erpnext_dms_site
	ctx.step(f"site {a}", ensure_comparison_site, ctx, a, "erpnext", "payments")
	ctx.step(f"site {b}", ensure_comparison_site, ctx, b, "erpnext", "payments", "aftersales_dms")
	ctx.as_bench(["mkdir", "-p", "artifacts"])
	rc = ctx.as_bench(
		["python", "tests/erpnext_compare.py", "--site-a", a, "--site-b", b, *args], check=False
	).returncode
	copy_artifact(ctx, "erpnext-tests.json")
	return rc


# ---------------------------------------------------------------- backup, restore
def parse_backup_args(args: list[str], default_site: str) -> str | None:
	"""The site to back up; None: --help was asked for."""
	site = default_site
	rest = list(args)
	while rest:
		a = rest.pop(0)
		if a == "--site":
			if not rest:
				raise DmsError("--site needs a site name")
			site = rest.pop(0)
		elif a in ("-h", "--help"):
			return None
		else:
			raise DmsError(f"./dms backup: unknown argument {a} ({BACKUP_USAGE})")
	return site


@dataclass
class RestoreArgs:
	file: str = ""
	bench_args: list[str] = field(default_factory=list)  # for `bench dms-restore FILE ...`
	help: bool = False


def parse_restore_args(args: list[str]) -> RestoreArgs:
	"""FILE [--site NEW] [--force] [--key-file K], checked before anything is set up."""
	r = RestoreArgs()
	rest = list(args)
	while rest:
		a = rest.pop(0)
		if a == "--site":
			if not rest:
				raise DmsError(f"--site needs a site name ({RESTORE_USAGE})")
			r.bench_args += ["--new-site", rest.pop(0)]
		elif a == "--key-file":
			if not rest or not os.access(rest[0], os.R_OK):
				raise DmsError(f"--key-file needs a readable file ({RESTORE_USAGE})")
			r.bench_args += ["--key-file", os.path.realpath(rest.pop(0))]
		elif a == "--force":
			r.bench_args.append("--force")
		elif a in ("-h", "--help"):
			r.help = True
			return r
		elif a.startswith("-"):
			raise DmsError(f"./dms restore: unknown option {a} ({RESTORE_USAGE})")
		else:
			if r.file:
				raise DmsError(f"./dms restore: one FILE only ({RESTORE_USAGE})")
			r.file = a
	if not r.file:
		raise DmsError(f"./dms restore: which backup? ({RESTORE_USAGE})")
	if not os.path.exists(r.file):
		raise DmsError(f"./dms restore: {r.file} does not exist")
	return r


def cmd_backup(ctx: Context, site: str) -> None:
	prepare(ctx)
	if not (ctx.bench / "sites" / site / "site_config.json").is_file():
		ctx.die(f"no site {site} in {ctx.bench}")
	ctx.bench_cmd(["--site", site, "dms-backup"])


def cmd_restore(ctx: Context, r: RestoreArgs) -> None:
	prepare(ctx)
	ctx.bench_cmd(["dms-restore", os.path.realpath(r.file), *r.bench_args])
	secure_site_configs(ctx)  # a restored site's config has its encryption key
