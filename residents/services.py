"""The residents' own page: confirming a mobile number with a one-time SMS code, the abuse limits,
and a resident's request registered as a call on the `online` channel (docs/residents.md).

Every limit is counted in PostgreSQL (`Attempt`, `PhoneCode`), never in Redis, so it holds while
Redis is down. Each check is one query."""

import math
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Count, F, Min, Q
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


def place_for(*, community=None, latitude=None, longitude=None) -> CallPlace:
    """Where the problem is: the point tapped on the map (its grid found from the boundaries), or
    else the community chosen. A community is not a grid, and a case needs one: it goes to the
    community's first grid (the lowest code); the dispatchers correct it if the address says
    otherwise. Refused (InvalidInput on `community`) outside the district or with neither."""
    if latitude is not None and longitude is not None:
        try:
            return call_place(latitude=latitude, longitude=longitude)
        except InvalidInput as error:
            raise InvalidInput(str(error), "community") from error
    if community is None:
        raise InvalidInput(_("Tap the map where it is, or choose your community."), "community")
    grid = Region.objects.filter(level=Region.Level.GRID, code__startswith=community.code).order_by("code").first()
    if grid is None:
        raise InvalidInput(_("This community has no grid yet: tap the map where it is instead."), "community")
    return CallPlace(grid)


def door() -> object:
    """The account the residents' page records its calls under: it signs in nowhere."""
    return system_user_ensure(username=DOOR_USERNAME, real_name=DOOR_NAME)


def request_submit(*, phone: str, ip: str, request: ResidentRequest, attach_to=None, key: str) -> tuple[Call, bool]:
    """Register a resident's request as a call on the `online` channel from the confirmed `phone`:
    a new case (dispatched by the routing rules after commit, acknowledged by SMS by the notice
    table) or, with `attach_to`, one more call on that case. The same `key` (the form's
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
        call, created = call_register_outside(actor=door(), details=details, attach_to=attach_to, idempotency_key=key)
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
