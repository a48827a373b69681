"""Background work a save asks for, queued once after the commit.

A save that leaves follow-up work nobody need wait for (a job card's ToDos, a technician's day
figures) asks for it with `queue_once_after_commit(key, method, **kwargs)`: the job is queued on
the short queue when the transaction commits — once however many saves of the transaction asked
for the same key, and not at all while a job of that key is queued that has not started yet (a
Redis key set only if absent; the job calls `started(key)` before it reads anything, so a commit
after that queues a new one and no change is missed). A rollback forgets what was asked. A key
left by a job that never ran expires after ten minutes.
"""

import frappe

PENDING = "dms_jobs_after_commit"
KEY_SECONDS = 600


def queue_once_after_commit(key: str, method: str, **kwargs) -> None:
	"""Queue `method(**kwargs)` after this transaction commits, once per `key` (see the module)."""
	pending = frappe.flags.get(PENDING)
	if pending is None:
		pending = frappe.flags[PENDING] = {}
		frappe.db.after_commit.add(_enqueue_pending)
		frappe.db.after_rollback.add(_forget_pending)
	pending.setdefault(key, (method, kwargs))


def _enqueue_pending() -> None:
	pending = frappe.flags.pop(PENDING, None) or {}
	for key, (method, kwargs) in pending.items():
		# set only if absent (atomic): a job of this key that has not started reads this commit
		if frappe.cache.set(frappe.cache.make_key(key), 1, ex=KEY_SECONDS, nx=True):
			frappe.enqueue(method, queue="short", **kwargs)


def _forget_pending() -> None:
	frappe.flags.pop(PENDING, None)


def started(key: str) -> None:
	"""The first thing a queued job does: a commit from now on queues a new job."""
	frappe.cache.delete(frappe.cache.make_key(key))


def is_queued(key: str) -> bool:
	"""A job of the key is queued and has not started (for tests and the benchmark)."""
	return bool(frappe.cache.exists(key))  # (exists makes the site's key itself)
