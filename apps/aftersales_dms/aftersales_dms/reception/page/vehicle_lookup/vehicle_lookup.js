// Find Vehicle: plate or VIN -> vehicle, owner, service history, open recalls (server: booking/recall.find_vehicle).
frappe.pages["vehicle-lookup"].on_page_load = function (wrapper) {
	const page = frappe.ui.make_app_page({ parent: wrapper, title: __("Find Vehicle"), single_column: true });
	const $result = $('<div class="vehicle-lookup-result" style="margin-top: var(--margin-lg)"></div>').appendTo(page.main);
	const field = page.add_field({
		fieldname: "query",
		label: __("Registration plate or VIN"),
		fieldtype: "Data",
		change() {
			const query = (field.get_value() || "").trim();
			if (!query) return;
			frappe
				.call({ method: "aftersales_dms.booking.recall.find_vehicle", args: { query }, freeze: true })
				.then(({ message }) => render($result, message))
				.catch(() => $result.empty());
		},
	});
	const query = frappe.utils.get_url_arg("query");
	if (query) field.set_value(query);
};

function render($result, data) {
	const e = frappe.utils.escape_html;
	const v = data.vehicle;
	const recalls = data.open_recalls.length
		? `<div class="alert alert-danger"><b>${__("Open recall campaigns")}:</b> ${data.open_recalls
				.map((r) => `${e(r.name)} – ${e(r.title)}`)
				.join("; ")}</div>`
		: "";
	const rows = (list, cols) =>
		list.length
			? `<table class="table table-bordered"><tbody>${list
					.map((r) => `<tr>${cols.map((c) => `<td>${e(String(r[c] ?? ""))}</td>`).join("")}</tr>`)
					.join("")}</tbody></table>`
			: `<p class="text-muted">${__("None")}</p>`;
	const last_service = data.last_service_date_formatted
		? `${__("Last service")} ${e(data.last_service_date_formatted)}`
		: __("No service recorded yet");
	$result.html(`
		${recalls}
		<div class="vehicle-lookup-actions" style="margin-bottom: var(--margin-md)"></div>
		<h4><a href="/app/customer-vehicle/${encodeURIComponent(v.name)}">${e(v.registration_plate)}</a>
			· ${e(v.make)} ${e(v.model)} ${e(v.variant || "")} ${e(String(v.year || ""))}</h4>
		<p>VIN ${e(v.vin)} · ${e(v.vehicle_category)} · ${__("Odometer")} ${e(String(v.current_odometer))} km
			· ${__("Home dealer")} ${e(v.company)} · ${last_service}</p>
		<p>${__("Owner")}: <a href="/app/customer/${encodeURIComponent(data.owner.name)}">${e(data.owner.customer_name)}</a>
			${e(data.owner.mobile_no || "")} ${e(data.owner.email_id || "")}</p>
		<h5>${__("Upcoming appointments")}</h5>${rows(data.upcoming_appointments, ["name", "status", "scheduled_start_formatted"])}
		<h5>${__("Service history")}</h5>${rows(data.history, ["name", "status", "posting_date_formatted", "odometer", "customer_amount_formatted"])}
	`);
	// the next step, as the server says from what it found
	const $actions = $result.find(".vehicle-lookup-actions");
	const actions = {
		"Open job card": () => frappe.set_route("Form", "Service Job Card", data.open_job_card),
		"Book appointment": () => frappe.new_doc("Service Appointment", data.prefill),
		"Walk-in check-in": () => frappe.new_doc("Vehicle Check In", data.prefill),
	};
	data.next_steps.forEach((step, i) => {
		$(`<button class="btn btn-sm ${i ? "btn-default" : "btn-primary"}" style="margin-right: var(--margin-sm)"></button>`)
			.text(step === "Open job card" ? __("Open job card {0}", [data.open_job_card]) : __(step))
			.on("click", actions[step])
			.appendTo($actions);
	});
}
