// Copyright (c) 2026, Aftersales DMS contributors
// Form UI only: totals, item kinds and ownership are enforced by the controller.

frappe.ui.form.on("Service Job Card", {
	setup(frm) {
		frm.set_query("item_code", "labour", () => ({ filters: { dms_item_kind: "Labour", disabled: 0 } }));
		frm.set_query("item_code", "parts", () => ({ filters: { dms_item_kind: "Part", is_stock_item: 1, disabled: 0 } }));
		frm.set_query("technician", "labour", () => ({ filters: { company: frm.doc.company, status: "Active" } }));
	},
	refresh(frm) {
		frm.dashboard.clear_headline();
		if (frm.doc.open_recalls) {
			frm.dashboard.set_headline_alert(
				`<b>${__("Open recall campaigns")}:</b> ${frappe.utils.escape_html(frm.doc.open_recalls).replace(/\n/g, "; ")}`,
				"red"
			);
		}
	},
});
