"""The one place that changes `Assignment.state`.

`ASSIGNMENT_MOVES` says, for every move of a unit's part in a case, the states it may start from,
the state it leads to and the moment it stamps. `assignment_move()` makes a move with a
conditional UPDATE (`WHERE state IN sources`) and checks how many rows it moved, so a part that a
colleague or a sweep has just moved is refused, never moved twice; `assignment_create()` is the
only other writer of the column. The case's own move (`cases.lifecycle.moving`) holds the case
row's lock around both, so the checks a service makes before moving a part see the fresh state.

    waiting ──sign──▶ signed ──finish──▶ done
       │                 │
       ├──return─────────┤──▶ returned     (the lead gives the case back to the dispatchers)
       └──withdraw───────┴──▶ withdrawn    (re-dispatched elsewhere, merged, the lead returned)
"""

from typing import NamedTuple

from django.db.models import QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.lifecycle import TransitionNotAllowed
from routing.models import Assignment

A = Assignment.State


class AssignmentMove(NamedTuple):
    sources: frozenset
    target: str
    stamps: tuple  # the moments the move writes: `signed_at`, `finished_at`


def _now(now):
    return now


def _unless_set(now):
    return Coalesce("signed_at", Value(now))


ACTIVE = frozenset(Assignment.ACTIVE_STATES)
ASSIGNMENT_MOVES = {
    "sign": AssignmentMove(frozenset({A.WAITING}), A.SIGNED, (("signed_at", _now),)),
    "return": AssignmentMove(ACTIVE, A.RETURNED, (("finished_at", _now),)),
    # The lead unit's resolution ends every active part of the case.
    "finish": AssignmentMove(ACTIVE, A.DONE, (("finished_at", _now),)),
    # An assisting unit reports its own part done; it may do so without signing for it first,
    # and then counts as having signed when it reported.
    "report": AssignmentMove(ACTIVE, A.DONE, (("finished_at", _now), ("signed_at", _unless_set))),
    "withdraw": AssignmentMove(ACTIVE, A.WITHDRAWN, (("finished_at", _now),)),
}


class AssignmentMoveRefused(TransitionNotAllowed):
    """The part is no longer in a state the move starts from (someone moved it first); answered
    like any move the lifecycle refuses (409)."""

    def __init__(self, action, assignment):
        self.action, self.status, self.assignment = action, assignment.state, assignment
        Exception.__init__(self, _("Someone has just changed this unit's part in the case; reload the page."))


def _stamps(move, now) -> dict:
    return {name: stamp(now) for name, stamp in move.stamps}


def assignment_move(assignment: Assignment, action, *, now=None, **changes) -> Assignment:
    """Move one part by `action`, writing `changes` in the same UPDATE. Raises
    AssignmentMoveRefused when its state no longer allows the move. Returns the fresh row."""
    move = ASSIGNMENT_MOVES[action]
    moved = Assignment.objects.filter(pk=assignment.pk, state__in=move.sources).update(
        state=move.target, **_stamps(move, now or timezone.now()), **changes
    )
    if moved != 1:
        raise AssignmentMoveRefused(action, assignment)
    assignment.refresh_from_db()
    return assignment


def assignments_move(assignments: QuerySet, action, *, now=None) -> int:
    """Move every part of `assignments` the move applies to (the others are left as they are),
    e.g. every active part of a case when it is re-dispatched. Returns how many moved."""
    move = ASSIGNMENT_MOVES[action]
    return assignments.filter(state__in=move.sources).update(state=move.target, **_stamps(move, now or timezone.now()))


def assignment_create(*, signed=False, **fields) -> Assignment:
    """A new part, waiting to be signed for, or already signed (a redo goes straight back to
    the unit that resolved the case)."""
    if signed:
        fields.setdefault("signed_at", timezone.now())
    return Assignment.objects.create(state=A.SIGNED if signed else A.WAITING, **fields)
