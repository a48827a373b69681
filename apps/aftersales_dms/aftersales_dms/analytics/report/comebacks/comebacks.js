// Copyright (c) 2026, Aftersales DMS contributors
// Filters only: the figures are computed on the server (comebacks.py).

frappe.query_reports["Comebacks"] = {
	filters: aftersales_dms.report_filters({"comeback": 1}),
};
