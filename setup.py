"""The `dms` command (README "The two commands") as a Python package: `pip install -e .` in any
virtualenv gives a `dms` console script. `./dms` installs it into its own virtualenv outside the
checkout and runs it; the app keeps its own apps/aftersales_dms/pyproject.toml."""

from setuptools import find_packages, setup

setup(
	name="aftersales-dms-cli",
	version="0.1.0",
	description="Set up, serve, test, back up and release the Aftersales DMS bench",
	packages=find_packages(include=["dms_cli", "dms_cli.*"]),
	python_requires=">=3.10",
	install_requires=["click>=8.1,<9"],
	entry_points={"console_scripts": ["dms = dms_cli.main:cli"]},
)
