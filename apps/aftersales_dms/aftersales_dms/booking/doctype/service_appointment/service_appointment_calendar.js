frappe.views.calendar["Service Appointment"] = {
	field_map: {
		start: "scheduled_start",
		end: "scheduled_end",
		id: "name",
		title: "customer_name",
		allDay: "allDay",
	},
	gantt: false,
	filters: [
		{ fieldtype: "Link", fieldname: "company", options: "Company", label: __("Dealer") },
		{ fieldtype: "Link", fieldname: "service_bay", options: "Service Bay", label: __("Bay") },
		{ fieldtype: "Link", fieldname: "technician", options: "Service Technician", label: __("Technician") },
	],
	get_events_method: "aftersales_dms.booking.doctype.service_appointment.service_appointment.get_events",
};
