frappe.listview_settings["Service Appointment"] = {
	add_fields: ["status"],
	get_indicator(doc) {
		const colors = { Requested: "orange", Confirmed: "blue", "Checked In": "green", "No Show": "red", Cancelled: "gray" };
		return [__(doc.status), colors[doc.status] || "gray", `status,=,${doc.status}`];
	},
	calendar_view: true,
};
