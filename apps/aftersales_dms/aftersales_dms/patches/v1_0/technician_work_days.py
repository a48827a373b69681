"""Fill Technician Work Day from the job clock entries and finished lines made before it was
kept; from now on every save that changes them keeps it."""


def execute():
	from aftersales_dms.analytics.technician_days import rebuild

	rebuild()
