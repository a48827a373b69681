"""No upload a browser would run (#20, found by the attack on the demo): a public `x.html` uploaded
by a dealer's staff was served as a page of the site (`/files/x.html`, text/html, the site's
cookies). Every demo user of both dealers and the OEM admin, over HTTP: `upload_file` of HTML, SVG,
JavaScript, XHTML and of HTML content under an innocent name, a File inserted through
`frappe.client.insert` with such content or with the address of a public HTML file already on disk,
and an existing upload of theirs moved to that address — refused, no File and no file on disk left
behind; a PDF and a JPEG still upload. Guest uploads nothing (the site allows Guests no uploads), and
a System Manager may store an HTML file (controllers/uploads.py)."""

import base64
import os
import uuid

import frappe
import pytest
import requests
from dmstest import login

pytestmark = pytest.mark.commits

ACTIVE = (
	("page.html", "text/html", "<html><body><script>alert(document.cookie)</script></body></html>"),
	("page.HTM", "text/html", "<script>alert(1)</script>"),
	("logo.svg", "image/svg+xml", '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
	("app.js", "text/javascript", "fetch('/api/method/frappe.auth.get_logged_user')"),
	("page.xhtml", "application/xhtml+xml", '<html xmlns="http://www.w3.org/1999/xhtml"></html>'),
	("data.xml", "text/xml", "<?xml version='1.0'?><x/>"),
	# HTML under a name a browser would not run: a browser that sniffs would render it
	("notes", "application/octet-stream", "<!DOCTYPE html><script>alert(1)</script>"),
	("notes.txt", "text/plain", "\n  <html><script>alert(1)</script>"),
)


def pdf() -> bytes:
	"""A real one-page PDF, new each time (Frappe reads an uploaded PDF)."""
	import io

	from pypdf import PdfWriter

	writer = PdfWriter()
	writer.add_blank_page(width=200, height=200)
	writer.add_metadata({"/Title": uuid.uuid4().hex})
	out = io.BytesIO()
	writer.write(out)
	return out.getvalue()


def jpeg() -> bytes:
	import io
	import random

	from PIL import Image

	out = io.BytesIO()
	Image.new("RGB", (8, 8), tuple(random.randrange(256) for _ in range(3))).save(out, "JPEG")
	return out.getvalue() + uuid.uuid4().bytes  # bytes after the end marker: a new content hash


def demo_users():
	from aftersales_dms.demo import load_config

	fixture = load_config()
	return [u["email"] for u in fixture["users"]] + [fixture["technicians"][0]["email"]]


def unique(content: str) -> bytes:
	# a new content hash: Frappe would otherwise point the new File at an existing file
	return f"{content}<!-- {uuid.uuid4().hex} -->".encode()


def public_files() -> set:
	return set(os.listdir(frappe.get_site_path("public", "files")))


def upload(s, name, content, content_type, **form):
	return s.post(
		f"{s.base}/api/method/upload_file",
		files={"file": (name, content, content_type)},
		data={"is_private": "0", **form},
		timeout=60,
	)


def session(server, user, password):
	s = login(server, user, password) if user != "Guest" else requests.Session()
	s.base = server
	return s


def refused(r) -> bool:
	return r.status_code in (403, 417)


@pytest.fixture(scope="module")
def public_html():
	"""A public HTML file a System Manager stored (Administrator, over HTTP): its address is what a
	forged File of another user points at."""
	frappe.set_user("Administrator")
	doc = frappe.get_doc(
		{
			"doctype": "File",
			"file_name": f"sm-{uuid.uuid4().hex[:8]}.html",
			"is_private": 0,
			"content": unique("<html><script>alert(1)</script></html>"),
		}
	).insert(ignore_permissions=True)
	frappe.db.commit()
	yield doc.file_url
	frappe.db.rollback()
	frappe.delete_doc("File", doc.name, ignore_permissions=True, force=True)
	frappe.db.commit()


def test_staff_cannot_upload_what_a_browser_runs(server, demo_password, public_html):
	made = []
	start = frappe.utils.now_datetime()
	try:
		for user in demo_users():
			s = session(server, user, demo_password)
			before = public_files()
			for name, content_type, content in ACTIVE:
				r = upload(s, name, unique(content), content_type)
				assert refused(r), (user, name, r.status_code, r.text[:300])
				assert "File type not allowed" in r.text or "cannot be uploaded" in r.text, (
					user,
					name,
					r.text[:300],
				)
				body = base64.b64encode(unique(content)).decode()
				r = s.post(
					f"{server}/api/method/frappe.client.insert",
					json={
						"doc": {
							"doctype": "File",
							"file_name": name,
							"is_private": 0,
							"content": body,
							"decode": 1,
						}
					},
					timeout=60,
				)
				assert refused(r), (user, "client.insert", name, r.status_code, r.text[:300])
			# a File of theirs naming the public HTML file a System Manager stored
			r = s.post(
				f"{server}/api/resource/File",
				json={"file_url": public_html, "is_private": 0},
				timeout=60,
			)
			assert refused(r), (user, "file_url", r.status_code, r.text[:300])
			assert public_files() == before, (user, public_files() - before)
			# what staff upload every day still uploads
			for name, content, content_type in (
				(f"estimate-{uuid.uuid4().hex[:6]}.pdf", pdf(), "application/pdf"),
				(f"dent-{uuid.uuid4().hex[:6]}.jpg", jpeg(), "image/jpeg"),
			):
				r = upload(s, name, content, content_type)
				assert r.status_code == 200, (user, name, r.status_code, r.text[:300])
				made.append(r.json()["message"]["name"])
			# and their own upload cannot be moved to the HTML file's address
			r = s.put(f"{server}/api/resource/File/{made[-1]}", json={"file_url": public_html}, timeout=60)
			assert refused(r), (user, "move", r.status_code, r.text[:300])
		frappe.db.rollback()
		assert not frappe.get_all(
			"File",
			filters={
				"owner": ("in", demo_users()),
				"file_name": ("like", "%.htm%"),
				"creation": (">=", start),
			},
			pluck="name",
		)
		assert not frappe.get_all(
			"File",
			filters={"owner": ("in", demo_users()), "file_url": public_html, "creation": (">=", start)},
		)
	finally:
		frappe.db.rollback()
		for name in made:
			frappe.delete_doc("File", name, ignore_permissions=True, force=True)
		frappe.db.commit()


def test_guest_uploads_nothing_and_a_system_manager_may_store_html(server):
	guest = session(server, "Guest", None)
	for name, content, content_type in (
		("page.html", unique("<script>1</script>"), "text/html"),
		("a.pdf", pdf(), "application/pdf"),
	):
		r = upload(guest, name, content, content_type)
		assert r.status_code == 403, (name, r.status_code, r.text[:300])
	admin = session(server, "Administrator", os.environ.get("DMS_ADMIN_PASSWORD", "admin"))
	r = upload(admin, f"sm-page-{uuid.uuid4().hex[:6]}.html", unique("<html></html>"), "text/html")
	assert r.status_code == 200, r.text[:300]
	frappe.db.rollback()
	frappe.delete_doc("File", r.json()["message"]["name"], ignore_permissions=True, force=True)
	frappe.db.commit()
