"""Writes of 评理说事 (docs/mediation.md). Every move of a mediation goes through `mediation_move`,
which locks the mediation's row, checks the table (`mediation.moves.MEDIATION_MOVES`), writes the
state with `cases.moves.rows_move` and records a `MediationEvent`, in one transaction."""

from contextlib import contextmanager

from django.db import transaction
from django.utils.translation import gettext as _

from cases.moves import rows_move
from mediation.models import Mediation, MediationEvent
from mediation.moves import MEDIATION_MOVES


class MoveNotAllowed(Exception):
    """The table has no such move from the mediation's state (the API answers 409)."""

    def __init__(self, action, state):
        self.action, self.state = action, state
        super().__init__(
            _("A mediation that is %(state)s cannot be moved by “%(action)s”.")
            % {"state": Mediation.State(state).label, "action": action}
        )


@contextmanager
def mediation_move(mediation, action, *, actor, note="", data=None, **changes):
    """`with mediation_move(m, "agreement", actor=...) as locked:` — the row locked and checked
    against the table first (MoveNotAllowed before anything is written); the block writes the
    move's own rows (the session, the agreement); at its end the state moves and the event is
    recorded. Keeps: one event per move, and a state only ever set by the table."""
    if action not in MEDIATION_MOVES:
        raise ValueError(f"unknown mediation move {action!r}")
    with transaction.atomic():
        locked = Mediation.objects.select_for_update().get(pk=mediation.pk)
        before = locked.state
        if before not in MEDIATION_MOVES[action].sources:
            raise MoveNotAllowed(action, before)
        yield locked
        moved = rows_move(Mediation.objects.filter(pk=locked.pk), MEDIATION_MOVES, action, **changes)
        assert moved == 1  # the row is locked: nobody moved it meanwhile
        locked.refresh_from_db()
        MediationEvent.objects.create(
            mediation=locked,
            action=action,
            from_state=before,
            to_state=locked.state,
            actor=actor,
            note=note,
            data=data or {},
        )
    mediation.refresh_from_db(fields=["state", "closed_at"])  # the caller's copy follows the row
