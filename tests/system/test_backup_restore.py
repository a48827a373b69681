"""Backup the test site, restore it into a new site, and find the same documents and ledger."""

import glob
import json
import os
import subprocess
import sys

from dmstest import BENCH, SITE

RESTORED = "dms-restore-check.localhost"
FIGURES = """
import frappe, json, sys
frappe.init(site=sys.argv[1], sites_path="."); frappe.connect()
out = {d: frappe.db.count(d) for d in ("Service Job Card", "Service Appointment", "Sales Invoice", "Stock Entry",
	"Customer Vehicle", "Service Job Card Status Log")}
out["gl"] = [float(x or 0) for x in frappe.db.sql("select sum(debit), sum(credit) from `tabGL Entry` where is_cancelled = 0")[0]]
out["bins"] = float(frappe.db.sql("select sum(actual_qty) from `tabBin`")[0][0] or 0)
out["apps"] = frappe.get_installed_apps()
print(json.dumps(out))
"""


def bench(*args, timeout=900):
	return subprocess.run(
		[sys.executable, "-m", "frappe.utils.bench_helper", "frappe", *args],
		cwd=os.path.join(BENCH, "sites"),
		capture_output=True,
		text=True,
		timeout=timeout,
	)


def figures(site):
	r = subprocess.run(
		[sys.executable, "-c", FIGURES, site],
		cwd=os.path.join(BENCH, "sites"),
		capture_output=True,
		text=True,
	)
	assert r.returncode == 0, r.stderr[-2000:]
	return json.loads(r.stdout.strip().splitlines()[-1])


def db_root_password():
	with open(os.path.join(BENCH, "sites", "common_site_config.json")) as f:
		return json.load(f)["root_password"]


def test_backup_restores_into_a_new_site_with_the_same_documents_and_ledger(server):
	before = figures(SITE)
	assert before["Service Job Card"] > 0 and before["gl"][0] > 0
	r = bench("--site", SITE, "backup")
	assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
	dumps = sorted(glob.glob(os.path.join(BENCH, "sites", SITE, "private", "backups", "*-database.sql.gz")))
	assert dumps
	try:
		r = bench(
			"new-site",
			RESTORED,
			"--source-sql",
			dumps[-1],
			"--admin-password",
			"restore-check",
			"--db-root-username",
			"root",
			"--db-root-password",
			db_root_password(),
			"--force",
		)
		assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
		after = figures(RESTORED)
		assert after == before, (before, after)
	finally:
		bench(
			"drop-site",
			RESTORED,
			"--force",
			"--no-backup",
			"--db-root-username",
			"root",
			"--db-root-password",
			db_root_password(),
		)


CONFIGURE = """
import frappe, sys
from aftersales_dms.roles import SYSTEM_MANAGER
frappe.init(site=sys.argv[1], sites_path="."); frappe.connect()
user = "backup-admin@omp.example"
if not frappe.db.exists("User", user):
	doc = frappe.get_doc({"doctype": "User", "email": user, "first_name": "Backup", "send_welcome_email": 0})
	doc.append("roles", {"role": SYSTEM_MANAGER})
	doc.insert(ignore_permissions=True)
frappe.set_user(user)  # the System Manager sets the backups up
settings = frappe.get_single("Aftersales Backup Settings")
settings.update({"enabled": int(sys.argv[3]), "backup_directory": sys.argv[2] or None, "encrypt": 1,
	"keep_daily": 1, "keep_weekly": 1})
settings.save()
frappe.db.commit()
"""
OLD_MANIFEST = {"kind": "aftersales_dms backup", "taken_at": "2026-01-05T01:00:00", "files": {}}


def configure(directory, enabled):
	r = subprocess.run(
		[sys.executable, "-c", CONFIGURE, SITE, directory, str(enabled)],
		cwd=os.path.join(BENCH, "sites"),
		capture_output=True,
		text=True,
	)
	assert r.returncode == 0, r.stderr[-2000:]


