"""`./dms deploy`'s logic without a machine: options resolved against the recorded deployment,
the configuration file, the generated supervisor and nginx files, status parsing. The deployment
itself: tests/production/test_deploy.py."""

import json
import re
from pathlib import Path

import pytest

from dms_cli import deploy
from dms_cli.context import DmsError

REPO = Path(__file__).resolve().parents[2]


def free_port_from(ports):
	return ports[0]


def resolve(opts, previous=None, cpus=2):
	return deploy.resolve(opts, previous, cpus=cpus, redis_ports=(13000, 11000), free_port=free_port_from)


def test_defaults_for_a_first_deploy():
	d = resolve({"host": "service.dealer.example"})
	assert (d.site, d.https_port, d.http_port) == ("service.dealer.example", 443, 80)
	assert (d.web_port, d.socketio_port) == (18000, 19000)  # away from ./dms up's 8000 and 9000
	assert (d.redis_cache_port, d.redis_queue_port) == (13000, 11000)  # config/redis_*.conf's
	assert d.gunicorn_workers == 5  # bench's 2 x cores + 1
	assert d.self_signed and d.url == "https://service.dealer.example"


def test_gunicorn_workers_follow_the_cores():
	assert [deploy.default_gunicorn_workers(n) for n in (1, 2, 8)] == [3, 5, 17]
	assert resolve({"host": "h.example"}, cpus=4).gunicorn_workers == 9


def test_a_rerun_without_options_keeps_what_was_deployed():
	first = resolve({"host": "h.example", "https_port": 8443, "web_port": 18010, "gunicorn_workers": 2})
	again = resolve({}, first)
	assert again == first
	assert again.url == "https://h.example:8443"
	moved = resolve({"https_port": 9443}, first)
	assert (moved.https_port, moved.web_port, moved.host) == (9443, 18010, "h.example")


def test_the_dealers_certificate_is_kept_until_self_signed_is_asked_for(tmp_path):
	cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
	d = resolve({"host": "h.example", "cert": str(cert), "key": str(key)})
	assert (d.self_signed, d.cert, d.key) == (False, str(cert), str(key))
	assert resolve({}, d).cert == str(cert)
	back = resolve({"self_signed": True}, d)
	assert back.self_signed and back.cert == ""  # made again by the deploy


@pytest.mark.parametrize(
	"opts, message",
	[
		({}, "which host name"),
		({"host": "bad host"}, "is not a host name"),
		({"host": "h.example", "cert": "c.pem"}, "--cert and --key go together"),
		({"host": "h.example", "cert": "c", "key": "k", "self_signed": True}, "not both"),
		({"host": "h.example", "https_port": 80}, "two services on one port"),
		({"host": "h.example", "web_port": 70000}, "is not a port"),
		({"host": "h.example", "gunicorn_workers": 0}, "at least 1"),
		({"host": "h.example", "site": "../x"}, "is not a site name"),
	],
)
def test_bad_options_are_refused_with_a_clear_message(opts, message):
	with pytest.raises(DmsError) as e:
		resolve(opts)
	assert message in e.value.message


def test_hosts_and_ip_addresses():
	assert deploy.valid_host("service.dealer.example") and deploy.valid_host("localhost")
	assert deploy.valid_host("192.168.1.10") and deploy.valid_host("::1")
	assert not deploy.valid_host("999.1.1.1") and not deploy.valid_host("-x.example")
	assert deploy.is_ip("10.0.0.1") and not deploy.is_ip("h.example")


def write(path: Path, text: str, mode=0o600) -> Path:
	path.write_text(text)
	path.chmod(mode)
	return path


