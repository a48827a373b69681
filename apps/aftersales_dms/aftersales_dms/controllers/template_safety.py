"""Templates without server powers (#20).

Print Formats, Letter Heads, Notifications and the Workflow are the OEM admin's no-code tools, but
Frappe renders their Jinja with its server globals (`frappe.db`, `frappe.get_doc`, `frappe.call`,
`run_method` …) and evaluates their conditions with `safe_eval`, and a letter head's scripts and a
template's HTML run in every other user's browser. So for any user without System Manager, every
save of these documents checks the whole document (what an Administrator saved before included):

- every rendered text field (each Code / HTML Editor / Text Editor / Data / Text field of the
  DocType and of its child tables, read from the metadata, so a new field is covered) must be a
  Jinja template that uses only: the document (`doc` and the print / notification context Frappe
  passes), names and macros the template defines itself, the formatting helpers of
  `SAFE_CALLABLES` / `SAFE_FRAPPE_PATHS`, read-only methods of `SAFE_METHODS`, and the filters of
  `SAFE_FILTERS`; no attribute or key starting with `_`, no `include`/`import`/`extends`;
- its HTML has no `<script>`, `<iframe>`, `<object>`, `<embed>`, `<base>`, `<meta>`, `<link>`,
  no `on…=` event handler and no `javascript:` / `vbscript:` / `data:text/html` URL; an
  expression is not placed where it could make markup (inside a tag outside a quoted value, or at
  the start of a URL attribute unless it is a plain `doc.field`), and no string constant
  carries `<` or `>`;
- every evaluated condition (Notification and its recipients', a Workflow transition's) is a
  Python expression over `doc` with the helpers above and read-only methods only;
- a letter head has no header/footer script, a print format is a Jinja one (no JS / raw
  printing / report format), its CSS has no markup, `@import`, `expression()` or script URL,
  and the builder's JSON (`format_data`) is checked string by string;
- a notification and a print format are for a DocType the user may read.

A System Manager (and Administrator) may save anything, as in Frappe.
"""

import ast
import html
import json
import re
import string

import frappe
from frappe import _
from jinja2 import nodes

# DocTypes checked on save (with their child tables, found from the metadata)
CHECKED_DOCTYPES = (
	"Print Format",
	"Letter Head",
	"Notification",
	"Workflow",
	"Workflow State",  # their names are shown in every form of a workflow's DocType
	"Workflow Action Master",
)
TEXT_FIELDTYPES = (
	"Data",
	"Small Text",
	"Text",
	"Long Text",
	"Code",
	"HTML Editor",
	"Text Editor",
	"Markdown Editor",
	"JSON",
)
# fields that are not Jinja: Python conditions, CSS, the builder's JSON, scripts that must be empty
PYTHON_FIELDS = {
	("Notification", "condition"),
	("Notification Recipient", "condition"),
	("Workflow Transition", "condition"),
}
CSS_FIELDS = {("Print Format", "css")}
JSON_TEMPLATE_FIELDS = {("Print Format", "format_data")}
EMPTY_FIELDS = {
	("Letter Head", "header_script"): "a letter head's script runs in every reader's browser",
	("Letter Head", "footer_script"): "a letter head's script runs in every reader's browser",
	("Print Format", "raw_commands"): "raw printing commands go to the printer unchecked",
}

