// Desk helpers shared by the app's forms (loaded on every desk page via hooks.app_include_js).
frappe.provide("aftersales_dms");

// A form's reload never takes over the desk from the form the user is looking at.
// When another session (or a background job) changes an open document, Frappe schedules the
// form's reload a second later (the realtime doc_update; it also arrives before the answer to the
// user's own button, e.g. Confirm). If the user opens another form within that second, the reload
// re-rendered the form left behind and made it `cur_frm`, so Ctrl+S and every script that acts on
// `cur_frm` worked on a form nobody sees: a check-in's Submit was sent as its appointment's. A form
// that is not shown is not re-rendered; its document is dropped from the cache (or, with unsaved
// edits, marked stale), so it is read afresh when the user comes back, which is what Frappe does
// when the change arrives while the form is hidden.
const reload_doc = frappe.ui.form.Form.prototype.reload_doc;
frappe.ui.form.Form.prototype.reload_doc = function (...args) {
	const shown = frappe.container && frappe.container.page && frappe.container.page.frm;
	if (shown === this) return reload_doc.apply(this, args);
	const doc = locals[this.doctype] && locals[this.doctype][this.docname];
	if (doc && doc.__unsaved) doc.__needs_refresh = true;
	else if (doc && !doc.__islocal) frappe.model.remove_from_locals(this.doctype, this.docname);
	return Promise.resolve();
};

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
