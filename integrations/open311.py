"""Open311 GeoReport v2 under /open311/v2/ (docs/integrations.md): the standard's six methods, in
JSON and XML as the specification writes them, the format chosen by the URL's suffix
(`services.json`, `requests/SJT-20261207-00001.xml`).

- `services` and `services/<code>` are public: the active leaf categories, each with the
  attributes a request may carry (`grid`, `crs`).
- `POST requests` needs a key that may `create`. A request whose place is known (lat and long, the
  `grid` attribute, or an address naming exactly one grid) is registered at once as a call on the
  system's channel and follows the whole loop; its `service_request_id` is the case number. One
  whose place is not known waits for a dispatcher (`integrations.services.inbound_receive`), and
  the answer carries a `token` instead.
- `GET requests`, `requests/<id>` and `tokens/<token>` need a key that may `read_own` (what its
  system sent) or `read_all` (every case). Never a caller's name or phone, never a staff name.
- Every answer that is not a success is the spec's list of errors (`code`, `description`, the
  description naming the field): 400 bad input, 403 a missing, unknown, revoked or foreign key,
  404 an unknown service, request, token or jurisdiction. Every call is recorded (`recorded`).
"""

import functools
import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from accounts.models import phone_validator
from cases.errors import InvalidInput
from cases.models import Case
from cases.services import CallDetails
from grids.models import Region
from intake.serializers import COORDINATE_SYSTEMS
from intake.services import PlaceMismatch, call_place
from integrations.doors import identified, recorded
from integrations.models import JURISDICTION, ApiKey, Inbound
from integrations.selectors import (
    cases_for_key,
    grids_named_in,
    inbound_for_key,
    open311_requests,
    services_open311,
)
from integrations.services import KeyRefused, inbound_receive, key_check

# --- What the standard fixes ------------------------------------------------------------------------

# At most this many requests in one answer, and a window of at most this many days (the spec's
# "Response Volume"); without dates, the most recent window.
REQUESTS_LIMIT = 1000
WINDOW = timedelta(days=90)
# The spec's limit of a description; staff intake allows more (cases.validators.MAX_DESCRIPTION),
# so a longer one is cut in answers.
DESCRIPTION_MAX = 4000
# What the case file keeps: a caller's name and address (cases.models.Case).
NAME_MAX, ADDRESS_MAX = 50, 200
ID_MAX, URL_MAX, EMAIL_MAX = 100, 500, 254
STATUSES = ("open", "closed")
# A date before or after these is a typing error, not a search (and could not be shifted by 90
# days without leaving the calendar).
YEARS = (1900, 2999)

GRID = "grid"
CRS = "crs"
_GRID_CODE = re.compile(r"^[0-9]{15}$")
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]*)\](\[\])?$")
# Characters XML 1.0 cannot carry at all (a description may hold a stray control character).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# The element of each item of a list, by the list's element (the spec's XML).
_ITEMS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
}


def attributes_definition() -> list[dict]:
    """The attributes every service takes (its definition's `attributes`), in the spec's fields."""
    return [
        {
            "variable": True,
            "code": GRID,
            "datatype": "string",
            "required": False,
            "datatype_description": _("A grid's 15-digit code, such as 210111001015001."),
            "order": 1,
            "description": _(
                "The grid (网格) where it happened. Needed when lat and long are not given and the "
                "address names no grid; the request then waits for a dispatcher to place it."
            ),
            "values": [],
        },
        {
            "variable": True,
            "code": CRS,
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": _("Leave it out for GPS coordinates (WGS-84, as the standard has them)."),
            "order": 2,
            "description": _("The coordinate system of lat and long."),
            "values": [{"key": key, "name": str(name)} for key, name in COORDINATE_SYSTEMS],
        },
    ]


# --- Answers --------------------------------------------------------------------------------------


