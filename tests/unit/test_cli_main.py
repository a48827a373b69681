"""dms_cli.main and the argument checks: the help lists every command, each command's --help is its
part of it, bad arguments stop before anything is set up (the click app itself, in-process)."""

import pytest
from click.testing import CliRunner

from dms_cli import main
from dms_cli.commands import parse_backup_args, parse_restore_args
from dms_cli.context import DmsError
from dms_cli.release import parse_release_args


def invoke(*args):
	try:
		runner = CliRunner(mix_stderr=False)  # click 8.1
	except TypeError:
		runner = CliRunner()  # click 8.2 keeps stderr apart by itself
	return runner.invoke(main.cli, list(args), prog_name="dms")


def test_every_command_is_in_the_help_and_has_its_section():
	assert set(main.cli.commands) == set(main.COMMANDS)
	for verb in main.COMMANDS:
		section = main.help_section(verb)
		assert section.startswith(f"  ./dms {verb}"), verb
		assert section in main.HELP
	assert main.help_section("backup").splitlines()[1].strip().startswith("take a backup of S")
	assert main.help_section("nonsense") == ""
	for setting in ("DMS_SOURCE_DIR", "DMS_OFFLINE=1", "DMS_USER", "DMS_BENCH_DIR", "DMS_HTTP_PORT"):
		assert setting in main.HELP


def test_no_command_prints_the_help_and_exits_2():
	r = invoke()
	assert r.exit_code == 2 and r.stdout == main.HELP
	r = invoke("frobnicate")
	assert r.exit_code == 2 and r.stdout == main.HELP and "unknown command frobnicate" in r.stderr
	r = invoke("--help")
	assert r.exit_code == 0 and r.stdout == main.HELP


def test_command_help_is_its_section():
	for verb in ("release", "backup", "restore", "up", "down", "status", "demo"):
		r = invoke(verb, "--help")
		assert r.exit_code == 0, (verb, r.output)
		assert r.stdout == main.help_section(verb), verb
	assert "./dms restore FILE [--site NEW] [--force] [--key-file K]" in invoke("restore", "-h").stdout


def test_a_bad_port_is_refused_before_anything_is_set_up(monkeypatch):
	monkeypatch.setenv("DMS_HTTP_PORT", "80a")
	r = invoke("up")
	assert r.exit_code == 1 and "DMS_HTTP_PORT=80a is not a port number" in r.stderr


def test_commands_without_options_refuse_arguments():
	r = invoke("up", "--site", "x")
	assert r.exit_code == 1 and "./dms up: unknown argument --site" in r.stderr


def test_bad_arguments_are_refused_with_the_usage():
	r = invoke("backup", "--x")
	assert (
		r.exit_code == 1 and "./dms backup: unknown argument --x (usage: ./dms backup [--site S])" in r.stderr
	)
	r = invoke("restore")
	assert r.exit_code == 1 and "which backup?" in r.stderr and "usage: ./dms restore FILE" in r.stderr
	r = invoke("release", "--branch")
	assert (
		r.exit_code == 1 and "--branch needs a branch name (usage: ./dms release [--branch NAME])" in r.stderr
	)


def test_backup_arguments():
	assert parse_backup_args([], "dms.localhost") == "dms.localhost"
	assert parse_backup_args(["--site", "b.localhost"], "dms.localhost") == "b.localhost"
	assert parse_backup_args(["--help"], "dms.localhost") is None
	with pytest.raises(DmsError, match="--site needs a site name"):
		parse_backup_args(["--site"], "dms.localhost")
	with pytest.raises(DmsError, match="unknown argument extra"):
		parse_backup_args(["extra"], "dms.localhost")


def test_restore_arguments(tmp_path, monkeypatch):
	backup = tmp_path / "backup"
	backup.mkdir()
	key = tmp_path / "key"
	key.write_text("k")
	monkeypatch.chdir(tmp_path)
	r = parse_restore_args(["backup", "--site", "new.localhost", "--force", "--key-file", "key"])
	assert r.file == "backup" and not r.help
	assert r.bench_args == ["--new-site", "new.localhost", "--force", "--key-file", str(key)]
	assert parse_restore_args(["--help"]).help
	for args, message in (
		([], "which backup?"),
		(["--bogus"], "unknown option --bogus"),
		([str(tmp_path / "missing")], "does not exist"),
		(["backup", "backup"], "one FILE only"),
		(["backup", "--site"], "--site needs a site name"),
		(["backup", "--key-file", str(tmp_path / "nokey")], "--key-file needs a readable file"),
	):
		with pytest.raises(DmsError) as e:
			parse_restore_args(args)
		assert message in e.value.message, args
		assert "usage: ./dms restore FILE" in e.value.message or "does not exist" in message


def test_release_arguments():
	assert parse_release_args([]) == "release/aftersales_dms"
	assert parse_release_args(["--branch", "rel/x"]) == "rel/x"
	assert parse_release_args(["-h"]) is None
	for args in (["--branch"], ["--branch", ""], ["--tag", "x"]):
		with pytest.raises(DmsError, match="usage: ./dms release"):
			parse_release_args(args)
