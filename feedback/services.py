"""The end of the loop (反馈评价): the callback and the resident's verdict, on-site verification,
reopening (重办), exemptions and closure.

A round starts when the lead unit resolves the case. It ends, with the case's status moved by
`cases.lifecycle`, in one of four ways:
- closed as satisfied: the resident says it is solved and is (basically) satisfied, and, for a
  category that requires it, the grid worker has confirmed the result on site;
- reopened to the same lead unit with a new deadline (a redo): the resident says it is not solved
  or is not satisfied, or the grid worker rejects the result (返工), or a dispatcher reopens it;
- closed as exempted: a dispatcher decides the demand cannot or need not be met, with a reason
  and a note;
- closed as unreachable: the resident could not be reached in the configured number of attempts.

Every step is a CaseEvent whose `data` carries what the metrics count (`docs/metrics.md`).
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import lifecycle
from cases.errors import InvalidInput, NotPermitted
from cases.models import Case, CaseEvent, CasePhoto, ResidentLink
from cases.services import case_photos_add, resident_link_hash
from deadlines.models import LimitUnit
from deadlines.policies import deadlines_for
from deadlines.worktime import WorkCalendar
from feedback.models import Exemption, FeedbackSettings, Satisfaction
from routing.assignments import assignment_create
from routing.models import Assignment
from units.permissions import require_dispatcher
from units.selectors import postings_for


class Channel:
    PHONE = "phone"
    LINK = "link"


def last_lead(case) -> Assignment | None:
    """The lead assignment that resolved the case most recently (the unit a redo goes back to)."""
    return (
        Assignment.objects.filter(case=case, role=Assignment.Role.LEAD, state=Assignment.State.DONE)
        .select_related("unit")
        .order_by("-finished_at", "-id")
        .first()
    )


def round_events(case) -> list[CaseEvent]:
    """The callbacks and verifications since the case was last resolved, oldest first."""
    last_resolve = case.events.filter(action="resolve").order_by("-at", "-id").values_list("id", flat=True).first()
    if last_resolve is None:
        return []
    return list(case.events.filter(id__gt=last_resolve, action__in=("callback", "verify")).order_by("at", "id"))


def verification_state(case, events=None) -> str:
    """'not_required', 'pending', 'confirmed' for the current round."""
    if not case.category.requires_verification:
        return "not_required"
    events = round_events(case) if events is None else events
    confirmed = any(e.action == "verify" and e.data.get("confirmed") for e in events)
    return "confirmed" if confirmed else "pending"


def _positive_verdict(events) -> bool:
    return any(e.action == "callback" and e.data.get("positive") for e in events)


def _close(case, *, actor, reason, note="", data=None, action="close") -> Case:
    """Close a resolved case (the verdict's `close`, or a dispatcher's `exempt`). The event names
    the unit that last led the case, read under the case's lock unless `data` already has it."""
    with lifecycle.moving(
        case, action, actor, note=note, data={"reason": reason, **(data or {})}, changes={"closure_reason": reason}
    ) as move:
        if "unit" not in move.data:
            lead = last_lead(move.case)
            move.data["unit"] = lead.unit.code if lead else ""
        Assignment.objects.filter(case=move.case, callback_due__isnull=False).update(callback_due=None)
    return move.case


def _redo(case, *, actor, note, data) -> Assignment:
    """Reopen `case` to the unit that last led it, signed at once, with fresh deadlines from its
    SLA policy counted from now. The reopen event is what the redo rate counts."""
    with lifecycle.moving(case, "reopen", actor, note=note) as move:
        case = move.case
        move.check()
        if case.closure_reason == Case.ClosureReason.DUPLICATE and data.get("after") == "dispatcher":
            raise InvalidInput(_("A merged duplicate is reopened through the case it was merged into."), "reason")
        lead = last_lead(case)
        if lead is None:
            raise InvalidInput(_("No unit has handled this case yet, so there is no one to reopen it to."), "reason")
        Assignment.objects.filter(case=case, callback_due__isnull=False).update(callback_due=None)
        now = timezone.now()
        redo_number = Assignment.objects.filter(case=case, role=Assignment.Role.LEAD, is_redo=True).count() + 1
        move.data.update({"unit": lead.unit.code, "redo": redo_number, **data})
        deadlines = deadlines_for(case=case, at=now)
        assignment = assignment_create(
            signed=True,
            case=case,
            unit=lead.unit,
            role=Assignment.Role.LEAD,
            is_redo=True,
            dispatched_at=now,
            dispatched_by=actor,
            note=note,
            signed_at=now,
            sign_due=now,
            contact_due=deadlines["contact_due"],
            resolve_due=deadlines["resolve_due"],
            extension_max_until=deadlines["extension_max_until"],
        )
    return assignment


