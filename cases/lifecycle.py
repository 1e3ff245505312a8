"""The one place that changes `Case.status`.

`TRANSITIONS` says, for every move, the statuses it may start from and the status it leads to
(None: the status stays, the move is only recorded). A service makes a move inside `moving()`,
which locks the case row once, lets the service check who acts and write its own rows, then
checks the table and records the event; the pages and the API offer the moves
`allowed_actions()` lists, so they cannot disagree with the services.

A move is recorded as a `CaseEvent` whose action is the move's `event` (by default its own name):
the three ways a case closes are three moves, all recorded as "close", so that the metrics and
the timeline count one kind of closure event.
"""

import datetime
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db import transaction
from django.dispatch import Signal
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
    event: str = ""  # the CaseEvent action it is recorded as, when not the move's own name


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
    # Three ways to close, recorded alike: a dispatcher closes a call that is no real request
    # (invalid, out of scope) before a unit has it; a dispatcher closes a resolved case the
    # resident is not content with by an exemption (免责); the resident's verdict (or the
    # unanswered callbacks) closes a resolved case.
    "close_invalid": Move(frozenset({S.REGISTERED, S.RETURNED}), S.CLOSED, "close"),
    "exempt": Move(frozenset({S.RESOLVED}), S.CLOSED, "close"),
    "close": Move(frozenset({S.RESOLVED}), S.CLOSED),
    "reveal_phone": Move(_ANY, None),
    # Escalation (escalation/services.py): recorded on the case, the status stays.
    "deadline_warning": Move(_OPEN, None),
    "overdue": Move(_OPEN, None),
    "chase": Move(_OPEN, None),
    "notice": Move(_OPEN, None),
    "supervise": Move(_OPEN, None),
    "urge": Move(_OPEN, None),
    "set_deadline": Move(frozenset({S.DISPATCHED, S.IN_PROGRESS}), None),
    # Volunteers (volunteers/tasks.py): a task published from the case, and its work confirmed;
    # recorded on the case, whose lead unit still resolves it. The work may be confirmed after
    # the case has closed (the volunteers came; their hours are still credited).
    "task_publish": Move(_OPEN, None),
    "task_done": Move(_ANY, None),
    # 评理说事 (mediation/services.py): an open case not yet resolved sent to a mediation point by
    # a dispatcher, or by the lead unit holding it (its status stays; an agreement resolves it,
    # taking it up as the system first when nobody has signed for it), and a mediation's end
    # that did not resolve it (no agreement, referred out, an agreement after the case had moved
    # on), with the record.
    "mediate": Move(frozenset({S.REGISTERED, S.DISPATCHED, S.RETURNED, S.IN_PROGRESS}), None),
    "mediation_end": Move(_ANY, None),
    # 议事会 (mediation/councils.py): the case sent to a council ("the residents must decide"), and
    # the council's decision on it (settled by the council); the lead unit still resolves it.
    "council": Move(_OPEN, None),
    "council_settled": Move(_OPEN, None),
    # A dispatcher corrects the category or the grid (routing/reclassify.py): the status stays,
    # unless the rules now give the case to another unit than the one holding it, which is a
    # re-route (the old unit withdrawn, the new one dispatched), recorded as a reclassification too.
    "reclassify": Move(_OPEN, None),
    "reroute": Move(frozenset({S.DISPATCHED, S.IN_PROGRESS}), S.DISPATCHED, "reclassify"),
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
    "close_invalid": pgettext_lazy("case event", "closed as no real request"),
    "exempt": pgettext_lazy("case event", "closed with an exemption"),
    "reveal_phone": pgettext_lazy("case event", "caller's phone revealed"),
    "deadline_warning": pgettext_lazy("case event", "deadline warning (yellow light)"),
    "overdue": pgettext_lazy("case event", "overdue (red light)"),
    "chase": pgettext_lazy("case event", "chase notice"),
    "notice": pgettext_lazy("case event", "formal notice"),
    "supervise": pgettext_lazy("case event", "supervision started"),
    "urge": pgettext_lazy("case event", "urged by the supervisor"),
    "set_deadline": pgettext_lazy("case event", "new deadline set by the supervisor"),
    "task_publish": pgettext_lazy("case event", "volunteer task published"),
    "task_done": pgettext_lazy("case event", "volunteer task done"),
    "mediate": pgettext_lazy("case event", "sent to mediation"),
    "mediation_end": pgettext_lazy("case event", "mediation ended"),
    "council": pgettext_lazy("case event", "sent to the residents' council"),
    "council_settled": pgettext_lazy("case event", "settled by the council"),
    "reclassify": pgettext_lazy("case event", "reclassified"),
    "reroute": pgettext_lazy("case event", "reclassified and re-routed"),
}


