"""Setting up whatever is missing (both README commands): system packages, the bench user, the
Frappe/ERPNext sources, the synced checkout, tools, layout, Python env, node modules, MariaDB,
Redis and assets. Each step is skipped when its stamp says it is done."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from .context import Context, short_hash
from .services import bench_service_ports, ensure_mariadb, ensure_redis

# what `sync_repo` does not copy from the checkout into the bench (root only): upstream apps,
# environments and the bench's own state
RSYNC_EXCLUDES = (
	"/.git",
	"/apps/frappe",
	"/apps/erpnext",
	"/apps/payments",
	"/env",
	"/sites/*/",
	"/sites/common_site_config.json",
	"/logs",
	"/db",
	"/config/pids",
	"/artifacts",
	"/.dms-origin",
	"__pycache__",
	"*.egg-info",
	"/.stamps",
	"/apps/*/*/public/dist",
	"/.upgrade",  # ./dms upgrade: the previous code, its state
	"/backups",  # ./dms upgrade: its default backup directory
)


def rsync_command(repo: Path, bench: Path, user: str) -> list[str]:
	return [
		"rsync",
		"-a",
		"--delete",
		f"--chown={user}:{user}",
		*(f"--exclude={e}" for e in RSYNC_EXCLUDES),
		# readable by others whatever the checkout's modes (a `mktemp -d` clone's root is 700):
		# nginx (www-data) serves sites/assets, which link into apps/*/public, from the bench
		"--chmod=Dgo+rx,Fgo+r",
		f"{repo}/",
		f"{bench}/",
	]


# ---------------------------------------------------------------- bench user
def ensure_user(ctx: Context) -> None:
	if not ctx.is_root:
		return
	if subprocess.run(["id", ctx.bench_user], capture_output=True).returncode != 0:
		ctx.say(f"creating unprivileged bench user '{ctx.bench_user}'")
		ctx.run(["useradd", "--create-home", "--shell", "/bin/bash", ctx.bench_user])
	ctx.bench.mkdir(parents=True, exist_ok=True)
	ctx.run(["chown", f"{ctx.bench_user}:", str(ctx.bench.parent), str(ctx.bench)])
	# forget benches whose checkout is gone (CI clones come and go)
	for b in sorted(ctx.bench.parent.iterdir()):
		origin_file = b / ".dms-origin"
		if not b.is_dir() or not origin_file.is_file():
			continue
		origin = origin_file.read_text().strip()
		if not Path(origin).is_dir() and b != ctx.bench:
			ctx.say(f"removing stale bench {b}/ (checkout {origin} is gone)")
			ctx.stop_bench_processes(b)
			shutil.rmtree(b, ignore_errors=True)
	(ctx.bench / ".dms-origin").write_text(f"{ctx.repo}\n")


def ensure_tools(ctx: Context) -> None:
	"""uv, bench CLI and yarn 1 in the bench user's tool directory."""
	v = ctx.versions
	tools = ctx.tools
	stamp = tools / ".stamp"
	want = f"uv={v['UV_VERSION']} bench={v['BENCH_CLI_VERSION']} yarn={v['YARN_VERSION']}"
	try:
		if stamp.read_text().strip() == want:
			return
	except OSError:
		pass
	ctx.say(f"installing tools ({want})")
	ctx.as_bench(
		[
			"bash",
			"-ec",
			f"""
		rm -rf '{tools}'; {ctx.python} -m venv '{tools}'
		'{tools}/bin/pip' install -q --disable-pip-version-check 'uv=={v["UV_VERSION"]}' 'frappe-bench=={v["BENCH_CLI_VERSION"]}'
		npm install -s --no-audit --no-fund --prefix '{tools}/node' 'yarn@{v["YARN_VERSION"]}' >/dev/null
		ln -sf '{tools}/node/node_modules/.bin/yarn' '{tools}/bin/yarn'
		echo '{want}' > '{stamp}'""",
		]
	)


