# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

"""Backups: the retention rule, the settings' checks, and who may change them. The backup and the
restore themselves: tests/system/test_backup_restore.py."""

import datetime
import os
import stat
import tempfile
from unittest.mock import patch

import frappe
from frappe.tests.utils import FrappeTestCase

from aftersales_dms.roles import ADVISOR, SYSTEM_MANAGER
from aftersales_dms.utils import backup

D = datetime.datetime
SYSTEM_MANAGER_USER = "backup-admin@omp.example"


def daily(first, days, hour=1):
	"""One backup a day, `days` days from `first` (a date), named by their date."""
	return [
		(
			f"b{(first + datetime.timedelta(days=i)).isoformat()}",
			D.combine(first + datetime.timedelta(days=i), datetime.time(hour)),
		)
		for i in range(days)
	]


class TestRetention(FrappeTestCase):
	def test_keeps_the_newest_n(self):
		backups = daily(datetime.date(2026, 11, 1), 10)
		keep = backup.to_keep(backups, 3, 0, datetime.date(2026, 11, 10))
		self.assertEqual(keep, {"b2026-11-10", "b2026-11-09", "b2026-11-08"})

	def test_keeps_the_newest_of_each_of_the_last_m_iso_weeks(self):
		# 2026-11-30 is a Monday; 35 days back covers six ISO weeks
		backups = daily(datetime.date(2026, 10, 27), 35)
		keep = backup.to_keep(backups, 2, 4, datetime.date(2026, 11, 30))
		self.assertEqual(
			keep,
			{
				"b2026-11-30",  # newest, and the newest of this week (W49)
				"b2026-11-29",  # second newest, and the newest of W48 (Sunday)
				"b2026-11-22",  # newest of W47
				"b2026-11-15",  # newest of W46
			},
		)

	def test_a_week_without_backups_keeps_no_older_one_in_its_place(self):
		backups = [("old", D(2026, 9, 1, 1)), ("new", D(2026, 11, 30, 1))]
		self.assertEqual(backup.to_keep(backups, 1, 4, datetime.date(2026, 11, 30)), {"new"})

	def test_several_backups_a_day_count_one_by_one_and_the_weekly_one_is_the_newest(self):
		backups = [("a", D(2026, 11, 30, 1)), ("b", D(2026, 11, 30, 9)), ("c", D(2026, 11, 30, 17))]
		self.assertEqual(backup.to_keep(backups, 1, 1, datetime.date(2026, 11, 30)), {"c"})
		self.assertEqual(backup.to_keep(backups, 2, 1, datetime.date(2026, 11, 30)), {"c", "b"})

	def test_year_boundary_uses_iso_weeks(self):
		# 2026-12-31 (Thu) and 2027-01-03 (Sun) are both in ISO week 2026-W53
		backups = [("thu", D(2026, 12, 31, 1)), ("sun", D(2027, 1, 3, 1)), ("mon", D(2027, 1, 4, 1))]
		self.assertEqual(backup.to_keep(backups, 1, 2, datetime.date(2027, 1, 4)), {"mon", "sun"})

	def test_apply_retention_deletes_only_this_sites_backups_with_our_manifest(self):
		import json

		with tempfile.TemporaryDirectory() as tmp:
			made = {
				"1-old": ("here.localhost", "2026-01-01T01:00:00", backup.KIND),
				"2-new": ("here.localhost", "2026-11-30T01:00:00", backup.KIND),
				"3-other-site": ("there.localhost", "2026-01-01T01:00:00", backup.KIND),
				"4-not-ours": ("here.localhost", "2026-01-01T01:00:00", "something else"),
			}
			for name, (site, taken_at, kind) in made.items():
				os.mkdir(os.path.join(tmp, name))
				with open(os.path.join(tmp, name, backup.MANIFEST), "w") as f:
					json.dump({"kind": kind, "site": site, "taken_at": taken_at}, f)
			os.mkdir(os.path.join(tmp, "5-no-manifest"))
			deleted = backup.apply_retention(tmp, "here.localhost", 1, 1, D(2026, 11, 30, 2))
			self.assertEqual(deleted, ["1-old"])
			self.assertEqual(
				sorted(os.listdir(tmp)), ["2-new", "3-other-site", "4-not-ours", "5-no-manifest"]
			)


