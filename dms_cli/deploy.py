"""`./dms deploy`: this bench served as production on one machine, and the production part of
`./dms status`.

What runs (Debian's packages, as a dealer's IT installs them):

- supervisor (`/etc/supervisor/conf.d/<bench name>.conf`): the bench's own MariaDB and Redis,
  gunicorn, Frappe's socket.io server, the scheduler and the RQ workers — program and group names,
  commands and logs as `bench setup supervisor` writes them (config/production/supervisor.conf.in);
- nginx (`/etc/nginx/conf.d/<bench name>.conf`): HTTPS in front of gunicorn and socket.io, /assets
  and public files from disk, HTTP redirected to HTTPS — the server block of `bench setup nginx`
  for a site with `ssl_certificate`/`ssl_certificate_key` in its site config, on ports of our
  choosing (config/production/nginx.conf.in).

bench's own generators are not called: `bench setup nginx` puts HTTPS on 443 and the redirect on
80 and nothing else (a test beside a real deployment needs other ports), neither generator knows
a bench's own MariaDB, both overwrite their files unconditionally (a re-run here writes only what
changed and reloads only what it wrote), and `bench setup production` installs ansible and
fail2ban and edits supervisord.conf. The templates mirror bench's files otherwise, and the bench's
config says what bench would read: `ssl_certificate`, `ssl_certificate_key` and `host_name` in the
site config, `webserver_port`, `socketio_port`, `gunicorn_workers`, `background_workers` and the
Redis URLs in common_site_config.json.

What the deployment chose (host, site, ports, certificate, configuration file) is kept in
`/etc/aftersales-dms/<bench name>/deploy.json`: a re-run without options deploys the same again.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import click
import tomllib

from . import sites
from .context import Context, DmsError, short_hash
from .services import conf_redis_port, ensure_mariadb, ensure_redis, redis_up
from .setup import prepare

ETC = Path("/etc/aftersales-dms")
SUPERVISOR_DIR = Path("/etc/supervisor/conf.d")
SUPERVISORD_CONF = Path("/etc/supervisor/supervisord.conf")
NGINX_DIR = Path("/etc/nginx/conf.d")
TEMPLATES = Path("config") / "production"
# gunicorn and socket.io listen on loopback ports below the ephemeral range and away from the
# development servers of `./dms up` (8000, 9000); the first free one is taken and recorded
WEB_PORTS = range(18000, 19000)
SOCKETIO_PORTS = range(19000, 20000)
PACKAGES = (("nginx", "nginx"), ("supervisord", "supervisor"), ("openssl", "openssl"))
MAX_REQUESTS = 5000  # bench's DEFAULT_MAX_REQUESTS; the jitter is a tenth, as bench computes it
HTTP_TIMEOUT = 120  # bench's default http_timeout (gunicorn -t, nginx proxy_read_timeout)
CERT_DAYS = 825
# a clean environment for the system services we start when no systemd does it (the caller's CI
# variable would reach every program: Frappe takes a set CI for its own test run)
SERVICE_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
HOST_RE = re.compile(
	r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


@dataclass
class Deployment:
	"""What is deployed: the options of `./dms deploy` once resolved."""

	host: str
	site: str
	https_port: int = 443
	http_port: int = 80
	web_port: int = 0
	socketio_port: int = 0
	redis_cache_port: int = 0
	redis_queue_port: int = 0
	gunicorn_workers: int = 0
	background_workers: int = 1
	cert: str = ""
	key: str = ""
	self_signed: bool = True
	config: str = ""

	@property
	def url(self) -> str:
		return f"https://{self.host}" + ("" if self.https_port == 443 else f":{self.https_port}")

	@classmethod
	def from_dict(cls, data: dict) -> Deployment:
		names = {f.name for f in fields(cls)}
		return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class Names:
	"""Where a bench's deployment lives; `name` is bench's bench name (the bench folder's name)."""

	bench: Path
	name: str = ""
	state_dir: Path = field(default=Path())
	supervisor_conf: Path = field(default=Path())
	nginx_conf: Path = field(default=Path())

	def __post_init__(self):
		self.name = self.name or self.bench.name
		self.state_dir = ETC / self.name
		self.supervisor_conf = SUPERVISOR_DIR / f"{self.name}.conf"
		self.nginx_conf = NGINX_DIR / f"{self.name}.conf"

	@property
	def state_file(self) -> Path:
		return self.state_dir / "deploy.json"

	@property
	def ssl_dir(self) -> Path:
		return self.state_dir / "ssl"

	@property
	def trust_file(self) -> Path:
		"""A copy of the served certificate (chain) for socket.io's NODE_EXTRA_CA_CERTS, readable by
		the bench user wherever the dealer keeps the original."""
		return self.ssl_dir / "socketio-trust.pem"

	@property
	def groups(self) -> list[str]:
		return [f"{self.name}-{g}" for g in ("db", "redis", "web", "workers")]

	def program(self, group: str, program: str) -> str:
		"""`supervisorctl` name of a program, e.g. program("workers", "frappe-short-worker-0")."""
		return f"{self.name}-{group}:{self.name}-{program}"


def deployment_of(bench: Path) -> Names | None:
	"""The deployment of `bench` when `./dms deploy` serves it (its recorded state), else None."""
	names = Names(bench)
	return names if names.state_file.is_file() else None


def supervisorctl(*args: str) -> subprocess.CompletedProcess:
	"""`supervisorctl` of Debian's supervisord (its configuration named, so no other is found first)."""
	return subprocess.run(
		["supervisorctl", "-c", str(SUPERVISORD_CONF), *args], capture_output=True, text=True
	)


# ---------------------------------------------------------------- pure parts (unit tested)
def default_gunicorn_workers(cpus: int) -> int:
	"""bench's rule: two per core plus one."""
	return max(1, cpus) * 2 + 1


def render(template: str, values: dict[str, object]) -> str:
	"""Replace every @NAME@; a placeholder without a value, or a value without a placeholder, is a
	mistake in the template or the caller."""
	used = set(re.findall(r"@([A-Z_]+)@", template))
	missing, unused = used - set(values), set(values) - used
	if missing or unused:
		raise ValueError(f"template placeholders: missing {sorted(missing)}, unused {sorted(unused)}")
	return re.sub(r"@([A-Z_]+)@", lambda m: str(values[m.group(1)]), template)


def supervisor_env(bench: Path, user: str, home: Path, tools: Path) -> str:
	path = f"{bench}/env/bin:{tools}/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
	env = {"HOME": str(home), "USER": user, "LOGNAME": user, "PATH": path, "LANG": "C.UTF-8"}
	return ",".join(f'{k}="{v}"' for k, v in env.items())


def supervisor_conf(template: str, d: Deployment, names: Names, *, user: str, home: Path, tools: Path) -> str:
	bench = names.bench
	max_requests = MAX_REQUESTS if d.gunicorn_workers > 1 else 0  # bench: no restarts with one worker
	return render(
		template,
		{
			"NAME": names.name,
			"BENCH": bench,
			"USER": user,
			"ENV": supervisor_env(bench, user, home, tools),
			"MARIADBD": shutil.which("mariadbd", path="/usr/sbin:/usr/bin:/sbin:/bin")
			or "/usr/sbin/mariadbd",
			"REDIS_SERVER": shutil.which("redis-server", path="/usr/bin:/bin:/usr/sbin")
			or "/usr/bin/redis-server",
			"REDIS_CACHE_PORT": d.redis_cache_port,
			"REDIS_QUEUE_PORT": d.redis_queue_port,
			"WEB_PORT": d.web_port,
			"SOCKETIO_PORT": d.socketio_port,
			"GUNICORN_WORKERS": d.gunicorn_workers,
			"MAX_REQUESTS": max_requests,
			"MAX_REQUESTS_JITTER": int(max_requests * 0.1),
			"HTTP_TIMEOUT": HTTP_TIMEOUT,
			"BACKGROUND_WORKERS": d.background_workers,
			"BENCH_CMD": tools / "bin" / "bench",
			"CERT": names.trust_file,
		},
	)


def nginx_conf(template: str, d: Deployment, names: Names) -> str:
	return render(
		template,
		{
			"NAME": names.name,
			"LOG_FORMAT": re.sub(r"[^A-Za-z0-9_]", "_", names.name) + "_log",
			"BENCH": names.bench,
			"SITE": d.site,
			"HOST": d.host,
			"HTTPS_PORT": d.https_port,
			"HTTP_PORT": d.http_port,
			"HTTPS_SUFFIX": "" if d.https_port == 443 else f":{d.https_port}",
			"WEB_PORT": d.web_port,
			"SOCKETIO_PORT": d.socketio_port,
			"CERT": d.cert,
			"KEY": d.key,
			"HTTP_TIMEOUT": HTTP_TIMEOUT,
			# browsers refuse to let a user past a certificate warning on an HSTS host: only with
			# the dealer's own certificate
			"HSTS": (
				"# no Strict-Transport-Security: the certificate is self-signed"
				if d.self_signed
				else 'add_header Strict-Transport-Security "max-age=63072000; includeSubDomains";'
			),
		},
	)


def valid_host(host: str) -> bool:
	try:
		socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
		return True
	except OSError:
		return bool(HOST_RE.match(host)) and not host.replace(".", "").isdigit()


def resolve(
	opts: dict, previous: Deployment | None, *, cpus: int, redis_ports: tuple[int, int], free_port
) -> Deployment:
	"""The deployment asked for: each option given, else what was deployed before, else its default.
	`free_port(ports)` picks a free port of a range (gunicorn, socket.io)."""
	prev = asdict(previous) if previous else {}

	def pick(key, default):
		value = opts.get(key)
		if value not in (None, ""):
			return value
		return prev[key] if prev.get(key) not in (None, "", 0) else default

	cert, key = opts.get("cert"), opts.get("key")
	if bool(cert) != bool(key):
		raise DmsError("./dms deploy: --cert and --key go together (the certificate and its private key)")
	host = pick("host", None)
	if not host:
		raise DmsError(
			"./dms deploy: which host name is the desk served under? (--host NAME, e.g. --host service.dealer.example)"
		)
	if not valid_host(host):
		raise DmsError(f"./dms deploy: '{host}' is not a host name or IP address (--host)")
	site = pick("site", host)
	if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", site):
		raise DmsError(f"./dms deploy: '{site}' is not a site name (--site)")
	if cert and opts.get("self_signed"):
		raise DmsError("./dms deploy: --self-signed or --cert/--key, not both")
	if cert:
		self_signed, cert, key = False, str(Path(cert).resolve()), str(Path(key).resolve())
	elif previous and not previous.self_signed and not opts.get("self_signed"):
		self_signed, cert, key = False, previous.cert, previous.key
	else:
		self_signed, cert, key = True, "", ""  # made (or kept) by ensure_certificate
	d = Deployment(
		host=host,
		site=site,
		https_port=int(pick("https_port", 443)),
		http_port=int(pick("http_port", 80)),
		web_port=int(pick("web_port", 0)),
		socketio_port=int(pick("socketio_port", 0)),
		redis_cache_port=int(pick("redis_cache_port", redis_ports[0])),
		redis_queue_port=int(pick("redis_queue_port", redis_ports[1])),
		gunicorn_workers=int(pick("gunicorn_workers", default_gunicorn_workers(cpus))),
		background_workers=int(pick("background_workers", 1)),
		cert=cert,
		key=key,
		self_signed=self_signed,
		config=str(Path(opts["config"]).resolve()) if opts.get("config") else prev.get("config", ""),
	)
	taken = {d.https_port, d.http_port, d.redis_cache_port, d.redis_queue_port}
	if not d.web_port:
		d.web_port = free_port([p for p in WEB_PORTS if p not in taken])
	taken.add(d.web_port)
	if not d.socketio_port:
		d.socketio_port = free_port([p for p in SOCKETIO_PORTS if p not in taken])
	ports = {
		"--https-port": d.https_port,
		"--http-port": d.http_port,
		"--web-port": d.web_port,
		"--socketio-port": d.socketio_port,
		"--redis-cache-port": d.redis_cache_port,
		"--redis-queue-port": d.redis_queue_port,
	}
	for option, port in ports.items():
		if not 0 < port < 65536:
			raise DmsError(f"./dms deploy: {option} {port} is not a port (1-65535)")
	if len(set(ports.values())) != len(ports):
		raise DmsError(
			f"./dms deploy: two services on one port: {', '.join(f'{k} {v}' for k, v in ports.items())}"
		)
	if d.gunicorn_workers < 1 or d.background_workers < 1:
		raise DmsError("./dms deploy: --gunicorn-workers and --background-workers need at least 1")
	return d


def _secret(value, where: str, base: Path) -> str:
	"""A value, or {file = PATH}: the file's content (one trailing newline dropped)."""
	if isinstance(value, str | int | float) and not isinstance(value, bool):
		return str(value)
	if isinstance(value, dict) and set(value) == {"file"} and isinstance(value["file"], str):
		return read_secret(value["file"], where, base)
	raise DmsError(f'config: {where} must be a text or {{file = "/path"}}')


def read_secret(path: str, where: str, base: Path) -> str:
	p = Path(path) if os.path.isabs(path) else base / path
	try:
		text = p.read_text()
	except OSError as e:
		raise DmsError(f"config: {where}: cannot read {p}: {e.strerror}") from e
	text = text[:-1] if text.endswith("\n") else text
	if not text:
		raise DmsError(f"config: {where}: {p} is empty")
	return text


SMTP_KEYS = {"server", "port", "security", "login", "password_file", "sender", "account_name"}
SMS_KEYS = {
	"gateway_url",
	"message_parameter",
	"receiver_parameter",
	"use_post",
	"reference_parameter",
	"parameters",
	"headers",
}
SITE_KEYS = {"admin_password_file"}


def parse_config(path: Path) -> tuple[dict, str | None]:
	"""The production configuration file (TOML, or JSON when it ends in .json): the settings for
	`bench dms-production-settings` with every secret read from its file, and the Administrator
	password for a site that deploy creates (None: generate one). Checks names and types; the
	site checks the values again when it applies them."""
	try:
		raw = path.read_bytes()
	except OSError as e:
		raise DmsError(f"config: cannot read {path}: {e.strerror}") from e
	try:
		data = json.loads(raw) if path.suffix == ".json" else tomllib.loads(raw.decode())
	except (ValueError, UnicodeDecodeError) as e:
		raise DmsError(
			f"config: {path} is not valid {'JSON' if path.suffix == '.json' else 'TOML'}: {e}"
		) from e
	if not isinstance(data, dict):
		raise DmsError(f"config: {path} must hold a table (sections smtp, sms, site)")
	unknown = set(data) - {"smtp", "sms", "site"}
	if unknown:
		raise DmsError(f"config: unknown section(s) {', '.join(sorted(unknown))} (known: smtp, sms, site)")
	base = path.parent
	settings: dict = {}
	for section, known in (("smtp", SMTP_KEYS), ("sms", SMS_KEYS), ("site", SITE_KEYS)):
		if section in data and not isinstance(data[section], dict):
			raise DmsError(f"config: [{section}] must be a table")
		bad = set(data.get(section, {})) - known
		if bad:
			raise DmsError(
				f"config: unknown key(s) in [{section}]: {', '.join(sorted(bad))} (known: {', '.join(sorted(known))})"
			)
	if "smtp" in data:
		smtp = dict(data["smtp"])
		password_file = smtp.pop("password_file", None)
		if password_file is not None and not isinstance(password_file, str):
			raise DmsError("config: [smtp] password_file must be a path")
		if bool(smtp.get("login")) != bool(password_file):
			raise DmsError(
				"config: [smtp] login and password_file go together (give both, or neither for a relay without login)"
			)
		if password_file:
			smtp["password"] = read_secret(password_file, "[smtp] password_file", base)
		settings["smtp"] = smtp
	if "sms" in data:
		sms = dict(data["sms"])
		rows = []
		for key, header in (("parameters", False), ("headers", True)):
			table = sms.pop(key, {}) or {}
			if not isinstance(table, dict):
				raise DmsError(f"config: [sms.{key}] must be a table of name = value")
			for name, value in table.items():
				rows.append(
					{
						"parameter": name,
						"value": _secret(value, f"[sms.{key}] {name}", base),
						"header": header,
					}
				)
		sms["parameters"] = rows
		settings["sms"] = sms
	admin_password = None
	if data.get("site", {}).get("admin_password_file"):
		admin_password = read_secret(data["site"]["admin_password_file"], "[site] admin_password_file", base)
	return settings, admin_password


def world_readable(path: Path) -> bool:
	try:
		return bool(path.stat().st_mode & 0o004)
	except OSError:
		return False


def status_line(line: str) -> tuple[str, str, str] | None:
	"""`supervisorctl status` line -> (name, state, detail)."""
	parts = line.split(None, 2)
	if len(parts) < 2:
		return None
	return parts[0], parts[1], parts[2] if len(parts) > 2 else ""


def code_key(bench: Path) -> str:
	"""What the running processes loaded: frappe's and erpnext's commits and our app's files."""
	h = []
	for app in ("frappe", "erpnext"):
		head = bench / "apps" / app / ".git" / "HEAD"
		try:
			ref = head.read_text().strip()
			if ref.startswith("ref: "):
				ref_file = bench / "apps" / app / ".git" / ref[5:]
				ref = ref_file.read_text().strip() if ref_file.exists() else ref
		except OSError:
			ref = ""
		h.append(f"{app} {ref}\n".encode())
	for stamp in ("python", "assets"):  # the Python environment and the built assets
		try:
			h.append(f"{stamp} ".encode() + (bench / ".stamps" / stamp).read_bytes() + b"\n")
		except OSError:
			pass
	app_dir = bench / "apps" / "aftersales_dms"
	for root, dirs, files in os.walk(app_dir):
		dirs[:] = sorted(d for d in dirs if d not in ("__pycache__", "node_modules", "dist", ".git"))
		for name in sorted(files):
			p = Path(root) / name
			try:
				h.append(str(p.relative_to(app_dir)).encode() + b"\0" + p.read_bytes())
			except OSError:
				pass
	return short_hash(b"".join(h))


# ---------------------------------------------------------------- the machine
def listeners(port: int) -> list[int]:
	"""pids listening on TCP `port` (any address), from /proc."""
	inodes = set()
	for table in ("/proc/net/tcp", "/proc/net/tcp6"):
		try:
			lines = Path(table).read_text().splitlines()[1:]
		except OSError:
			continue
		for line in lines:
			cols = line.split()
			if len(cols) > 9 and cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
				inodes.add(cols[9])
	pids = []
	if not inodes:
		return pids
	for proc in Path("/proc").iterdir():
		if not proc.name.isdigit():
			continue
		try:
			for fd in (proc / "fd").iterdir():
				target = os.readlink(fd)
				if target.startswith("socket:[") and target[8:-1] in inodes:
					pids.append(int(proc.name))
					break
		except OSError:
			continue
	return pids


def process_info(pid: int) -> tuple[str, str, str]:
	"""(command name, command line, cwd) of a process ('' when gone)."""
	try:
		comm = Path(f"/proc/{pid}/comm").read_text().strip()
		cmdline = (
			Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
		)
		cwd = os.readlink(f"/proc/{pid}/cwd")
	except OSError:
		return "", "", ""
	return comm, cmdline, cwd


def port_free(port: int) -> bool:
	for family, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET, "0.0.0.0")):
		with socket.socket(family, socket.SOCK_STREAM) as s:
			s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
			try:
				s.bind((addr, port))
			except OSError:
				return False
	return not listeners(port)


