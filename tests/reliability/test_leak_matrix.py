"""The leak matrix: every route that names a case × every role × a case inside and outside the
role's scope, generated from the URL configuration and the OpenAPI schema, not kept by hand.

- A route is exercised when every parameter of its path is one this module knows how to fill
  (`PARAMETERS`: a case number, a photo of a case, a format suffix) and one of them names a case,
  so a new `/cases/<number>/...` page or `/api/v1/cases/{number}/...` action is covered the day it
  is added. Every other route is in `CASELESS` with a one-word reason: a route this module neither
  exercises nor lists fails `test_every_route_is_exercised_or_listed_as_caseless`.
- Every method a route accepts is sent: a page gets GET and POST (with a body that passes the
  forms, so that a refusal comes from the service, not from a missing field); an API operation
  gets the methods of the schema, with a minimal body built from its request schema.
- Outside the role's scope, or with a photo of another case: 404, never 200, 403, 409 or 500 (a
  403 or a 409 would confirm that the case exists), and nothing changed. A role that may read the
  case but never take the action (`MAY_ACT`; the district official takes none): 403 from the API
  (not a 409 or a 400 that a check made before the permission would give), and nothing changed
  through either door. No 500 anywhere.
- "Nothing changed" covers every table of a case's file (found from the models' foreign keys),
  each summed up as its row count and a sum of row hashes: the case rows (status, updated_at,
  closure), the assignments with the lead unit and the deadlines, the events, calls, photos,
  supervisions, extension requests, alerts, notifications and the outbox.

Roles: the seven demo roles (a superuser, a dispatcher, the district official, a grid worker, a
community, a street and a department clerk) and outsiders (grid workers of the next grid and of
another street, clerks of another community and of another department, an account with no
posting). Each is sent the cases it may read, one in each state (registered, in progress with a
helper, an extension request and two supervisions, resolved), and its nearest neighbours outside
(`CHECKED`); the district-wide roles, who may read everything, a number no case has.

The world is built once per module (once per worker under xdist) in a transaction rolled back at
the end; after a request that may have changed it, it is rolled back to a savepoint taken before
(`schema_walk.Rewind`), so a request that succeeds leaves the world as the next request expects it.
"""

import functools
import json
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

import pytest
import time_machine
from django.apps import apps
from django.conf import settings
from django.contrib.messages import get_messages
from django.db import DatabaseError, connection, transaction
from django.test import Client, override_settings
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from cases.models import Case, CaseEvent
from cases.services import case_photos_add, categories_load
from escalation.models import Supervision
from feedback.models import FeedbackSettings
from handling import services as handling_services
from routing import dispatch
from routing.selectors import cases_for
from tests.factories import UnitFactory, UserFactory, make_cast, member, open_case, posted, routing_setup
from tests.handling.helpers import TUESDAY, photo
from tests.reliability import schema_walk
from tests.reliability.schema_walk import SCHEMA, Rewind, example, resolve, statements_that_may_write
from units.models import Unit

# --- the routes ----------------------------------------------------------------------------------

