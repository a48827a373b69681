// Copyright (c) 2026, Aftersales DMS contributors
// Filters only: the figures are computed on the server (appointment_volume.py).

frappe.query_reports["Appointment Volume"] = {
	filters: aftersales_dms.report_filters({}),
};