# ---------------------------------------------------------------- sources
def resolve_sources(ctx: Context) -> None:
	v = ctx.versions
	home = ctx.environ.get("HOME") or os.path.expanduser("~")
	default_cache = Path(ctx.environ.get("XDG_CACHE_HOME") or f"{home}/.cache") / "aftersales-dms" / "sources"
	ctx.default_source_cache = default_cache
	given = ctx.environ.get("DMS_SOURCE_DIR")
	if given:
		src = Path(given)
		if not ((src / "frappe" / ".git").is_dir() and (src / "erpnext" / ".git").is_dir()):
			ctx.die(
				f"DMS_SOURCE_DIR={given} must hold git repositories frappe/ and erpnext/ (branch {v['FRAPPE_BRANCH']})"
			)
		ctx.source_dir = src
	elif (default_cache / "frappe" / ".git").is_dir() and (default_cache / "erpnext" / ".git").is_dir():
		ctx.source_dir = default_cache
	else:
		ctx.source_dir = None
	if ctx.source_dir:
		ctx.source_desc = f"local source {ctx.source_dir} (branch {v['FRAPPE_BRANCH']})"
	else:
		ctx.source_desc = (
			f"upstream {v['FRAPPE_UPSTREAM']}@{v['FRAPPE_REF']}, {v['ERPNEXT_UPSTREAM']}@{v['ERPNEXT_REF']}"
		)


def no_source_error(ctx: Context, why: str):
	v = ctx.versions
	ctx.die(
		f"""cannot get Frappe/ERPNext: {why}
No local source directory was found and upstream GitHub is not reachable.
Provide one of:
  1. network access to {v["FRAPPE_UPSTREAM"]} and {v["ERPNEXT_UPSTREAM"]}, or
  2. a local source directory, either at the default location
       {ctx.default_source_cache}
     or named by DMS_SOURCE_DIR=/path, holding
       frappe/                 git repository, branch {v["FRAPPE_BRANCH"]} (Frappe {v["FRAPPE_VERSION"]})
       erpnext/                git repository, branch {v["FRAPPE_BRANCH"]} (ERPNext {v["ERPNEXT_VERSION"]})
       yarn-offline-mirror/    yarn 1 offline mirror; at least the tarball
                               ed37b94d95c68d8544357e330be0c89d044a3eea (frappe/air-datepicker)"""
	)


def app_version(init_py: Path) -> str:
	try:
		m = re.search(r'^__version__ = "(.*)"', init_py.read_text(), re.MULTILINE)
	except OSError:
		return ""
	return m.group(1) if m else ""


def clone_app(ctx: Context, app: str, upstream: str, ref: str, want: str) -> None:
	branch = ctx.versions["FRAPPE_BRANCH"]
	dest = ctx.bench / "apps" / app
	if not (dest / ".git").is_dir():
		shutil.rmtree(dest, ignore_errors=True)
		if ctx.source_dir:
			ctx.say(f"cloning {app} from {ctx.source_dir}/{app} ({branch})")
			ctx.run(["git", "clone", "-q", "--branch", branch, f"{ctx.source_dir}/{app}", str(dest)])
		else:
			if ctx.env_flag("DMS_OFFLINE"):
				no_source_error(ctx, "DMS_OFFLINE=1 is set")
			probe = ["timeout", "20", "git", "ls-remote", "--exit-code", upstream, f"refs/tags/{ref}"]
			if subprocess.run(probe, capture_output=True).returncode != 0:
				no_source_error(
					ctx, f"{upstream} is not reachable (git ls-remote failed or took more than 20 s)"
				)
			ctx.say(f"cloning {app} {ref} from {upstream}")
			ctx.run(["git", "clone", "-q", "--depth", "1", "--branch", ref, upstream, str(dest)])
			ctx.run(["git", "-C", str(dest), "checkout", "-q", "-B", branch])
		ctx.chown(dest, recursive=True)
	got = app_version(dest / app / "__init__.py")
	if got != want:
		ctx.say(f"WARNING: {app} {got} found, this project is tested with {want} (config/versions.env)")


def ensure_apps(ctx: Context) -> None:
	v = ctx.versions
	clone_app(ctx, "frappe", v["FRAPPE_UPSTREAM"], v["FRAPPE_REF"], v["FRAPPE_VERSION"])
	clone_app(ctx, "erpnext", v["ERPNEXT_UPSTREAM"], v["ERPNEXT_REF"], v["ERPNEXT_VERSION"])


# ---------------------------------------------------------------- bench layout
def sync_repo(ctx: Context) -> None:
	"""Root only: copy this checkout (minus upstream apps and state) into the bench."""
	if not ctx.is_root:
		return
	ctx.run(rsync_command(ctx.repo, ctx.bench, ctx.bench_user))
	keep_payments_listed(ctx)


