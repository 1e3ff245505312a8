"""Calls in: register a call as a new case, attach it to an existing one, or answer it on the
spot; and the dispatcher's moves at intake (close an invalid call, merge duplicates)."""

import hashlib
import json
import logging

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from cases import lifecycle
from cases.errors import IdempotencyKeyReused, InvalidInput, NotPermitted
from cases.models import Case, Channel
from cases.places import CallPlace, PlaceMismatch, call_place  # noqa: F401 (the doors import them from here)
from cases.services import CallDetails, case_number_next, case_open, case_photos_add
from intake.models import Call
from notices.services import case_follow
from routing.assignments import assignments_move
from routing.models import Assignment, AutoRouteAttempt
from routing.selectors import cases_for, phone_visible_to
from routing.tasks import dispatch_case
from units.permissions import require_dispatcher, takes_calls
from units.selectors import can_log_call_in

logger = logging.getLogger(__name__)


def call_register(
    *,
    actor,
    details: CallDetails,
    attach_to=None,
    answer=None,
    idempotency_key="",
    follow=False,
    suggester_version=None,
) -> tuple[Call, bool]:
    """Register one call; returns (call, created).

    - `attach_to`: an open case the actor may see; the call is added to it and counted.
    - `answer`: the answer given on the spot; the new case is closed at once as answered
      directly, and still counted.
    - Otherwise a new case is opened in `registered`.
    - `follow`: the person logging the call hears when its case is dispatched, resolved, closed.
    - `suggester_version`: the suggester version whose suggestion gave the category, kept on the call.
    A repeated `idempotency_key` from the same actor returns the first call and creates nothing,
    so a double click or a client's retry opens one case, not two. The same key with a different
    call raises IdempotencyKeyReused: the second call was never registered, and saying so is
    better than answering with the first one.
    """
    fingerprint, replayed = _earlier(actor, details, attach_to, answer, idempotency_key)
    if replayed is not None:
        return replayed, False
    if not takes_calls(actor):
        raise NotPermitted(_("Your role does not take calls."))
    if not can_log_call_in(actor, details.grid):
        raise NotPermitted(_("You do not take calls for this grid."), field="grid")
    if attach_to is not None and answer:
        raise InvalidInput(_("A call attached to an existing case cannot also be answered directly."), "answer")
    return _register_once(
        actor=actor,
        details=details,
        attach_to=attach_to,
        answer=answer,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
        follow=follow,
        scoped=True,
        suggester_version=suggester_version,
    )


def call_register_outside(
    *, actor, details: CallDetails, attach_to=None, idempotency_key="", hold=""
) -> tuple[Call, bool]:
    """Register a call that came through a door without staff: the resident's own page, an
    integrating system (Open311, the city's 12345). Returns (call, created), as `call_register`.

    `actor` is the door's own account (`accounts.services.system_user_ensure`), which takes no
    calls and has no area: the door has already checked who is calling (a mobile number verified
    by SMS, an API key), so the staff's checks (role, grid) do not apply. `attach_to` is an open
    case the door showed as a likely duplicate (the resident adds their voice to it); a closed one
    is refused by the lifecycle. The same `idempotency_key` from the same door answers with the
    first call, as for staff.

    `hold` says why a new case waits for the dispatchers instead of the routing rules: the door
    knows its place only roughly (a street without its community), so its grid is a stand-in the
    rules would route as if it were right. The reason is the case's first note on its timeline and
    its automatic routing's outcome, so neither the dispatch after the commit nor the
    stranded-case sweep routes it.
    """
    fingerprint, replayed = _earlier(actor, details, attach_to, None, idempotency_key)
    if replayed is not None:
        return replayed, False
    return _register_once(
        actor=actor,
        details=details,
        attach_to=attach_to,
        answer=None,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
        follow=False,
        scoped=False,
        hold=hold,
    )