class Refused(Exception):
    """An answer in the spec's error shape: the HTTP status, and one error per problem, each
    (field, message); the description names the field."""

    def __init__(self, status, *problems):
        super().__init__(status)
        self.http_status = status
        self.errors = [
            {"code": status, "description": f"{field}: {message}" if field else str(message)}
            for field, message in problems
        ]


def _element(tag, value):
    """The spec's XML for a value as its JSON has it: a list holds one element per item, named
    by `_ITEMS`; a dict one element per field; true/false; null an empty element."""
    element = ET.Element(tag)
    if isinstance(value, list):
        element.extend(_element(_ITEMS[tag], item) for item in value)
    elif isinstance(value, dict):
        element.extend(_element(name, item) for name, item in value.items())
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = _NOT_XML.sub("", str(value))
    return element


def _answer(fmt, root, data, status=200):
    if fmt == "xml":
        body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(_element(root, data), encoding="utf-8")
        response = HttpResponse(body, content_type="text/xml; charset=utf-8", status=status)
    else:
        body = json.dumps(data, ensure_ascii=False)
        response = HttpResponse(body, content_type="application/json; charset=utf-8", status=status)
    # Answers depend on the key and change with every move of a case: no cache keeps them.
    add_never_cache_headers(response)
    return response


def door(*methods):
    """An Open311 method: the format from the URL (`format`, json or xml), the errors in the
    spec's shape, CSRF off (a key, not a session, says who calls), every call recorded. The view
    returns (root element, data)."""

    def decorate(view):
        @csrf_exempt
        @recorded
        @functools.wraps(view)
        def wrapper(request, *args, format, **kwargs):
            try:
                if request.method not in methods and not (request.method == "HEAD" and "GET" in methods):
                    raise Refused(405, ("", _("Use %(methods)s here.") % {"methods": " or ".join(methods)}))
                root, data = view(request, *args, **kwargs)
            except Refused as refused:
                response = _answer(format, "errors", refused.errors, status=refused.http_status)
                if refused.http_status == 405:
                    response["Allow"] = ", ".join(methods)
                return response
            return _answer(format, root, data)

        return wrapper

    return decorate


def _when(value):
    """ISO 8601 with the district's offset (+08:00), as the spec asks: 2026-12-07T10:00:00+08:00."""
    return timezone.localtime(value).isoformat(timespec="seconds") if value is not None else None


def _shown(value, limit=40):
    """Input echoed in an error message, cut so that a huge value is not sent back whole."""
    return value if len(value) <= limit else value[:limit] + "…"


# --- Who calls ------------------------------------------------------------------------------------


def _jurisdiction_checked(request):
    """A keyless call naming another jurisdiction: 404, as the spec has it (a keyed call is
    checked with its key: 403)."""
    given = request.GET.get("jurisdiction_id", "").strip()
    if given and given != JURISDICTION:
        raise Refused(
            404,
            (
                "jurisdiction_id",
                _("No jurisdiction %(given)s here: this endpoint serves %(ours)s (苏家屯区).")
                % {"given": _shown(given), "ours": JURISDICTION},
            ),
        )


def _key(request, *scopes) -> ApiKey:
    """The caller's key, if it may do one of `scopes`; 403 otherwise. The key is
    read from the body of a POST (as the spec sends it) or the query string."""
    params = request.POST if request.method == "POST" else request.GET
    raw = (params.get("api_key") or request.GET.get("api_key") or "").strip()
    if not raw:
        raise Refused(403, ("api_key", _("Required: send the key issued to your system.")))
    jurisdiction = (params.get("jurisdiction_id") or request.GET.get("jurisdiction_id") or "").strip()
    try:
        key = key_check(raw, *scopes, jurisdiction_id=jurisdiction or None)
    except KeyRefused as refused:
        raise Refused(403, ("api_key", str(refused))) from refused
    identified(request, key)
    return key


# --- Services ---------------------------------------------------------------------------------------