def keep_payments_listed(ctx: Context) -> None:
	"""payments, once fetched for ./dms erpnext-tests, stays listed in the bench."""
	if not (ctx.bench / "apps" / "payments" / ".git").is_dir():
		return
	apps_txt = ctx.bench / "sites" / "apps.txt"
	if "payments" in apps_txt.read_text().splitlines():
		return
	ctx.as_bench(
		[
			"bash",
			"-c",
			'[ -z "$(tail -c1 sites/apps.txt)" ] || echo >> sites/apps.txt; echo payments >> sites/apps.txt',
		]
	)


def common_site_config(
	template: dict, bench: Path, user: str, root_password: str, ports: dict[str, int]
) -> dict:
	"""A new bench's common config: the template with this bench's database socket, user and
	Redis and socket.io ports (services.bench_service_ports)."""
	conf = dict(template)
	conf.update(
		{
			"frappe_user": user,
			"db_socket": f"{bench}/db/mysqld.sock",
			"root_login": "root",
			"root_password": root_password,
			"redis_cache": f"redis://127.0.0.1:{ports['redis_cache']}",
			"redis_queue": f"redis://127.0.0.1:{ports['redis_queue']}",
			"redis_socketio": f"redis://127.0.0.1:{ports['redis_queue']}",
			"socketio_port": ports["socketio"],
		}
	)
	return conf


def new_db_password() -> str:
	return re.sub(r"[^A-Za-z0-9]", "", base64.b64encode(os.urandom(18)).decode())


def ensure_layout(ctx: Context) -> None:
	ctx.as_bench(["mkdir", "-p", "logs", "config/pids", "sites", "db", ".stamps", "artifacts"])
	if ctx.is_root:
		# what root left there (the production tests, run as root, write logs of the bench): the
		# bench user's processes must write them again ("cannot create logs/worker.log")
		for folder in ("logs", "config/pids", "artifacts"):
			ctx.chown(ctx.bench / folder, recursive=True)
	path = ctx.bench / "sites" / "common_site_config.json"
	if not path.is_file():
		template = json.loads((ctx.bench / "sites" / "common_site_config.template.json").read_text())
		conf = common_site_config(
			template, ctx.bench, ctx.bench_user, new_db_password(), bench_service_ports(ctx.bench)
		)
		ctx.write_file(path, json.dumps(conf, indent=1, sort_keys=True), private=True)
	secure_site_configs(ctx)


def site_config_files(bench: Path) -> list[Path]:
	"""The bench's files that hold secrets: common_site_config.json (MariaDB's root password) and
	each site's site_config.json (its database password and the encryption key that signs approval
	links and consent evidence and decrypts stored passwords)."""
	sites = bench / "sites"
	paths = [sites / "common_site_config.json", *sorted(sites.glob("*/site_config.json"))]
	return [p for p in paths if p.is_file()]


def secure_site_configs(ctx: Context) -> None:
	"""Those files are the bench user's alone (mode 600): Frappe writes them with the umask's mode,
	readable by every local user."""
	for path in site_config_files(ctx.bench):
		if ctx.is_root:
			ctx.chown(path)
		if path.stat().st_mode & 0o777 != 0o600:
			os.chmod(path, 0o600)


def python_env_key(bench: Path) -> str:
	parts = [bench / "apps" / app / "pyproject.toml" for app in ("frappe", "erpnext", "aftersales_dms")]
	parts += sorted((bench / "config").glob("python-*.txt"))
	return short_hash(b"".join(p.read_bytes() for p in parts))


def ensure_python_env(ctx: Context) -> None:
	key = python_env_key(ctx.bench)
	if ctx.stamp_ok("python", key):
		return
	ctx.say("building the Python environment (uv)")
	if not os.access(ctx.bench / "env" / "bin" / "python", os.X_OK):
		ctx.as_bench(["uv", "venv", "-q", "--seed", "--python", f"/usr/bin/{ctx.python}", "env"])
	ctx.as_bench(
		[
			"uv",
			"pip",
			"install",
			"-q",
			"--python",
			"env/bin/python",
			"--override",
			"config/python-overrides.txt",
			"--constraint",
			"config/python-constraints.txt",
			"-e",
			"apps/frappe",
			"-e",
			"apps/erpnext",
			"-e",
			"apps/aftersales_dms",
			"-r",
			"config/python-dev.txt",
		]
	)
	ctx.stamp_set("python", key)


