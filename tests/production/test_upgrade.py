"""`./dms upgrade` from the app as released earlier (tag v0.1.0) to this checkout's HEAD, run as root
the way a dealer's IT runs it.

A clone of the checkout at the tag builds its own bench with its own `./dms up` (the bash script of
that time; Frappe and ERPNext from the local source directory, where this test puts one extra
commit on Frappe's branch: "the Frappe the dealer had"), so its site has the old schema, the demo
network and documents the test makes with that version's code (a job card taken to a submitted
invoice, a private file, workshop hours changed on the Company, where 0.1.0 kept them). Then:

1. HEAD plus a commit adding a patch that raises: `./dms upgrade` exits non-zero, says which patch
   failed and why, and the site is as before: old code (app 0.1.0, the earlier Frappe commit), the
   old schema and Patch Log, the same figures and documents, served and logged into;
2. HEAD: `./dms upgrade` exits 0, prints the versions and the patches that ran; the app's version,
   the new patches in the Patch Log, the workshop hours moved into Dealer Workshop Settings, the
   same job cards, invoices and GL totals, the documents readable over HTTP;
3. again: nothing to upgrade, nothing done.

The clone, its bench (MariaDB included), its CLI environment and the source copy are removed
afterwards."""

import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import requests

REPO = os.environ.get("DMS_REPO", "")
TAG = "v0.1.0"
TAG_COMMIT = "e69a485151cbcf4dbe57c91264666f7b90880b7f"  # the tag's commit, for clones without tags
BENCH_USER = os.environ.get("DMS_USER") or "dms"
COMPANY = "Orion Motors Pune"
FAILING_PATCH = "aftersales_dms.patches.v1_0.fails_on_purpose"
FAILING_MESSAGE = "upgrade test: this patch fails on purpose"
ADVISOR = "advisor@omp.example"
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

pytestmark = pytest.mark.skipif(
	os.geteuid() != 0 or not REPO, reason="./dms upgrade is run as root on a checkout (DMS_REPO)"
)


def free_port() -> int:
	with socket.socket() as s:
		s.bind(("127.0.0.1", 0))
		return s.getsockname()[1]


def run(cmd, cwd=None, env=None, timeout=600, check=True):
	r = subprocess.run(
		cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout
	)
	if check:
		assert r.returncode == 0, (cmd, r.returncode, r.stdout[-4000:])
	return r


def git(repo, *args, **kw):
	return run(["git", "-c", "safe.directory=*", "-C", str(repo), *args], **kw).stdout.strip()


def bench_home() -> str:
	return pwd.getpwnam(BENCH_USER).pw_dir


def as_bench_user(bench, args, timeout=300, check=True, cwd=None):
	tools = f"{bench_home()}/.local/share/aftersales-dms/tools/bin"
	env_vars = [f"HOME={bench_home()}", f"PATH={bench}/env/bin:{tools}:{SYSTEM_PATH}", "LANG=C.UTF-8"]
	cmd = ["runuser", "-u", BENCH_USER, "--", "env", "-u", "CI", *env_vars, *args]
	return run(cmd, cwd=cwd or str(bench), timeout=timeout, check=check)


QUERY_PRELUDE = """
import json, sys
import frappe
frappe.init(site=sys.argv[1], sites_path=".")
frappe.connect()
frappe.set_user("Administrator")
out = {}
"""


def site_query(bench, site, code, timeout=300):
	"""Python run against the site by the bench's own interpreter (whatever code the bench has);
	`code` fills the dict `out`, which comes back."""
	script = (
		QUERY_PRELUDE + code + '\nfrappe.db.commit()\nprint("QUERY-RESULT " + json.dumps(out, default=str))\n'
	)
	r = as_bench_user(
		bench, [f"{bench}/env/bin/python", "-c", script, site], timeout=timeout, cwd=f"{bench}/sites"
	)
	line = [x for x in r.stdout.splitlines() if x.startswith("QUERY-RESULT ")]
	assert line, r.stdout[-3000:]
	return json.loads(line[-1][len("QUERY-RESULT ") :])


