"""This bench's own MariaDB (unix socket in db/) and the Redis servers, and the web server's ping."""

from __future__ import annotations

import re
import subprocess
import time
import urllib.request
from pathlib import Path

from .context import Context


def my_cnf(template: str, bench: Path) -> str:
	return template.replace("@BENCH@", str(bench))


def root_cnf(bench: Path, password: str) -> str:
	return f'!include {bench}/db/my.cnf\n[client]\nuser = root\npassword = "{password}"\n'


def ensure_mariadb(ctx: Context) -> None:
	pw = ctx.db_root_password()
	db = ctx.bench / "db"
	ctx.write_file(db / "my.cnf", my_cnf((ctx.bench / "config" / "mariadb.cnf.in").read_text(), ctx.bench))
	ctx.write_file(db / "root.cnf", root_cnf(ctx.bench, pw), private=True)
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
	ctx.say(f"starting MariaDB (socket {sock})")
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