def test_the_daily_job_backs_up_encrypted_with_retention_and_dms_restore_brings_it_back(server, tmp_path):
	restored = "dms-restore-drill.localhost"
	directory = str(tmp_path / "backups")
	site_dir = os.path.join(BENCH, "sites", SITE)
	probe = os.urandom(8).hex()
	probes = {
		"public": os.path.join("public", "files", f"backup-probe-{probe}.txt"),
		"private": os.path.join("private", "files", f"backup-probe-{probe}.txt"),
	}
	for rel in probes.values():
		with open(os.path.join(site_dir, rel), "w") as f:
			f.write(f"probe {probe}")
	configure(directory, 1)
	# an old backup of this site (ours: it has our manifest), one of another site, a folder not ours
	for name, site in (("20260105_010000-old", SITE), ("20260105_010000-other", "other.localhost")):
		os.makedirs(os.path.join(directory, name))
		with open(os.path.join(directory, name, "dms-backup.json"), "w") as f:
			json.dump({**OLD_MANIFEST, "site": site}, f)
	os.makedirs(os.path.join(directory, "not-a-backup"))
	before = figures(SITE)
	assert (
		before["Service Appointment"] > 0 and before["gl"][0] > 0 and before["bins"] > 0
	)  # something to compare
	try:
		r = bench(
			"--site", SITE, "execute", "aftersales_dms.utils.backup.daily_backup"
		)  # as the scheduler calls it
		assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
		folders = sorted(os.listdir(directory))
		assert "20260105_010000-old" not in folders  # retention: neither the newest nor in this week
		assert "20260105_010000-other" in folders and "not-a-backup" in folders
		ours = [f for f in folders if f.endswith(SITE)]
		assert len(ours) == 1, folders
		folder = os.path.join(directory, ours[0])
		with open(os.path.join(folder, "dms-backup.json")) as f:
			manifest = json.load(f)
		assert manifest["site"] == SITE and manifest["encrypted"] is True
		assert set(manifest["files"]) == {"database", "public", "private", "config"}
		for info in manifest["files"].values():
			with open(os.path.join(folder, info["name"]), "rb") as f:
				raw = f.read()
			assert "-enc" in info["name"]
			assert not raw.startswith(b"\x1f\x8b") and raw[257:262] != b"ustar" and not raw.startswith(b"{")
			assert probe.encode() not in raw and b"CREATE TABLE" not in raw
		assert sorted(os.listdir(folder)) == sorted(
			[*(i["name"] for i in manifest["files"].values()), "dms-backup.json"]
		)
		assert "backup_encryption_key" not in json.dumps(manifest)

		r = bench("dms-restore", folder, "--new-site", restored)
		assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
		assert (
			f"restored site: {restored}" in r.stdout and "restored figures match the backup" in r.stdout
		), r.stdout
		after = figures(restored)
		assert after == before, (before, after)
		for rel in probes.values():
			with open(os.path.join(BENCH, "sites", restored, rel)) as f:
				assert f.read() == f"probe {probe}"

		r = bench("dms-restore", folder, "--new-site", restored)  # never over an existing site unasked
		assert r.returncode != 0 and f"site {restored} exists" in r.stdout + r.stderr
		with open(os.path.join(folder, manifest["files"]["database"]["name"]), "ab") as f:
			f.write(b"x")
		r = bench("dms-restore", folder, "--new-site", "dms-restore-damaged.localhost")
		assert r.returncode != 0 and "does not match its checksum" in r.stdout + r.stderr
		assert not os.path.exists(os.path.join(BENCH, "sites", "dms-restore-damaged.localhost"))
	finally:
		configure("", 0)
		for rel in probes.values():
			os.remove(os.path.join(site_dir, rel))
		bench(
			"drop-site",
			restored,
			"--force",
			"--no-backup",
			"--db-root-username",
			"root",
			"--db-root-password",
			db_root_password(),
		)
