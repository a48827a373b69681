"""`./dms deploy`: the production stack of the test bench on loopback, driven as a dealer's IT does.

Runs as root in the production session of `./dms test` (DMS_REPO, DMS_BENCH, DMS_TEST_SITE set):
the checkout's real `./dms deploy` serves the kept test site (demo data) as `localhost` on free
ports, with a configuration file pointing outgoing mail and SMS at peers this module runs (an SMTP
server that wants a login, an HTTP SMS gateway). The stack is removed at the end, whatever happens.
"""

import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from cryptography import x509

REPO = Path(os.environ.get("DMS_REPO", ""))
BENCH = Path(os.environ.get("DMS_BENCH", ""))
SITE = os.environ.get("DMS_TEST_SITE", "")
NAME = BENCH.name  # bench's bench name: supervisor groups and nginx files are named after it
STATE = Path("/etc/aftersales-dms") / NAME / "deploy.json"
SUPERVISOR_CONF = Path("/etc/supervisor/conf.d") / f"{NAME}.conf"
NGINX_CONF = Path("/etc/nginx/conf.d") / f"{NAME}.conf"
ACCESS_LOG = Path("/var/log/nginx") / f"{NAME}.access.log"
HOST = "localhost"  # resolves on every machine: socket.io checks each login at the public URL
DEMO = json.loads((REPO / "fixtures" / "dms_demo.json").read_text()) if REPO.name else {}
USER, PASSWORD = "advisor@omp.example", DEMO.get("demo_password", "")
SMTP_LOGIN, SMTP_PASSWORD = "dms-relay", "relay-secret-4711"
SMS_APIKEY, SMS_AUTH = "key-0815", "Bearer sms-token-42"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="drives nginx and supervisor: root only")


def free_port() -> int:
	with socket.socket() as s:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]


def dms(*args, input=None, timeout=900, check=True):
	"""The checkout's ./dms as root, its output (stdout and stderr) in one text."""
	env = {k: v for k, v in os.environ.items() if k not in ("DMS_BENCH",)}
	r = subprocess.run(
		[str(REPO / "dms"), *args],
		cwd=REPO,
		env=env,
		input=input,
		capture_output=True,
		text=True,
		timeout=timeout,
	)
	out = r.stdout + r.stderr
	if check:
		assert r.returncode == 0, f"./dms {' '.join(args)} exited {r.returncode}:\n{out[-4000:]}"
	return r.returncode, out


def bench_execute(method, **kwargs):
	"""`./dms bench --site SITE execute METHOD --kwargs ...`: its printed result (JSON) or None."""
	_rc, out = dms("bench", "--site", SITE, "execute", method, "--kwargs", json.dumps(kwargs), timeout=300)
	lines = [line for line in out.splitlines() if line.strip() and not line.startswith("\x1b[1m[dms")]
	if not lines:
		return None
	try:
		return json.loads(lines[-1])
	except ValueError:
		return lines[-1]


def programs() -> dict[str, tuple[str, int]]:
	r = subprocess.run(["supervisorctl", "status"], capture_output=True, text=True)
	out = {}
	for line in r.stdout.splitlines():
		parts = line.split(None, 2)
		if len(parts) >= 2 and parts[0].startswith(f"{NAME}-"):
			m = re.search(r"pid (\d+)", parts[2] if len(parts) > 2 else "")
			out[parts[0].split(":", 1)[1]] = (parts[1], int(m.group(1)) if m else 0)
	return out


def wait_until(test, seconds=60, what="condition"):
	deadline = time.monotonic() + seconds
	while time.monotonic() < deadline:
		value = test()
		if value:
			return value
		time.sleep(0.5)
	raise AssertionError(f"{what}: not within {seconds} s")


class Gateway(BaseHTTPRequestHandler):
	"""An SMS gateway: records each request (query, form, headers) and answers 200."""

	received: list = []

	def handle_one(self, body: str):
		query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
		query.update(dict(urllib.parse.parse_qsl(body)))
		self.received.append({"params": query, "headers": dict(self.headers)})
		self.send_response(200)
		self.end_headers()
		self.wfile.write(b"OK")

	def do_GET(self):
		self.handle_one("")

	def do_POST(self):
		self.handle_one(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode())

	def log_message(self, *args):
		pass


