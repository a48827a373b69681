"""Backups of a site into a configured directory, their retention, and their restore into a new site.

- `daily_backup` (scheduler, daily_long) and `bench --site X dms-backup` (`./dms backup`) take the same
  backup: Frappe's dump of the database, the public and private files and the site config, into a
  folder of its own named by the time (`<YYYYmmdd_HHMMSS>-<site>`), encrypted with the site's
  `backup_encryption_key` (gpg, AES256; the key reaches gpg on a pipe, never on a command line) and
  described by a manifest (`dms-backup.json`: site, time, files with their SHA-256, app versions and
  the figures a restore is checked against). Then the retention (`to_keep`) deletes the older
  folders of this site that carry our manifest; nothing else in the directory is touched.
- `write_backup` is that backup without the settings (no DocType of this app is read) and `restore`
  needs no site connected: the module imports nothing but Frappe, so `./dms upgrade` loads it from
  the checkout to back up a site whose installed app is older (one without backups at all) and to
  restore it when the upgrade fails.
- `restore` (`bench dms-restore`, `./dms restore FILE`) decrypts a backup into a private temporary
  folder, restores it into a new site with Frappe's `bench restore` (files included), migrates it
  and prints what it restored beside what the manifest says was backed up.
Settings: Aftersales Backup Settings (System Manager).
"""

import datetime
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

import frappe
from frappe import _

MANIFEST = "dms-backup.json"
KIND = "aftersales_dms backup"
SETTINGS = "Aftersales Backup Settings"
COUNTED = ("Service Job Card", "Sales Invoice", "Stock Entry", "Service Appointment", "Customer Vehicle")
STAMP = "%Y%m%d_%H%M%S"
# gzip, tar ("ustar" at 257) and JSON start like this; a gpg file does not
PLAIN_MAGIC = (b"\x1f\x8b", b"{")


# ---------------------------------------------------------------- retention (pure)
def to_keep(backups, keep_daily, keep_weekly, today):
	"""Names of the backups to keep: the newest `keep_daily`, and the newest backup of each of the
	last `keep_weekly` ISO weeks counted back from the week of `today` (that week included).
	`backups`: iterable of (name, datetime)."""
	ordered = sorted(backups, key=lambda b: b[1], reverse=True)
	keep = {name for name, _taken in ordered[: max(int(keep_daily or 0), 0)]}
	monday = today - datetime.timedelta(days=today.weekday())
	weeks = {
		(monday - datetime.timedelta(weeks=i)).isocalendar()[:2] for i in range(max(int(keep_weekly or 0), 0))
	}
	seen = set()
	for name, taken in ordered:
		week = taken.isocalendar()[:2]
		if week in weeks and week not in seen:
			seen.add(week)
			keep.add(name)
	return keep


# ---------------------------------------------------------------- settings
def validate_directory(path):
	"""The directory as an absolute, normalised path; created if missing; writable by this process
	(the bench user). Raises a ValidationError otherwise."""
	path = (path or "").strip()
	if not path:
		frappe.throw(_("Set a Backup Directory (an absolute path on the server)."))
	if not os.path.isabs(path):
		frappe.throw(_("Backup Directory must be an absolute path, not {0}.").format(path))
	path = os.path.normpath(path)
	sites = os.path.realpath(frappe.get_site_path(".."))
	if os.path.realpath(path) == sites or os.path.realpath(path).startswith(sites + os.sep):
		frappe.throw(_("Backup Directory must be outside the bench's sites folder."))
	try:
		os.makedirs(path, mode=0o700, exist_ok=True)
	except OSError as e:
		frappe.throw(_("Backup Directory {0} cannot be created: {1}").format(path, e.strerror))
	if not os.path.isdir(path):
		frappe.throw(_("Backup Directory {0} is not a directory.").format(path))
	if not os.access(path, os.W_OK | os.X_OK):
		frappe.throw(_("Backup Directory {0} is not writable by the bench user.").format(path))
	return path


