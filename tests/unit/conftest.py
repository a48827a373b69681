"""Fixtures of the CLI's unit tests (plain pytest, no bench needed): throwaway checkouts and a
Context for them as the user running the tests."""

import os
import shutil
from pathlib import Path

import pytest

from dms_cli.context import Context

REPO = Path(__file__).resolve().parents[2]  # the checkout (or the bench's synced copy of it)


@pytest.fixture
def repo_dir() -> Path:
	return REPO


@pytest.fixture
def checkout(tmp_path) -> Path:
	"""A folder with this checkout's config/versions.env: enough for a Context."""
	repo = tmp_path / "checkout"
	(repo / "config").mkdir(parents=True)
	shutil.copy(REPO / "config" / "versions.env", repo / "config" / "versions.env")
	return repo


@pytest.fixture
def user_context(checkout):
	"""A Context for `checkout` as an ordinary user (the checkout is the bench)."""

	def make(**environ) -> Context:
		uid = os.getuid() or 65534
		return Context(repo=checkout, environ={"HOME": str(checkout.parent), **environ}, uid=uid)

	return make