def first_free(ports, other_deployments: set[int]) -> int:
	for p in ports:
		if p not in other_deployments and port_free(p):
			return p
	raise DmsError(
		f"./dms deploy: no free port in {ports[0]}-{ports[-1]}; name one (--web-port / --socketio-port)"
	)


def has_systemd() -> bool:
	return Path("/run/systemd/system").is_dir()


class Deployer:
	def __init__(self, ctx: Context):
		self.ctx = ctx
		self.names = Names(ctx.bench)
		self.changed: list[str] = []

	# ------------------------------------------------------------ state
	def load_state(self) -> dict:
		try:
			return json.loads(self.names.state_file.read_text())
		except (OSError, ValueError):
			return {}

	def save_state(self, state: dict) -> None:
		self.write_root(
			self.names.state_file, json.dumps(state, indent=1, sort_keys=True) + "\n", 0o600, quiet=True
		)

	def other_deployments_ports(self) -> set[int]:
		ports: set[int] = set()
		for f in ETC.glob("*/deploy.json"):
			if f.parent.name == self.names.name:
				continue
			try:
				d = json.loads(f.read_text()).get("deployment", {})
			except (OSError, ValueError):
				continue
			ports |= {v for k, v in d.items() if k.endswith("_port") and isinstance(v, int)}
		return ports

	# ------------------------------------------------------------ files
	def write_root(self, path: Path, text: str, mode: int = 0o644, quiet: bool = False) -> bool:
		"""Write a root-owned file only when its content differs; True when written."""
		try:
			if path.read_text() == text:
				if not quiet:
					self.ctx.say(f"{path}: unchanged")
				return False
		except OSError:
			pass
		path.parent.mkdir(parents=True, exist_ok=True)
		tmp = path.with_name(path.name + ".new")
		fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
		with os.fdopen(fd, "w") as f:
			f.write(text)
		os.chmod(tmp, mode)
		os.replace(tmp, path)
		if not quiet:
			self.ctx.say(f"{path}: written")
			self.changed.append(str(path))
		return True

	def update_json(self, path: Path, set_keys: dict, drop_keys: list[str] = ()) -> list[str]:
		"""Set (and drop) keys of a bench JSON config file as the bench user; returns what changed."""
		conf = json.loads(path.read_text())
		changed = [k for k, v in set_keys.items() if conf.get(k) != v] + [k for k in drop_keys if k in conf]
		if changed:
			conf.update(set_keys)
			for k in drop_keys:
				conf.pop(k, None)
			self.ctx.write_file(path, json.dumps(conf, indent=1, sort_keys=True))
			self.ctx.say(f"{path}: {', '.join(changed)} updated")
			self.changed.append(f"{path.name} ({', '.join(changed)})")
		return changed

	# ------------------------------------------------------------ services
	def supervisorctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
		r = supervisorctl(*args)
		if check and r.returncode not in (0, 3):  # 3: status with a program not running
			self.ctx.die(f"supervisorctl {' '.join(args)} failed: {(r.stdout + r.stderr).strip()}")
		return r

	def supervisord_running(self) -> bool:
		r = supervisorctl("pid")
		return r.returncode == 0 and r.stdout.strip().isdigit()

	def start_service(self, service: str) -> None:
		"""Start a Debian service: through systemd where it is PID 1 (enabled for boot too), else its
		init script, in a clean environment."""
		if has_systemd():
			self.ctx.run(["systemctl", "enable", "--now", service], capture_output=True)
			self.ctx.say(f"{service}: started and enabled (systemd)")
			return
		r = subprocess.run(
			[f"/etc/init.d/{service}", "start"], env=SERVICE_ENV, capture_output=True, text=True
		)
		if r.returncode != 0:
			self.ctx.die(
				f"{service} did not start (/etc/init.d/{service} start): {(r.stdout + r.stderr).strip()}"
			)
		self.ctx.say(
			f"{service} was not running: started it with /etc/init.d/{service} (no systemd on this machine; "
			"on a host with systemd its Debian unit starts it on boot)"
		)

	def ensure_supervisord(self) -> None:
		if self.supervisord_running():
			return
		self.start_service("supervisor")
		for _ in range(40):
			if self.supervisord_running():
				return
			time.sleep(0.25)
		self.ctx.die(
			"supervisord did not answer after starting it (log: /var/log/supervisor/supervisord.log)"
		)

	def program_pids(self) -> dict[str, tuple[str, int]]:
		"""Our programs as supervisor knows them: name -> (state, pid)."""
		r = self.supervisorctl("status", *(f"{g}:" for g in self.names.groups), check=False)
		out = {}
		for line in r.stdout.splitlines():
			parsed = status_line(line)
			if parsed and parsed[0].startswith(self.names.name):
				m = re.search(r"pid (\d+)", parsed[2])
				out[parsed[0]] = (parsed[1], int(m.group(1)) if m else 0)
		return out

	def nginx_running(self) -> bool:
		try:
			pid = int(Path("/run/nginx.pid").read_text().strip())
			os.kill(pid, 0)
			return process_info(pid)[0] == "nginx"
		except (OSError, ValueError):
			return False

	# ------------------------------------------------------------ steps
	def check_ports(self, d: Deployment, supervised: dict) -> None:
		"""Every port free, or held by what this deployment runs (nginx for HTTP/HTTPS, our
		programs or this bench's own Redis for the rest)."""
		ours = {pid for _state, pid in supervised.values() if pid}
		for option, port in (("--https-port", d.https_port), ("--http-port", d.http_port)):
			for pid in listeners(port):
				comm = process_info(pid)[0]
				if comm != "nginx":
					self.ctx.die(
						f"port {port} is in use by {comm or '?'} (pid {pid}): stop it or choose another ({option})"
					)
		for option, port in (
			("--web-port", d.web_port),
			("--socketio-port", d.socketio_port),
			("--redis-cache-port", d.redis_cache_port),
			("--redis-queue-port", d.redis_queue_port),
		):
			for pid in listeners(port):
				comm, _cmdline, cwd = process_info(pid)
				# supervisor's pid, or a child of it (gunicorn's workers share the socket), or the
				# Redis ./dms started for this bench (handed to supervisor below)
				if pid in ours or cwd == str(self.ctx.bench) or cwd.startswith(f"{self.ctx.bench}/"):
					continue
				where = f"{comm} (pid {pid}, {cwd})" if cwd else f"pid {pid}"
				self.ctx.die(
					f"port {port} is in use by {where}, not by this bench's deployment: "
					f"stop it or choose another ({option})"
				)

	def dev_redis_pid(self, port: int) -> int:
		"""The pid of this bench's development Redis (started by ./dms) when it serves `port`."""
		for name in ("cache", "queue"):
			f = self.ctx.bench / "config" / "pids" / f"redis_{name}.pid"
			try:
				pid = int(f.read_text().strip())
			except (OSError, ValueError):
				continue
			if pid in listeners(port):
				return pid
		return 0

	def stop_dev_processes(self, d: Deployment, supervised: dict) -> None:
		"""`./dms up`'s processes of this bench: `bench start` (web, socketio, worker, scheduler and
		the demo's mail and SMS sinks), and MariaDB and Redis when supervisor is to run them."""
		pidfile = self.ctx.bench / "config" / "pids" / "bench-start.pid"
		if pidfile.is_file():
			try:
				pid = int(pidfile.read_text().strip())
				os.killpg(pid, signal.SIGTERM)
				self.ctx.say(f"stopped this bench's development processes (bench start, pid {pid})")
				self.changed.append("development processes stopped")
				time.sleep(2)
			except (OSError, ValueError):
				pass
			pidfile.unlink(missing_ok=True)
		mariadb = supervised.get(f"{self.names.name}-db:{self.names.name}-mariadb", ("", 0))
		if mariadb[0] != "RUNNING" and self.ctx.mysql_admin("ping", check=False).returncode == 0:
			self.ctx.say("handing this bench's MariaDB to supervisor (stopping the one ./dms started)")
			self.ctx.mysql_admin("shutdown", check=False)
			sock = self.ctx.bench / "db" / "mysqld.sock"
			for _ in range(120):
				if not sock.exists():
					break
				time.sleep(0.5)
			else:
				self.ctx.die(f"this bench's MariaDB did not stop (socket {sock} still there)")
		for port in (d.redis_cache_port, d.redis_queue_port):
			pid = self.dev_redis_pid(port)
			if pid:
				self.ctx.say(f"handing this bench's Redis on port {port} to supervisor (stopping pid {pid})")
				os.kill(pid, signal.SIGTERM)
				for _ in range(40):
					if pid not in listeners(port):
						break
					time.sleep(0.25)

	def ensure_certificate(self, d: Deployment) -> None:
		if not d.self_signed:
			for what, path in (("certificate", d.cert), ("key", d.key)):
				if not Path(path).is_file():
					self.ctx.die(f"the {what} {path} does not exist (--cert/--key)")
			cert_pub = subprocess.run(
				["openssl", "x509", "-in", d.cert, "-noout", "-pubkey"], capture_output=True, text=True
			)
			key_pub = subprocess.run(
				["openssl", "pkey", "-in", d.key, "-pubout"], capture_output=True, text=True
			)
			if cert_pub.returncode != 0:
				self.ctx.die(f"{d.cert} is not a PEM certificate: {cert_pub.stderr.strip()}")
			if key_pub.returncode != 0:
				self.ctx.die(
					f"{d.key} is not a PEM private key (or needs a passphrase): {key_pub.stderr.strip()}"
				)
			if cert_pub.stdout.strip() != key_pub.stdout.strip():
				self.ctx.die(f"the key {d.key} does not belong to the certificate {d.cert}")
			check = subprocess.run(
				[
					"openssl",
					"x509",
					"-in",
					d.cert,
					"-noout",
					"-checkhost" if not is_ip(d.host) else "-checkip",
					d.host,
				],
				capture_output=True,
				text=True,
			)
			if "does match" not in check.stdout:
				self.ctx.say(
					f"WARNING: the certificate {d.cert} is not for {d.host}: browsers will refuse it"
				)
			self.ctx.say(f"certificate: the dealer's, {d.cert}")
			return
		ssl_dir = self.names.ssl_dir
		d.cert, d.key = str(ssl_dir / f"{d.host}.crt"), str(ssl_dir / f"{d.host}.key")
		valid = (
			Path(d.cert).is_file()
			and Path(d.key).is_file()
			and subprocess.run(
				["openssl", "x509", "-in", d.cert, "-noout", "-checkend", str(30 * 86400)],
				capture_output=True,
			).returncode
			== 0
		)
		if valid:
			self.ctx.say(f"certificate: self-signed for {d.host}, {d.cert} (unchanged)")
			return
		ssl_dir.mkdir(parents=True, exist_ok=True)
		os.chmod(
			ssl_dir, 0o755
		)  # the certificate is read by socket.io too (the bench user); the key is root's
		san = f"IP:{d.host}" if is_ip(d.host) else f"DNS:{d.host}"
		r = subprocess.run(
			[
				"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256",
				"-days", str(CERT_DAYS), "-subj", f"/CN={d.host}", "-addext", f"subjectAltName={san}",
				"-keyout", d.key, "-out", d.cert,
			],
			capture_output=True,
			text=True,
		)  # fmt: skip
		if r.returncode != 0:
			self.ctx.die(f"openssl could not make a certificate for {d.host}: {r.stderr.strip()}")
		os.chmod(d.key, 0o600)
		os.chmod(d.cert, 0o644)
		self.changed.append("self-signed certificate")
		self.ctx.say(
			f"certificate: generated a SELF-SIGNED one for {d.host} ({d.cert}, {CERT_DAYS} days): browsers "
			"warn until it is trusted; give the dealer's with --cert FILE --key FILE"
		)

	def ensure_site(self, d: Deployment, admin_password: str | None, demo: bool) -> str | None:
		"""Create the site when missing (ERPNext and our app, no demo data unless --demo), migrate it
		when the app changed; returns the new Administrator password's file when one was made."""
		ctx, site = self.ctx, d.site
		password_file = None
		if not sites.site_exists(ctx, site):
			if (ctx.bench / "sites" / site).exists():
				ctx.die(
					f"{ctx.bench}/sites/{site} exists but was not made by ./dms: remove it or choose another --site"
				)
			# bench new-site takes the password as an argument: a throwaway one, replaced below
			# through standard input
			ctx.admin_password = secrets.token_urlsafe(18)
			ctx.say(
				f"creating site {site} with ERPNext and aftersales_dms (no demo data{'' if not demo else ': --demo loads it'})"
			)
			ctx.step(f"site {site}", sites.new_site, ctx, site, ["erpnext", "aftersales_dms"])
			ctx.stamp_set(f"site-{site}", "ready")
			ctx.stamp_set(f"migrate-{site}", sites.migrate_key(ctx.bench))
			if admin_password is None:
				admin_password = secrets.token_urlsafe(15)
				password_file = self.names.state_dir / f"{site}.admin-password"
				self.write_root(password_file, admin_password + "\n", 0o600, quiet=True)
			self.apply_settings(site, {"admin_password": admin_password}, quiet=True)
			self.changed.append(f"site {site} created")
		else:
			key = sites.migrate_key(ctx.bench)
			if not ctx.stamp_ok(f"migrate-{site}", key):
				ctx.say(f"migrating {site} (the app changed)")
				ctx.step(f"migrate {site}", sites.migrate, ctx, site, f"migrate-{site}.log")
				ctx.stamp_set(f"migrate-{site}", key)
				self.changed.append(f"site {site} migrated")
		if demo:
			ctx.say(f"loading the demo dealer network into {site} (--demo)")
			sites.load_demo(ctx, site, f"loading demo data into {site} failed")
			self.changed.append(f"demo data loaded into {site}")
		return str(password_file) if password_file else None

	def apply_settings(self, site: str, settings: dict, quiet: bool = False) -> list[str]:
		"""`bench --site S dms-production-settings`, the settings (secrets too) on standard input."""
		r = self.ctx.bench_cmd(
			["--site", site, "dms-production-settings"], input=json.dumps(settings), capture=True, check=False
		)
		lines = [line for line in (r.stdout or "").splitlines() if line.strip()]
		if r.returncode != 0:
			self.ctx.die(
				"the production settings were not applied (the site is as it was): "
				+ "\n".join(lines[-5:] or ["see the error above"])
			)
		if not quiet:
			for line in lines:
				self.ctx.say(line)
			self.changed += [line for line in lines if not line.endswith("unchanged")]
		return lines

	def configure_bench(self, d: Deployment, state: dict) -> None:
		"""The bench's and the site's config, as bench's production setup leaves them."""
		common = self.ctx.bench / "sites" / "common_site_config.json"
		want = {
			"webserver_port": d.web_port,
			"socketio_port": d.socketio_port,
			"gunicorn_workers": d.gunicorn_workers,
			"background_workers": d.background_workers,
			"redis_cache": f"redis://127.0.0.1:{d.redis_cache_port}",
			"redis_queue": f"redis://127.0.0.1:{d.redis_queue_port}",
			"redis_socketio": f"redis://127.0.0.1:{d.redis_queue_port}",
		}
		if "common_config_before" not in state:
			before = json.loads(common.read_text())
			state["common_config_before"] = {k: before.get(k) for k in want}
		self.update_json(common, want)
		site_config = self.ctx.bench / "sites" / d.site / "site_config.json"
		want = {"host_name": d.url, "ssl_certificate": d.cert, "ssl_certificate_key": d.key}
		if "site_config_before" not in state:
			before = json.loads(site_config.read_text())
			state["site_config_before"] = {k: before.get(k) for k in want}
		self.update_json(site_config, want)

	def wait_for(self, what: str, test, seconds: float = 90, log: Path | None = None) -> None:
		deadline = time.monotonic() + seconds
		while time.monotonic() < deadline:
			if test():
				return
			time.sleep(0.5)
		self.ctx.die(f"{what} did not come up within {int(seconds)} s" + (f" (log: {log})" if log else ""))

	def start_programs(
		self, d: Deployment, conf_written: bool, code_changed: bool, trust_changed: bool
	) -> None:
		logs = self.ctx.bench / "logs"
		fresh = not self.program_pids()
		if conf_written or fresh:
			self.supervisorctl("reread")
			r = self.supervisorctl("update", *self.names.groups)
			for line in r.stdout.splitlines():
				if line.strip():
					self.ctx.say(f"supervisor: {line.strip()}")
		states = self.program_pids()
		not_running = [n for n, (s, _p) in states.items() if s not in ("RUNNING", "STARTING")]
		if code_changed and not fresh:  # `update` restarts only the groups whose programs changed
			self.ctx.say("the code changed: restarting web and workers")
			self.supervisorctl("restart", f"{self.names.name}-web:", f"{self.names.name}-workers:")
			self.changed.append("web and workers restarted (code changed)")
		elif not_running:
			self.ctx.say(f"starting {', '.join(not_running)}")
			self.supervisorctl("start", *not_running)
		if trust_changed and not fresh and not code_changed:
			# node reads NODE_EXTRA_CA_CERTS when it starts
			self.ctx.say("the certificate changed: restarting socket.io")
			self.supervisorctl("restart", self.names.program("web", "node-socketio"))
			self.changed.append("socket.io restarted (certificate changed)")
		self.wait_for(
			"this bench's MariaDB under supervisor",
			lambda: self.ctx.mysql_admin("ping", check=False).returncode == 0,
			log=logs / "mariadb.error.log",
		)
		for port, name in ((d.redis_cache_port, "cache"), (d.redis_queue_port, "queue")):
			self.wait_for(
				f"Redis {name} on port {port}",
				lambda p=port: redis_up(str(p)),
				log=logs / f"redis-{name}.log",
			)
		self.wait_for(
			f"gunicorn on 127.0.0.1:{d.web_port}",
			lambda: http_ping(d.web_port, d.site),
			log=logs / "web.error.log",
		)
		self.wait_for(
			f"socket.io on port {d.socketio_port}",
			lambda: bool(listeners(d.socketio_port)),
			log=logs / "node-socketio.log",
		)
		bad = {n: s for n, (s, _p) in self.program_pids().items() if s != "RUNNING"}
		if bad:
			time.sleep(3)
			bad = {n: s for n, (s, _p) in self.program_pids().items() if s != "RUNNING"}
		if bad:
			self.ctx.die(f"not running under supervisor: {bad} (logs in {logs})")

	def ensure_nginx(self, d: Deployment, conf: str, cert_key: str, state: dict) -> None:
		path = self.names.nginx_conf
		try:
			old = path.read_text()
		except OSError:
			old = None
		written = self.write_root(path, conf)
		test = subprocess.run(["nginx", "-t"], capture_output=True, text=True)
		if test.returncode != 0:
			if old is None:
				path.unlink()
			else:
				self.write_root(path, old, quiet=True)
			self.ctx.die(f"nginx refused the configuration (put back as it was):\n{test.stderr.strip()}")
		if not self.nginx_running():
			self.start_service("nginx")
		elif written or state.get("cert_key") != cert_key:
			r = subprocess.run(["nginx", "-s", "reload"], capture_output=True, text=True)
			if r.returncode != 0:
				self.ctx.die(f"nginx -s reload failed: {r.stderr.strip()}")
			# the old workers go only once the new ones run: until then a connection may still
			# get the old configuration (and certificate)
			self.wait_for(
				"nginx serving the new configuration",
				lambda: served_certificate(d) == first_certificate(d.cert),
				seconds=30,
				log=Path(f"/var/log/nginx/{self.names.name}.error.log"),
			)
			self.ctx.say("nginx: reloaded")
			if not written:
				self.changed.append("nginx reloaded (certificate changed)")
		state["cert_key"] = cert_key

	def enable_on_boot(self) -> None:
		if has_systemd():
			for service in ("supervisor", "nginx"):
				r = subprocess.run(["systemctl", "is-enabled", service], capture_output=True, text=True)
				if r.stdout.strip() != "enabled":
					self.ctx.run(["systemctl", "enable", service], capture_output=True)
					self.ctx.say(f"{service}: enabled on boot")
					self.changed.append(f"{service} enabled on boot")
		else:
			self.ctx.say(
				"no systemd on this machine: supervisord and nginx start on boot only if something runs "
				"/etc/init.d/supervisor and /etc/init.d/nginx (on Debian with systemd their units do)"
			)

	# ------------------------------------------------------------ the command
	def deploy(self, opts: dict) -> None:
		ctx = self.ctx
		if not ctx.is_root:
			ctx.die(
				"./dms deploy installs and drives system services (nginx, supervisor): run it as root (sudo ./dms deploy ...)"
			)
		state = self.load_state()
		previous = Deployment.from_dict(state["deployment"]) if state.get("deployment") else None
		conf = ctx.common_site_config()
		redis_defaults = tuple(int(conf_redis_port(conf, n) or 0) for n in ("cache", "queue"))
		others = self.other_deployments_ports()
		d = resolve(
			opts,
			previous,
			cpus=len(os.sched_getaffinity(0)),
			redis_ports=redis_defaults,
			free_port=lambda ports: first_free(ports, others),
		)
		if previous and previous.site != d.site:
			ctx.die(
				f"this bench serves {previous.site} already; ./dms deploy --remove first to serve {d.site} instead"
			)
		settings, admin_password = ({}, None)
		if d.config:
			settings, admin_password = parse_config(Path(d.config))
			if world_readable(Path(d.config)):
				ctx.say(f"WARNING: {d.config} is readable by every user of this machine (chmod 600 it)")
		ctx.say(
			f"deploying {d.site} as {d.url} (bench {ctx.bench}; gunicorn 127.0.0.1:{d.web_port} x "
			f"{d.gunicorn_workers}, socket.io {d.socketio_port}, Redis {d.redis_cache_port}/{d.redis_queue_port})"
		)
		prepare(ctx, PACKAGES)
		supervised = self.program_pids() if self.supervisord_running() else {}
		self.check_ports(d, supervised)
		password_file = self.ensure_site(d, admin_password, opts.get("demo", False))
		# the dealer's settings first: a refused value (say, the SMTP server rejects the login)
		# stops the deploy before anything else is changed
		if settings:
			self.apply_settings(d.site, settings)
		else:
			ctx.say(
				"no --config: outgoing mail and SMS use what the site has (the demo's point at sinks that "
				"production does not run); see README 'Production'"
			)
		self.ensure_certificate(d)
		self.stop_dev_processes(d, supervised)
		self.configure_bench(d, state)
		# recorded now: a deploy that stops below is re-run (or removed) with what it has changed
		state["deployment"] = asdict(d)
		state.setdefault("deployed_at", time.strftime("%Y-%m-%d %H:%M:%S"))
		self.save_state(state)
		template = (ctx.bench / TEMPLATES / "supervisor.conf.in").read_text()
		sup = supervisor_conf(
			template, d, self.names, user=ctx.bench_user, home=ctx.bench_home, tools=ctx.tools
		)
		self.ensure_supervisord()
		conf_written = self.write_root(self.names.supervisor_conf, sup)
		key = code_key(ctx.bench)
		code_changed = bool(state.get("code_key")) and state["code_key"] != key
		trust_changed = self.write_root(self.names.trust_file, Path(d.cert).read_text(), 0o644, quiet=True)
		self.start_programs(d, conf_written, code_changed, trust_changed)
		state["code_key"] = key
		nginx = nginx_conf((ctx.bench / TEMPLATES / "nginx.conf.in").read_text(), d, self.names)
		cert_key = short_hash(Path(d.cert).read_bytes() + Path(d.key).read_bytes())
		self.ensure_nginx(d, nginx, cert_key, state)
		self.save_state(state)
		self.enable_on_boot()
		answer = https_ping(d)
		if not answer.startswith("200"):
			ctx.die(
				f"{d.url} does not answer through nginx: {answer} (log: /var/log/nginx/{self.names.name}.error.log)"
			)
		ctx.say(f"https: {answer} from {d.url}/api/method/ping (through nginx)")
		self.warn_unresolvable(d)
		changed = "; ".join(self.changed)
		lines = [
			f"Aftersales DMS is served as production: {d.url}   (site {d.site}, bench {ctx.bench})",
			f"changed: {changed}" if changed else "nothing changed: everything was as asked (unchanged)",
			f"HTTPS {d.https_port} (HTTP {d.http_port} redirects); certificate {d.cert}"
			+ (" (self-signed)" if d.self_signed else ""),
			f"supervisor: {', '.join(f'{g}:' for g in self.names.groups)} ({self.names.supervisor_conf}); "
			f"nginx: {self.names.nginx_conf}",
		]
		if password_file:
			lines.append(f"Administrator password of {d.site}: in {password_file}")
		lines.append(
			f"Logs: {ctx.bench}/logs/ and /var/log/nginx/{self.names.name}.*.log; ./dms status shows each service."
		)
		print("\n" + "\n".join(f"  {line}" for line in lines), flush=True)

	def warn_unresolvable(self, d: Deployment) -> None:
		"""socket.io checks each login by asking the site at the browser's origin (the public URL),
		from this machine."""
		if is_ip(d.host):
			return
		try:
			socket.getaddrinfo(d.host, d.https_port)
		except OSError:
			self.ctx.say(
				f"WARNING: {d.host} does not resolve on this machine, so realtime updates (socket.io, which "
				f"checks each login at {d.url}) will fail: add '127.0.0.1 {d.host}' to /etc/hosts or to your DNS"
			)

	def remove(self) -> None:
		ctx = self.ctx
		if not ctx.is_root:
			ctx.die("./dms deploy --remove drives system services: run it as root")
		state = self.load_state()
		n = self.names
		if not state and not n.supervisor_conf.exists() and not n.nginx_conf.exists():
			ctx.say(f"nothing is deployed for this bench ({ctx.bench}): nothing to remove")
			return
		d = Deployment.from_dict(state["deployment"]) if state.get("deployment") else None
		if n.supervisor_conf.exists():
			n.supervisor_conf.unlink()
			ctx.say(f"{n.supervisor_conf}: removed")
			if self.supervisord_running():
				self.supervisorctl("reread")
				r = self.supervisorctl("update", *n.groups)
				for line in r.stdout.splitlines():
					if line.strip():
						ctx.say(f"supervisor: {line.strip()}")
		if n.nginx_conf.exists():
			n.nginx_conf.unlink()
			ctx.say(f"{n.nginx_conf}: removed")
			if self.nginx_running():
				subprocess.run(["nginx", "-s", "reload"], check=False, capture_output=True)
				ctx.say("nginx: reloaded")
		# the bench's and the site's config as they were before the first deploy
		restore = [("common_config_before", ctx.bench / "sites" / "common_site_config.json")]
		if d:
			restore.append(("site_config_before", ctx.bench / "sites" / d.site / "site_config.json"))
		for key, path in restore:
			before = state.get(key)
			if before and path.exists():
				keep = {k: v for k, v in before.items() if v is not None}
				self.update_json(path, keep, [k for k, v in before.items() if v is None])
		if n.state_dir.exists():
			shutil.rmtree(n.state_dir)
			ctx.say(f"{n.state_dir}: removed (state and generated certificates)")
		# the bench keeps working for ./dms test, ./dms bench ...: MariaDB and Redis run as ./dms
		# starts them (./dms down stops them)
		ensure_mariadb(ctx)
		ensure_redis(ctx)
		print(
			f"\n  The production deployment of {ctx.bench} is removed; supervisord and nginx keep running "
			"for anything else they serve.",
			flush=True,
		)