# names a template may read: the document and the context Frappe renders it with
CONTEXT_NAMES = {
	"doc",  # print formats, letter heads, notifications
	"meta",
	"layout",
	"no_letterhead",
	"letter_head",
	"footer",
	"print_settings",
	"print_heading_template",
	"trigger_print",
	"alert",  # notifications: the notification itself, its comments, today
	"comments",
	"nowdate",
	"loop",
	"caller",
	"varargs",
	"kwargs",
}
# functions a template may call by name
SAFE_CALLABLES = {
	"_",
	"nowdate",
	"range",
	"namespace",
	"len",
	"abs",
	"bool",
	"int",
	"float",
	"str",
	"round",
	"min",
	"max",
	"sum",
	"sorted",
	"list",
	"dict",
	"enumerate",
	"customer_amount_due",
	"dms_job_card",
	"dms_vehicle",
	"dms_item_kind",
	"dms_invoice_total",
}
# helpers that read one record by the document: only `doc` (or a name the template reads from it)
DOCUMENT_HELPERS = {"customer_amount_due"}
SAFE_FRAPPE_PATHS = {
	"frappe.format",
	"frappe.format_value",
	"frappe.format_date",
	"frappe.bold",
	"frappe.session.user",
	*(
		f"frappe.utils.{name}"
		for name in (
			"fmt_money",
			"money_in_words",
			"flt",
			"cint",
			"cstr",
			"rounded",
			"formatdate",
			"format_date",
			"format_datetime",
			"format_time",
			"global_date_format",
			"nowdate",
			"today",
			"now",
			"now_datetime",
			"getdate",
			"get_datetime",
			"add_days",
			"add_months",
			"add_to_date",
			"date_diff",
			"time_diff_in_hours",
			"strip_html",
		)
	),
}
# methods a template may call on its values (all read-only)
SAFE_METHODS = {
	"get",
	"get_formatted",
	"get_label",
	"keys",
	"values",
	"items",
	"upper",
	"lower",
	"title",
	"capitalize",
	"strip",
	"lstrip",
	"rstrip",
	"split",
	"startswith",
	"endswith",
	"join",
	"replace",
	"isdigit",
	"zfill",
	"count",
	"cycle",  # loop.cycle / loop.changed
	"changed",
}
# methods that change a list / dict: only on a list or dict literal the template made itself
BUILDER_METHODS = {"append", "update", "extend"}
SAFE_FILTERS = {
	"abs",
	"batch",
	"capitalize",
	"center",
	"count",
	"d",
	"default",
	"dictsort",
	"e",
	"escape",
	"filesizeformat",
	"first",
	"float",
	"flt",
	"global_date_format",
	"groupby",
	"indent",
	"int",
	"items",
	"join",
	"json",
	"last",
	"len",
	"length",
	"list",
	"lower",
	"map",
	"max",
	"min",
	"reject",
	"rejectattr",
	"replace",
	"reverse",
	"round",
	"safe",  # Frappe's templates do not autoescape: safe changes nothing
	"select",
	"selectattr",
	"slice",
	"sort",
	"str",
	"string",
	"sum",
	"title",
	"tojson",
	"trim",
	"truncate",
	"unique",
	"upper",
	"urlencode",
	"wordcount",
	"wordwrap",
}

DANGEROUS_TAG = re.compile(
	r"<\s*/?\s*(script|iframe|frame|frameset|object|embed|applet|base|meta|link"
	r"|form|input|button|textarea|select)\b",  # a form on the site's origin asks for passwords
	re.I,
)
# filters that read the attribute their first argument names
ATTRIBUTE_FILTERS = {"selectattr", "rejectattr", "groupby"}
# a document's attributes that are no part of what it says: its save's internal state (the
# print settings, ignore_permissions …)
HIDDEN_ATTRIBUTES = {"flags"}
EVENT_HANDLER = re.compile(r"(^|[\s/\"'`;])on[a-z]+\s*=", re.I)
SCRIPT_URL = re.compile(r"(javascript|vbscript|livescript):|data:text/html", re.I)
URL_ATTRIBUTES = {
	"href",
	"src",
	"action",
	"formaction",
	"xlink:href",
	"data",
	"background",
	"poster",
	"srcset",
	"srcdoc",
	"style",
}
SIMPLE_TAG = re.compile(r"</?(br|b|i|u|em|strong|small|p|span|div|hr|li|ul|ol)\s*/?>", re.I)
PLAIN_FIELD = re.compile(r"^\s*[A-Za-z][\w.]*\s*$")


class UnsafeTemplateError(frappe.ValidationError):
	pass


def may_save_anything(user: str | None = None) -> bool:
	from aftersales_dms.roles import SYSTEM_MANAGER

	user = user or frappe.session.user
	return user == "Administrator" or SYSTEM_MANAGER in frappe.get_roles(user)


