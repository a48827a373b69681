// Copyright (c) 2026, Aftersales DMS contributors
// Form UI only: the odometer rule, ownership and appointment checks live in the controller.

frappe.ui.form.on("Vehicle Check In", {
	setup(frm) {
		frm.set_query("vehicle", () => ({ filters: frm.doc.customer ? { customer: frm.doc.customer } : {} }));
		frm.set_query("service_appointment", () => ({
			filters: { company: frm.doc.company, status: ["in", ["Requested", "Confirmed"]] },
		}));
		frm.set_query("item_code", "services", () => ({ filters: { dms_item_kind: "Labour", disabled: 0 } }));
	},
	refresh(frm) {
		aftersales_dms.show_recall_banner(frm);
		if (frm.doc.docstatus === 1 && !frm.doc.service_job_card) {
			frm.add_custom_button(__("Job Card"), () =>
				frappe.model.open_mapped_doc({
					method: "aftersales_dms.reception.doctype.vehicle_check_in.vehicle_check_in.make_job_card",
					frm,
				}),
				__("Create")
			);
		}
		if (frm.doc.vehicle_inspection) {
			frm.add_custom_button(__("Inspection"), () => frappe.set_route("Form", "Vehicle Inspection", frm.doc.vehicle_inspection), __("Open"));
		}
		if (frm.doc.service_job_card) {
			frm.add_custom_button(__("Job Card"), () => frappe.set_route("Form", "Service Job Card", frm.doc.service_job_card), __("Open"));
		}
	},
	vehicle(frm) {
		if (!frm.doc.vehicle) return;
		frappe.db.get_value("Customer Vehicle", frm.doc.vehicle, ["customer", "current_odometer"]).then(({ message }) => {
			if (!frm.doc.customer) frm.set_value("customer", message.customer);
			frm.set_value("last_odometer", message.current_odometer);
		});
	},
});
