"""dms_cli.upgrade's logic without a bench: its arguments, what counts as changed code, which
patches are new, why a migrate failed (from a real migrate's output), the figures beside each
other, and the snapshot of the previous code and its way back (the real rsync)."""

import os
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from dms_cli import main, upgrade
from dms_cli.context import DmsError
from dms_cli.setup import rsync_command
from dms_cli.upgrade import Code


def invoke(*args):
	try:
		runner = CliRunner(mix_stderr=False)  # click 8.1
	except TypeError:
		runner = CliRunner()  # click 8.2 keeps stderr apart by itself
	return runner.invoke(main.cli, list(args), prog_name="dms")


# ---------------------------------------------------------------- arguments
def test_arguments():
	a = upgrade.parse_upgrade_args([])
	assert (a.sites, a.backup_dir, a.help) == ([], "", False)
	a = upgrade.parse_upgrade_args(
		["--site", "a.localhost", "--site", "b.localhost", "--backup-dir", "/srv/bk/"]
	)
	assert (a.sites, a.backup_dir) == (["a.localhost", "b.localhost"], "/srv/bk")
	assert upgrade.parse_upgrade_args(["--help"]).help and upgrade.parse_upgrade_args(["-h"]).help
	for bad, said in (
		(["--site"], "--site needs a site name"),
		(["--site", "--backup-dir", "/x"], "--site needs a site name"),
		(["--backup-dir", "relative/dir"], "--backup-dir needs an absolute path"),
		(["--backup-dir"], "--backup-dir needs an absolute path"),
		(["--yes"], "./dms upgrade: unknown argument --yes"),
	):
		with pytest.raises(DmsError) as e:
			upgrade.parse_upgrade_args(bad)
		assert said in e.value.message and upgrade.UPGRADE_USAGE in e.value.message


def test_the_command_has_its_help_and_refuses_bad_arguments_before_anything_runs():
	r = invoke("upgrade", "--help")
	assert r.exit_code == 0 and r.stdout == main.help_section("upgrade")
	assert r.stdout.startswith("  ./dms upgrade [--site S]... [--backup-dir DIR]")
	r = invoke("upgrade", "--frobnicate")
	assert r.exit_code == 1 and "./dms upgrade: unknown argument --frobnicate" in r.stderr


# ---------------------------------------------------------------- what changed
def make_app(root):
	(root / "aftersales_dms" / "patches").mkdir(parents=True)
	(root / "aftersales_dms" / "__init__.py").write_text('__version__ = "0.2.0"\n')
	(root / "aftersales_dms" / "patches.txt").write_text("a.b\n")
	(root / "pyproject.toml").write_text("[project]\n")
	return root


def test_tree_hash_follows_the_files_not_what_builds_and_installs_leave(tmp_path):
	app = make_app(tmp_path / "app")
	first = upgrade.tree_hash(app)
	assert first == upgrade.tree_hash(shutil.copytree(app, tmp_path / "copy"))
	# what the sync of the checkout leaves out is left out here too
	for junk in (
		"aftersales_dms/__pycache__/x.cpython-311.pyc",
		"aftersales_dms/public/dist/js/app.bundle.js",
		"aftersales_dms.egg-info/PKG-INFO",
		"node_modules/x/index.js",
		"aftersales_dms/stray.pyc",
	):
		(app / junk).parent.mkdir(parents=True, exist_ok=True)
		(app / junk).write_text("built")
	assert upgrade.tree_hash(app) == first
	# a file of the app is not (public/dist only under public/)
	(app / "aftersales_dms" / "dist").mkdir()
	(app / "aftersales_dms" / "dist" / "x.py").write_text("")
	assert upgrade.tree_hash(app) != first
	shutil.rmtree(app / "aftersales_dms" / "dist")
	(app / "aftersales_dms" / "patches.txt").write_text("a.b\nc.d\n")
	changed = upgrade.tree_hash(app)
	assert changed != first
	(app / "aftersales_dms" / "patches.txt").write_text("a.b\n")
	assert upgrade.tree_hash(app) == first
	(app / "aftersales_dms" / "patches.txt").rename(app / "aftersales_dms" / "patches.text")
	assert upgrade.tree_hash(app) != first


