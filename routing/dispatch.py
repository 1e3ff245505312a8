"""Routing's writes: dispatch and re-dispatch, sign-for, return, calling other units in, and
extensions. Each is one move of the case (`cases.lifecycle.moving`, which locks the case row
once) and moves the assignment rows through `routing.assignments` inside it."""

import logging

from django.utils import timezone
from django.utils.translation import gettext as _

from cases import lifecycle
from cases.errors import InvalidInput, NotPermitted
from cases.models import Case, Category
from deadlines.policies import NoDefaultSlaPolicy, deadlines_for
from escalation.models import Supervision
from routing.assignments import assignment_create, assignment_move, assignments_move
from routing.models import Assignment, AutoRouteAttempt, ExtensionRequest, ReturnReason
from routing.rules import route_for
from routing.selectors import supervision_acting_for
from units.models import Pairing, Unit
from units.permissions import is_dispatcher
from units.selectors import postings_for

logger = logging.getLogger(__name__)

# Units that hand out or supervise work but never take a case as its lead.
NOT_LEAD_KINDS = (Unit.Kind.CENTRE, Unit.Kind.LEADERSHIP, Unit.Kind.AGENCY)
NOT_ASSISTING_KINDS = (Unit.Kind.CENTRE, Unit.Kind.LEADERSHIP)


def is_member(actor, unit) -> bool:
    return actor is not None and any(code == unit.code for code, *_rest in postings_for(actor).units)


def lead_assignment(case) -> Assignment | None:
    """The lead unit's current assignment (waiting or signed), if any."""
    return (
        Assignment.objects.filter(case=case, role=Assignment.Role.LEAD, state__in=Assignment.ACTIVE_STATES)
        .select_related("unit", "unit__parent")
        .first()
    )


def check_can_lead(unit, *, grid_code, field="unit"):
    """Refuse (400 on `field`) a unit that cannot lead a case in the grid `grid_code`: inactive, a
    kind that never leads, or a committee or street office of another place."""
    if not unit.is_active or unit.kind in NOT_LEAD_KINDS:
        raise InvalidInput(_("%(unit)s does not take cases as the lead unit.") % {"unit": unit.name}, field)
    if unit.kind == Unit.Kind.COMMITTEE and unit.region.code != grid_code[:12]:
        raise InvalidInput(_("%(unit)s does not serve the case's community.") % {"unit": unit.name}, field)
    if unit.kind == Unit.Kind.STREET_OFFICE and unit.region.code != grid_code[:9]:
        raise InvalidInput(_("%(unit)s does not serve the case's street.") % {"unit": unit.name}, field)


def _check_may_route(actor, case, unit, current):
    """Dispatchers route anything; a street office may pass its own case down to one of its
    communities (分级办理); a unit supervising the case (督办) may give it to another unit."""
    if is_dispatcher(actor):
        return
    if current is not None and supervision_acting_for(actor, case) is not None:
        return
    passing_down = (
        current is not None
        and current.unit.kind == Unit.Kind.STREET_OFFICE
        and is_member(actor, current.unit)
        and unit.kind == Unit.Kind.COMMITTEE
        and unit.parent_id == current.unit_id
    )
    if not passing_down:
        raise NotPermitted(
            _(
                "Only a dispatcher, a street office passing its case to its community, or a unit "
                "supervising the case may do this."
            )
        )