# Routes that take no case, by URL name (or by pattern when unnamed), each with why.
CASELESS = {
    "home": "landing",
    "healthz": "probe",
    "set_language": "language",
    "accounts:login": "auth",
    "accounts:logout": "auth",
    "places:index": "places",
    "places:region": "region",
    "intake:new": "intake",
    "intake:place-options": "places",
    "intake:caller-history": "phone",
    "intake:duplicates": "search",
    "intake:category-suggestions": "categories",
    "routing:pick": "search",
    "routing:console": "list",
    "routing:console-dispatch": "body",
    "routing:console-bulk": "body",
    "routing:console-extensions": "list",
    "routing:supervision": "list",
    "notices:inbox": "own",
    "notices:read": "own",
    "notices:badge": "own",
    "notices:preferences": "own",
    "handling:queue": "list",
    "handling:queue-sign": "body",
    "cases:list": "list",
    "feedback:callbacks": "list",
    "feedback:verifications": "list",
    "feedback:metrics": "figures",
    "dashboards:index": "figures",
    "dashboards:overview": "region",
    "dashboards:my-grids": "list",
    "dashboards:ranking": "figures",
    "dashboards:hotspots": "figures",
    "dashboards:hotspot-promote": "hotspot",
    "dashboards:monthly-problems": "figures",
    "dashboards:export": "export",
    "dashboards:export-job": "owner",
    "dashboards:export-download": "owner",
    "resident-thanks": "static",
    "resident": "token",
    "resident-status": "token",
    # The residents' own page: no account; its cases are the confirmed number's (tests/residents).
    "residents:start": "resident",
    "residents:code": "resident",
    "residents:leave": "resident",
    "residents:new": "resident",
    "residents:mine": "own",
    "residents:streets": "places",
    "residents:locate": "places",
    # Open311 GeoReport v2: no session counts there, an API key says what may be read (read_own,
    # read_all); a case outside the key's reach answers 404 like a missing one (tests/integrations).
    "open311:services": "public",
    "open311:service": "public",
    "open311:requests": "key",
    "open311:request": "key",
    "open311:token": "key",
    "schema": "schema",
    "api-docs": "docs",
    "api:api-root": "index",
    "api:token": "auth",
    "api:me": "own",
    "api:inbox": "own",
    "api:inbox-read": "own",
    "api:calls": "intake",
    "api:suggestions": "categories",
    "api:queue": "list",
    "api:callbacks": "list",
    "api:metrics": "figures",
    "api:routing-preview": "rules",
    "api:stats-summary": "figures",
    "api:stats-ranking": "figures",
    "api:region-list": "places",
    "api:region-detail": "region",
    "api:region-boundary": "region",
    "api:regions-geojson": "places",
    "api:regions-locate": "places",
    "api:unit-list": "units",
    "api:unit-detail": "unit",
    "api:category-list": "categories",
    "api:category-detail": "category",
    # The volunteer teams: no case in them, the same list for every reader (tests/volunteers/test_teams.py).
    "api:volunteer-team-list": "teams",
    "api:case-list": "list",
    # 任务发布: a task by its id, read by its publisher's staff and the volunteers in its reach (404
    # to anyone else; tests/volunteers/test_tasks_api.py); a task from a case is published by number
    # in the body, looked up in the caller's scope (an unknown case alike, 400).
    "volunteers:tasks": "list",
    "volunteers:task-new": "body",
    "volunteers:campaign-new": "campaign",
    "volunteers:task": "task",
    "volunteers:task-confirm": "task",
    "volunteers:task-photo": "task",
    "volunteers:task-signup": "task",
    "volunteers:task-signup-team": "task",
    "volunteers:task-withdraw": "task",
    "volunteers:task-checkin": "task",
    "volunteers:task-checkout": "task",
    "volunteers:me": "own",
    "api:tasks": "list",
    "api:task-signup": "task",
    "api:task-signup-team": "task",
    "api:task-withdraw": "task",
    "api:task-checkin": "task",
    "api:task-checkout": "task",
    "api:task-confirm": "task",
    # Work orders: an integrating system's API key, its own orders (tests/integrations/test_orders.py).
    "api:integration-orders": "key",
    "api:integration-order": "key",
    # 需求对接 and 结邻共建: a need, a meeting or a problem by its id, in the committee's own
    # community (404 to anyone else); a problem made a case opens a new one (tests/volunteers).
    "volunteers:needs": "list",
    "volunteers:needs-open": "list",
    "volunteers:need": "need",
    "volunteers:need-accept": "need",
    "volunteers:need-done": "need",
    "volunteers:need-withdraw": "need",
    "volunteers:need-offer": "need",
    "volunteers:meetings": "list",
    "volunteers:meeting-new": "meeting",
    "volunteers:meeting": "meeting",
    "volunteers:problem-case": "meeting",
    "volunteers:problem-task": "meeting",
    "volunteers:contributions": "own",
    "dashboards:social": "figures",
    "dashboards:social-place": "region",
    # 评理说事 and 议事会's figures: a place of the person's dashboards (tests/mediation/test_figures.py).
    "dashboards:mediation": "figures",
    "dashboards:mediation-place": "region",
    # 议事会: a council, a meeting or an item by its id, among the councils the person may read
    # (404 otherwise); a case sent to a council by number in the body, looked up in the sender's
    # scope (tests/mediation/test_councils.py); the residents' list and notices are public.
    "mediation:councils": "list",
    "mediation:council": "council",
    "mediation:council-propose": "council",
    "mediation:council-meeting-new": "council",
    "mediation:council-meeting": "council",
    "mediation:council-meeting-publish": "council",
    "mediation:council-notice": "public",
    "mediation:council-item-case": "council",
    "mediation:council-item-task": "council",
    "residents:councils": "public",
    "api:councils": "list",
    "api:council-meetings": "council",
    # 志愿活动积分 and 预约服务: a volunteer's own ledger; a volunteer, reward, service or booking by
    # its id, within the committee's community or the team's own (404 otherwise; tests/volunteers).
    "volunteers:my-points": "own",
    "volunteers:my-points-redeem": "own",
    "volunteers:points-ranking": "figures",
    "volunteers:points-volunteers": "list",
    "volunteers:points-volunteer": "volunteer",
    "volunteers:rewards": "list",
    "volunteers:rewards-stock": "reward",
    "volunteers:bookings": "list",
    "volunteers:bookings-cancel": "booking",
    "volunteers:bookings-team": "list",
    "volunteers:bookings-team-act": "booking",
    "volunteers:services": "list",
    "volunteers:services-change": "service",
    "residents:book": "resident",
    "residents:bookings": "own",
    "residents:bookings-cancel": "own",
    "api:volunteer-me": "own",
    "api:volunteer-me-points": "own",
    # 评理说事: a mediation by its id, read by its point's mediators and host staff, dispatchers and
    # officials (404 to anyone else; tests/mediation/test_api.py); sent from a case by number.
    "api:mediations": "list",
    "api:mediation": "mediation",
    "api:mediation-schedule": "mediation",
    "api:mediation-session": "mediation",
    "api:mediation-agreement": "mediation",
    "api:mediation-no-agreement": "mediation",
    "api:mediation-sign": "mediation",
    "api:mediation-break": "mediation",
    "api:mediation-refer": "mediation",
    "api:mediation-close": "mediation",
    "api:mediation-party-reveal-phone": "mediation",
    # 评理说事's pages: a mediation by its id among the person's (404 otherwise;
    # tests/mediation/test_pages.py); the list and the walk-in form are the person's own points'.
    "mediation:list": "list",
    "mediation:new": "own",
    "mediation:detail": "mediation",
    "mediation:schedule": "mediation",
    "mediation:session": "mediation",
    "mediation:agreement": "mediation",
    "mediation:no-agreement": "mediation",
    "mediation:sign": "mediation",
    "mediation:break": "mediation",
    "mediation:refer": "mediation",
    "mediation:close": "mediation",
    "mediation:agreement-print": "mediation",
    "mediation:reveal-phone": "mediation",
    # Held requests from integrating systems, before they are cases: dispatchers only.
    "integrations:held": "list",
    "integrations:held-place": "inbound",
    "integrations:held-refuse": "inbound",
}
# The admin is a door of its own: superusers only, under Django's permissions (cases read-only).
CASELESS_PREFIXES = {"admin/": "admin"}