def _service(category) -> dict:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": f"{category.parent.name} · {category.name}",
        # Every service has a definition: the grid (and the coordinates' system) may be given.
        "metadata": True,
        # The id comes back at once when the place is known; otherwise a token (see `_create`).
        "type": "realtime",
        "keywords": ",".join(category.keyword_list),
        "group": category.parent.name,
    }


def _service_get(code):
    category = services_open311().filter(code=code).first() if len(code) <= 10 else None
    if category is None:
        raise Refused(
            404, ("service_code", _("No service %(code)s; GET services lists them.") % {"code": _shown(code)})
        )
    return category


@door("GET")
def service_list(request):
    """GET services: every service (leaf category), public."""
    _jurisdiction_checked(request)
    return "services", [_service(category) for category in services_open311()]


@door("GET")
def service_definition(request, service_code):
    """GET services/<code>: the service's attributes, public."""
    _jurisdiction_checked(request)
    category = _service_get(service_code)
    return "service_definition", {"service_code": category.code, "attributes": attributes_definition()}


# --- Creating a request ---------------------------------------------------------------------------


class _Form:
    """The fields of a POST, each read once and checked; problems are collected, so that one
    answer names every bad field."""

    def __init__(self, data):
        self.data, self.problems = data, []

    def refuse(self, field, message):
        self.problems.append((field, message))

    def text(self, name, limit, *, lines=False):
        value = self.data.get(name, "").strip()
        if not lines:
            value = " ".join(value.split())  # one line: line breaks and runs of spaces are one space
        if len(value) > limit:
            message = _("At most %(limit)d characters (this has %(length)d).")
            self.refuse(name, message % {"limit": limit, "length": len(value)})
            return ""
        return value

    def validated(self, name, limit, validator):
        value = self.text(name, limit)
        if value:
            try:
                validator(value)
            except ValidationError as error:
                self.refuse(name, " ".join(error.messages))
                return ""
        return value

    def coordinate(self, name, bound):
        value = self.text(name, 40)
        if not value:
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or abs(number) > bound:
            self.refuse(
                name, _("A number of degrees from -%(bound)d to %(bound)d, such as 41.6580.") % {"bound": bound}
            )
            return None
        # As the case file keeps it: 6 decimals, about 0.1 m.
        return number.quantize(Decimal("0.000001"))

    def attributes(self):
        """attribute[code]=value pairs: only the definition's codes, one value each, each valid."""
        values = {}
        for name in self.data:
            if not name.startswith("attribute["):
                continue
            match = _ATTRIBUTE.match(name)
            if match is None:
                self.refuse(_shown(name), _("Write an attribute as attribute[code]=value."))
                continue
            code, given = match.group(1), [v.strip() for v in self.data.getlist(name)]
            field = f"attribute[{_shown(code)}]"
            if code not in (GRID, CRS):
                self.refuse(field, _("No such attribute: services/<code> lists them."))
            elif code in values or len(given) > 1:
                self.refuse(field, _("Give one value."))
            else:
                values[code] = given[0] if given else ""
        grid = self._grid(values.get(GRID, ""))
        crs = values.get(CRS, "") or "wgs84"
        if crs not in dict(COORDINATE_SYSTEMS):
            self.refuse(
                f"attribute[{CRS}]",
                _("One of %(keys)s.") % {"keys": ", ".join(key for key, _name in COORDINATE_SYSTEMS)},
            )
            crs = "wgs84"
        return grid, crs, values

    def phone(self):
        number = self.text("phone", 20).replace(" ", "").removeprefix("+86")
        if number:
            try:
                phone_validator(number)
            except ValidationError as error:
                self.refuse("phone", " ".join(error.messages))
                return ""
        return number

    def _grid(self, code):
        if not code:
            return None
        grid = Region.objects.filter(code=code, level=Region.Level.GRID).first() if _GRID_CODE.match(code) else None
        if grid is None:
            self.refuse(
                f"attribute[{GRID}]",
                _("No grid %(code)s in 苏家屯区: a grid's code has 15 digits, such as 210111001015001.")
                % {"code": _shown(code)},
            )
        return grid