def smtp_server(port: int):
	"""An SMTP server that accepts only SMTP_LOGIN/SMTP_PASSWORD (AUTH without TLS, loopback)."""
	from aiosmtpd.controller import Controller
	from aiosmtpd.smtp import AuthResult, LoginPassword

	class Sink:
		async def handle_DATA(self, server, session, envelope):
			return "250 OK"

	def authenticator(server, session, envelope, mechanism, auth_data):
		ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
			SMTP_LOGIN.encode(),
			SMTP_PASSWORD.encode(),
		)
		return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 535 itself

	controller = Controller(
		Sink(), hostname="127.0.0.1", port=port, authenticator=authenticator, auth_require_tls=False
	)
	controller.start()
	return controller


def write_private(path: Path, text: str) -> Path:
	path.write_text(text)
	path.chmod(0o600)
	return path


def production_config(tmp: Path, smtp_port: int, sms_port: int, smtp_password: str) -> Path:
	tag = smtp_password[:5]
	write_private(tmp / f"smtp-password-{tag}", smtp_password + "\n")
	write_private(tmp / "sms-apikey", SMS_APIKEY + "\n")
	write_private(tmp / "sms-auth", SMS_AUTH)
	return write_private(
		tmp / f"production-{tag}.toml",
		f"""
[smtp]
server = "127.0.0.1"
port = {smtp_port}
security = "none"
login = "{SMTP_LOGIN}"
password_file = "smtp-password-{tag}"
sender = "service@dealer.example"
account_name = "Dealer Outgoing (deploy test)"

[sms]
gateway_url = "http://127.0.0.1:{sms_port}/send"
message_parameter = "text"
receiver_parameter = "to"
use_post = true
reference_parameter = "client_ref"

[sms.parameters]
sender = "DEALER"
apikey = {{ file = "{tmp}/sms-apikey" }}

[sms.headers]
Authorization = {{ file = "sms-auth" }}
""",
	)


def restore_demo_settings():
	"""The test site's mail and SMS settings as the demo data made them (the main session's tests
	and DMS_REUSE_TEST_SITE runs rely on them)."""
	outbox, sms = DEMO["outbox"], DEMO["sms_gateway"]
	bench_execute("frappe.delete_doc", doctype="Email Account", name="Dealer Outgoing (deploy test)", force=1)
	bench_execute(
		"frappe.db.set_value",
		dt="Email Account",
		dn=outbox["email_account_name"],
		field="default_outgoing",
		val=1,
	)
	settings = {
		"sms": {
			"gateway_url": sms["sms_gateway_url"],
			"message_parameter": sms["message_parameter"],
			"receiver_parameter": sms["receiver_parameter"],
			"use_post": False,
			"reference_parameter": sms["reference_parameter"],
			"parameters": [{"parameter": "sender", "value": sms["sender"], "header": False}],
		}
	}
	dms("bench", "--site", SITE, "dms-production-settings", input=json.dumps(settings), timeout=300)


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
	if not (REPO / "dms").is_file() or not SITE:
		pytest.skip("needs DMS_REPO, DMS_BENCH and DMS_TEST_SITE (./dms test sets them)")
	if STATE.exists() or SUPERVISOR_CONF.exists() or NGINX_CONF.exists():
		pytest.skip(f"this bench is deployed for real ({STATE}): the test leaves it alone")
	tmp = tmp_path_factory.mktemp("deploy")
	Gateway.received = []
	gateway = ThreadingHTTPServer(("127.0.0.1", free_port()), Gateway)
	threading.Thread(target=gateway.serve_forever, daemon=True).start()
	smtp_port = free_port()
	smtp = smtp_server(smtp_port)
	ports = {name: free_port() for name in ("https", "http", "redis_cache", "redis_queue")}
	config = production_config(tmp, smtp_port, gateway.server_address[1], SMTP_PASSWORD)
	info = {"tmp": tmp, "ports": ports, "gateway": gateway, "smtp_port": smtp_port, "config": config}
	try:
		_rc, info["output"] = dms(
			"deploy",
			"--host",
			HOST,
			"--site",
			SITE,
			"--https-port",
			str(ports["https"]),
			"--http-port",
			str(ports["http"]),
			"--redis-cache-port",
			str(ports["redis_cache"]),
			"--redis-queue-port",
			str(ports["redis_queue"]),
			"--gunicorn-workers",
			"2",
			"--config",
			str(config),
		)
		info["state"] = json.loads(STATE.read_text())
		info["url"] = f"https://{HOST}:{ports['https']}"
		info["cert"] = info["state"]["deployment"]["cert"]
		yield info
	finally:
		rc, out = dms("deploy", "--remove", check=False)
		try:
			restore_demo_settings()
		finally:
			smtp.stop()
			gateway.shutdown()
		assert rc == 0, out[-3000:]
		assert not SUPERVISOR_CONF.exists() and not NGINX_CONF.exists() and not STATE.parent.exists()
		assert not programs(), programs()


