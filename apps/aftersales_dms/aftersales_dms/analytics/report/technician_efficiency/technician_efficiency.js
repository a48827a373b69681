// Copyright (c) 2026, Aftersales DMS contributors
// Filters only: the figures are computed on the server (technician_efficiency.py).

frappe.query_reports["Technician Efficiency"] = {
	filters: aftersales_dms.report_filters({}),
};
