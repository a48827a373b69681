"""`dms upgrade`: back up each site of the bench, move Frappe/ERPNext to the releases pinned in
config/versions.env and the app to this checkout, migrate; when anything fails on the way, put
the previous code back, restore the backups and say why.

The backups and their restore are the app's own (aftersales_dms/utils/backup.py: encrypted, with
a manifest and checksums), loaded from this checkout as a plain module: the app installed on the
bench may be older than that module (0.1.0 has no backups at all), and the module imports nothing
but Frappe. A site is backed up by the code it runs on, before any code changes.

State of a run lives in <bench>/.upgrade/ (the previous code, the backup module, state.json while
a run is under way); the default backup directory is the site's Backup Directory of Aftersales
Backup Settings, else <bench>/backups/. Neither is touched by the sync of the checkout."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from . import deploy, services, setup, sites
from .context import Context, DmsError

UPGRADE_USAGE = "usage: ./dms upgrade [--site S]... [--backup-dir DIR]"
STATE_DIR = ".upgrade"
BACKUPS_DIR = "backups"
BACKUP_MODULE = Path("apps/aftersales_dms/aftersales_dms/utils/backup.py")
RESULT = "DMS-RESULT "  # the line of a helper script that carries its answer (JSON)
UPSTREAM_APPS = ("frappe", "erpnext")
APP = "aftersales_dms"
# what the app's tree hash leaves out: made by Python, bench build, yarn or pip
TREE_SKIP_DIRS = {"__pycache__", "node_modules", ".git"}
TREE_SKIP_SUFFIXES = (".pyc", ".egg-info")


# ---------------------------------------------------------------- arguments
@dataclass
class UpgradeArgs:
	sites: list[str] = field(default_factory=list)
	backup_dir: str = ""
	help: bool = False


def parse_upgrade_args(args: list[str]) -> UpgradeArgs:
	"""[--site S]... [--backup-dir DIR], checked before anything is set up."""
	r = UpgradeArgs()
	rest = list(args)
	while rest:
		a = rest.pop(0)
		if a == "--site":
			if not rest or not rest[0] or rest[0].startswith("-"):
				raise DmsError(f"--site needs a site name ({UPGRADE_USAGE})")
			r.sites.append(rest.pop(0))
		elif a == "--backup-dir":
			if not rest or not os.path.isabs(rest[0]):
				raise DmsError(f"--backup-dir needs an absolute path ({UPGRADE_USAGE})")
			r.backup_dir = os.path.normpath(rest.pop(0))
		elif a in ("-h", "--help"):
			r.help = True
			return r
		else:
			raise DmsError(f"./dms upgrade: unknown argument {a} ({UPGRADE_USAGE})")
	return r


# ---------------------------------------------------------------- what there is, what is wanted
@dataclass
class Code:
	"""One app's code: its version, and its git commit and branch (upstream apps) or the hash of
	its files (the app, whose bench copy is not a git checkout as root)."""

	name: str
	version: str
	commit: str = ""
	branch: str = ""
	tree: str = ""

	def label(self) -> str:
		return f"{self.version} ({self.commit[:7]})" if self.commit else self.version


def tree_hash(root: Path) -> str:
	"""sha1 over the relative paths and contents of the files under `root`, skipping what Python,
	builds and installs make (what the sync of the checkout does not copy either)."""
	h = hashlib.sha1()
	for dirpath, dirnames, filenames in os.walk(root):
		rel_dir = os.path.relpath(dirpath, root)
		dirnames[:] = sorted(
			d
			for d in dirnames
			if d not in TREE_SKIP_DIRS
			and not d.endswith(TREE_SKIP_SUFFIXES)
			and not (d == "dist" and os.path.basename(dirpath) == "public")
		)
		for name in sorted(filenames):
			if name.endswith(TREE_SKIP_SUFFIXES):
				continue
			path = os.path.join(dirpath, name)
			if os.path.islink(path) or not os.path.isfile(path):
				continue
			h.update(os.path.normpath(os.path.join(rel_dir, name)).encode() + b"\0")
			with open(path, "rb") as f:
				h.update(hashlib.sha1(f.read()).digest())
	return h.hexdigest()


def upgrade_key(frappe: str, erpnext: str, app_tree: str) -> str:
	"""The stamp of a site upgraded to this code (frappe and erpnext commits, the app's files)."""
	return hashlib.sha1(f"{frappe} {erpnext} {app_tree}".encode()).hexdigest()[:16]


def changes(before: dict[str, Code], after: dict[str, Code]) -> list[str]:
	"""'frappe  15.101.1 (256df9a) -> 15.101.1 (d709640)' per app, 'unchanged' when it is."""
	width = max(len(n) for n in after)
	lines = []
	for name, new in after.items():
		old = before.get(name)
		if old is None:
			lines.append(f"{name:<{width}}  {new.label()} (new)")
		elif code_differs(old, new):
			lines.append(f"{name:<{width}}  {old.label()} -> {new.label()}")
		else:
			lines.append(f"{name:<{width}}  {new.label()} unchanged")
	return lines


def code_differs(old: Code, new: Code) -> bool:
	"""Upstream apps by their commit, the app by its files."""
	if old.tree or new.tree:
		return old.tree != new.tree
	return old.commit != new.commit


def new_patches(before: list[str], after: list[str]) -> list[str]:
	"""The Patch Log entries of `after` that `before` does not have, in `after`'s order."""
	seen = set(before)
	return [p for p in after if p not in seen]


def bench_sites(bench: Path) -> list[str]:
	"""The sites of a bench: folders of sites/ with a site_config.json."""
	root = bench / "sites"
	if not root.is_dir():
		return []
	return sorted(p.name for p in root.iterdir() if (p / "site_config.json").is_file())


def select_sites(available: list[str], wanted: list[str]) -> list[str]:
	if not wanted:
		return available
	unknown = [s for s in wanted if s not in available]
	if unknown:
		raise DmsError(
			f"no site {', '.join(unknown)} in this bench (its sites: {', '.join(available) or 'none'})"
		)
	return list(dict.fromkeys(wanted))


# ---------------------------------------------------------------- why a migrate failed
def clean_log(text: str) -> list[str]:
	"""The log's lines as a terminal shows them: progress bars redraw a line with \\r."""
	return [line.split("\r")[-1].rstrip() for line in text.splitlines()]


def failure_summary(text: str, n: int = 15) -> tuple[str, list[str]]:
	"""(headline, last lines) of a failed `bench migrate`'s output: the exception's line, with the
	patch that raised it when a patch did, and the last `n` lines."""
	lines = [line for line in clean_log(text) if line.strip()]
	if not lines:
		return "bench migrate failed without output", []
	error = lines[-1].strip()
	patch = ""
	traceback_at = max((i for i, line in enumerate(lines) if line.startswith("Traceback")), default=-1)
	for i in range(len(lines) - 1, -1, -1):
		m = re.match(r"Executing (\S+) in ", lines[i])
		if m:
			if i < traceback_at and any("patch_handler" in line for line in lines[traceback_at:]):
				patch = m.group(1)
			break
	headline = f"patch {patch} failed: {error}" if patch else error
	return headline, lines[-n:]


def figures_table(before: dict, after: dict) -> list[str]:
	"""The manifest's figures beside the migrated site's, and whether each is the same."""
	width = max((len(k) for k in {**before, **after}), default=0)
	lines = []
	for key in sorted({**before, **after}):
		b, a = before.get(key), after.get(key)
		mark = "same" if b == a else "DIFFERENT"
		lines.append(f"    {key:<{width}}  {b!s:>14} -> {a!s:<14} {mark}")
	return lines


# ---------------------------------------------------------------- helper scripts (bench env, sites/)
_LOAD = """
import importlib.util, json, os, sys
spec = importlib.util.spec_from_file_location("dms_upgrade_backup", sys.argv[1])
backup = importlib.util.module_from_spec(spec)
spec.loader.exec_module(backup)
import frappe
"""

# before any change, on the code the site runs: the Patch Log and a backup (write_backup)
BACKUP_SCRIPT = (
	_LOAD
	+ """
site, directory, fallback = sys.argv[2:5]
frappe.init(site=site, sites_path=".")
frappe.connect()
try:
	if not directory:  # the site's own backup directory when it has one
		row = frappe.db.sql(
			"select value from `tabSingles` where doctype=%s and field='backup_directory'", backup.SETTINGS
		)
		directory = ((row[0][0] if row else "") or "").strip() or fallback
	os.makedirs(directory, mode=0o700, exist_ok=True)
	if not os.access(directory, os.W_OK | os.X_OK):
		raise SystemExit(f"the backup directory {directory} is not writable by the bench user")
	patches = frappe.get_all("Patch Log", pluck="patch", order_by="creation asc")
	manifest = backup.write_backup(directory, encrypt=True)
finally:
	frappe.destroy()
print("DMS-RESULT " + json.dumps({"manifest": manifest, "patches": patches}, default=str))
"""
)

# after the migrate: the Patch Log and the figures the manifest recorded
AFTER_SCRIPT = (
	_LOAD
	+ """
frappe.init(site=sys.argv[2], sites_path=".")
frappe.connect()
try:
	out = {
		"patches": frappe.get_all("Patch Log", pluck="patch", order_by="creation asc"),
		"figures": backup.figures(),
	}
finally:
	frappe.destroy()
print("DMS-RESULT " + json.dumps(out, default=str))
"""
)

RESTORE_SCRIPT = (
	_LOAD
	+ """
site, restored, manifest = backup.restore(sys.argv[2], new_site=sys.argv[3], force=True)
print("DMS-RESULT " + json.dumps({"site": site, "figures": restored}, default=str))
"""
)


def result_of(stdout: str) -> dict:
	for line in reversed((stdout or "").splitlines()):
		if line.startswith(RESULT):
			return json.loads(line[len(RESULT) :])
	raise ValueError("no result line")


# ---------------------------------------------------------------- the run
class Upgrade:
	def __init__(self, ctx: Context, args: UpgradeArgs):
		self.ctx = ctx
		self.args = args
		self.state_dir = ctx.bench / STATE_DIR
		self.previous = self.state_dir / "previous"
		self.module = self.state_dir / "backup.py"
		self.sites: list[str] = []
		self.pending: list[str] = []
		self.before: dict[str, Code] = {}
		self.after: dict[str, Code] = {}
		self.backups: dict[str, dict] = {}  # site -> {"manifest": ..., "patches": [...]}
		self.maintenance: list[str] = []
		self.migrated: list[str] = []  # sites whose database the migrate touched (tried)
		self.code_moved = False
		self.stopped: dict = {}
		self.logs: dict[str, Path] = {}

	# ------------------------------------------------------------ small helpers
	def git(self, app: str, *args: str, check: bool = True) -> str:
		r = self.ctx.as_bench(["git", "-C", f"apps/{app}", *args], capture=True, check=check)
		return (r.stdout or "").strip()

	def code_of_bench(self) -> dict[str, Code]:
		b = self.ctx.bench
		out = {}
		for app in UPSTREAM_APPS:
			branch = self.git(app, "symbolic-ref", "-q", "--short", "HEAD", check=False)
			out[app] = Code(
				app,
				setup.app_version(b / "apps" / app / app / "__init__.py"),
				commit=self.git(app, "rev-parse", "HEAD"),
				branch=branch,
			)
		out[APP] = Code(
			APP, setup.app_version(b / "apps" / APP / APP / "__init__.py"), tree=tree_hash(b / "apps" / APP)
		)
		return out

	def script(self, name: str, code: str, *args: str) -> dict:
		"""A helper script in the bench's Python, in sites/, as the bench user; its result. Its
		output goes to logs/upgrade-<name>.log; a failure raises DmsError with the output's end."""
		log = self.ctx.bench / "logs" / f"upgrade-{name}.log"
		r = self.ctx.as_bench(
			["bash", "-c", 'cd sites && exec ../env/bin/python -c "$0" "$@"', code, str(self.module), *args],
			check=False,
			log=log,
			env={"PYTHONUNBUFFERED": "1"},
		)
		text = log.read_text(errors="replace")
		try:
			return result_of(text)
		except ValueError:
			tail = "\n".join(line for line in clean_log(text)[-15:] if line.strip())
			raise DmsError(f"{tail}\n(exit {r.returncode}; log: {log})") from None

	# ------------------------------------------------------------ targets
	def target_commit(self, app: str) -> str:
		"""The commit the pinned release of `app` is: the local source's branch, else the upstream tag."""
		ctx, v = self.ctx, self.ctx.versions
		current = self.before[app]
		if ctx.source_dir:
			src = ctx.source_dir / app
			r = ctx.run(
				[
					"git",
					"-c",
					"safe.directory=*",
					"-C",
					str(src),
					"rev-parse",
					f"refs/heads/{v['FRAPPE_BRANCH']}",
				],
				capture_output=True,
				check=False,
			)
			if r.returncode != 0:
				ctx.die(f"{src} has no branch {v['FRAPPE_BRANCH']}: {r.stderr.strip()}")
			return r.stdout.strip()
		ref = v[f"{app.upper()}_REF"]
		upstream = v[f"{app.upper()}_UPSTREAM"]
		r = (
			subprocess.run(
				["timeout", "20", "git", "ls-remote", upstream, f"refs/tags/{ref}", f"refs/tags/{ref}^{{}}"],
				capture_output=True,
				text=True,
			)
			if not ctx.env_flag("DMS_OFFLINE")
			else None
		)
		refs = dict(
			reversed(line.split("\t", 1)) for line in (r.stdout if r else "").splitlines() if "\t" in line
		)
		commit = refs.get(f"refs/tags/{ref}^{{}}") or refs.get(f"refs/tags/{ref}")
		if commit:
			return commit
		want = v[f"{app.upper()}_VERSION"]
		if current.version == want:
			ctx.say(f"{app}: {upstream} not reachable; the bench has {want} as pinned, keeping it")
			return current.commit
		ctx.die(
			f"cannot get {app} {ref}: {upstream} is not reachable and there is no local source directory "
			f"(DMS_SOURCE_DIR); the bench has {app} {current.version}, config/versions.env pins {want}"
		)

	def fetch(self, app: str, commit: str) -> None:
		"""Make `commit` present in the bench's clone of `app` (from the local source or upstream)."""
		ctx, v = self.ctx, self.ctx.versions
		dest = ctx.bench / "apps" / app
		have = ctx.as_bench(
			["git", "-C", f"apps/{app}", "cat-file", "-e", f"{commit}^{{commit}}"], check=False, silent=True
		)
		if have.returncode == 0:
			return
		if ctx.source_dir:
			what = [str(ctx.source_dir / app), f"refs/heads/{v['FRAPPE_BRANCH']}"]
		else:
			ref = v[f"{app.upper()}_REF"]
			what = ["--depth", "1", v[f"{app.upper()}_UPSTREAM"], f"refs/tags/{ref}:refs/tags/{ref}"]
		ctx.say(f"fetching {app} {commit[:7]} from {what[-2]}")
		# as root the source may be readable by root only (its cache in /root): fetched as root,
		# then the clone's files given back to the bench user
		ctx.run(["git", "-c", "safe.directory=*", "-C", str(dest), "fetch", "-q", *what])
		ctx.chown(dest / ".git", recursive=True)

	def checkout(self, app: str, commit: str, branch: str) -> None:
		if branch:
			self.git(app, "checkout", "-q", "-B", branch, commit)
		else:
			self.git(app, "checkout", "-q", "--detach", commit)

	# ------------------------------------------------------------ services of this bench
	def supervisor_programs(self) -> list[str]:
		"""This bench's web and worker programs that supervisord runs: the groups `<bench>-web` and
		`<bench>-workers` of `./dms deploy` (bench setup supervisor's names). Its MariaDB and Redis
		keep running: the upgrade needs them."""
		if not shutil.which("supervisorctl"):
			return []
		return running_programs(deploy.supervisorctl("status").stdout, self.ctx.bench.name)

	def stop_services(self) -> None:
		ctx = self.ctx
		pidfile = ctx.bench / "config" / "pids" / "bench-start.pid"
		dev = False
		try:
			pid = int(pidfile.read_text().strip())
			os.kill(pid, 0)
			dev = True
		except (OSError, ValueError):
			pid = 0
		if dev:
			ctx.say("stopping this bench's web server, workers and scheduler (bench start)")
			try:
				os.killpg(pid, 15)
			except OSError:
				pass
			for _ in range(40):
				try:
					os.kill(pid, 0)
				except OSError:
					break
				time.sleep(0.25)
			pidfile.unlink(missing_ok=True)
		programs = self.supervisor_programs()
		if programs:
			ctx.say(f"stopping supervisor programs: {', '.join(programs)}")
			r = deploy.supervisorctl("stop", *programs)
			if r.returncode != 0:
				ctx.die(f"supervisorctl stop {' '.join(programs)} failed: {(r.stdout + r.stderr).strip()}")
		self.stopped = {"dev": dev, "supervisor": programs}

	def start_services(self) -> list[str]:
		"""Start again what was stopped (supervisor programs); what to do for the rest."""
		notes = []
		programs = self.stopped.get("supervisor") or []
		if programs:
			self.ctx.say(f"starting supervisor programs: {', '.join(programs)}")
			r = deploy.supervisorctl("start", *programs)
			if r.returncode != 0:
				notes.append(
					f"supervisorctl start {' '.join(programs)} failed: {(r.stdout + r.stderr).strip()}"
				)
		if self.stopped.get("dev"):
			notes.append("the desk was served by ./dms up: run ./dms up to serve it again")
		return notes

	def set_maintenance(self, site: str, on: bool) -> None:
		self.ctx.bench_cmd(["--site", site, "set-maintenance-mode", "on" if on else "off"], quiet=True)
		if on:
			self.maintenance.append(site)
		elif site in self.maintenance:
			self.maintenance.remove(site)

	# ------------------------------------------------------------ state
	def write_state(self, step: str) -> None:
		state = {
			"step": step,
			"started": self.started,
			"sites": self.pending,
			"backups": {s: b["manifest"]["folder"] for s, b in self.backups.items()},
			"before": {n: c.__dict__ for n, c in self.before.items()},
		}
		self.ctx.write_file(self.state_dir / "state.json", json.dumps(state, indent=1))

	def check_unfinished(self) -> None:
		path = self.state_dir / "state.json"
		if not path.is_file():
			return
		try:
			state = json.loads(path.read_text())
		except (OSError, ValueError):
			state = {}
		backups = "\n".join(f"  {s}: {f}" for s, f in (state.get("backups") or {}).items()) or "  none taken"
		self.ctx.die(
			f"an earlier ./dms upgrade (started {state.get('started', '?')}) stopped at '{state.get('step', '?')}' "
			f"without putting things back. Its backups:\n{backups}\n"
			f"Check the sites (restore one with ./dms restore FOLDER --site SITE --force), then remove "
			f"{path} and run ./dms upgrade again."
		)

	# ------------------------------------------------------------ the steps
	def run(self) -> None:
		ctx, v = self.ctx, self.ctx.versions
		self.started = time.strftime("%Y-%m-%d %H:%M:%S")
		ctx.say(
			f"Aftersales DMS upgrade — Frappe {v['FRAPPE_VERSION']}, ERPNext {v['ERPNEXT_VERSION']} "
			"(config/versions.env), the app of this checkout"
		)
		ctx.step("system packages", ctx.ensure_packages)
		ctx.step("bench user", setup.ensure_user, ctx)
		setup.resolve_sources(ctx)
		b = ctx.bench
		if (
			not all((b / "apps" / a / ".git").is_dir() for a in UPSTREAM_APPS)
			or not (b / "env" / "bin" / "python").exists()
		):
			ctx.die(f"no bench at {b} to upgrade (./dms up makes one)")
		ctx.say(f"bench: {b} (user {ctx.bench_user}); sources: {ctx.source_desc}")
		ctx.step("tools", setup.ensure_tools, ctx)
		ctx.step("layout", setup.ensure_layout, ctx)
		ctx.as_bench(["mkdir", "-p", STATE_DIR])
		lock_path = self.state_dir / "lock"
		if not lock_path.exists():
			ctx.write_file(lock_path, "")
		with open(lock_path) as lock:
			try:
				fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
			except OSError:
				ctx.die(f"another ./dms upgrade of {b} is running")
			self.check_unfinished()
			ctx.step("mariadb", services.ensure_mariadb, ctx)
			ctx.step("redis", services.ensure_redis, ctx)
			self.upgrade()

	def upgrade(self) -> None:
		ctx = self.ctx
		self.sites = select_sites(bench_sites(ctx.bench), self.args.sites)
		if not self.sites:
			ctx.die(f"the bench {ctx.bench} has no site to upgrade")
		for app in UPSTREAM_APPS:
			dirty = self.git(app, "status", "--porcelain", "--untracked-files=no")
			if dirty:
				ctx.die(
					f"apps/{app} has local changes; the upgrade would discard them. Commit or remove them "
					f"first (in {ctx.bench / 'apps' / app}):\n{dirty}"
				)
		self.before = self.code_of_bench()
		self.after = {
			app: Code(
				app,
				self.before[app].version,
				commit=self.target_commit(app),
				branch=self.before[app].branch or ctx.versions["FRAPPE_BRANCH"],
			)
			for app in UPSTREAM_APPS
		}
		repo_app = ctx.repo / "apps" / APP
		self.after[APP] = Code(
			APP,
			setup.app_version(repo_app / APP / "__init__.py"),
			commit=checkout_commit(ctx.repo),
			tree=tree_hash(repo_app),
		)
		if not ctx.is_root:  # the checkout is the bench: its commit is the bench's too
			self.before[APP].commit = self.after[APP].commit
		moved = [n for n in self.after if code_differs(self.before[n], self.after[n])]
		key = upgrade_key(self.after["frappe"].commit, self.after["erpnext"].commit, self.after[APP].tree)
		self.pending = [s for s in self.sites if moved or not ctx.stamp_ok(f"upgrade-{s}", key)]
		if not self.pending:
			print(
				"nothing to upgrade: the bench runs the pinned Frappe/ERPNext and this checkout's app, and",
				flush=True,
			)
			print(f"every site was migrated to it ({', '.join(self.sites)})", flush=True)
			for line in changes(self.after, self.after):
				print(f"  {line}", flush=True)
			return
		others = [s for s in bench_sites(ctx.bench) if s not in self.sites]
		if moved and others:
			ctx.say(
				f"WARNING: not upgrading {', '.join(others)} (--site): they share this bench's code and need "
				"./dms upgrade --site for each (or ./dms bench --site S migrate)"
			)
		ctx.say(f"upgrading {', '.join(self.pending)}:")
		for line in changes(self.before, self.after):
			ctx.say(f"  {line}")

		self.stop_services()
		try:
			self.back_up()
		except BaseException:
			for site in list(self.maintenance):
				self.set_maintenance(site, False)
			notes = self.start_services()
			for note in notes:
				ctx.say(note)
			raise
		try:
			self.move_code(moved)
			for site in self.pending:
				self.migrate(site)
		except BaseException as e:
			self.roll_back(e)  # raises DmsError saying why and what it put back
		self.finish(key)

	def back_up(self) -> None:
		ctx = self.ctx
		ctx.write_file(self.module, (ctx.repo / BACKUP_MODULE).read_text())
		fallback = str(ctx.bench / BACKUPS_DIR)
		for site in self.pending:
			self.set_maintenance(site, True)
		for site in self.pending:
			ctx.say(f"backing up {site} (maintenance mode on)")
			try:
				self.backups[site] = self.script(
					f"backup-{site}", BACKUP_SCRIPT, site, self.args.backup_dir, fallback
				)
			except DmsError as e:
				ctx.die(f"the backup of {site} failed; nothing was changed:\n{e.message}")
			m = self.backups[site]["manifest"]
			ctx.say(f"backup of {site}: {m['folder']}")
		self.write_state("code")

	def move_code(self, moved: list[str]) -> None:
		ctx = self.ctx
		if ctx.is_root:
			# the previous code the sync would overwrite: what sync_repo copies, as it is now
			ctx.as_bench(["mkdir", "-p", str(self.previous)])
			ctx.as_bench(snapshot_command(ctx.bench, self.previous))
		self.code_moved = True
		for app in UPSTREAM_APPS:
			if app in moved:
				new = self.after[app]
				self.fetch(app, new.commit)
				ctx.say(f"moving {app} to {new.commit[:7]} ({new.branch or 'detached'})")
				self.checkout(app, new.commit, new.branch)
				new.version = setup.app_version(ctx.bench / "apps" / app / app / "__init__.py")
				want = ctx.versions[f"{app.upper()}_VERSION"]
				if new.version != want:
					ctx.say(
						f"WARNING: {app} {new.version} found, this project is tested with {want} (config/versions.env)"
					)
		setup.sync_repo(ctx)
		ctx.step("python environment", setup.ensure_python_env, ctx)
		ctx.step("node modules", setup.ensure_node_modules, ctx)
		ctx.step("assets", setup.ensure_assets, ctx)

	def migrate(self, site: str) -> None:
		ctx = self.ctx
		log = ctx.bench / "logs" / f"upgrade-{site}.log"
		self.logs[site] = log
		ctx.say(f"migrating {site} (log: {log})")
		self.migrated.append(site)
		r = ctx.bench_cmd(["--site", site, "migrate"], log=log, check=False)
		if r.returncode != 0:
			headline, tail = failure_summary(log.read_text(errors="replace"))
			raise MigrateFailed(site, headline, tail, log)

	def finish(self, key: str) -> None:
		ctx = self.ctx
		report = []
		for site in self.pending:
			before = self.backups[site]
			try:
				after = self.script(f"after-{site}", AFTER_SCRIPT, site)
			except DmsError as e:
				ctx.say(f"WARNING: could not read the Patch Log and figures of {site}: {e.message}")
				after = {"patches": before["patches"], "figures": {}}
			ran = new_patches(before["patches"], after["patches"])
			report.append((site, before["manifest"], ran, after["figures"]))
			ctx.stamp_set(f"upgrade-{site}", key)
			ctx.stamp_set(f"migrate-{site}", sites.migrate_key(ctx.bench))  # ./dms up need not migrate again
			self.set_maintenance(site, False)
		notes = self.start_services()
		shutil.rmtree(self.previous, ignore_errors=True)
		(self.state_dir / "state.json").unlink(missing_ok=True)
		after = self.code_of_bench()
		after[APP].commit = self.after[APP].commit  # the bench's copy of the app is of this commit
		print("\nupgraded:", flush=True)
		for line in changes(self.before, after):
			print(f"  {line}", flush=True)
		for site, manifest, ran, figures in report:
			print(f"site {site}: backup {manifest['folder']}", flush=True)
			print(f"  patches run ({len(ran)}): {', '.join(ran) or 'none'}", flush=True)
			print("  figures (backup -> migrated):", flush=True)
			for line in figures_table(manifest.get("figures", {}), figures):
				print(line, flush=True)
		for note in notes:
			print(note, flush=True)

	# ------------------------------------------------------------ when it fails
	def roll_back(self, error: BaseException) -> NoReturn:
		ctx = self.ctx
		if isinstance(error, MigrateFailed):
			why = [
				f"migrate of {error.site} failed: {error.headline}",
				*(f"  | {line}" for line in error.tail),
				f"  (full log: {error.log})",
			]
		elif isinstance(error, DmsError):
			why = [error.message]
		elif isinstance(error, subprocess.CalledProcessError):
			why = [f"{' '.join(map(str, error.cmd))} failed (exit {error.returncode})"]
		else:
			why = [f"{type(error).__name__}: {error}"]
		ctx.say("the upgrade failed: putting the previous code and the backups back")
		done, failed = [], []

		def attempt(what: str, fn, *a):
			try:
				fn(*a)
				done.append(what)
			except BaseException as e:  # every step of the way back is tried
				msg = e.message if isinstance(e, DmsError) else f"{type(e).__name__}: {e}"
				failed.append(f"{what}: {msg}")

		if self.code_moved:
			for app in UPSTREAM_APPS:
				old = self.before[app]
				if self.git(app, "rev-parse", "HEAD", check=False) != old.commit:
					attempt(f"{app} back at {old.commit[:7]}", self.checkout, app, old.commit, old.branch)
			if ctx.is_root and self.previous.is_dir():
				attempt(
					f"{APP} back at {self.before[APP].version}",
					ctx.as_bench,
					restore_command(self.previous, ctx.bench),
				)
			elif not ctx.is_root:
				failed.append(
					f"{APP}: as an ordinary user the checkout is the bench; check out the code you had "
					"before (git checkout ...) and run ./dms upgrade again"
				)
			attempt("python environment", setup.ensure_python_env, ctx)
			attempt("node modules", setup.ensure_node_modules, ctx)
			attempt("assets", setup.ensure_assets, ctx)
		for site in self.migrated:
			folder = self.backups[site]["manifest"]["folder"]
			ctx.say(f"restoring {site} from {folder}")
			attempt(
				f"{site} restored from {folder}", self.script, f"restore-{site}", RESTORE_SCRIPT, folder, site
			)
		for site in list(self.maintenance):
			attempt(f"{site} out of maintenance mode", self.set_maintenance, site, False)
		notes = self.start_services()
		if not failed:
			shutil.rmtree(self.previous, ignore_errors=True)
			(self.state_dir / "state.json").unlink(missing_ok=True)
		else:
			self.write_state("roll back")
		untouched = [s for s in self.pending if s not in self.migrated]
		if failed:
			lines = ["upgrade failed, and NOT everything could be put back (see below).", "why:"]
		else:
			lines = ["upgrade failed; the bench and its sites are as they were before it.", "why:"]
		lines += [f"  {w}" for w in why]
		lines.append("put back:")
		lines += [f"  {d}" for d in done] or ["  nothing needed putting back"]
		if untouched:
			lines.append(f"  not migrated, unchanged: {', '.join(untouched)}")
		if failed:
			lines.append("COULD NOT put back (do it by hand):")
			lines += [f"  {f}" for f in failed]
		lines += notes
		raise DmsError("\n".join(lines)) from None


class MigrateFailed(Exception):
	def __init__(self, site: str, headline: str, tail: list[str], log: Path):
		super().__init__(headline)
		self.site, self.headline, self.tail, self.log = site, headline, tail, log


def running_programs(status: str, name: str) -> list[str]:
	"""The `group:program` names in `supervisorctl status` output of the bench named `name`'s web
	and worker groups that are running (or trying to)."""
	groups = {f"{name}-web", f"{name}-workers"}
	out = []
	for line in status.splitlines():
		parts = line.split()
		if (
			len(parts) > 1
			and parts[0].split(":")[0] in groups
			and parts[1] in ("RUNNING", "STARTING", "BACKOFF")
		):
			out.append(parts[0])
	return out


def checkout_commit(repo: Path) -> str:
	"""The checkout's commit (empty when it is no git checkout)."""
	r = subprocess.run(
		["git", "-c", "safe.directory=*", "-C", str(repo), "rev-parse", "HEAD"],
		capture_output=True,
		text=True,
	)
	return r.stdout.strip() if r.returncode == 0 else ""


def state_excludes() -> list[str]:
	"""The sync's exclusions, plus the upgrade's own state and backups."""
	return [*setup.RSYNC_EXCLUDES, f"/{STATE_DIR}", f"/{BACKUPS_DIR}"]


def snapshot_command(bench: Path, dest: Path) -> list[str]:
	"""rsync of what the sync of the checkout would overwrite in `bench`, into `dest`."""
	return ["rsync", "-a", "--delete", *(f"--exclude={e}" for e in state_excludes()), f"{bench}/", f"{dest}/"]


def restore_command(snapshot: Path, bench: Path) -> list[str]:
	"""rsync of a snapshot back over the bench (what the sync wrote goes, what was there returns)."""
	return [
		"rsync",
		"-a",
		"--delete",
		*(f"--exclude={e}" for e in state_excludes()),
		f"{snapshot}/",
		f"{bench}/",
	]


def cmd_upgrade(ctx: Context, args: UpgradeArgs) -> None:
	Upgrade(ctx, args).run()
