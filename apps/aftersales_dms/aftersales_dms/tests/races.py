"""Races on real connections, for the tests marked `@pytest.mark.commits`."""

import threading

import frappe


def at_once(*calls, user: str | None = None) -> list:
	"""Run each zero-argument call on its own thread with its own connection to this site, all
	released together (as two people clicking at the same moment). Each call commits when it
	succeeds and rolls back when it raises. Returns what each returned or raised, in call order;
	this connection then sees their commits."""
	site = frappe.local.site
	barrier, results = threading.Barrier(len(calls)), [None] * len(calls)

	def run(k, call):
		frappe.init(site=site)
		frappe.connect()
		if user:
			frappe.set_user(user)
		try:
			barrier.wait(timeout=30)
			results[k] = call()
			frappe.db.commit()
		except Exception as e:
			frappe.db.rollback()
			results[k] = e
		finally:
			frappe.destroy()

	threads = [threading.Thread(target=run, args=(k, call)) for k, call in enumerate(calls)]
	for t in threads:
		t.start()
	for t in threads:
		t.join(120)
	frappe.db.rollback()  # see the threads' commits
	return results
