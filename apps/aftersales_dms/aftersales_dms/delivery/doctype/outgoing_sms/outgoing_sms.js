// Copyright (c) 2026, Aftersales DMS contributors
// For license information, please see license.txt

frappe.ui.form.on("Outgoing SMS", {
	refresh(frm) {
		if (frm.doc.status === "Failed" && frappe.user.has_role(["Workshop Manager", "System Manager"])) {
			frm.add_custom_button(__("Retry"), () => frm.call("retry").then(() => frm.reload_doc()));
		}
	},
});