def test_upgrade_key_names_the_code():
	key = upgrade.upgrade_key("f" * 40, "e" * 40, "a" * 40)
	assert key == upgrade.upgrade_key("f" * 40, "e" * 40, "a" * 40) and len(key) == 16
	assert key != upgrade.upgrade_key("f" * 40, "e" * 40, "b" * 40)
	assert key != upgrade.upgrade_key("e" * 40, "f" * 40, "a" * 40)


def test_changes_lines():
	before = {
		"frappe": Code("frappe", "15.101.1", commit="256df9a" + "0" * 33, branch="version-15"),
		"erpnext": Code("erpnext", "15.99.1", commit="bb78b5d" + "0" * 33, branch="version-15"),
		"aftersales_dms": Code("aftersales_dms", "0.1.0", tree="1" * 40),
	}
	after = {
		"frappe": Code("frappe", "15.101.1", commit="d709640" + "0" * 33),
		"erpnext": Code("erpnext", "15.99.1", commit="bb78b5d" + "0" * 33),
		"aftersales_dms": Code("aftersales_dms", "0.2.0", commit="9153d9a" + "0" * 33, tree="2" * 40),
	}
	assert upgrade.changes(before, after) == [
		"frappe          15.101.1 (256df9a) -> 15.101.1 (d709640)",
		"erpnext         15.99.1 (bb78b5d) unchanged",
		"aftersales_dms  0.1.0 -> 0.2.0 (9153d9a)",
	]
	# the app is compared by its files: a new commit with the same files is no change
	same_files = Code("aftersales_dms", "0.1.0", commit="9" * 40, tree="1" * 40)
	assert not upgrade.code_differs(before["aftersales_dms"], same_files)
	assert upgrade.code_differs(before["frappe"], after["frappe"])
	assert not upgrade.code_differs(before["erpnext"], after["erpnext"])


def test_new_patches_are_those_the_backup_had_not_in_the_order_they_ran():
	before = ["frappe.p1", "aftersales_dms.patches.v1_0.report_rollups"]
	after = [
		"frappe.p1",
		"aftersales_dms.patches.v1_0.report_rollups",
		"aftersales_dms.patches.v1_0.dealer_workshop_settings",
		"aftersales_dms.patches.v1_0.customer_amount_notifications",
	]
	assert upgrade.new_patches(before, after) == after[2:]
	assert upgrade.new_patches(after, after) == []


def test_sites_of_a_bench(tmp_path):
	for name, conf in (
		("b.localhost", True),
		("a.localhost", True),
		("assets", False),
		("half.localhost", False),
	):
		(tmp_path / "sites" / name).mkdir(parents=True)
		if conf:
			(tmp_path / "sites" / name / "site_config.json").write_text("{}")
	(tmp_path / "sites" / "apps.txt").write_text("frappe\n")
	assert upgrade.bench_sites(tmp_path) == ["a.localhost", "b.localhost"]
	assert upgrade.bench_sites(tmp_path / "nothing") == []
	assert upgrade.select_sites(["a.localhost", "b.localhost"], []) == ["a.localhost", "b.localhost"]
	assert upgrade.select_sites(["a.localhost", "b.localhost"], ["b.localhost", "b.localhost"]) == [
		"b.localhost"
	]
	with pytest.raises(DmsError) as e:
		upgrade.select_sites(["a.localhost"], ["c.localhost"])
	assert "no site c.localhost in this bench (its sites: a.localhost)" in e.value.message


