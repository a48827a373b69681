"""Sites of the bench: the demo site, the test site, the benchmark and comparison sites."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .context import Context, short_hash
from .setup import tail


def site_exists(ctx: Context, site: str) -> bool:
	return (ctx.bench / "sites" / site / "site_config.json").is_file() and ctx.stamp_ok(
		f"site-{site}", "ready"
	)


def new_site(ctx: Context, site: str, apps: list[str]) -> None:
	"""`bench new-site` (bench reads the MariaDB root login and password from
	common_site_config.json), its output in logs/new-site-<site>.log."""
	log = ctx.bench / "logs" / f"new-site-{site}.log"
	args = ["new-site", site, "--admin-password", ctx.admin_password]
	for app in apps:
		args += ["--install-app", app]
	if ctx.bench_cmd([*args, "--force"], log=log, check=False).returncode != 0:
		tail(log, 40)
		ctx.die(f"creating {site} failed (log: {log})")
	from .setup import secure_site_configs

	secure_site_configs(ctx)  # its site_config.json holds the site's encryption key


def create_site(ctx: Context, site: str) -> None:
	ctx.say(f"creating site {site} with ERPNext and aftersales_dms")
	new_site(ctx, site, ["erpnext", "aftersales_dms"])
	ctx.say(f"loading the demo dealer network into {site}")
	load_demo(ctx, site, f"loading demo data into {site} failed")
	ctx.stamp_set(f"site-{site}", "ready")


def load_demo(ctx: Context, site: str, failure: str | None = None) -> None:
	r = ctx.bench_cmd(
		["--site", site, "dms-demo", "--fixtures", f"{ctx.bench}/fixtures"], check=failure is None
	)
	if r.returncode != 0:
		ctx.die(failure)


# Run by the bench's Python (rq and redis live there): delete every background job, queued or in
# any registry, of a site that no longer exists. A worker starting with such a job left in a
# registry crashes in RQ's clean-up (Frappe's failure callback reads the site's config:
# IncorrectSitePath), e.g. the jobs of the test site ./dms test dropped, and ./dms up then gives up.
PURGE_JOBS = """
import json, os, sys
from redis import Redis
from rq import Queue
from rq.job import Job
from rq.registry import (CanceledJobRegistry, DeferredJobRegistry, FailedJobRegistry,
	FinishedJobRegistry, ScheduledJobRegistry, StartedJobRegistry)
sites = sys.argv[1]
conf = json.load(open(os.path.join(sites, "common_site_config.json")))
conn = Redis.from_url(conf.get("redis_queue") or "redis://127.0.0.1:11000")
def gone(site):
	return not os.path.isfile(os.path.join(sites, site, "site_config.json"))
purged = 0
for queue in Queue.all(connection=conn):
	registries = [r(queue=queue) for r in (StartedJobRegistry, FinishedJobRegistry, FailedJobRegistry,
		DeferredJobRegistry, ScheduledJobRegistry, CanceledJobRegistry)]
	ids = set(queue.get_job_ids())
	for registry in registries:
		# the raw set, not get_job_ids(): that first runs RQ's clean-up, which calls Frappe's
		# failure callback on an expired job of a dropped site and crashes (IncorrectSitePath)
		ids.update(i.decode() if isinstance(i, bytes) else i for i in conn.zrange(registry.key, 0, -1))
	for job_id in sorted(ids):
		try:
			job = Job.fetch(job_id, connection=conn)
			site = (job.kwargs or {}).get("site")
		except Exception:
			job, site = None, None
		if job is None or (site and gone(site)):
			for registry in registries:
				registry.remove(job_id)
			queue.remove(job_id)
			if job is not None:
				job.delete(remove_from_queue=False)
			purged += 1
print(purged)
"""


def purge_jobs_of_missing_sites(ctx: Context) -> None:
	"""Background jobs of sites that are gone, out of the bench's Redis queue (see PURGE_JOBS)."""
	r = ctx.as_bench(
		["env/bin/python", "-c", PURGE_JOBS, str(ctx.bench / "sites")], check=False, capture=True
	)
	count = (r.stdout or "").strip()
	if r.returncode != 0:
		ctx.say("could not look for background jobs of removed sites (is the queue's Redis running?)")
	elif count not in ("", "0"):
		ctx.say(f"removed {count} background job(s) of sites that no longer exist")


def drop_site(ctx: Context, site: str) -> None:
	if not (ctx.bench / "sites" / site).is_dir():
		return
	ctx.as_bench(["rm", "-f", f".stamps/site-{site}"])
	ctx.say(f"dropping site {site}")
	ctx.bench_cmd(["drop-site", site, "--force", "--no-backup"], check=False, silent=True)
	shutil.rmtree(ctx.bench / "sites" / site, ignore_errors=True)
	shutil.rmtree(ctx.bench / "archived_sites" / site, ignore_errors=True)
	purge_jobs_of_missing_sites(ctx)


def migrate(ctx: Context, site: str, log_name: str = "migrate.log", failure: str | None = None) -> None:
	log = ctx.bench / "logs" / log_name
	if ctx.bench_cmd(["--site", site, "migrate"], log=log, check=False).returncode != 0:
		ctx.die(failure or f"migrate failed (log: {log})")


def app_schema_files(app_dir: Path) -> list[Path]:
	"""`find apps/aftersales_dms -name '*.json' -o -name patches.txt -o -name hooks.py | sort`."""
	found = []
	for root, _dirs, files in os.walk(app_dir):
		for name in files:
			if name.endswith(".json") or name in ("patches.txt", "hooks.py"):
				found.append(Path(root) / name)
	return sorted(found, key=str)


def migrate_key(bench: Path) -> str:
	"""What a migrate of the demo site depends on: the app's JSON, patches and hooks."""
	return short_hash(b"".join(p.read_bytes() for p in app_schema_files(bench / "apps" / "aftersales_dms")))
