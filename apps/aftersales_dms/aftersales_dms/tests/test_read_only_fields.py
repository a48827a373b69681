"""Read-only means read-only (#20): a field the form shows read-only is read-only on the server.

Generated from metadata: for every DocType of the app and every field read-only in its JSON (not
fetch_from: Frappe fetches those from their link), as each demo role that may write the document
at the field's permlevel, the field is set over the REST-equivalent paths (frappe.client.set_value,
frappe.client.save, the REST v1 PUT handler) and on insert (the REST v1 POST handler), and the
stored value must be the server's, not the client's. Then focused tests of the findings."""

import json
import random
import string

import frappe
from frappe.tests.utils import FrappeTestCase

from aftersales_dms.tests import permission_matrix as pm
from aftersales_dms.tests.test_permission_matrix import journey, probe_documents
from aftersales_dms.workshop.test_job_card_status import as_user

ADVISOR = "advisor@omp.example"
ADVISOR_NASHIK = "advisor@omn.example"
CHANNELS = ("client_set_value", "client_save", "rest_put")


def is_read_only(df, doctype):
	"""Read-only in the form, holding data, not fetched, not Frappe's own (amendment, and the
	workflow's state field, moved only along the workflow's transitions)."""
	if not df.read_only or df.fetch_from or df.fieldname in ("amended_from", "naming_series"):
		return False
	if df.fieldtype in pm.NO_VALUE and df.fieldtype != "Table":
		return False
	workflow = pm.active_workflow(doctype)
	return not (workflow and df.fieldname == workflow.workflow_state_field)


def read_only_probes(doc):
	return [p for p in pm.probes_for(doc) if is_read_only(p.df, p.doc.doctype if p.row else doc.doctype)]


def writers(users, doc, df):
	"""The demo roles the declared permissions let write this document at the field's permlevel
	(the read-only flag aside: that is what is tested)."""
	out = {}
	for label, user in users.items():
		model = pm.Model(user)
		if (
			model.in_scope(doc)
			and "write" in model.rights(doc.doctype, 0, doc)
			and "write" in model.rights(doc.doctype, df.permlevel, doc)
		):
			out[label] = user
	return out


def attempt_write(user, channel, doc, probes):
	"""As user, through channel; rolled back. (exception, {probe key: stored value after})."""

	def fn():
		exc = pm.write(channel, doc, probes)
		frappe.set_user(pm.ADMIN)
		return exc, {p.key: pm.norm(p.df, p.stored()) for p in probes}

	return pm.attempt(user, fn)


def unique_vin():
	from aftersales_dms.utils.vin import check_digit

	chars = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
	vin = "MA1" + "".join(random.choices(chars, k=14))
	return vin[:8] + check_digit(vin) + vin[9:]


def copy_payload(doc):
	"""A new document like doc, as a client POSTs it (unique values made unique)."""
	data = frappe.copy_doc(doc).as_dict(convert_dates_to_str=True)
	for k in ("name", "docstatus", "amended_from", "status", "workflow_state"):
		data.pop(k, None)
	meta = frappe.get_meta(doc.doctype)
	for df in meta.fields:
		if df.unique and data.get(df.fieldname):
			data[df.fieldname] = f"{data[df.fieldname]}ro"
	if doc.doctype == "Customer Vehicle":
		data["vin"] = unique_vin()
		data["registration_plate"] = "RO" + "".join(random.choices(string.digits, k=8))
	if doc.doctype == "Service Job Card":  # one job card per check-in: another one, not yet opened
		ci = frappe.get_all(
			"Vehicle Check In",
			filters={"company": doc.company, "docstatus": 1, "service_job_card": ("is", "not set")},
			fields=["name", "vehicle", "customer"],
			order_by="creation desc",
			limit=1,
		)
		if ci:
			data.update(vehicle_check_in=ci[0].name, vehicle=ci[0].vehicle, customer=ci[0].customer)
	for table in meta.get_table_fields():
		for row in data.get(table.fieldname) or []:
			for k in ("name", "parent", "creation", "modified"):
				row.pop(k, None)
	return data


def post(user, doctype, data):
	"""As user, the REST v1 create handler; rolled back. (exception, stored new document)."""
	import frappe.api.v1 as v1

	def fn():
		pm._reset_request()
		frappe.local.form_dict = frappe._dict(data=frappe.as_json(data))
		try:
			new = v1.create_doc(doctype)
		except Exception as e:
			return e, None
		finally:
			pm._reset_request()
		frappe.set_user(pm.ADMIN)
		return None, frappe.get_doc(doctype, new.name).as_dict()

	return pm.attempt(user, fn)


