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
