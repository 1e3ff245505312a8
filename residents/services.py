"""The residents' own page: confirming a mobile number with a one-time SMS code, the abuse limits,
and a resident's request registered as a call on the `online` channel (docs/residents.md).

Every limit is counted in PostgreSQL (`Attempt`, `PhoneCode`), never in Redis, so it holds while
Redis is down. Each check is one query."""

import math
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import CharField, Count, F, Min, Q, Value
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from accounts.services import system_user_ensure
from cases.errors import InvalidInput
from cases.models import Category, Channel
from cases.services import CallDetails, categories_suggested
from grids.models import Region
from intake.models import Call
from intake.services import CallPlace, call_place, call_register_outside
from integrations.selectors import grids_named_in
from notices.templates import render
from outbox.services import message_queue
from residents.models import Attempt, PhoneCode

# --- the code -----------------------------------------------------------------------------------

CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=5)
CODE_TRIES = 5  # wrong tries a code survives; the fifth wrong one kills it
LOCKOUT = timedelta(minutes=15)  # after a code died of wrong tries, no new code for the number
RESEND_AFTER = timedelta(seconds=60)  # between two codes to the same number
VERIFIED_FOR = timedelta(minutes=30)  # how long a confirmed number stays confirmed in the browser

# --- the limits ---------------------------------------------------------------------------------

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
# kind → {"phone" | "ip": (at most per hour, at most per day)}. An address may be a carrier's NAT
# shared by many residents, so it is allowed more than one number.
LIMITS = {
    Attempt.Kind.CODE: {"phone": (5, 10), "ip": (30, 200)},
    Attempt.Kind.SUBMISSION: {"phone": (5, 20), "ip": (60, 300)},
}

# The category of a request whose resident chose none and whose words suggest none (其他诉求).
FALLBACK_CATEGORY = "9901"
DOOR_USERNAME = "door:residents"
DOOR_NAME = "居民自助"


class TooMany(Exception):
    """A limit is reached: the page answers 429 and says when to try again (`until`)."""

    def __init__(self, message, until):
        self.until = until
        super().__init__(message % {"time": timezone.localtime(until).strftime("%H:%M")})

    @property
    def retry_after(self) -> int:
        return max(1, math.ceil((self.until - timezone.now()).total_seconds()))


class CodeRefused(InvalidInput):
    """The code typed is wrong, expired, already used, or none was asked for."""

    def __init__(self, message):
        super().__init__(message, "code")


def _code_hash(phone: str, code: str) -> str:
    # Keyed with the secret key: six digits are a million guesses, which a plain hash would not stop.
    return salted_hmac("residents.PhoneCode", f"{phone}:{code}", algorithm="sha256").hexdigest()


def limits_check(*, kind, phone, ip) -> None:
    """Refuse (TooMany) when `phone` or `ip` has reached its hourly or daily limit of `kind`.
    One query: the counts and, for the wait, the oldest attempt inside each window."""
    now = timezone.now()
    hour_ago, day_ago = now - HOUR, now - DAY
    by_phone, by_ip = Q(phone=phone), Q(ip=ip)
    seen = Attempt.objects.filter(by_phone | by_ip, kind=kind, at__gt=day_ago).aggregate(
        phone_hour=Count("pk", filter=by_phone & Q(at__gt=hour_ago)),
        phone_day=Count("pk", filter=by_phone),
        ip_hour=Count("pk", filter=by_ip & Q(at__gt=hour_ago)),
        ip_day=Count("pk", filter=by_ip),
        phone_hour_first=Min("at", filter=by_phone & Q(at__gt=hour_ago)),
        phone_day_first=Min("at", filter=by_phone),
        ip_hour_first=Min("at", filter=by_ip & Q(at__gt=hour_ago)),
        ip_day_first=Min("at", filter=by_ip),
    )
    for who in ("phone", "ip"):
        for window, length, limit in (("hour", HOUR, LIMITS[kind][who][0]), ("day", DAY, LIMITS[kind][who][1])):
            if seen[f"{who}_{window}"] >= limit:
                until = seen[f"{who}_{window}_first"] + length
                if who == "phone":
                    message = _("This number has reached its limit for now. Try again after %(time)s.")
                else:
                    message = _("Too many requests from your network. Try again after %(time)s.")
                raise TooMany(message, until)