def case_dispatch(*, case, unit, actor=None, reason="", rule=None, redispatch=False) -> Assignment:
    """Give the case to `unit` as its lead, with deadlines from its SLA policy.

    `actor=None` is the routing rules' automatic dispatch. A re-dispatch (改派) withdraws the
    current lead assignment in the same transaction; a first dispatch of a case someone else
    has just dispatched is refused by the lifecycle (409), never applied twice.
    """
    unit = Unit.objects.select_related("region").get(pk=unit.pk)
    action = "redispatch" if redispatch else "dispatch"
    data = {"unit": unit.code, "rule": rule.pk if rule else None, "automatic": actor is None}
    with lifecycle.moving(case, action, actor, note=reason, data=data) as move:
        case = move.case
        check_can_lead(unit, grid_code=case.grid_id)
        current = lead_assignment(case) if redispatch else None
        if actor is not None:
            _check_may_route(actor, case, unit, current)
        if current is not None and current.unit_id == unit.pk:
            raise InvalidInput(_("The case is already with %(unit)s.") % {"unit": unit.name}, "unit")
        if current is not None:
            # The unit the case is taken from hears of it (notices/table.py).
            move.data["from_unit"] = current.unit.code
        # Before the new lead is written: a case a colleague has just dispatched is refused here.
        move.check()
        now = timezone.now()
        assignment = lead_replace(
            case=case,
            unit=unit,
            actor=actor,
            rule=rule,
            reason=reason,
            now=now,
            deadlines=deadlines_for(case=case, at=now),
        )
    return assignment


def lead_replace(*, case, unit, actor, rule, reason, now, deadlines) -> Assignment:
    """Give the case to `unit` as its new lead, inside a move of the case that holds its lock
    (a dispatch, a re-dispatch, a re-route after a reclassification).

    The new lead starts afresh: the old lead's and its helpers' parts end here (withdrawn), and
    with them any supervision of the old lead; the new lead's deadlines are `deadlines`."""
    assignments_move(Assignment.objects.filter(case=case), "withdraw", now=now)
    Supervision.objects.filter(case=case, ended_at__isnull=True).update(ended_at=now)
    return assignment_create(
        case=case,
        unit=unit,
        role=Assignment.Role.LEAD,
        dispatched_at=now,
        dispatched_by=actor,
        rule=rule,
        note=reason,
        **deadlines,
    )


def case_route_auto(*, case_id) -> Assignment | None:
    """Dispatch a registered case by the routing rules. Without a rule the case stays with the
    centre's dispatchers. Safe to run twice and alongside a dispatcher: only a case still
    `registered` is touched, and the lifecycle refuses a second dispatch."""
    case = Case.objects.select_related("category", "grid").filter(pk=case_id, status=Case.Status.REGISTERED).first()
    if case is None:
        return None
    decision = route_for(category=case.category, grid=case.grid)
    assignment, outcome = None, "no rule: left to the dispatchers"
    if decision.unit is not None:
        try:
            assignment = case_dispatch(
                case=case, unit=decision.unit, rule=decision.rule, reason=str(decision.explanation)
            )
            outcome = f"dispatched to {decision.unit.code}"
        except lifecycle.TransitionNotAllowed:
            outcome = "already dispatched"
        except (InvalidInput, NoDefaultSlaPolicy) as error:
            # A rule naming a unit that cannot lead, or no SLA policy: the case stays for the
            # dispatchers, and the reason is kept for whoever fixes the configuration.
            logger.warning("automatic dispatch of %s refused: %s", case.number, error)
            outcome = f"refused: {error}"[:200]
    AutoRouteAttempt.objects.update_or_create(case_id=case.pk, defaults={"outcome": outcome})
    return assignment


def lead_for_actor(case, actor) -> Assignment:
    lead = lead_assignment(case)
    if lead is None or not is_member(actor, lead.unit):
        raise NotPermitted(_("Only the lead unit's staff may do this."))
    return lead


def case_sign(*, case, actor) -> Assignment:
    """The lead unit signs for the case (签收): from now on it is theirs to handle. An assisting
    unit signs for its own part the same way; the case's status stays the lead unit's."""
    with lifecycle.moving(case, "sign", actor) as move:
        helping = next(
            (
                a
                for a in Assignment.objects.filter(
                    case=move.case, role=Assignment.Role.ASSIST, state=Assignment.State.WAITING
                ).select_related("unit")
                if is_member(actor, a.unit)
            ),
            None,
        )
        if helping is not None:
            # An assisting unit's sign-for is a move of its own (the case stays in progress).
            move.action = "assist_sign"
            part = helping
        else:
            part = lead_for_actor(move.case, actor)
        move.data["unit"] = part.unit.code
        move.check()
        return assignment_move(part, "sign")


