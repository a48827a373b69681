frappe.ready(function () {
	// validation happens on the server (Online Booking Request)
});
