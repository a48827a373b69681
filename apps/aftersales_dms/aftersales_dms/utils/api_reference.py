"""The API reference (docs/api.md), generated from the code: every whitelisted function and
document method of the app, found the way the permission matrix finds them
(tests/permission_matrix.py), with its endpoint, HTTP methods, guest access, arguments, first
docstring paragraph, the roles it checks (the roles.py names its source uses, and those of the
app's functions it calls) and the errors it raises (its `frappe.throw` messages).

    bench --site <site> dms-api-reference > docs/api.md

`test_api_reference` fails when the committed file is not what this prints.
"""

import ast
import importlib
import inspect
import textwrap

import frappe

from aftersales_dms import roles as roles_module

APP = "aftersales_dms"
DEPTH = 3  # how far calls into the app's own functions are followed

# Whitelisted methods without a docstring (none now): test_api_reference fails when a new one comes
# without, or when one listed here gets its docstring.
NO_DOCSTRING_YET: dict[str, str] = {}


def role_names() -> dict[str, tuple[str, ...]]:
	"""roles.py constant name -> the roles it stands for (single roles and role groups)."""
	known = set(roles_module.ROLES) | {roles_module.SYSTEM_MANAGER}
	out = {}
	for name, value in vars(roles_module).items():
		if not name.isupper():
			continue
		if isinstance(value, str) and value in known:
			out[name] = (value,)
		elif isinstance(value, tuple) and value and all(isinstance(v, str) and v in known for v in value):
			out[name] = value
	return out


def _tree(fn):
	try:
		source = textwrap.dedent(inspect.getsource(fn))
	except (OSError, TypeError):
		return None
	return ast.parse(source)


def _local_imports(tree) -> dict:
	found = {}
	for node in ast.walk(tree):
		if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(APP):
			try:
				module = importlib.import_module(node.module)
			except ImportError:
				continue
			for alias in node.names:
				if hasattr(module, alias.name):
					found[alias.asname or alias.name] = getattr(module, alias.name)
	return found


def _callees(fn, tree, cls=None) -> list:
	scope = {**getattr(fn, "__globals__", {}), **_local_imports(tree)}
	out = []
	for node in ast.walk(tree):
		if not isinstance(node, ast.Call):
			continue
		target = None
		if isinstance(node.func, ast.Name):
			target = scope.get(node.func.id)
		elif isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
			owner = node.func.value.id
			if owner == "self" and cls is not None:
				target = getattr(cls, node.func.attr, None)
			elif inspect.ismodule(scope.get(owner)):
				target = getattr(scope[owner], node.func.attr, None)
		target = inspect.unwrap(target) if callable(target) else None
		if inspect.isfunction(target) and (target.__module__ or "").startswith(APP):
			out.append(target)
	return out


def _throws(tree) -> list[tuple[str, str]]:
	out = []
	for node in ast.walk(tree):
		if not isinstance(node, ast.Call):
			continue
		func = node.func
		if not (isinstance(func, ast.Attribute) and func.attr == "throw"):
			continue
		if not (isinstance(func.value, ast.Name) and func.value.id == "frappe"):
			continue
		message = ""
		if node.args:
			msg = node.args[0]
			# _("...").format(...) or _("...")
			if (
				isinstance(msg, ast.Call)
				and isinstance(msg.func, ast.Attribute)
				and msg.func.attr == "format"
			):
				msg = msg.func.value
			if isinstance(msg, ast.Call) and msg.args and isinstance(msg.args[0], ast.Constant):
				message = str(msg.args[0].value)
			elif isinstance(msg, ast.Constant):
				message = str(msg.value)
		exc = (
			node.args[1]
			if len(node.args) > 1
			else next((k.value for k in node.keywords if k.arg == "exc"), None)
		)
		name = "ValidationError"
		if isinstance(exc, ast.Attribute):
			name = exc.attr
		elif isinstance(exc, ast.Name):
			name = exc.id
		if message:
			out.append((name, message))
	return out


def analyse(fn, cls=None):
	"""(roles checked, errors, document permission types checked) of fn and what it calls."""
	names = role_names()
	roles, errors, perms, seen = [], [], [], set()

	def visit(f, depth):
		if f in seen or depth > DEPTH:
			return
		seen.add(f)
		tree = _tree(f)
		if tree is None:
			return
		for node in ast.walk(tree):
			ident = (
				node.id
				if isinstance(node, ast.Name)
				else node.attr
				if isinstance(node, ast.Attribute)
				else None
			)
			if ident in names:
				for role in names[ident]:
					if role not in roles:
						roles.append(role)
			if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
				if node.func.attr in ("check_permission", "has_permission"):
					ptype = next(
						(
							a.value
							for a in node.args
							if isinstance(a, ast.Constant) and isinstance(a.value, str)
						),
						"read",
					)
					if (
						ptype in ("read", "write", "create", "submit", "cancel", "delete")
						and ptype not in perms
					):
						perms.append(ptype)
		for error in _throws(tree):
			if error not in errors:
				errors.append(error)
		for callee in _callees(f, tree, cls):
			visit(callee, depth + 1)

	visit(inspect.unwrap(fn), 0)
	return roles, errors, perms