def is_ip(host: str) -> bool:
	try:
		socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
		return True
	except OSError:
		return False


def http_ping(port: int, site: str) -> bool:
	"""gunicorn answers /api/method/ping for the site (nginx's X-Frappe-Site-Name)."""
	try:
		with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
			s.sendall(
				f"GET /api/method/ping HTTP/1.1\r\nHost: {site}\r\nX-Frappe-Site-Name: {site}\r\n"
				"Connection: close\r\n\r\n".encode()
			)
			return s.recv(64).startswith(b"HTTP/1.1 200")
	except OSError:
		return False


def first_certificate(path: str) -> bytes:
	"""The DER of the first certificate of a PEM file (the server's own, before its chain)."""
	try:
		text = Path(path).read_text()
		return ssl.PEM_cert_to_DER_cert(text[: text.index("-----END CERTIFICATE-----") + 25])
	except (OSError, ValueError):
		return b""


def served_certificate(d: Deployment) -> bytes:
	"""The certificate nginx presents for the host right now (DER; b"" when it does not answer)."""
	context = ssl.create_default_context()
	context.check_hostname = False
	context.verify_mode = ssl.CERT_NONE
	try:
		with socket.create_connection(("127.0.0.1", d.https_port), timeout=5) as raw:
			with context.wrap_socket(raw, server_hostname=d.host) as s:
				return s.getpeercert(binary_form=True) or b""
	except OSError:
		return b""


