# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

"""The desk each role lands on: its workspace, its sidebar, and shortcuts that work for it."""

import json

import frappe
from frappe.desk.desktop import get_desktop_page, get_workspace_sidebar_items
from frappe.tests.utils import FrappeTestCase

from aftersales_dms.controllers.desk import make_module_profiles, profile_name
from aftersales_dms.roles import (
	ACCOUNTANT,
	ADVISOR,
	OEM_ADMIN,
	PARTS_MANAGER,
	QUALITY_SUPERVISOR,
	ROLE_DESK,
	TECHNICIAN,
	WORKSHOP_MANAGER,
)

# demo user: (the role whose desk they land on, the workspaces of their sidebar)
DEMO = {
	"advisor@omp.example": (ADVISOR, {"Service Desk"}),
	"manager@omp.example": (WORKSHOP_MANAGER, {"Aftersales DMS", "Service Desk"}),
	"tech.amit@omp.example": (TECHNICIAN, {"Technician Desk"}),
	"parts@omp.example": (PARTS_MANAGER, {"Parts Desk"}),
	"qc@omp.example": (QUALITY_SUPERVISOR, {"Quality Desk"}),
	"accounts@omp.example": (ACCOUNTANT, {"Service Accounts"}),
	"oem.admin@orion-oem.example": (OEM_ADMIN, {"Dealer Network"}),
}
GENERIC = {"Home", "Accounting", "Selling", "Buying", "Stock", "Manufacturing", "Quality", "Support"}
GENERIC |= {"Website", "Build", "Tools", "Users", "Integrations", "CRM", "Projects", "Assets"}


def sidebar(user):
	frappe.set_user(user)
	try:
		return {p["name"]: p for p in get_workspace_sidebar_items()["pages"]}
	finally:
		frappe.set_user("Administrator")


class TestRoleDesks(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")

	def test_each_role_lands_on_its_own_workspace(self):
		for user, (role, own) in DEMO.items():
			workspace = ROLE_DESK[role][0]
			with self.subTest(user=user):
				stored = frappe.db.get_value(
					"User", user, ["default_workspace", "module_profile"], as_dict=True
				)
				self.assertEqual(stored.default_workspace, workspace)
				self.assertEqual(stored.module_profile, profile_name(role))
				pages = sidebar(user)
				self.assertIn(workspace, pages)
				# ERPNext's accounting workspaces are the accountant's too
				generic = GENERIC - {"Accounting"} if role == ACCOUNTANT else GENERIC
				self.assertFalse(generic & set(pages), sorted(pages))
				ours = {p for p, row in pages.items() if row["module"] in ROLE_DESK[role][1]}
				if role == ACCOUNTANT:
					self.assertTrue(all(pages[p]["module"] == "Accounts" for p in set(pages) - own))
					self.assertEqual({p for p in ours if pages[p]["module"] != "Accounts"}, own)
				else:
					self.assertEqual(set(pages), own)

	def test_every_shortcut_link_and_card_of_a_desk_works_for_its_role(self):
		"""Frappe drops what the user may not open; a dropped item is a broken desk. Every count
		(shortcut stats, quick list, number card) runs as the user."""
		from frappe.desk.doctype.number_card.number_card import get_result

		for user, (_role, own) in DEMO.items():
			for name in own:
				ws = frappe.get_doc("Workspace", name)
				frappe.set_user(user)
				try:
					page = get_desktop_page(json.dumps({"name": name, "title": name, "public": 1}))
					with self.subTest(user=user, workspace=name):
						shown = [s["label"] for s in page["shortcuts"]["items"]]
						self.assertEqual(shown, [s.label for s in ws.shortcuts])
						declared = {
							card["label"]: [link["link_to"] for link in card["links"]]
							for card in ws.get_link_groups()
						}
						shown_links = {
							card["label"]: [link["link_to"] for link in card["links"]]
							for card in page["cards"]["items"]
						}
						self.assertEqual(shown_links, declared)
						self.assertEqual(len(page["quick_lists"]["items"]), len(ws.quick_lists))
						self.assertEqual(len(page["number_cards"]["items"]), len(ws.number_cards))
						self.assertEqual(len(page["charts"]["items"]), len(ws.charts))
						for s in ws.shortcuts:
							if s.type == "DocType":
								self.assertTrue(frappe.has_permission(s.link_to, "read"), s.label)
								filters = json.loads(s.stats_filter or "[]")
								frappe.get_list(s.link_to, filters=filters, limit_page_length=1)
						for q in ws.quick_lists:
							frappe.get_list(
								q.document_type,
								filters=json.loads(q.quick_list_filter or "[]"),
								limit_page_length=1,
							)
						for row in ws.number_cards:
							card = frappe.get_doc("Number Card", row.number_card_name)
							if card.type == "Document Type":
								self.assertGreaterEqual(get_result(card.as_dict(), card.filters_json), 0)
				finally:
					frappe.set_user("Administrator")

	def test_a_new_users_desk_follows_the_role_and_keeps_an_admins_choice(self):
		email = f"desk.{frappe.generate_hash(length=8)}@omp.example"
		user = frappe.get_doc(
			{"doctype": "User", "email": email, "first_name": "Desk", "send_welcome_email": 0}
		).insert(ignore_permissions=True)
		self.assertFalse(user.module_profile)  # no role of ours yet: left alone
		user.add_roles(TECHNICIAN)
		user.reload()
		self.assertEqual(
			(user.module_profile, user.default_workspace), (profile_name(TECHNICIAN), "Technician Desk")
		)
		blocked = {d.module for d in user.block_modules}
		self.assertIn("Accounts", blocked)
		self.assertNotIn("Workshop", blocked)

		# the admin's choice (one of ours for a role the user lacks would be replaced: they could
		# not open it, its Workspace roles hide it)
		user.default_workspace = "Stock"
		user.save(ignore_permissions=True)
		user.remove_roles(TECHNICIAN)
		user.add_roles(PARTS_MANAGER)
		user.reload()
		self.assertEqual(user.module_profile, profile_name(PARTS_MANAGER))  # ours, for a role gone
		self.assertEqual(user.default_workspace, "Stock")  # kept
		self.assertIn("Billing", {d.module for d in user.block_modules})

		user.remove_roles(PARTS_MANAGER)
		user.reload()
		self.assertFalse(user.module_profile)
		self.assertFalse(user.block_modules)
		frappe.delete_doc("User", email, ignore_permissions=True)

	def test_module_profiles_block_every_other_module(self):
		make_module_profiles()  # idempotent: migrate runs it every time
		modules = set(frappe.get_all("Module Def", pluck="name"))
		for role, (_workspace, keep) in ROLE_DESK.items():
			with self.subTest(role=role):
				profile = frappe.get_doc("Module Profile", profile_name(role))
				self.assertEqual({d.module for d in profile.block_modules}, modules - set(keep))
				self.assertIn("Setup", modules - set(keep))  # ERPNext's Home
