"""The lead unit's work on a case: contact the resident, progress notes, resolution; and an
assisting unit's report. Sign-for, return, calling in and extensions are routing's
(`routing/dispatch.py`), because they move the case between units."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import lifecycle
from cases.errors import InvalidInput, NotPermitted
from cases.models import CasePhoto
from cases.services import case_photos_add
from deadlines.policies import sla_policy_for
from deadlines.worktime import WorkCalendar
from handling.models import ContactMethod, ResultKind
from routing.assignments import assignment_move, assignments_move
from routing.dispatch import NOT_ASSISTING_KINDS, is_member, lead_for_actor
from routing.models import Assignment
from units.selectors import postings_for


def _check_works_somewhere(move):
    """Check the move before checking who makes it. Of two people acting at once the second
    waits for the case's lock; if the first one's move (a resolution) ended the second one's
    assignment, the second is told the move is no longer possible, not that they may not act.
    Someone who works in no unit that handles cases (a dispatcher, a district official, a grid
    worker) may never make the move: they are refused as such (403) whatever the status, not
    told that the status forbids it (409)."""
    if not move.allowed:
        if not any(kind not in NOT_ASSISTING_KINDS for _code, kind, *_rest in postings_for(move.actor).units):
            raise NotPermitted(_("Only the units working on this case may add to it."))
        move.check()


def case_contact(*, case, actor, method, contacted_at=None, agreed="") -> Assignment:
    """Record contact with the resident (联系): how, when, what was agreed. The first contact
    meets the first-contact deadline."""
    with lifecycle.moving(case, "contact", actor, note=agreed) as move:
        _check_works_somewhere(move)
        lead = lead_for_actor(move.case, actor)
        if method not in ContactMethod.values:
            raise InvalidInput(_("Choose how the resident was contacted."), "method")
        if not agreed.strip():
            raise InvalidInput(_("Write down what was agreed with the resident."), "agreed")
        now = timezone.now()
        contacted_at = contacted_at or now
        if contacted_at > now + timezone.timedelta(minutes=5):
            raise InvalidInput(_("The contact cannot be in the future."), "contacted_at")
        if contacted_at < lead.dispatched_at:
            # A contact before the unit had the case cannot meet its first-contact deadline.
            raise InvalidInput(_("The contact cannot be before the case reached your unit."), "contacted_at")
        move.data.update(method=method, at=contacted_at.isoformat(), unit=lead.unit.code)
        # Only the first contact counts for the deadline; later ones are on the timeline.
        Assignment.objects.filter(pk=lead.pk, contacted_at__isnull=True).update(contacted_at=contacted_at)
    lead.refresh_from_db()
    return lead


def case_note(*, case, actor, text, photos=()) -> None:
    """A progress note, with photos, by anyone working on the case (lead or assisting unit)."""
    if not text.strip():
        raise InvalidInput(_("Write the note."), "text")
    with lifecycle.moving(case, "note", actor, note=text) as move:
        _check_works_somewhere(move)
        move.data["units"] = _working_units(move.case, actor)
        case_photos_add(case=move.case, actor=actor, images=photos, stage=CasePhoto.Stage.PROGRESS)


def _working_units(case, actor) -> list[str]:
    codes = [
        code
        for code in Assignment.objects.filter(case=case, state__in=Assignment.ACTIVE_STATES).values_list(
            "unit__code", flat=True
        )
        if code in {mine for mine, *_rest in postings_for(actor).units}
    ]
    if not codes:
        raise NotPermitted(_("Only the units working on this case may add to it."))
    return codes


def case_resolve(*, case, actor, result_kind, result, photos=()) -> Assignment:
    """The lead unit reports the result (办结): solved, explained, or cannot be solved with the
    reason. The case waits for the resident's verdict; assisting units' parts end with it."""
    # The resident's SMS goes into the outbox in the same transaction as the move's event.
    with transaction.atomic(), lifecycle.moving(case, "resolve", actor, note=result) as move:
        _check_works_somewhere(move)
        case = move.case
        lead = lead_for_actor(case, actor)
        if result_kind not in ResultKind.values:
            raise InvalidInput(_("Choose how the case ended."), "result_kind")
        if not result.strip():
            raise InvalidInput(_("Describe the result."), "result")
        move.data.update(result_kind=result_kind, unit=lead.unit.code)
        now = timezone.now()
        # The centre calls the resident back within the policy's callback limit (by default the
        # next working day); the callback queue orders on this.
        policy = sla_policy_for(category=case.category, priority=case.priority)
        calendar = WorkCalendar.load()
        assignments_move(Assignment.objects.filter(case=case).exclude(pk=lead.pk), "finish", now=now)
        assignment_move(
            lead,
            "finish",
            now=now,
            callback_due=calendar.add(now, *policy.limit("callback")),
            handling_seconds=calendar.working_seconds_between(lead.dispatched_at, now),
        )
        case_photos_add(case=case, actor=actor, images=photos, stage=CasePhoto.Stage.EVIDENCE)
    return lead


def assist_report(*, case, actor, text) -> Assignment:
    """An assisting unit reports its part done, with what it did."""
    with lifecycle.moving(case, "note", actor, note=text) as move:
        _check_works_somewhere(move)
        assignment = (
            Assignment.objects.filter(case=move.case, role=Assignment.Role.ASSIST, state__in=Assignment.ACTIVE_STATES)
            .select_related("unit")
            .order_by("dispatched_at")
        )
        mine = next((a for a in assignment if is_member(actor, a.unit)), None)
        if mine is None:
            raise NotPermitted(_("Only an assisting unit's staff may report its part."))
        if not text.strip():
            raise InvalidInput(_("Say what your unit did."), "text")
        move.data["assist_done"] = mine.unit.code
        return assignment_move(mine, "report")