# what the test compares before and after: generic Frappe reads that work on either version
STATE = """
out["counts"] = {d: frappe.db.count(d) for d in (
	"Service Job Card", "Sales Invoice", "Stock Entry", "Service Appointment", "Customer Vehicle",
	"Customer", "File", "Comment")}
debit, credit = frappe.db.sql("select sum(debit), sum(credit) from `tabGL Entry` where is_cancelled = 0")[0]
out["gl"] = [round(float(debit or 0), 2), round(float(credit or 0), 2)]
out["stock"] = round(float(frappe.db.sql("select sum(actual_qty) from `tabBin`")[0][0] or 0), 3)
out["patches"] = sorted(frappe.get_all("Patch Log", pluck="patch"))
out["app_version"] = frappe.db.get_value("Installed Application", {"app_name": "aftersales_dms"}, "app_version")
out["has_dws"] = bool(frappe.db.table_exists("Dealer Workshop Settings"))
out["company_columns"] = frappe.db.has_column("Company", "dms_workshop_opens")
out["maintenance_mode"] = bool(frappe.conf.maintenance_mode)
note = frappe.db.get_value("File", {"file_name": "upgrade-note.txt"}, "name")
out["note"] = frappe.get_doc("File", note).get_content() if note else None
if isinstance(out["note"], bytes):
	out["note"] = out["note"].decode()
"""

# documents made with 0.1.0's own code: a job card through its workflow to a submitted invoice
# (its test helpers), a private file on it, and workshop hours that 0.1.0 kept on Company
MAKE_DOCUMENTS = """
from aftersales_dms.billing.invoice import make_invoices
from aftersales_dms.billing.test_invoice import ACCOUNTANT, ready_job_card, submit_as_accountant
from aftersales_dms.workshop.test_job_card_status import as_user
jc = ready_job_card()
invoices = as_user(ACCOUNTANT, make_invoices, jc.name)
frappe.set_user("Administrator")
for name in invoices.values():
	submit_as_accountant(name)
frappe.set_user("Administrator")
frappe.get_doc({"doctype": "File", "file_name": "upgrade-note.txt", "is_private": 1,
	"content": b"kept across upgrades", "attached_to_doctype": "Service Job Card",
	"attached_to_name": jc.name}).insert(ignore_permissions=True)
frappe.db.set_value("Company", sys.argv[2], {"dms_workshop_opens": "07:30:00", "dms_slot_minutes": 20})
out["job_card"] = jc.name
out["invoices"] = list(invoices.values())
"""


class Served:
	"""`frappe serve` of a site of a bench, as the bench user, on a free port."""

	def __init__(self, bench, site):
		self.bench, self.site, self.port = bench, site, free_port()
		tools = f"{bench_home()}/.local/share/aftersales-dms/tools/bin"
		cmd = [
			"runuser",
			"-u",
			BENCH_USER,
			"--",
			"env",
			"-u",
			"CI",
			f"HOME={bench_home()}",
			f"PATH={bench}/env/bin:{tools}:{SYSTEM_PATH}",
			f"{bench}/env/bin/python",
			"-m",
			"frappe.utils.bench_helper",
			"frappe",
			"--site",
			site,
			"serve",
			"--port",
			str(self.port),
			"--noreload",
		]
		self.log = open(os.path.join(bench, "logs", f"upgrade-test-serve-{self.port}.log"), "w")
		self.proc = subprocess.Popen(
			cmd,
			cwd=os.path.join(bench, "sites"),
			stdout=self.log,
			stderr=subprocess.STDOUT,
			start_new_session=True,
		)
		self.url = f"http://127.0.0.1:{self.port}"

	def __enter__(self):
		deadline = time.monotonic() + 90
		while True:
			assert self.proc.poll() is None, f"the server of {self.site} exited; see {self.log.name}"
			try:
				if requests.get(f"{self.url}/api/method/ping", timeout=5).ok:
					return self
			except requests.ConnectionError:
				pass
			assert (
				time.monotonic() < deadline
			), f"the server of {self.site} did not answer; see {self.log.name}"
			time.sleep(0.5)

	def __exit__(self, *exc):
		try:
			os.killpg(self.proc.pid, 15)
		except OSError:
			pass
		try:
			self.proc.wait(20)
		except subprocess.TimeoutExpired:
			os.killpg(self.proc.pid, 9)
		self.log.close()


def login(url, user, password):
	s = requests.Session()
	r = s.post(f"{url}/api/method/login", data={"usr": user, "pwd": password}, timeout=60)
	assert r.status_code == 200, (user, r.status_code, r.text[:500])
	return s