def test_config_reads_secrets_from_their_files(tmp_path):
	write(tmp_path / "smtp-pass", "s3cret\n")
	write(tmp_path / "key", "k-123")
	write(tmp_path / "admin", "Admin#Pass\n")
	config = write(
		tmp_path / "prod.toml",
		"""
[smtp]
server = "smtp.dealer.example"
port = 587
login = "dms"
password_file = "smtp-pass"
sender = "service@dealer.example"

[sms]
gateway_url = "https://sms.example/send"
message_parameter = "text"
receiver_parameter = "to"
[sms.parameters]
sender = "DEALER"
apikey = { file = "key" }
[sms.headers]
Authorization = "Bearer x"

[site]
admin_password_file = "admin"
""",
	)
	settings, admin = deploy.parse_config(config)
	assert settings["smtp"] == {
		"server": "smtp.dealer.example",
		"port": 587,
		"login": "dms",
		"password": "s3cret",
		"sender": "service@dealer.example",
	}
	assert settings["sms"]["parameters"] == [
		{"parameter": "sender", "value": "DEALER", "header": False},
		{"parameter": "apikey", "value": "k-123", "header": False},
		{"parameter": "Authorization", "value": "Bearer x", "header": True},
	]
	assert admin == "Admin#Pass"


def test_config_in_json_too(tmp_path):
	config = write(
		tmp_path / "prod.json", json.dumps({"smtp": {"server": "127.0.0.1", "sender": "a@b.example"}})
	)
	assert deploy.parse_config(config) == ({"smtp": {"server": "127.0.0.1", "sender": "a@b.example"}}, None)


@pytest.mark.parametrize(
	"text, message",
	[
		("[mail]\nserver = 'x'\n", "unknown section(s) mail"),
		("[smtp]\nserver = 'x'\npasword_file = 'p'\n", "unknown key(s) in [smtp]: pasword_file"),
		("[smtp]\nserver = 'x'\nlogin = 'u'\n", "login and password_file go together"),
		("[smtp]\nserver = 'x'\nlogin = 'u'\npassword_file = 'missing'\n", "cannot read"),
		("[sms]\ngateway_url = 'x'\n[sms.parameters]\nkey = { path = 'p' }\n", "must be a text or"),
		("smtp = 3\n", "[smtp] must be a table"),
		("[smtp\n", "is not valid TOML"),
	],
)
def test_bad_config_is_refused_with_a_clear_message(tmp_path, text, message):
	with pytest.raises(DmsError) as e:
		deploy.parse_config(write(tmp_path / "prod.toml", text))
	assert message in e.value.message


def test_an_empty_secret_file_is_refused(tmp_path):
	write(tmp_path / "empty", "\n")
	config = write(tmp_path / "p.toml", "[smtp]\nserver='x'\nlogin='u'\npassword_file='empty'\n")
	with pytest.raises(DmsError, match="is empty"):
		deploy.parse_config(config)


def test_render_refuses_missing_and_unused_values():
	assert deploy.render("a @X@ b @Y@", {"X": 1, "Y": "z"}) == "a 1 b z"
	with pytest.raises(ValueError, match="missing \\['Y'\\]"):
		deploy.render("@X@ @Y@", {"X": 1})
	with pytest.raises(ValueError, match="unused \\['Z'\\]"):
		deploy.render("@X@", {"X": 1, "Z": 2})


def deployment(**kw):
	base = {
		"host": "service.dealer.example",
		"site": "dealer.localhost",
		"web_port": 18000,
		"socketio_port": 19000,
		"redis_cache_port": 13000,
		"redis_queue_port": 11000,
		"gunicorn_workers": 5,
		"cert": "/etc/aftersales-dms/b/ssl/service.dealer.example.crt",
		"key": "/etc/aftersales-dms/b/ssl/service.dealer.example.key",
	}
	return deploy.Deployment(**{**base, **kw})


NAMES = deploy.Names(Path("/home/dms/benches/aftersales-dms-1234abcd"))


def supervisor(d):
	template = (REPO / "config" / "production" / "supervisor.conf.in").read_text()
	return deploy.supervisor_conf(
		template, d, NAMES, user="dms", home=Path("/home/dms"), tools=Path("/home/dms/tools")
	)