def https_ping(d: Deployment, timeout: float = 10) -> str:
	"""GET /api/method/ping through nginx on loopback, TLS checked for the host (against the
	self-signed certificate, or this machine's CAs for the dealer's). Returns the status line's
	code and reason, or why it failed."""

	def get(context: ssl.SSLContext) -> str:
		with socket.create_connection(("127.0.0.1", d.https_port), timeout=timeout) as raw:
			with context.wrap_socket(raw, server_hostname=d.host) as s:
				s.sendall(
					f"GET /api/method/ping HTTP/1.1\r\nHost: {d.host}:{d.https_port}\r\nConnection: close\r\n\r\n".encode()
				)
				data = b""
				while b"\r\n" not in data:
					chunk = s.recv(1024)
					if not chunk:
						break
					data += chunk
				return data.split(b"\r\n", 1)[0].decode(errors="replace").split(" ", 1)[-1]

	context = ssl.create_default_context(cafile=d.cert if d.self_signed else None)
	try:
		return get(context)
	except ssl.SSLCertVerificationError as e:
		unverified = ssl.create_default_context()
		unverified.check_hostname = False
		unverified.verify_mode = ssl.CERT_NONE
		try:
			return f"{get(unverified)} (certificate NOT verified by this machine: {e.verify_message})"
		except OSError as e2:
			return f"no answer ({e2})"
	except OSError as e:
		return f"no answer ({e})"


