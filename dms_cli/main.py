"""The click group `cli` (console script `dms`) and one command per `./dms` verb. The help texts
are today's: `dms` alone prints HELP (exit 2), `dms VERB --help` its section of it."""

from __future__ import annotations

import subprocess
import sys

import click

from . import commands, deploy, release, testrun, upgrade
from .context import Context, DmsError, describe, exit_status

HELP = """\
Aftersales DMS — one entry point for setting up, serving and testing the bench.

  ./dms up        set up whatever is missing, create dms.localhost with demo data,
                  serve the desk on http://localhost:8000 (in the background)
  ./dms test      set up whatever is missing, create a throwaway test site and run
                  every test; the last line reads "N passed, N failed"
                  (extra arguments go to pytest; DMS_REUSE_TEST_SITE=1 keeps and
                  migrates the test site between runs, for development)
  ./dms down      stop the web/worker processes, Redis and MariaDB of this bench
  ./dms status    what runs, where the bench is, which versions are pinned; with a
                  deployment each production service (supervisor programs, nginx, HTTPS)
  ./dms demo      (re)load the demo dealer network into dms.localhost (idempotent)
  ./dms bench ... run a bench command in this bench as the bench user
  ./dms backup [--site S]
                  take a backup of S (default dms.localhost) now into the directory of
                  Aftersales Backup Settings (the daily job's code; encrypted, with retention)
  ./dms restore FILE [--site NEW] [--force] [--key-file K]
                  restore a backup (its folder or database file) into a new site NEW (default
                  derived from the backup; an existing site only with --force), with its files,
                  migrate it, print what it restored; the key: K or the backed-up site's config
  ./dms benchmark journey cost, HTTP throughput, 100k-job-card scale and a 50-user load
                  test on a benchmark site; prints a table, writes artifacts/benchmark.json
                  (not part of ./dms test; options: ./dms benchmark --help)
  ./dms release [--branch NAME]
                  publish apps/aftersales_dms as the root of its own git branch (default
                  release/aftersales_dms; git subtree split), what `bench get-app URL --branch
                  NAME` and frappe_docker's apps.json take; prints branch, commit and app version
  ./dms deploy --host NAME [--site S] [--cert F --key F] [--config FILE] [--demo]
                  serve the bench as production on this machine (as root): gunicorn behind
                  nginx with HTTPS (the dealer's certificate, else a self-signed one),
                  socket.io, RQ workers and the scheduler, with this bench's MariaDB and
                  Redis, under supervisor; re-running changes only what changed;
                  --remove takes it down (options: ./dms deploy --help)
  ./dms upgrade [--site S]... [--backup-dir DIR]
                  back up each site of the bench (or S), move Frappe/ERPNext to the releases
                  of config/versions.env and the app to this checkout, migrate, print the
                  versions and the patches that ran; on a failure put the previous code and the
                  backups back and say why (exit 1); nothing to do: says so
  ./dms erpnext-tests [--doctype D|--module M ...]
                  ERPNext's own tests on a site with ERPNext alone and one with our app;
                  prints both results side by side, non-zero exit when they differ

Settings (environment variables; see README "Sources"):
  DMS_SOURCE_DIR   local source directory: frappe/ and erpnext/ git repos (branch
                   version-15) and yarn-offline-mirror/; default
                   ${XDG_CACHE_HOME:-~/.cache}/aftersales-dms/sources when present
  DMS_OFFLINE=1    never try the network for Frappe/ERPNext sources
  DMS_USER         unprivileged user that runs bench when invoked as root (default dms)
  DMS_BENCH_DIR    where the bench lives when invoked as root
  DMS_HTTP_PORT    desk port (default 8000)
"""