def case_callback(
    *,
    case,
    actor,
    reached,
    resolved=None,
    satisfaction="",
    comment="",
    exemption="",
    note="",
    channel=Channel.PHONE,
) -> Case:
    """Record one callback (回访) of a resolved case and act on the resident's verdict.

    Not reached: counted as an attempt; after the configured number the case closes as
    unreachable, otherwise the next attempt is due a little later. Reached and positive (solved,
    satisfied or basically satisfied): the case closes, unless an on-site verification is still
    pending. Reached and negative: the case is reopened to the same lead unit (a redo), or, when
    the dispatcher gives an exemption reason and a note, closed as exempted.
    `actor=None` is the resident answering through their link.
    """
    if actor is not None:
        require_dispatcher(actor)
    with transaction.atomic():
        with lifecycle.moving(case, "callback", actor, note=comment) as move:
            move.check()
            case = move.case
            lead = last_lead(case)
            unit = lead.unit.code if lead else ""
            policy = FeedbackSettings.load()
            if not reached:
                attempt = 1 + sum(1 for e in round_events(case) if e.action == "callback" and not e.data.get("reached"))
                move.data.update(reached=False, attempt=attempt, unit=unit, channel=channel)
            else:
                if resolved is None:
                    raise InvalidInput(_("Say whether the resident considers the problem solved."), "resolved")
                if satisfaction not in Satisfaction.values:
                    raise InvalidInput(_("Choose satisfied, basically satisfied or unsatisfied."), "satisfaction")
                positive = bool(resolved) and satisfaction != Satisfaction.UNSATISFIED
                if exemption and positive:
                    raise InvalidInput(_("An exemption is only for a resident who is not content."), "exemption")
                if exemption:
                    _check_exemption(exemption, note)
                move.data.update(
                    reached=True,
                    resolved=bool(resolved),
                    satisfaction=satisfaction,
                    positive=positive,
                    unit=unit,
                    channel=channel,
                )
        case = move.case
        if not reached:
            if attempt >= policy.callback_attempts:
                return _close(case, actor=actor, reason=Case.ClosureReason.UNREACHABLE, data={"unit": unit})
            retry = WorkCalendar.load().add(timezone.now(), policy.retry_after_hours, LimitUnit.WORKING_HOURS)
            Assignment.objects.filter(case=case, callback_due__isnull=False).update(callback_due=retry)
            return case
        if positive:
            Assignment.objects.filter(case=case, callback_due__isnull=False).update(callback_due=None)
            if verification_state(case) == "pending":
                return case  # closes when the grid worker confirms the result on site
            return _close(case, actor=actor, reason=Case.ClosureReason.SATISFIED, data={"unit": unit})
        if exemption:
            exempt = {"exemption": exemption, "unit": unit}
            return _close(case, actor=actor, reason=Case.ClosureReason.EXEMPTED, note=note, data=exempt)
        why = comment.strip() or _("The resident is not content with the result.")
        _redo(case, actor=actor, note=why, data={"after": "callback"})
        case.refresh_from_db()
        return case


def _check_exemption(exemption, note, field="exemption"):
    if exemption not in Exemption.values:
        raise InvalidInput(_("Choose a reason for the exemption from the list."), field)
    if not note.strip():
        raise InvalidInput(_("An exemption needs a note saying why."), "note")