def refuse(where: str, why: str):
	frappe.throw(
		_("{0}: {1}. Only a System Manager may save this.").format(where, why),
		UnsafeTemplateError,
		title=_("Not allowed in a template"),
	)


# ---------------------------------------------------------------- the document's fields


def validate(doc, method=None):
	"""doc_events validate on Print Format, Letter Head, Notification and Workflow."""
	if may_save_anything():
		return
	check_document(doc)


def check_document(doc):
	"""Check every rendered or evaluated value of the document and of its child rows."""
	check_settings(doc)
	for row in [doc, *doc.get_all_children()]:
		meta = frappe.get_meta(row.doctype)
		for df in meta.fields:
			if df.fieldtype not in TEXT_FIELDTYPES:
				continue
			value = row.get(df.fieldname)
			if value in (None, ""):
				continue
			where = field_label(doc, row, df)
			key = (row.doctype, df.fieldname)
			if key in EMPTY_FIELDS:
				refuse(where, EMPTY_FIELDS[key])
			elif key in PYTHON_FIELDS:
				check_expression(value, where)
			elif key in CSS_FIELDS:
				check_css(value, where)
			elif key in JSON_TEMPLATE_FIELDS:
				check_json_templates(value, where)
			else:
				check_template(value, where)


def field_label(doc, row, df) -> str:
	label = _(df.label or df.fieldname)
	if row is doc:
		return _("{0} {1}, {2}").format(_(doc.doctype), doc.name or "", label)
	return _("{0} {1}, row {2} of {3}, {4}").format(
		_(doc.doctype), doc.name or "", row.idx, _(row.parentfield or ""), label
	)


def check_settings(doc):
	"""Switches of these DocTypes that hand the content to a browser or a printer unchecked."""
	if doc.doctype == "Print Format":
		where = _("Print Format {0}").format(doc.name or "")
		if doc.print_format_for == "Report":
			refuse(where, _("a report print format is a script run in the browser"))
		if doc.custom_format and doc.print_format_type != "Jinja":
			refuse(
				where, _("a {0} print format runs in the browser; use Jinja").format(doc.print_format_type)
			)
		if doc.raw_printing:
			refuse(where, _("raw printing sends commands to the printer unchecked"))
		check_readable(doc.doc_type, where)
	elif doc.doctype == "Notification":
		check_readable(doc.document_type, _("Notification {0}").format(doc.name or ""))


def check_readable(doctype: str | None, where: str):
	"""A template shows its DocType's documents to others: only of a DocType the author reads."""
	from frappe.permissions import get_role_permissions

	# the role's right, not a single document's (Frappe answers True for User, for one's own)
	if doctype and not get_role_permissions(frappe.get_meta(doctype)).get("read"):
		refuse(where, _("you may not read {0} documents").format(_(doctype)))


# ---------------------------------------------------------------- Jinja


def check_template(source: str, where: str):
	"""Refuse a Jinja template that reaches beyond its document, or whose HTML runs code."""
	from jinja2 import TemplateSyntaxError

	if not isinstance(source, str):
		source = str(source)
	try:
		tree = frappe.get_jenv().parse(source)
	except TemplateSyntaxError as e:
		refuse(where, _("syntax error on line {0}: {1}").format(e.lineno, e.message))
	JinjaChecker(where).check(tree)
	check_markup(source, where)


