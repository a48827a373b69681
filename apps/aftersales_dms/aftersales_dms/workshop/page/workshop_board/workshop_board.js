// Workshop Board: job cards by status, by bay and by technician; refreshes itself when a job card
// changes (realtime event "dms_workshop_board"). Data: aftersales_dms.workshop.board.get_board.
frappe.pages["workshop-board"].on_page_load = function (wrapper) {
	const page = frappe.ui.make_app_page({ parent: wrapper, title: __("Workshop Board"), single_column: true });
	const $board = $('<div class="dms-board"></div>').appendTo(page.main);
	const state = { view: "status" };
	const company = page.add_field({
		fieldname: "company",
		label: __("Dealer"),
		fieldtype: "Link",
		options: "Company",
		default: frappe.defaults.get_user_default("Company"),
		change: () => load(),
	});
	const view = page.add_field({
		fieldname: "view",
		label: __("View"),
		fieldtype: "Select",
		options: [
			{ value: "status", label: __("By status") },
			{ value: "bay", label: __("By bay") },
			{ value: "technician", label: __("By technician") },
		],
		default: "status",
		change: () => { state.view = view.get_value(); render(); },
	});
	page.set_secondary_action(__("Refresh"), () => load());

	const e = frappe.utils.escape_html;
	const card = (c) => `
		<a class="dms-card" data-name="${e(c.name)}" href="/app/service-job-card/${encodeURIComponent(c.name)}">
			<b>${e(c.registration_plate || c.name)}</b> <span class="text-muted">${e(c.name)}</span><br>
			${e(c.customer_name || "")}<br>
			<span class="indicator-pill ${indicator(c.status)}">${e(__(c.status))}</span>
			<span class="text-muted">${__("{0} of {1} h", [c.total_clocked_hours || 0, c.total_hours || 0])}</span>
		</a>`;
	const indicator = (status) =>
		({ "Ready for Pickup": "green", "Waiting for Parts": "red", "On Hold": "gray", "Awaiting Approval": "orange", "Quality Check": "orange" })[status] || "blue";
	const column = (title, body, count) => `
		<div class="dms-column" data-column="${e(title)}">
			<div class="dms-column-title">${e(title)} <span class="text-muted">${count}</span></div>${body}
		</div>`;

	function render() {
		const data = state.data;
		if (!data) return;
		const byName = Object.fromEntries(data.cards.map((c) => [c.name, c]));
		let html;
		if (state.view === "bay") {
			html = data.bays.map((b) => column(b.service_bay || __("No bay"), b.job_cards.map((n) => card(byName[n])).join(""), b.job_cards.length)).join("");
		} else if (state.view === "technician") {
			html = data.technicians
				.map((t) =>
					column(
						`${t.technician_name} · ${__("{0} h open", [t.hours])}`,
						t.jobs
							.map((j) => `<a class="dms-card" href="/app/service-job-card/${encodeURIComponent(j.job_card)}">
								<b>${e(j.registration_plate || j.job_card)}</b><br>${e(j.item_name || "")}<br>
								<span class="indicator-pill ${j.work_status === "In Progress" ? "green" : j.work_status === "Done" ? "gray" : "blue"}">${e(__(j.work_status))}</span></a>`)
							.join(""),
						t.jobs.length
					)
				)
				.join("") || `<p class="text-muted">${__("No technician has work on the board.")}</p>`;
		} else {
			html = data.columns.map((s) => {
				// a column shows its oldest job cards and counts them all; the rest are in the list
				const cards = data.cards.filter((c) => c.status === s);
				const total = data.counts[s];
				const list = `/app/service-job-card?status=${encodeURIComponent(s)}` +
					(company.get_value() ? `&company=${encodeURIComponent(company.get_value())}` : "");
				const more = total > cards.length
					? `<a class="dms-more text-muted" href="${list}">${__("{0} more in the list", [total - cards.length])}</a>`
					: "";
				return column(__(s), cards.map(card).join("") + more, total);
			}).join("");
		}
		$board.html(`<div class="dms-columns">${html}</div>`);
		$board.attr("data-loaded", frappe.datetime.now_datetime());
	}

	function load() {
		return frappe
			.call("aftersales_dms.workshop.board.get_board", { company: company.get_value() || null })
			.then(({ message }) => { state.data = message; render(); });
	}

	let timer;
	frappe.realtime.on("dms_workshop_board", (msg) => {
		if (company.get_value() && msg.company !== company.get_value()) return;
		clearTimeout(timer);
		timer = setTimeout(load, 300);
	});
	frappe.dom.set_style(`
		.dms-columns { display: flex; gap: var(--margin-md); overflow-x: auto; align-items: flex-start; }
		.dms-column { min-width: 170px; flex: 1 0 170px; background: var(--subtle-fg); border-radius: var(--border-radius-md); padding: var(--padding-sm); }
		.dms-column-title { font-weight: 600; margin-bottom: var(--margin-sm); }
		.dms-card { display: block; background: var(--card-bg); border: 1px solid var(--border-color); border-radius: var(--border-radius); padding: var(--padding-sm); margin-bottom: var(--margin-sm); color: var(--text-color); }
		.dms-card:hover { text-decoration: none; border-color: var(--primary); }
	`);
	load();
};
