// Copyright (c) 2026, Aftersales DMS contributors
// Form UI only: who may decide, and what a decision does, is the controller's.

frappe.ui.form.on("OEM Warranty Claim", {
	setup(frm) {
		frm.set_query("sales_invoice", () => ({ filters: { dms_bill_to: "Warranty", docstatus: 1, is_return: 0 } }));
		frm.set_query("causal_part", () => ({ filters: { dms_item_kind: "Part" } }));
	},
	refresh(frm) {
		if (frm.doc.docstatus !== 1 || frm.doc.status !== "Submitted" || !frappe.user.has_role("OEM Admin")) return;
		frm.add_custom_button(__("Approve"), () =>
			frappe.prompt({ fieldname: "oem_reference", fieldtype: "Data", label: __("OEM Reference") }, ({ oem_reference }) =>
				frm.call("approve", { oem_reference }).then(() => frm.reload_doc())
			, __("Approve claim")), __("Decide"));
		frm.add_custom_button(__("Reject"), () =>
			frappe.prompt([
				{ fieldname: "reason", fieldtype: "Small Text", label: __("Reason"), reqd: 1 },
				{ fieldname: "rebill_customer", fieldtype: "Check", label: __("Re-bill the customer"), default: 0 },
			], ({ reason, rebill_customer }) => frm.call("reject", { reason, rebill_customer }).then(() => frm.reload_doc()), __("Reject claim")),
			__("Decide"));
	},
});
