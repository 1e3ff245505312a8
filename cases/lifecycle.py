"""The one place that changes `Case.status`.

`TRANSITIONS` says, for every action, the statuses it may start from and the status it leads to
(None: the status stays, the action is only recorded). The services call `apply()`; the pages
and the API read the same table to decide which actions to offer, so they cannot disagree.
"""

from typing import NamedTuple

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cases.models import Case, CaseEvent

S = Case.Status
_OPEN = frozenset({S.REGISTERED, S.DISPATCHED, S.IN_PROGRESS, S.RETURNED, S.RESOLVED})
_ANY = _OPEN | {S.CLOSED}


class Move(NamedTuple):
    sources: frozenset
    target: str | None


TRANSITIONS = {
    # Opening is the event that creates the case: from nothing to registered.
    "open": Move(frozenset({""}), S.REGISTERED),
    "attach_call": Move(_OPEN, None),
    "answer": Move(frozenset({S.REGISTERED}), S.CLOSED),
    # A first dispatch and a re-dispatch (改派) are different moves, so that of two dispatchers
    # dispatching the same case at once the second is refused instead of silently re-routing.
    "dispatch": Move(frozenset({S.REGISTERED, S.RETURNED}), S.DISPATCHED),
    "redispatch": Move(frozenset({S.DISPATCHED, S.IN_PROGRESS}), S.DISPATCHED),
    "sign": Move(frozenset({S.DISPATCHED}), S.IN_PROGRESS),
    "contact": Move(frozenset({S.IN_PROGRESS}), None),
    "note": Move(_OPEN, None),
    "assist": Move(frozenset({S.IN_PROGRESS}), None),
    # An assisting unit signs for its own part; the case's status is the lead unit's.
    "assist_sign": Move(frozenset({S.IN_PROGRESS}), None),
    "extend": Move(frozenset({S.IN_PROGRESS}), None),
    "return": Move(frozenset({S.DISPATCHED, S.IN_PROGRESS}), S.RETURNED),
    "resolve": Move(frozenset({S.IN_PROGRESS}), S.RESOLVED),
    "callback": Move(frozenset({S.RESOLVED}), None),
    "verify": Move(frozenset({S.RESOLVED}), None),
    "reopen": Move(frozenset({S.RESOLVED, S.CLOSED}), S.IN_PROGRESS),
    "merge": Move(frozenset({S.REGISTERED, S.DISPATCHED, S.IN_PROGRESS, S.RETURNED}), S.CLOSED),
    "close": Move(frozenset({S.REGISTERED, S.RETURNED, S.RESOLVED}), S.CLOSED),
    "reveal_phone": Move(_ANY, None),
    # Escalation (routing/escalation.py): recorded on the case, the status stays.
    "deadline_warning": Move(_OPEN, None),
    "overdue": Move(_OPEN, None),
    "chase": Move(_OPEN, None),
    "notice": Move(_OPEN, None),
    "supervise": Move(_OPEN, None),
    "urge": Move(_OPEN, None),
    "set_deadline": Move(frozenset({S.DISPATCHED, S.IN_PROGRESS}), None),
}