def test_supervisor_programs_mirror_bench_and_add_the_benchs_mariadb_and_redis():
	conf = supervisor(deployment())
	name = "aftersales-dms-1234abcd"
	for program in (
		"mariadb",
		"redis-cache",
		"redis-queue",
		"frappe-web",
		"node-socketio",
		"frappe-schedule",
		"frappe-short-worker",
		"frappe-long-worker",
	):
		assert f"[program:{name}-{program}]" in conf
	for group in ("db", "redis", "web", "workers"):
		assert f"[group:{name}-{group}]" in conf
	assert (
		"/home/dms/benches/aftersales-dms-1234abcd/env/bin/gunicorn -b 127.0.0.1:18000 -w 5 "
		"--max-requests 5000 --max-requests-jitter 500 -t 120 --graceful-timeout 30 "
		"frappe.app:application --preload"
	) in conf
	assert "worker --queue short,default" in conf and "worker --queue long,default,short" in conf
	assert "--defaults-file=/home/dms/benches/aftersales-dms-1234abcd/db/my.cnf" in conf
	assert "config/redis_cache.conf --port 13000" in conf
	assert 'FRAPPE_SOCKETIO_PORT="19000"' in conf
	# socket.io trusts a copy of the served certificate that the bench user can read
	assert 'NODE_EXTRA_CA_CERTS="/etc/aftersales-dms/aftersales-dms-1234abcd/ssl/socketio-trust.pem"' in conf
	assert conf.count("autorestart=true") == 8 and conf.count("autostart=true") == 8
	assert conf.count("user=dms") == 8
	assert not re.search(r"\bCI=", conf)  # no CI in any program's environment
	assert "aiosmtpd" not in conf and "sms_sink" not in conf  # no demo sinks
	assert "@" not in conf.replace("@dms", "")


def test_one_gunicorn_worker_is_not_recycled():
	assert "--max-requests 0 --max-requests-jitter 0" in supervisor(deployment(gunicorn_workers=1))


def nginx(d):
	return deploy.nginx_conf((REPO / "config" / "production" / "nginx.conf.in").read_text(), d, NAMES)


def test_nginx_serves_https_assets_and_socketio_like_bench():
	conf = nginx(deployment())
	assert "listen 443 ssl;" in conf and "listen [::]:443 ssl;" in conf
	assert "server_name service.dealer.example;" in conf
	assert "root /home/dms/benches/aftersales-dms-1234abcd/sites;" in conf
	assert "ssl_certificate      /etc/aftersales-dms/b/ssl/service.dealer.example.crt;" in conf
	assert "location /assets {\n\t\ttry_files $uri =404;" in conf
	assert "proxy_set_header X-Frappe-Site-Name dealer.localhost;" in conf
	assert (
		"server 127.0.0.1:18000 fail_timeout=0;" in conf and "server 127.0.0.1:19000 fail_timeout=0;" in conf
	)
	assert 'proxy_set_header Upgrade $http_upgrade;\n\t\tproxy_set_header Connection "upgrade";' in conf
	assert "try_files /dealer.localhost/public/$uri @webserver;" in conf
	assert "return 301 https://$host$request_uri;" in conf and "listen 80;" in conf
	assert "access_log /var/log/nginx/aftersales-dms-1234abcd.access.log aftersales_dms_1234abcd_log;" in conf
	assert "# no Strict-Transport-Security" in conf  # self-signed: browsers must let users past the warning
	assert "@" not in conf.replace("@webserver", "")


