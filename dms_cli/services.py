"""This bench's own MariaDB (unix socket in db/) and the Redis servers, and the web server's ping."""

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


def redis_port(conf: str) -> str:
	m = re.search(r"^port (\S+)", conf, re.MULTILINE)
	return m.group(1) if m else ""


def redis_up(port: str) -> bool:
	r = subprocess.run(["redis-cli", "-p", port, "ping"], capture_output=True, text=True)
	return r.returncode == 0


def ensure_redis(ctx: Context) -> None:
	for name in ("cache", "queue"):
		port = redis_port((ctx.bench / "config" / f"redis_{name}.conf").read_text())
		if redis_up(port):
			continue
		ctx.say(f"starting Redis {name} on 127.0.0.1:{port}")
		ctx.as_bench(
			[
				"redis-server",
				f"config/redis_{name}.conf",
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