def check_served(old, url=None):
	"""The site answers: the advisor logs in and reads the job card; Administrator its private file
	and the submitted invoice. `url`: a server already running, else one is started for the check."""
	if url is None:
		with Served(old["bench"], old["site"]) as server:
			return check_served(old, server.url)
	advisor = login(url, ADVISOR, old["demo_password"])
	r = advisor.get(f"{url}/api/resource/Service Job Card/{old['job_card']}", timeout=60)
	assert r.status_code == 200, r.text[:500]
	assert r.json()["data"]["name"] == old["job_card"]
	admin = login(url, "Administrator", old["admin_password"])
	r = admin.get(f"{url}/private/files/upgrade-note.txt", timeout=60)
	assert r.status_code == 200 and r.text == "kept across upgrades", (r.status_code, r.text[:300])
	r = admin.get(f"{url}/api/resource/Sales Invoice/{old['invoices'][0]}", timeout=60)
	assert r.status_code == 200 and r.json()["data"]["docstatus"] == 1, r.text[:500]


def local_sources():
	"""The source directory ./dms uses (DMS_SOURCE_DIR, else root's cache), when there is one."""
	given = os.environ.get("DMS_SOURCE_DIR")
	cache = os.path.join(
		os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "aftersales-dms", "sources"
	)
	for d in (given, cache):
		if d and all(os.path.isdir(os.path.join(d, a, ".git")) for a in ("frappe", "erpnext")):
			return d
	return None


def earlier_sources(work, sources):
	"""A copy of the source directory whose Frappe branch carries one commit more: what the dealer's
	bench was made from. The upgrade, from the real sources, moves Frappe to the pinned commit."""
	dest = os.path.join(work, "sources")
	os.makedirs(dest)
	for app in ("frappe", "erpnext"):
		run(
			[
				"git",
				"clone",
				"-q",
				"--no-checkout",
				"--branch",
				"version-15",
				f"{sources}/{app}",
				f"{dest}/{app}",
			]
		)
	tree = git(f"{dest}/frappe", "rev-parse", "version-15^{tree}")
	ident = ["-c", "user.name=dms upgrade test", "-c", "user.email=dms@localhost"]
	commit = run(
		[
			"git",
			*ident,
			"-C",
			f"{dest}/frappe",
			"commit-tree",
			tree,
			"-p",
			"version-15",
			"-m",
			"the Frappe the dealer had",
		]
	).stdout.strip()
	git(f"{dest}/frappe", "update-ref", "refs/heads/version-15", commit)
	if os.path.isdir(f"{sources}/yarn-offline-mirror"):
		os.symlink(f"{sources}/yarn-offline-mirror", f"{dest}/yarn-offline-mirror")
	return dest, commit


def dms_env(old, **extra):
	env = {
		k: v
		for k, v in os.environ.items()
		if not k.startswith("DMS_") and k not in ("CI", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")
	}
	for k in ("DMS_USER", "DMS_OFFLINE"):
		if k in os.environ:
			env[k] = os.environ[k]
	env.update(
		{
			"PATH": SYSTEM_PATH,
			"DMS_BENCH_DIR": old["bench"],
			"DMS_SITE": old["site"],
			"DMS_HTTP_PORT": str(old["web_port"]),
			"DMS_ADMIN_PASSWORD": old["admin_password"],
			# the dms command's virtualenv of the clone (HEAD's bootstrap) beside it, removed with it
			"XDG_DATA_HOME": os.path.join(old["work"], "data"),
			**extra,
		}
	)
	return env


def upgrade(old, timeout=1200):
	env = dms_env(old)
	if old["sources"] and os.environ.get("DMS_SOURCE_DIR"):
		env["DMS_SOURCE_DIR"] = os.environ["DMS_SOURCE_DIR"]
	t = time.monotonic()
	r = run(["./dms", "upgrade"], cwd=old["repo"], env=env, timeout=timeout, check=False)
	print(f"./dms upgrade: exit {r.returncode} in {time.monotonic() - t:.0f} s\n{r.stdout[-6000:]}")
	return r


def upgrade_backups(old):
	root = os.path.join(old["bench"], "backups")
	return sorted(os.listdir(root)) if os.path.isdir(root) else []


def patches_of(repo, commit):
	text = git(repo, "show", f"{commit}:apps/aftersales_dms/aftersales_dms/patches.txt")
	return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith(("#", "["))]


