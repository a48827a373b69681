"""dms_cli.setup, services, sites, commands: what the set-up writes and when it redoes a step."""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from dms_cli import setup
from dms_cli.commands import procfile_for_port
from dms_cli.context import DmsError
from dms_cli.services import bench_service_ports, conf_redis_port, first_db_port, my_cnf, root_cnf
from dms_cli.sites import app_schema_files, migrate_key


def shell(cmd: str, cwd: Path) -> str:
	"""What the bash script computed, computed by the shell again (C collation)."""
	env = {**os.environ, "LC_ALL": "C"}
	return subprocess.run(
		["bash", "-c", cmd], cwd=cwd, env=env, capture_output=True, text=True, check=True
	).stdout


def tree(root: Path, files: dict) -> None:
	for name, content in files.items():
		p = root / name
		p.parent.mkdir(parents=True, exist_ok=True)
		p.write_text(content)


def test_sync_copies_the_checkout_and_keeps_the_benchs_own_state(tmp_path):
	"""The real rsync with the exclude list: the app and tests arrive, upstream apps, env, sites,
	db, logs, stamps and built assets of the bench stay as they are."""
	repo, bench = tmp_path / "repo", tmp_path / "bench"
	tree(
		repo,
		{
			"dms": "#!/bin/bash\n",
			"dms_cli/main.py": "x",
			"apps/aftersales_dms/aftersales_dms/hooks.py": "app",
			"apps/aftersales_dms/aftersales_dms/__pycache__/hooks.cpython-311.pyc": "pyc",
			"apps/aftersales_dms/aftersales_dms/public/dist/app.js": "stale build",
			"aftersales_dms_cli.egg-info/PKG-INFO": "egg",
			"sites/apps.txt": "frappe\nerpnext\naftersales_dms\n",
			"sites/common_site_config.template.json": "{}",
			".git/HEAD": "ref",
			"artifacts/junit.xml": "<x/>",
		},
	)
	kept = {
		"apps/frappe/frappe/__init__.py": "frappe",
		"apps/erpnext/erpnext/__init__.py": "erpnext",
		"apps/payments/payments/__init__.py": "payments",
		"apps/aftersales_dms/aftersales_dms/public/dist/app.js": "built here",
		"env/bin/python": "py",
		"sites/dms.localhost/site_config.json": "{}",
		"sites/common_site_config.json": '{"root_password": "x"}',
		"logs/web.log": "log",
		"db/my.cnf": "cnf",
		"config/pids/web.pid": "1",
		"artifacts/junit.xml": "bench's",
		".stamps/python": "key",
		".dms-origin": "/work/x",
	}
	tree(bench, {**kept, "stale.txt": "gone from the checkout"})
	user = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
	subprocess.run(setup.rsync_command(repo, bench, user), check=True)
	for name, content in kept.items():
		assert (bench / name).read_text() == content, name
	assert (bench / "apps/aftersales_dms/aftersales_dms/hooks.py").read_text() == "app"
	assert (bench / "dms_cli/main.py").exists() and (bench / "sites/apps.txt").exists()
	assert not (bench / "stale.txt").exists()
	assert not (bench / ".git").exists()
	assert not (bench / "aftersales_dms_cli.egg-info").exists()
	assert not (bench / "apps/aftersales_dms/aftersales_dms/__pycache__").exists()


def test_the_bench_is_readable_whatever_the_checkouts_modes(tmp_path):
	"""A checkout in a private folder (mktemp -d: 700) with a private file still gives a bench that
	nginx's user may read: sites/assets and the apps' public folders are served from it."""
	repo, bench = tmp_path / "repo", tmp_path / "bench"
	tree(repo, {"apps/aftersales_dms/aftersales_dms/public/js/x.js": "js", "dms": "#!/bin/sh\n"})
	(repo / "dms").chmod(0o700)
	(repo / "apps/aftersales_dms/aftersales_dms/public/js/x.js").chmod(0o600)
	repo.chmod(0o700)
	bench.mkdir()
	user = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
	subprocess.run(setup.rsync_command(repo, bench, user), check=True)
	assert bench.stat().st_mode & 0o055 == 0o055
	assert (bench / "apps/aftersales_dms/aftersales_dms/public").stat().st_mode & 0o055 == 0o055
	assert (bench / "apps/aftersales_dms/aftersales_dms/public/js/x.js").stat().st_mode & 0o044 == 0o044
	assert (bench / "dms").stat().st_mode & 0o700 == 0o700  # still executable by its owner


def test_rsync_command_shape(tmp_path):
	cmd = setup.rsync_command(Path("/r"), Path("/b"), "dms")
	assert cmd[:5] == ["rsync", "-a", "--delete", "--chown=dms:dms", "--exclude=/.git"]
	assert cmd[-2:] == ["/r/", "/b/"]
	assert len([c for c in cmd if c.startswith("--exclude=")]) == len(setup.RSYNC_EXCLUDES)


