"""Doc methods through Frappe's /api/v2 (#20): no hook overrides these paths
(`frappe/api/v2.py`: `override_whitelisted_methods` is not consulted for them), so each method's
own lock and check must hold.

- `/api/v2/document/<doctype>/<name>/method/<method>` loads the stored document, checks read (GET)
  or write (POST) on it and runs the method with the request's values as arguments;
- `/api/v2/method/run_doc_method` builds the document from the `document` the client posts.

Generated from metadata like the in-process test (`aftersales_dms/tests/test_forged_documents.py`,
whose documents, arguments and forgeries are reused): every whitelisted doc method of the app's
DocTypes, on each dealer's stored documents, as every demo user of the OTHER dealer whose roles read
the DocType, over HTTP on a real server: both document paths (GET and POST), and run_doc_method with
the stored document as the client sends it and with each forgery (new under its name, the caller's
company swapped in, other status, other docstatus). Every call is refused with a 4xx that does not
name the document's dealer, and no table of the app's DocTypes or of the ERPNext documents a method
makes changes."""

import json
import time
from collections import Counter
from urllib.parse import quote

import frappe
import pytest
from dmstest import login

pytestmark = pytest.mark.commits

# what a doc method of the app writes besides the app's own DocTypes
ERPNEXT_WRITTEN = (
	"Stock Entry",
	"Stock Entry Detail",
	"Stock Ledger Entry",
	"Bin",
	"Material Request",
	"Material Request Item",
	"Quotation",
	"Quotation Item",
	"Sales Invoice",
	"Sales Invoice Item",
	"GL Entry",
	"Payment Entry",
	"ToDo",
)
# messages: the site's background jobs send and update them at any time (those the set-up queued
# too), so what counts is a new message about the probed document, and the document itself
MESSAGES = ("Communication", "Email Queue", "Outgoing SMS")


def messages_about(doc):
	return {
		table: frappe.db.count(table, {"reference_doctype": doc.doctype, "reference_name": doc.name})
		for table in MESSAGES
	} | {"the document": str(frappe.db.get_value(doc.doctype, doc.name, "modified"))}


def test_every_doc_method_through_v2_refuses_the_other_dealers_staff(server, demo_password):
	from aftersales_dms.tests import permission_matrix as pm
	from aftersales_dms.tests import test_forged_documents as fd

	t0 = time.monotonic()
	frappe.set_user("Administrator")
	docs = fd.documents_despite_other_tests()
	frappe.db.commit()  # the server's requests see them
	parents, children = pm.app_doctypes()
	methods = pm.whitelisted_doc_methods(parents)
	assert methods, "no whitelisted doc method found"
	watched = [t for t in parents + children + list(ERPNEXT_WRITTEN) if t not in MESSAGES]
	users, sessions = fd.demo_users(), {}
	failures, not_probed, outcomes = [], [], Counter()

	def session(user):
		if user not in sessions:
			sessions[user] = login(server, user, demo_password)
		return sessions[user]

	for dt, name, member in methods:
		dt_docs = [d for d in docs if d.doctype == dt] or fd.stored_documents(dt)
		probed = False
		for doc in dt_docs:
			kwargs = fd.arguments(member, doc)
			path = f"{server}/api/v2/document/{quote(dt)}/{quote(doc.name)}/method/{name}"
			stored = json.loads(frappe.as_json(doc.as_dict()))
			for user in users:
				model = pm.Model(user)
				if not fd.reaches(user, dt) or model.in_scope(doc) or not model.companies:
					continue  # only the other dealer's staff
				probed = True
				s = session(user)
				calls = [
					(
						"document POST",
						lambda s=s, path=path, kwargs=kwargs: s.post(path, json=kwargs, timeout=60),
					),
					(
						"document GET",
						lambda s=s, path=path, kwargs=kwargs: s.get(path, params=kwargs, timeout=60),
					),
				]
				for label, document in [("stored", stored), *fd.forgeries(doc, user)]:
					calls.append(
						(
							f"run_doc_method {label}",
							lambda s=s, document=document, name=name, kwargs=kwargs: s.post(
								f"{server}/api/v2/method/run_doc_method",
								json={"method": name, "document": document, "kwargs": kwargs},
								timeout=60,
							),
						)
					)
				for label, send in calls:
					frappe.db.rollback()  # a fresh snapshot of what the server committed
					before = pm.snapshot(watched) | messages_about(doc)
					r = send()
					frappe.db.rollback()
					after = pm.snapshot(watched) | messages_about(doc)
					changed = sorted(t for t in after if after[t] != before.get(t))
					outcomes[r.status_code] += 1
					wrong = None
					if not 400 <= r.status_code < 500:
						wrong = f"answered {r.status_code}: {r.text[:200]}"
					elif changed:
						wrong = f"refused ({r.status_code}) but changed {changed}"
					elif doc.get("company") and doc.company in r.text:
						wrong = f"the refusal names the document's dealer: {r.text[:200]}"
					if wrong:
						failures.append(
							f"{dt}.{name} | {user} | {doc.name} ({doc.get('company')}) | {label}: {wrong}"
						)
		if not probed:
			not_probed.append(f"{dt}.{name}")
	print(
		f"\n/api/v2 doc methods: {len(methods)} methods, {sum(outcomes.values())} calls "
		f"({dict(outcomes)}); {time.monotonic() - t0:.0f} s"
	)
	for f in failures:
		print("V2 CALL NOT REFUSED", f)
	assert not not_probed, f"doc methods no other dealer's user reaches: {not_probed}"
	assert not failures, f"{len(failures)} calls through /api/v2 not refused"