def code_send(*, phone: str, ip: str) -> PhoneCode:
    """Text a new one-time code to `phone`, through the outbox (at any hour: the resident is
    waiting for it). Refused (TooMany) within a minute of the last code, while the number is
    locked out after a code died of wrong tries, and over the hourly or daily limits."""
    now = timezone.now()
    latest = PhoneCode.objects.filter(phone=phone).order_by("-created_at").first()
    if latest is not None:
        if latest.tries >= CODE_TRIES and latest.last_try_at and latest.last_try_at + LOCKOUT > now:
            raise TooMany(
                _("Too many wrong codes for this number. Ask for a new code after %(time)s."),
                latest.last_try_at + LOCKOUT,
            )
        if latest.created_at + RESEND_AFTER > now:
            raise TooMany(
                _("A code was just sent. You may ask for another one after %(time)s."),
                latest.created_at + RESEND_AFTER,
            )
    limits_check(kind=Attempt.Kind.CODE, phone=phone, ip=ip)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    with transaction.atomic():
        row = PhoneCode.objects.create(
            phone=phone, code_hash=_code_hash(phone, code), created_at=now, expires_at=now + CODE_LIFETIME
        )
        Attempt.objects.create(kind=Attempt.Kind.CODE, phone=phone, ip=ip, at=now)
        text, params = render("resident_code", {"code": code})
        message_queue(
            channel="sms",
            to=phone,
            text=text,
            template="resident_code",
            params=params,
            key=f"resident-code:{row.pk}",
            emergency=True,
        )
    return row


def code_check(*, phone: str, code: str) -> None:
    """Accept the latest code sent to `phone`, once, or refuse it: CodeRefused (wrong: the tries
    left are said; expired; used), TooMany (the code died of wrong tries). A wrong try is counted
    by a conditional UPDATE, so parallel guesses cannot get more tries than CODE_TRIES."""
    now = timezone.now()
    latest = PhoneCode.objects.filter(phone=phone).order_by("-created_at").first()
    if latest is None or latest.used_at is not None:
        raise CodeRefused(_("Ask for a code first."))
    if latest.tries >= CODE_TRIES:
        raise TooMany(_("Too many wrong codes. Ask for a new code after %(time)s."), latest.last_try_at + LOCKOUT)
    if latest.expires_at <= now:
        raise CodeRefused(_("The code has expired. Ask for a new one."))
    live = PhoneCode.objects.filter(pk=latest.pk, used_at__isnull=True, tries__lt=CODE_TRIES, expires_at__gt=now)
    if constant_time_compare(_code_hash(phone, code), latest.code_hash):
        if live.update(used_at=now):
            return
        raise CodeRefused(_("The code has already been used. Ask for a new one."))
    counted = live.update(tries=F("tries") + 1, last_try_at=now)
    left = CODE_TRIES - latest.tries - 1
    if not counted or left <= 0:
        raise TooMany(_("Too many wrong codes. Ask for a new code after %(time)s."), now + LOCKOUT)
    raise CodeRefused(_("The code is not right. %(left)d tries left.") % {"left": left})


# --- the request --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResidentRequest:
    """What a resident's form says, before the page turns it into a call."""

    description: str
    category: Category | None  # None: "not sure / other"
    place: CallPlace
    address: str = ""
    caller_name: str = ""
    photos: tuple = ()
    hold: str = ""  # why the case waits for a dispatcher instead of the rules (a street alone)


def category_for(text: str, chosen: Category | None) -> Category:
    """The resident's choice; else the first category the words suggest; else 其他诉求 (or, where
    that was removed, the last active second-level category)."""
    if chosen is not None:
        return chosen
    suggested = categories_suggested(text, limit=1)
    if suggested:
        return suggested[0]
    leaves = Category.objects.filter(is_active=True, parent__isnull=False)
    return leaves.filter(code=FALLBACK_CATEGORY).first() or leaves.order_by("-code").first()


