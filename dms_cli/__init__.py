"""The `dms` command: sets up, serves, tests, backs up and releases the Aftersales DMS bench.

`./dms` (a short bash bootstrap) installs this package into a virtualenv outside the checkout and
runs its console script; `dms_cli.main.cli` is the click group with one command per verb."""
