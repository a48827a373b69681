"""The job card's states: the one definition of open and closed, used by every stage.

The job card is the workshop's (workshop/status.py moves it through the editable Workflow and
guards each move); the states are named here, below every stage, so that booking (a vehicle's
open job, a recall already on a job) and reception read them without importing the workshop.
"""

WORKFLOW = "Service Job Card"
INITIAL = "Open"
AWAITING_APPROVAL = "Awaiting Approval"
QUALITY_CHECK = "Quality Check"
READY = "Ready for Pickup"
DELIVERED = "Delivered"
RELEASED = "Released"  # handed back without the work: the customer declined it
CANCELLED = "Cancelled"
# The statuses the code knows: the one definition of open and closed, used everywhere (lists,
# reports, board, tasks, booking). A status an OEM adds to the workflow (say Road Test between
# Quality Check and Ready for Pickup) is none of these: a checkpoint the workflow moves through,
# where no work is added and no clock runs; the guards (workshop/status.py) check facts, not the
# path taken.
ACTIVE = ("Open", "In Progress", AWAITING_APPROVAL, "Repairing")  # work is prepared or done
FINAL = (DELIVERED, RELEASED, CANCELLED)  # the job is over: read-only, off the board, no tasks
CLOSED = (READY, *FINAL)  # no more work: the vehicle waits for its owner, or the job is over
HOLDS = ("On Hold", "Waiting for Parts")
AT_WORK = ("In Progress", "Repairing")  # technicians work on the vehicle (the Technician Desk's)
WORKING = (*ACTIVE, QUALITY_CHECK, *HOLDS)  # labour may still be assigned and clocked
NOT_STARTED = (INITIAL, *HOLDS, CANCELLED)  # entering any other status starts the work
