"""The app installed the Frappe way: `./dms release` splits apps/aftersales_dms into a branch whose
root is the app, and a plain bench (frappe + erpnext only, made by the bench CLI) takes it with
`bench get-app`, installs it on a new site and serves its workspace.

The plain bench is made from this bench's frappe/erpnext checkouts (local git clones, as the offline
path of the README does), Python packages through uv with this project's overrides (Frappe 15 asks
for gunicorn from GitHub, which the test never reaches), no asset build; it uses this bench's MariaDB
and Redis, and is dropped with its site afterwards. The repository released is a `git clone
--no-local` of the checkout the bench was made from, or, when the bench user may not read that
checkout, a one-commit repository of the bench's synced copy of it."""

import json
import os
import re
import shutil
import subprocess
import time
import uuid

import aftersales_dms
import pytest
import requests
from dmstest import BENCH, copy_dms, free_port

TOOLS_BIN = os.path.expanduser("~/.local/share/aftersales-dms/tools/bin")
BRANCH = "release/test-get-app"


def pinned_python() -> str:
	with open(os.path.join(BENCH, "config", "versions.env")) as f:
		return "/usr/bin/" + re.search(r"^PYTHON=(\S+)$", f.read(), re.MULTILINE).group(1)


def origin_checkout() -> str:
	"""The git checkout this bench was made from (as root the bench is a synced copy of it)."""
	path = os.path.join(BENCH, ".dms-origin")
	if os.path.isfile(path):
		with open(path) as f:
			return f.read().strip()
	return BENCH  # not as root: the checkout is the bench


def plain_env() -> dict:
	"""The environment of someone running the bench CLI: its tools, not this bench's virtualenv."""
	env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "CI")}
	env["PATH"] = f"{TOOLS_BIN}:/usr/local/bin:/usr/bin:/bin"
	env["UV_OVERRIDE"] = os.path.join(BENCH, "config", "python-overrides.txt")
	env["UV_CONSTRAINT"] = os.path.join(BENCH, "config", "python-constraints.txt")
	env["YARN_YARN_OFFLINE_MIRROR"] = os.path.expanduser("~/.cache/aftersales-dms/yarn-offline-mirror")
	env["YARN_YARN_OFFLINE_MIRROR_PRUNING"] = "false"
	# The bench CLI restarts supervisor programs after `init`/`get-app` whenever supervisorctl is on
	# PATH (`sudo supervisorctl status`, which the unprivileged test user cannot run once `./dms
	# deploy` installed supervisor). The plain bench is not supervised; FRAPPE_DOCKER_BUILD is the
	# bench CLI's own switch for "no supervisor here" (frappe_docker sets it; it also skips the
	# release check and copies uv's packages instead of linking them).
	env["FRAPPE_DOCKER_BUILD"] = "1"
	return env


def run(cmd, cwd, timeout=300, check=True, env=None):
	env = {**plain_env(), **(env or {})}
	r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
	if check:
		assert r.returncode == 0, (cmd, r.returncode, r.stdout[-3000:], r.stderr[-3000:])
	return r


def clone(dest) -> str:
	"""A clone of the checkout with the bench's ./dms (the working copy under test) in it."""
	origin = origin_checkout()
	if not os.access(origin, os.R_OK | os.X_OK):
		return snapshot(dest)
	# the checkout may belong to another user (CI clones as root): let upload-pack read it anyway
	upload_pack = "git -c safe.directory=* upload-pack"
	run(["git", "clone", "-q", "--no-local", "--upload-pack", upload_pack, origin, str(dest)], cwd="/")
	copy_dms(dest)
	return str(dest)


def snapshot(dest) -> str:
	"""When the bench user may not read the checkout (as root ./dms syncs it into the bench, which
	can sit behind a private home): a repository of the bench's synced copy, committed once."""
	ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "node_modules")
	shutil.copytree(
		os.path.join(BENCH, "apps", "aftersales_dms"), dest / "apps" / "aftersales_dms", ignore=ignore
	)
	shutil.copytree(os.path.join(BENCH, "config"), dest / "config", ignore=shutil.ignore_patterns("pids"))
	copy_dms(dest)
	shutil.copy(os.path.join(BENCH, ".gitignore"), dest / ".gitignore")
	run(["git", "init", "-q", "-b", "main"], cwd=str(dest))
	run(["git", "add", "-A"], cwd=str(dest))
	ident = ["-c", "user.name=dms test", "-c", "user.email=dms@localhost"]
	run(["git", *ident, "commit", "-q", "-m", "snapshot of the bench's synced checkout"], cwd=str(dest))
	return str(dest)


