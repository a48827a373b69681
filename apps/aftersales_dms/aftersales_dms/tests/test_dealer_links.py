"""A dealer's document links only its own dealer's records (#20, found by the attack on the demo:
a Pune advisor opened a job card for a vehicle whose home dealer is Nashik).

Generated from metadata: every Link of the app's DocTypes (on the document and its rows) to a
dealer-scoped DocType (one with a Company link, controllers/dealer_links.py) that a Pune demo user
may write is set, on a stored Pune document, to the Nashik record of its DocType, as that user,
through REST PUT, `frappe.client.save` and `set_value` — refused clearly, nothing saved. And the
attack itself: new job cards, check-ins and appointments with Nashik's vehicle, bay, technician,
check-in or appointment, as the Pune advisor, over REST insert.
"""

import json

import frappe
from frappe.tests.utils import FrappeTestCase

from aftersales_dms.controllers.dealer_links import scoped_link_fields
from aftersales_dms.tests import permission_matrix as pm
from aftersales_dms.tests import test_forged_documents as fd

OWN, OTHER = pm.OWN, pm.OTHER
CHANNELS = ("rest_put", "client_save", "client_set_value")


def other_dealers(doctype):
	return frappe.db.get_value(doctype, {"company": OTHER}, "name", order_by="creation desc")


def need(doctype):
	name = other_dealers(doctype)
	assert name, f"no {OTHER} {doctype} on the site"
	return name


def own_documents(doctype, made):
	return [d for d in made if d.doctype == doctype and d.get("company") == OWN] or [
		d for d in fd.stored_documents(doctype) if d.get("company") == OWN
	]


def writers(doc, df, row):
	"""The Pune demo users who may write the field of this document (the declared model)."""
	out = []
	for user in fd.demo_users():
		if fd.company_of(user) != OWN:
			continue
		if pm.Model(user).may_write_field(doc, df):
			out.append(user)
	return out


def rest_insert(user, doctype, values):
	"""POST /api/resource/<doctype> as user, the way Frappe's v1 handler does; the exception."""
	import frappe.api.v1 as v1

	def body():
		pm._reset_request()
		frappe.local.form_dict = frappe._dict(data=json.dumps(values, default=str))
		exc = None
		try:
			v1.create_doc(doctype)
		except Exception as e:
			exc = e
		pm._reset_request()
		return exc, frappe.db.count(doctype, {"owner": user, "creation": (">=", start)})

	start = frappe.utils.now_datetime()
	return pm.attempt(user, body)


def check_ins(company):
	"""A draft check-in and a submitted one (with its draft inspection) of the dealer."""
	from aftersales_dms.reception.doctype.vehicle_check_in.vehicle_check_in import make_check_in

	out = []
	for submit in (False, True):
		ci = make_check_in(fd.make_appointment(company).name)
		km = frappe.db.get_value("Customer Vehicle", ci.vehicle, "current_odometer") or 0
		ci.update({"odometer": km + 100, "fuel_level": "1/2"})
		ci.insert()
		if submit:
			ci.submit()
			out.append(frappe.get_doc("Vehicle Inspection", ci.vehicle_inspection))
		out.append(ci)
	return out