# The caseless routes marked "body" take case numbers in the POST body: a case outside the scope
# must answer exactly like a case that does not exist.
BODY_CASE_FIELDS = {
    "handling:queue-sign": "cases",
    "routing:console-dispatch": "case",
    "routing:console-bulk": "cases",
    "volunteers:task-new": "case",
}

# Who may ever take an action, by the last word of the URL name ("case-" and "supervision-"
# dropped); anyone else who can read the case is refused (403 from the API) with nothing changed.
# An action not listed here is still refused to the official and to people without a role.
DISPATCHER, OFFICIAL, GRID_WORKER = "dispatcher", "official", "grid_worker"
COMMUNITY, STREET, DEPARTMENT, NO_ROLE = "community", "street", "department", "none"
UNITS = frozenset({COMMUNITY, STREET, DEPARTMENT})  # staff of units that lead or assist
SUPERVISORS = frozenset({DISPATCHER, STREET})  # the centre works the leadership's supervision
MAY_ACT = {
    "dispatch": {DISPATCHER},
    # 改派: dispatchers; a street office passing its case down, or reassigning one it supervises.
    "redispatch": SUPERVISORS,
    "pass-down": SUPERVISORS,
    "reassign": SUPERVISORS,
    "sign": UNITS,
    "contact": UNITS,
    "note": UNITS,
    "resolve": UNITS,
    "return": UNITS,
    "assist": UNITS,
    "extend": UNITS,
    "report": UNITS,
    # A community's extension is decided by its street office, any other by the centre.
    "extend-decide": SUPERVISORS,
    "decide": SUPERVISORS,
    "urge": SUPERVISORS,
    "set-deadline": SUPERVISORS,
    "deadline": SUPERVISORS,
    "callback": {DISPATCHER},
    "reopen": {DISPATCHER},
    "close": {DISPATCHER},
    "merge": {DISPATCHER},
    # 改分类, 改网格 (routing/reclassify.py): dispatchers only; its page is theirs alone (others: 404).
    "reclassify": {DISPATCHER},
    "verify": {GRID_WORKER},
    "reveal-phone": {DISPATCHER, GRID_WORKER, COMMUNITY, STREET, DEPARTMENT},
    # 评理说事: a dispatcher sends an open case to a mediation point, its lead unit one it holds.
    "mediate": UNITS | {DISPATCHER},
}
# Reading, not acting: nothing changes even on a POST. The first three answer 200 to anyone who
# may read the case; the workspace only to those working on it (others: 404 or the case page).
READS = {"detail", "events", "photo", "workspace"}
ALWAYS_200 = {"detail", "events", "photo"}


