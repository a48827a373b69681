"""Fill Workshop Revenue Month (and its per-job-card counts) from the service invoices submitted
before it was kept; from now on invoices keep it as they are submitted and cancelled."""


def execute():
	from aftersales_dms.analytics.revenue_rollup import rebuild

	rebuild()