def _caller_name(first, last):
    """Family name first and no space for Chinese names (张 + 三 = 张三), "first last" otherwise."""
    if not (first and last):
        return first or last
    if any(ord(char) > 0x2E7F for char in first + last):
        return f"{last}{first}"
    return f"{first} {last}"


@door("GET", "POST")
def service_requests(request):
    """POST requests: create one (key that may `create`); GET requests: the list (key that may
    read)."""
    if request.method == "POST":
        return "service_requests", _create(request)
    return "service_requests", _requests_list(request)


def _create(request):
    key = _key(request, ApiKey.Scope.CREATE)
    if request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise Refused(400, ("", _("Send the fields as application/x-www-form-urlencoded, as the standard does.")))
    form = _Form(request.POST)
    code = request.POST.get("service_code", "").strip()
    if not code:
        form.refuse("service_code", _("Required: a service_code from GET services."))
    category = _service_get(code) if code else None
    grid, crs, attributes = form.attributes()
    given = {name: bool(request.POST.get(name, "").strip()) for name in ("lat", "long")}
    if given["lat"] != given["long"]:
        form.refuse("long" if given["lat"] else "lat", _("Give both lat and long, or neither."))
    latitude, longitude = form.coordinate("lat", 90), form.coordinate("long", 180)
    address = form.text("address_string", ADDRESS_MAX)
    address_id = form.text("address_id", ID_MAX)
    first, last = form.text("first_name", NAME_MAX), form.text("last_name", NAME_MAX)
    name = _caller_name(first, last)
    if len(name) > NAME_MAX:
        form.refuse("last_name", _("The name is at most %(limit)d characters.") % {"limit": NAME_MAX})
    sent = {
        "email": form.validated("email", EMAIL_MAX, EmailValidator()),
        "device_id": form.text("device_id", ID_MAX),
        "account_id": form.text("account_id", ID_MAX),
        "media_url": form.validated("media_url", URL_MAX, URLValidator(schemes=["http", "https"])),
    }
    phone = form.phone()
    description = form.text("description", DESCRIPTION_MAX, lines=True)
    if form.problems:
        raise Refused(400, *form.problems)

    place, reason = _place(grid=grid, latitude=latitude, longitude=longitude, crs=crs, address=address)
    if place is None and not reason:
        if not address_id:
            raise Refused(
                400,
                ("lat", _("Say where: lat and long, address_string, address_id or attribute[grid].")),
            )
        reason = _("Open311: only an address id (%(id)s) was given, which this district does not keep.") % {
            "id": address_id
        }
    # What a dispatcher needs to place a held request (`inbound_place` reads these names), and the
    # request as sent, without the key.
    payload = {
        "service_code": category.code,
        "description": description or category.name,
        "address": address,
        "caller_name": name,
        "caller_phone": phone,
        "lat": str(latitude) if latitude is not None else "",
        "long": str(longitude) if longitude is not None else "",
        "address_string": address,
        "address_id": address_id,
        "first_name": first,
        "last_name": last,
        "phone": phone,
        "attributes": attributes,
        **sent,
    }
    details = None
    if place is not None:
        details = CallDetails(
            channel=key.system.channel,
            # A request may come without a description (the spec makes it optional): the
            # service's name says what it is about.
            description=payload["description"],
            category=category,
            grid=place.grid,
            address=address,
            latitude=place.latitude,
            longitude=place.longitude,
            caller_name=name,
            caller_phone=payload["caller_phone"],
        )
    inbound, _created = inbound_receive(
        system=key.system, kind=Inbound.Kind.OPEN311, payload=payload, details=details, reason=reason
    )
    account = sent["account_id"] or None
    if inbound.case_id:
        number = inbound.case.number
        notice = _("Registered as case %(number)s; it goes to the unit responsible for its category and grid.") % {
            "number": number
        }
        return [{"service_request_id": number, "service_notice": notice, "account_id": account}]
    notice = _("Received; a dispatcher will place it on the map. Ask tokens/%(token)s for its service_request_id.") % {
        "token": inbound.token
    }
    return [{"token": inbound.token, "service_notice": notice, "account_id": account}]


