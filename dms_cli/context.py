"""Who runs what: the checkout, the bench, the bench user, the settings from DMS_* variables, and
the helpers every command uses (messages, running as the bench user, packages, stamps, MariaDB)."""

from __future__ import annotations

import hashlib
import os
import pwd
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import NoReturn

import click

# the system packages both README commands need: (command that proves it is there, Debian package)
NEEDS = (
	("git", "git"),
	("rsync", "rsync"),
	("curl", "curl"),
	("mariadbd", "mariadb-server"),
	("mariadb", "mariadb-client"),
	("redis-server", "redis-server"),
	("wkhtmltopdf", "wkhtmltopdf"),
	("node", "nodejs"),
	("npm", "npm"),
	("pkg-config", "pkg-config"),
	("cc", "build-essential"),
	("fc-list", "fontconfig"),
	("runuser", "util-linux"),
	("sha1sum", "coreutils"),
	("gpg", "gnupg"),  # backups: encryption
	("file", "file"),  # Frappe's restore detects the file type
)


class DmsError(click.ClickException):
	"""A clear stop: `dms: <message>` in red on standard error, exit code 1 (as `die` did)."""

	exit_code = 1

	def show(self, file=None) -> None:
		click.echo(f"\n\033[31mdms: {self.message}\033[0m", err=True)


def parse_versions(text: str) -> dict[str, str]:
	"""config/versions.env: KEY=VALUE lines (shell syntax without expansions), comments ignored."""
	versions = {}
	for raw in text.splitlines():
		line = raw.strip()
		if not line or line.startswith("#"):
			continue
		m = re.fullmatch(r"(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)", line)
		if not m:
			raise ValueError(f"config/versions.env: not KEY=VALUE: {raw!r}")
		value = m.group(2).strip()
		if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
			value = value[1:-1]
		versions[m.group(1)] = value
	return versions


def checkout_slug(repo: Path | str) -> str:
	"""`<checkout's folder name>-<8 hex of sha1 of its path>`, the name of its bench and CLI venv."""
	repo = str(repo)
	slug = re.sub(r"[^A-Za-z0-9_-]", "_", os.path.basename(repo))
	return f"{slug}-{hashlib.sha1(repo.encode()).hexdigest()[:8]}"


def bench_dir(repo: Path, is_root: bool, bench_user: str, override: str | None = None) -> Path:
	"""As root the bench is materialised in the bench user's home, one per checkout (the user may
	not be able to read the folders above the checkout); otherwise the checkout is the bench."""
	if not is_root:
		return repo
	if override:
		return Path(override)
	return Path(f"/home/{bench_user}/benches/{checkout_slug(repo)}")


def short_hash(data: bytes) -> str:
	"""The stamp keys: the first 16 hex digits of sha1 (as `sha1sum | cut -c1-16`)."""
	return hashlib.sha1(data).hexdigest()[:16]


def find_repo() -> Path:
	"""The checkout: named by the bootstrap (its `pwd`), else the folder holding this package."""
	named = os.environ.pop("_DMS_REPO", "")
	repo = Path(named) if named else Path(os.path.abspath(__file__)).parent.parent
	if not (repo / "config" / "versions.env").is_file():
		raise DmsError(
			f"{repo} is not an Aftersales DMS checkout (no config/versions.env): "
			"install the CLI from a checkout (pip install -e <checkout>) or run its ./dms"
		)
	return repo