# Sent with `event=` after every move is recorded, inside the move's transaction: whoever must
# hear about a move (notices/table.py) writes it in the same transaction, so a notice exists if
# and only if its move committed. Receivers must not fail the move for a reason of their own.
case_moved = Signal()
# The same for many moves recorded at once (`apply_many`, the deadline sweep), sent with
# `events=`: every receiver of `case_moved` receives these too, reading what it needs for all of
# them together (tests/cases/test_lifecycle_many.py holds the two lists of receivers alike).
cases_moved = Signal()


class TransitionNotAllowed(Exception):
    """The lifecycle does not allow this action from the case's current status."""

    def __init__(self, action, status):
        self.action, self.status = action, status
        label = dict(Case.Status.choices).get(status, status)
        super().__init__(
            _("“%(action)s” is not possible while the case is %(status)s.")
            % {"action": ACTION_LABELS.get(action, action), "status": label}
        )


# An extension is one action with three steps (its event's `step`): each is named on the
# timeline, with the deadline asked for or given, so that a decision reads as one.
EXTENSION_STEPS = {
    "asked": pgettext_lazy("case event", "extension asked"),
    "approved": pgettext_lazy("case event", "extension approved"),
    "refused": pgettext_lazy("case event", "extension refused"),
}


def case_events(case):
    """The case's events, bounded below by its registration (no event comes before it: the open
    event is written after the case, and the generator writes both at the call's moment). The
    events are partitioned by month of `at` (cases/partitions.py) and the bound lets PostgreSQL
    leave out the months before the case, instead of probing every month's index."""
    return case.events.filter(at__gte=case.created_at)


def timeline(case):
    """The case's events in order, each with `label`: the name a person reads, and `words`: what
    its data says, for the events whose data a person must read (empty for the others)."""
    events = list(case_events(case).select_related("actor").order_by("at", "id"))
    for event in events:
        event.label = event_label(event)
        event.words = _words(event)
    return events


def event_label(event) -> str:
    """The name of an event as a person reads it: an extension's step, or the action's name."""
    if event.action == "extend" and (event.data or {}).get("step") in EXTENSION_STEPS:
        return EXTENSION_STEPS[event.data["step"]]
    return ACTION_LABELS.get(event.action, event.action)


def _local(text) -> str:
    """An ISO timestamp from an event's data as the pages write a time (Shanghai, to the minute)."""
    try:
        moment = datetime.datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return str(text or "")
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _extension_words(event) -> str:
    """An extension's step in words: the deadline asked for, the new deadline given, or the
    deadline refused; then the reason given (the event's note)."""
    data = event.data or {}
    step = data.get("step")
    if step not in EXTENSION_STEPS:
        return ""
    until = _local(data.get("until"))
    if step == "asked":
        words = _("until %(time)s") % {"time": until}
    elif step == "approved":
        words = _("new resolution deadline %(time)s") % {"time": until}
    else:
        words = _("%(time)s was not granted; the deadline stays") % {"time": until}
    return f"{words}; {event.note}" if event.note else str(words)