# ---------------------------------------------------------------- why a migrate failed
# the end of a real `bench migrate` whose last patch raised (progress bars redraw with \r)
FAILED_IN_PATCH = (
	"Migrating upg.localhost\n"
	"Updating DocTypes for frappe        : [=      ] 3%\rUpdating DocTypes for frappe        : [=======] 100%\n"
	"Executing aftersales_dms.patches.v1_0.dealer_workshop_settings in upg.localhost (_236ff3f1ffba5991)\n"
	"Executing aftersales_dms.patches.v1_0.fails_on_purpose in upg.localhost (_236ff3f1ffba5991)\n"
	"Traceback (most recent call last):\n"
	'  File "/b/apps/frappe/frappe/migrate.py", line 124, in run_schema_updates\n'
	"    frappe.modules.patch_handler.run_all(\n"
	'  File "/b/apps/frappe/frappe/modules/patch_handler.py", line 188, in execute_patch\n'
	"    _patch()\n"
	'  File "/b/apps/aftersales_dms/aftersales_dms/patches/v1_0/fails_on_purpose.py", line 2, in execute\n'
	'    raise RuntimeError("upgrade test: this patch fails on purpose")\n'
	"RuntimeError: upgrade test: this patch fails on purpose\n"
)

# patches done, then a DocType that cannot be synced
FAILED_AFTER_PATCHES = (
	"Executing aftersales_dms.patches.v1_0.parts_stock_rights in upg.localhost (_x)\n"
	"Traceback (most recent call last):\n"
	'  File "/b/apps/frappe/frappe/migrate.py", line 151, in post_schema_updates\n'
	"    sync_fixtures()\n"
	"frappe.exceptions.LinkValidationError: Could not find Role: Ghost\n"
)


def test_failure_summary_names_the_patch_that_raised():
	headline, tail = upgrade.failure_summary(FAILED_IN_PATCH, n=3)
	assert headline == (
		"patch aftersales_dms.patches.v1_0.fails_on_purpose failed: "
		"RuntimeError: upgrade test: this patch fails on purpose"
	)
	assert tail[-1] == "RuntimeError: upgrade test: this patch fails on purpose" and len(tail) == 3
	assert "Updating DocTypes for frappe        : [=======] 100%" in upgrade.clean_log(FAILED_IN_PATCH)


def test_failure_summary_outside_a_patch_and_without_output():
	headline, _ = upgrade.failure_summary(FAILED_AFTER_PATCHES)
	assert headline == "frappe.exceptions.LinkValidationError: Could not find Role: Ghost"
	assert upgrade.failure_summary("") == ("bench migrate failed without output", [])
	assert upgrade.failure_summary("\r\n\n")[0] == "bench migrate failed without output"


def test_figures_side_by_side():
	lines = upgrade.figures_table(
		{"Sales Invoice": 1, "GL debit": 10.5}, {"Sales Invoice": 1, "GL debit": 11.0}
	)
	assert lines[0].split() == ["GL", "debit", "10.5", "->", "11.0", "DIFFERENT"]
	assert lines[1].split() == ["Sales", "Invoice", "1", "->", "1", "same"]
	assert upgrade.figures_table({}, {"Bin": 2})[0].split() == ["Bin", "None", "->", "2", "DIFFERENT"]


def test_result_line_of_a_helper_script():
	out = 'noise\nDMS-RESULT {"a": 1}\nmore noise\n'
	assert upgrade.result_of(out) == {"a": 1}
	with pytest.raises(ValueError):
		upgrade.result_of("Traceback ...\nKeyError: 'x'\n")


def test_helper_scripts_compile():
	for script in (upgrade.BACKUP_SCRIPT, upgrade.AFTER_SCRIPT, upgrade.RESTORE_SCRIPT):
		compile(script, "<upgrade script>", "exec")


