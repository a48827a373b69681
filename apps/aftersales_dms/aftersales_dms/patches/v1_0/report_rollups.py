"""Fill the figures the revenue and efficiency reports now read by period: each service
invoice's labour and parts net amounts, and each labour line's first clock-on and (once Done)
last clock-off. The benchmark's bulk loader runs it too, as a data migration would."""

import frappe
from frappe.custom.doctype.custom_field.custom_field import create_custom_fields


def execute():
	from aftersales_dms.setup import get_custom_fields

	# the app's custom fields are made after migrate and this patch runs before: a site last
	# migrated before service invoices existed has none of them yet, so make them all now
	create_custom_fields(get_custom_fields(), ignore_validate=True)
	frappe.db.sql(
		"""update `tabSales Invoice` si
		join (
			select sii.parent,
				sum(case when item.dms_item_kind = 'Labour' then sii.base_net_amount else 0 end) labour,
				sum(case when item.dms_item_kind = 'Part' then sii.base_net_amount else 0 end) parts
			from `tabSales Invoice Item` sii
			join `tabSales Invoice` inv on inv.name = sii.parent
			left join `tabItem` item on item.name = sii.item_code
			where ifnull(inv.dms_service_job_card, '') != ''
			group by sii.parent
		) x on x.parent = si.name
		set si.dms_labour_amount = x.labour, si.dms_parts_amount = x.parts"""
	)
	frappe.db.sql(
		"""update `tabService Job Card Labour` lab
		join (
			select labour_line, min(from_time) started, max(to_time) finished
			from `tabService Job Card Time Log`
			group by labour_line
		) x on x.labour_line = lab.name
		set lab.started_on = x.started,
			lab.finished_on = if(lab.work_status = 'Done', x.finished, null)"""
	)