def log_lines(text: str) -> list[str]:
	"""The lines of this deployment's nginx access log that contain `text`."""
	return [line for line in ACCESS_LOG.read_text().splitlines() if text in line]


def session(info, verify=None) -> requests.Session:
	s = requests.Session()
	s.verify = verify or info["cert"]  # the generated certificate is the only one trusted
	s.trust_env = False  # REQUESTS_CA_BUNDLE would replace it (and proxies have no business here)
	return s


def login(info, verify=None) -> requests.Session:
	s = session(info, verify)
	r = s.post(f"{info['url']}/api/method/login", data={"usr": USER, "pwd": PASSWORD}, timeout=60)
	assert r.status_code == 200, (r.status_code, r.text[:300])
	return s


def realtime_probe(info, verify=None):
	"""A socket.io client logged in through nginx receives an event the server publishes."""
	import socketio

	s = login(info, verify)
	received = []
	client = socketio.Client(http_session=s, reconnection=False)
	client.on("dms_deploy_probe", lambda message: received.append(message), namespace=f"/{SITE}")
	client.connect(
		info["url"],
		namespaces=[f"/{SITE}"],
		transports=["websocket"],
		headers={"Cookie": f"sid={s.cookies['sid']}"},
		wait_timeout=30,
	)
	try:
		token = f"probe-{time.time_ns()}"
		bench_execute(
			"frappe.publish_realtime", event="dms_deploy_probe", message={"token": token}, user=USER
		)
		wait_until(lambda: received, 30, "the realtime event")
		assert received == [{"token": token}]
	finally:
		client.disconnect()


def dealer_certificate(folder: Path) -> tuple[Path, Path, Path]:
	"""A CA of the test and a certificate for HOST that it signed, as a dealer gets them: the
	certificate file holds the chain (the certificate, then the CA's), the key its own file."""
	import datetime

	from cryptography.hazmat.primitives import hashes, serialization
	from cryptography.hazmat.primitives.asymmetric import rsa
	from cryptography.x509.oid import NameOID

	folder.mkdir(parents=True, exist_ok=True)
	now = datetime.datetime.now(datetime.timezone.utc)

	def cert(subject, issuer, public_key, signing_key, extensions):
		builder = (
			x509.CertificateBuilder()
			.subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
			.issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
			.public_key(public_key)
			.serial_number(x509.random_serial_number())
			.not_valid_before(now - datetime.timedelta(days=1))
			.not_valid_after(now + datetime.timedelta(days=30))
		)
		for extension, critical in extensions:
			builder = builder.add_extension(extension, critical=critical)
		return builder.sign(signing_key, hashes.SHA256())

	ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
	ca = cert(
		"Dealer Test CA",
		"Dealer Test CA",
		ca_key.public_key(),
		ca_key,
		[(x509.BasicConstraints(ca=True, path_length=None), True)],
	)
	key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
	leaf = cert(
		HOST,
		"Dealer Test CA",
		key.public_key(),
		ca_key,
		[(x509.SubjectAlternativeName([x509.DNSName(HOST)]), False)],
	)
	pem = serialization.Encoding.PEM
	(folder / "ca.pem").write_bytes(ca.public_bytes(pem))
	(folder / "fullchain.pem").write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
	key_bytes = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
	write_private(folder / "privkey.pem", key_bytes.decode())
	return folder / "fullchain.pem", folder / "privkey.pem", folder / "ca.pem"


