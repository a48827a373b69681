// Copyright (c) 2026, Aftersales DMS contributors
// Form UI only: totals, item kinds and ownership are enforced by the controller.

frappe.ui.form.on("Service Job Card", {
	setup(frm) {
		frm.set_query("item_code", "labour", () => ({ filters: { dms_item_kind: "Labour", disabled: 0 } }));
		frm.set_query("item_code", "parts", () => ({ filters: { dms_item_kind: "Part", is_stock_item: 1, disabled: 0 } }));
		frm.set_query("technician", "labour", () => ({ filters: { company: frm.doc.company, status: "Active" } }));
	},
	refresh(frm) {
		aftersales_dms.show_recall_banner(frm);
		if (!frm.is_new()) frm.add_custom_button(__("Workshop Board"), () => frappe.set_route("workshop-board"));
		if (frm.doc.status === "Quality Check" && frm.doc.qc_items?.length) {
			frm.dashboard.set_headline(__("Quality Check: verify each checklist item below and save, then Pass QC (or write QC Remarks and Fail QC) from Actions."));
		}
		if ((frm.doc.approval_log || []).length || ["Approved", "Partly Approved", "Declined", "Awaiting Re-approval"].includes(frm.doc.approval_status)) {
			// the server checks the customer's decisions against their signed evidence
			frappe.call({ method: "aftersales_dms.billing.consent.approval_evidence", args: { job_card: frm.doc.name } }).then(({ message }) => {
				if (!message || message.status === "None") return;
				if (message.status === "Awaiting") {  // evidence intact; changed lines wait for a new decision
					frm.dashboard.add_comment(message.problems.map(frappe.utils.escape_html).join(" "), "orange", true);
					return;
				}
				const intact = message.status === "Intact";
				frm.dashboard.add_comment(
					intact ? __("Customer approval evidence intact (SHA-256 {0})", [message.hash])
						: __("Customer approval evidence broken: {0}", [message.problems.map(frappe.utils.escape_html).join(" ")]),
					intact ? "green" : "red", true);
			});
		}
		if (frm.doc.discount_status === "Pending Approval") {
			frm.dashboard.add_comment(__("A {0} % discount waits for approval by someone whose limit allows it.", [frm.doc.discount_percentage]), "orange", true);
			frm.add_custom_button(__("Approve Discount"), () =>
				frappe.call({ method: "aftersales_dms.billing.discount.approve_discount", args: { job_card: frm.doc.name, discount_percentage: frm.doc.discount_percentage } }).then(() => frm.reload_doc())
			);
		}
		if (frm.doc.status === "Ready for Pickup") {
			frm.add_custom_button(__("Invoices"), () =>
				frappe.call({ method: "aftersales_dms.billing.invoice.make_invoices", args: { job_card: frm.doc.name }, freeze: true }).then(({ message }) => {
					frm.reload_doc();
					const names = Object.values(message);
					if (names.length === 1) frappe.set_route("Form", "Sales Invoice", names[0]);
					else frappe.msgprint(Object.entries(message).map(([who, name]) => `${__(who)}: <a href="/app/sales-invoice/${encodeURIComponent(name)}">${frappe.utils.escape_html(name)}</a>`).join("<br>"), __("Invoices"));
				}),
				__("Create")
			);
			if (frm.doc.outstanding_amount > 0 && !frm.doc.credit_override_by) {
				frm.add_custom_button(__("Release on Credit"), () =>
					frappe.prompt({ fieldname: "reason", fieldtype: "Small Text", label: __("Reason"), reqd: 1 }, ({ reason }) =>
						frappe.call({ method: "aftersales_dms.billing.invoice.record_credit_override", args: { job_card: frm.doc.name, reason } }).then(() => frm.reload_doc())
					, __("Release the vehicle with the invoice unpaid"))
				);
			}
		}
		if (frm.is_new() || ["Ready for Pickup", "Delivered", "Cancelled"].includes(frm.doc.status)) return;
		if ((frm.doc.labour || []).length || (frm.doc.parts || []).length) {
			frm.add_custom_button(frm.doc.estimate ? __("New Estimate") : __("Estimate"), () =>
				frappe.call({ method: "aftersales_dms.billing.estimate.make_estimate", args: { job_card: frm.doc.name }, freeze: true })
					.then(({ message }) => { frm.reload_doc(); frappe.show_alert(__("Quotation {0} created", [message])); }),
				__("Create")
			);
		}
		if (frm.doc.estimate && frm.doc.contact_email) {
			frm.add_custom_button(__("Email Estimate"), () =>
				frappe.call({ method: "aftersales_dms.billing.approval.send_estimate", args: { job_card: frm.doc.name }, freeze: true })
					.then(() => { frappe.show_alert(__("Estimate emailed to {0}", [frm.doc.contact_email])); frm.reload_doc(); }),
				__("Create")
			);
		}
		if (frm.doc.estimate) {
			frm.add_custom_button(__("Customer Approval Link"), () =>
				frm.call({ method: "aftersales_dms.billing.approval.make_approval_link", args: { job_card: frm.doc.name } }).then(({ message }) => {
					frappe.utils.copy_to_clipboard(message);
					frappe.msgprint(__("Send this link to the customer (valid 72 hours, works once):") + `<br><code>${frappe.utils.escape_html(message)}</code>`);
					frm.reload_doc();
				}),
				__("Create")
			);
		}
		frm.add_custom_button(__("Service Package"), () =>
			frappe.prompt({ fieldname: "package", fieldtype: "Link", options: "Service Package", label: __("Package"), reqd: 1,
				get_query: () => ({ filters: { disabled: 0, vehicle_category: ["in", [frm.doc.vehicle_category, ""]] } }) },
			({ package: pkg }) => frm.call("add_service_package", { package: pkg }).then(() => frm.reload_doc()), __("Add a service package")),
			__("Create")
		);
		if ((frm.doc.parts || []).some((r) => r.qty > (r.issued_qty || 0))) {
			frm.add_custom_button(__("Parts Request"), () =>
				frappe.model.open_mapped_doc({
					method: "aftersales_dms.parts.doctype.parts_request.parts_request.make_parts_request",
					frm,
				}),
				__("Create")
			);
		}
		const lines = (frm.doc.labour || []).map((r) => ({
			value: r.name,
			label: `${r.idx}. ${r.item_name || r.item_code} · ${r.technician || __("unassigned")} · ${__(r.work_status || "Not Started")}`,
		}));
		if (!lines.length) return;
		const pick = (title, then) =>
			frappe.prompt({ fieldname: "line", fieldtype: "Select", label: __("Labour line"), options: lines, reqd: 1, default: lines[0].value }, ({ line }) => then(line), title);
		if (frappe.user.has_role("Workshop Manager")) {
			frm.add_custom_button(__("Suggest Technician"), () =>
				pick(__("Suggest a technician"), (line) =>
					frappe.call("aftersales_dms.workshop.assignment.suggest_technicians", { job_card: frm.doc.name, labour_line: line }).then(({ message }) => {
						const options = message.map((t) => ({
							value: t.technician,
							label: `${t.technician_name} · ${t.has_skill ? __("skill level {0}", [t.skill_level ?? "-"]) : __("lacks the skill")} · ${__("{0} h open today", [t.open_hours])}`,
						}));
						frappe.prompt({ fieldname: "technician", fieldtype: "Select", label: __("Technician"), options, reqd: 1, default: options[0]?.value }, ({ technician }) =>
							frm.call("assign_technician", { labour_line: line, technician }).then(() => frm.reload_doc())
						, __("Technicians, best first"));
					})
				),
				__("Workshop")
			);
		}
		const job_card = frm.docname;
		for (const [action, label] of [["start", __("Clock On")], ["pause", __("Pause")], ["finish", __("Clock Off")]]) {
			frm.add_custom_button(label, () => pick(label, (line) =>
				frappe.xcall("aftersales_dms.workshop.doctype.service_job_card.service_job_card.clock_labour", { job_card, labour_line: line, action })
					.then(() => frm.reload_doc())
			), __("Job Clock"));
		}
	},
});