class JinjaChecker:
	def __init__(self, where):
		self.where = where
		self.macros = set()
		self.assigned = set()
		self.builders = set()  # names only ever set to a list / dict literal

	def refuse(self, node, why):
		refuse(self.where, _("line {0}: {1}").format(getattr(node, "lineno", "?"), why))

	def check(self, tree):
		builder_candidates, other = set(), set()
		for node in tree.find_all((nodes.Macro, nodes.Assign, nodes.AssignBlock, nodes.For, nodes.With)):
			if isinstance(node, nodes.Macro):
				self.macros.add(node.name)
				targets = [*node.args]
			elif isinstance(node, nodes.With):
				targets = list(node.targets)
			else:
				targets = [node.target]
			for target in targets:
				names = [n.name for n in target.find_all(nodes.Name)] + (
					[target.name] if isinstance(target, nodes.Name) else []
				)
				for name in names:
					if name in CONTEXT_NAMES or name in SAFE_CALLABLES or name == "frappe":
						self.refuse(node, _("the template may not redefine {0}").format(name))
					self.assigned.add(name)
					if (
						isinstance(node, nodes.Assign)
						and isinstance(target, nodes.Name)
						and isinstance(node.node, nodes.List | nodes.Dict)
					):
						builder_candidates.add(name)
					else:
						other.add(name)
		self.builders = builder_candidates - other
		self.visit(tree)

	def visit(self, node):
		handler = getattr(self, "visit_" + type(node).__name__, None)
		if handler:
			if handler(node) is False:
				return
		elif not isinstance(node, ALLOWED_JINJA_NODES):
			self.refuse(node, _("{0} is not allowed").format(type(node).__name__))
		for child in node.iter_child_nodes():
			self.visit(child)

	def visit_Name(self, node):
		if node.ctx == "load" and not (
			node.name in CONTEXT_NAMES
			or node.name in SAFE_CALLABLES
			or node.name in self.assigned
			or node.name in self.macros
		):
			self.refuse(node, _("{0} is not available to templates").format(node.name))

	def check_attribute(self, node, attr: str):
		"""An attribute a template reads, by `.name` or by a filter's attribute string ("a.b")."""
		for part in str(attr).split("."):
			if part.startswith("_"):
				self.refuse(node, _("attributes starting with _ are not allowed"))
			if part in HIDDEN_ATTRIBUTES:
				self.refuse(node, _("{0} is not available to templates").format(part))

	def visit_Getattr(self, node):
		self.check_attribute(node, node.attr)
		path = dotted_path(node)
		if path and path.split(".")[0] == "frappe":
			if path not in SAFE_FRAPPE_PATHS:
				self.refuse(node, _("{0} is not available to templates").format(path))
			return False

	def visit_Getitem(self, node):
		if (
			isinstance(node.arg, nodes.Const)
			and isinstance(node.arg.value, str)
			and node.arg.value.startswith("_")
		):
			self.refuse(node, _("keys starting with _ are not allowed"))

	def visit_Const(self, node):
		if isinstance(node.value, str):
			check_string_constant(node.value, self.where)

	def visit_TemplateData(self, node):
		pass  # checked as markup with the whole source

	def visit_Mod(self, node):
		if isinstance(node.left, nodes.Const) and isinstance(node.left.value, str):
			self.refuse(node, _("% formatting of strings is not allowed; use .format()"))

	def visit_Filter(self, node):
		if node.name not in SAFE_FILTERS:
			self.refuse(node, _("the filter {0} is not allowed").format(node.name))
		# a filter that reads an attribute named by a string (map(attribute="a.b"), selectattr("a"),
		# sort(attribute=...), groupby("a") …) reads it as `.a.b` would: the same names are refused
		named = [k.value for k in node.kwargs if k.key == "attribute"]
		if node.name in ATTRIBUTE_FILTERS and node.args:
			named.append(node.args[0])
		for value in named:
			if not isinstance(value, nodes.Const):
				self.refuse(node, _("the attribute a filter reads must be written out"))
			elif isinstance(value.value, str):
				self.check_attribute(node, value.value)
		if node.name == "map" and node.args and not any(k.key == "attribute" for k in node.kwargs):
			first = node.args[0]
			if not (isinstance(first, nodes.Const) and first.value in SAFE_FILTERS):
				self.refuse(node, _("map may only apply an allowed filter"))

	def visit_Call(self, node):
		func = node.node
		if node.dyn_args or node.dyn_kwargs:
			self.refuse(node, _("*args and **kwargs calls are not allowed"))
		if isinstance(func, nodes.Name):
			if func.name in self.macros and func.name not in self.assigned:
				pass
			elif func.name in SAFE_CALLABLES and func.name not in self.assigned:
				if func.name in DOCUMENT_HELPERS and not (
					len(node.args) == 1
					and not node.kwargs
					and isinstance(node.args[0], nodes.Name)
					and node.args[0].name == "doc"
				):
					self.refuse(node, _("{0} takes the document only: {0}(doc)").format(func.name))
			elif func.name == "caller":
				pass
			else:
				self.refuse(node, _("{0} may not be called").format(func.name))
		elif isinstance(func, nodes.Getattr):
			path = dotted_path(func)
			if path and path.split(".")[0] == "frappe":
				pass  # visit_Getattr checks the path
			elif func.attr in SAFE_METHODS:
				pass
			elif func.attr in BUILDER_METHODS:
				if not (isinstance(func.node, nodes.Name) and func.node.name in self.builders):
					self.refuse(
						node,
						_("{0}() only on a list or dict the template makes itself").format(func.attr),
					)
			elif func.attr == "format":
				receiver = func.node
				if isinstance(receiver, nodes.Const) and isinstance(receiver.value, str):
					check_format_string(receiver.value, self.where)
				elif not (
					isinstance(receiver, nodes.Call)
					and isinstance(receiver.node, nodes.Name)
					and receiver.node.name == "_"
				):
					self.refuse(node, _("format() only on a string or a translated string"))
			else:
				self.refuse(node, _("the method {0} may not be called").format(func.attr))
		else:
			self.refuse(node, _("only named functions and methods may be called"))


