// Copyright (c) 2026, Aftersales DMS contributors
// Filters only: the rows are read on the server (my_operations.py), a technician's own always.

frappe.query_reports["My Operations"] = {
	filters: [
		{
			fieldname: "technician",
			label: __("Technician"),
			fieldtype: "Link",
			options: "Service Technician",
		},
		{
			fieldname: "include_done",
			label: __("Include finished today"),
			fieldtype: "Check",
		},
	],
};