@pytest.fixture(scope="module")
def old():
	"""A bench made by the app of TAG with its own ./dms up, a site with documents, stopped."""
	work = tempfile.mkdtemp(prefix="dms-upgrade-")
	os.chmod(work, 0o755)
	repo = os.path.join(work, "repo")
	name = uuid.uuid4().hex[:8]
	bench = f"{bench_home()}/benches/upgrade-test-{name}"
	info = {
		"work": work,
		"repo": repo,
		"bench": bench,
		"site": f"upgrade-{name}.localhost",
		"web_port": free_port(),
		"admin_password": uuid.uuid4().hex,
	}
	try:
		run(
			[
				"git",
				"clone",
				"-q",
				"--no-local",
				"--upload-pack",
				"git -c safe.directory=* upload-pack",
				REPO,
				repo,
			]
		)
		tagged = run(
			["git", "-C", repo, "rev-parse", "-q", "--verify", f"refs/tags/{TAG}^{{commit}}"], check=False
		)
		info["old_commit"] = tagged.stdout.strip() if tagged.returncode == 0 else TAG_COMMIT
		info["head_commit"] = git(REPO, "rev-parse", "HEAD")
		git(repo, "checkout", "-q", "--detach", info["old_commit"])
		# that version's Procfile and site config template pin ports 8000/9000 and the demo sinks'
		# 2525/2526: its bench is served on free ports here, beside whatever else runs
		socketio_port = free_port()
		template = os.path.join(repo, "sites", "common_site_config.template.json")
		with open(template) as f:
			conf = json.load(f)
		conf.update({"webserver_port": info["web_port"], "socketio_port": socketio_port})
		with open(template, "w") as f:
			json.dump(conf, f, indent=1)
		with open(os.path.join(repo, "Procfile"), "w") as f:
			f.write(
				f"web: bench serve --port {info['web_port']}\nsocketio: node apps/frappe/socketio.js\n"
				"worker: bench worker 1>> logs/worker.log 2>> logs/worker.error.log\nschedule: bench schedule\n"
			)
		sources = local_sources()
		info["sources"] = sources
		extra = {}
		if sources:
			extra["DMS_SOURCE_DIR"], info["earlier_frappe"] = earlier_sources(work, sources)
			info["pinned_frappe"] = git(f"{sources}/frappe", "rev-parse", "refs/heads/version-15")
		t = time.monotonic()
		r = run(["./dms", "up"], cwd=repo, env=dms_env(info, **extra), timeout=1500, check=False)
		assert r.returncode == 0, f"the old ./dms up failed:\n{r.stdout[-5000:]}"
		print(f"old bench made by {TAG}'s ./dms up in {time.monotonic() - t:.0f} s")
		with open(os.path.join(repo, "fixtures", "dms_demo.json")) as f:
			info["demo_password"] = json.load(f)["demo_password"]
		made = site_query(bench, info["site"], MAKE_DOCUMENTS.replace("sys.argv[2]", repr(COMPANY)))
		info.update(made)
		info["state"] = site_query(bench, info["site"], STATE)
		assert info["state"]["company_columns"] and not info["state"]["has_dws"]
		check_served(info, f"http://127.0.0.1:{info['web_port']}")  # its ./dms up serves it
		run(["./dms", "down"], cwd=repo, env=dms_env(info), timeout=120)
		# the working tree back as committed (the port changes were the test's)
		git(repo, "checkout", "-q", "--", ".")
		yield info
	finally:
		if os.path.isfile(os.path.join(repo, "dms")):
			run(["./dms", "down"], cwd=repo, env=dms_env(info), timeout=300, check=False)
		sock, cnf = os.path.join(bench, "db", "mysqld.sock"), os.path.join(bench, "db", "root.cnf")
		if os.path.exists(sock) and os.path.isfile(cnf):  # a MariaDB that outlived ./dms down
			run(["mariadb-admin", f"--defaults-file={cnf}", "shutdown"], check=False, timeout=60)
		shutil.rmtree(bench, ignore_errors=True)
		shutil.rmtree(work, ignore_errors=True)


def bench_app_version(bench):
	text = Path(bench, "apps", "aftersales_dms", "aftersales_dms", "__init__.py").read_text()
	return re.search(r'^__version__ = "(.*)"', text, re.MULTILINE).group(1)


def frappe_head(old):
	return git(os.path.join(old["bench"], "apps", "frappe"), "rev-parse", "HEAD")


