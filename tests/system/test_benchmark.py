"""The benchmark cannot rot: every section of `./dms benchmark` at its smallest size on a site of its
own, made fresh here like `DMS_BENCHMARK_FRESH=1 ./dms benchmark` makes it, then again on the same
(now reused) site, and its --profile. The test fails when a section errors or its figures are
missing — never on a time: the figures stay out of pass/fail (README, Benchmark)."""

import json
import os
import subprocess
import sys

import pytest

BENCH = os.environ["DMS_BENCH"]
SITE = "dms-bench-smoke.localhost"
REPORT = os.path.join(BENCH, "artifacts", "benchmark.json")


def bench(*args, timeout=1200):
	r = subprocess.run(["bench", *args], cwd=BENCH, capture_output=True, text=True, timeout=timeout)
	assert r.returncode == 0, f"bench {' '.join(args)}:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
	return r.stdout


def run_benchmark(*args):
	r = subprocess.run(
		[sys.executable, os.path.join(BENCH, "tests", "load", "benchmark.py"), "--site", SITE, *args],
		cwd=BENCH,
		env={**os.environ, "DMS_BENCH": BENCH},
		capture_output=True,
		text=True,
		timeout=1500,
	)
	with open(os.path.join(BENCH, "artifacts", "benchmark-smoke.log"), "a") as log:
		log.write(f"$ benchmark {' '.join(args)}\n{r.stdout}\n{r.stderr}\n")
	assert r.returncode == 0, f"benchmark {' '.join(args)} failed:\n{r.stdout[-3000:]}\n{r.stderr[-4000:]}"
	return r.stdout


@pytest.fixture(scope="module")
def fresh_site():
	if os.path.isdir(os.path.join(BENCH, "sites", SITE)):
		bench("drop-site", SITE, "--force", "--no-backup", timeout=300)
	bench(
		"new-site",
		SITE,
		"--admin-password",
		"admin",
		"--install-app",
		"erpnext",
		"--install-app",
		"aftersales_dms",
	)
	bench("--site", SITE, "dms-demo", "--fixtures", os.path.join(BENCH, "fixtures"))
	yield SITE
	subprocess.run(
		["bench", "drop-site", SITE, "--force", "--no-backup"], cwd=BENCH, capture_output=True, timeout=300
	)


@pytest.mark.timeout(2400)  # the site's creation counts here: minutes on a busy 2-core machine
def test_every_section_runs_on_a_fresh_site(fresh_site):
	smallest = (
		"--warmup", "1", "--ratio-runs", "1", "--cost", "1", "--journeys", "1", "--scale", "300",
		"--users", "3", "--load-seconds", "5", "--think-times", "0", "--gunicorn-workers", "2",
	)  # fmt: skip
	run_benchmark(*smallest)
	with open(REPORT) as f:
		report = json.load(f)
	ratio = report["journey_ratio"]
	assert ratio["dms_journey_s"] > 0 and ratio["erpnext_documents_s"] > 0 and ratio["ratio"] > 0
	assert ratio["requests"]["journey"] > 0 and ratio["requests"]["direct"] > 0
	assert {"Quotation", "Stock Entry", "Sales Invoice", "Payment Entry"} <= set(ratio["documents"])
	for step in ("appointment", "check_in", "job_card", "payment"):
		assert ratio["steps_p50_ms"].get(step), step
	cost = report["cost"]
	assert cost["journeys"] == 1 and cost["requests_per_journey"] > 0 and cost["rows_per_journey"] > 0
	assert set(cost["cpu_s_per_journey"]) >= {"gunicorn", "mariadb_during_requests", "background_jobs"}
	for workers in ("1", "2", "4"):
		run = report["throughput"][workers]
		assert run["journeys"] >= 1 and run["error_count"] == 0, (workers, run["errors"])
	assert report["scale"]["rows"]["Service Job Card"] >= 300
	assert report["scale"]["p95_ms"]
	load = report["load"]["0"]
	assert load["requests"] > 0 and load["errors"] == 0, load["error_samples"]


def test_again_on_the_same_site(fresh_site):
	"""The journeys make their own recall state: nothing the first run left breaks them."""
	run_benchmark(
		"--warmup",
		"0",
		"--ratio-runs",
		"1",
		"--cost",
		"0",
		"--journeys",
		"0",
		"--scale",
		"0",
		"--load-seconds",
		"0",
	)
	with open(REPORT) as f:
		assert json.load(f)["journey_ratio"]["ratio"] > 0


def test_profile(fresh_site):
	"""--profile: per step its requests, SQL statements (Frappe's recorder) and gunicorn CPU, and the
	statements that cost the journey most."""
	out = run_benchmark("--warmup", "0", "--profile", "1")
	assert "top queries" in out
	with open(os.path.join(BENCH, "artifacts", "benchmark-profile.json")) as f:
		profile = json.load(f)
	steps = {s["step"]: s for s in profile["steps"]}
	for step in ("appointment", "check_in", "job_card", "payment"):
		assert steps[step]["requests"] > 0 and steps[step]["queries"] > 0, steps.get(step)
	assert sum(s["cpu_ms"] for s in profile["steps"]) > 0
	assert profile["top_queries"] and profile["top_queries"][0]["per_journey"] > 0