ALLOWED_JINJA_NODES = (
	nodes.Template,
	nodes.Output,
	nodes.Keyword,
	nodes.Test,
	nodes.CondExpr,
	nodes.And,
	nodes.Or,
	nodes.Not,
	nodes.Neg,
	nodes.Pos,
	nodes.Add,
	nodes.Sub,
	nodes.Mul,
	nodes.Div,
	nodes.FloorDiv,
	nodes.Concat,
	nodes.Compare,
	nodes.Operand,
	nodes.List,
	nodes.Tuple,
	nodes.Dict,
	nodes.Pair,
	nodes.Slice,
	nodes.If,
	nodes.For,
	nodes.Assign,
	nodes.AssignBlock,
	nodes.Macro,
	nodes.CallBlock,
	nodes.FilterBlock,
	nodes.With,
	nodes.Scope,
	nodes.NSRef,
	nodes.Continue,
	nodes.Break,
)


def dotted_path(node) -> str | None:
	"""`frappe.utils.fmt_money` for a chain of attribute reads on a name, else None."""
	parts = []
	while isinstance(node, nodes.Getattr):
		parts.append(node.attr)
		node = node.node
	if not isinstance(node, nodes.Name):
		return None
	return ".".join([node.name, *reversed(parts)])


def check_string_constant(value: str, where: str):
	"""A string an expression outputs: plain text, or a bare line break / emphasis tag."""
	text = html.unescape(value)
	rest = SIMPLE_TAG.sub("", text)
	if "<" in rest or ">" in rest:
		refuse(
			where,
			_(
				"a string in an expression may only hold text and simple tags like <br>; write markup as template text"
			),
		)
	if SCRIPT_URL.search(re.sub(r"[\s\x00-\x1f]", "", text)):
		refuse(where, _("script URLs are not allowed"))


def check_format_string(value: str, where: str):
	try:
		fields = list(string.Formatter().parse(value))
	except ValueError:
		refuse(where, _("invalid format string {0}").format(value))
	for _literal, field, spec, conversion in fields:
		if field and re.search(r"[.\[]", field):
			refuse(where, _("format fields may not read attributes or keys"))
		if (spec and spec.rstrip().endswith("c")) or conversion not in (None, "s"):
			refuse(where, _("this format conversion is not allowed"))


# ---------------------------------------------------------------- markup


