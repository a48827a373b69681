// Copyright (c) 2026, Aftersales DMS contributors
// Filters only: the figures are computed on the server (workshop_revenue.py).

frappe.query_reports["Workshop Revenue"] = {
	filters: aftersales_dms.report_filters({}),
};