def test_a_failing_patch_leaves_the_site_as_it_was(old):
	repo = old["repo"]
	git(repo, "checkout", "-q", "--detach", old["head_commit"])
	patch_dir = Path(repo, "apps", "aftersales_dms", "aftersales_dms", "patches", "v1_0")
	(patch_dir / "fails_on_purpose.py").write_text(
		f'def execute():\n\traise RuntimeError("{FAILING_MESSAGE}")\n'
	)
	with open(Path(repo, "apps", "aftersales_dms", "aftersales_dms", "patches.txt"), "a") as f:
		f.write(f"{FAILING_PATCH}\n")
	git(repo, "add", "-A")
	git(
		repo,
		"-c",
		"user.name=dms upgrade test",
		"-c",
		"user.email=dms@localhost",
		"commit",
		"-q",
		"-m",
		"a patch that fails",
	)

	r = upgrade(old)
	assert r.returncode != 0
	out = r.stdout
	assert f"patch {FAILING_PATCH} failed: RuntimeError: {FAILING_MESSAGE}" in out, out[-3000:]
	assert "restored from" in out and "COULD NOT" not in out, out[-3000:]

	# the old code
	assert bench_app_version(old["bench"]) == "0.1.0"
	if old.get("earlier_frappe"):
		assert frappe_head(old) == old["earlier_frappe"]
	assert not Path(
		old["bench"], "apps", "aftersales_dms", "aftersales_dms", "patches", "v1_0", "fails_on_purpose.py"
	).exists()
	# the old database: schema, Patch Log, figures, documents
	state = site_query(old["bench"], old["site"], STATE)
	assert state == old["state"]
	assert state["app_version"] == "0.1.0"
	assert state["company_columns"] and not state["has_dws"]
	assert not state["maintenance_mode"]
	assert not Path(old["bench"], ".upgrade", "state.json").exists()
	check_served(old)


def test_upgrade_to_head(old):
	repo = old["repo"]
	git(repo, "checkout", "-q", "--detach", old["head_commit"])
	backups_before = upgrade_backups(old)
	r = upgrade(old)
	assert r.returncode == 0, r.stdout[-4000:]
	out = r.stdout
	head_version = re.search(
		r'^__version__ = "(.*)"',
		git(repo, "show", "HEAD:apps/aftersales_dms/aftersales_dms/__init__.py"),
		re.MULTILINE,
	).group(1)
	assert head_version != "0.1.0"
	assert re.search(
		rf"aftersales_dms\s+0\.1\.0 -> {re.escape(head_version)} \({old['head_commit'][:7]}\)", out
	), out[-3000:]
	if old.get("earlier_frappe"):
		assert re.search(
			rf"frappe\s+\S+ \({old['earlier_frappe'][:7]}\) -> \S+ \({old['pinned_frappe'][:7]}\)", out
		), out
		assert frappe_head(old) == old["pinned_frappe"]
	assert re.search(r"erpnext\s+.* unchanged", out), out[-3000:]

	new = [p for p in patches_of(repo, "HEAD") if p not in patches_of(repo, old["old_commit"])]
	assert "aftersales_dms.patches.v1_0.dealer_workshop_settings" in new
	ran = re.search(r"patches run \(\d+\): (.*)$", out, re.MULTILINE).group(1).split(", ")
	assert [p for p in ran if p.startswith("aftersales_dms.")] == new, (ran, new)
	assert "DIFFERENT" not in out

	assert len(upgrade_backups(old)) == len(backups_before) + 1
	assert bench_app_version(old["bench"]) == head_version
	state = site_query(old["bench"], old["site"], STATE)
	before = old["state"]
	# the documents (Comments aside: a migration may comment on what it changed)
	assert {k: v for k, v in state["counts"].items() if k != "Comment"} == {
		k: v for k, v in before["counts"].items() if k != "Comment"
	}
	assert state["gl"] == before["gl"] and state["stock"] == before["stock"]
	assert state["note"] == "kept across upgrades"
	assert state["app_version"] == head_version
	assert set(new) <= set(state["patches"]) and set(before["patches"]) <= set(state["patches"])
	assert not state["maintenance_mode"]
	# the schema: the workshop hours moved off Company into Dealer Workshop Settings
	assert state["has_dws"] and not state["company_columns"]
	moved = site_query(
		old["bench"],
		old["site"],
		f'out.update(frappe.db.get_value("Dealer Workshop Settings", {{"company": {COMPANY!r}}}, '
		'["workshop_opens", "slot_minutes"], as_dict=True) or {})',
	)
	assert (moved.get("workshop_opens"), moved.get("slot_minutes")) == ("7:30:00", 20), moved
	check_served(old)


def test_upgrade_again_does_nothing(old):
	backups = upgrade_backups(old)
	r = upgrade(old, timeout=300)
	assert r.returncode == 0, r.stdout[-3000:]
	assert "nothing to upgrade" in r.stdout
	assert upgrade_backups(old) == backups
