"""Writes about integrating systems: keys issued, checked and revoked, every call recorded, the
requests they send opened as cases or held for a dispatcher (docs/integrations.md)."""

import hashlib
import secrets
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import system_user_ensure
from cases.errors import InvalidInput, NotPermitted
from cases.models import Category, Channel
from cases.moves import RowMove, rows_move, stamp_now
from cases.services import CallDetails
from grids.coordinates import gcj02_to_wgs84
from intake.services import call_register_outside
from integrations.models import JURISDICTION, ApiCall, ApiKey, CategoryMapping, Inbound, System
from integrations.webhooks import order_opened, order_refused
from units.permissions import require_dispatcher

KEY_PREFIX = "sq_"


class KeyRefused(Exception):
    """The key is unknown, revoked, of an inactive system or another jurisdiction, or not allowed
    what it was used for. Doors answer 403 with `str(error)`."""


def _hash(raw) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def system_ensure(*, name, title="", channel=Channel.ONLINE) -> System:
    """The system called `name`, created with its own account if new. Safe to call twice."""
    with transaction.atomic():
        system = System.objects.filter(name=name).first()
        if system is None:
            user = system_user_ensure(username=f"system:{name}"[:150], real_name=title or name)
            system = System.objects.create(name=name, title=title, channel=channel, user=user)
    return system


def key_issue(*, system, scopes) -> tuple[ApiKey, str]:
    """A new key for `system` with `scopes`; returns the row and the key itself, which is shown
    this once and never stored (only its SHA-256)."""
    unknown = set(scopes) - set(ApiKey.Scope.values)
    if not scopes or unknown:
        raise InvalidInput(_("Unknown scope: %(scopes)s.") % {"scopes": ", ".join(sorted(unknown)) or "-"}, "scopes")
    raw = KEY_PREFIX + secrets.token_urlsafe(30)
    key = ApiKey.objects.create(system=system, prefix=raw[:10], key_hash=_hash(raw), scopes=sorted(set(scopes)))
    return key, raw