def place_for(*, street=None, community=None, address="", latitude=None, longitude=None) -> tuple[CallPlace, str]:
    """Where the problem is, and why the case waits for a dispatcher ("" when the rules may route
    it). The most precise place the resident gave wins:

    1. the point tapped on the map: its grid is the one holding it (a point outside the district
       is refused, on `community`);
    2. the community chosen: a community is not a grid, and a case needs one, so it goes to the
       community's first grid (the lowest code), routed by the rules (most work by community or
       street); the dispatchers correct it if the address says otherwise;
    3. the address, read as Open311 reads one (`integrations.selectors.grids_named_in`), inside
       the street chosen if one was: a grid it names, alone, is the place; else a community it
       names, alone, placed as in 2;
    4. the street chosen, or else the one street the address names: the street's first grid
       stands in for a place known only by its street, so the case is not routed (the rules would
       send it to that grid's committee as if it were right) but waits for a dispatcher, with why
       on its timeline;
    5. nothing that places it: refused (InvalidInput on `street`), asking for the street or the map.
    """
    if latitude is not None and longitude is not None:
        try:
            return call_place(latitude=latitude, longitude=longitude), ""
        except InvalidInput as error:
            raise InvalidInput(str(error), "community") from error
    if community is not None:
        return CallPlace(_first_grid(community, "community")), ""
    within = street.code if street is not None else ""
    if address.strip():
        grids = [grid for grid in grids_named_in(address) if grid.code.startswith(within)]
        if len(grids) == 1:
            return CallPlace(grids[0]), ""
        communities = _places_named_in(address, Region.Level.COMMUNITY, within=within)
        if len(communities) == 1:
            return CallPlace(_first_grid(communities[0], "address")), ""
        if street is None:
            streets = _places_named_in(address, Region.Level.STREET)
            street = streets[0] if len(streets) == 1 else None
        if street is None:
            raise InvalidInput(
                _(
                    "We could not tell from “%(address)s” where in 苏家屯区 it is. Choose your street "
                    "(and your community if you know it), or tap the map where it is."
                )
                % {"address": address.strip()},
                "street",
            )
    if street is None:
        raise InvalidInput(_("Tap the map where it is, or choose your street or community."), "street")
    grid = _first_grid(street, "street")
    hold = _(
        "The resident gave the street %(street)s but no community: the case is in the street's first "
        "grid, %(grid)s, until a dispatcher places it from the address and dispatches it."
    ) % {"street": street.name, "grid": grid.name}
    return CallPlace(grid), hold


def _first_grid(region, field) -> Region:
    """The first grid (the lowest code) of a street or community: the stand-in for a place known
    no closer than that."""
    grid = Region.objects.filter(level=Region.Level.GRID, code__startswith=region.code).order_by("code").first()
    if grid is None:
        if region.level == Region.Level.STREET:
            message = _("This street has no grid yet: tap the map where it is instead.")
        else:
            message = _("This community has no grid yet: tap the map where it is instead.")
        raise InvalidInput(message, field)
    return grid


# A community's or street's name shorter than this is not looked for in an address (a village's
# name is three characters: 民主村).
PLACE_NAME_MIN = 3


def _places_named_in(text, level, *, within="") -> list[Region]:
    """The communities or streets (`level`) under `within` whose name occurs in `text`, leaving
    out a name that is part of another one found: the rule of Open311's grids_named_in, one
    level up. One query."""
    found = list(
        Region.objects.filter(level=level, code__startswith=within)
        .alias(text=Value(text, output_field=CharField()), name_length=Length("name"))
        .filter(text__contains=F("name"), name_length__gte=PLACE_NAME_MIN)
        .order_by("code")[:10]
    )
    return [place for place in found if not any(place.name in other.name and place != other for other in found)]


def door() -> object:
    """The account the residents' page records its calls under: it signs in nowhere."""
    return system_user_ensure(username=DOOR_USERNAME, real_name=DOOR_NAME)


def request_submit(*, phone: str, ip: str, request: ResidentRequest, attach_to=None, key: str) -> tuple[Call, bool]:
    """Register a resident's request as a call on the `online` channel from the confirmed `phone`:
    a new case (dispatched by the routing rules after commit, acknowledged by SMS by the notice
    table) or, with `attach_to`, one more call on that case. A new case placed only by its
    street (`request.hold`) is not routed: it waits for a dispatcher. The same `key` (the form's
    submission token) answers with the first call: a double submit is one case. Each call
    registered is counted against the submission limits in the same transaction."""
    details = CallDetails(
        channel=Channel.ONLINE,
        description=request.description,
        category=category_for(request.description, request.category),
        grid=request.place.grid,
        address=request.address,
        latitude=request.place.latitude,
        longitude=request.place.longitude,
        caller_name=request.caller_name,
        caller_phone=phone,
        photos=request.photos,
    )
    with transaction.atomic():
        call, created = call_register_outside(
            actor=door(), details=details, attach_to=attach_to, idempotency_key=key, hold=request.hold
        )
        if created:
            Attempt.objects.create(kind=Attempt.Kind.SUBMISSION, phone=phone, ip=ip)
    return call, created


def submitted_before(*, key: str) -> bool:
    """Whether the residents' door already registered a call under `key` (a double submit: it is
    answered with the first call, and not refused by a limit it reached itself)."""
    return bool(key) and Call.objects.filter(created_by__username=DOOR_USERNAME, idempotency_key=key).exists()


def records_prune(*, older_than=timedelta(days=2)) -> int:
    """Delete the codes and attempts no limit reads any more (older than a day, with a margin).
    Returns how many rows went."""
    cutoff = timezone.now() - older_than
    codes, _by_model = PhoneCode.objects.filter(created_at__lt=cutoff).delete()
    attempts, _by_model = Attempt.objects.filter(at__lt=cutoff).delete()
    return codes + attempts
