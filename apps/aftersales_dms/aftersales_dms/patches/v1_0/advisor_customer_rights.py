"""Service Advisors register walk-in customers (#20): roles.py declared create and write on
Customer for them, but its rule was built read-only (a later entry of the same dict replaced
theirs), so sites have a read-only rule. It gets the rights roles.py declares (rights are added,
none removed), with those on Contact and Address."""

from aftersales_dms.roles import ADVISOR
from aftersales_dms.setup import grant_declared_rights


def execute():
	for doctype in ("Customer", "Contact", "Address"):
		grant_declared_rights(doctype, ADVISOR)
