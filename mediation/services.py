"""Writes of 评理说事 (docs/mediation.md). Every move of a mediation goes through `mediation_move`,
which locks the mediation's row, checks the table (`mediation.moves.MEDIATION_MOVES`), writes the
state with `cases.moves.rows_move` and records a `MediationEvent`, in one transaction."""

import uuid
from contextlib import contextmanager
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import phone_validator
from cases import lifecycle
from cases.errors import InvalidInput, NotPermitted
from cases.lifecycle import TransitionNotAllowed
from cases.models import Case
from cases.moves import rows_move
from cases.validators import validate_photo
from deadlines.models import LimitUnit
from deadlines.policies import NoDefaultSlaPolicy, sla_policy_for
from deadlines.worktime import WorkCalendar
from handling.models import ResultKind
from mediation.models import Agreement, Kind, Mediation, MediationEvent, Mediator, Party, Point, Session
from mediation.moves import MEDIATION_MOVES
from routing.assignments import assignment_move, assignments_move
from routing.dispatch import case_dispatch, check_can_lead, lead_assignment
from routing.models import Assignment, ExtensionRequest
from routing.rules import route_for
from units.permissions import is_dispatcher
from units.selectors import postings_for

MIN_PARTIES, MAX_PARTIES = 2, 20
MAX_TEXT = 5000
MAX_FOLLOW_UPS = 12
# States in which a mediation is over for its case (a case may be sent to mediation again).
ENDED = frozenset({Mediation.State.NO_AGREEMENT, Mediation.State.REFERRED, Mediation.State.CLOSED})