def node_key(bench: Path) -> str:
	return short_hash(
		b"".join((bench / "apps" / a / "yarn.lock").read_bytes() for a in ("frappe", "erpnext"))
	)


def ensure_node_modules(ctx: Context) -> None:
	key = node_key(ctx.bench)
	if ctx.stamp_ok("node", key):
		return
	mirror = ctx.bench_home / ".cache" / "aftersales-dms" / "yarn-offline-mirror"
	ctx.as_bench(["mkdir", "-p", str(mirror)])
	if ctx.source_dir and (ctx.source_dir / "yarn-offline-mirror").is_dir():
		ctx.run(["rsync", "-a", f"{ctx.source_dir}/yarn-offline-mirror/", f"{mirror}/"])
		ctx.chown(mirror, recursive=True)
	for app in ("frappe", "erpnext"):
		ctx.say(f"installing JS packages of {app} (yarn, offline mirror {mirror})")
		r = ctx.as_bench(
			[
				"bash",
				"-c",
				f"cd apps/{app} && yarn install --frozen-lockfile --non-interactive --silent --network-timeout 120000",
			],
			env={"YARN_YARN_OFFLINE_MIRROR": str(mirror), "YARN_YARN_OFFLINE_MIRROR_PRUNING": "false"},
			check=False,
		)
		if r.returncode != 0:
			ctx.die(
				f"yarn install failed for {app}. Offline? Put the tarballs yarn asks for in {mirror}\n"
				"(or DMS_SOURCE_DIR/yarn-offline-mirror); frappe needs at least "
				"ed37b94d95c68d8544357e330be0c89d044a3eea (frappe/air-datepicker)."
			)
	ctx.stamp_set("node", key)


def public_listing(public: Path) -> bytes:
	"""`find public -type f -printf '%P %s\\n' | sort`: what the built assets depend on."""
	lines = []
	for root, _dirs, files in os.walk(public):
		for name in files:
			p = Path(root) / name
			if p.is_file() and not p.is_symlink():
				lines.append(f"{p.relative_to(public)} {p.lstat().st_size}\n")
	return "".join(sorted(lines)).encode()


def assets_key(ctx: Context) -> str:
	heads = b""
	for app in ("frappe", "erpnext"):
		heads += ctx.as_bench(["git", "-C", f"apps/{app}", "rev-parse", "HEAD"], capture=True).stdout.encode()
	return short_hash(
		heads + public_listing(ctx.bench / "apps" / "aftersales_dms" / "aftersales_dms" / "public")
	)


def ensure_assets(ctx: Context) -> None:
	key = assets_key(ctx)
	if ctx.stamp_ok("assets", key):
		return
	ctx.say("building JS/CSS assets (bench build)")
	log = ctx.bench / "logs" / "build.log"
	# --force: build here, never download
	if ctx.bench_cmd(["build", "--force"], log=log, check=False).returncode != 0:
		tail(log, 30)
		ctx.die(f"bench build failed (log: {log})")
	ctx.stamp_set("assets", key)


def tail(path: Path, n: int) -> None:
	try:
		lines = path.read_text(errors="replace").splitlines()[-n:]
	except OSError:
		return
	print("\n".join(lines), flush=True)


# ---------------------------------------------------------------- all of it
def prepare(ctx: Context, extra_packages=()) -> None:
	"""Everything both README commands need."""
	v = ctx.versions
	ctx.say(
		f"Aftersales DMS — Frappe {v['FRAPPE_VERSION']}, ERPNext {v['ERPNEXT_VERSION']} (config/versions.env)"
	)
	ctx.step("system packages", ctx.ensure_packages, extra_packages)
	ctx.step("bench user", ensure_user, ctx)
	resolve_sources(ctx)
	ctx.say(f"bench: {ctx.bench} (user {ctx.bench_user}); sources: {ctx.source_desc}")
	ctx.step("frappe and erpnext sources", ensure_apps, ctx)
	sync_repo(ctx)
	ctx.step("tools", ensure_tools, ctx)
	ctx.step("layout", ensure_layout, ctx)
	ctx.step("python environment", ensure_python_env, ctx)
	ctx.step("node modules", ensure_node_modules, ctx)
	ctx.step("mariadb", ensure_mariadb, ctx)
	ctx.step("redis", ensure_redis, ctx)
	ctx.step("assets", ensure_assets, ctx)
