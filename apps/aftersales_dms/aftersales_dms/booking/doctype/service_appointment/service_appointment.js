// Copyright (c) 2026, Aftersales DMS contributors
// Form UI only: every rule is enforced by the controller.

frappe.ui.form.on("Service Appointment", {
	setup(frm) {
		frm.set_query("vehicle", () => ({ filters: frm.doc.customer ? { customer: frm.doc.customer } : {} }));
		frm.set_query("item_code", "services", () => ({ filters: { dms_item_kind: "Labour", disabled: 0 } }));
		frm.set_query("service_bay", () => ({ filters: { company: frm.doc.company, is_active: 1 } }));
		frm.set_query("technician", () => ({ filters: { company: frm.doc.company, status: "Active" } }));
	},
	refresh(frm) {
		aftersales_dms.show_recall_banner(frm);
		if (frm.is_new() || !["Requested", "Confirmed"].includes(frm.doc.status)) return;
		frm.add_custom_button(__("Check In"), () =>
			frappe.model.open_mapped_doc({
				method: "aftersales_dms.reception.doctype.vehicle_check_in.vehicle_check_in.make_check_in",
				frm,
			})
		);
		frm.add_custom_button(__("Find Slot"), () => find_slot(frm));
		if (frm.doc.status === "Requested" && frm.doc.scheduled_start) {
			frm.add_custom_button(__("Confirm"), () => frm.call("confirm").then(() => frm.reload_doc())).addClass("btn-primary");
		}
		frm.add_custom_button(__("Cancel Appointment"), () => {
			frappe.prompt({ fieldname: "reason", fieldtype: "Small Text", label: __("Reason"), reqd: 1 }, ({ reason }) =>
				frm.call("cancel_appointment", { reason }).then(() => frm.reload_doc())
			);
		});
	},
	vehicle(frm) {
		if (frm.doc.vehicle && !frm.doc.customer) {
			frappe.db.get_value("Customer Vehicle", frm.doc.vehicle, "customer").then(({ message }) => {
				frm.set_value("customer", message.customer);
			});
		}
	},
});

function find_slot(frm) {
	const services = (frm.doc.services || []).map((row) => row.item_code).filter(Boolean);
	const from_date = frm.doc.preferred_date || frappe.datetime.get_today();
	const args = { company: frm.doc.company, from_date, to_date: frappe.datetime.add_days(from_date, 6), limit: 40 };
	if (services.length) args.services = services;
	else args.hours = 1;
	frappe
		.call("aftersales_dms.booking.capacity.find_slots", args)
		.then(({ message: slots }) => {
			if (!slots || !slots.length) {
				frappe.msgprint(__("No free slot in the 7 days from {0}.", [from_date]));
				return;
			}
			const options = slots.map((s, i) => ({
				value: String(i),
				label: `${frappe.datetime.str_to_user(s.start)} – ${s.end.slice(11, 16)} · ${s.service_bay} · ${s.technician_name}`,
			}));
			frappe.prompt(
				{ fieldname: "slot", fieldtype: "Select", label: __("Free slot"), options, reqd: 1, default: "0" },
				({ slot }) => {
					const s = slots[cint(slot)];
					frm.set_value({ scheduled_start: s.start, service_bay: s.service_bay, technician: s.technician });
				},
				__("Free slots")
			);
		});
}