def case_verify(*, case, actor, confirmed, note="", photos=()) -> Case:
    """The grid worker of the case's grid checks the result on site (核查): confirms it with a
    photo, or rejects it with a note and the case goes back to the lead unit for rework (返工)."""
    # Who, before the status: a case's grid never changes, and someone who may never verify it
    # is refused as such (403), not told the status forbids it (409).
    if case.grid_id not in postings_for(actor).grids:
        raise NotPermitted(_("Only a grid worker of the case's grid may verify it on site."))
    with transaction.atomic():
        with lifecycle.moving(case, "verify", actor, note=note) as move:
            move.check()
            case = move.case
            if not case.category.requires_verification:
                raise InvalidInput(_("This kind of case is not verified on site."), "confirmed")
            events = round_events(case)
            if verification_state(case, events) == "confirmed":
                raise InvalidInput(_("The result has already been confirmed on site."), "confirmed")
            if confirmed and not photos:
                raise InvalidInput(_("Add a photo of the result on site."), "photos")
            if not confirmed and not note.strip():
                raise InvalidInput(_("Say what is still wrong on site."), "note")
            lead = last_lead(case)
            unit = lead.unit.code if lead else ""
            move.data.update(confirmed=bool(confirmed), unit=unit)
            case_photos_add(case=case, actor=actor, images=photos, stage=CasePhoto.Stage.VERIFICATION)
        case = move.case
        if not confirmed:
            _redo(case, actor=actor, note=note, data={"after": "verification"})
        elif _positive_verdict(events):
            return _close(case, actor=actor, reason=Case.ClosureReason.SATISFIED, data={"unit": unit})
    case.refresh_from_db()
    return case


def case_reopen(*, case, actor, reason) -> Case:
    """A dispatcher reopens a resolved or closed case to the unit that last led it, with a reason.
    A duplicate reopens through the case it was merged into."""
    require_dispatcher(actor)
    if not reason.strip():
        raise InvalidInput(_("Say why the case is reopened."), "reason")
    _redo(case, actor=actor, note=reason, data={"after": "dispatcher"})
    case.refresh_from_db()
    return case


def case_close_invalid(*, case, actor, reason, note) -> Case:
    """A dispatcher closes a call that is not a real request (spam, out of scope) before a unit
    has it, with a reason and a note. A resolved case closes through the resident's verdict or an
    exemption (below)."""
    require_dispatcher(actor)
    if reason not in Case.INVALID_CLOSURE_REASONS:
        raise InvalidInput(_("Choose why the case is closed."), "reason")
    if not note.strip():
        raise InvalidInput(_("Say why the case is closed."), "note")
    case, _event = lifecycle.apply(
        case=case, action="close_invalid", actor=actor, note=note, changes={"closure_reason": reason}
    )
    return case


def case_exempt(*, case, actor, reason, note) -> Case:
    """A dispatcher closes a resolved case the resident is not content with, with an exemption
    reason from the list and a note (免责). A resident's verdict closes it otherwise."""
    require_dispatcher(actor)
    _check_exemption(reason, note, field="reason")
    return _close(
        case, actor=actor, action="exempt", reason=Case.ClosureReason.EXEMPTED, note=note, data={"exemption": reason}
    )


class LinkInvalid(Exception):
    """The resident's link is unknown, expired or already used."""


def resident_link_case(token) -> Case:
    """The case a resident's link is for, if the link still works."""
    link = (
        ResidentLink.objects.select_related("case", "case__category")
        .filter(token_hash=resident_link_hash(token))
        .first()
    )
    if link is None or link.used_at is not None or link.expires_at <= timezone.now():
        raise LinkInvalid(_("This link has expired or has already been used."))
    if not lifecycle.is_allowed("callback", link.case.status):
        raise LinkInvalid(_("Thank you: this case has already been called back."))
    return link.case


def resident_answer(*, token, resolved, satisfaction, comment="") -> Case:
    """The resident's own verdict through their single-use link. The link is spent by a
    conditional UPDATE in the same transaction as the callback, so two taps record one answer and
    a refused answer leaves the link usable."""
    if satisfaction not in Satisfaction.values:
        raise InvalidInput(_("Choose satisfied, basically satisfied or unsatisfied."), "satisfaction")
    with transaction.atomic():
        case = resident_link_case(token)
        spent = ResidentLink.objects.filter(
            token_hash=resident_link_hash(token), used_at__isnull=True, expires_at__gt=timezone.now()
        ).update(used_at=timezone.now())
        if not spent:
            raise LinkInvalid(_("This link has expired or has already been used."))
        return case_callback(
            case=case,
            actor=None,
            reached=True,
            resolved=resolved,
            satisfaction=satisfaction,
            comment=comment,
            channel=Channel.LINK,
        )
