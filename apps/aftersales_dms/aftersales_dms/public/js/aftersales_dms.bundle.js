// Desk helpers shared by the app's forms (loaded on every desk page via hooks.app_include_js).
frappe.provide("aftersales_dms");

aftersales_dms.show_recall_banner = function (frm) {
	frm.dashboard.clear_headline();
	if (!frm.doc.open_recalls) return;
	const campaigns = frappe.utils.escape_html(frm.doc.open_recalls).replace(/\n/g, "; ");
	frm.dashboard.set_headline_alert(`<b>${__("Open recall campaigns")}:</b> ${campaigns}`, "red");
};