def _place(*, grid, latitude, longitude, crs, address):
    """(the call's place, or None and why it waits for a dispatcher), from the point, the grid
    attribute, or an address naming exactly one grid. A point outside the district, or in another
    grid than the one named, is refused (400)."""
    if latitude is not None or grid is not None:
        try:
            return call_place(grid=grid, latitude=latitude, longitude=longitude, crs=crs), ""
        except PlaceMismatch as mismatch:
            raise Refused(400, (f"attribute[{GRID}]", str(mismatch))) from None
        except InvalidInput as error:
            if error.field in ("latitude", "longitude"):
                raise Refused(400, ({"latitude": "lat", "longitude": "long"}[error.field], str(error))) from None
            # The grids' boundaries are not loaded, or changing: a dispatcher places it.
            return None, _("Open311: %(reason)s") % {"reason": error}
    if not address:
        return None, ""
    named = grids_named_in(address)
    if len(named) == 1:
        return call_place(grid=named[0]), ""
    if named:
        return None, _("Open311: the address “%(address)s” names several grids (%(grids)s).") % {
            "address": address,
            "grids": ", ".join(grid.name for grid in named),
        }
    return None, _("Open311: the address “%(address)s” names no grid.") % {"address": address}


# --- Reading requests -----------------------------------------------------------------------------


def _status_notes(case):
    """The public result once the unit reported one; otherwise why the case is closed, or where
    it stands (our statuses say more than the spec's open and closed)."""
    if case.result and case.status in (Case.Status.RESOLVED, Case.Status.CLOSED):
        return case.result
    if case.status == Case.Status.CLOSED:
        if case.closure_reason == Case.ClosureReason.DUPLICATE and case.merged_into_id:
            return _("Duplicate of %(number)s.") % {"number": case.merged_into.number}
        return case.get_closure_reason_display()
    return case.get_status_display()


def _coordinate(value):
    return float(value) if value is not None else None


def _request(case) -> dict:
    """One request as GET requests shows it: the spec's fields, in its order. No caller's name or
    phone, no staff's name; the unit is named, the person who handles it is not."""
    closed = case.status == Case.Status.CLOSED
    return {
        "service_request_id": case.number,
        "status": "closed" if closed else "open",
        "status_notes": _status_notes(case),
        "service_name": case.category.name,
        "service_code": case.category.code,
        "description": case.description[:DESCRIPTION_MAX],
        "agency_responsible": case.lead_unit,
        "service_notice": None,
        "requested_datetime": _when(case.created_at),
        # For a closed request, when it was closed (the spec's rule).
        "updated_datetime": _when(case.closed_at if closed else case.updated_at),
        "expected_datetime": _when(case.lead_due),
        "address": case.address or None,
        "address_id": case.sent_address_id or None,
        "zipcode": None,
        "lat": _coordinate(case.latitude),
        "long": _coordinate(case.longitude),
        # What the client sent. The case's own photos are not published: they show people and
        # homes, and are served only to staff who may read the case.
        "media_url": case.sent_media_url or None,
    }


def _listed(request, name):
    """A parameter given as a comma-separated list, or several times, or both."""
    return [item.strip() for value in request.GET.getlist(name) for item in value.split(",") if item.strip()]