class MoveNotAllowed(TransitionNotAllowed):
    """The table has no such move from the mediation's state. A kind of the lifecycle's refusal, so
    that both doors answer it as they answer any refused move (the API 409, a page a message)."""

    def __init__(self, action, state):
        self.action, self.status, self.state = action, state, state
        Exception.__init__(
            self,
            _("A mediation that is %(state)s cannot be moved by “%(action)s”.")
            % {"state": Mediation.State(state).label, "action": action},
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


# --- who acts ------------------------------------------------------------------------------------


def _unit_codes(user) -> set[str]:
    return {code for code, *_rest in postings_for(user).units}


def works_at(user, point) -> bool:
    """A point's active mediators (with an account) and its host unit's staff work its mediations."""
    if user is None or not user.is_authenticated:
        return False
    if point.unit.code in _unit_codes(user):
        return True
    return postings_for(user).mediator and point.mediators.filter(user=user, is_active=True).exists()


def _require_works_at(actor, point):
    if not works_at(actor, point):
        raise NotPermitted(
            _("Only the mediators and the host unit's staff of %(point)s may do this.") % {"point": point.name}
        )


def _record_open(mediation, actor, note="", data=None):
    """A mediation's first event (not a move of the table: the row starts accepted)."""
    MediationEvent.objects.create(
        mediation=mediation,
        action="open",
        from_state="",
        to_state=mediation.state,
        actor=actor,
        note=note,
        data=data or {},
    )


# --- input ---------------------------------------------------------------------------------------


def _text(value, field, limit, *, required=True, label=""):
    value = (value or "").strip() if isinstance(value, str) else value
    if not isinstance(value, str):
        raise InvalidInput(_("Enter text."), field)
    if required and not value:
        raise InvalidInput(label or _("This field is required."), field)
    if len(value) > limit:
        raise InvalidInput(_("At most %(limit)d characters.") % {"limit": limit}, field)
    return value


def _clean_parties(parties) -> list[dict]:
    """Both sides, each with a name; a phone, when given, a mobile or landline number."""
    if not isinstance(parties, list | tuple) or len(parties) < MIN_PARTIES:
        raise InvalidInput(_("Name both sides of the dispute (at least two parties)."), "parties")
    if len(parties) > MAX_PARTIES:
        raise InvalidInput(_("At most %(limit)d parties.") % {"limit": MAX_PARTIES}, "parties")
    return [_clean_party(party, f"parties.{index}.") for index, party in enumerate(parties)]


def _clean_party(party, prefix="") -> dict:
    if not isinstance(party, dict):
        raise InvalidInput(_("Each party needs a name."), prefix.rstrip(".") or "name")
    name = _text(party.get("name", ""), f"{prefix}name", 50, label=_("Each party needs a name."))
    phone = _text(party.get("phone", ""), f"{prefix}phone", 20, required=False).replace(" ", "")
    if phone:
        try:
            phone_validator(phone)
        except ValidationError as error:
            raise InvalidInput(error.messages[0], f"{prefix}phone") from None
    address = _text(party.get("address", ""), f"{prefix}address", 200, required=False)
    return {"name": name, "phone": phone, "address": address}


def _check_kind(point, kind):
    if kind not in Kind.values:
        raise InvalidInput(_("Choose family, public or farming matters."), "kind")
    if kind not in point.kinds:
        raise InvalidInput(_("%(point)s does not take %(kind)s.") % {"point": point, "kind": Kind(kind).label}, "kind")


def _active_point(point):
    if point is None or not point.is_active:
        raise InvalidInput(_("Choose an active mediation point."), "point")
    return point


def _create(*, point, actor, kind, facts, parties, case=None, referred_from=None) -> Mediation:
    mediation = Mediation.objects.create(
        point=point, case=case, kind=kind, facts=facts, created_by=actor, referred_from=referred_from
    )
    Party.objects.bulk_create([Party(mediation=mediation, **party) for party in parties])
    return mediation


# --- opening -------------------------------------------------------------------------------------


def mediation_open(*, actor, point, kind, facts, parties: list[dict], case=None) -> Mediation:
    """A walk-in at a point (or a mediation opened there for a case): the parties (both sides, their
    phones validated), the kind and the facts. Only the point's mediators and host staff open one;
    it starts accepted, with an `open` event."""
    point = _active_point(point)
    _require_works_at(actor, point)
    _check_kind(point, kind)
    facts = _text(facts, "facts", MAX_TEXT, label=_("Describe the dispute."))
    parties = _clean_parties(parties)
    with transaction.atomic():
        mediation = _create(point=point, actor=actor, kind=kind, facts=facts, parties=parties, case=case)
        _record_open(mediation, actor, data={"walk_in": case is None})
    return mediation


def check_may_send(actor, case):
    """Who may send a case to mediation, whatever its status: a dispatcher, or the staff of the
    unit leading it (holding it: dispatched or signed for); NotPermitted otherwise. The unit that
    resolved a case that is now resolved or closed passes too, so that it hears the case is past
    mediation (the lifecycle's 409) rather than that the case is not its own. Answers the case's
    current lead assignment (None without one)."""
    lead = lead_assignment(case)
    if is_dispatcher(actor):
        return lead
    units = _unit_codes(actor)
    if lead is not None and lead.unit.code in units:
        return lead
    # Past mediation's sources in the lifecycle: resolved or closed.
    finished = not lifecycle.is_allowed("mediate", case.status)
    if (
        finished
        and Assignment.objects.filter(
            case=case, role=Assignment.Role.LEAD, state=Assignment.State.DONE, unit__code__in=units
        ).exists()
    ):
        return None
    raise NotPermitted(_("Only the case's lead unit or a dispatcher may send it to mediation."))


def case_mediate(*, case, actor, point, note="", other_party: dict | None = None) -> Mediation:
    """Send a case to a mediation point (a `mediate` event on the case; its status stays, its lead
    unit keeps it). The parties: the caller and the other side (`other_party`, or a placeholder the
    point completes with `party_update`). The kind: the point's first kind (public matters when it
    takes them), which the point may not change later: choose the point accordingly."""
    point = _active_point(point)
    note = _text(note, "note", MAX_TEXT, required=False)
    with lifecycle.moving(case, "mediate", actor, note=note) as move:
        case = move.case
        lead = check_may_send(actor, case)
        move.check()
        if Mediation.objects.filter(case=case).exclude(state__in=ENDED).exists():
            raise InvalidInput(_("The case is already in mediation."), "point")
        kind = Kind.PUBLIC if Kind.PUBLIC in point.kinds else point.kinds[0]
        caller = {
            "name": case.caller_name or _("the caller"),
            "phone": case.caller_phone,
            "address": case.address,
        }
        other = other_party or {"name": str(_("the other side (to be completed)")), "phone": "", "address": ""}
        parties = _clean_parties([caller, other])
        facts = case.description if not note else f"{case.description}\n\n{note}"
        mediation = _create(point=point, actor=actor, kind=kind, facts=facts[:MAX_TEXT], parties=parties, case=case)
        _record_open(mediation, actor, note=note, data={"case": case.number})
        move.data.update(point=point.code, mediation=mediation.pk, unit=lead.unit.code if lead else "")
    return mediation


def party_update(*, party, actor, name, phone="", address="") -> Party:
    """Complete or correct a party (the other side of a case sent to mediation)."""
    mediation = party.mediation
    _require_works_at(actor, mediation.point)
    if mediation.state in ENDED:
        raise MoveNotAllowed("party", mediation.state)
    cleaned = _clean_party({"name": name, "phone": phone, "address": address})
    Party.objects.filter(pk=party.pk).update(**cleaned)
    party.refresh_from_db()
    return party


# --- the moves -----------------------------------------------------------------------------------


def _mediators_of(point, mediators, field="mediators") -> list[Mediator]:
    mediators = list(mediators or [])
    if not mediators:
        raise InvalidInput(_("At least one mediator must be named."), field)
    if any(m.point_id != point.pk or not m.is_active for m in mediators):
        raise InvalidInput(_("Name the point's own active mediators."), field)
    return mediators


def mediation_schedule(*, mediation, actor, at, place, mediators: list[Mediator]) -> Session:
    """A 评理会 set for a date and place with its mediators. Again after a session that adjourned:
    the held session's outcome becomes `adjourned`."""
    _require_works_at(actor, mediation.point)
    with mediation_move(mediation, "schedule", actor=actor) as locked:
        if at is None:
            raise InvalidInput(_("Choose the date and time."), "at")
        place = _text(place, "place", 200, label=_("Say where the session is held."))
        mediators = _mediators_of(locked.point, mediators)
        if locked.state == Mediation.State.IN_SESSION:
            locked.sessions.filter(held=True, outcome="").update(outcome=Session.Outcome.ADJOURNED)
        # A session set and not held yet is set again, not doubled.
        session = locked.sessions.filter(held=False).first() or Session(mediation=locked, created_by=actor)
        session.at, session.place = at, place
        session.save()
        session.mediators.set(mediators)
    return session


def mediation_session(
    *,
    mediation,
    actor,
    present: list[Party],
    mediators: list[Mediator],
    statements: str,
    reasoning: list[str],
    record: str = "",
) -> Session:
    """The 评理会 held: the mediators and parties present, what each side said, the reasoning
    applied (情理、德理、法理) and the record. Refused without at least one mediator and every
    party present."""
    _require_works_at(actor, mediation.point)
    with mediation_move(mediation, "session", actor=actor) as locked:
        mediators = _mediators_of(locked.point, mediators)
        parties = {p.pk for p in locked.parties.all()}
        here = {p.pk for p in present or []}
        if not here <= parties:
            raise InvalidInput(_("Name the parties of this mediation."), "present")
        if here != parties:
            raise InvalidInput(_("Both sides must be present: every party of the dispute."), "present")
        statements = _text(statements, "statements", MAX_TEXT, label=_("Write down what each side said."))
        reasoning = list(dict.fromkeys(reasoning or []))
        if not reasoning or any(r not in Session.Reasoning.values for r in reasoning):
            raise InvalidInput(_("Choose the reasoning applied: feeling, morality, law."), "reasoning")
        record = _text(record, "record", MAX_TEXT, required=False)
        session = locked.sessions.filter(held=False).first()
        session.statements, session.reasoning, session.record, session.held = statements, reasoning, record, True
        session.save(update_fields=["statements", "reasoning", "record", "held"])
        session.mediators.set(mediators)
        session.parties_present.set(present)
    return session


def _last_session(mediation):
    return mediation.sessions.filter(held=True).order_by("-at", "-id").first()


def _case_record(mediation) -> str:
    """What the lead unit reads on its case: the sessions' records."""
    lines = []
    for session in mediation.sessions.filter(held=True).order_by("at", "id"):
        lines.append(f"{timezone.localtime(session.at):%Y-%m-%d} {session.place}: {session.statements}")
        if session.record:
            lines.append(session.record)
    return "\n".join(lines)


def mediation_agreement(*, mediation, actor, terms: str, follow_up: list[date]) -> Agreement:
    """调解协议 from a session: its terms and follow-up dates. A mediation of a case resolves the
    case with the terms as its result (see `_case_resolve_by_agreement`), which then goes to the
    centre's callback as usual."""
    _require_works_at(actor, mediation.point)
    with mediation_move(mediation, "agreement", actor=actor) as locked:
        terms = _text(terms, "terms", MAX_TEXT, label=_("Write the terms agreed."))
        follow_up = sorted(set(follow_up or []))
        today = timezone.localdate()
        if any(day < today for day in follow_up):
            raise InvalidInput(_("Follow-up dates cannot be in the past."), "follow_up")
        if len(follow_up) > MAX_FOLLOW_UPS:
            raise InvalidInput(_("At most %(limit)d follow-up dates.") % {"limit": MAX_FOLLOW_UPS}, "follow_up")
        agreement, _created = Agreement.objects.update_or_create(
            mediation=locked,
            defaults={"terms": terms, "follow_up": follow_up, "signed_scan": "", "broken_at": None},
        )
        locked.sessions.filter(held=True, outcome="").update(outcome=Session.Outcome.AGREEMENT)
        if locked.case_id is not None:
            _case_resolve_by_agreement(locked, terms)
    return agreement


def _case_resolve_by_agreement(mediation, terms):
    """The case is resolved by the system (no actor: the mediator is not the lead unit's staff)
    with the agreement's terms as its result, as the lead unit's resolution would: every active
    part ends, the callback falls due under the case's policy. A case sent before anyone signed
    for it is first taken up through the lifecycle's own moves (`_case_take_up`). A case that
    cannot be resolved (its unit resolved it meanwhile, it was closed, no unit can lead it) gets
    the outcome on its timeline instead."""
    _case_take_up(mediation)
    with lifecycle.moving(mediation.case, "resolve", None, note=terms) as move:
        lead = lead_assignment(move.case)
        move.data.update(mediation=mediation.pk, point=mediation.point.code, outcome="agreement")
        if not move.allowed or lead is None or lead.state != Assignment.State.SIGNED:
            move.action = "mediation_end"
            return
        case, now = move.case, timezone.now()
        move.data.update(result_kind=ResultKind.SOLVED, unit=lead.unit.code)
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


def _case_take_up(mediation):
    """Bring a case an agreement is about to resolve to "in progress" under a lead unit that has
    signed for it, as the system (actor None), by the lifecycle's own moves, each recorded on the
    case with the point named: a case nobody leads (registered, or returned by its unit) is
    dispatched to the host unit of the point that reached the agreement, or, when that unit
    cannot lead the case (the district centre; a committee or street office of another place), to
    the unit the routing rules give; a dispatched case is then signed for on behalf of the unit
    holding it. Where this is not possible (no unit can lead it, no SLA policy, the case moved
    meanwhile) the case is left as it is, and the resolve records the outcome instead. A case in
    progress is left alone."""
    case = Case.objects.select_related("category", "grid").get(pk=mediation.case_id)
    reason = _("Settled by the agreement of %(point)s") % {"point": mediation.point.name}
    try:
        if lifecycle.is_allowed("dispatch", case.status):  # nobody leads it
            unit = _agreement_lead(mediation.point, case)
            if unit is None:
                return
            case_dispatch(case=case, unit=unit, actor=None, reason=reason)
            case.refresh_from_db(fields=["status"])
        if lifecycle.is_allowed("sign", case.status):
            with lifecycle.moving(case, "sign", None, note=reason) as move:
                lead = lead_assignment(move.case)
                if lead is None or lead.state != Assignment.State.WAITING:
                    raise TransitionNotAllowed("sign", move.case.status)
                move.data.update(unit=lead.unit.code, mediation=mediation.pk, point=mediation.point.code)
                move.check()
                assignment_move(lead, "sign")
    except (TransitionNotAllowed, InvalidInput, NoDefaultSlaPolicy):
        # Each move rolled back its own writes (a savepoint); the resolve below sees the case as
        # it is and records the outcome if it cannot resolve it.
        return


def _agreement_lead(point, case):
    """The unit that leads a case nobody leads when a point's agreement settles it: the point's
    host unit if it may lead the case, else the unit the routing rules give, if it may."""
    candidates = [point.unit]
    ruled = route_for(category=case.category, grid=case.grid).unit
    if ruled is not None:
        candidates.append(ruled)
    for unit in candidates:
        try:
            check_can_lead(unit, grid_code=case.grid_id)
        except InvalidInput:
            continue
        return unit
    return None


def _case_outcome(mediation, actor, outcome, note):
    """A mediation of a case ended without resolving it: the outcome and the record go on the
    case's timeline; the case stays with its lead unit."""
    if mediation.case_id is None:
        return
    lifecycle.apply(
        case=mediation.case,
        action="mediation_end",
        actor=actor,
        note=note,
        data={"mediation": mediation.pk, "point": mediation.point.code, "outcome": outcome},
    )


def mediation_no_agreement(*, mediation, actor, note: str) -> Mediation:
    """The session ended without an agreement; a case goes back to its lead unit with the record."""
    _require_works_at(actor, mediation.point)
    note = _text(note, "note", MAX_TEXT, label=_("Say why no agreement was reached."))
    with mediation_move(mediation, "no_agreement", actor=actor, note=note) as locked:
        locked.sessions.filter(held=True, outcome="").update(outcome=Session.Outcome.NO_AGREEMENT)
        record = _case_record(locked)
        _case_outcome(locked, actor, "no_agreement", f"{note}\n\n{record}".strip())
    return mediation


# The signed copy: a scan (PDF) or a photo, read by its content.
MAX_SCAN_BYTES = 10 * 1024 * 1024


def _check_scan(scan):
    if scan is None or not hasattr(scan, "read"):
        raise InvalidInput(_("Upload the signed agreement (a PDF or a photo)."), "scan")
    if scan.size > MAX_SCAN_BYTES:
        raise InvalidInput(_("The signed copy may be at most 10 MB."), "scan")
    scan.seek(0)
    head = scan.read(5)
    scan.seek(0)
    if head == b"%PDF-":
        return "pdf"
    try:
        validate_photo(scan)
    except ValidationError:
        raise InvalidInput(_("The signed copy must be a PDF or a photo (JPEG, PNG, WebP or GIF)."), "scan") from None
    return "image"


def mediation_sign(*, mediation, actor, scan) -> Agreement:
    """The parties' signed copy uploaded: the agreement is followed up on its dates."""
    _require_works_at(actor, mediation.point)
    with mediation_move(mediation, "sign", actor=actor) as locked:
        kind = _check_scan(scan)
        agreement = locked.agreement
        agreement.signed_scan.save(f"{locked.pk}-{uuid.uuid4().hex[:8]}.{'pdf' if kind == 'pdf' else 'jpg'}", scan)
    return agreement


def mediation_break(*, mediation, actor, note: str) -> Mediation:
    """A party broke the agreement: the mediation is taken up again (accepted), the agreement
    marked broken (its terms kept in the event). The case, resolved by the agreement, is not
    reopened by this: the resident's own verdict does that."""
    _require_works_at(actor, mediation.point)
    note = _text(note, "note", MAX_TEXT, label=_("Say how the agreement was broken."))
    info = {}  # the broken terms, kept in the event (a new agreement replaces them)
    with mediation_move(mediation, "break", actor=actor, note=note, data=info) as locked:
        info["terms"] = Agreement.objects.filter(mediation=locked).values_list("terms", flat=True).first() or ""
        Agreement.objects.filter(mediation=locked).update(broken_at=timezone.now())
    return mediation


LEVELS = [Point.Level.COMMUNITY, Point.Level.STREET, Point.Level.DISTRICT]
# The digits of a region code at each level: district 6, street 9, community 12.
PREFIX = {Point.Level.DISTRICT: 6, Point.Level.STREET: 9, Point.Level.COMMUNITY: 12}


def _higher_point(point, level):
    if level not in LEVELS or LEVELS.index(level) <= LEVELS.index(point.level):
        if point.level == Point.Level.DISTRICT or level not in LEVELS:
            raise InvalidInput(
                _("Referral beyond the district is not a mediation: record where it went with “to” (the court)."),
                "level",
            )
        raise InvalidInput(_("Refer to a higher level than %(level)s.") % {"level": point.get_level_display()}, "level")
    prefix = point.region.code[: PREFIX[level]]
    higher = Point.objects.filter(level=level, region__code=prefix, is_active=True).order_by("code").first()
    if higher is None:
        raise InvalidInput(_("There is no active mediation point at that level for this place."), "level")
    return higher


def mediation_refer(*, mediation, actor, level: str = "", to: str = "", note: str = "") -> Mediation:
    """Up a level (community → street → district): this mediation is referred, the higher point's
    new mediation takes the parties, the facts and the case, and the case's lead deadline follows
    (an approved extension recorded as such); answers the new mediation. Out (`to`: the court, a
    department): an outcome of this mediation, recorded, not a move of ours anywhere; answers it.
    Beyond the district by `level` is refused."""
    _require_works_at(actor, mediation.point)
    if bool(level) == bool(to):
        raise InvalidInput(_("Refer either up a level or out to a named body, not both."), "level")
    note = _text(note, "note", MAX_TEXT, required=False)
    if to:
        to = _text(to, "to", 100)
        with mediation_move(mediation, "refer", actor=actor, note=note, data={"to": to}, referred_to=to) as locked:
            _case_outcome(locked, actor, "referred_out", f"{to}\n{note}".strip())
        return mediation
    higher = _higher_point(mediation.point, level)
    info = {"point": higher.code}
    with mediation_move(mediation, "refer", actor=actor, note=note, data=info) as locked:
        parties = [{"name": p.name, "phone": p.phone, "address": p.address} for p in locked.parties.all()]
        if Mediation.objects.filter(referred_from=locked).exists():
            raise MoveNotAllowed("refer", locked.state)
        new = _create(
            point=higher,
            actor=actor,
            kind=locked.kind if locked.kind in higher.kinds else higher.kinds[0],
            facts=locked.facts,
            parties=parties,
            case=locked.case,
            referred_from=locked,
        )
        _record_open(new, actor, note=note, data={"referred_from": locked.pk})
        info["mediation"] = new.pk
        if locked.case_id is not None:
            _case_follows(locked.case, new, actor)
    return new


def _case_follows(case, new, actor):
    """The case is the higher point's now, and its lead deadline is extended by what its policy
    allows past the current one: an approved extension by the system, reason "referred to …"."""
    reason = _("Referred to %(point)s") % {"point": new.point.name}
    lead = lead_assignment(case)
    if lead is not None and lifecycle.is_allowed("extend", case.status):
        with lifecycle.moving(case, "extend", None, note=reason) as move:
            move.check()
            policy = sla_policy_for(category=move.case.category, priority=move.case.priority)
            until = WorkCalendar.load().add(lead.resolve_due, max(policy.extension_max_days, 1), LimitUnit.WORKING_DAYS)
            now = timezone.now()
            ExtensionRequest.objects.create(
                assignment=lead,
                requested_until=until,
                reason=reason,
                requested_by=actor,
                decision=ExtensionRequest.Decision.APPROVED,
                decided_at=now,
                decision_note=reason,
            )
            Assignment.objects.filter(pk=lead.pk).update(resolve_due=until, next_check_at=now)
            move.data.update(until=until.isoformat(), step="approved", mediation=new.pk, unit=lead.unit.code)
    if lifecycle.is_allowed("mediate", case.status):
        lifecycle.apply(
            case=case,
            action="mediate",
            actor=actor,
            note=reason,
            data={"point": new.point.code, "mediation": new.pk, "referred_from": new.referred_from_id},
        )


def mediation_close(*, mediation, actor, note: str = "") -> Mediation:
    """The mediation ends: after the agreement's follow-ups, after no agreement, or once referred."""
    _require_works_at(actor, mediation.point)
    note = _text(note, "note", MAX_TEXT, required=False)
    with mediation_move(mediation, "close", actor=actor, note=note):
        pass
    return mediation


def party_phone_reveal(*, party, actor) -> str:
    """A party's full phone, for who works the mediation or a dispatcher; the reveal is logged."""
    mediation = party.mediation
    if not (works_at(actor, mediation.point) or is_dispatcher(actor)):
        raise NotPermitted(_("Your role may not see this party's phone number."))
    MediationEvent.objects.create(
        mediation=mediation,
        action="reveal_phone",
        from_state=mediation.state,
        to_state=mediation.state,
        actor=actor,
        data={"party": party.pk},
    )
    return party.phone


def agreement_text(mediation) -> str:
    """调解协议书's body drawn from the record: the parties, the facts, the sessions, the terms and
    the follow-up dates, with lines to sign."""
    agreement = getattr(mediation, "agreement", None)
    lines = [str(_("Mediation agreement")), "", f"{_('Mediation point')}: {mediation.point.name}", ""]
    for index, party in enumerate(mediation.parties.all(), start=1):
        where = f", {party.address}" if party.address else ""
        lines.append(f"{_('Party')} {index}: {party.name}{where}")
    lines += ["", f"{_('Facts of the dispute')}:", mediation.facts, ""]
    sessions = [s for s in mediation.sessions.all() if s.held]
    if sessions:
        lines.append(f"{_('The mediation')}:")
        for session in sessions:
            reasons = "、".join(str(Session.Reasoning(r).label) for r in session.reasoning)
            lines.append(f"{timezone.localtime(session.at):%Y-%m-%d} {session.place} ({reasons})")
            if session.record:
                lines.append(session.record)
        lines.append("")
    if agreement is not None:
        lines += [f"{_('Terms agreed')}:", agreement.terms, ""]
        if agreement.follow_up:
            dates = "、".join(f"{day:%Y-%m-%d}" for day in agreement.follow_up)
            lines += [f"{_('Follow-up dates')}: {dates}", ""]
    lines.append(str(_("Each party keeps one copy; the mediation point keeps one.")))
    lines.append("")
    for index, _party in enumerate(mediation.parties.all(), start=1):
        lines.append(f"{_('Party')} {index} ({_('signature')}):")
    lines.append(f"{_('Mediator')} ({_('signature')}):")
    lines.append(f"{_('Date')}:")
    return "\n".join(lines)