class Context:
	"""Everything the commands share. Constructing it touches nothing on the machine."""

	def __init__(
		self, repo: Path | None = None, environ: Mapping[str, str] | None = None, uid: int | None = None
	):
		self.environ = os.environ if environ is None else environ
		env = self.environ
		self.repo = Path(repo) if repo else find_repo()
		t0 = os.environ.pop("_DMS_T0", "") if environ is None else ""
		self.t0 = float(t0) if t0.isdigit() else time.time()
		self.versions = parse_versions((self.repo / "config" / "versions.env").read_text())
		self.python = self.versions.get("PYTHON", "python3.11")
		self.is_root = (os.getuid() if uid is None else uid) == 0
		if self.is_root:
			self.bench_user = env.get("DMS_USER") or "dms"
		else:
			self.bench_user = user_name(os.getuid() if uid is None else uid, env)
		self.bench = bench_dir(self.repo, self.is_root, self.bench_user, env.get("DMS_BENCH_DIR"))
		self.sudo = [] if self.is_root else ["sudo", "-n"]
		self.site = env.get("DMS_SITE") or "dms.localhost"
		self.test_site = env.get("DMS_TEST_SITE") or "dms-test.localhost"
		self.erpnext_only_site = env.get("DMS_ERPNEXT_ONLY_SITE") or "erpnext-only.localhost"
		self.erpnext_dms_site = env.get("DMS_ERPNEXT_DMS_SITE") or "erpnext-dms.localhost"
		self.benchmark_site = env.get("DMS_BENCHMARK_SITE") or "dms-benchmark.localhost"
		self.http_port = env.get("DMS_HTTP_PORT") or "8000"
		self.admin_password = env.get("DMS_ADMIN_PASSWORD") or "admin"
		self._apt_updated = False
		self.source_dir: Path | None = None
		self.source_desc = ""
		self.default_source_cache = Path()

	# ------------------------------------------------------------ who
	@property
	def bench_home(self) -> Path:
		if not self.is_root:
			return Path(self.environ.get("HOME") or os.path.expanduser("~"))
		try:
			return Path(pwd.getpwnam(self.bench_user).pw_dir)
		except KeyError:  # not created yet (ensure_user does)
			return Path("/home") / self.bench_user

	@property
	def tools(self) -> Path:
		"""uv, the bench CLI and yarn 1, in the bench user's home."""
		return self.bench_home / ".local" / "share" / "aftersales-dms" / "tools"

	def env_flag(self, name: str) -> bool:
		return self.environ.get(name, "0") == "1"

	# ------------------------------------------------------------ messages
	def say(self, msg: str) -> None:
		sys.stdout.flush()
		click.echo(f"\033[1m[dms {int(time.time() - self.t0):4d}s]\033[0m {msg}", err=True)

	def die(self, msg: str) -> NoReturn:
		raise DmsError(msg)

	def step(self, name: str, fn: Callable, *args, **kwargs):
		"""Run and time a set-up step."""
		start = time.time()
		result = fn(*args, **kwargs)
		self.say(f"{name} done in {int(time.time() - start)}s")
		return result

	# ------------------------------------------------------------ running things
	@property
	def bench_path_env(self) -> str:
		return f"{self.bench}/env/bin:{self.tools}/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"

	def bench_argv(
		self, args: Iterable[str], env: Mapping[str, str] | None = None
	) -> tuple[list, dict | None]:
		"""The command line and environment that run `args` as the bench user with the bench's PATH.

		Without CI: Frappe reads a set CI as "Frappe's own test run", and its background workers then
		mark emails Sent without talking to SMTP. The bench runs as a dealer's does. Values in `env`
		appear on a command line as root (runuser ... env K=V): never put a secret there."""
		extra = {"PATH": self.bench_path_env, "LANG": "C.UTF-8", **(env or {})}
		if self.is_root:
			argv = [
				"runuser",
				"-u",
				self.bench_user,
				"--",
				"env",
				"-u",
				"CI",
				f"HOME={self.bench_home}",
				f"USER={self.bench_user}",
				*(f"{k}={v}" for k, v in extra.items()),
				*args,
			]
			return argv, None
		proc_env = {k: v for k, v in os.environ.items() if k != "CI"}
		proc_env.update(extra)
		return list(args), proc_env

	def as_bench(
		self,
		args: list[str],
		*,
		check: bool = True,
		capture: bool = False,
		input: str | None = None,
		env: Mapping[str, str] | None = None,
		log: Path | None = None,
		append: bool = False,
		quiet: bool = False,
		silent: bool = False,
	) -> subprocess.CompletedProcess:
		"""Run a command as the bench user, in the bench. `capture`: stdout as text in .stdout;
		`log`: stdout and stderr into that file (owned by the bench user); `quiet`: stdout dropped;
		`silent`: stderr dropped too (stdout as well unless captured).
		A failure with check=True raises CalledProcessError (the CLI reports its exit code)."""
		argv, proc_env = self.bench_argv(args, env)
		sys.stdout.flush()
		sys.stderr.flush()
		stdout = stderr = None
		fh = None
		if log is not None:
			fh = open(log, "a" if append else "w")
			self.chown(log)
			stdout, stderr = fh, subprocess.STDOUT
		elif capture:
			stdout = subprocess.PIPE
		elif quiet or silent:
			stdout = subprocess.DEVNULL
		if silent and log is None:
			stderr = subprocess.DEVNULL
		try:
			r = subprocess.run(
				argv, cwd=self.bench, env=proc_env, input=input, text=True, stdout=stdout, stderr=stderr
			)
		finally:
			if fh:
				fh.close()
		if check and r.returncode != 0:
			raise subprocess.CalledProcessError(r.returncode, list(args), r.stdout, r.stderr)
		return r

	def bench_cmd(self, args: list[str], **kw) -> subprocess.CompletedProcess:
		"""`bench ARGS` as the bench user."""
		return self.as_bench(["bench", *args], **kw)

	def run(self, args: list[str], *, check: bool = True, **kw) -> subprocess.CompletedProcess:
		"""A command as the invoking user (root: root)."""
		sys.stdout.flush()
		sys.stderr.flush()
		return subprocess.run(args, check=check, text=True, **kw)

	def chown(self, path: Path | str, recursive: bool = False) -> None:
		"""As root: give a file that root made to the bench user."""
		if not self.is_root:
			return
		if recursive:
			self.run(["chown", "-R", f"{self.bench_user}:", str(path)])
		else:
			shutil.chown(path, self.bench_user, self.bench_user)

	def write_file(self, path: Path | str, text: str, private: bool = False) -> None:
		"""Write a file as the bench user (atomically; mode 600 when private), content on stdin."""
		umask = "umask 077; " if private else ""
		self.as_bench(["bash", "-c", f'{umask}cat > "$0.new" && mv "$0.new" "$0"', str(path)], input=text)

	# ------------------------------------------------------------ system packages
	def apt_install(self, pkgs: list[str]) -> None:
		if not pkgs:
			return
		if not self.is_root and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode != 0:
			self.die(
				f"missing system packages: {' '.join(pkgs)}\n"
				f"Install them (sudo apt-get install {' '.join(pkgs)}) or run ./dms as root or a sudo-capable user."
			)
		if not shutil.which("apt-get"):
			self.die(
				f"no apt-get: install {' '.join(pkgs)} with your package manager (Debian 12 is the supported system)"
			)
		self.say(f"installing system packages: {' '.join(pkgs)}")
		apt = [*self.sudo, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]
		if not self._apt_updated:
			self.run([*apt, "update", "-qq"])
			self._apt_updated = True
		self.run([*apt, "install", "-y", "-qq", "--no-install-recommends", *pkgs], stdout=subprocess.DEVNULL)

	@staticmethod
	def have_command(cmd: str) -> bool:
		path = os.environ.get("PATH", "/usr/bin:/bin")
		return bool(shutil.which(cmd, path=path) or shutil.which(cmd, path=f"{path}:/usr/sbin:/sbin"))

	@staticmethod
	def have_deb(pkg: str) -> bool:
		return subprocess.run(["dpkg", "-s", pkg], capture_output=True).returncode == 0

	def missing_packages(self, extra: Iterable[tuple[str, str]] = ()) -> list[str]:
		missing = []
		for cmd, pkg in (*NEEDS, (self.python, f"{self.python}-dev"), *extra):
			if not self.have_command(cmd) and pkg not in missing:
				missing.append(pkg)
		# python venv module and libraries loaded at run time (WeasyPrint, fonts)
		py = Path("/usr/bin") / self.python
		if (
			not py.exists()
			or subprocess.run([py, "-c", "import venv, ensurepip"], capture_output=True).returncode
		):
			missing.append(f"{self.python}-venv")
		if not self.have_deb("libpango-1.0-0"):
			missing += ["libpango-1.0-0", "libpangoft2-1.0-0", "libcairo2"]
		if not self.have_deb("fonts-liberation"):
			missing.append("fonts-liberation")
		return missing

	def ensure_packages(self, extra: Iterable[tuple[str, str]] = ()) -> None:
		self.apt_install(self.missing_packages(extra))
		out = self.run(["node", "-p", 'process.versions.node.split(".")[0]'], capture_output=True).stdout
		major = int(out.strip() or 0)
		if major < 18:
			self.die(f"Node.js {major} found; Frappe 15 needs Node.js 18 or newer")

	# ------------------------------------------------------------ stamps
	def stamp_path(self, name: str) -> Path:
		return self.bench / ".stamps" / name

	def stamp_ok(self, name: str, value: str) -> bool:
		try:
			return self.stamp_path(name).read_text() == value
		except OSError:
			return False

	def stamp_set(self, name: str, value: str) -> None:
		self.write_file(self.stamp_path(name), value)

	# ------------------------------------------------------------ MariaDB of this bench
	# The root password never goes on a command line (other users see those in ps): the clients
	# read it from db/root.cnf (mode 600, the bench user's), bench from common_site_config.json.
	def db_root_password(self) -> str:
		return self.common_site_config()["root_password"]

	def common_site_config(self) -> dict:
		"""The bench's sites/common_site_config.json (services' ports, the database's root password)."""
		import json

		return json.loads((self.bench / "sites" / "common_site_config.json").read_text())

	def mysql_root(
		self, sql: str, *, initial: bool = False, check: bool = True
	) -> subprocess.CompletedProcess:
		"""SQL on standard input as MariaDB's root (db/root.cnf; `initial`: the password-less root
		of a fresh data directory, db/my.cnf). Returns the completed client, stdout captured."""
		defaults = "db/my.cnf" if initial else "db/root.cnf"
		args = ["mariadb", f"--defaults-file={defaults}"] + (["-uroot"] if initial else [])
		return self.as_bench(args, input=sql, capture=True, check=check)

	def mysql_admin(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
		"""mariadb-admin as MariaDB's root (db/root.cnf), its output dropped."""
		return self.as_bench(
			["mariadb-admin", "--defaults-file=db/root.cnf", *args], check=check, silent=True
		)

	# ------------------------------------------------------------ processes of a bench
	def stop_bench_processes(self, bench: Path | None = None) -> None:
		"""Stop what the pid files of a bench name (its process group first)."""
		b = Path(bench or self.bench)
		pids = [*sorted((b / "config" / "pids").glob("*.pid")), b / "db" / "mysqld.pid"]
		for f in pids:
			if not f.is_file():
				continue
			try:
				pid = int(f.read_text().strip())
			except (OSError, ValueError):
				pid = 0
			if pid > 0 and _alive(pid):
				try:
					os.killpg(pid, signal.SIGTERM)
				except OSError:
					try:
						os.kill(pid, signal.SIGTERM)
					except OSError:
						pass
			try:
				f.unlink()
			except OSError:
				pass


def user_name(uid: int, env: Mapping[str, str]) -> str:
	try:
		return pwd.getpwuid(uid).pw_name
	except KeyError:  # a uid without a passwd entry (containers)
		return env.get("USER") or str(uid)


def exit_status(returncode: int) -> int:
	"""A child's return code as a shell reports it: killed by signal N is 128+N, never 0."""
	if returncode < 0:
		return 128 - returncode
	return returncode or 1


def _alive(pid: int) -> bool:
	try:
		os.kill(pid, 0)
	except PermissionError:
		return True
	except OSError:
		return False
	return True


def describe(cmd) -> str:
	return shlex.join(str(c) for c in cmd) if isinstance(cmd, list | tuple) else str(cmd)