def _moment(request, name, problems, *, end=False):
    """start_date or end_date: an ISO 8601 date-time (a date alone is the start of its day, or,
    for end_date, its end); None when not given."""
    value = request.GET.get(name, "").strip()
    if not value:
        return None
    try:
        # A date alone first: parse_datetime would read it as the day's first moment.
        day = parse_date(value)
        moment = datetime.combine(day, time.max if end else time.min) if day else parse_datetime(value)
    except ValueError:
        moment = None
    if moment is None or not YEARS[0] <= moment.year <= YEARS[1]:
        problems.append((name, _("An ISO 8601 date-time, such as 2026-12-01T00:00:00+08:00.")))
        return None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _requests_list(request):
    """GET requests: the key's requests, newest first, at most 1,000, within 90 days."""
    key = _key(request, ApiKey.Scope.READ_OWN, ApiKey.Scope.READ_ALL)
    cases = cases_for_key(key)
    numbers = _listed(request, "service_request_id")
    if numbers:
        # The spec: a list of ids overrides every other parameter.
        if len(numbers) > REQUESTS_LIMIT:
            raise Refused(400, ("service_request_id", _("At most %(limit)d at once.") % {"limit": REQUESTS_LIMIT}))
        cases = cases.filter(number__in=numbers)
    else:
        cases = _filtered(request, cases)
    rows = open311_requests(cases).order_by("-created_at", "-id")[:REQUESTS_LIMIT]
    return [_request(case) for case in rows]


def _filtered(request, cases):
    problems = []
    codes = _listed(request, "service_code")
    known = set(services_open311().filter(code__in=codes[:REQUESTS_LIMIT]).values_list("code", flat=True))
    unknown = [code for code in codes if code not in known]
    if unknown:
        shown = ", ".join(_shown(code, 12) for code in unknown[:5]) + (" …" if len(unknown) > 5 else "")
        problems.append(("service_code", _("No such service: %(codes)s.") % {"codes": shown}))
    statuses = set(_listed(request, "status"))
    if statuses - set(STATUSES):
        problems.append(("status", _("open or closed, or both separated by a comma.")))
    start = _moment(request, "start_date", problems)
    end = _moment(request, "end_date", problems, end=True)
    if start and end and end < start:
        problems.append(("end_date", _("The end is before the start.")))
    elif start and end and end - start > WINDOW:
        problems.append(("end_date", _("A search spans at most %(days)d days.") % {"days": WINDOW.days}))
    if problems:
        raise Refused(400, *problems)
    if start is None and end is None:
        end = timezone.now()
    start = start or end - WINDOW
    end = end or start + WINDOW
    cases = cases.filter(created_at__gte=start, created_at__lte=end)
    if codes:
        cases = cases.filter(category__code__in=codes)
    if statuses == {"open"}:
        cases = cases.exclude(status=Case.Status.CLOSED)
    elif statuses == {"closed"}:
        cases = cases.filter(status=Case.Status.CLOSED)
    return cases


@door("GET")
def service_request(request, service_request_id):
    """GET requests/<id>: one request, as a list of one (the spec's shape)."""
    key = _key(request, ApiKey.Scope.READ_OWN, ApiKey.Scope.READ_ALL)
    # A case the key may not read answers like one that does not exist.
    found = open311_requests(cases_for_key(key).filter(number=service_request_id))
    case = found.first() if len(service_request_id) <= 20 else None
    if case is None:
        raise Refused(
            404,
            ("service_request_id", _("No request %(id)s.") % {"id": _shown(service_request_id)}),
        )
    return "service_requests", [_request(case)]


@door("GET")
def request_token(request, token):
    """GET tokens/<token>: the service_request_id of a request that waited for a dispatcher
    (null while it still waits). One the dispatcher refused answers 404 with the reason."""
    key = _key(request, ApiKey.Scope.READ_OWN, ApiKey.Scope.READ_ALL)
    inbound = inbound_for_key(key, token) if len(token) <= 40 else None
    if inbound is None:
        raise Refused(404, ("token", _("No request was received with token %(token)s.") % {"token": _shown(token)}))
    if inbound.state == Inbound.State.REFUSED:
        raise Refused(
            404,
            ("token", _("The request was refused: %(reason)s") % {"reason": inbound.reason}),
        )
    return "service_requests", [
        {"service_request_id": inbound.case.number if inbound.case_id else None, "token": inbound.token}
    ]