def release(repo, *args, check=True):
	# the dms command's virtualenv beside the throwaway checkout, not in the bench user's home
	data = os.path.join(os.path.dirname(os.path.abspath(repo)), "xdg-data")
	cmd = ["bash", os.path.join(repo, "dms"), "release", *args]
	return run(cmd, cwd=repo, timeout=120, check=check, env={"XDG_DATA_HOME": data})


def released(stdout) -> dict:
	return dict(re.findall(r"^(branch|commit|version):\s+(\S+)$", stdout, re.MULTILINE))


def test_release_refuses_a_dirty_app_folder_and_writes_nothing(tmp_path):
	repo = clone(tmp_path / "repo")
	with open(os.path.join(repo, "apps", "aftersales_dms", "aftersales_dms", "hooks.py"), "a") as f:
		f.write("\n# not committed\n")
	r = release(repo, "--branch", BRANCH, check=False)
	assert r.returncode != 0
	assert "apps/aftersales_dms has uncommitted changes" in r.stderr
	assert "aftersales_dms/hooks.py" in r.stderr
	branches = run(["git", "branch", "--list", BRANCH], cwd=repo).stdout
	assert branches.strip() == ""


def test_release_refuses_outside_a_git_checkout(tmp_path):
	repo = tmp_path / "files"
	(repo / "config").mkdir(parents=True)
	copy_dms(repo)
	shutil.copy(os.path.join(BENCH, "config", "versions.env"), repo / "config" / "versions.env")
	r = release(str(repo), check=False)
	assert r.returncode != 0
	assert "is not a git checkout" in r.stderr


@pytest.fixture(scope="module")
def plain_bench(tmp_path_factory):
	"""A clone released to BRANCH, and a plain bench that got the app from that branch."""
	work = tmp_path_factory.mktemp("release")
	repo = clone(work / "repo")
	out = release(repo, "--branch", BRANCH).stdout
	info = released(out)
	plain = str(work / "plain")
	site = f"rel-{uuid.uuid4().hex[:8]}.localhost"
	try:
		run(
			[
				"bench",
				"init",
				plain,
				"--frappe-path",
				os.path.join(BENCH, "apps", "frappe"),
				"--frappe-branch",
				"version-15",
				"--skip-assets",
				"--no-backups",
				"--no-procfile",
				"--skip-redis-config-generation",
				"--python",
				pinned_python(),
			],
			cwd=str(work),
		)
		erpnext = os.path.join(BENCH, "apps", "erpnext")
		run(["bench", "get-app", erpnext, "--branch", "version-15", "--skip-assets"], cwd=plain)
		got = run(["bench", "get-app", repo, "--branch", BRANCH, "--skip-assets"], cwd=plain)
		yield {"repo": repo, "plain": plain, "site": site, "release": info, "get_app": got}
	finally:
		if os.path.isdir(os.path.join(plain, "sites", site)):
			run(["bench", "drop-site", site, "--force", "--no-backup"], cwd=plain, check=False)
		shutil.rmtree(work, ignore_errors=True)


def test_release_prints_branch_commit_and_the_apps_version(plain_bench):
	info = plain_bench["release"]
	assert info["branch"] == BRANCH
	assert info["version"] == aftersales_dms.__version__
	repo = plain_bench["repo"]
	assert run(["git", "rev-parse", BRANCH], cwd=repo).stdout.strip() == info["commit"]
	# the branch's root is the app; nothing of the bench repository around it
	top = set(run(["git", "ls-tree", "--name-only", BRANCH], cwd=repo).stdout.split())
	assert {"pyproject.toml", "aftersales_dms"} <= top
	assert not top & {"apps", "tests", "dms", "config", "sites"}
	# the checked-out branch is untouched
	assert run(["git", "status", "--porcelain", "--", "apps"], cwd=repo).stdout == ""