def test_python_env_key_is_the_bash_scripts_key(tmp_path):
	bench = tmp_path
	tree(
		bench,
		{
			"apps/frappe/pyproject.toml": "[project]\nname='frappe'\n",
			"apps/erpnext/pyproject.toml": "[project]\nname='erpnext'\n",
			"apps/aftersales_dms/pyproject.toml": "[project]\nname='aftersales_dms'\n",
			"config/python-overrides.txt": "gunicorn==22.0.0\n",
			"config/python-constraints.txt": "setuptools<70\n",
			"config/python-dev.txt": "pytest\n",
		},
	)
	want = shell(
		"cat apps/{frappe,erpnext,aftersales_dms}/pyproject.toml config/python-*.txt | sha1sum | cut -c1-16",
		bench,
	)
	assert setup.python_env_key(bench) == want.strip()
	before = setup.python_env_key(bench)
	(bench / "config/python-dev.txt").write_text("pytest\nruff\n")
	assert setup.python_env_key(bench) != before  # a new test tool rebuilds the env


def test_node_key_is_the_bash_scripts_key(tmp_path):
	tree(tmp_path, {"apps/frappe/yarn.lock": "a@1\n", "apps/erpnext/yarn.lock": "b@2\n"})
	want = shell("cat apps/{frappe,erpnext}/yarn.lock | sha1sum | cut -c1-16", tmp_path)
	assert setup.node_key(tmp_path) == want.strip()


def test_public_listing_is_find_printf_sorted(tmp_path):
	public = tmp_path / "public"
	tree(public, {"js/b.js": "bb", "js/a.js": "a", "css/x.css": "xyz", "dist/js/app.bundle.js": "1234"})
	os.symlink(public / "js/a.js", public / "link.js")  # find -type f skips symlinks
	want = shell("find public -type f -printf '%P %s\\n' | sort", tmp_path)
	assert setup.public_listing(public).decode() == want


def test_migrate_key_is_the_bash_scripts_key(tmp_path):
	app = tmp_path / "apps" / "aftersales_dms"
	tree(
		app,
		{
			"aftersales_dms/hooks.py": "app_name = 'x'\n",
			"aftersales_dms/patches.txt": "[pre_model_sync]\n",
			"aftersales_dms/booking/doctype/a/a.json": '{"name": "a"}',
			"aftersales_dms/booking/doctype/b/b.json": '{"name": "b"}',
			"aftersales_dms/booking/doctype/b/b.py": "ignored",
		},
	)
	want = shell(
		f"find {app} -name '*.json' -o -name 'patches.txt' -o -name hooks.py | sort | xargs cat | sha1sum | cut -c1-16",
		tmp_path,
	)
	assert migrate_key(tmp_path) == want.strip()
	assert [p.name for p in app_schema_files(app)] == ["a.json", "b.json", "hooks.py", "patches.txt"]


def test_common_site_config_from_the_template(repo_dir):
	template = json.loads((repo_dir / "sites" / "common_site_config.template.json").read_text())
	ports = {"redis_cache": 13111, "redis_queue": 11111, "socketio": 9111}
	conf = setup.common_site_config(template, Path("/home/dms/benches/x"), "dms", "pw", ports)
	assert conf["db_socket"] == "/home/dms/benches/x/db/mysqld.sock"
	assert (conf["frappe_user"], conf["root_login"], conf["root_password"]) == ("dms", "root", "pw")
	assert conf["redis_cache"] == "redis://127.0.0.1:13111" and conf["socketio_port"] == 9111
	assert conf["webserver_port"] == template["webserver_port"]  # the rest comes from the template
	assert "root_password" not in template
	pw = setup.new_db_password()
	assert re.fullmatch(r"[A-Za-z0-9]{16,24}", pw) and pw != setup.new_db_password()


def test_mariadb_config_files(repo_dir):
	cnf = my_cnf((repo_dir / "config" / "mariadb.cnf.in").read_text(), Path("/b"), 23456)
	assert "@BENCH@" not in cnf and "@PORT@" not in cnf and "/b/db/mysqld.sock" in cnf
	# the loopback port and the binary log a read replica follows by GTID
	assert "port = 23456" in cnf.splitlines() and "bind-address = 127.0.0.1" in cnf.splitlines()
	assert "log-bin = mariadb-bin" in cnf and "server-id = 1" in cnf and "skip-log-bin" not in cnf
	assert 20000 <= first_db_port(Path("/b")) < 30000
	assert first_db_port(Path("/b")) == first_db_port(Path("/b")) != first_db_port(Path("/c"))
	root = root_cnf(Path("/b"), "p4ss")
	assert root.splitlines() == ["!include /b/db/my.cnf", "[client]", "user = root", 'password = "p4ss"']


