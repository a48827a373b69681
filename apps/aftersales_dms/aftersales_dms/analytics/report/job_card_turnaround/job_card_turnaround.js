// Copyright (c) 2026, Aftersales DMS contributors
// Filters only: the figures are computed on the server (job_card_turnaround.py).

frappe.query_reports["Job Card Turnaround"] = {
	filters: aftersales_dms.report_filters({}),
};