def key_revoke(*, key, system=None) -> ApiKey:
    """Revoke a key, named by the key itself or by its prefix (as lists show it), of `system`
    when given (a key of another system is refused, not revoked). Revoking a revoked key changes
    nothing."""
    found = ApiKey.objects.filter(key_hash=_hash(key)).first() or ApiKey.objects.filter(prefix=key).first()
    if found is None:
        raise InvalidInput(_("No such key."), "key")
    if system is not None and found.system_id != system.pk:
        raise InvalidInput(
            _("The key %(prefix)s… belongs to %(system)s.") % {"prefix": found.prefix, "system": found.system.name},
            "key",
        )
    ApiKey.objects.filter(pk=found.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    found.refresh_from_db()
    return found


def key_check(raw, *scopes, jurisdiction_id=None) -> ApiKey:
    """The key `raw`, if it may do one of `scopes` (and belongs to `jurisdiction_id` when the
    caller names one); raises KeyRefused otherwise, saying what the first scope needed. Marks the
    key used (at most once a minute). One query, however many scopes."""
    key = (
        ApiKey.objects.select_related("system", "system__user").filter(key_hash=_hash(raw or "")).first()
        if raw
        else None
    )
    if key is None:
        raise KeyRefused(_("This API key is not known."))
    if key.is_revoked:
        raise KeyRefused(_("This API key was revoked."))
    if not key.system.is_active:
        raise KeyRefused(_("This system is switched off."))
    if key.system.jurisdiction_id != JURISDICTION or (jurisdiction_id and jurisdiction_id != JURISDICTION):
        raise KeyRefused(_("This API key is not for jurisdiction %(id)s.") % {"id": JURISDICTION})
    if not set(scopes) & set(key.scopes):
        raise KeyRefused(_("This API key may not %(scope)s.") % {"scope": ApiKey.Scope(scopes[0]).label})
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


def api_call_record(*, key=None, system=None, method, path, status, duration_ms, remote_addr=None) -> ApiCall:
    """Record one call of an outside system, refused ones included (with no key)."""
    return ApiCall.objects.create(
        system=system or (key.system if key else None),
        key=key,
        method=method[:8],
        path=path[:300],
        status=status,
        duration_ms=max(0, int(duration_ms)),
        remote_addr=remote_addr or None,
    )


HELD, OPENED, REFUSED = Inbound.State.HELD, Inbound.State.OPENED, Inbound.State.REFUSED
# An inbound request's moves (cases.moves): it arrives held, and becomes a case at once when its
# category and place are known, or when a dispatcher places it; a dispatcher may refuse it.
INBOUND_MOVES = {
    "open": RowMove(frozenset({HELD}), OPENED, (("decided_at", stamp_now),)),
    "refuse": RowMove(frozenset({HELD}), REFUSED, (("decided_at", stamp_now),)),
}


def inbound_receive(*, system, kind, payload, details: CallDetails | None, reason="", external_id="", deadline=None):
    """Record a request `system` sent, and open its case when `details` are complete; without
    them it waits for a dispatcher with `reason`. Returns (inbound, created): the same
    `external_id` again answers with the first request and changes nothing.

    Keeps: one request per (system, their id), and one case per request, even when the same
    order arrives twice at once (the unique constraint decides; the loser answers with the
    winner's row)."""
    if external_id:
        existing = Inbound.objects.filter(system=system, external_id=external_id).select_related("case").first()
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            inbound = Inbound.objects.create(
                system=system,
                kind=kind,
                external_id=external_id,
                token=secrets.token_urlsafe(16),
                payload=payload,
                deadline=deadline,
                reason=reason[:300] if details is None else "",
            )
            if details is not None:
                _open(inbound, details, actor=None)
    except IntegrityError:
        if not external_id:
            raise
        return Inbound.objects.select_related("case").get(system=system, external_id=external_id), False
    return inbound, True


def _open(inbound, details, *, actor):
    call, _created = call_register_outside(
        actor=inbound.system.user, details=details, idempotency_key=f"inbound:{inbound.token}"
    )
    moved = rows_move(Inbound.objects.filter(pk=inbound.pk), INBOUND_MOVES, "open", case=call.case, decided_by=actor)
    if not moved:
        raise InvalidInput(_("This request was already placed or refused."), "state")
    inbound.refresh_from_db()
    # A work order's sender hears that it is a case now (in this transaction).
    order_opened(inbound)
    return inbound


def inbound_place(*, inbound, actor, category, grid) -> Inbound:
    """A dispatcher gives a held request the category and grid it lacked: its case opens and
    follows the whole loop. Keeps: a request is placed once (the move is conditional)."""
    require_dispatcher(actor)
    payload = inbound.payload
    details = CallDetails(
        channel=payload.get("channel") or inbound.system.channel,
        description=payload.get("description") or "",
        category=category,
        grid=grid,
        address=payload.get("address", "")[:200],
        caller_name=payload.get("caller_name", "")[:50],
        caller_phone=payload.get("caller_phone", "")[:20],
        caller_confidential=bool(payload.get("caller_confidential")),
        **_point_sent(payload),
    )
    with transaction.atomic():
        locked = Inbound.objects.select_for_update().select_related("system", "system__user").get(pk=inbound.pk)
        if locked.state != Inbound.State.HELD:
            raise InvalidInput(_("This request was already placed or refused."), "state")
        return _open(locked, details, actor=actor)


def _point_sent(payload) -> dict:
    """The point the sender gave with a held request (WGS-84, as cases keep it), or none: the
    dispatcher chose the grid, the point still marks the spot on the case's map."""
    try:
        latitude, longitude = float(payload.get("lat") or ""), float(payload.get("long") or "")
    except ValueError:
        return {}
    if payload.get("crs") == "gcj02":
        longitude, latitude = gcj02_to_wgs84(longitude, latitude)
    step = Decimal("0.000001")
    return {"latitude": Decimal(latitude).quantize(step), "longitude": Decimal(longitude).quantize(step)}


def inbound_refuse(*, inbound, actor, reason) -> Inbound:
    """A dispatcher refuses a held request (not for this district, not a request); the reason is
    kept, and the sender hears it."""
    require_dispatcher(actor)
    if not reason.strip():
        raise InvalidInput(_("Say why the request is refused."), "reason")
    with transaction.atomic():
        if not rows_move(
            Inbound.objects.filter(pk=inbound.pk), INBOUND_MOVES, "refuse", reason=reason[:300], decided_by=actor
        ):
            raise NotPermitted(_("This request was already placed or refused."))
        inbound.refresh_from_db()
        # A work order's sender hears the reason (in this transaction).
        order_refused(inbound)
    return inbound


# The demo's integrating systems: the city's 12345 platform with a few of its category codes (made
# up for the demo: the real table comes from the city), and an Open311 app. Keys are issued by
# `manage.py integration_key`, never by the demo: a key is shown once, to whoever asks for it.
DEMO_SYSTEMS = (
    ("city12345", "沈阳市12345平台", Channel.HOTLINE),
    ("app311", "市民随手拍（Open311）", Channel.ONLINE),
)
DEMO_CATEGORY_TABLE = (
    ("SY-HJWS", "环境卫生", "0201"),
    ("SY-LDZM", "路灯照明", "0205"),
    ("SY-GS", "供水", "0301"),
    ("SY-WZJZ", "违章建筑", "0101"),
    ("SY-WYGL", "物业管理", "0103"),
)


def demo_systems_load(*, progress=None) -> dict:
    """The demo's integrating systems and the 12345 platform's category table; keeps what is there."""
    systems = [system_ensure(name=name, title=title, channel=channel) for name, title, channel in DEMO_SYSTEMS]
    ours = Category.objects.in_bulk([code for *_rest, code in DEMO_CATEGORY_TABLE], field_name="code")
    mapped = 0
    for code, name, category in DEMO_CATEGORY_TABLE:
        if category in ours:
            _row, created = CategoryMapping.objects.get_or_create(
                system=systems[0], code=code, defaults={"name": name, "category": ours[category]}
            )
            mapped += created
    return {"systems": len(systems), "category mappings": mapped}