def _words(event) -> str:
    """A reclassification in words, from what its event recorded (names included, so that the
    timeline reads no other row): category A → B, grid X → Y, the units, the reason. An
    extension's step, or a supervisor's new deadline, with the deadline."""
    if event.action == "extend":
        return _extension_words(event)
    if event.action == "set_deadline" and (event.data or {}).get("until"):
        words = _("resolution deadline %(from)s → %(to)s") % {
            "from": _local(event.data.get("from")),
            "to": _local(event.data["until"]),
        }
        return f"{words}; {event.note}" if event.note else str(words)
    if event.action != "reclassify":
        return ""
    data = event.data or {}
    parts = []
    if data.get("from_category") != data.get("to_category"):
        parts.append(
            _("category %(from)s → %(to)s")
            % {"from": data.get("from_category_name", ""), "to": data.get("to_category_name", "")}
        )
    if data.get("from_grid") != data.get("to_grid"):
        parts.append(
            _("grid %(from)s → %(to)s")
            % {
                "from": data.get("from_grid_name") or data.get("from_grid", ""),
                "to": data.get("to_grid_name") or data.get("to_grid", ""),
            }
        )
    if "to_address" in data:
        parts.append(
            _("address %(from)s → %(to)s") % {"from": data.get("from_address") or "—", "to": data["to_address"] or "—"}
        )
    if data.get("unit"):
        parts.append(
            _("re-routed from %(from)s to %(to)s")
            % {"from": data.get("from_unit_name", ""), "to": data.get("unit_name", "")}
        )
    if data.get("reason"):
        parts.append(_("reason: %(reason)s") % {"reason": data["reason"]})
    return "; ".join(str(part) for part in parts)


def allowed_actions(status) -> list[str]:
    """Every action the table allows from `status`, in the table's order."""
    return [action for action, move in TRANSITIONS.items() if status in move.sources and action != "open"]


def is_allowed(action, status) -> bool:
    move = TRANSITIONS.get(action)
    return move is not None and status in move.sources


@dataclass
class CaseMove:
    """A move under way (see `moving`): the locked case, and what the event will record. The
    service may add to `note`, `data` and `changes` (other fields of the case written in the same
    UPDATE) until the block ends; `event` is set then."""

    case: Case
    action: str
    actor: object
    note: str = ""
    data: dict = field(default_factory=dict)
    changes: dict = field(default_factory=dict)
    event: CaseEvent | None = None

    @property
    def allowed(self) -> bool:
        return self.case.status in TRANSITIONS[self.action].sources

    def check(self):
        """Refuse the move now if the table does not allow it from the case's status. The end of
        the block checks too; a service calls this first when a write of its own (a new lead
        assignment) must not happen for a move the table refuses."""
        if not self.allowed:
            raise TransitionNotAllowed(self.action, self.case.status)


@contextmanager
def moving(case, action, actor, *, note="", data=None, changes=None):
    """Make the move `action` on `case`, in one transaction that locks the case row once:

        with lifecycle.moving(case, "return", actor, note=note) as move:
            lead = lead_for_actor(move.case, actor)      # who acts: 403 before 409
            assignment_move(lead, "return")              # the stage's own writes
            move.data["unit"] = lead.unit.code
        move.case, move.event                            # the moved case and its event

    Of two people acting at once the second waits for the lock and then sees the first one's
    result. At the end of the block the table is checked (TransitionNotAllowed, and everything
    the block wrote is rolled back), the status and `changes` are saved and the event written.
    An exception in the block records nothing.
    """
    if action not in TRANSITIONS:
        raise TransitionNotAllowed(action, case.status)
    with transaction.atomic():
        locked = _lock(case)
        move = CaseMove(locked, action, actor, note, dict(data or {}), dict(changes or {}))
        yield move
        move.check()
        move.event = _record(move)