def test_nginx_serves_uploads_a_browser_would_run_as_sandboxed_downloads():
	"""Public (/files) and private (/protected, after Frappe's X-Accel-Redirect) HTML, SVG, XML and
	script files: an attachment in a CSP sandbox, with nosniff (#20). A location with its own
	add_header loses the server's, so each such location repeats them."""
	for conf in (nginx(deployment()), nginx(deployment(self_signed=False))):
		blocks = re.findall(r"location ~\* (\S+) \{(.*?)\n\t\t\}", conf, re.S)
		assert [b[0].split("/")[1] for b in blocks] == ["protected", "files"], blocks
		for (pattern, block), prefix in zip(blocks, ("/protected/private/files", "/files"), strict=False):
			rx = re.compile(pattern, re.I)
			for path in ("x.html", "x.HTM", "x.svg", "x.xhtml", "x.xml", "x.js", "x.mjs", "x.shtml"):
				assert rx.search(f"{prefix}/{path}"), (pattern, path)
			for path in ("x.pdf", "x.jpg", "x.png", "x.html.pdf", "x.json", "x.csv"):
				assert not rx.search(f"{prefix}/{path}"), (pattern, path)
			assert 'add_header Content-Disposition "attachment";' in block
			assert "add_header Content-Security-Policy \"sandbox; default-src 'none'\";" in block
			assert "add_header X-Content-Type-Options nosniff;" in block
			assert 'add_header X-Frame-Options "SAMEORIGIN";' in block
			assert ("Strict-Transport-Security" in block) == ("Strict-Transport-Security" in conf)
		assert conf.count("add_header X-Content-Type-Options nosniff;") == 3  # the server's too


def test_nginx_on_other_ports_and_with_the_dealers_certificate():
	conf = nginx(deployment(https_port=8443, http_port=8080, self_signed=False))
	assert "listen 8443 ssl;" in conf and "listen 8080;" in conf
	assert "return 301 https://$host:8443$request_uri;" in conf
	assert 'add_header Strict-Transport-Security "max-age=63072000; includeSubDomains";' in conf


def test_supervisorctl_status_lines():
	line = "b-web:b-frappe-web                RUNNING   pid 4242, uptime 0:03:07"
	assert deploy.status_line(line) == ("b-web:b-frappe-web", "RUNNING", "pid 4242, uptime 0:03:07")
	assert deploy.status_line("b-workers:b-frappe-schedule   FATAL     Exited too quickly") == (
		"b-workers:b-frappe-schedule",
		"FATAL",
		"Exited too quickly",
	)
	assert deploy.status_line("") is None


def test_names_of_a_benchs_deployment():
	assert NAMES.supervisor_conf == Path("/etc/supervisor/conf.d/aftersales-dms-1234abcd.conf")
	assert NAMES.nginx_conf == Path("/etc/nginx/conf.d/aftersales-dms-1234abcd.conf")
	assert NAMES.state_file == Path("/etc/aftersales-dms/aftersales-dms-1234abcd/deploy.json")
	assert NAMES.program("workers", "frappe-short-worker-0") == (
		"aftersales-dms-1234abcd-workers:aftersales-dms-1234abcd-frappe-short-worker-0"
	)


def test_the_code_key_follows_the_apps_files(tmp_path):
	app = tmp_path / "apps" / "aftersales_dms" / "aftersales_dms"
	app.mkdir(parents=True)
	(app / "hooks.py").write_text("a = 1\n")
	key = deploy.code_key(tmp_path)
	assert deploy.code_key(tmp_path) == key
	(app / "__pycache__").mkdir()
	(app / "__pycache__" / "hooks.cpython-311.pyc").write_bytes(b"x")
	assert deploy.code_key(tmp_path) == key  # caches are not code
	(app / "hooks.py").write_text("a = 2\n")
	assert deploy.code_key(tmp_path) != key


def test_deploy_help_is_its_section_and_the_options():
	from click.testing import CliRunner

	from dms_cli import main

	r = CliRunner().invoke(main.cli, ["deploy", "--help"], prog_name="dms")
	assert r.exit_code == 0, r.output
	assert r.output.startswith(main.help_section("deploy"))
	for option in ("--host", "--site", "--cert", "--key", "--config", "--demo", "--remove", "--https-port"):
		assert option in r.output
