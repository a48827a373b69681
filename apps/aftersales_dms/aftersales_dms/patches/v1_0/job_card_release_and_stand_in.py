"""Every job has a way forward and a clean end (issue #19), on sites made before it.

- Dealer Workshop Settings gets Managers Stand In, on: where a dealer has nobody of the role a
  job card action needs (Nashik had no Quality Supervisor: its jobs sat in Quality Check), its
  Workshop Managers take the action.
- The job card workflow (created once, then the OEM admin's) gets the Released state and its
  Release without Work action from Awaiting Approval, when it has no Released state yet; and the
  Workshop kanban board a Released column (archived, like Delivered).
"""

import frappe

from aftersales_dms.workshop.status import KANBAN_BOARD, RELEASED, WORKFLOW, workflow_definition


def execute():
	frappe.reload_doc("workshop", "doctype", "dealer_workshop_settings")
	frappe.db.sql(
		"update `tabDealer Workshop Settings` set managers_stand_in = 1 where managers_stand_in is null"
	)
	add_released_state()


def add_released_state():
	data = workflow_definition()
	if not frappe.db.exists("Workflow State", RELEASED):
		frappe.get_doc(
			{
				"doctype": "Workflow State",
				"workflow_state_name": RELEASED,
				"style": data["state_styles"][RELEASED],
			}
		).insert(ignore_permissions=True)
	for action in {t["action"] for t in data["workflow"]["transitions"] if t["next_state"] == RELEASED}:
		if not frappe.db.exists("Workflow Action Master", action):
			frappe.get_doc({"doctype": "Workflow Action Master", "workflow_action_name": action}).insert(
				ignore_permissions=True
			)
	name = frappe.db.get_value("Workflow", {"document_type": WORKFLOW, "is_active": 1}, "name")
	if not name:
		return  # make_workflow creates it whole on migrate
	workflow = frappe.get_doc("Workflow", name)
	if workflow.workflow_state_field != "status" or any(s.state == RELEASED for s in workflow.states):
		return  # an OEM's own workflow, or already there
	# in the shipped order (after Delivered), so the status options stay the shipped ones and
	# on_workflow_update needs no Property Setter for them
	row = next(s for s in data["workflow"]["states"] if s["state"] == RELEASED)
	states = [s.as_dict() for s in workflow.states]
	after = next((i for i, s in enumerate(states) if s.state == "Delivered"), len(states) - 1)
	states.insert(after + 1, row)
	workflow.set("states", [{k: v for k, v in s.items() if k not in ("name", "idx")} for s in states])
	have = {s.state for s in workflow.states}
	for transition in data["workflow"]["transitions"]:
		if transition["next_state"] == RELEASED and transition["state"] in have:
			workflow.append("transitions", transition)
	workflow.save(ignore_permissions=True)  # on_workflow_update adds the status option and column
	if frappe.db.exists("Kanban Board", KANBAN_BOARD):
		frappe.db.set_value(
			"Kanban Board Column",
			{"parent": KANBAN_BOARD, "column_name": RELEASED},
			"status",
			"Archived",
		)