def test_deploy_says_what_it_did_and_runs_every_program_under_supervisor(deployed):
	out = deployed["output"]
	assert "SELF-SIGNED" in out and f"for {HOST}" in out
	assert f"Aftersales DMS is served as production: {deployed['url']}" in out
	assert "Email Account 'Dealer Outgoing (deploy test)': created" in out
	assert "SMS Settings: updated" in out
	running = programs()
	expected = {
		f"{NAME}-mariadb",
		f"{NAME}-redis-cache",
		f"{NAME}-redis-queue",
		f"{NAME}-frappe-web",
		f"{NAME}-node-socketio",
		f"{NAME}-frappe-schedule",
		f"{NAME}-frappe-short-worker-0",
		f"{NAME}-frappe-long-worker-0",
	}
	assert set(running) == expected, running
	assert all(state == "RUNNING" and pid for state, pid in running.values()), running
	# what runs is the bench's: MariaDB on its socket, Redis on the ports asked for
	ports = deployed["ports"]
	conf = SUPERVISOR_CONF.read_text()
	assert f"--defaults-file={BENCH}/db/my.cnf" in conf
	assert f"--port {ports['redis_cache']}" in conf and f"--port {ports['redis_queue']}" in conf
	common = json.loads((BENCH / "sites" / "common_site_config.json").read_text())
	assert common["redis_queue"] == f"redis://127.0.0.1:{ports['redis_queue']}"
	assert common["webserver_port"] == deployed["state"]["deployment"]["web_port"]
	# a worker runs as the bench user, without CI (Frappe's test mode would fake sending mail)
	pid = running[f"{NAME}-frappe-short-worker-0"][1]
	environ = dict(
		item.split("=", 1) for item in Path(f"/proc/{pid}/environ").read_text().split("\0") if "=" in item
	)
	assert "CI" not in environ
	assert Path(f"/proc/{pid}").stat().st_uid == int(
		subprocess.run(["id", "-u", "dms"], capture_output=True, text=True).stdout
	)


def test_demo_sinks_are_not_part_of_production(deployed):
	conf = SUPERVISOR_CONF.read_text()
	assert "aiosmtpd" not in conf and "sms_sink" not in conf
	for proc in Path("/proc").iterdir():
		if not proc.name.isdigit():
			continue
		try:
			cwd = os.readlink(proc / "cwd")
			cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
		except OSError:
			continue
		if cwd.startswith(str(BENCH)):
			assert "aiosmtpd" not in cmdline and "sms_sink" not in cmdline, (proc.name, cmdline)


def test_https_login_as_a_demo_user_checked_against_the_generated_certificate(deployed):
	s = login(deployed)
	r = s.get(f"{deployed['url']}/app", timeout=60)
	assert r.status_code == 200 and "frappe.boot" in r.text
	assert r.headers["Server"].startswith("nginx")
	assert "Strict-Transport-Security" not in r.headers  # browsers could not pass a self-signed warning
	# the certificate is for the host, self-signed: this machine's CAs do not know it
	with pytest.raises(requests.exceptions.SSLError):
		plain = requests.Session()
		plain.trust_env = False
		plain.get(f"{deployed['url']}/api/method/ping", timeout=30)
	cert = x509.load_pem_x509_certificate(Path(deployed["cert"]).read_bytes())
	assert cert.issuer == cert.subject  # self-signed
	names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
	assert names.get_values_for_type(x509.DNSName) == [HOST]
	# plain HTTP is redirected to HTTPS on the HTTPS port
	r = requests.get(
		f"http://127.0.0.1:{deployed['ports']['http']}/app",
		headers={"Host": HOST},
		allow_redirects=False,
		timeout=30,
	)
	assert r.status_code == 301 and r.headers["Location"] == f"{deployed['url']}/app"


def test_the_desks_assets_are_served_by_nginx_from_the_bench(deployed):
	s = login(deployed)
	page = s.get(f"{deployed['url']}/app", timeout=60).text
	assets = re.findall(r'"(/assets/(?:frappe|aftersales_dms)/dist/(?:js|css)/[^"]+\.(?:js|css))"', page)
	assert assets, "no bundle in the desk page"
	for asset in assets[:2]:
		r = s.get(f"{deployed['url']}{asset}", timeout=60)
		assert r.status_code == 200 and r.headers["Cache-Control"] == "max-age=31536000"
		# nginx's ETag is the file's mtime and size in hex: it read the file from sites/assets
		st = (BENCH / "sites" / asset.lstrip("/")).stat()
		assert r.headers["ETag"].strip('W/"') == f"{int(st.st_mtime):x}-{st.st_size:x}", r.headers
		# and its access log says no upstream served it (the desk page itself came from gunicorn)
		lines = wait_until(lambda a=asset: log_lines(f"GET {a} "), 10, "the access log line")
		assert lines[-1].split("upstream=")[1].startswith("- "), lines[-1]
	web_port = deployed["state"]["deployment"]["web_port"]
	desk = log_lines('"GET /app HTTP')
	assert desk and f"upstream=127.0.0.1:{web_port}" in desk[-1]