def check_markup(source: str, where: str):
	"""HTML that other users' browsers (the print view, the desk) run: no scripts, frames,
	event handlers or script URLs, also when the template's tags are taken out; and no expression
	where it could write markup."""
	expressions, parts, current = [], [], None
	# Jinja's own lexer tells template text from expressions, statements and comments
	for _lineno, token, value in frappe.get_jenv().lex(source):
		if token == "variable_begin":
			current = []
		elif token == "variable_end":
			expressions.append("".join(current))
			parts.append("\x00")
			current = None
		elif current is not None:
			current.append(value)
		elif token == "data":
			parts.append(value)
	text = "".join(parts)
	for candidate in (text, html.unescape(text)):
		plain = candidate.replace("\x00", "")
		if DANGEROUS_TAG.search(plain):
			refuse(where, _("scripts, frames, objects, base, meta and link tags are not allowed"))
		if EVENT_HANDLER.search(plain) or EVENT_HANDLER.search(candidate.replace("\x00", " ")):
			refuse(where, _("event handler attributes (on...=) are not allowed"))
		if SCRIPT_URL.search(re.sub(r"[\s\x00-\x1f]", "", plain)):
			refuse(where, _("script URLs are not allowed"))
		if re.search(r"expression\s*\(|@import|-moz-binding|behavior\s*:", plain, re.I):
			refuse(where, _("CSS expressions, imports and bindings are not allowed"))
	check_expression_positions(text, expressions, where)


def check_expression_positions(text: str, expressions: list, where: str):
	"""Walk the HTML with every {{ expression }} marked: an expression inside a tag must sit in a
	quoted attribute value, and may start a URL attribute's value only as a plain field."""
	i, n, k = 0, len(text), 0
	in_tag = False
	quote = None
	attr = ""
	value_start = False
	while i < n:
		c = text[i]
		if c == "\x00":
			expression = expressions[k]
			k += 1
			if in_tag:
				if not quote:
					refuse(where, _("an expression inside an HTML tag must be in a quoted attribute value"))
				if value_start and attr.lower() in URL_ATTRIBUTES and not PLAIN_FIELD.match(expression):
					refuse(
						where,
						_("a link or source may start with a document field only, not {0}").format(
							expression.strip()
						),
					)
			elif i > 0 and text[i - 1] == "<":
				refuse(where, _("an expression may not name an HTML tag"))
			value_start = False
			i += 1
			continue
		if not in_tag:
			if c == "<" and i + 1 < n and (text[i + 1].isalpha() or text[i + 1] in "/!\x00"):
				in_tag, quote, attr = True, None, ""
		elif quote:
			if c == quote:
				quote = None
			value_start = False
		elif c in "\"'":
			quote = c
			value_start = True
		elif c == ">":
			in_tag = False
		elif c == "=":
			m = re.search(r"([\w:-]+)\s*$", text[max(0, i - 60) : i])
			attr = m.group(1) if m else ""
		i += 1


def check_css(source: str, where: str):
	if "<" in source:
		refuse(where, _("CSS may not contain markup"))
	if re.search(r"expression\s*\(|@import|-moz-binding|behavior\s*:", source, re.I) or SCRIPT_URL.search(
		re.sub(r"[\s\x00-\x1f]", "", source)
	):
		refuse(where, _("CSS expressions, imports, bindings and script URLs are not allowed"))
	if "{{" in source or "{%" in source:
		check_template(source, where)


def check_json_templates(source: str, where: str):
	"""The print format builder's JSON: every string in it may be rendered (HTML fields, headings)."""
	try:
		data = json.loads(source)
	except ValueError:
		refuse(where, _("not valid JSON"))

	def walk(value):
		if isinstance(value, str):
			check_template(value, where)
		elif isinstance(value, dict):
			for key, item in value.items():
				walk(key)
				walk(item)
		elif isinstance(value, list):
			for item in value:
				walk(item)

	walk(data)


# ---------------------------------------------------------------- Python conditions

PY_ALLOWED = (
	ast.Expression,
	ast.BoolOp,
	ast.And,
	ast.Or,
	ast.UnaryOp,
	ast.Not,
	ast.USub,
	ast.UAdd,
	ast.BinOp,
	ast.Add,
	ast.Sub,
	ast.Mult,
	ast.Div,
	ast.FloorDiv,
	ast.Mod,
	ast.Compare,
	ast.Eq,
	ast.NotEq,
	ast.Lt,
	ast.LtE,
	ast.Gt,
	ast.GtE,
	ast.In,
	ast.NotIn,
	ast.Is,
	ast.IsNot,
	ast.IfExp,
	ast.Constant,
	ast.Name,
	ast.Attribute,
	ast.Subscript,
	ast.Slice,
	ast.Tuple,
	ast.List,
	ast.Dict,
	ast.Set,
	ast.Call,
	ast.keyword,
	ast.Load,
)
PY_NAMES = {"doc", "nowdate", "int", "float", "round", "len", "bool", "str", "abs", "min", "max"}