def test_each_bench_has_its_own_redis_and_socketio_ports(repo_dir):
	"""Two checkouts on one machine never share Redis (their RQ workers would run each other's
	jobs, for sites they do not have) nor socket.io: the ports come from the bench's path, moved on
	past taken ones, and are written into the bench's common config."""
	a = bench_service_ports(Path("/home/dms/benches/main-1"), taken=lambda p: False)
	b = bench_service_ports(Path("/tmp/tmp.x/bench"), taken=lambda p: False)
	assert a != b
	assert a == bench_service_ports(Path("/home/dms/benches/main-1"), taken=lambda p: False)
	# never the first bench's fixed ports, and each below the ephemeral range
	for ports in (a, b):
		assert not {13000, 11000, 9000} & set(ports.values())
		assert all(1024 < p < 32768 for p in ports.values())
	# a taken port moves all three on
	moved = bench_service_ports(Path("/home/dms/benches/main-1"), taken=lambda p: p == a["redis_queue"])
	assert moved["redis_queue"] != a["redis_queue"] and moved["redis_cache"] != a["redis_cache"]
	conf = setup.common_site_config({}, Path("/b"), "dms", "pw", a)
	assert conf_redis_port(conf, "cache") == str(a["redis_cache"])
	assert conf_redis_port(conf, "queue") == str(a["redis_queue"])
	assert conf["redis_socketio"] == conf["redis_queue"] and conf["socketio_port"] == a["socketio"]
	# the Redis config files carry no port of their own (./dms and supervisor pass --port)
	for name in ("cache", "queue"):
		text = (repo_dir / "config" / f"redis_{name}.conf").read_text()
		assert not [line for line in text.splitlines() if line.startswith("port ")]


def test_the_web_server_listens_on_dms_http_port(repo_dir):
	procfile = (repo_dir / "Procfile").read_text()
	moved = procfile_for_port(procfile, "8010")
	assert "web: bench serve --port 8010" in moved.splitlines()
	# only the web line changes (the mail sink's 127.0.0.1:2525, the SMS sink's --port stay)
	changed = [(a, b) for a, b in zip(procfile.splitlines(), moved.splitlines(), strict=True) if a != b]
	assert len(changed) == 1 and changed[0][0].startswith("web:")
	assert procfile_for_port(procfile, "8000") == procfile


def test_app_version_is_read_from_init(tmp_path):
	tree(tmp_path, {"frappe/__init__.py": 'import os\n__version__ = "15.101.1"\n__title__ = "Frappe"\n'})
	assert setup.app_version(tmp_path / "frappe" / "__init__.py") == "15.101.1"
	assert setup.app_version(tmp_path / "missing.py") == ""


def test_sources_default_cache_and_source_dir(user_context, tmp_path):
	ctx = user_context(HOME=str(tmp_path / "home"))
	setup.resolve_sources(ctx)
	assert ctx.source_dir is None and ctx.source_desc.startswith(
		"upstream https://github.com/frappe/frappe@v"
	)
	assert ctx.default_source_cache == tmp_path / "home/.cache/aftersales-dms/sources"
	cache = tmp_path / "xdg" / "aftersales-dms" / "sources"
	(cache / "frappe" / ".git").mkdir(parents=True)
	(cache / "erpnext" / ".git").mkdir(parents=True)
	ctx = user_context(HOME=str(tmp_path / "home"), XDG_CACHE_HOME=str(tmp_path / "xdg"))
	setup.resolve_sources(ctx)
	assert ctx.source_dir == cache and ctx.source_desc == f"local source {cache} (branch version-15)"
	ctx = user_context(DMS_SOURCE_DIR=str(tmp_path / "home"))
	with pytest.raises(DmsError, match="must hold git repositories frappe/ and erpnext/"):
		setup.resolve_sources(ctx)


def test_offline_without_sources_says_what_to_provide(user_context, tmp_path):
	ctx = user_context(HOME=str(tmp_path / "home"), DMS_OFFLINE="1")
	setup.resolve_sources(ctx)
	with pytest.raises(DmsError) as e:
		setup.ensure_apps(ctx)
	msg = e.value.message
	assert msg.startswith("cannot get Frappe/ERPNext: DMS_OFFLINE=1 is set")
	assert "DMS_SOURCE_DIR=/path" in msg and "ed37b94d95c68d8544357e330be0c89d044a3eea" in msg
	assert str(tmp_path / "home/.cache/aftersales-dms/sources") in msg
	assert not (ctx.bench / "apps" / "frappe").exists()


def test_site_configs_are_the_bench_users_alone(user_context):
	"""common_site_config.json (MariaDB's root password) and every site_config.json (a site's
	encryption key) are made mode 600, whatever mode Frappe wrote them with."""
	ctx = user_context()
	sites = ctx.bench / "sites"
	tree(
		sites,
		{
			"common_site_config.json": "{}",
			"a.localhost/site_config.json": "{}",
			"b.localhost/site_config.json": "{}",
			"b.localhost/public/x.txt": "",
			"apps.txt": "frappe\n",
		},
	)
	for p in sites.rglob("*"):
		if p.is_file():
			p.chmod(0o644)
	setup.secure_site_configs(ctx)
	modes = {str(p.relative_to(sites)): p.stat().st_mode & 0o777 for p in sites.rglob("*") if p.is_file()}
	assert modes == {
		"common_site_config.json": 0o600,
		"a.localhost/site_config.json": 0o600,
		"b.localhost/site_config.json": 0o600,
		"b.localhost/public/x.txt": 0o644,
		"apps.txt": 0o644,
	}
