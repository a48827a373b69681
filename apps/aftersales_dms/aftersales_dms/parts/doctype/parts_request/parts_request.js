// Copyright (c) 2026, Aftersales DMS contributors
// Form UI only: quantities, stock and roles are checked by the controller.

frappe.ui.form.on("Parts Request", {
	setup(frm) {
		frm.set_query("item_code", "items", () => ({ filters: { dms_item_kind: "Part", is_stock_item: 1, disabled: 0 } }));
		frm.set_query("service_job_card", () => ({ filters: { status: ["not in", ["Delivered", "Cancelled"]] } }));
	},
	refresh(frm) {
		if (frm.doc.docstatus !== 1 || !frappe.user.has_role("Parts Manager")) return;
		const outstanding = (frm.doc.items || []).some((r) => r.qty > r.issued_qty - r.returned_qty);
		if (outstanding) {
			frm.add_custom_button(__("Issue Parts"), () =>
				frm.call("issue_parts").then(({ message }) => {
					if (message.shortages.length) {
						frappe.msgprint(__("Short: {0}. Material Request {1} raised for the parts department.", [
							message.shortages.map(([item, qty]) => `${qty} × ${item}`).join(", "),
							message.material_request,
						]));
					}
					frm.reload_doc();
				})
			).addClass("btn-primary");
		}
		if ((frm.doc.items || []).some((r) => r.issued_qty > r.returned_qty)) {
			frm.add_custom_button(__("Return Parts"), () =>
				frappe.confirm(__("Return every issued part of this request to the store?"), () =>
					frm.call("return_parts").then(() => frm.reload_doc())
				)
			);
		}
	},
});