COMMANDS = (
	"up",
	"test",
	"down",
	"status",
	"demo",
	"bench",
	"backup",
	"restore",
	"benchmark",
	"release",
	"deploy",
	"upgrade",
	"erpnext-tests",
)
# every argument goes to the command (pytest, bench, the benchmark...), --help included
PASS_THROUGH = {"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []}


def help_section(verb: str) -> str:
	"""The lines of HELP about one verb: its `./dms VERB` line and the indented ones below it."""
	lines = HELP.splitlines()
	out: list[str] = []
	for line in lines:
		if out:
			if line.startswith("  ./dms ") or not line.startswith("    "):
				break
			out.append(line)
		elif line == f"  ./dms {verb}" or line.startswith(f"  ./dms {verb} "):
			out.append(line)
	return "\n".join(out) + "\n" if out else ""


class DmsCommand(click.Command):
	def format_help(self, ctx, formatter):
		formatter.write(help_section(self.name))


class DmsGroup(click.Group):
	command_class = DmsCommand

	def format_help(self, ctx, formatter):
		formatter.write(HELP)

	def parse_args(self, ctx, args):
		if not args or args[0] not in self.commands:
			if args and args[0] in ("-h", "--help", "help"):
				click.echo(HELP, nl=False)
				ctx.exit(0)
			if args:
				click.echo(f"dms: unknown command {args[0]}", err=True)
			click.echo(HELP, nl=False)
			ctx.exit(2)
		return super().parse_args(ctx, args)

	def invoke(self, ctx):
		try:
			return super().invoke(ctx)
		except subprocess.CalledProcessError as e:
			# what bash's ERR trap said: the command that failed and its exit code
			sys.stdout.flush()
			click.echo(f"\n\033[31mdms: failed (exit {e.returncode}): {describe(e.cmd)}\033[0m", err=True)
			ctx.exit(exit_status(e.returncode))


@click.group(cls=DmsGroup, context_settings={"help_option_names": []})
def cli():
	if hasattr(sys.stdout, "reconfigure"):
		sys.stdout.reconfigure(line_buffering=True)  # our lines and the commands' stay in order


def no_arguments(verb: str, args: tuple[str, ...]) -> None:
	"""Commands without options: --help prints their help, anything else is refused."""
	if not args:
		return
	if args[0] in ("-h", "--help"):
		click.echo(help_section(verb), nl=False)
		raise click.exceptions.Exit(0)
	raise DmsError(f"./dms {verb}: unknown argument {args[0]} (usage: ./dms {verb})")


def verb(name: str):
	"""A command taking its arguments unparsed (each verb checks its own, as today)."""

	def wrap(fn):
		fn = click.argument("args", nargs=-1, type=click.UNPROCESSED)(fn)
		return cli.command(name, cls=DmsCommand, context_settings=PASS_THROUGH, help=help_section(name))(fn)

	return wrap


@verb("up")
def up(args):
	no_arguments("up", args)
	commands.cmd_up(Context())


@verb("test")
def test(args):
	raise click.exceptions.Exit(testrun.cmd_test(Context(), list(args)))


@verb("down")
def down(args):
	no_arguments("down", args)
	commands.cmd_down(Context())


@verb("status")
def status(args):
	no_arguments("status", args)
	commands.cmd_status(Context())


@verb("demo")
def demo(args):
	no_arguments("demo", args)
	commands.cmd_demo(Context())


@verb("bench")
def bench(args):
	raise click.exceptions.Exit(commands.cmd_bench(Context(), list(args)))


@verb("backup")
def backup(args):
	ctx = Context()
	site = commands.parse_backup_args(list(args), ctx.site)
	if site is None:
		click.echo(help_section("backup"), nl=False)
		return
	commands.cmd_backup(ctx, site)


@verb("restore")
def restore(args):
	parsed = commands.parse_restore_args(list(args))
	if parsed.help:
		click.echo(help_section("restore"), nl=False)
		return
	commands.cmd_restore(Context(), parsed)


@verb("benchmark")
def benchmark(args):
	commands.cmd_benchmark(Context(), list(args))


@verb("release")
def release_(args):
	branch = release.parse_release_args(list(args))
	if branch is None:
		click.echo(help_section("release"), nl=False)
		return
	release.cmd_release(Context(), branch)


class OptionsCommand(DmsCommand):
	"""A command with real options: its section of HELP, then the options."""

	def format_help(self, ctx, formatter):
		formatter.write(help_section(self.name))
		self.format_options(ctx, formatter)


def deploy_command(fn):
	for option in reversed(deploy.DEPLOY_OPTIONS):
		fn = option(fn)
	return cli.command(
		"deploy", cls=OptionsCommand, context_settings={"help_option_names": ["-h", "--help"]}
	)(fn)


@deploy_command
def deploy_(**opts):
	deploy.cmd_deploy(Context(), opts)


@verb("upgrade")
def upgrade_(args):
	parsed = upgrade.parse_upgrade_args(list(args))
	if parsed.help:
		click.echo(help_section("upgrade"), nl=False)
		return
	upgrade.cmd_upgrade(Context(), parsed)


@verb("erpnext-tests")
def erpnext_tests(args):
	raise click.exceptions.Exit(commands.cmd_erpnext_tests(Context(), list(args)))


def main() -> None:
	cli(prog_name="dms")
