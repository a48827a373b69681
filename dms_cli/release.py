"""`dms release`: publish apps/aftersales_dms as the root of its own git branch (git subtree split).
Only git, no bench; writes only that branch."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from .context import Context, DmsError

RELEASE_USAGE = "usage: ./dms release [--branch NAME]"
DEFAULT_BRANCH = "release/aftersales_dms"
PREFIX = "apps/aftersales_dms"


def parse_release_args(args: list[str]) -> str | None:
	"""The branch to write; None: --help was asked for."""
	branch = DEFAULT_BRANCH
	rest = list(args)
	while rest:
		a = rest.pop(0)
		if a == "--branch":
			if not rest or not rest[0]:
				raise DmsError(f"--branch needs a branch name ({RELEASE_USAGE})")
			branch = rest.pop(0)
		elif a in ("-h", "--help"):
			return None
		else:
			raise DmsError(f"./dms release: unknown argument {a} ({RELEASE_USAGE})")
	return branch


def git(repo: Path, *args: str, check: bool = False) -> subprocess.CompletedProcess:
	return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=check)


def cmd_release(ctx: Context, branch: str) -> None:
	repo = ctx.repo
	if not shutil.which("git"):
		ctx.die("./dms release needs git")
	top = git(repo, "rev-parse", "--show-toplevel")
	if top.returncode != 0 or top.stdout.strip() != str(repo):
		ctx.die(
			f"./dms release: {repo} is not a git checkout (the release is cut from its commits; clone the repository)"
		)
	if git(repo, "check-ref-format", "--branch", branch).returncode != 0:
		ctx.die(f"./dms release: '{branch}' is not a valid branch name")
	if branch == git(repo, "symbolic-ref", "-q", "--short", "HEAD").stdout.strip():
		ctx.die(f"./dms release: {branch} is the branch checked out here; name another (--branch)")
	if git(repo, "rev-parse", "-q", "--verify", "HEAD").returncode != 0:
		ctx.die("./dms release: no commit to release yet")
	if git(repo, "cat-file", "-e", f"HEAD:{PREFIX}/pyproject.toml").returncode != 0:
		ctx.die(f"./dms release: HEAD has no {PREFIX}/pyproject.toml")
	dirty = git(
		repo, "status", "--porcelain", "--untracked-files=all", "--", PREFIX, check=True
	).stdout.rstrip("\n")
	if dirty:
		ctx.die(
			f"./dms release: {PREFIX} has uncommitted changes; the release is cut from commits only. Commit or stash them:\n{dirty}"
		)
	init = git(repo, "show", f"HEAD:{PREFIX}/aftersales_dms/__init__.py").stdout
	m = re.search(r'^__version__ = "(.*)"', init, re.MULTILINE)
	version = m.group(1) if m else ""
	if not version:
		ctx.die(f"./dms release: no __version__ in {PREFIX}/aftersales_dms/__init__.py")
	short = git(repo, "rev-parse", "--short", "HEAD").stdout.strip()
	ctx.say(f"splitting {PREFIX} of {short} into branch {branch} (git subtree split)")
	# subtree split writes only the split commits and the branch (-b creates it, an existing one
	# is moved forward: the split is deterministic, so the branch's history carries on)
	if git(repo, "show-ref", "-q", "--verify", f"refs/heads/{branch}").returncode == 0:
		commit = split(ctx, "subtree", "split", "-q", "--prefix", PREFIX, "HEAD")
		if git(repo, "merge-base", "--is-ancestor", branch, commit).returncode != 0:
			ctx.die(
				f"./dms release: branch {branch} exists and is not an earlier split of {PREFIX}; name another (--branch)"
			)
		ctx.run(["git", "-C", str(repo), "update-ref", "-m", "dms release", f"refs/heads/{branch}", commit])
	else:
		commit = split(ctx, "subtree", "split", "-q", "--prefix", PREFIX, "-b", branch, "HEAD")
	if git(repo, "cat-file", "-e", f"{commit}:aftersales_dms/hooks.py").returncode != 0:
		ctx.die(f"./dms release: the split {commit} has no aftersales_dms/hooks.py")
	print(f"branch:  {branch}")
	print(f"commit:  {commit}")
	print(f"version: {version}")
	print(f"install: bench get-app <this repository's URL> --branch {branch}", flush=True)


def split(ctx: Context, *args: str) -> str:
	"""git subtree split; its progress on stderr shows, the commit comes back."""
	r = ctx.run(["git", "-C", str(ctx.repo), *args], stdout=subprocess.PIPE)
	return r.stdout.strip()
