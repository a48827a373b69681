"""This bench's own MariaDB (unix socket in db/) and Redis servers, and the web server's ping.

Every bench has ports of its own, so two checkouts on one machine (a developer's bench beside a
fresh clone's test run) never share a server: MariaDB's is chosen at its first start (db/port),
the Redis and socket.io ports when the bench's sites/common_site_config.json is written — from
the bench's path, the next free ones if those are taken — and read from there ever after."""

from __future__ import annotations

import hashlib
import re
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from .context import Context


def my_cnf(template: str, bench: Path, port: int | str = 0) -> str:
	return template.replace("@BENCH@", str(bench)).replace("@PORT@", str(port))


def first_db_port(bench: Path) -> int:
	"""Where this bench's MariaDB port search starts: 20000-29999, from the bench's path (so benches
	on one machine rarely meet)."""
	return 20000 + int(hashlib.sha1(str(bench).encode()).hexdigest()[:8], 16) % 10000


# a new bench's Redis cache, Redis queue and socket.io ports: base + an offset from its path (the
# first bench of this project used 13000, 11000 and 9000; new ones stay off those)
SERVICE_PORT_BASES = {"redis_cache": 13100, "redis_queue": 11100, "socketio": 9100}
SERVICE_PORT_SPREAD = 800


def bench_service_ports(bench: Path, taken=None) -> dict[str, int]:
	"""Ports for a new bench's Redis servers and socket.io: one offset from the bench's path for all
	three, moved on while any of them is taken (by another bench's server, or by `taken`)."""
	taken = taken or port_taken
	first = int(hashlib.sha1(str(bench).encode()).hexdigest()[8:16], 16) % SERVICE_PORT_SPREAD
	for step in range(SERVICE_PORT_SPREAD):
		offset = (first + step) % SERVICE_PORT_SPREAD
		ports = {name: base + offset for name, base in SERVICE_PORT_BASES.items()}
		if not any(taken(p) for p in ports.values()):
			return ports
	raise OSError("no free ports for Redis and socket.io")


def conf_redis_port(conf: dict, name: str) -> str:
	"""The port of the bench's Redis `name` (cache or queue) in its common_site_config.json."""
	return re.sub(r".*:(\d+)/?$", r"\1", conf.get(f"redis_{name}") or "")


def port_taken(port: int) -> bool:
	with socket.socket() as s:
		try:
			s.bind(("127.0.0.1", port))
		except OSError:
			return True
	return False


def db_port(ctx: Context) -> int:
	"""This bench's MariaDB TCP port on 127.0.0.1 (a read replica's IO thread connects there): chosen
	at the first start — from the bench path, the next free one if that is taken — and kept in
	db/port."""
	f = ctx.bench / "db" / "port"
	if f.is_file() and f.read_text().strip().isdigit():
		return int(f.read_text().strip())
	first = first_db_port(ctx.bench)
	port = next(p for p in [*range(first, 30000), *range(20000, first)] if not port_taken(p))
	ctx.write_file(f, f"{port}\n")
	return port


def root_cnf(bench: Path, password: str) -> str:
	return f'!include {bench}/db/my.cnf\n[client]\nuser = root\npassword = "{password}"\n'


def ensure_mariadb(ctx: Context) -> None:
	pw = ctx.db_root_password()
	db = ctx.bench / "db"
	port = db_port(ctx)
	cnf = my_cnf((ctx.bench / "config" / "mariadb.cnf.in").read_text(), ctx.bench, port)
	ctx.write_file(db / "my.cnf", cnf)
	ctx.write_file(db / "root.cnf", root_cnf(ctx.bench, pw), private=True)
	running = db / "my.cnf.running"  # what the running server was started with
	started_with = running.read_text() if running.is_file() else None
	if started_with != cnf and ctx.mysql_admin("ping", check=False).returncode == 0:
		# a server started with another configuration (e.g. before the binary log) is restarted
		ctx.say("MariaDB's configuration changed (config/mariadb.cnf.in): restarting it")
		from . import deploy  # deploy builds on this module

		names = deploy.deployment_of(ctx.bench)
		if names:  # supervisor's: it restarts it with the file written above
			deploy.supervisorctl("restart", f"{names.name}-db:")
			ctx.write_file(running, cnf)
		else:
			ctx.mysql_admin("shutdown", check=False)
			for _ in range(120):
				if not (db / "mysqld.sock").exists():
					break
				time.sleep(0.5)
	if not (db / "data" / "mysql").is_dir():
		ctx.say("initialising this bench's MariaDB data directory (utf8mb4)")
		log = ctx.bench / "logs" / "mariadb-install.log"
		r = ctx.as_bench(
			[
				"mariadb-install-db",
				"--defaults-file=db/my.cnf",
				"--auth-root-authentication-method=normal",
				"--skip-test-db",
			],
			log=log,
			check=False,
		)
		if r.returncode != 0:
			print(log.read_text(errors="replace"), flush=True)
			ctx.die("mariadb-install-db failed")
		start_mariadb(ctx)
		# on standard input, not in the client's arguments
		ctx.mysql_root(f"ALTER USER 'root'@'localhost' IDENTIFIED BY '{pw}'; FLUSH PRIVILEGES;", initial=True)
	elif ctx.mysql_admin("ping", check=False).returncode != 0:
		start_mariadb(ctx)


def start_mariadb(ctx: Context) -> None:
	sock = ctx.bench / "db" / "mysqld.sock"
	ctx.say(f"starting MariaDB (socket {sock}, 127.0.0.1:{db_port(ctx)})")
	ctx.as_bench(["cp", "db/my.cnf", "db/my.cnf.running"])
	ctx.as_bench(
		[
			"bash",
			"-c",
			"setsid nohup mariadbd --defaults-file=db/my.cnf >>logs/mariadb.log 2>&1 < /dev/null &",
		]
	)
	ping = ["bash", "-c", "mariadb-admin --defaults-file=db/my.cnf ping 2>&1"]
	for _ in range(60):
		r = ctx.as_bench(ping, check=False, capture=True)
		if sock.exists() and r.returncode == 0:
			return
		# ping without password fails with "Access denied" once a password is set: that is up too
		if "Access denied" in (r.stdout or ""):
			return
		time.sleep(0.5)
	log = ctx.bench / "logs" / "mariadb.log"
	from .setup import tail

	tail(log, 20)
	ctx.die(f"MariaDB did not start (log: {log})")


def redis_up(port: str) -> bool:
	r = subprocess.run(["redis-cli", "-p", port, "ping"], capture_output=True, text=True)
	return r.returncode == 0


def ensure_redis(ctx: Context) -> None:
	conf = ctx.common_site_config()
	for name in ("cache", "queue"):
		port = conf_redis_port(conf, name)
		if redis_up(port):
			continue
		ctx.say(f"starting Redis {name} on 127.0.0.1:{port}")
		ctx.as_bench(
			[
				"redis-server",
				f"config/redis_{name}.conf",
				"--port",
				port,
				"--daemonize",
				"yes",
				"--pidfile",
				f"{ctx.bench}/config/pids/redis_{name}.pid",
				"--logfile",
				f"{ctx.bench}/logs/redis_{name}.log",
			]
		)
		for _ in range(20):
			if redis_up(port):
				break
			time.sleep(0.25)


def http_up(port: str) -> bool:
	try:
		with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/method/ping", timeout=5) as r:
			return 200 <= r.status < 400
	except (OSError, ValueError):
		return False