# ---------------------------------------------------------------- status
def status_lines(ctx: Context) -> list[str]:
	"""The production part of `./dms status`: each service of a deployment of this bench."""
	names = Names(ctx.bench)
	lines = []
	try:
		state = json.loads(names.state_file.read_text())
	except PermissionError:
		return ["production: run ./dms status as root to see the deployment"]
	except (OSError, ValueError):
		state = {}
	d = Deployment.from_dict(state["deployment"]) if state.get("deployment") else None
	if not d:
		lines.append("production: not deployed (./dms deploy --host NAME)")
	else:
		lines.append(f"production: {d.url} (site {d.site}; deployed {state.get('deployed_at', '?')})")
	deployer = Deployer(ctx)
	if d:
		if deployer.supervisord_running():
			pid = deployer.supervisorctl("pid", check=False).stdout.strip()
			lines.append(f"  supervisord: running (pid {pid}), {names.supervisor_conf}")
			r = deployer.supervisorctl("status", *(f"{g}:" for g in names.groups), check=False)
			parsed = [p for p in map(status_line, r.stdout.splitlines()) if p]
			width = max((len(p[0]) for p in parsed), default=0)
			lines += [f"    {name:<{width}}  {state:<8}  {detail}" for name, state, detail in parsed]
		else:
			lines.append(
				"  supervisord: NOT running (/etc/init.d/supervisor start, or systemctl start supervisor)"
			)
		if deployer.nginx_running():
			ok = subprocess.run(["nginx", "-t"], capture_output=True).returncode == 0
			pid = Path("/run/nginx.pid").read_text().strip()
			lines.append(
				f"  nginx: running (pid {pid}), {names.nginx_conf}, configuration {'ok' if ok else 'BROKEN (nginx -t)'}"
			)
		else:
			lines.append("  nginx: NOT running")
		lines.append(f"  https: {https_ping(d, timeout=5)} from {d.url}/api/method/ping")
		expiry = subprocess.run(
			["openssl", "x509", "-in", d.cert, "-noout", "-enddate"], capture_output=True, text=True
		)
		kind = "self-signed" if d.self_signed else "the dealer's"
		lines.append(
			f"  certificate: {d.cert} ({kind}; "
			f"{expiry.stdout.strip().replace('notAfter=', 'valid until ') or 'unreadable'})"
		)
	mariadb = (
		ctx.mysql_admin("ping", check=False).returncode == 0
		if (ctx.bench / "db" / "root.cnf").exists()
		else False
	)
	lines.append(f"  mariadb: {'up' if mariadb else 'down'} (socket {ctx.bench}/db/mysqld.sock)")
	for name in ("cache", "queue"):
		if d:
			port = str(d.redis_cache_port if name == "cache" else d.redis_queue_port)
		else:
			port = conf_redis_port(ctx.common_site_config(), name)
		lines.append(f"  redis {name}: {'up' if redis_up(port) else 'down'} (127.0.0.1:{port})")
	return lines