# How often a move reads its case again when a reclassification committed while it waited.
LOCK_ATTEMPTS = 3


def _lock(case) -> Case:
    """The case row, locked, with its category and grid.

    Only the case row is locked (`of`): the category and grid read with it are shared by every
    case of their kind and place. A move that waited for the lock while another one changed the
    case's category or grid (a reclassification) finds no row: PostgreSQL re-checks the locked
    row's new version against the category and grid rows it had joined before it waited
    (EvalPlanQual), and drops it without locking it. Asking again, the new rows join; a case
    that really is missing stays missing."""
    query = Case.objects.select_for_update(of=("self",)).select_related("category", "grid")
    for _attempt in range(LOCK_ATTEMPTS - 1):
        try:
            return query.get(pk=case.pk)
        except Case.DoesNotExist:
            continue
    return query.get(pk=case.pk)


def _record(move) -> CaseEvent:
    locked, target = move.case, TRANSITIONS[move.action].target
    from_status = locked.status
    fields = {"updated_at"}
    for name, value in move.changes.items():
        setattr(locked, name, value)
        fields.add(name)
    if target is not None and target != from_status:
        locked.status = target
        fields.add("status")
        if target == S.CLOSED:
            locked.closed_at = timezone.now()
            fields.add("closed_at")
        elif from_status == S.CLOSED:
            locked.closed_at = None
            locked.closure_reason = ""
            fields |= {"closed_at", "closure_reason"}
    locked.save(update_fields=sorted(fields))
    computed = [name for name, value in move.changes.items() if hasattr(value, "resolve_expression")]
    if computed:
        # An F() expression was written by the database; read back what it computed.
        locked.refresh_from_db(fields=computed)
    event = CaseEvent.objects.create(
        case=locked,
        action=TRANSITIONS[move.action].event or move.action,
        from_status=from_status,
        to_status=locked.status,
        actor=move.actor,
        note=move.note,
        data=move.data,
    )
    case_moved.send(sender=CaseEvent, event=event)
    return event


def apply(*, case, action, actor, note="", data=None, changes=None) -> tuple[Case, CaseEvent]:
    """A move with nothing else to write: `moving` with an empty block. Returns the fresh case
    and its new event."""
    with moving(case, action, actor, note=note, data=data, changes=changes) as move:
        pass
    return move.case, move.event


def record_open(*, case, actor, note="", data=None) -> CaseEvent:
    """The first event of a case, written in the transaction that created it."""
    event = CaseEvent.objects.create(
        case=case, action="open", from_status="", to_status=case.status, actor=actor, note=note, data=data or {}
    )
    case_moved.send(sender=CaseEvent, event=event)
    return event


def apply_many(moves) -> list[CaseEvent]:
    """Many moves that keep the status, by the system (no actor), on cases the caller has locked
    already (`select_for_update`, in its transaction): the deadline sweep's stages. `moves` is a
    list of (case, action, data). The table is checked for each (TransitionNotAllowed, and nothing
    is written); the events are written in one INSERT and the cases' `updated_at` in one UPDATE,
    then `cases_moved` tells the receivers of all of them at once. Returns the events, in order."""
    for case, action, _data in moves:
        move = TRANSITIONS.get(action)
        if move is None or move.target is not None or case.status not in move.sources:
            raise TransitionNotAllowed(action, case.status)
    if not moves:
        return []
    now = timezone.now()
    cases = {case.pk: case for case, _action, _data in moves}
    Case.objects.filter(pk__in=list(cases)).update(updated_at=now)
    for case in cases.values():
        case.updated_at = now
    events = CaseEvent.objects.bulk_create(
        CaseEvent(
            case=case,
            action=TRANSITIONS[action].event or action,
            from_status=case.status,
            to_status=case.status,
            actor=None,
            data=data,
        )
        for case, action, data in moves
    )
    cases_moved.send(sender=CaseEvent, events=events)
    return events