def validate_retention(keep_daily, keep_weekly):
	if int(keep_daily or 0) < 1:
		frappe.throw(_("Keep Newest Backups must be at least 1."))
	if int(keep_weekly or 0) < 0:
		frappe.throw(_("Keep Weekly Backups cannot be negative."))


# ---------------------------------------------------------------- backup
def daily_backup():
	"""Scheduler (daily_long): a backup and the retention, when enabled. A failure goes to the Error Log."""
	if not frappe.db.get_single_value(SETTINGS, "enabled"):
		return None
	try:
		return take_backup()
	except Exception:
		frappe.db.rollback()
		frappe.log_error(title=_("Scheduled backup failed"))
		frappe.db.commit()
		raise


def take_backup():
	"""Take a backup into the configured directory, apply the retention; the manifest (dict)."""
	settings = frappe.get_single(SETTINGS)
	directory = validate_directory(settings.backup_directory)
	validate_retention(settings.keep_daily, settings.keep_weekly)
	now = frappe.utils.now_datetime()
	manifest = write_backup(directory, encrypt=bool(settings.encrypt), now=now)
	folder = manifest["folder"]
	deleted = apply_retention(directory, frappe.local.site, settings.keep_daily, settings.keep_weekly, now)
	frappe.db.set_single_value(
		SETTINGS,
		{"last_backup_on": now, "last_backup_folder": folder},
	)
	frappe.db.commit()
	frappe.logger("aftersales_dms.backup").info(
		f"backup of {frappe.local.site} in {folder}; retention deleted {len(deleted)}: {', '.join(deleted) or '-'}"
	)
	manifest["deleted"] = deleted
	return manifest


def write_backup(directory, encrypt=True, now=None):
	"""Back up the connected site into a new folder of `directory`: Frappe's dump of the database,
	the public and private files and the site config, encrypted with the site's key when `encrypt`,
	and the manifest. Returns the manifest (dict) with the folder under "folder".

	Reads no settings and no DocType of this app: `./dms upgrade` loads this module from the
	checkout to back up a site whose installed app is older (one without backups at all)."""
	from frappe.utils.backups import get_or_generate_backup_encryption_key, new_backup

	site = frappe.local.site
	now = now or frappe.utils.now_datetime()
	folder = os.path.join(directory, f"{now.strftime(STAMP)}-{site}")
	n = 1
	while os.path.exists(folder):
		n += 1
		folder = os.path.join(directory, f"{now.strftime(STAMP)}-{site}-{n}")
	os.makedirs(folder, mode=0o700)
	try:
		odb = new_backup(backup_path=folder, force=True, ignore_files=False)
		paths = {
			"database": odb.backup_path_db,
			"public": odb.backup_path_files,
			"private": odb.backup_path_private_files,
			"config": odb.backup_path_conf,
		}
		missing = [k for k, p in paths.items() if not (p and os.path.isfile(p))]
		if missing:
			raise OSError(_("the backup did not write its {0} file").format(", ".join(missing)))
		if encrypt:
			key = get_or_generate_backup_encryption_key()
			for kind, path in list(paths.items()):
				paths[kind] = encrypt_file(path, key)
		manifest = {
			"kind": KIND,
			"site": site,
			"taken_at": now.isoformat(),
			"encrypted": bool(encrypt),
			"files": {
				kind: {"name": os.path.basename(p), "sha256": sha256(p), "size": os.path.getsize(p)}
				for kind, p in paths.items()
			},
			"apps": {app: frappe.get_attr(f"{app}.__version__") for app in frappe.get_installed_apps()},
			"figures": figures(),
		}
		with open(os.path.join(folder, MANIFEST), "w") as f:
			json.dump(manifest, f, indent=1, sort_keys=True)
	except BaseException:
		shutil.rmtree(folder, ignore_errors=True)  # nothing half-made stays behind
		raise
	manifest["folder"] = folder
	return manifest


