"""bench commands of the app: `bench --site X dms-demo`, `bench --site X dms-demo-users`,
`bench --site X dms-api-reference`, `bench --site X dms-backup`, `bench dms-restore PATH` (see
utils/backup.py), `bench --site X dms-production-settings` (utils/production.py)."""

import click
from frappe.commands import get_site, pass_context


@click.command("dms-demo")
@click.option(
	"--fixtures",
	"fixtures_dir",
	default=None,
	help="Folder holding dms_demo.json (default: <bench>/fixtures)",
)
@pass_context
def dms_demo(context, fixtures_dir=None):
	"""Load the demo dealer network (idempotent: run it as often as you like)."""
	import frappe

	from aftersales_dms.demo import load_demo

	site = get_site(context)
	frappe.init(site)
	frappe.connect()
	try:
		summary = load_demo(fixtures_dir)
		frappe.db.commit()
	finally:
		frappe.destroy()
	for key, value in summary.items():
		click.echo(f"{key:>24}: {value}")


@click.command("dms-demo-users")
@pass_context
def dms_demo_users(context):
	"""Print the demo logins."""
	import frappe

	from aftersales_dms.demo import demo_users

	frappe.init(get_site(context))
	frappe.connect()
	try:
		for user, roles, company in demo_users():
			click.echo(f"{user:<38} {company:<22} {roles}")
	finally:
		frappe.destroy()


@click.command("dms-backup")
@pass_context
def dms_backup(context):
	"""Take a backup now into the directory of Aftersales Backup Settings (the daily job's code)."""
	import frappe

	from aftersales_dms.utils.backup import take_backup

	frappe.init(get_site(context))
	frappe.connect()
	try:
		manifest = take_backup()
	except frappe.ValidationError as e:
		raise click.ClickException(str(e)) from e
	finally:
		frappe.destroy()
	click.echo(f"backup of {manifest['site']} taken at {manifest['taken_at']}")
	click.echo(f"folder: {manifest['folder']} ({'encrypted' if manifest['encrypted'] else 'NOT encrypted'})")
	for kind, info in manifest["files"].items():
		click.echo(f"{kind:>10}: {info['name']} ({info['size']} bytes)")
	for key, value in manifest["figures"].items():
		click.echo(f"{key:>24}: {value}")
	click.echo(f"retention deleted: {', '.join(manifest['deleted']) or 'nothing'}")


@click.command("dms-restore")
@click.argument("path")
@click.option(
	"--new-site", default=None, help="Name of the site to restore into (default: derived from the backup)"
)
@click.option("--force", is_flag=True, default=False, help="Overwrite the site if it exists")
@click.option("--key-file", default=None, help="File holding the backup encryption key")
def dms_restore(path, new_site=None, force=False, key_file=None):
	"""Restore a backup (its folder, manifest or database file) into a new site, with its files."""
	from aftersales_dms.utils.backup import RestoreError, restore

	try:
		site, restored, manifest = restore(
			path, new_site=new_site, force=force, key_file=key_file, echo=click.echo
		)
	except RestoreError as e:
		raise click.ClickException(str(e)) from e
	backed_up = (manifest or {}).get("figures", {})
	click.echo(f"restored site: {site}")
	if manifest:
		click.echo(
			f"from backup of {manifest['site']} taken at {manifest['taken_at']}, apps {manifest['apps']}"
		)
	click.echo(f"{'':>24}  {'restored':>16}  {'in backup':>16}")
	for key, value in restored.items():
		click.echo(f"{key:>24}: {value!s:>16}  {backed_up.get(key, '-')!s:>16}")
	if not backed_up:
		click.echo("no manifest: nothing to compare with")
	elif backed_up == restored:
		click.echo("restored figures match the backup")
	else:
		click.secho(
			"WARNING: the restored figures differ from the backup's (written to while the backup ran?)",
			fg="yellow",
		)


@click.command("dms-api-reference")
@pass_context
def dms_api_reference(context):
	"""Print the API reference (docs/api.md) generated from the code."""
	import frappe

	from aftersales_dms.utils.api_reference import generate

	frappe.init(get_site(context))
	frappe.connect()
	try:
		text = generate()
	finally:
		frappe.destroy()
	click.echo(text, nl=False)


@click.command("dms-production-settings")
@pass_context
def dms_production_settings(context):
	"""Apply production settings (outgoing mail, SMS gateway) read as JSON from standard input;
	`./dms deploy --config FILE` calls it. Secrets come on stdin, never as arguments."""
	import json
	import sys

	import frappe

	from aftersales_dms.utils.production import apply

	try:
		settings = json.load(sys.stdin)
	except ValueError as e:
		raise click.ClickException(f"production settings: not JSON on standard input ({e})") from e
	if not isinstance(settings, dict):
		raise click.ClickException("production settings: a JSON object is expected on standard input")
	frappe.init(get_site(context))
	frappe.connect()
	try:
		lines = apply(settings)
		frappe.db.commit()
	except Exception as e:
		frappe.db.rollback()
		message = frappe.utils.strip_html(str(e)) or type(e).__name__
		raise click.ClickException(f"production settings not applied: {message}") from e
	finally:
		frappe.destroy()
	for line in lines:
		click.echo(line)


commands = [dms_demo, dms_demo_users, dms_api_reference, dms_backup, dms_restore, dms_production_settings]