class TestDealerLinks(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.made = fd.documents_despite_other_tests()
		for company in (OWN, OTHER):
			cls.made += check_ins(company)

	def tearDown(self):
		frappe.set_user("Administrator")

	def test_every_link_to_a_dealers_record_refuses_the_other_dealers(self):
		parents, _children = pm.app_doctypes()
		probes, failures, not_probed = 0, [], []
		for dt in parents:
			meta = frappe.get_meta(dt)
			if not meta.has_field("company"):
				continue
			fields = [(df, None) for df in scoped_link_fields(meta)]
			for table in meta.get_table_fields():
				fields += [(df, table.fieldname) for df in scoped_link_fields(frappe.get_meta(table.options))]
			for df, table in fields:
				where = f"{dt}.{table + '.' if table else ''}{df.fieldname}"
				if df.read_only:
					continue  # the system's: kept on every user's save (guards.keep_read_only_fields)
				foreign = other_dealers(df.options)
				docs = own_documents(dt, self.made)
				if not foreign or not docs:
					not_probed.append(
						f"{where}: no {'Nashik ' + df.options if not foreign else 'Pune ' + dt}"
					)
					continue
				doc = docs[0]
				row = doc.get(table)[0] if table and doc.get(table) else None
				if table and row is None:
					not_probed.append(f"{where}: no row on {doc.name}")
					continue
				users = writers(doc, df, row)
				if not users:
					continue  # no Pune role may write it: the permission matrix covers that
				probe = pm.Probe.__new__(pm.Probe)
				probe.doc, probe.df, probe.row, probe.target = doc, df, row, row or doc
				probe.value, probe.reason = foreign, None
				for user in users:
					for channel in CHANNELS:
						exc, landed = pm.try_write(user, channel, doc, [probe])
						probes += 1
						if landed:
							failures.append(f"{where} | {user} | {channel}: Nashik's {foreign} saved")
						elif exc is None or not pm.is_clear(exc):
							failures.append(f"{where} | {user} | {channel}: {pm.describe(exc)}")
						elif OTHER in str(exc):
							failures.append(f"{where} | {user} | {channel}: the refusal names {OTHER}")
		print(f"\ndealer links: {probes} probes; not probed: {not_probed}")
		for f in failures:
			print("OTHER DEALER'S RECORD LINKED", f)
		self.assertTrue(probes, "no link to a dealer's record probed")
		self.assertFalse(failures, f"{len(failures)} links to the other dealer's records not refused")

	def test_the_pune_advisor_cannot_open_work_on_nashiks_records(self):
		from aftersales_dms.workshop.doctype.service_job_card.service_job_card import labour_line

		advisor = "advisor@omp.example"
		theirs = frappe.get_all(
			"Customer Vehicle",
			filters={"company": OTHER},
			fields=["name", "customer"],
			order_by="creation",
			limit=1,
		)[0]
		ours = frappe.get_all(
			"Customer Vehicle",
			filters={"company": OWN},
			fields=["name", "customer"],
			order_by="creation",
			limit=1,
		)[0]
		job = {"company": OWN, "customer": ours.customer, "vehicle": ours.name, "labour": []}
		appointment = {
			"company": OWN,
			"channel": "Phone",
			"customer": ours.customer,
			"vehicle": ours.name,
			"preferred_date": frappe.utils.add_days(None, 90),
			"services": [{"item_code": "LAB-PMS-CAR"}],
		}
		cases = [
			("Service Job Card", {**job, "customer": theirs.customer, "vehicle": theirs.name}),
			("Service Job Card", {**job, "service_bay": need("Service Bay")}),
			("Service Job Card", {**job, "vehicle_check_in": need("Vehicle Check In")}),
			(
				"Service Job Card",
				{**job, "labour": [labour_line("LAB-PMS-CAR", OWN, technician=fd.technician(OTHER))]},
			),
			("Vehicle Check In", {"company": OWN, "customer": theirs.customer, "vehicle": theirs.name}),
			("Service Appointment", {**appointment, "customer": theirs.customer, "vehicle": theirs.name}),
			("Service Appointment", {**appointment, "technician": fd.technician(OTHER)}),
		]
		for doctype, values in cases:
			exc, made = rest_insert(advisor, doctype, {"doctype": doctype, **values})
			with self.subTest(doctype=doctype, values=values):
				self.assertIsInstance(exc, frappe.PermissionError, pm.describe(exc))
				self.assertNotIn(OTHER, str(exc))
				self.assertFalse(made)
		# the same job card with the advisor's own dealer's vehicle is made
		exc, made = rest_insert(
			advisor,
			"Service Job Card",
			{
				"doctype": "Service Job Card",
				**job,
				"labour": [labour_line("LAB-PMS-CAR", OWN, technician=fd.technician(OWN))],
			},
		)
		self.assertIsNone(exc, pm.describe(exc))
		self.assertEqual(made, 1)