class TestBackupSettings(FrappeTestCase):
	def setUp(self):
		frappe.db.savepoint("backup_settings")
		if not frappe.db.exists("User", SYSTEM_MANAGER_USER):
			user = frappe.get_doc(
				{
					"doctype": "User",
					"email": SYSTEM_MANAGER_USER,
					"first_name": "Backup",
					"send_welcome_email": 0,
				}
			)
			user.append("roles", {"role": SYSTEM_MANAGER})
			user.insert(ignore_permissions=True)
		self.tmp = tempfile.mkdtemp()

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback(save_point="backup_settings")
		os.chmod(self.tmp, stat.S_IRWXU)
		for root, dirs, _files in os.walk(self.tmp, topdown=False):
			for d in dirs:
				os.rmdir(os.path.join(root, d))
		os.rmdir(self.tmp)

	def save(self, **values):
		frappe.set_user(SYSTEM_MANAGER_USER)
		settings = frappe.get_single(backup.SETTINGS)
		settings.update(values)
		settings.save()
		return settings

	def test_a_missing_directory_is_created_and_stored_normalised(self):
		target = os.path.join(self.tmp, "daily", "..", "daily")
		settings = self.save(enabled=1, backup_directory=target, keep_daily=7, keep_weekly=4)
		self.assertEqual(settings.backup_directory, os.path.join(self.tmp, "daily"))
		self.assertTrue(os.path.isdir(os.path.join(self.tmp, "daily")))

	def test_bad_directories_are_refused(self):
		locked = os.path.join(self.tmp, "locked")
		os.mkdir(locked, 0o500)
		for path, message in (
			("backups", "absolute path"),
			("", "Backup Directory"),
			(os.path.join(locked, "inside"), "cannot be created"),
			(locked, "not writable"),
			(os.path.abspath(frappe.get_site_path("private", "backups")), "outside the bench's sites folder"),
		):
			with self.subTest(path=path), self.assertRaisesRegex(frappe.ValidationError, message):
				self.save(enabled=1, backup_directory=path)
		frappe.set_user("Administrator")
		self.assertNotEqual(frappe.db.get_single_value(backup.SETTINGS, "backup_directory"), locked)

	def test_retention_must_keep_a_backup(self):
		with self.assertRaisesRegex(frappe.ValidationError, "at least 1"):
			self.save(enabled=1, backup_directory=self.tmp, keep_daily=0)

	def test_defaults_encrypt_and_keep_seven_and_four(self):
		meta = frappe.get_meta(backup.SETTINGS)
		self.assertEqual(meta.get_field("encrypt").default, "1")
		self.assertEqual(meta.get_field("keep_daily").default, "7")
		self.assertEqual(meta.get_field("keep_weekly").default, "4")
		self.assertFalse([f for f in meta.fields if "key" in f.fieldname])  # the key lives in site config

	def test_only_the_system_manager_sees_or_changes_them(self):
		frappe.set_user("advisor@omp.example")
		self.assertIn(ADVISOR, frappe.get_roles())
		self.assertFalse(frappe.has_permission(backup.SETTINGS, "read"))
		settings = frappe.get_single(backup.SETTINGS)
		settings.backup_directory = self.tmp
		with self.assertRaises(frappe.PermissionError):
			settings.save()


class TestEncryption(FrappeTestCase):
	def test_encrypted_files_are_not_plain_and_decrypt_to_the_original(self):
		with tempfile.TemporaryDirectory() as tmp:
			plain = os.path.join(tmp, "x-database.sql.gz")
			with open(plain, "wb") as f:
				f.write(b"\x1f\x8b" + b"CREATE TABLE secret" * 100)
			enc = backup.encrypt_file(plain, "k3y")
			self.assertEqual(os.path.basename(enc), "x-database-enc.sql.gz")
			self.assertFalse(os.path.exists(plain))
			self.assertFalse(backup.is_plain(enc))
			with open(enc, "rb") as f:
				self.assertNotIn(b"secret", f.read())
			out = os.path.join(tmp, "out.sql.gz")
			with self.assertRaises(OSError):
				backup.decrypt_file(enc, out, "wrong")
			backup.decrypt_file(enc, out, "k3y")
			with open(out, "rb") as f:
				self.assertEqual(f.read(), b"\x1f\x8b" + b"CREATE TABLE secret" * 100)


class TestDailyJob(FrappeTestCase):
	"""The scheduler's call (it runs as Administrator, as here)."""

	def failures(self):
		return frappe.db.count("Error Log", {"method": "Scheduled backup failed"})

	def test_scheduled_daily_on_the_long_queue(self):
		job = frappe.get_doc("Scheduled Job Type", {"method": "aftersales_dms.utils.backup.daily_backup"})
		self.assertEqual(job.frequency, "Daily Long")
		self.assertFalse(job.stopped)

	def test_disabled_takes_nothing(self):
		frappe.db.set_single_value(backup.SETTINGS, "enabled", 0)
		with patch("frappe.utils.backups.new_backup") as new_backup:
			self.assertIsNone(backup.daily_backup())
		new_backup.assert_not_called()

	def test_a_failure_goes_to_the_error_log_and_leaves_no_half_made_folder(self):
		with tempfile.TemporaryDirectory() as tmp:
			frappe.db.set_single_value(
				backup.SETTINGS, {"enabled": 1, "backup_directory": tmp, "keep_daily": 7, "keep_weekly": 4}
			)
			before, last = self.failures(), frappe.db.get_single_value(backup.SETTINGS, "last_backup_folder")
			with (
				patch("frappe.utils.backups.new_backup", side_effect=OSError("disk full")),
				self.assertRaises(OSError),
			):
				backup.daily_backup()
			self.assertEqual(self.failures(), before + 1)
			self.assertEqual(os.listdir(tmp), [])
			self.assertEqual(frappe.db.get_single_value(backup.SETTINGS, "last_backup_folder"), last)