@dataclass(frozen=True)
class Route:
    pattern: str  # as written in the URL configuration: messages and test ids
    name: str | None
    params: tuple
    methods: tuple
    api: bool
    schema_path: str | None = None

    @property
    def key(self):
        return self.name or self.pattern

    @property
    def test_id(self):
        return self.key + (".<format>" if "format" in self.params else "")

    @property
    def action(self):
        word = self.name.split(":")[-1] if self.name else self.pattern.strip("/^$").split("/")[-1]
        return word.removeprefix("case-").removeprefix("supervision-").replace("_", "-")


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = ":".join(part for part in (namespace, entry.namespace) if part)
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            name = ":".join(part for part in (namespace, entry.name) if part) if entry.name else None
            yield prefix + str(entry.pattern), name, entry


HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def _view_methods(callback):
    """A DRF viewset answers its actions, a DRF view the handlers it defines, a Django view
    whatever it is sent: GET and POST (a POST-only page answers GET with 405, checked to be the
    same for every case and role)."""
    if getattr(callback, "actions", None):
        return set(callback.actions)
    cls = getattr(callback, "cls", None)
    if cls is not None:
        return {method for method in HTTP_METHODS if hasattr(cls, method)}
    return {"get", "post"}


# The API as its schema describes it: operations by path, for the methods and request bodies.


def _schema_path(name, params):
    """The schema's path of a named route ("/api/v1/cases/{number}/dispatch/"), if it has one."""
    if not name:
        return None
    try:
        url = reverse(name, kwargs={param: f"zz{param}zz" for param in params})
    except NoReverseMatch:
        return None
    for param in params:
        url = url.replace(f"zz{param}zz", f"{{{param}}}")
    return url if url in SCHEMA["paths"] else None


def all_routes() -> list[Route]:
    """Every route of the URL configuration: pages, htmx fragments, the API, the admin."""
    routes = []
    for pattern, name, entry in _walk(get_resolver().url_patterns):
        params = tuple(entry.pattern.regex.groupindex)
        path = _schema_path(name, params) if pattern.startswith("api/") else None
        methods = _view_methods(entry.callback)
        if path is not None:
            methods |= set(SCHEMA["paths"][path]) & HTTP_METHODS
        routes.append(Route(pattern, name, params, tuple(sorted(methods)), pattern.startswith("api/"), path))
    return routes


# Path parameters this module fills: from the case under test. `photo_id` is the case's own photo
# if it has one, else another case's photo (which must answer 404 like a case outside the scope).
CASE_PARAMETERS = {"number"}
PARAMETERS = {"number", "photo_id", "format"}


def is_exercised(route):
    return set(route.params) <= PARAMETERS and bool(CASE_PARAMETERS & set(route.params))


def caseless_reason(route):
    if route.key in CASELESS:
        return CASELESS[route.key]
    return next((why for prefix, why in CASELESS_PREFIXES.items() if route.pattern.startswith(prefix)), None)


ROUTES = all_routes()
CASE_ROUTES = [route for route in ROUTES if is_exercised(route)]


# --- request bodies ------------------------------------------------------------------------------

# What the schema cannot know: which unit code and which case number exist. D-HOUSING may lead
# any case; a case merged "into" itself gets past the API's lookup to the service's checks; "other"
# is a reason every form and serializer with a `reason` accepts (return, exemption, free text).
HINTS = {"unit": lambda number: "D-HOUSING", "into": lambda number: number, "reason": lambda number: "other"}


def body_from(schema, number):
    """Every writable field a value: the hint for its name or an example of its type. Nullable
    fields, lists and files are left out (none is needed to reach the service)."""
    body = {}
    for name, node in resolve(schema).get("properties", {}).items():
        target = resolve(node)
        if node.get("readOnly") or node.get("nullable") or target.get("nullable"):
            continue
        if target.get("type") in ("array", "object") or target.get("format") == "binary":
            continue
        body[name] = HINTS[name](number) if name in HINTS else example(node)
    return body


