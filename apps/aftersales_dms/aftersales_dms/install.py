"""Install, migrate and uninstall hooks: wrap setup with clear errors."""

import click
import frappe

from aftersales_dms import setup


def after_install():
	try:
		setup.after_install()
	except Exception:
		click.secho(
			"Installing Aftersales DMS failed while creating its roles, custom fields and workflow. "
			"Fix the error below, then run: bench --site <site> migrate",
			fg="red",
		)
		raise


def after_migrate():
	setup.after_migrate()


def before_uninstall():
	setup.before_uninstall()


def before_tests():
	"""Run ERPNext's test set-up (completes the setup wizard) and load our demo dealer network."""
	from erpnext.setup.utils import before_tests as erpnext_before_tests

	from aftersales_dms.demo import load_demo

	erpnext_before_tests()  # completes the wizard if needed; also deletes every Item Price
	load_demo()  # idempotent: puts the demo network (and its prices) back
	frappe.db.commit()  # nosemgrep: test set-up, outside any test transaction
