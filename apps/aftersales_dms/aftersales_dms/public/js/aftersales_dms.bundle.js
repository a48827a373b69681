// Desk helpers shared by the app's forms (loaded on every desk page via hooks.app_include_js).
frappe.provide("aftersales_dms");

aftersales_dms.show_recall_banner = function (frm) {
	frm.dashboard.clear_headline();
	if (!frm.doc.open_recalls) return;
	const campaigns = frappe.utils.escape_html(frm.doc.open_recalls).replace(/\n/g, "; ");
	frm.dashboard.set_headline_alert(`<b>${__("Open recall campaigns")}:</b> ${campaigns}`, "red");
};

// Standard filters of the app's reports: dealer (empty = every dealer the user may see) and a date range.
aftersales_dms.report_filters = function (opts = {}) {
	const filters = [
		{ fieldname: "company", label: __("Dealer"), fieldtype: "Link", options: "Company", default: frappe.defaults.get_user_default("Company") },
	];
	if (!opts.no_dates) {
		filters.push(
			{ fieldname: "from_date", label: __("From"), fieldtype: "Date", default: frappe.datetime.month_start(), reqd: 1 },
			{ fieldname: "to_date", label: __("To"), fieldtype: "Date", default: frappe.datetime.month_end(), reqd: 1 }
		);
	}
	if (opts.comeback) {
		filters.push(
			{ fieldname: "within_days", label: __("Within days"), fieldtype: "Int", default: 30 },
			{ fieldname: "within_km", label: __("Within km"), fieldtype: "Int", default: 1000 }
		);
	}
	return filters;
};