@functools.cache
def api_body(route, method, number):
    operation = SCHEMA["paths"].get(route.schema_path or "", {}).get(method, {})
    content = operation.get("requestBody", {}).get("content", {})
    if not content:
        return None
    return body_from((content.get("application/json") or next(iter(content.values())))["schema"], number)


@functools.cache
def page_body(number):
    """One form body for every page action: the fields of every request body of the API (the
    page forms use the same names), booleans as the forms' "1" and "0"."""
    body = {}
    for operations in SCHEMA["paths"].values():
        for operation in operations.values():
            for content in operation.get("requestBody", {}).get("content", {}).values():
                for name, value in body_from(content["schema"], number).items():
                    body.setdefault(name, ("1" if value else "0") if isinstance(value, bool) else value)
    return body


# --- the world -----------------------------------------------------------------------------------

MISSING = "SJT-20260310-99999"  # a well-formed number no case has
CASE_KEYS = ("registered", "working", "resolved", "grid_b", "elsewhere")


@dataclass
class Role:
    key: str
    kind: str
    user: object
    inside: frozenset  # the world's cases this role may read (declared, checked against cases_for)
    client: Client = field(default=None, repr=False)


# What each role may read of the world below, declared here rather than asked of cases_for.
SCOPES = {
    "admin": set(),  # a superuser: no postings, so no cases (the admin is their door)
    "dispatcher": set(CASE_KEYS),
    "official": set(CASE_KEYS),
    "gridworker": {"registered", "working", "resolved"},  # grid A
    "grid_b_worker": {"grid_b"},  # the next grid of the same community
    "grid_c_worker": {"elsewhere"},  # a grid of another street
    "community_clerk": {"registered", "working", "resolved", "grid_b"},
    "street_clerk": {"registered", "working", "resolved", "grid_b"},
    "dept_clerk": {"resolved"},  # only what its department was given
    "other_community_clerk": {"elsewhere"},
    "other_dept_clerk": {"elsewhere"},
    "nobody": set(),  # an account with no posting at all
}
# The cases the matrix sends each role: those it may read (one of each state) and its nearest
# neighbours outside (the next grid, the other street, another unit's case), or a number no case
# has for the district-wide roles, who may read every case there is.
CHECKED = {
    "admin": ("working", "missing"),
    "dispatcher": ("registered", "working", "resolved", "missing"),
    "official": ("registered", "working", "resolved", "missing"),
    "gridworker": ("registered", "working", "resolved", "grid_b"),
    "grid_b_worker": ("grid_b", "working"),
    "grid_c_worker": ("elsewhere", "working"),
    "community_clerk": ("registered", "working", "resolved", "elsewhere"),
    "street_clerk": ("registered", "working", "resolved", "elsewhere"),
    "dept_clerk": ("resolved", "working"),
    "other_community_clerk": ("elsewhere", "working"),
    "other_dept_clerk": ("elsewhere", "resolved"),
    "nobody": ("working",),
}


@dataclass
class World:
    roles: list
    cases: dict  # key → Case
    photos: dict  # key → CasePhoto id
    baseline: tuple = ()
    rewind: Rewind = field(default_factory=Rewind)  # the savepoint every request meets the world in

    def number(self, key):
        return MISSING if key == "missing" else self.cases[key].number

    def fill(self, route, key):
        """The URL kwargs of `route` for case `key`, and whether every object they name belongs
        to that case."""
        kwargs, belongs = {}, True
        for param in route.params:
            if param == "number":
                kwargs[param] = self.number(key)
            elif param == "photo_id":
                own = self.photos.get(key)
                belongs = own is not None
                kwargs[param] = own or self.photos["elsewhere" if key != "elsewhere" else "working"]
            elif param == "format":
                kwargs[param] = "json"
        return kwargs, belongs


