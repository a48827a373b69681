"""Parts Managers receive stock (#13): their rules on Stock Entry and Material Request, which
v1.0 set read-only, get the rights roles.py now declares (make_role_permissions sets a rule
once, so an existing site would keep the old one). Rights are added, none removed."""

from aftersales_dms.roles import PARTS_MANAGER
from aftersales_dms.setup import grant_declared_rights


def execute():
	for doctype in ("Stock Entry", "Material Request"):
		grant_declared_rights(doctype, PARTS_MANAGER)