def case_return(*, case, actor, reason, note, proposed_category="") -> Case:
    """The lead unit returns a case that is not theirs (退单), within the return window, with a
    reason from the list and a note; it goes back to the dispatchers. A case returned as wrongly
    classified may carry the category the unit proposes (the code of an active kind): the
    dispatcher accepts it in one click (`routing.reclassify`)."""
    with lifecycle.moving(case, "return", actor, note=note) as move:
        lead = lead_for_actor(move.case, actor)
        if reason not in ReturnReason.values:
            raise InvalidInput(_("Choose a reason for the return."), "reason")
        if not note.strip():
            raise InvalidInput(_("Say why the case is returned."), "note")
        proposed = _proposed_category(move.case, reason, proposed_category)
        now = timezone.now()
        if lead.return_until and now > lead.return_until:
            raise InvalidInput(
                _("The return window closed at %(time)s; resolve the case or ask for an extension.")
                % {"time": timezone.localtime(lead.return_until).strftime("%Y-%m-%d %H:%M")},
                "reason",
            )
        move.check()
        move.data.update(reason=reason, unit=lead.unit.code)
        if proposed is not None:
            move.data.update(
                proposed_category=proposed.code,
                proposed_category_name=proposed.name,
                proposed_by_name=lead.unit.name,
            )
        assignment_move(lead, "return", now=now)
        # The units it called in stop with it; the dispatcher routes the case afresh.
        assignments_move(Assignment.objects.filter(case=move.case, role=Assignment.Role.ASSIST), "withdraw", now=now)
    return move.case


def category_to_choose(code, *, field) -> Category:
    """The category of `code` if a case may be given it (an active kind, as at intake: never a
    class); otherwise InvalidInput on `field`, saying which of the two it is."""
    category = Category.objects.filter(code=code).select_related("parent").first()
    if category is None:
        raise InvalidInput(_("Unknown category %(code)s.") % {"code": code}, field)
    if not category.is_active or category.parent_id is None:
        raise InvalidInput(
            _("%(category)s cannot be chosen: choose an active kind of request.") % {"category": category.name}, field
        )
    return category


def _proposed_category(case, reason, code) -> Category | None:
    """The category a returning unit proposes, checked: only with the reason "wrongly
    classified", an active kind (not a class), not the case's own."""
    code = (code or "").strip()
    if not code:
        return None
    if reason != ReturnReason.WRONG_CATEGORY:
        raise InvalidInput(
            _("Propose a category only when the case is returned as wrongly classified."), "proposed_category"
        )
    category = category_to_choose(code, field="proposed_category")
    if category.pk == case.category_id:
        raise InvalidInput(_("That is the case's category already."), "proposed_category")
    return category


def _check_may_call_in(lead_unit, unit):
    if not unit.is_active or unit.kind in NOT_ASSISTING_KINDS or unit.pk == lead_unit.pk:
        raise InvalidInput(_("%(unit)s cannot be called in to help.") % {"unit": unit.name}, "unit")
    if lead_unit.kind == Unit.Kind.COMMITTEE:
        paired = Pairing.objects.filter(community=lead_unit.region, agency=unit).exists()
        if not (paired or unit.kind == Unit.Kind.SOCIAL):
            raise InvalidInput(
                _("A community calls in its paired agencies or social forces; %(unit)s is neither.")
                % {"unit": unit.name},
                "unit",
            )
    elif unit.kind in Unit.TERRITORIAL and not (
        lead_unit.kind == Unit.Kind.STREET_OFFICE and unit.parent_id == lead_unit.pk
    ):
        raise InvalidInput(_("%(unit)s cannot be called in to help.") % {"unit": unit.name}, "unit")