class TestReadOnlyFields(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		frappe.set_user("Administrator")
		for attempt in range(5):  # the shared test site: another test may hold the naming series
			try:
				journey(pm.OWN)
				break
			except (frappe.QueryTimeoutError, frappe.QueryDeadlockError):
				frappe.db.rollback()
				if attempt == 4:
					raise
		cls.docs, cls.missing = probe_documents()
		cls.app_doctypes = set(pm.app_doctypes()[0])
		cls.users = pm.demo_users()

	def tearDown(self):
		frappe.set_user("Administrator")

	def test_every_read_only_field_keeps_the_servers_value(self):
		"""Existing documents: each field alone, over set_value, client.save and REST PUT, as every
		role that may write the document at its permlevel. The fields Administrator (who skips the
		rule, like every permission) can change are the ones only this rule protects."""
		docs = [
			d
			for (dt, side), d in self.docs.items()
			if side == "own" and d.docstatus == 0 and dt in self.app_doctypes
		]
		cells, saved, fields, only_the_rule, leaks = 0, 0, set(), set(), []
		for doc in docs:
			for p in read_only_probes(doc):
				if p.value is None:
					continue
				fields.add(p.key)
				before = pm.norm(p.df, p.stored())
				client = pm.norm(p.df, p.value)
				_exc, admin = attempt_write(pm.ADMIN, "client_save", doc, [p])
				if admin[p.key] == client != before:
					only_the_rule.add(p.key)
				for label, user in writers(self.users, doc, p.df).items():
					for channel in CHANNELS:
						exc, after = attempt_write(user, channel, doc, [p])
						cells += 1
						saved += exc is None
						if after[p.key] != before:
							leaks.append((*p.key, label, channel, doc.name, before, after[p.key]))
		print(
			f"\nread-only fields: {len(fields)} fields of {len(docs)} documents, each alone x its "
			f"writing roles x {len(CHANNELS)} channels = {cells} cells ({saved} saved with the "
			f"server's value, the rest refused); {len(only_the_rule)} of the fields Administrator "
			f"changes: {sorted(f'{dt}.{f}' for dt, f in only_the_rule)}"
		)
		for row in leaks:
			print("LEAK", " | ".join(str(x) for x in row))
		self.assertGreater(len(fields), 20)
		self.assertTrue(only_the_rule, "some read-only field is protected by the rule alone")
		self.assertFalse(leaks, f"{len(leaks)} read-only cells took the client's value")

	def test_a_new_document_gets_the_servers_values(self):
		"""Insert (REST POST): the read-only fields a client sends are the server's defaults or
		derived values, the same as when the client sends none."""
		docs = [
			d
			for (dt, side), d in self.docs.items()
			if side == "own" and dt in self.app_doctypes and not frappe.get_meta(dt).issingle
		]
		cells, leaks, not_probed = 0, [], []
		for doc in docs:
			meta = frappe.get_meta(doc.doctype)
			# a read-only field that is also set_only_once is the document it is made from (the job
			# card's check-in): sent by the mapped draft, checked by the controller; the rest is
			# derived from it or defaulted, whatever the client sends
			fields = [
				df
				for df in meta.fields
				if is_read_only(df, doc.doctype) and df.fieldtype != "Table" and not df.set_only_once
			]
			creators = {
				label: user for label, user in self.users.items() if pm.Model(user).may("create", doc)
			}
			if not fields or not creators:
				continue
			plain = copy_payload(doc)
			for df in fields:
				plain.pop(df.fieldname, None)
			forged = dict(plain)
			for df in fields:
				value, _reason = pm.generate(df, doc)
				if value is not None:
					forged[df.fieldname] = value
			for label, user in creators.items():
				exc, server = post(user, doc.doctype, plain)
				if exc is not None:
					not_probed.append((doc.doctype, label, pm.describe(exc)))
					continue
				exc, stored = post(user, doc.doctype, forged)
				cells += len(fields)
				if exc is not None:
					continue  # refused: nothing stored
				for df in fields:
					if df.fieldname not in forged:
						continue
					got, want = pm.norm(df, stored.get(df.fieldname)), pm.norm(df, server.get(df.fieldname))
					client = pm.norm(df, forged[df.fieldname])
					if df.fieldtype == "Datetime" and got != client:
						continue  # a time the server took: not the client's
					if got != want:
						leaks.append((doc.doctype, df.fieldname, label, client, got, want))
		print(f"\nread-only fields on insert: {cells} cells")
		for row in not_probed:
			print("not probed on insert:", " | ".join(row))
		for row in leaks:
			print("LEAK", " | ".join(str(x) for x in row))
		self.assertGreater(cells, 10)
		self.assertFalse(leaks, f"{len(leaks)} read-only fields took the client's value on insert")

	# ---- focused: the findings of the review
	def test_job_card_odometer_is_the_check_ins(self):
		"""REST PUT odometer=654321 flowed into the invoice, the warranty claim and the vehicle."""
		from aftersales_dms.reception.doctype.vehicle_check_in.vehicle_check_in import make_job_card

		jc_name = frappe.db.get_value(
			"Service Job Card", {"company": pm.OWN, "vehicle_check_in": ("is", "set"), "docstatus": 0}
		)
		jc = frappe.get_doc("Service Job Card", jc_name)
		ci = frappe.db.get_value(
			"Vehicle Check In", jc.vehicle_check_in, ["odometer", "fuel_level", "check_in_time"], as_dict=True
		)
		posting_date = jc.posting_date
		for channel in ("rest_put", "client_set_value"):
			probes = []
			for field, value in (
				("odometer", 654321),
				("fuel_level", "Full"),
				("posting_date", "2020-01-01"),
			):
				p = pm.Probe(jc, frappe.get_meta(jc.doctype).get_field(field))
				p.value = value
				probes.append(p)
			exc, after = attempt_write(ADVISOR, channel, jc, probes)
			self.assertIsNone(exc, channel)
			self.assertEqual(
				(after[("Service Job Card", "odometer")], after[("Service Job Card", "fuel_level")]),
				(ci.odometer, ci.fuel_level),
			)
			self.assertEqual(after[("Service Job Card", "posting_date")], str(posting_date))
		# on insert: a job card made from another check-in with a forged odometer
		ci_name = frappe.db.get_value(
			"Vehicle Check In",
			{"company": pm.OWN, "docstatus": 1, "service_job_card": ("is", "not set")},
			order_by="creation desc",
		)
		if not ci_name:
			self.skipTest("no submitted check-in without a job card")  # journey() makes one
		draft = make_job_card(ci_name)
		draft.update({"odometer": 654321, "fuel_level": "Full", "posting_date": "2020-01-01"})
		draft.open_recalls = "forged"
		as_user(ADVISOR, draft.insert)
		stored = frappe.db.get_value(
			"Service Job Card",
			draft.name,
			["odometer", "fuel_level", "posting_date", "open_recalls"],
			as_dict=True,
		)
		source = frappe.db.get_value(
			"Vehicle Check In", ci_name, ["odometer", "fuel_level", "open_recalls"], as_dict=True
		)
		self.assertEqual(
			(stored.odometer, stored.fuel_level, str(stored.posting_date), stored.open_recalls),
			(source.odometer, source.fuel_level, frappe.utils.today(), source.open_recalls),
		)

	def test_vehicle_with_a_customer_that_does_not_exist_is_refused(self):
		from aftersales_dms.reception.doctype.customer_vehicle.test_customer_vehicle import make_vehicle

		vehicle = make_vehicle(
			vin=unique_vin(), plate="RO" + "".join(random.choices(string.digits, k=8)), do_not_save=True
		)
		vehicle.customer = "No Such Customer 4711"
		vehicle.customer_name = "Forged Name"
		with self.assertRaisesRegex(frappe.LinkValidationError, "No Such Customer 4711"):
			as_user(ADVISOR, vehicle.insert)
		self.assertFalse(frappe.db.exists("Customer Vehicle", vehicle.vin))
		# and on an existing vehicle, over set_value
		name = frappe.db.get_value("Customer Vehicle", {"company": pm.OWN})
		frappe.set_user(ADVISOR)
		with self.assertRaises(frappe.LinkValidationError):
			frappe.client.set_value("Customer Vehicle", name, "customer", "No Such Customer 4711")
		frappe.set_user("Administrator")
		self.assertNotEqual(
			frappe.db.get_value("Customer Vehicle", name, "customer"), "No Such Customer 4711"
		)

	def test_inspection_submit_needs_every_mandatory_check(self):
		name = frappe.db.get_value("Vehicle Inspection", {"company": pm.OWN, "docstatus": 0})
		inspection = frappe.get_doc("Vehicle Inspection", name)
		mandatory = [r.name for r in inspection.items if r.mandatory]
		self.assertTrue(mandatory, "the demo template has mandatory checks")
		other_template = frappe.db.get_value(
			"Vehicle Inspection Template", {"name": ("!=", inspection.template)}
		)

		def client_doc(**changes):
			data = inspection.as_dict(convert_dates_to_str=True)
			for row in data["items"]:
				row["result"] = "Green"
			data.update(changes)
			return json.dumps(data, default=str)

		frappe.set_user(ADVISOR)
		# a client drops a mandatory check and submits the rest answered
		data = json.loads(client_doc(docstatus=1))
		data["items"] = [r for r in data["items"] if r["name"] != mandatory[0]]
		with self.assertRaisesRegex(frappe.ValidationError, "cannot be removed"):
			frappe.client.save(json.dumps(data))
		# or leaves it unanswered and says it is not mandatory
		data = json.loads(client_doc(docstatus=1))
		for row in data["items"]:
			if row["name"] == mandatory[0]:
				row.update(result=None, mandatory=0)
		with self.assertRaisesRegex(frappe.ValidationError, "mandatory check"):
			frappe.client.save(json.dumps(data))
		# the template is the one the check-in gave it, whatever a client sends
		if other_template:
			frappe.client.save(client_doc(template=other_template))
		frappe.set_user("Administrator")
		self.assertEqual(
			frappe.db.get_value("Vehicle Inspection", name, ["docstatus", "template"]),
			(0, inspection.template),
		)
		self.assertEqual(len(frappe.get_doc("Vehicle Inspection", name).items), len(inspection.items))

	def test_warranty_claim_decision_is_not_the_dealers(self):
		from aftersales_dms.billing.doctype.oem_warranty_claim.test_oem_warranty_claim import warranty_invoice
		from aftersales_dms.billing.test_invoice import ACCOUNTANT

		_jc, inv = warranty_invoice()
		claim = frappe.get_doc(
			{
				"doctype": "OEM Warranty Claim",
				"sales_invoice": inv.name,
				"causal_part": "PRT-OIL-FILTER-C",
				"defect_description": "Filter housing cracked",
				"status": "Approved",
				"oem_reference": "FORGED",
				"decided_by": "oem.admin@orion-oem.example",
				"rejection_reason": "forged",
			}
		)
		as_user(ACCOUNTANT, claim.insert)
		frappe.set_user(ACCOUNTANT)
		frappe.client.set_value(
			"OEM Warranty Claim",
			claim.name,
			{"status": "Approved", "oem_reference": "FORGED2", "decided_on": "2026-01-01 10:00:00"},
		)
		frappe.set_user("Administrator")
		stored = frappe.db.get_value(
			"OEM Warranty Claim",
			claim.name,
			["status", "oem_reference", "decided_by", "decided_on", "rejection_reason"],
			as_dict=True,
		)
		self.assertEqual(
			(
				stored.status,
				stored.oem_reference,
				stored.decided_by,
				stored.decided_on,
				stored.rejection_reason,
			),
			("Draft", None, None, None, None),
		)
		meta = frappe.get_meta("OEM Warranty Claim")
		for field in (
			"status",
			"oem_reference",
			"decided_by",
			"decided_on",
			"rejection_reason",
			"credit_note",
			"rebill_invoice",
		):
			self.assertEqual(meta.get_field(field).permlevel, 2, field)

	def test_advisor_registers_a_walk_in_customer_and_contact(self):
		"""In-process, as the desk's REST does it (the HTTP test: tests/system/test_read_only_http.py)."""
		from aftersales_dms.roles import ADVISOR as ADVISOR_ROLE
		from aftersales_dms.roles import ERPNEXT_PERMISSIONS

		self.assertEqual(ERPNEXT_PERMISSIONS["Customer"][ADVISOR_ROLE], ("read", "write", "create"))
		for user in (ADVISOR, ADVISOR_NASHIK):
			frappe.set_user(user)
			suffix = frappe.generate_hash(length=6)
			customer = frappe.get_doc(
				{"doctype": "Customer", "customer_name": f"Walk-in {suffix}", "customer_type": "Individual"}
			).insert()
			contact = frappe.get_doc(
				{
					"doctype": "Contact",
					"first_name": f"Walk-in {suffix}",
					"phone_nos": [{"phone": "+919800012345", "is_primary_mobile_no": 1}],
					"links": [{"link_doctype": "Customer", "link_name": customer.name}],
				}
			).insert()
			self.assertTrue(frappe.db.exists("Contact", contact.name))
		frappe.set_user("tech.amit@omp.example")
		with self.assertRaises(frappe.PermissionError):
			frappe.get_doc({"doctype": "Customer", "customer_name": "Not by a technician"}).insert()