def apply_retention(directory, site, keep_daily, keep_weekly, now):
	"""Delete this site's backup folders (ours: with our manifest) that `to_keep` does not keep."""
	ours = {}
	for name in os.listdir(directory):
		manifest = read_manifest(os.path.join(directory, name))
		if manifest and manifest.get("site") == site:
			ours[name] = datetime.datetime.fromisoformat(manifest["taken_at"])
	keep = to_keep(ours.items(), keep_daily, keep_weekly, now.date())
	deleted = sorted(set(ours) - keep)
	for name in deleted:
		shutil.rmtree(os.path.join(directory, name))
	return deleted


def read_manifest(folder):
	path = os.path.join(folder, MANIFEST)
	if not os.path.isfile(path):
		return None
	try:
		with open(path) as f:
			manifest = json.load(f)
	except (OSError, ValueError):
		return None
	return manifest if isinstance(manifest, dict) and manifest.get("kind") == KIND else None


def figures():
	"""What a restore is compared with: counts of key doctypes, GL totals, stock on hand (of those
	the site has: a site without this app or without ERPNext is backed up too)."""
	out = {d: frappe.db.count(d) for d in COUNTED if frappe.db.table_exists(d)}
	if frappe.db.table_exists("GL Entry"):
		debit, credit = frappe.db.sql(
			"select sum(debit), sum(credit) from `tabGL Entry` where is_cancelled = 0"
		)[0]
		out["GL debit"] = round(float(debit or 0), 2)
		out["GL credit"] = round(float(credit or 0), 2)
	if frappe.db.table_exists("Bin"):
		out["Stock qty (Bin)"] = round(
			float(frappe.db.sql("select sum(actual_qty) from `tabBin`")[0][0] or 0), 3
		)
	return out


def sha256(path):
	h = hashlib.sha256()
	with open(path, "rb") as f:
		for chunk in iter(lambda: f.read(1 << 20), b""):
			h.update(chunk)
	return h.hexdigest()


def is_plain(path):
	with open(path, "rb") as f:
		head = f.read(512)
	return not head or head.startswith(PLAIN_MAGIC) or head[257:262] == b"ustar"


def encrypted_name(name):
	for suffix in (".sql.gz", ".tar", ".tgz", ".json"):
		if name.endswith(suffix) and not name[: -len(suffix)].endswith("-enc"):
			return name[: -len(suffix)] + "-enc" + suffix
	return name


def _gpg(args, key):
	with tempfile.TemporaryDirectory() as home:  # no keyring of the bench user is read or written
		r = subprocess.run(
			[
				"gpg",
				"--homedir",
				home,
				"--batch",
				"--yes",
				"--quiet",
				"--pinentry-mode",
				"loopback",
				"--passphrase-fd",
				"0",
				*args,
			],
			input=key.encode(),
			capture_output=True,
		)
	if r.returncode != 0:
		raise OSError(_("gpg failed: {0}").format(r.stderr.decode(errors="replace").strip()[-500:]))


def encrypt_file(path, key):
	"""Encrypt `path` (if Frappe did not already) with gpg AES256; the plain file is removed."""
	if not is_plain(path):
		return path
	out = os.path.join(os.path.dirname(path), encrypted_name(os.path.basename(path)))
	_gpg(["--symmetric", "--cipher-algo", "AES256", "--output", out + ".part", path], key)
	os.replace(out + ".part", out)
	if out != path:
		os.remove(path)
	return out


def decrypt_file(path, out, key):
	_gpg(["--decrypt", "--output", out, path], key)
	if not is_plain(out):
		raise OSError(_("{0} did not decrypt to a backup file").format(path))


# ---------------------------------------------------------------- restore (no site connected)
class RestoreError(Exception):
	pass


