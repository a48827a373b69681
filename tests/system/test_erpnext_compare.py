"""The summary logic of `./dms erpnext-tests` (tests/erpnext_compare.py): what it reads from
Frappe's test runner output and when it calls two sites different. The comparison itself runs
ERPNext's tests for an hour and is not part of ./dms test (README, "ERPNext's own tests beside ours")."""

from erpnext_compare import cell, parse, same, table

PASSED = """\
Running "before_tests" hooks
test_fifo (erpnext.stock.doctype.stock_entry.test_stock_entry.TestStockEntry.test_fifo) ... ok
test_gl_entries (erpnext.stock.doctype.stock_entry.test_stock_entry.TestStockEntry.test_gl_entries) ... ok

----------------------------------------------------------------------
Ran 60 tests in 95.124s

OK (skipped=2)
"""

FAILED = """\
======================================================================
ERROR: test_fifo (erpnext.stock.doctype.stock_entry.test_stock_entry.TestStockEntry.test_fifo)
----------------------------------------------------------------------
Traceback (most recent call last):
frappe.exceptions.LinkValidationError: Could not find Company: _Test Company

======================================================================
ERROR: setUpClass (erpnext.stock.doctype.item.test_item.TestItem)
----------------------------------------------------------------------
======================================================================
FAIL: test_gl_entries (erpnext.stock.doctype.stock_entry.test_stock_entry.TestStockEntry.test_gl_entries)
----------------------------------------------------------------------
AssertionError: 1 != 2

----------------------------------------------------------------------
Ran 60 tests in 12.5s

FAILED (failures=1, errors=56)
"""


def test_a_clean_run():
	r = parse(PASSED)
	assert (r["ran"], r["passed"], r["failed"], r["errors"], r["skipped"]) == (60, 58, 0, 0, 2)
	assert r["failing"] == []
	assert cell(r) == "58/0/0 (2 skipped)"


def test_a_failing_run_names_its_failures():
	r = parse(FAILED)
	assert (r["ran"], r["passed"], r["failed"], r["errors"], r["skipped"]) == (60, 3, 1, 56, 0)
	assert r["failing"] == [
		"ERROR: erpnext.stock.doctype.item.test_item.TestItem",
		"ERROR: erpnext.stock.doctype.stock_entry.test_stock_entry.TestStockEntry.test_fifo",
		"FAIL: erpnext.stock.doctype.stock_entry.test_stock_entry.TestStockEntry.test_gl_entries",
	]
	assert cell(r) == "3/1/56"


def test_no_summary_is_no_result():
	crash = "Traceback (most recent call last):\nModuleNotFoundError: No module named 'payments'\n"
	assert parse(crash) is None
	assert parse("") is None
	assert cell(None) == "no result"


def test_the_last_summary_counts():
	assert parse(FAILED + "\n" + PASSED)["passed"] == 58


def test_sites_differ_by_counts_or_by_which_tests_fail():
	ok, bad = parse(PASSED), parse(FAILED)
	assert same(ok, parse(PASSED))
	assert not same(ok, bad)
	assert not same(ok, None) and same(None, None)
	swapped = parse(FAILED.replace("test_gl_entries)", "test_other)"))
	assert (swapped["failed"], swapped["errors"]) == (bad["failed"], bad["errors"])
	assert not same(bad, swapped)


def test_table_marks_the_rows_that_differ():
	text = table(
		[("Stock Entry", parse(PASSED), parse(FAILED)), ("Item", parse(PASSED), parse(PASSED))], "a", "b"
	)
	lines = text.splitlines()
	assert lines[0].startswith("| ERPNext tests of") and "a passed/failed/errors" in lines[0]
	assert "| Stock Entry" in lines[2] and "58/0/0 (2 skipped)" in lines[2] and "3/1/56" in lines[2]
	assert lines[2].rstrip().endswith("**NO** |")
	assert lines[3].rstrip().endswith("yes    |")