# ---------------------------------------------------------------- click
DEPLOY_OPTIONS = [
	click.option(
		"--host",
		help="Host name (or IP address) the desk is served under: nginx server_name, certificate, host_name.",
	),
	click.option("--site", help="The site to serve (default: the host name); created when missing."),
	click.option(
		"--cert", type=click.Path(dir_okay=False), help="The dealer's certificate (PEM, with its chain)."
	),
	click.option("--key", type=click.Path(dir_okay=False), help="Its private key (PEM, no passphrase)."),
	click.option("--self-signed", is_flag=True, help="Go back to a generated self-signed certificate."),
	click.option("--https-port", type=int, help="HTTPS port (default 443)."),
	click.option("--http-port", type=int, help="HTTP port, redirected to HTTPS (default 80)."),
	click.option("--web-port", type=int, help="gunicorn's loopback port (default: a free one from 18000)."),
	click.option("--socketio-port", type=int, help="socket.io's port (default: a free one from 19000)."),
	click.option(
		"--redis-cache-port", type=int, help="Redis cache port (default: config/redis_cache.conf's)."
	),
	click.option(
		"--redis-queue-port", type=int, help="Redis queue port (default: config/redis_queue.conf's)."
	),
	click.option("--gunicorn-workers", type=int, help="gunicorn workers (default: 2 x cores + 1)."),
	click.option("--background-workers", type=int, help="Processes per RQ worker program (default 1)."),
	click.option(
		"--config",
		"config",
		type=click.Path(dir_okay=False),
		help="Production settings (TOML or JSON): [smtp], [sms], [site].",
	),
	click.option("--demo", is_flag=True, help="Load the demo dealer network into the site."),
	click.option("--remove", is_flag=True, help="Take the deployment down and remove its configuration."),
]


def cmd_deploy(ctx: Context, opts: dict) -> None:
	deployer = Deployer(ctx)
	if opts.pop("remove", False):
		given = [k for k, v in opts.items() if v not in (None, False)]
		if given:
			raise DmsError(
				f"./dms deploy --remove takes no other option (given: {', '.join('--' + g.replace('_', '-') for g in given)})"
			)
		deployer.remove()
		return
	if opts.get("config") and not Path(opts["config"]).is_file():
		raise DmsError(f"./dms deploy: --config {opts['config']} is not a file")
	deployer.deploy(opts)