def test_realtime_through_the_proxy_reaches_a_logged_in_client(deployed):
	realtime_probe(deployed)
	lines = [line for line in log_lines("GET /socket.io/") if '" 101 ' in line]
	assert lines and f"upstream=127.0.0.1:{deployed['state']['deployment']['socketio_port']}" in lines[-1]


def test_killed_workers_are_restarted_and_a_job_after_that_is_done(deployed):
	workers = [f"{NAME}-frappe-short-worker-0", f"{NAME}-frappe-long-worker-0"]
	before = {w: programs()[w][1] for w in workers}
	for pid in before.values():
		os.kill(pid, signal.SIGKILL)

	def restarted():
		now = programs()
		return all(now[w][0] == "RUNNING" and now[w][1] not in (0, before[w]) for w in workers) and now

	now = wait_until(restarted, 60, "supervisor restarting the killed workers")
	assert all(now[w][1] != before[w] for w in workers)
	# an SMS queued now is sent by a (restarted) worker to the gateway of the configuration file
	Gateway.received.clear()
	token = f"deploy test {time.time_ns()}"
	bench_execute("aftersales_dms.delivery.sms_outbox.queue_sms", receivers=["+919812345678"], message=token)
	got = wait_until(
		lambda: [r for r in Gateway.received if r["params"].get("text") == token], 90, "the SMS job"
	)
	params, headers = got[0]["params"], got[0]["headers"]
	assert params["to"] == "+919812345678" and params["sender"] == "DEALER" and params["apikey"] == SMS_APIKEY
	assert params["client_ref"] and headers["Authorization"] == SMS_AUTH
	status = wait_until(
		lambda: bench_execute(
			"frappe.db.get_value", doctype="Outgoing SMS", filters={"message": token}, fieldname="status"
		)
		== "Sent",
		60,
		"the Outgoing SMS marked Sent",
	)
	assert status


def test_rerunning_deploy_changes_nothing(deployed):
	before = programs()
	mtimes = {p: p.stat().st_mtime_ns for p in (SUPERVISOR_CONF, NGINX_CONF, STATE)}
	_rc, out = dms("deploy")  # the recorded deployment, with its configuration file
	assert "nothing changed: everything was as asked (unchanged)" in out, out[-3000:]
	assert f"{SUPERVISOR_CONF}: unchanged" in out and f"{NGINX_CONF}: unchanged" in out
	assert "Email Account 'Dealer Outgoing (deploy test)': unchanged" in out
	assert "SMS Settings: unchanged" in out
	assert programs() == before  # nothing restarted
	assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes


def test_a_wrong_smtp_password_is_refused_and_leaves_everything_as_it_was(deployed):
	before = programs()
	bad = production_config(
		deployed["tmp"], deployed["smtp_port"], deployed["gateway"].server_address[1], "wrong-password"
	)
	rc, out = dms("deploy", "--config", str(bad), check=False)
	assert rc != 0
	assert "the production settings were not applied (the site is as it was)" in out, out[-2000:]
	assert "login credentials" in out, out[-2000:]
	assert json.loads(STATE.read_text())["deployment"]["config"] == str(deployed["config"])
	assert programs() == before
	# the account still logs in with the good password: deploy again with the recorded config
	_rc, out = dms("deploy")
	assert "Email Account 'Dealer Outgoing (deploy test)': unchanged" in out


