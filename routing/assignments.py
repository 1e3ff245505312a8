"""The one place that changes `Assignment.state`.

`ASSIGNMENT_MOVES` says, for every move of a unit's part in a case, the states it may start from,
the state it leads to and the moment it stamps (the pattern of `cases.moves`). `assignment_move()`
makes a move with a conditional UPDATE (`WHERE state IN sources`) and checks how many rows it moved, so a part that a
colleague or a sweep has just moved is refused, never moved twice; `assignment_create()` is the
only other writer of the column. The case's own move (`cases.lifecycle.moving`) holds the case
row's lock around both, so the checks a service makes before moving a part see the fresh state.

    waiting ──sign──▶ signed ──finish──▶ done
       │                 │
       ├──return─────────┤──▶ returned     (the lead gives the case back to the dispatchers)
       └──withdraw───────┴──▶ withdrawn    (re-dispatched elsewhere, merged, the lead returned)
"""

from django.db.models import QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.lifecycle import TransitionNotAllowed
from cases.moves import RowMove, rows_move, stamp_now
from routing.models import Assignment

A = Assignment.State


def _unless_set(now):
    return Coalesce("signed_at", Value(now))


ACTIVE = frozenset(Assignment.ACTIVE_STATES)
ASSIGNMENT_MOVES = {
    "sign": RowMove(frozenset({A.WAITING}), A.SIGNED, (("signed_at", stamp_now),)),
    "return": RowMove(ACTIVE, A.RETURNED, (("finished_at", stamp_now),)),
    # The lead unit's resolution ends every active part of the case.
    "finish": RowMove(ACTIVE, A.DONE, (("finished_at", stamp_now),)),
    # An assisting unit reports its own part done; it may do so without signing for it first,
    # and then counts as having signed when it reported.
    "report": RowMove(ACTIVE, A.DONE, (("finished_at", stamp_now), ("signed_at", _unless_set))),
    "withdraw": RowMove(ACTIVE, A.WITHDRAWN, (("finished_at", stamp_now),)),
}


class AssignmentMoveRefused(TransitionNotAllowed):
    """The part is no longer in a state the move starts from (someone moved it first); answered
    like any move the lifecycle refuses (409)."""

    def __init__(self, action, assignment):
        self.action, self.status, self.assignment = action, assignment.state, assignment
        Exception.__init__(self, _("Someone has just changed this unit's part in the case; reload the page."))


def assignment_move(assignment: Assignment, action, *, now=None, **changes) -> Assignment:
    """Move one part by `action`, writing `changes` in the same UPDATE. Raises
    AssignmentMoveRefused when its state no longer allows the move. Returns the fresh row."""
    moved = rows_move(Assignment.objects.filter(pk=assignment.pk), ASSIGNMENT_MOVES, action, now=now, **changes)
    if moved != 1:
        raise AssignmentMoveRefused(action, assignment)
    assignment.refresh_from_db()
    return assignment


def assignments_move(assignments: QuerySet, action, *, now=None) -> int:
    """Move every part of `assignments` the move applies to (the others are left as they are),
    e.g. every active part of a case when it is re-dispatched. Returns how many moved."""
    return rows_move(assignments, ASSIGNMENT_MOVES, action, now=now)


def assignment_create(*, signed=False, **fields) -> Assignment:
    """A new part, waiting to be signed for, or already signed (a redo goes straight back to
    the unit that resolved the case)."""
    if signed:
        fields.setdefault("signed_at", timezone.now())
    return Assignment.objects.create(state=A.SIGNED if signed else A.WAITING, **fields)