def dotted(fn) -> str:
	fn = inspect.unwrap(fn)
	return f"{fn.__module__}.{fn.__qualname__}"


def first_paragraph(fn) -> str:
	doc = inspect.getdoc(fn) or NO_DOCSTRING_YET.get(dotted(fn), "")
	return " ".join(doc.split("\n\n")[0].split())


def signature(fn) -> str:
	sig = inspect.signature(inspect.unwrap(fn))
	params = [p for name, p in sig.parameters.items() if name != "self"]
	text = ", ".join(str(p) for p in params)
	ret = sig.return_annotation
	if ret is inspect.Signature.empty:
		return f"({text})"
	ret = ret if isinstance(ret, str) else inspect.formatannotation(ret)
	return f"({text}) -> {ret}"


def http_status(exc_name: str) -> str:
	exc = getattr(frappe, exc_name, None) or getattr(frappe.exceptions, exc_name, None)
	code = getattr(exc, "http_status_code", None)
	return f"{exc_name} ({code})" if code else exc_name


def entry(title, endpoint, fn, cls=None, doc_perm=None) -> list[str]:
	methods = frappe.allowed_http_methods_for_whitelisted_func.get(fn, ["GET", "POST", "PUT", "DELETE"])
	guest = fn in frappe.guest_methods
	roles, errors, perms = analyse(fn, cls)
	who = (
		"Guest (no login)"
		if guest
		else (", ".join(roles) if roles else "no role check of its own (DocPerms decide)")
	)
	if doc_perm:
		perms = [doc_perm, *(p for p in perms if p != doc_perm)]
	lines = [
		f"### {title}",
		"",
		first_paragraph(fn) or "(no docstring)",
		"",
		f"- **Endpoint:** {endpoint}",
		f"- **HTTP:** {', '.join(methods)}{' · allow_guest' if guest else ''}",
		f"- **Arguments:** `{signature(fn)}`",
		f"- **Who:** {who}" + (f"; with {' / '.join(perms)} permission on the document" if perms else ""),
	]
	if errors:
		lines.append("- **Errors:**")
		lines += [f"  - {http_status(exc)}: {message}" for exc, message in errors]
	lines.append("")
	return lines


def generate() -> str:
	from aftersales_dms.tests.permission_matrix import (
		app_doctypes,
		whitelisted_doc_methods,
		whitelisted_functions,
	)

	out = [
		"# API reference",
		"",
		"Generated from the code by `bench --site <site> dms-api-reference > docs/api.md` "
		"(aftersales_dms/utils/api_reference.py); a test fails when this file is out of date. "
		"*Who* lists the roles (roles.py) the method or what it calls checks — the Workflow, "
		"DocPerms and User Permissions (a dealer's users see only their Company) apply on top; a "
		"check on the user themself (the line's own technician, the holder of a customer's link) "
		"shows in its error messages. "
		"Errors are the messages it raises: Frappe answers a `PermissionError` with HTTP 403 and a "
		"`ValidationError` with 417, the message in `_server_messages`/`exception`.",
		"",
		"Call a function with `GET` or `POST /api/method/<dotted path>` (arguments as form fields "
		"or JSON); a document method with `POST /api/resource/<DocType>/<name>` and "
		"`run_method=<method>` (Frappe checks write permission on the document first; `GET` "
		"checks read) or, from the desk, `frm.call(<method>)`. A method that changes anything "
		"takes POST only (*HTTP* below; Frappe checks the CSRF token of a desk session only when "
		"not a GET): a GET of it, on any path, is refused (controllers/http_methods.py).",
		"",
		"## Functions",
		"",
	]
	for fn in whitelisted_functions():
		path = f"{fn.__module__}.{fn.__qualname__}"
		out += entry(f"`{path}`", f"`/api/method/{path}`", fn)
	out += ["## Document methods", ""]
	parents, _children = app_doctypes()
	for doctype, name, fn in sorted(whitelisted_doc_methods(parents), key=lambda r: (r[0], r[1])):
		from frappe.model.base_document import get_controller

		out += entry(
			f"{doctype} · `{name}`",
			f"`/api/resource/{doctype}/<name>` with `run_method={name}`",
			fn,
			cls=get_controller(doctype),
			doc_perm="write",
		)
	return "\n".join(out).rstrip() + "\n"