def test_plain_bench_gets_the_app_from_the_release_branch(plain_bench):
	plain = plain_bench["plain"]
	app = os.path.join(plain, "apps", "aftersales_dms")
	assert os.path.isfile(os.path.join(app, "pyproject.toml"))
	assert os.path.isfile(os.path.join(app, "aftersales_dms", "hooks.py"))
	assert run(["git", "rev-parse", "HEAD"], cwd=app).stdout.strip() == plain_bench["release"]["commit"]
	with open(os.path.join(plain, "sites", "apps.txt")) as f:
		assert f.read().split() == ["frappe", "erpnext", "aftersales_dms"]
	shown = run(
		[os.path.join(plain, "env", "bin", "python"), "-m", "pip", "show", "aftersales_dms"], cwd=plain
	)
	assert f"Version: {aftersales_dms.__version__}" in shown.stdout
	# bench checks [tool.bench.frappe-dependencies] against the frappe and erpnext it has
	r = run(["bench", "validate-dependencies"], cwd=plain, check=False)
	assert r.returncode == 0, (r.stdout, r.stderr)
	assert "does not satisfy" not in r.stdout + r.stderr


def test_new_site_installs_the_app_and_serves_its_workspace(plain_bench):
	plain, site = plain_bench["plain"], plain_bench["site"]
	# this bench's MariaDB (socket, root login) and Redis for the plain bench
	with open(os.path.join(BENCH, "sites", "common_site_config.json")) as f:
		ours = json.load(f)
	conf_path = os.path.join(plain, "sites", "common_site_config.json")
	with open(conf_path) as f:
		conf = json.load(f)
	for key in ("db_socket", "root_login", "root_password", "redis_cache", "redis_queue", "redis_socketio"):
		conf[key] = ours[key]
	with open(conf_path, "w") as f:
		json.dump(conf, f, indent=1)
	admin_password = uuid.uuid4().hex
	run(
		[
			"bench",
			"new-site",
			site,
			"--admin-password",
			admin_password,
			"--install-app",
			"erpnext",
			"--install-app",
			"aftersales_dms",
		],
		cwd=plain,
		timeout=420,
	)
	apps = run(["bench", "--site", site, "list-apps", "--format", "json"], cwd=plain).stdout
	assert "aftersales_dms" in json.loads(apps[apps.index("{") :])[site]
	exists = run(
		["bench", "--site", site, "execute", "frappe.db.exists", "--args", '["Workspace", "Aftersales DMS"]'],
		cwd=plain,
	)
	assert exists.stdout.strip().splitlines()[-1] == '"Aftersales DMS"'

	port = free_port()
	log = open(os.path.join(plain, "serve.log"), "w")
	server = subprocess.Popen(
		[
			os.path.join(plain, "env", "bin", "python"),
			"-m",
			"frappe.utils.bench_helper",
			"frappe",
			"--site",
			site,
			"serve",
			"--port",
			str(port),
			"--noreload",
		],
		cwd=os.path.join(plain, "sites"),
		env=plain_env(),
		stdout=log,
		stderr=subprocess.STDOUT,
	)
	try:
		url = f"http://127.0.0.1:{port}"
		deadline = time.monotonic() + 60
		while True:
			assert server.poll() is None, "the plain bench's server exited"
			try:
				requests.get(f"{url}/api/method/ping", timeout=5)
				break
			except requests.ConnectionError:
				assert time.monotonic() < deadline, "the plain bench's server did not answer"
				time.sleep(0.5)
		s = requests.Session()
		r = s.post(
			f"{url}/api/method/login", data={"usr": "Administrator", "pwd": admin_password}, timeout=30
		)
		assert r.status_code == 200, r.text[:300]
		page = json.dumps({"name": "Aftersales DMS", "title": "Aftersales DMS"})
		r = s.get(f"{url}/api/method/frappe.desk.desktop.get_desktop_page", params={"page": page}, timeout=60)
		assert r.status_code == 200, r.text[:300]
		desk = r.json()["message"]
		# a missing workspace answers {} with status 200: the page's own content is the proof
		labels = [item.get("label") for item in desk["shortcuts"]["items"]]
		assert "Service Job Card" in labels, labels
		assert desk["cards"]["items"], desk
	finally:
		server.terminate()
		server.wait(timeout=30)
		log.close()
