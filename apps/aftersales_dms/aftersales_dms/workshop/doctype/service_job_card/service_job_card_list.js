frappe.listview_settings["Service Job Card"] = {
	add_fields: ["status"],
	get_indicator(doc) {
		const colors = {
			Open: "orange", "In Progress": "blue", "Awaiting Approval": "yellow", Repairing: "blue",
			"Quality Check": "purple", "Ready for Pickup": "green", Delivered: "gray", "On Hold": "red",
			"Waiting for Parts": "red", Cancelled: "gray",
		};
		return [__(doc.status), colors[doc.status] || "gray", `status,=,${doc.status}`];
	},
};
