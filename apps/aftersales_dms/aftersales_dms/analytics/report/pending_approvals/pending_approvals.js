// Copyright (c) 2026, Aftersales DMS contributors
// Filters only: the figures are computed on the server (pending_approvals.py).

frappe.query_reports["Pending Approvals"] = {
	filters: aftersales_dms.report_filters({"no_dates": 1}),
};
