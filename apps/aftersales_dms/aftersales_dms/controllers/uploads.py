"""An uploaded file is never a page of the site (#20): no file a browser would run as HTML or script.

Frappe stores a public upload under `/files/<name>` and serves it from the site's own origin
(nginx from disk in production, the development server's static middleware) with the type its
extension says: an `x.html` or `x.svg` with a script, opened by anyone, runs with the site's
cookies. Frappe refuses such types only for Guests and website users on `upload_file`, not for desk
users, nor on a File inserted through REST (`content` or a `file_url` of a file already on disk).

Only a System Manager (and Administrator) may store a file whose name or address has an extension
or type a browser renders or runs (HTML, XHTML, SVG, XML, JavaScript) or whose content starts like
an HTML document (browsers sniff an unknown type), whichever way the File is made or changed
(`doc_events` File `validate`: a new File, or one whose name, address or privacy changes).
The production nginx serves /files and /private/files with `nosniff`, and these types as
attachments in a CSP sandbox, should such a file exist (`config/production/nginx.conf.in`).
"""

import mimetypes
import os

import frappe
from frappe import _

# what a browser renders as a document or runs as script, by extension and by type
ACTIVE_EXTENSIONS = frozenset(
	(
		"htm",
		"html",
		"shtml",
		"xhtml",
		"xht",
		"mht",
		"mhtml",
		"svg",
		"svgz",
		"xml",
		"xsl",
		"xslt",
		"js",
		"mjs",
		"cjs",
	)
)
ACTIVE_TYPES = frozenset(
	(
		"text/html",
		"application/xhtml+xml",
		"image/svg+xml",
		"text/xml",
		"application/xml",
		"text/xsl",
		"application/xslt+xml",
		"text/javascript",
		"application/javascript",
		"application/x-javascript",
		"application/ecmascript",
		"message/rfc822",  # .mht
		"multipart/related",
	)
)
# the HTML (and XML) signatures of the WHATWG MIME sniffing standard: a content starting with one
# of these (after white space) is taken for a page by a browser that sniffs
HTML_SIGNATURES = (
	b"<!doctype html",
	b"<html",
	b"<head",
	b"<script",
	b"<iframe",
	b"<h1",
	b"<div",
	b"<font",
	b"<table",
	b"<a",
	b"<style",
	b"<title",
	b"<b",
	b"<body",
	b"<br",
	b"<p",
	b"<!--",
	b"<?xml",
	b"<svg",
	b"<object",
	b"<embed",
	b"<img",
)
SNIFF_BYTES = 1024


def may_store_active_files(user: str | None = None) -> bool:
	user = user or frappe.session.user
	return user == "Administrator" or "System Manager" in frappe.get_roles(user)


def validate_file(doc, method=None):
	"""doc_events File validate: refuse a file a browser would run, unless the user is a System
	Manager. Checked on a new File and whenever its name, address or privacy changes."""
	if doc.is_folder or frappe.flags.in_install or frappe.flags.in_migrate or frappe.flags.in_patch:
		return
	if may_store_active_files():
		return
	if not doc.is_new() and not any(
		doc.has_value_changed(f) for f in ("file_name", "file_url", "is_private")
	):
		return
	if is_remote(doc.file_url):
		return  # another site's address: not served from this origin
	names = [n for n in (doc.file_name, os.path.basename(doc.file_url or "")) if n]
	if any(is_active_name(n) for n in names) or looks_like_html(content_of(doc)):
		frappe.throw(
			_(
				"{0} cannot be uploaded: a web page, SVG, XML or script file would run in the browser of "
				"whoever opens it. Upload it as a PDF or an image, or in a ZIP archive."
			).format(frappe.bold(frappe.utils.escape_html(names[0] if names else _("This file")))),
			frappe.PermissionError,
			title=_("File type not allowed"),
		)


def is_remote(url: str | None) -> bool:
	return bool(url) and url.lower().startswith(("http://", "https://"))


def is_active_name(name: str) -> bool:
	"""Whether a browser would take a file of this name for a page or a script."""
	name = name.strip().rstrip(". ").lower()
	if name.rpartition(".")[2] in ACTIVE_EXTENSIONS:
		return True
	return mimetypes.guess_type(name)[0] in ACTIVE_TYPES


def looks_like_html(content) -> bool:
	if not content:
		return False
	if isinstance(content, str):
		content = content.encode("utf-8", "replace")
	head = content[:SNIFF_BYTES]
	if head.startswith(b"\xef\xbb\xbf"):
		head = head[3:]
	head = head.lstrip(b" \t\n\r\x0c").lower()
	for signature in HTML_SIGNATURES:
		if head.startswith(signature):
			rest = head[len(signature) : len(signature) + 1]
			# the standard wants a tag-terminating byte after the signature (not "<abbr" for "<a")
			if signature in (b"<!--", b"<?xml") or rest in (b" ", b">", b"\t", b"\n", b"\r", b"\x0c", b"/"):
				return True
	return False


def content_of(doc):
	"""The start of the file's content: what the request brought, else what is on disk."""
	content = doc.get("_content") or doc.get("content")
	if content:
		if doc.get("decode") and isinstance(content, str):
			from frappe.core.doctype.file.utils import decode_file_content

			try:
				return decode_file_content(content)
			except Exception:
				return content
		return content
	if not doc.file_url or is_remote(doc.file_url):
		return None
	try:
		path = doc.get_full_path()
		with open(path, "rb") as f:
			return f.read(SNIFF_BYTES)
	except Exception:
		return None