def _earlier(actor, details, attach_to, answer, idempotency_key) -> tuple[str, Call | None]:
    """The call's fingerprint, and the call this actor already registered under the same key."""
    if len(idempotency_key) > IDEMPOTENCY_KEY_MAX:
        raise InvalidInput(
            _("An idempotency key has at most %(max)d characters.") % {"max": IDEMPOTENCY_KEY_MAX}, "idempotency_key"
        )
    fingerprint = _fingerprint(
        photos=details.photos,
        **{name: getattr(details, name) for name in FINGERPRINTED},
        category=details.category.code,
        grid=details.grid.code,
        attach_to=attach_to.number if attach_to is not None else None,
        answer=answer,
    )
    # A repeated key is found by the unique constraint when the call is written (IntegrityError
    # in `_register_once`, which answers with the first call): a retry is rare, and looking for
    # it first was one more statement on every call. Photos are the exception: a retry would
    # store their files again before the constraint refused it, so a call with photos looks first.
    if idempotency_key and details.photos:
        existing = _with_key(actor, idempotency_key)
        if existing:
            return fingerprint, _replay(existing, fingerprint)
    return fingerprint, None


def _with_key(actor, idempotency_key) -> Call | None:
    return Call.objects.filter(created_by=actor, idempotency_key=idempotency_key).select_related("case").first()


def _register_once(
    *, actor, details, attach_to, answer, idempotency_key, fingerprint, follow, scoped, suggester_version=None, hold=""
):
    # A new case's number is taken before the transaction (when none is open around this one): the
    # day's counter row stays locked only for its own statement, not while the case, its event, its
    # notices and the call are written, so concurrent calls do not queue behind one another.
    number = case_number_next() if attach_to is None else None
    try:
        with transaction.atomic():
            call = _register(
                number=number,
                actor=actor,
                details=details,
                attach_to=attach_to,
                answer=answer,
                idempotency_key=idempotency_key,
                fingerprint=fingerprint,
                scoped=scoped,
                suggester_version=suggester_version,
                hold=hold,
            )
            if follow and call.outcome != Call.Outcome.ANSWERED:
                case_follow(case=call.case, user=actor)
    except IntegrityError:
        # The same key again (a retry, or the same request twice at once: the other one won and
        # committed first); everything this one wrote is rolled back. Answer with the first call.
        existing = _with_key(actor, idempotency_key) if idempotency_key else None
        if existing is None:
            raise
        return _replay(existing, fingerprint), False
    return call, True


# What a call's fingerprint covers besides its category, grid and photos (by their codes and
# contents): every other field of the call.
FINGERPRINTED = (
    "channel",
    "description",
    "priority",
    "address",
    "latitude",
    "longitude",
    "caller_name",
    "caller_phone",
    "caller_confidential",
)


# Keys are compared whole: a longer key is refused, never cut (two keys differing after the cut
# would count as one).
IDEMPOTENCY_KEY_MAX = 100


def _fingerprint(*, photos, **fields) -> str:
    """A digest of what a call says, photos' contents included: the same submission sent again
    has the same digest, a different one under the same key does not."""
    digest = hashlib.sha256(json.dumps(fields, sort_keys=True, default=str, ensure_ascii=False).encode())
    for photo in photos:
        for chunk in photo.chunks():
            digest.update(chunk)
        photo.seek(0)
    return digest.hexdigest()


def _replay(existing, fingerprint) -> Call:
    # A call saved before fingerprints were kept has none to compare; it is replayed as before.
    if existing.idempotency_fingerprint and existing.idempotency_fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            _("This idempotency key was already used for a different call (case %(number)s).")
            % {"number": existing.case.number}
        )
    return existing