def check_expression(source: str, where: str):
	"""A condition Frappe evaluates with safe_eval: a Python expression over the document."""
	try:
		tree = ast.parse(str(source).strip(), mode="eval")
	except SyntaxError as e:
		refuse(where, _("not a valid condition: {0}").format(e.msg))
	called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
	frappe_paths = set()
	for node in ast.walk(tree):
		if not isinstance(node, PY_ALLOWED):
			refuse(where, _("{0} is not allowed in a condition").format(type(node).__name__))
		if isinstance(node, ast.Attribute):
			if node.attr.startswith("_"):
				refuse(where, _("attributes starting with _ are not allowed"))
			path = py_dotted_path(node)
			if path and path.startswith("frappe."):
				if id(node) in frappe_paths:
					continue
				if path not in SAFE_FRAPPE_PATHS:
					refuse(where, _("{0} is not available to conditions").format(path))
				inner = node.value
				while isinstance(inner, ast.Attribute):
					frappe_paths.add(id(inner))
					inner = inner.value
				frappe_paths.add(id(inner))
			elif id(node) in called and node.attr not in SAFE_METHODS:
				refuse(where, _("the method {0} may not be called").format(node.attr))
		elif isinstance(node, ast.Name):
			if id(node) in frappe_paths:
				continue
			if node.id not in PY_NAMES:
				refuse(where, _("{0} is not available to conditions").format(node.id))
		elif isinstance(node, ast.Call):
			if not isinstance(node.func, ast.Name | ast.Attribute):
				refuse(where, _("only named functions and methods may be called"))
			if any(isinstance(a, ast.Starred) for a in node.args) or any(
				k.arg is None for k in node.keywords
			):
				refuse(where, _("*args and **kwargs calls are not allowed"))
		elif isinstance(node, ast.Subscript):
			key = node.slice
			if isinstance(key, ast.Constant) and isinstance(key.value, str) and key.value.startswith("_"):
				refuse(where, _("keys starting with _ are not allowed"))


def py_dotted_path(node) -> str | None:
	parts = []
	while isinstance(node, ast.Attribute):
		parts.append(node.attr)
		node = node.value
	if not isinstance(node, ast.Name):
		return None
	return ".".join([node.id, *reversed(parts)])


# ---------------------------------------------------------------- helpers templates may call


def _readable(doctype: str, name) -> bool:
	return (
		isinstance(name, str)
		and bool(name)
		and frappe.db.exists(doctype, name)
		and frappe.has_permission(doctype, "read", name)
	)


def dms_job_card(name):
	"""Jinja: the Service Job Card `name` as a plain dict (rows included), when the user printing
	or notifying may read it; else None."""
	if not _readable("Service Job Card", name):
		return None
	return frappe.get_doc("Service Job Card", name).as_dict()


def dms_vehicle(name):
	"""Jinja: plate, VIN, make, model and year of the Customer Vehicle `name` the user may read."""
	if not _readable("Customer Vehicle", name):
		return None
	return frappe.db.get_value(
		"Customer Vehicle", name, ["registration_plate", "vin", "make", "model", "year"], as_dict=True
	)


def dms_item_kind(item_code):
	"""Jinja: whether an item is Labour or a Part (the Item's dms_item_kind)."""
	if not isinstance(item_code, str) or not item_code:
		return None
	return frappe.get_cached_value("Item", item_code, "dms_item_kind")


def dms_invoice_total(name):
	"""Jinja: the grand total of the Sales Invoice `name` the user may read."""
	if not _readable("Sales Invoice", name):
		return None
	return frappe.db.get_value("Sales Invoice", name, "grand_total")
