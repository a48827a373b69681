"""ERPNext's own tests on two sites, side by side: ERPNext alone, and ERPNext with our app.

Run by `./dms erpnext-tests` (README, "ERPNext's own tests beside ours"), as the bench user in
the bench. For every DocType (or module) given, runs on each site

    bench --site SITE run-tests --app erpnext --doctype DOCTYPE     (or --module MODULE)

`--app erpnext` runs only ERPNext's before_tests hook (without it, every installed app's runs,
ours included). `--doctype` first builds the DocType's test records the way Frappe's runner
does, following every Link field of its meta (custom fields included) — the step our custom
fields once broke; `--module` builds only the module's `test_dependencies`. Prints passed,
failed and errors per site and exits 1 when the two differ in counts or in which tests fail.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

# ERPNext DocTypes our app hooks (hooks.py doc_events) or extends (custom fields, permissions)
DOCTYPES = (
	"Company",
	"Customer",
	"Item",
	"Quotation",
	"Stock Entry",
	"Material Request",
	"Purchase Receipt",
	"Purchase Invoice",
	"Stock Reconciliation",
	"Sales Invoice",
	"Payment Entry",
)

SUMMARY = re.compile(r"^Ran (\d+) tests? in [\d.]+s\s*\n+\s*(OK|FAILED)(?: \(([^)]*)\))?", re.M)
FAILED_TEST = re.compile(r"^(ERROR|FAIL): (\S+)(?: \(([^)\s]+)\))?", re.M)


def parse(output: str) -> dict | None:
	"""The unittest summary of one run: ran, passed, failed, errors, skipped and the failing
	tests; None when the run ended without one (an import error, a crash, a timeout)."""
	found = list(SUMMARY.finditer(output))
	if not found:
		return None
	ran, _status, details = found[-1].groups()
	counts = dict.fromkeys(("failures", "errors", "skipped", "expected failures", "unexpected successes"), 0)
	for part in filter(None, (p.strip() for p in (details or "").split(","))):
		key, _, value = part.partition("=")
		counts[key.strip()] = int(value)
	ran = int(ran)
	passed = ran - sum(counts.values())
	failing = sorted({f"{kind}: {where or name}" for kind, name, where in FAILED_TEST.findall(output)})
	return {
		"ran": ran,
		"passed": passed,
		"failed": counts["failures"],
		"errors": counts["errors"],
		"skipped": counts["skipped"],
		"failing": failing,
	}


def same(a: dict | None, b: dict | None) -> bool:
	if a is None or b is None:
		return a is b
	keys = ("ran", "passed", "failed", "errors", "skipped", "failing")
	return all(a[k] == b[k] for k in keys)


def cell(result: dict | None) -> str:
	if result is None:
		return "no result"
	text = f"{result['passed']}/{result['failed']}/{result['errors']}"
	return text + (f" ({result['skipped']} skipped)" if result["skipped"] else "")


def table(rows: list[tuple[str, dict | None, dict | None]], site_a: str, site_b: str) -> str:
	"""Markdown table: one row per DocType/module, passed/failed/errors on each site."""
	head = ("ERPNext tests of", f"{site_a} passed/failed/errors", f"{site_b} passed/failed/errors", "same")
	body = [(name, cell(a), cell(b), "yes" if same(a, b) else "**NO**") for name, a, b in rows]
	widths = [max(len(r[i]) for r in (head, *body)) for i in range(4)]

	def line(row):
		return "| " + " | ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) + " |"

	rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
	return "\n".join([line(head), rule, *map(line, body)])


def run(site: str, target: tuple[str, str], logs: str, timeout: int) -> tuple[dict | None, str]:
	kind, name = target
	log = os.path.join(logs, site, re.sub(r"[^A-Za-z0-9_.-]", "_", name) + ".log")
	os.makedirs(os.path.dirname(log), exist_ok=True)
	cmd = ["bench", "--site", site, "run-tests", "--app", "erpnext", f"--{kind}", name]
	t = time.monotonic()
	with open(log, "w") as out:
		try:
			subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False)
		except subprocess.TimeoutExpired:
			out.write(f"\n[erpnext_compare] timed out after {timeout} s\n")
	with open(log) as f:
		result = parse(f.read())
	if result is not None:
		result["seconds"] = round(time.monotonic() - t)
	return result, log


def main(argv=None) -> int:
	ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
	ap.add_argument("--site-a", required=True, help="the site with ERPNext alone")
	ap.add_argument("--site-b", required=True, help="the site with ERPNext and aftersales_dms")
	ap.add_argument("--doctype", action="append", default=[], help="an ERPNext DocType (repeatable)")
	ap.add_argument("--module", action="append", default=[], help="an ERPNext test module (repeatable)")
	ap.add_argument("--serial", action="store_true", help="one site after the other (default: both at once)")
	ap.add_argument("--timeout", type=int, default=3600, help="seconds per run (default 3600)")
	ap.add_argument("--logs", default="logs/erpnext-tests")
	ap.add_argument("--json", default="artifacts/erpnext-tests.json")
	args = ap.parse_args(argv)
	targets = [("doctype", d) for d in args.doctype] + [("module", m) for m in args.module]
	targets = targets or [("doctype", d) for d in DOCTYPES]
	rows, report = [], []
	with ThreadPoolExecutor(max_workers=1 if args.serial else 2) as pool:
		for target in targets:
			print(f"[erpnext_compare] {target[0]} {target[1]} on {args.site_a} and {args.site_b}", flush=True)
			a, b = (pool.submit(run, s, target, args.logs, args.timeout) for s in (args.site_a, args.site_b))
			(ra, log_a), (rb, log_b) = a.result(), b.result()
			rows.append((target[1], ra, rb))
			report.append({"target": target[1], "kind": target[0], args.site_a: ra, args.site_b: rb})
			print(f"  {cell(ra)} | {cell(rb)} | logs {log_a} {log_b}", flush=True)
			for site, r in ((args.site_a, ra), (args.site_b, rb)):
				other = rb if r is ra else ra
				only = sorted(set(r["failing"]) - set(other["failing"])) if r and other else []
				for name in only:
					print(f"    only on {site}: {name}", flush=True)
	os.makedirs(os.path.dirname(args.json) or ".", exist_ok=True)
	with open(args.json, "w") as f:
		json.dump(report, f, indent=1)
	print()
	print(table(rows, args.site_a, args.site_b))
	differ = [name for name, a, b in rows if not same(a, b)]
	print()
	print(
		f"{len(rows) - len(differ)} of {len(rows)} the same"
		+ (f"; differ: {', '.join(differ)}" if differ else "")
	)
	return 1 if differ else 0


if __name__ == "__main__":
	sys.exit(main())
