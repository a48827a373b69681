"""The permission matrix's in-process path equals the HTTP path: a sample of its cells (two
dealers' appointments, four roles, the four HTTP write channels, every probed field of the
appointment and its first service row; and whitelisted methods called by another dealer and by
Guest) run both ways, and each gives the same outcome (which fields changed; refused or not, with
the same HTTP status). The in-process attempts are rolled back; the HTTP ones commit, so each is
undone (the probed values written back) before the next. See README "Security model"."""

import json

import frappe
import pytest
import requests
from aftersales_dms.tests import permission_matrix as pm
from dmstest import login

ROLES = (
	"Service Advisor",
	"Technician",
	"Accounts User + Service Accountant",
	"OEM Admin",
)
CHANNELS = ("rest_put", "client_save", "client_set_value", "client_bulk_update")


def appointment(company):
	return frappe.get_all(
		"Service Appointment",
		filters={"company": company, "status": ("in", ("Requested", "Confirmed"))},
		pluck="name",
		order_by="creation desc",
		limit=1,
	)[0]


def http_write(s, url, channel, doc, probes):
	"""The same request a client sends for pm.write(channel, ...); (status code, text)."""
	if channel == "rest_put":
		r = s.put(
			f"{url}/api/resource/{doc.doctype}/{doc.name}",
			json=pm.payload(doc, probes),
			timeout=60,
		)
	elif channel == "client_save":
		r = s.post(
			f"{url}/api/method/frappe.client.save",
			data={"doc": json.dumps(pm.payload(doc, probes, full=True))},
			timeout=60,
		)
	elif channel == "client_set_value":
		parent = {p.df.fieldname: p.value for p in probes if p.row is None}
		rows = {}
		for p in probes:
			if p.row is not None:
				rows.setdefault((p.row.doctype, p.row.name), {})[p.df.fieldname] = p.value
		r = None
		for dt, name, values in [(doc.doctype, doc.name, parent)] + [
			(k[0], k[1], v) for k, v in rows.items()
		]:
			if not values:
				continue
			r = s.post(
				f"{url}/api/method/frappe.client.set_value",
				data={
					"doctype": dt,
					"name": name,
					"fieldname": json.dumps(values, default=str),
				},
				timeout=60,
			)
			if r.status_code != 200:
				break
	else:
		row = {"doctype": doc.doctype, "docname": doc.name, **pm.payload(doc, probes)}
		r = s.post(
			f"{url}/api/method/frappe.client.bulk_update",
			data={"docs": json.dumps([row])},
			timeout=60,
		)
		if r.status_code == 200 and r.json()["message"]["failed_docs"]:
			return 417, "failed_docs"
	return r.status_code, r.text[:200]


def restore(originals):
	for (dt, name, field), value in originals.items():
		frappe.db.set_value(dt, name, field, value, update_modified=False)
	frappe.db.commit()


@pytest.mark.commits
def test_in_process_equals_http(server, demo_password):
	frappe.db.rollback()  # a fresh snapshot: the server's commits are visible
	users = {label: user for label, user in pm.demo_users().items() if label in ROLES}
	assert set(users) == set(ROLES), users
	sessions = {label: login(server, user, demo_password) for label, user in users.items()}
	docs = [frappe.get_doc("Service Appointment", appointment(c)) for c in (pm.OWN, pm.OTHER)]
	matrix = pm.Matrix(docs, users)
	plan, in_process = {}, {}
	for doc in docs:
		probes = [
			p
			for p in matrix.baseline(doc, pm.probes_for(doc))
			if p.df.fieldtype not in frappe.model.table_fields
		]
		plan[doc.name] = probes
		for label, user in users.items():
			for channel in CHANNELS:
				exc, landed = pm.try_write(user, channel, doc, probes)
				code = (
					200
					if exc is None
					else (417 if isinstance(exc, pm.BulkUpdateFailed) else exc.http_status_code)
				)
				in_process[(doc.name, label, channel)] = (code, landed)
	frappe.db.rollback()  # release the row locks the rolled-back attempts still hold
	cells = 0
	mismatches = []
	for doc in docs:
		probes = plan[doc.name]
		originals = {(p.target.doctype, p.target.name, p.df.fieldname): p.stored() for p in probes}
		for label in users:
			for channel in CHANNELS:
				fresh = frappe.get_doc(doc.doctype, doc.name)
				code, text = http_write(sessions[label], server, channel, fresh, probes)
				frappe.db.rollback()
				landed = {p.key for p in probes if p.landed()}
				restore(originals)
				cells += len(probes)
				want_code, want_landed = in_process[(doc.name, label, channel)]
				if (code == 200) != (want_code == 200) or landed != want_landed:
					mismatches.append(
						(
							doc.name,
							label,
							channel,
							(want_code, sorted(want_landed)),
							(code, text, sorted(landed)),
						)
					)
	# whitelisted methods: another dealer (the Nashik advisor) and Guest, both ways
	nashik = login(server, "advisor@omn.example", demo_password)
	guest = requests.Session()
	own = docs[0]
	calls = [
		("run_doc_method", {"dt": own.doctype, "dn": own.name, "method": "confirm"}),
		(
			"run_doc_method",
			{"dt": own.doctype, "dn": own.name, "method": "cancel_appointment"},
		),
		(
			"aftersales_dms.reception.doctype.vehicle_check_in.vehicle_check_in.make_check_in",
			{"source_name": own.name},
		),
	]
	for caller, s in (("advisor@omn.example", nashik), ("Guest", guest)):
		for cmd, args in calls:
			r = s.post(f"{server}/api/method/{cmd}", data=args, timeout=60)
			if cmd == "run_doc_method":
				exc, unchanged = pm.call_method(
					caller,
					None,
					{},
					doc=own,
					method=args["method"],
					watched=["Service Appointment"],
				)
			else:
				exc, unchanged = pm.call_method(
					caller, frappe.get_attr(cmd), args, watched=["Service Appointment"]
				)
			cells += 1
			got = getattr(exc, "http_status_code", 500) if exc else 200
			if r.status_code != got or not unchanged or not 400 <= r.status_code < 500:
				mismatches.append((cmd, caller, args, got, r.status_code, r.text[:200]))
	frappe.db.rollback()
	print(f"\nHTTP sample: {cells} cells over HTTP and in-process, {len(mismatches)} differ")
	for m in mismatches:
		print("HTTP != IN-PROCESS", m)
	assert not mismatches