def case_assist(*, case, unit, actor, note, due=None) -> Assignment:
    """The lead unit calls another unit in (吹哨), with a note and that unit's own deadline
    (by default the lead unit's)."""
    with lifecycle.moving(case, "assist", actor, note=note) as move:
        case = move.case
        lead = lead_for_actor(case, actor)
        unit = Unit.objects.select_related("region").get(pk=unit.pk)
        _check_may_call_in(lead.unit, unit)
        if not note.strip():
            raise InvalidInput(_("Say what help is needed."), "note")
        now = timezone.now()
        due = due or lead.resolve_due
        if due <= now:
            raise InvalidInput(_("The deadline must be in the future."), "due")
        if Assignment.objects.filter(
            case=case, unit=unit, role=Assignment.Role.ASSIST, state__in=Assignment.ACTIVE_STATES
        ).exists():
            raise InvalidInput(_("%(unit)s is already helping with this case.") % {"unit": unit.name}, "unit")
        move.check()
        move.data.update(unit=unit.code, due=due.isoformat())
        deadlines = deadlines_for(case=case, at=now)
        return assignment_create(
            case=case,
            unit=unit,
            role=Assignment.Role.ASSIST,
            requested_by=lead.unit,
            note=note,
            dispatched_at=now,
            dispatched_by=actor,
            sign_due=min(deadlines["sign_due"], due),
            resolve_due=due,
        )


def extension_request(*, case, actor, until, reason) -> ExtensionRequest:
    """The lead unit asks for a later resolution deadline, no later than the policy allows."""
    with lifecycle.moving(case, "extend", actor, note=reason) as move:
        lead = lead_for_actor(move.case, actor)
        if not reason.strip():
            raise InvalidInput(_("Say why more time is needed."), "reason")
        if until <= lead.resolve_due:
            raise InvalidInput(_("The new deadline must be later than the current one."), "until")
        if lead.extension_max_until and until > lead.extension_max_until:
            raise InvalidInput(
                _("An extension may run until %(time)s at the latest.")
                % {"time": timezone.localtime(lead.extension_max_until).strftime("%Y-%m-%d %H:%M")},
                "until",
            )
        if lead.extension_requests.filter(decision=ExtensionRequest.Decision.PENDING).exists():
            raise InvalidInput(_("An extension request is already waiting for a decision."), "until")
        move.check()
        move.data.update(until=until.isoformat(), step="asked")
        return ExtensionRequest.objects.create(
            assignment=lead, requested_until=until, reason=reason, requested_by=actor
        )


def may_decide(actor, lead) -> bool:
    if is_dispatcher(actor):
        return True
    # A street office decides for the communities under it.
    return lead.unit.kind == Unit.Kind.COMMITTEE and lead.unit.parent is not None and is_member(actor, lead.unit.parent)


def extension_decide(*, case, actor, approve, note="") -> ExtensionRequest:
    """Approve or refuse the pending extension; an approval moves the lead's deadline."""
    with lifecycle.moving(case, "extend", actor, note=note) as move:
        lead = lead_assignment(move.case)
        # Who, before whether there is anything to decide: someone who may not decide is told so
        # (403), not whether a request is waiting (400).
        if not (is_dispatcher(actor) or (lead is not None and may_decide(actor, lead))):
            raise NotPermitted(_("Only a dispatcher, or the street office over this community, may decide."))
        request = (
            lead.extension_requests.filter(decision=ExtensionRequest.Decision.PENDING).first()
            if lead is not None
            else None
        )
        if request is None:
            raise InvalidInput(_("There is no extension request waiting for a decision."), "approve")
        if not approve and not note.strip():
            raise InvalidInput(_("Say why the extension is refused."), "note")
        move.check()
        move.data.update(until=request.requested_until.isoformat(), step="approved" if approve else "refused")
        now = timezone.now()
        # Conditional update: of two people deciding at once only one changes the request.
        decided = ExtensionRequest.objects.filter(pk=request.pk, decision=ExtensionRequest.Decision.PENDING).update(
            decision=ExtensionRequest.Decision.APPROVED if approve else ExtensionRequest.Decision.REFUSED,
            decided_by=actor,
            decided_at=now,
            decision_note=note,
        )
        if not decided:
            raise lifecycle.TransitionNotAllowed("extend", move.case.status)
        if approve:
            # A new deadline: the deadline sweep looks at the assignment again at once.
            Assignment.objects.filter(pk=lead.pk).update(resolve_due=request.requested_until, next_check_at=now)
    request.refresh_from_db()
    return request