def test_bad_options_and_configuration_are_refused_before_anything_is_done(deployed, tmp_path):
	rc, out = dms("deploy", "--cert", "/etc/hostname", check=False)
	assert rc != 0 and "--cert and --key go together" in out
	rc, out = dms("deploy", "--https-port", str(deployed["ports"]["http"]), check=False)
	assert rc != 0 and "two services on one port" in out
	bad = write_private(tmp_path / "bad.toml", '[smtp]\nserver = "x"\npasword_file = "p"\n')
	rc, out = dms("deploy", "--config", str(bad), check=False)
	assert rc != 0 and "unknown key(s) in [smtp]: pasword_file" in out
	rc, out = dms("deploy", "--remove", "--host", "x", check=False)
	assert rc != 0 and "--remove takes no other option" in out
	assert programs() and all(state == "RUNNING" for state, _pid in programs().values())


def test_the_dealers_certificate_replaces_the_self_signed_one_and_back(deployed, tmp_path):
	chain, key, ca = dealer_certificate(tmp_path / "dealer")
	_chain, other_key, _ca = dealer_certificate(tmp_path / "other")
	rc, out = dms("deploy", "--cert", str(chain), "--key", str(other_key), check=False)
	assert rc != 0 and f"the key {other_key} does not belong to the certificate {chain}" in out
	before = programs()
	_rc, out = dms("deploy", "--cert", str(chain), "--key", str(key))
	assert f"certificate: the dealer's, {chain}" in out and "nginx: reloaded" in out
	assert "SELF-SIGNED" not in out
	s = login(deployed, verify=str(ca))  # checked against the dealer's CA now
	r = s.get(f"{deployed['url']}/app", timeout=60)
	assert r.status_code == 200 and r.headers["Strict-Transport-Security"].startswith("max-age=")
	site_config = json.loads((BENCH / "sites" / SITE / "site_config.json").read_text())
	assert (site_config["ssl_certificate"], site_config["ssl_certificate_key"]) == (str(chain), str(key))
	# socket.io checks logins through the public URL: it trusts what the certificate file holds
	# (the file is root's here, in pytest's private temporary folder: deploy gives socket.io a copy)
	realtime_probe(deployed, verify=str(ca))
	# only socket.io was restarted (to trust the new certificate); the rest kept running
	assert "socket.io restarted (certificate changed)" in out
	after = programs()
	for program in before:
		if "node-socketio" not in program:
			assert after[program] == before[program], program
	assert after[f"{NAME}-node-socketio"] != before[f"{NAME}-node-socketio"]
	_rc, out = dms("deploy", "--self-signed")
	assert f"certificate: self-signed for {HOST}, {deployed['cert']} (unchanged)" in out
	assert login(deployed).get(f"{deployed['url']}/api/method/ping", timeout=30).json() == {"message": "pong"}


def test_status_shows_each_service(deployed):
	_rc, out = dms("status")
	assert f"production: {deployed['url']} (site {SITE};" in out
	for program in programs():
		line = next(line for line in out.splitlines() if f":{program} " in line)
		assert "RUNNING" in line and re.search(r"pid \d+, uptime \d+:\d\d:\d\d", line), line
	assert re.search(r"nginx: running \(pid \d+\), .*configuration ok", out)
	assert f"https: 200 OK from {deployed['url']}/api/method/ping" in out
	assert "mariadb: up" in out
	assert f"redis cache: up (127.0.0.1:{deployed['ports']['redis_cache']})" in out
	assert f"redis queue: up (127.0.0.1:{deployed['ports']['redis_queue']})" in out
	assert "bench:" in out and "pinned:" in out  # what it printed before


def test_up_refuses_and_down_stops_the_programs_deploy_starts_again(deployed):
	"""On a deployed bench the development server would run beside supervisor's programs, and
	killing them would only make supervisor restart them: `up` refuses, `down` stops the programs
	through supervisor, and `deploy` starts them again."""
	rc, out = dms("up", check=False)
	assert rc == 1 and "is served for production" in out and "./dms deploy --remove" in out, out[-2000:]
	assert programs() and all(state == "RUNNING" for state, _pid in programs().values()), programs()
	_rc, out = dms("down")
	assert "stopping the production programs" in out, out[-2000:]
	assert all(state == "STOPPED" for state, _pid in programs().values()), programs()
	_rc, out = dms("deploy")
	assert "starting" in out, out[-3000:]
	wait_until(
		lambda: all(state == "RUNNING" for state, _pid in programs().values()),
		90,
		"the programs running again",
	)
	assert (
		login(deployed, verify=deployed["cert"])
		.get(f"{deployed['url']}/api/method/frappe.auth.get_logged_user")
		.ok
	)
