"""The pattern every stateful object but the case follows: a table of moves and one conditional
UPDATE that makes a move.

A table maps each move to the states it may start from, the state it leads to, and the moments
it stamps (a field and how to compute it from now). `rows_move()` writes the move as
`UPDATE … SET state = target, stamps, changes WHERE <the rows> AND state IN (sources)` and
returns how many rows it moved, so a row that someone (a colleague, a sweep, a second worker)
moved first is never moved twice; the caller decides whether zero rows is a refusal or nothing
to do. The case itself moves through `cases.lifecycle.moving`, which also records an event.
Used by `routing.assignments` and the export jobs; the stateful objects still to come (volunteer
tasks, bookings, mediations, work orders) follow it.
"""

from typing import NamedTuple

from django.utils import timezone


class RowMove(NamedTuple):
    sources: frozenset
    target: str
    # (field, function of now) for each moment the move writes
    stamps: tuple = ()


def stamp_now(now):
    return now


def rows_move(rows, table, action, *, now=None, **changes) -> int:
    """Move every row of the queryset `rows` that `table[action]` may start from; returns how
    many moved."""
    move = table[action]
    now = now or timezone.now()
    stamps = {name: stamp(now) for name, stamp in move.stamps}
    return rows.filter(state__in=move.sources).update(state=move.target, **stamps, **changes)
