# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

"""The app's packaging metadata as `bench get-app` reads it: its version, and the Frappe/ERPNext
bounds of [tool.bench.frappe-dependencies] that bench checks (with semantic_version's SimpleSpec,
as bench's validate_dependency does) against what config/versions.env pins and what is installed."""

import os
import re

import erpnext
import frappe
import semantic_version as sv
import tomllib
from frappe.utils import get_bench_path

import aftersales_dms

APP_DIR = os.path.dirname(os.path.dirname(os.path.abspath(aftersales_dms.__file__)))


def pyproject() -> dict:
	with open(os.path.join(APP_DIR, "pyproject.toml"), "rb") as f:
		return tomllib.load(f)


def pinned() -> dict:
	path = os.path.join(get_bench_path(), "config", "versions.env")
	assert os.path.isfile(path), f"{path} is missing: the bench is not this repository's"
	with open(path) as f:
		return dict(re.findall(r"^([A-Z_]+)=(\S+)$", f.read(), re.MULTILINE))


def bounds() -> dict:
	return pyproject()["tool"]["bench"]["frappe-dependencies"]


def test_version_is_the_packages_and_semantic():
	meta = pyproject()["project"]
	# dynamic: flit reads __version__, the one place the version is written
	assert "version" in meta.get("dynamic", []) and "version" not in meta
	assert sv.Version(aftersales_dms.__version__)


def test_bounds_cover_frappe_and_erpnext_only_in_major_15():
	deps = bounds()
	assert set(deps) == {"frappe", "erpnext"}
	for spec in deps.values():
		assert sv.Version("16.0.0") not in sv.SimpleSpec(spec), spec
		assert sv.Version("14.99.0") not in sv.SimpleSpec(spec), spec


def test_bounds_admit_the_pinned_versions():
	versions = pinned()
	deps = bounds()
	assert sv.Version(versions["FRAPPE_VERSION"]) in sv.SimpleSpec(deps["frappe"])
	assert sv.Version(versions["ERPNEXT_VERSION"]) in sv.SimpleSpec(deps["erpnext"])
	# the lower bound is the release this project is tested with, not an older guess
	assert deps["frappe"].startswith(f">={versions['FRAPPE_VERSION']},")
	assert deps["erpnext"].startswith(f">={versions['ERPNEXT_VERSION']},")


def test_bounds_admit_the_installed_versions():
	deps = bounds()
	assert sv.Version(frappe.__version__) in sv.SimpleSpec(deps["frappe"]), frappe.__version__
	assert sv.Version(erpnext.__version__) in sv.SimpleSpec(deps["erpnext"]), erpnext.__version__