# Event names, told apart from the statuses of the same word ("dispatched") by their context.
ACTION_LABELS = {
    "open": pgettext_lazy("case event", "registered"),
    "attach_call": pgettext_lazy("case event", "another call attached"),
    "answer": pgettext_lazy("case event", "answered directly"),
    "dispatch": pgettext_lazy("case event", "dispatched"),
    "redispatch": pgettext_lazy("case event", "re-dispatched"),
    "sign": pgettext_lazy("case event", "signed for"),
    "contact": pgettext_lazy("case event", "resident contacted"),
    "note": pgettext_lazy("case event", "note"),
    "assist": pgettext_lazy("case event", "assistance requested"),
    "assist_sign": pgettext_lazy("case event", "assisting unit signed for"),
    "extend": pgettext_lazy("case event", "extension"),
    "return": pgettext_lazy("case event", "returned"),
    "resolve": pgettext_lazy("case event", "resolved"),
    "callback": pgettext_lazy("case event", "callback"),
    "verify": pgettext_lazy("case event", "verified on site"),
    "reopen": pgettext_lazy("case event", "reopened"),
    "merge": pgettext_lazy("case event", "merged"),
    "close": pgettext_lazy("case event", "closed"),
    "reveal_phone": pgettext_lazy("case event", "caller's phone revealed"),
    "deadline_warning": pgettext_lazy("case event", "deadline warning (yellow light)"),
    "overdue": pgettext_lazy("case event", "overdue (red light)"),
    "chase": pgettext_lazy("case event", "chase notice"),
    "notice": pgettext_lazy("case event", "formal notice"),
    "supervise": pgettext_lazy("case event", "supervision started"),
    "urge": pgettext_lazy("case event", "urged by the supervisor"),
    "set_deadline": pgettext_lazy("case event", "new deadline set by the supervisor"),
}


class TransitionNotAllowed(Exception):
    """The lifecycle does not allow this action from the case's current status."""

    def __init__(self, action, status):
        self.action, self.status = action, status
        label = dict(Case.Status.choices).get(status, status)
        super().__init__(
            _("“%(action)s” is not possible while the case is %(status)s.")
            % {"action": ACTION_LABELS.get(action, action), "status": label}
        )


def timeline(case):
    """The case's events in order, each with `label`: the name a person reads."""
    events = list(case.events.select_related("actor").order_by("at", "id"))
    for event in events:
        event.label = ACTION_LABELS.get(event.action, event.action)
    return events


def allowed_actions(status) -> list[str]:
    """Every action the table allows from `status`, in the table's order."""
    return [action for action, move in TRANSITIONS.items() if status in move.sources and action != "open"]


def is_allowed(action, status) -> bool:
    move = TRANSITIONS.get(action)
    return move is not None and status in move.sources


def apply(*, case, action, actor, note="", data=None, changes=None) -> tuple[Case, CaseEvent]:
    """Move `case` by `action` and record it.

    Re-reads the row with FOR UPDATE, so of two people acting at once the second sees the first
    one's result and, if the move is no longer allowed, gets TransitionNotAllowed instead of
    overwriting it. `changes` are other fields written in the same UPDATE (closure reason, ...).
    Returns the fresh case and its new event.
    """
    move = TRANSITIONS.get(action)
    if move is None:
        raise TransitionNotAllowed(action, case.status)
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if locked.status not in move.sources:
            raise TransitionNotAllowed(action, locked.status)
        from_status = locked.status
        fields = {"updated_at"}
        for field, value in (changes or {}).items():
            setattr(locked, field, value)
            fields.add(field)
        if move.target is not None and move.target != from_status:
            locked.status = move.target
            fields.add("status")
            if move.target == S.CLOSED:
                locked.closed_at = timezone.now()
                fields.add("closed_at")
            elif from_status == S.CLOSED:
                locked.closed_at = None
                locked.closure_reason = ""
                fields |= {"closed_at", "closure_reason"}
        locked.save(update_fields=sorted(fields))
        computed = [field for field, value in (changes or {}).items() if hasattr(value, "resolve_expression")]
        if computed:
            # An F() expression was written by the database; read back what it computed.
            locked.refresh_from_db(fields=computed)
        event = CaseEvent.objects.create(
            case=locked,
            action=action,
            from_status=from_status,
            to_status=locked.status,
            actor=actor,
            note=note,
            data=data or {},
        )
    return locked, event


def record_open(*, case, actor, note="", data=None) -> CaseEvent:
    """The first event of a case, written in the transaction that created it."""
    return CaseEvent.objects.create(
        case=case, action="open", from_status="", to_status=case.status, actor=actor, note=note, data=data or {}
    )
