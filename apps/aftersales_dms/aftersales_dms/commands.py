"""bench commands of the app: `bench --site X dms-demo`, `bench --site X dms-demo-users`,
`bench --site X dms-api-reference`."""

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


commands = [dms_demo, dms_demo_users, dms_api_reference]