def test_the_supervisor_programs_stopped_are_this_benchs_web_and_workers():
	status = (
		"b1-db:b1-mariadb                 RUNNING   pid 10, uptime 1:00:00\n"
		"b1-redis:b1-redis-cache          RUNNING   pid 11, uptime 1:00:00\n"
		"b1-web:b1-frappe-web             RUNNING   pid 12, uptime 1:00:00\n"
		"b1-web:b1-node-socketio          STOPPED   Dec 02 07:00 AM\n"
		"b1-workers:b1-frappe-short-worker-0 BACKOFF Exited too quickly\n"
		"b1-workers:b1-frappe-schedule    RUNNING   pid 14, uptime 1:00:00\n"
		"b1-2-web:b1-2-frappe-web         RUNNING   pid 20, uptime 1:00:00\n"
		"unix:///var/run/supervisor.sock no such file\n"
	)
	assert upgrade.running_programs(status, "b1") == [
		"b1-web:b1-frappe-web",
		"b1-workers:b1-frappe-short-worker-0",
		"b1-workers:b1-frappe-schedule",
	]
	assert upgrade.running_programs("", "b1") == []


# ---------------------------------------------------------------- the previous code and back
def test_snapshot_and_restore_put_back_what_the_sync_wrote_and_nothing_else(tmp_path):
	"""The snapshot holds what the sync of a checkout overwrites; restoring it undoes a sync and
	leaves the bench's own state (env, sites, db, the upgrade's state and backups) alone."""
	if not shutil.which("rsync"):
		pytest.skip("rsync is not installed")
	bench = tmp_path / "bench"
	files = {
		"apps/aftersales_dms/aftersales_dms/__init__.py": '__version__ = "0.1.0"\n',
		"apps/aftersales_dms/aftersales_dms/old_only.py": "old\n",
		"apps/frappe/frappe/__init__.py": "frappe\n",
		"env/bin/python": "#!\n",
		"sites/apps.txt": "frappe\nerpnext\naftersales_dms\n",
		"sites/s.localhost/site_config.json": "{}",
		"db/data/ibdata1": "db",
		".stamps/python": "key",
		".upgrade/backup.py": "module",
		"backups/20260101_000000-s.localhost/dms-backup.json": "{}",
		"Procfile": "web: old\n",
	}
	for rel, text in files.items():
		(bench / rel).parent.mkdir(parents=True, exist_ok=True)
		(bench / rel).write_text(text)
	snapshot = bench / ".upgrade" / "previous"
	subprocess.run(upgrade.snapshot_command(bench, snapshot), check=True)
	assert (snapshot / "apps/aftersales_dms/aftersales_dms/old_only.py").is_file()
	for kept_out in ("env", "db", "apps/frappe", ".stamps", "sites/s.localhost", "backups", ".upgrade"):
		assert not (snapshot / kept_out).exists(), kept_out

	# the sync of a newer checkout
	checkout = tmp_path / "checkout"
	(checkout / "apps/aftersales_dms/aftersales_dms").mkdir(parents=True)
	(checkout / "apps/aftersales_dms/aftersales_dms/__init__.py").write_text('__version__ = "0.2.0"\n')
	(checkout / "apps/aftersales_dms/aftersales_dms/new_only.py").write_text("new\n")
	(checkout / "sites").mkdir()
	(checkout / "sites/apps.txt").write_text("frappe\nerpnext\naftersales_dms\n")
	(checkout / "Procfile").write_text("web: new\n")
	user = (
		os.environ.get("USER") or subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
	)
	subprocess.run(rsync_command(checkout, bench, user), check=True)
	assert (bench / "apps/aftersales_dms/aftersales_dms/new_only.py").is_file()
	assert not (bench / "apps/aftersales_dms/aftersales_dms/old_only.py").exists()
	assert (bench / ".upgrade/backup.py").is_file() and (bench / "backups").is_dir()  # the sync keeps them

	subprocess.run(upgrade.restore_command(snapshot, bench), check=True)
	for rel, text in files.items():
		assert (bench / rel).read_text() == text, rel
	assert not (bench / "apps/aftersales_dms/aftersales_dms/new_only.py").exists()
	assert (snapshot / "apps").is_dir()  # the snapshot itself is left for the caller to remove