def _register(
    *, number, actor, details, attach_to, answer, idempotency_key, fingerprint, scoped, suggester_version=None, hold=""
) -> Call:
    if attach_to is not None:
        if scoped and not cases_for(actor).filter(pk=attach_to.pk).exists():
            raise InvalidInput(_("That case does not exist or is not yours to see."), "attach_to")
        case, _event = lifecycle.apply(
            case=attach_to,
            action="attach_call",
            actor=actor,
            data={"channel": details.channel},
            changes={"call_count": F("call_count") + 1},
        )
        case_photos_add(case=case, actor=actor, images=details.photos)
        outcome = Call.Outcome.ATTACHED
    else:
        case = case_open(actor=actor, details=details, number=number)
        outcome = Call.Outcome.NEW_CASE
        if hold:
            # Recorded as looked at, so the sweep of stranded cases leaves it to the dispatchers.
            AutoRouteAttempt.objects.create(case=case, outcome=f"held: {hold}"[:200])
            case, _event = lifecycle.apply(case=case, action="note", actor=actor, note=hold)
        elif not answer:
            case_id = case.pk
            transaction.on_commit(lambda: _dispatch_soon(case_id))
        if answer:
            case, _event = lifecycle.apply(
                case=case,
                action="answer",
                actor=actor,
                note=answer,
                changes={"closure_reason": Case.ClosureReason.ANSWERED_DIRECTLY},
            )
            outcome = Call.Outcome.ANSWERED
    return Call.objects.create(
        case=case,
        outcome=outcome,
        created_by=actor,
        idempotency_key=idempotency_key,
        idempotency_fingerprint=fingerprint if idempotency_key else "",
        suggester_version=suggester_version,
        **details.as_record(),
    )


def _dispatch_soon(case_id):
    """Ask a worker to dispatch the new case now. If Redis is down the case is saved all the
    same, and `routing.sweep_registered` dispatches it within minutes."""
    try:
        dispatch_case.delay(case_id)
    except Exception:
        logger.warning("could not queue the dispatch of case %s; the sweep will do it", case_id, exc_info=True)


def case_merge(*, case, into, actor, note="") -> Case:
    """A dispatcher merges a duplicate into the case it repeats: its calls move over and are
    counted there, and the duplicate is closed pointing at it. Returns the surviving case."""
    require_dispatcher(actor)
    if into.pk == case.pk:
        raise InvalidInput(_("A case cannot be merged into itself."), "into")
    with transaction.atomic():
        # Lock both rows in a fixed order, so two merges of the same pair cannot deadlock.
        list(Case.objects.select_for_update().filter(pk__in=[case.pk, into.pk]).order_by("pk"))
        into.refresh_from_db()
        if not into.is_open:
            raise InvalidInput(_("The case to merge into is already closed."), "into")
        merged, _event = lifecycle.apply(
            case=case,
            action="merge",
            actor=actor,
            note=note,
            data={"into": into.number},
            changes={"closure_reason": Case.ClosureReason.DUPLICATE, "merged_into": into},
        )
        moved = Call.objects.filter(case=merged).update(case=into)
        # Whoever worked on the duplicate stops: the surviving case carries the work.
        assignments_move(Assignment.objects.filter(case=merged), "withdraw")
        survivor, _event = lifecycle.apply(
            case=into,
            action="attach_call",
            actor=actor,
            note=note,
            data={"merged_from": merged.number, "calls": moved},
            changes={"call_count": F("call_count") + merged.call_count},
        )
    survivor.refresh_from_db(fields=["call_count"])
    return survivor


def caller_phone_reveal(*, case, actor) -> str:
    """Show the caller's full phone number to someone entitled to it, and record that they saw it."""
    if not phone_visible_to(actor, case):
        raise NotPermitted(_("Your role may not see this caller's phone number."))
    lifecycle.apply(case=case, action="reveal_phone", actor=actor)
    return case.caller_phone


def case_open_proactive(*, actor, category, grid, description) -> Case:
    """Open a case nobody called about (未呼先应: a hotspot the district acts on before the next
    call), with channel "proactive" and no call, and queue its dispatch by the routing rules
    after the commit, like a case opened from a call. Who may open one is the caller's rule
    (`dashboards.hotspots.hotspot_promote`): it is not a call, so `takes_calls` does not apply."""
    with transaction.atomic():
        details = CallDetails(channel=Channel.PROACTIVE, category=category, grid=grid, description=description)
        case = case_open(actor=actor, details=details)
        case_id = case.pk
        transaction.on_commit(lambda: _dispatch_soon(case_id))
    return case