def restore(path, new_site=None, force=False, key_file=None, echo=print):
	"""Restore the backup at `path` (its folder, its manifest or its database file) into a new site
	of this bench (run in the bench's sites folder); returns (site, restored figures, manifest)."""
	path = os.path.abspath(path)
	folder = path if os.path.isdir(path) else os.path.dirname(path)
	manifest = read_manifest(folder)
	if manifest:
		files = {k: os.path.join(folder, v["name"]) for k, v in manifest["files"].items()}
		for kind, info in manifest["files"].items():
			if not os.path.isfile(files[kind]):
				raise RestoreError(f"{files[kind]} is missing from the backup")
			if sha256(files[kind]) != info["sha256"]:
				raise RestoreError(
					f"{files[kind]} does not match its checksum in {MANIFEST}: damaged or changed"
				)
		source, taken_at = manifest["site"], manifest["taken_at"]
	elif os.path.isfile(path) and path.endswith(".sql.gz"):
		files = {"database": path}
		source = os.path.basename(path).split("-", 1)[-1].split("-database")[0]
		taken_at = os.path.basename(path).split("-", 1)[0]
	else:
		raise RestoreError(
			f"{path} is neither a backup folder (with {MANIFEST}) nor a database file (.sql.gz)"
		)

	new_site = new_site or default_site_name(source, taken_at)
	if os.path.exists(new_site) and not force:
		raise RestoreError(
			f"site {new_site} exists; choose another name (--site) or pass --force to overwrite it"
		)

	encrypted = any(not is_plain(p) for p in files.values())
	key = read_key(key_file, source) if encrypted else None
	with tempfile.TemporaryDirectory(prefix="dms-restore-") as tmp:
		os.chmod(tmp, 0o700)
		plain = {}
		for kind, p in files.items():
			if kind == "config":
				continue  # the new site gets its own config (database, credentials)
			out = os.path.join(tmp, os.path.basename(p).replace("-enc", ""))
			if encrypted and not is_plain(p):
				decrypt_file(p, out, key)
			else:
				shutil.copyfile(p, out)
			plain[kind] = out
		echo(f"restoring {source} ({taken_at}) into {new_site}")
		_run(
			[
				sys.executable,
				"-c",
				RESTORE_SCRIPT,
				new_site,
				plain["database"],
				plain.get("public", ""),
				plain.get("private", ""),
			],
			"restore",
		)
	echo(f"migrating {new_site}")
	_run(
		[sys.executable, "-m", "frappe.utils.bench_helper", "frappe", "--site", new_site, "migrate"],
		"migrate",
	)
	frappe.init(site=new_site, sites_path=".")
	try:
		frappe.connect()
		restored = figures()
	finally:
		frappe.destroy()
	return new_site, restored, manifest


def default_site_name(source, taken_at):
	stem = source[: -len(".localhost")] if source.endswith(".localhost") else source.split(".")[0]
	stamp = "".join(c for c in taken_at if c.isdigit())[:12]
	return f"{stem}-restored-{stamp}.localhost"


def read_key(key_file, source):
	"""The key: from --key-file, else from the backed-up site's config on this bench."""
	if key_file:
		with open(key_file) as f:
			key = f.read().strip()
	else:
		key = None
		# a database file's name carries the site with its dots as underscores (Frappe's slug)
		for site in (source, source.replace("_", ".")):
			conf = os.path.join(site, "site_config.json")
			if not key and os.path.isfile(conf):
				with open(conf) as f:
					key = json.load(f).get("backup_encryption_key")
	if not key:
		raise RestoreError(
			f"the backup is encrypted and no key was found: pass --key-file FILE (a file holding "
			f"backup_encryption_key of {source}'s site_config.json)"
		)
	return key


# Frappe's `bench restore` (its _restore: new site from the dump, then the files), for a site that
# does not exist yet (the bench CLI refuses --site of a missing site)
RESTORE_SCRIPT = """
import sys, frappe
from frappe.commands.site import _restore
site, sql, public, private = sys.argv[1:5]
frappe.init(site=site, sites_path=".", new_site=True)
_restore(site=site, sql_file_path=sql, install_app=(), with_public_files=public or None,
	with_private_files=private or None)
"""


def _run(cmd, what):
	r = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
	if r.returncode != 0:
		raise RestoreError(f"{what} failed:\n{(r.stdout + r.stderr)[-3000:]}")
	return r.stdout