def _build_world():
    cast = make_cast()
    categories_load()
    routing_setup(cast)
    FeedbackSettings.load()  # the policy row is created on first read, as on any running system
    volunteers = UnitFactory(code="SOCIAL-VOL", name="苏家屯区志愿者协会", kind=Unit.Kind.SOCIAL, region=cast.district)
    water = UnitFactory(code="D-WATER", name="区水务局", kind=Unit.Kind.DEPARTMENT, region=cast.district)
    users = {
        "admin": (NO_ROLE, UserFactory(username="t_admin", is_staff=True, is_superuser=True)),
        "dispatcher": (DISPATCHER, cast.dispatcher),
        "official": (OFFICIAL, cast.official),
        "gridworker": (GRID_WORKER, cast.gridworker),
        "grid_b_worker": (GRID_WORKER, cast.outsider),
        "grid_c_worker": (GRID_WORKER, posted(UserFactory(username="t_grid_c"), cast.grid_c)),
        "community_clerk": (COMMUNITY, cast.community_clerk),
        "street_clerk": (STREET, cast.street_clerk),
        "dept_clerk": (DEPARTMENT, cast.dept_clerk),
        "other_community_clerk": (COMMUNITY, member(UserFactory(username="t_other_comm"), cast.other_committee)),
        "other_dept_clerk": (DEPARTMENT, member(UserFactory(username="t_other_dept"), water)),
        "nobody": (NO_ROLE, UserFactory(username="t_nobody")),
    }

    # Registered, waiting for a dispatcher.
    registered = open_case(cast)
    # In progress at 金山社区's committee: volunteers called in, an extension asked for, overdue
    # enough to be supervised by the street office and the district leadership; a photo.
    working = open_case(cast, description="楼道堆放杂物堵塞消防通道")
    dispatch.case_dispatch(case=working, unit=cast.committee, actor=cast.dispatcher)
    dispatch.case_sign(case=working, actor=cast.community_clerk)
    dispatch.case_assist(case=working, unit=volunteers, actor=cast.community_clerk, note="请协助清运")
    lead = dispatch.lead_assignment(working)
    dispatch.extension_request(
        case=working, actor=cast.community_clerk, until=lead.resolve_due + timedelta(hours=1), reason="等待清运车辆"
    )
    for level, unit in ((1, cast.street_office), (2, cast.leadership)):
        Supervision.objects.create(case=working, assignment=lead, unit=unit, level=level, started_at=timezone.now())
    working_photo = case_photos_add(case=working, actor=cast.dispatcher, images=[photo()])[0]
    # Resolved by 区住房和城乡建设局, waiting for the callback and the on-site check (路灯, verified).
    resolved = open_case(cast, category_code="0205", description="小区路灯不亮")
    dispatch.case_dispatch(case=resolved, unit=cast.department, actor=cast.dispatcher)
    dispatch.case_sign(case=resolved, actor=cast.dept_clerk)
    handling_services.case_resolve(case=resolved, actor=cast.dept_clerk, result_kind="solved", result="已更换灯泡")
    # The next grid of the same community, registered.
    grid_b = open_case(cast, grid=cast.grid_b, description="单元门禁损坏")
    # Another street: in progress at 区水务局, with a photo.
    elsewhere = open_case(cast, grid=cast.grid_c, category_code="0207", description="村路积水")
    dispatch.case_dispatch(case=elsewhere, unit=water, actor=cast.dispatcher)
    dispatch.case_sign(case=elsewhere, actor=users["other_dept_clerk"][1])
    elsewhere_photo = case_photos_add(case=elsewhere, actor=cast.dispatcher, images=[photo()])[0]

    roles = []
    for key, (kind, user) in users.items():
        client = Client(raise_request_exception=False)
        client.force_login(user)
        roles.append(Role(key, kind, user, frozenset(SCOPES[key]), client))
    cases = {
        "registered": registered,
        "working": working,
        "resolved": resolved,
        "grid_b": grid_b,
        "elsewhere": elsewhere,
    }
    for case in cases.values():
        case.refresh_from_db()
    return World(roles, cases, {"working": working_photo.pk, "elsewhere": elsewhere_photo.pk})


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The world, built once for the module inside a transaction that is rolled back after it, on
    a Tuesday morning (the clock runs) with photos in a temporary folder."""
    media = tmp_path_factory.mktemp("leak-matrix-media")
    with (
        django_db_blocker.unblock(),
        # Sessions in a signed cookie: each of the thousands of requests reads one row less (the
        # sessions' storage is not what this module tests).
        override_settings(MEDIA_ROOT=media, SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies"),
        time_machine.travel(TUESDAY, tick=True),
        transaction.atomic(),
    ):
        built = _build_world()
        built.baseline = snapshot()
        yield built
        transaction.set_rollback(True)


def _case_tables():
    """The tables that hold a case's file: the case, every table pointing at a case or at a row
    that points at one (events, calls, photos, assignments, their extension requests and
    supervisions, notifications, resident links, ...), and the outbox."""
    base = str(settings.BASE_DIR)
    models = [
        model
        for config in apps.get_app_configs()
        if config.path.startswith(base)
        for model in config.get_models()
        if not model._meta.proxy
    ]

    def points_at(model, targets):
        return any(f.many_to_one and f.related_model in targets for f in model._meta.concrete_fields)

    case_rows = {Case} | {model for model in models if points_at(model, {Case})}
    case_rows |= {model for model in models if points_at(model, case_rows)}
    case_rows |= set(apps.get_app_config("outbox").get_models())
    return sorted(model._meta.db_table for model in case_rows)


def snapshot() -> tuple:
    return schema_walk.snapshot(_case_tables())


def changed_tables(world, after):
    return schema_walk.changed_tables(world.baseline, after)


# --- sending a request ---------------------------------------------------------------------------


def send(world, role, method, url, *, api, body):
    """One request, the world put back after it (`Rewind`): (status, tables it changed, response).
    The digests are taken only after a request that sent a statement that may write (most send
    none: the reads, and the refusals made before anything is written); after any other, whether
    it left the transaction broken is still asked (of the status PostgreSQL reported last)."""
    client = role.client
    world.rewind.begin()
    with statements_that_may_write() as writes:
        if method == "get":
            response = client.get(url)
        elif api:
            payload = json.dumps(body) if body is not None else ""
            response = client.generic(method.upper(), url, payload, content_type="application/json")
        else:
            # Form-encoded, as a browser posts a form without files (and far cheaper to parse).
            response = client.post(url, urlencode(body or {}), content_type="application/x-www-form-urlencoded")
    try:
        after = None if world.rewind.broken() else snapshot() if writes else world.baseline
    except DatabaseError:
        after = None
    finally:
        world.rewind.end(wrote=bool(writes) or response.status_code >= 500)
    if response.streaming:
        # Read to the end: the test client then closes the file (a photo) the way a server would.
        # (Not response.close(): outside the client that would close the database connection.)
        b"".join(response.streaming_content)
    # Messages ride in a cookie until a page shows them: drop them, so they never pile up.
    client.cookies.pop("messages", None)
    return response.status_code, changed_tables(world, after), response


def forbidden(role, action):
    if role.kind in (OFFICIAL, NO_ROLE):
        return True
    return action in MAY_ACT and role.kind not in MAY_ACT[action]


def judge(route, method, role, key, status, changed, *, belongs):
    """What is wrong with one answer, or None."""
    if status >= 500:
        return f"{status}: a server error"
    if status == 405:
        return None  # the method is not the route's: checked to be the same for everyone
    inside = key in role.inside and belongs
    if not inside:
        if status != 404:
            return f"{status} where 404 is due: the case is outside the scope"
        return "changed " + ", ".join(changed) if changed else None
    action = route.action
    reading = method == "get" or action in READS
    if reading:
        if changed:
            return "a read changed " + ", ".join(changed)
        if method == "get" and (route.api or action in ALWAYS_200) and status != 200:
            return f"{status} where 200 is due: the role may read the case"
        if method == "get" and status not in (200, 302, 404):
            return f"{status} on a read"
        return None
    refused = forbidden(role, action)
    if route.api:
        if refused and status != 403:
            return f"{status} where 403 is due: the role may read the case but not {action}"
        if status not in (200, 201, 204, 400, 403, 409):
            return f"{status}: not an answer of the API's"
        if (refused or status >= 300) and changed:
            return f"refused with {status} but changed " + ", ".join(changed)
        return None
    if status not in (200, 302, 403, 404):
        return f"{status}: not an answer of a page's"
    if refused and changed:
        return f"a role that may not {action} changed " + ", ".join(changed)
    return None


# --- the tests -----------------------------------------------------------------------------------


def test_every_route_is_exercised_or_listed_as_caseless():
    unexplained = [route.pattern for route in ROUTES if not is_exercised(route) and caseless_reason(route) is None]
    assert not unexplained, (
        "Routes neither exercised by the leak matrix nor listed in CASELESS (a parameter it cannot fill, "
        f"or a new route that takes no case): {unexplained}"
    )
    contradictions = [route.pattern for route in CASE_ROUTES if route.key in CASELESS]
    assert not contradictions, f"Listed as caseless but naming a case: {contradictions}"
    names = {route.key for route in ROUTES}
    stale = sorted(set(CASELESS) - names)
    assert not stale, f"CASELESS lists routes that no longer exist: {stale}"


def test_every_operation_of_the_schema_on_a_case_is_exercised():
    exercised = {(route.schema_path, method) for route in CASE_ROUTES if route.schema_path for method in route.methods}
    routed = {route.schema_path for route in ROUTES if route.schema_path}
    missing = []
    for path, operations in SCHEMA["paths"].items():
        assert path in routed, f"{path} is in the schema but no route of the URL configuration serves it"
        for method, operation in operations.items():
            parameters = {p["name"] for p in operation.get("parameters", ()) if p["in"] == "path"}
            if parameters & CASE_PARAMETERS and (path, method) not in exercised:
                missing.append(f"{method.upper()} {path}")
    assert not missing, f"Operations on a case the matrix does not send: {missing}"
    # An API route on a case that the schema does not describe would be an undocumented door
    # (the router's format suffixes, `/cases/<number>.json`, are the one kind the schema leaves out).
    undocumented = [r.pattern for r in CASE_ROUTES if r.api and r.schema_path is None and "format" not in r.params]
    assert not undocumented, f"API routes on a case missing from the schema: {undocumented}"


def test_the_world_is_scoped_as_the_matrix_assumes(world, db):
    for role in world.roles:
        numbers = {case.number: key for key, case in world.cases.items()}
        seen = {numbers[n] for n in cases_for(role.user).filter(number__in=numbers).values_list("number", flat=True)}
        assert seen == role.inside, role.key


def test_the_snapshot_sees_a_write_and_a_rolled_back_one_leaves_none(world, db):
    """The detector of "nothing changed" is not blind: an event, a moved deadline and a status
    each show; a savepoint rolled back shows nothing."""
    case = world.cases["working"]
    with transaction.atomic():
        Case.objects.filter(pk=case.pk).update(status=Case.Status.RESOLVED)
        dispatch.lead_assignment(case).extension_requests.update(reason="改了")
        CaseEvent.objects.create(case=case, action="note", note="x")
        assert set(changed_tables(world, snapshot())) == {
            "cases_case",
            "cases_caseevent",
            "routing_extensionrequest",
        }
        transaction.set_rollback(True)
    assert changed_tables(world, snapshot()) == []


def test_the_rewind_puts_back_a_write_and_a_failed_transaction(world, db):
    """What every request meets: after a request that wrote, or one that left the transaction
    failed, the world is as before it; the savepoint outlives the rollback, for the next request."""
    rewind, case = world.rewind, world.cases["working"]
    for _request in range(2):
        rewind.begin()
        with statements_that_may_write() as writes:
            CaseEvent.objects.create(case=case, action="note", note="x")
        assert changed_tables(world, snapshot()) == ["cases_caseevent"]
        rewind.end(wrote=bool(writes))
        assert changed_tables(world, snapshot()) == []
    rewind.begin()
    CaseEvent.objects.create(case=case, action="note", note="x")
    with pytest.raises(DatabaseError), connection.cursor() as cursor:
        cursor.execute("SELECT 1 / 0")
    assert rewind.broken()
    rewind.end(wrote=False)
    assert not rewind.broken()
    assert changed_tables(world, snapshot()) == []


@pytest.mark.parametrize("route", CASE_ROUTES, ids=lambda route: route.test_id)
def test_a_route_answers_every_role_within_its_scope_only(route, world, db):
    problems, statuses = [], {}
    for role in world.roles:
        for key in CHECKED[role.key]:
            kwargs, belongs = world.fill(route, key)
            url = reverse(route.name, kwargs=kwargs)
            number = world.number(key)
            for method in route.methods:
                body = api_body(route, method, number) if route.api else page_body(number)
                status, changed, _response = send(world, role, method, url, api=route.api, body=body)
                statuses.setdefault(method, set()).add(status)
                problem = judge(route, method, role, key, status, changed, belongs=belongs)
                if problem:
                    problems.append(f"{method.upper()} {url} as {role.key} ({key}): {problem}")
    for method, seen in statuses.items():
        if 405 in seen and seen != {405}:
            problems.append(f"{method.upper()} answers 405 for some cases and roles and {seen - {405}} for others")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", sorted(BODY_CASE_FIELDS))
def test_a_case_in_the_body_outside_the_scope_answers_like_a_missing_one(name, world, db):
    url, field_name = reverse(name), BODY_CASE_FIELDS[name]
    problems = []
    for role in world.roles:
        for key in CASE_KEYS:
            if key in role.inside:
                continue
            answers = []
            for number in (world.number(key), MISSING):
                status, changed, response = send(
                    world, role, "post", url, api=False, body={field_name: number, "unit": "D-HOUSING"}
                )
                text = [str(m).replace(number, "N") for m in get_messages(response.wsgi_request)]
                answers.append((status, response.get("Location"), text))
                if status >= 500 or changed:
                    problems.append(f"{url} as {role.key} with {key}: {status}, changed {changed}")
            if answers[0] != answers[1]:
                problems.append(f"{url} as {role.key}: {key} answers {answers[0]}, a missing case {answers[1]}")
    assert not problems, "\n".join(problems)
