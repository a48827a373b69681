"""The desk each role lands on (roles.ROLE_DESK): its workspace and a Module Profile per role.

Frappe shows a user the workspaces of every module they can read something in, so a service
advisor landed on ERPNext's Home with Accounting, Selling, Stock, Website, Build … beside it. Here
each of our roles gets a Module Profile that blocks every module outside the role's list (kept up
to date on migrate, new apps' modules included), and a user holding one of our roles gets that
profile and the role's workspace as `default_workspace` when they are saved — unless an admin
chose otherwise: a value is filled in only when empty or when it is one of ours for a role the
user no longer holds.
"""

import frappe

from aftersales_dms.roles import MODULE_PROFILE_PREFIX, ROLE_DESK


def profile_name(role: str) -> str:
	return f"{MODULE_PROFILE_PREFIX}{role}"


def desk_role(roles) -> str | None:
	"""The role whose desk a user with these roles lands on (the first of ROLE_DESK they hold)."""
	held = set(roles)
	return next((role for role in ROLE_DESK if role in held), None)


def make_module_profiles():
	"""install/migrate: one Module Profile per role in ROLE_DESK, blocking every other module."""
	modules = frappe.get_all("Module Def", pluck="name")
	for role, (_workspace, keep) in ROLE_DESK.items():
		name = profile_name(role)
		blocked = sorted(set(modules) - set(keep))
		if frappe.db.exists("Module Profile", name):
			profile = frappe.get_doc("Module Profile", name)
			if sorted(d.module for d in profile.block_modules) == blocked:
				continue
			profile.set("block_modules", [])
		else:
			profile = frappe.new_doc("Module Profile")
			profile.module_profile_name = name
		for module in blocked:
			profile.append("block_modules", {"module": module})
		profile.save(ignore_permissions=True)  # its on_update updates the users holding it


def set_landing(user, method=None):
	"""doc_events User before_validate: the role's workspace and Module Profile, where the admin
	has not chosen (Frappe's User.validate then copies the profile's blocked modules)."""
	if user.name in ("Administrator", "Guest"):
		return
	roles = {d.role for d in user.get("roles", [])}
	role = desk_role(roles)
	profiles = {profile_name(r): r for r in ROLE_DESK}
	workspaces = {ws: r for r, (ws, _modules) in ROLE_DESK.items()}
	# a hand-made block list without a profile is an admin's choice too
	if _replaceable(user.module_profile, profiles, roles, role, bool(user.get("block_modules"))):
		wanted = profile_name(role) if role else None
		user.module_profile = wanted if wanted and frappe.db.exists("Module Profile", wanted) else None
		if not user.module_profile:
			user.set("block_modules", [])  # they came from our profile
	if _replaceable(user.default_workspace, workspaces, roles, role):
		wanted = ROLE_DESK[role][0] if role else None
		user.default_workspace = wanted if wanted and frappe.db.exists("Workspace", wanted) else None


def _replaceable(current, ours: dict, roles: set, role: str | None, chosen: bool = False) -> bool:
	"""Empty while the user holds one of our roles, or ours for a role the user no longer holds;
	anything else is an admin's choice and kept."""
	if not current:
		return bool(role) and not chosen
	return current in ours and ours[current] not in roles


def apply_to_users():
	"""install/migrate: the landing of every enabled user holding one of our roles."""
	users = frappe.get_all(
		"Has Role",
		filters={"role": ("in", list(ROLE_DESK)), "parenttype": "User"},
		pluck="parent",
		distinct=True,
	)
	for name in users:
		if name in ("Administrator", "Guest") or not frappe.db.get_value("User", name, "enabled"):
			continue
		user = frappe.get_doc("User", name)
		before = (user.module_profile, user.default_workspace)
		set_landing(user)
		if (user.module_profile, user.default_workspace) != before:
			user.save(ignore_permissions=True)
