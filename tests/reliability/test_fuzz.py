"""Input fuzzing: every JSON body of the API and every form of the pages, sent text PostgreSQL cannot
store (NUL, a lone surrogate), bidi marks, 100,000 characters and values of the wrong type. The
answer is never a 5xx; text that cannot be stored is refused with a 400 naming the field
(`suqu.middleware.InputGuardMiddleware`, `suqu.parsers.BoundedJSONParser`), and a refused request
leaves nothing behind.

"Every" is generated, not kept by hand:

- The API: every operation of the OpenAPI schema that takes a request body. A plausible body is
  built from its request schema (and must be accepted, so that each poisoned request differs from
  an accepted one by one field); then each property in turn is replaced by each poison. Per
  operation also: 100,000 nested `[`, JSON that is not an object, a key that cannot be stored,
  bytes that are not UTF-8, a form body, and content types it does not take (text/plain, XML,
  multipart without a boundary or with a broken one). The case in the path is a real one the acting
  user works on, in the state the action needs (`ACTING`), so the body is parsed and, when valid,
  reaches the service.
- The pages: each role's pages are crawled from `/` (GET only, links of this site, no logout or
  downloads), the case pages of the world's cases among them; every `<form>` found is sent with
  each field poisoned in turn, the other fields as rendered (an empty one filled with a plausible
  value, so that a poisoned field can get past the form to the service). GET forms (filters) and
  the GET doors that take a query string (the htmx fragments' `hx-get`, the export links) get
  their parameters poisoned the same way. A route that takes a POST but that no crawled form
  reaches fails the test, unless `UNFORMED` says why.

Text that cannot be stored must be refused with a 400 naming the field; a refusal before the body
is read (403, 404, 409) is allowed but reported as a warning, since the world is built so that
every request reaches its body. A column that stores 100,000 characters is an answer of its own:
it must be listed in `UNBOUNDED` with why, so a field that lost its limit is noticed.

The world is built once for the module inside a transaction rolled back at the end; every request
meets it as built: after a request that may have changed it, it is rolled back to a savepoint
taken before (`schema_walk.Rewind`).
"""

import functools
import inspect
import json
import re
import traceback
import warnings
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
import time_machine
from django.apps import apps
from django.conf import settings
from django.core.signals import got_request_exception
from django.db import DatabaseError, connection, transaction
from django.test import Client, override_settings
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone

from cases.models import Category
from cases.services import categories_load, resident_link_issue
from dashboards.services import rollups_refresh_recent
from escalation.models import Supervision
from feedback.models import FeedbackSettings
from handling import services as handling_services
from intake.models import Call
from integrations.models import ApiKey, CategoryMapping, Inbound
from integrations.services import inbound_receive, key_issue, system_ensure
from routing import dispatch
from tests.factories import UnitFactory, UserFactory, make_cast, member, open_case, routing_setup
from tests.handling.helpers import TUESDAY
from tests.reliability import schema_walk
from tests.reliability.schema_walk import SCHEMA, Rewind, example, statements_that_may_write
from tests.reliability.schema_walk import resolve as resolve_schema
from tests.residents.helpers import confirmed
from units.models import Unit

# --- the poisons ---------------------------------------------------------------------------------

NUL = "ab\x00cd"
SURROGATE = "ab\ud800cd"  # JSON can carry it only as the escape "\ud800"
SURROGATE_BYTES = b"ab\xed\xa0\x80cd"  # what a form body carries instead: not UTF-8 at all
BIDI = "\u202e削除\u200f abc"  # right-to-left override and mark: storable, shown as typed
LONG = "x" * 100_000
UNSTORABLE = ("nul", "surrogate")
# name → (JSON value, form value)
POISONS = {
    "nul": (NUL, NUL),
    "surrogate": (SURROGATE, SURROGATE_BYTES),
    "bidi": (BIDI, BIDI),
    "long": (LONG, LONG),
    "number": (12345, None),
    "list": (["a", "b"], None),
    "object": ({"a": "b"}, None),
}

# Columns (`table.column`) that may store 100,000 characters sent in a form or a body, each with
# why. Empty: every text field of every form and body has a limit.
UNBOUNDED = {}

# Tables a refused request writes to by design, each with why: not left behind by mistake.
BOOKKEEPING = {
    "integrations_apicall": "every call of an integrating system is logged, refused ones too",
    "integrations_apikey": "a key's last use is stamped (at most once a minute)",
}

# --- the API: operations with a body, from the schema ---------------------------------------------

METHODS = ("post", "put", "patch", "delete")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # as in the schema: /api/v1/cases/{number}/close/

    @property
    def action(self):
        """The part after the case number ("extend/decide"), or the path itself."""
        _head, _sep, tail = self.path.partition("{number}/")
        return tail.strip("/") if tail else self.path

    @property
    def schema(self):
        content = SCHEMA["paths"][self.path][self.method]["requestBody"]["content"]
        return resolve_schema((content.get("application/json") or next(iter(content.values())))["schema"])

    def __str__(self):
        return f"{self.method.upper()} {self.path}"


BODY_OPERATIONS = [
    Operation(method, path)
    for path, operations in SCHEMA["paths"].items()
    for method, operation in operations.items()
    if method in METHODS and operation.get("requestBody", {}).get("content")
]

# Who sends each operation, on which case of the world: someone who may take the action, on a case
# in the state it needs. An operation not listed is sent by the dispatcher on the registered case
# (the dispatcher reads every case, so the body is parsed); its plausible body must then be
# accepted, or the operation must be added here.
ACTING = {
    "/api/v1/auth/token/": ("anonymous", None),
    "/api/v1/calls/": ("dispatcher", None),
    "dispatch": ("dispatcher", "registered"),
    "redispatch": ("dispatcher", "working"),
    "close": ("dispatcher", "registered"),
    "merge": ("dispatcher", "registered"),
    "return": ("community_clerk", "dispatched"),
    "assist": ("community_clerk", "working"),
    "extend": ("community_clerk", "working"),
    "extend/decide": ("street_clerk", "extending"),
    "urge": ("street_clerk", "working"),
    "set_deadline": ("street_clerk", "working"),
    "contact": ("community_clerk", "working"),
    "note": ("community_clerk", "working"),
    "resolve": ("community_clerk", "working"),
    "report": ("volunteer", "working"),
    "callback": ("dispatcher", "resolved"),
    "verify": ("gridworker", "resolved"),
    "reopen": ("dispatcher", "resolved"),
    # 任务发布: the community publishes; the volunteer checks in and out of the world's tasks
    # (`{task}`: `TASK_OF`); the department confirms its task under way.
    "/api/v1/tasks/": ("community_clerk", None),
    "/api/v1/tasks/{task}/checkin/": ("volunteer", None),
    "/api/v1/tasks/{task}/checkout/": ("volunteer", None),
    "/api/v1/tasks/{task}/confirm/": ("dept_clerk", None),
    # A team signs up: the volunteer works for the volunteers' association (a team) and signs
    # themselves up with it for the open task addressed to it.
    "/api/v1/tasks/{task}/team-signup/": ("volunteer", None),
    # The city's 12345 platform, with its work-order key (`{system}`: its name).
    "/api/v1/integrations/{system}/orders/": ("partner", None),
    # 议事会: 金山社区's committee hosts the world's council and records its meetings.
    "/api/v1/councils/{council}/meetings/": ("community_clerk", None),
}
# 评理说事: 金山社区's committee leads the working case (it sends it to its point) and hosts the
# point whose mediations it works, each move on the world's mediation in the state it needs
# (`{mediation}`: `MEDIATION_OF`).
ACTING.update(
    dict.fromkeys(
        [
            "mediate",
            "/api/v1/mediations/",
            *(f"/api/v1/mediations/{{mediation}}/{move}/" for move in ("schedule", "session", "agreement")),
            *(f"/api/v1/mediations/{{mediation}}/{move}/" for move in ("no_agreement", "sign", "break")),
            *(f"/api/v1/mediations/{{mediation}}/{move}/" for move in ("refer", "close")),
        ],
        ("community_clerk", "working"),
    )
)
MEDIATION_OF = {
    "schedule": "accepted",
    "session": "scheduled",
    "agreement": "in_session",
    "no_agreement": "in_session",
    "sign": "agreement",
    "break": "follow_up",
    "refer": "accepted",
    "close": "no_agreement",
}
DEFAULT_ACTING = ("dispatcher", "registered")
# The world's task each task operation is sent on (`World.tasks`).
TASK_OF = {
    "/api/v1/tasks/{task}/checkin/": "signed",
    "/api/v1/tasks/{task}/checkout/": "checked_in",
    "/api/v1/tasks/{task}/confirm/": "under_way",
    "/api/v1/tasks/{task}/team-signup/": "open",
}

# 评理说事's bodies: the world's point, its mediator and the mediation's parties.
MEDIATION_POINT = "P210111001015"
MEDIATION_HINTS = {
    "mediate": {"point": MEDIATION_POINT},
    "/api/v1/mediations/": {
        "point": MEDIATION_POINT,
        "kind": "farming",
        "parties": [{"name": "王大山", "phone": "13812345678"}, {"name": "刘二柱"}],
    },
    "/api/v1/mediations/{mediation}/schedule/": {
        "at": lambda world: local_minute(timezone.now() + timedelta(days=1)),
        "mediators": lambda world: world.mediations["mediators"],
    },
    "/api/v1/mediations/{mediation}/session/": {
        "mediators": lambda world: world.mediations["mediators"],
        "present": lambda world: world.mediations["parties"]["scheduled"],
        "reasoning": ["law"],
    },
    "/api/v1/mediations/{mediation}/refer/": {"to": "区人民法院"},
    # The signed copy in a JSON body: a data URL (multipart takes the file itself).
    "/api/v1/mediations/{mediation}/sign/": {"scan": "data:application/pdf;base64,JVBERi0xLjQgc2lnbmVk"},
}

# What the schema cannot know: which codes and numbers exist, and the choice that needs nothing
# more (a callback that did not reach the resident; an on-site check that found the work undone).
FIELD_HINTS = {
    "unit": lambda world: "D-HOUSING",
    "into": lambda world: world.cases["duplicate"].number,
    "category": lambda world: "0201",
    "grid": lambda world: world.cast.grid_a.code,
    "latitude": lambda world: "41.7",
    "longitude": lambda world: "123.4",
    # A callback that did not reach the resident, an on-site check that found the work undone:
    # the choices that need nothing more (a photo, a satisfaction).
    "reached": lambda world: False,
    "confirmed": lambda world: False,
    "caller_name": lambda world: "张三",
    "caller_phone": lambda world: "13800138000",
    "username": lambda world: world.token_user.username,
    "password": lambda world: TOKEN_PASSWORD,
    # A new deadline: later than the working case's (an extension must be), within what the
    # policy allows; written as a datetime-local field sends it.
    "until": lambda world: local_minute(world.working_resolve_due + timedelta(hours=1)),
    "due": lambda world: local_minute(timezone.now() + timedelta(days=2)),
    # Left out: the moment of the request, which is after the case reached the unit.
    "contacted_at": lambda world: None,
}
ACTION_HINTS = {
    # A community calls in social forces (the volunteers already help on the working case).
    "assist": {"unit": "SOCIAL-CLEAN"},
    "verify": {"note": "现场仍有垃圾"},
    "return": {"reason": "other", "note": "不属于本单位职责"},
    # 改分类: the registered case (环境卫生) becomes 物业管理, with a reason.
    "reclassify": {"category": "0103", "reason": "物业的责任"},
    "contact": {"agreed": "约定明天上门"},
    # Mark every notice read: the body that needs no id.
    "/api/v1/inbox/read/": {"all": True},
    # A task in 金山社区 the day after tomorrow.
    "/api/v1/tasks/": {
        "region": lambda world: world.cast.community.code,
        "starts": lambda world: local_minute(timezone.now() + timedelta(days=2)),
        "ends": lambda world: local_minute(timezone.now() + timedelta(days=2, hours=3)),
        "wanted": 3,
    },
    # The volunteers' association signs the volunteer up (`_tasks`: they are on its staff).
    "/api/v1/tasks/{task}/team-signup/": {
        "team": lambda world: world.users["volunteer"].volunteer.teams.get().unit.code,
        "volunteers": lambda world: [world.users["volunteer"].volunteer.pk],
    },
    # A meeting of the world's council with a new item, voted on by nobody (no decision).
    "/api/v1/councils/{council}/meetings/": {
        "held_on": lambda world: timezone.localdate().isoformat(),
        "present": [],
        "items": [{"title": "小区停车位规划", "votes_for": 0, "votes_against": 0}],
    },
}
ACTION_HINTS.update(MEDIATION_HINTS)
TOKEN_PASSWORD = "fuzz-token-password-1"
PARTNER = "city12345"


def local_minute(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def plausible_body(operation, world):
    """The required properties and those with a hint, each a value that passes validation."""
    schema = operation.schema
    required = set(schema.get("required", ()))
    hints = ACTION_HINTS.get(operation.action, {})
    body = {}
    for name, node in schema.get("properties", {}).items():
        if name in hints:
            body[name] = hints[name](world) if callable(hints[name]) else hints[name]
        elif name in FIELD_HINTS:
            if (hint := FIELD_HINTS[name](world)) is not None:
                body[name] = hint
        elif name in required:
            body[name] = example(node, "现场核实情况")
    return body


# --- the world -----------------------------------------------------------------------------------


@dataclass
class World:
    cast: object
    users: dict  # role → User (None: anonymous)
    cases: dict  # key → Case
    token_user: object
    resident_url: str  # the resident's own page, reached only through the link in their SMS
    working_resolve_due: object
    clients: dict = field(default_factory=dict)
    baseline: tuple = ()
    exceptions: list = field(default_factory=list)  # tracebacks of the requests that failed
    tasks: dict = field(default_factory=dict)  # key → volunteer task id (任务发布)
    council: int = 0  # 议事会: 金山社区's council (its id), for /councils/{council}/
    mediations: dict = field(default_factory=dict)  # 评理说事: state → mediation id; "mediators", "parties"
    rewind: Rewind = field(default_factory=Rewind)  # the savepoint every request meets the world in

    def client(self, role):
        if role not in self.clients:
            client = Client(raise_request_exception=False)
            if self.users.get(role) is not None:
                client.force_login(self.users[role])
            elif role == "resident":
                confirmed(client, self.cases["resolved"].caller_phone)
            self.clients[role] = client
        return self.clients[role]


def _needs_and_meetings(cast):
    """需求对接 and 结邻共建: a need with the department's offer (the community's accept form), one
    without (the department's offer form), one taken up (the result form), and a joint meeting with
    a problem the paired agency took up (the forms that make it a case or a task)."""
    from units.models import Pairing
    from volunteers import meetings, needs

    court = UnitFactory(code="A-COURT", name="区人民法院", kind=Unit.Kind.AGENCY, region=cast.district)
    Pairing.objects.create(agency=court, community=cast.community)
    clerk = cast.community_clerk
    offered = needs.need_post(actor=clerk, kind="service", title="助老送餐志愿者")
    needs.offer_make(need=offered, actor=cast.dept_clerk, note="可派人")
    needs.need_post(actor=clerk, kind="resource", title="活动室桌椅")
    taken = needs.need_post(actor=clerk, kind="service", title="法律咨询")
    needs.offer_accept(offer=needs.offer_make(need=taken, actor=cast.dept_clerk), actor=clerk)
    meetings.meeting_record(
        actor=clerk, held_on=timezone.localdate(), attendees=[court], problems=[("东门路灯不亮", court)]
    )


def _mediations(cast) -> dict:
    """评理说事: 金山社区's point hosted by its committee, with a mediator, and a walk-in there in each
    state a move starts from."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from mediation import services
    from mediation.models import Mediator, Point

    point = Point.objects.create(
        code=MEDIATION_POINT,
        name="金山社区评理说事点",
        level="community",
        region=cast.community,
        unit=cast.committee,
        kinds=["family", "public", "farming"],
    )
    mediator = Mediator.objects.create(point=point, name="孙大爷", role="elder")
    clerk, at = cast.community_clerk, timezone.now() + timedelta(hours=1)
    built = {"mediators": [mediator.pk], "parties": {}}
    path = ["schedule", "session", "agreement", "sign"]
    for state, steps in (
        ("accepted", []),
        ("scheduled", path[:1]),
        ("in_session", path[:2]),
        ("agreement", path[:3]),
        ("follow_up", path),
        ("no_agreement", [*path[:2], "no_agreement"]),
    ):
        mediation = services.mediation_open(
            actor=clerk,
            point=point,
            kind="farming",
            facts="地界纠纷",
            parties=[{"name": "王大山", "phone": "13812345678"}, {"name": "刘二柱"}],
        )
        parties = list(mediation.parties.all())
        for step in steps:
            if step == "schedule":
                services.mediation_schedule(
                    mediation=mediation, actor=clerk, at=at, place="调解室", mediators=[mediator]
                )
            elif step == "session":
                services.mediation_session(
                    mediation=mediation,
                    actor=clerk,
                    present=parties,
                    mediators=[mediator],
                    statements="各说各理",
                    reasoning=["law"],
                )
            elif step == "agreement":
                services.mediation_agreement(mediation=mediation, actor=clerk, terms="拆除越界猪圈", follow_up=[])
            elif step == "sign":
                scan = SimpleUploadedFile("signed.pdf", b"%PDF-1.4 signed", content_type="application/pdf")
                services.mediation_sign(mediation=mediation, actor=clerk, scan=scan)
            else:
                services.mediation_no_agreement(mediation=mediation, actor=clerk, note="未达成一致")
        built[state] = mediation.pk
        built["parties"][state] = [party.pk for party in parties]
    return built


def _council(cast) -> int:
    """议事会: 金山社区's council with three members, an open item (the propose and meeting forms)
    and an unpublished meeting with a carried item (the publish and open-a-case forms)."""
    from mediation import councils
    from mediation.models import Council, CouncilMember

    council = Council.objects.create(
        name="金山社区居民议事会", kind=Council.Kind.RESIDENTS, region=cast.community, unit=cast.committee
    )
    members = [CouncilMember.objects.create(council=council, name=n, role="resident") for n in ("甲", "乙", "丙")]
    councils.item_propose(actor=cast.community_clerk, council=council, title="3号楼加装电梯")
    councils.meeting_record(
        actor=cast.community_clerk,
        council=council,
        held_on=timezone.localdate(),
        present=[m.pk for m in members],
        items=[{"title": "小区停车位规划", "votes_for": 3, "votes_against": 0, "decision": "改建停车位"}],
    )
    return council.pk


def _tasks(cast, volunteer_user, team_unit) -> dict:
    """任务发布: the volunteer (a member of the volunteers' association, now a team) with a task to
    sign up for, one signed up for (check in, withdraw) and one checked in (check out), all starting
    soon; and the department's task under way (the confirmation form)."""
    from volunteers import tasks
    from volunteers.models import Signup, Task, Team, TeamMember, Volunteer

    team, _created = Team.objects.get_or_create(
        unit=team_unit, defaults={"level": "district", "home": cast.district, "area": cast.community}
    )
    person, _created = Volunteer.objects.get_or_create(
        user=volunteer_user, defaults={"name": volunteer_user.real_name, "phone": "13900000001"}
    )
    TeamMember.objects.get_or_create(team=team, volunteer=person)
    now, hour = timezone.now(), timedelta(hours=1)

    def publish(title, starts, clerk=cast.community_clerk, region=cast.community):
        return tasks.task_publish(
            actor=clerk,
            title=title,
            region=region,
            starts=starts,
            ends=starts + 3 * hour,
            wanted=5,
            addressed_to=team_unit,
        )

    signed, checked_in = publish("助老探访", now + hour / 2), publish("清理楼道", now + hour / 2)
    for task in (signed, checked_in):
        tasks.task_signup(task=task, actor=volunteer_user)
    tasks.task_check_in(task=checked_in, actor=volunteer_user)
    under_way = Task.objects.create(
        title="防汛沙袋搬运",
        publisher=cast.department,
        created_by=cast.dept_clerk,
        region=cast.grid_a,
        starts=now - hour,
        ends=now + 2 * hour,
        deadline=now - hour,
        wanted=3,
        taken=1,
    )
    Signup.objects.create(task=under_way, volunteer=person)
    return {
        "open": publish("环境整治", now + 48 * hour).pk,
        "signed": signed.pk,
        "checked_in": checked_in.pk,
        "under_way": under_way.pk,
    }


def _points_and_bookings(cast, volunteer_user, team_unit, resident_phone):
    """志愿活动积分 and 预约服务: the volunteer lives in grid A (金山社区's rewards; the clerk's
    corrections) with points to spend, and 金山社区 offers a reward (the redeem and stock forms); the
    volunteers' team serves meals (its services form), booked today by the clerk (the team's day
    form, the clerk's cancel) and by the resident on their own page (their cancel)."""
    from volunteers import bookings, points
    from volunteers.models import Reward, Service, Volunteer

    person = Volunteer.objects.get(user=volunteer_user)
    person.home = cast.grid_a
    person.save(update_fields=["home"])
    points.points_correct(volunteer=person, points=500, reason="志愿服务补记", actor=cast.dispatcher)
    Reward.objects.create(community=cast.community, name="大米5斤", cost=100, stock=5)
    service = Service.objects.create(team=team_unit.team, name="爱心午餐", capacity=50)
    today = timezone.localdate()
    for phone, clerk in (("13812345678", cast.community_clerk), (resident_phone, None)):
        bookings.booking_book(service=service, day=today, resident_name="王奶奶", resident_phone=phone, actor=clerk)


def _build_world():
    cast = make_cast()
    categories_load()
    routing_setup(cast)
    FeedbackSettings.load()
    volunteers = UnitFactory(code="SOCIAL-VOL", name="苏家屯区志愿者协会", kind=Unit.Kind.SOCIAL, region=cast.district)
    UnitFactory(code="SOCIAL-CLEAN", name="苏家屯区环卫志愿队", kind=Unit.Kind.SOCIAL, region=cast.district)
    token_user = UserFactory(username="t_fuzz_token")
    token_user.set_password(TOKEN_PASSWORD)
    token_user.save(update_fields=["password"])

    # Registered, waiting for a dispatcher; and a second call about the same rubbish to merge into.
    registered = open_case(cast)
    duplicate = open_case(cast, description="小区门口垃圾又堆起来了")
    # Dispatched to 金山社区's committee, not signed yet.
    dispatched = open_case(cast, description="楼下路面塌陷")
    dispatch.case_dispatch(case=dispatched, unit=cast.committee, actor=cast.dispatcher)
    # In progress at the committee, the volunteers called in, supervised by the street office
    # (level 1) and the leadership (level 2).
    working = open_case(cast, description="楼道堆放杂物堵塞消防通道")
    dispatch.case_dispatch(case=working, unit=cast.committee, actor=cast.dispatcher)
    dispatch.case_sign(case=working, actor=cast.community_clerk)
    dispatch.case_assist(case=working, unit=volunteers, actor=cast.community_clerk, note="请协助清运")
    lead = dispatch.lead_assignment(working)
    for level, unit in ((1, cast.street_office), (2, cast.leadership)):
        Supervision.objects.create(case=working, assignment=lead, unit=unit, level=level, started_at=timezone.now())
    # In progress at the committee with an extension asked for: the street office decides.
    extending = open_case(cast, description="小区健身器材损坏")
    dispatch.case_dispatch(case=extending, unit=cast.committee, actor=cast.dispatcher)
    dispatch.case_sign(case=extending, actor=cast.community_clerk)
    dispatch.extension_request(
        case=extending,
        actor=cast.community_clerk,
        until=dispatch.lead_assignment(extending).resolve_due + timedelta(hours=1),
        reason="等待配件",
    )
    # Resolved by 区住房和城乡建设局: waiting for the callback and the on-site check (路灯).
    resolved = open_case(cast, category_code="0205", description="小区路灯不亮")
    dispatch.case_dispatch(case=resolved, unit=cast.department, actor=cast.dispatcher)
    dispatch.case_sign(case=resolved, actor=cast.dept_clerk)
    handling_services.case_resolve(case=resolved, actor=cast.dept_clerk, result_kind="solved", result="已更换灯泡")
    # Their call, as intake records one: the residents' page shows the case to its caller.
    Call.objects.create(
        case=resolved,
        outcome=Call.Outcome.NEW_CASE,
        channel=resolved.channel,
        caller_phone=resolved.caller_phone,
        description=resolved.description,
        category=resolved.category,
        grid=resolved.grid,
        priority=resolved.priority,
        created_by=cast.dispatcher,
    )
    # Led by 解放街道's office, which may pass it down to the community (违章建筑).
    street = open_case(cast, category_code="0101", description="楼顶违章搭建")
    dispatch.case_dispatch(case=street, unit=cast.street_office, actor=cast.dispatcher)
    dispatch.case_sign(case=street, actor=cast.street_clerk)
    # The day's figures, as the beat refreshes them: five rubbish cases in grid A make a hotspot,
    # which dispatchers may turn into a proactive case.
    rollups_refresh_recent()
    _needs_and_meetings(cast)

    users = {
        "anonymous": None,
        "resident": None,  # the caller of the resolved case, on the residents' page
        "dispatcher": cast.dispatcher,
        "official": cast.official,
        "gridworker": cast.gridworker,
        "community_clerk": cast.community_clerk,
        "street_clerk": cast.street_clerk,
        "dept_clerk": cast.dept_clerk,
        "volunteer": member(UserFactory(username="t_volunteer", real_name="郑志愿"), volunteers),
    }
    cases = {
        "registered": registered,
        "duplicate": duplicate,
        "dispatched": dispatched,
        "working": working,
        "extending": extending,
        "resolved": resolved,
        "street": street,
    }
    for case in cases.values():
        case.refresh_from_db()
    built = World(
        cast=cast,
        users=users,
        cases=cases,
        token_user=token_user,
        resident_url=f"/r/{resident_link_issue(case=resolved)}/",
        working_resolve_due=lead.resolve_due,
    )
    built.tasks = _tasks(cast, users["volunteer"], volunteers)
    built.council = _council(cast)
    built.mediations = _mediations(cast)
    _points_and_bookings(cast, users["volunteer"], volunteers, resolved.caller_phone)
    # The city's 12345 platform sends work orders with its key; one of them, of a category its
    # table lacks, waits on the dispatchers' page of held requests.
    partner = system_ensure(name=PARTNER, title="沈阳市12345平台", channel="hotline")
    CategoryMapping.objects.create(system=partner, code="0201", category=Category.objects.get(code="0201"))
    partner_key = key_issue(system=partner, scopes=[ApiKey.Scope.ORDERS])[1]
    inbound_receive(
        system=partner,
        kind=Inbound.Kind.ORDER,
        external_id="SY-HELD-1",
        payload={"description": "某小区路灯不亮", "category": "XX-99"},
        details=None,
        reason="类别 XX-99 不在对照表中。",
    )
    built.clients["partner"] = Client(raise_request_exception=False, headers={"X-Api-Key": partner_key})
    return built


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The world, built once for the module inside a transaction rolled back after it, on a
    Tuesday morning (the clock runs), with uploads in a temporary folder."""
    media = tmp_path_factory.mktemp("fuzz-media")
    exceptions = []

    def record(sender, request=None, **kwargs):
        exceptions.append("".join(traceback.format_exc(limit=-6)))

    got_request_exception.connect(record, dispatch_uid="tests.reliability.test_fuzz")
    try:
        with (
            django_db_blocker.unblock(),
            # Sessions in a signed cookie: a row less to read per request; sessions are not tested here.
            override_settings(MEDIA_ROOT=media, SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies"),
            time_machine.travel(TUESDAY, tick=True),
            transaction.atomic(),
        ):
            built = _build_world()
            built.exceptions = exceptions
            # Signing in writes `last_login`: every client first, then the world as each request meets it.
            for role in built.users:
                built.client(role)
            built.baseline = snapshot()
            yield built
            transaction.set_rollback(True)
    finally:
        got_request_exception.disconnect(dispatch_uid="tests.reliability.test_fuzz")


# --- what a request left behind ------------------------------------------------------------------


@functools.cache
def _own_tables():
    """Every table of suqu's own apps, with its text columns."""
    base = str(settings.BASE_DIR)
    tables = {}
    for config in apps.get_app_configs():
        # Our apps, not the packages installed in the project's virtual environment.
        if not config.path.startswith(base) or "site-packages" in config.path:
            continue
        for model in config.get_models():
            if model._meta.proxy or model._meta.db_table in BOOKKEEPING:
                continue
            tables[model._meta.db_table] = [
                f.column
                for f in model._meta.concrete_fields
                if f.get_internal_type() in ("CharField", "TextField", "JSONField", "SlugField", "EmailField")
            ]
    return dict(sorted(tables.items()))


def snapshot() -> tuple:
    return schema_walk.snapshot(list(_own_tables()))


def changed_tables(world, after):
    return schema_walk.changed_tables(world.baseline, after)


def columns_holding_long_text() -> list:
    """`table.column` of every text column now holding 100,000 characters or more."""
    quote = connection.ops.quote_name
    checks = [
        f"SELECT '{table}.{column}' FROM {quote(table)} WHERE length({quote(column)}::text) >= 100000"
        for table, columns in _own_tables().items()
        for column in columns
    ]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(checks))
        return sorted({row[0] for row in cursor.fetchall()})


@dataclass
class Answer:
    status: int
    changed: list
    text: str
    json: object
    long_stored: list
    exception: str


def send(world, role, method, url, *, body=b"", content_type=None, long_poison=False):
    """One request, the world put back after it (`Rewind`): what it answered, what a refused
    request changed, and where a 100,000-character poison that was accepted ended up (both looked
    for only when the request sent a statement that may write)."""
    client = world.client(role)
    del world.exceptions[:]
    world.rewind.begin()
    with statements_that_may_write() as writes:
        response = client.generic(method, url, body, content_type=content_type)
    changed, long_stored = [], []
    try:
        if response.status_code >= 400 and writes:
            changed = changed_tables(world, snapshot())
        elif long_poison and writes:
            long_stored = columns_holding_long_text()
    except DatabaseError:
        changed = ["(the transaction was left broken)"]
    finally:
        world.rewind.end(wrote=bool(writes) or response.status_code >= 500)
    if response.streaming:
        b"".join(response.streaming_content)
    # Messages and a chosen language ride in cookies: drop them, so every request starts alike.
    client.cookies.pop("messages", None)
    client.cookies.pop(settings.LANGUAGE_COOKIE_NAME, None)
    text = "" if response.streaming else response.content.decode(errors="replace")
    try:
        parsed = json.loads(text) if response.get("Content-Type", "").startswith("application/json") else None
    except ValueError:
        parsed = None
    exception = world.exceptions[-1] if world.exceptions else ""
    return Answer(response.status_code, changed, text, parsed, long_stored, exception)


def test_the_write_watch_sees_every_write_and_lets_reads_pass(world, db):
    """Skipping the digests, and the rollback (`Rewind`), after a request that sent no write is
    safe only if every write shows."""
    case = world.cases["registered"]
    with transaction.atomic():
        with statements_that_may_write() as writes:
            list(Category.objects.select_for_update().filter(code="0201"))
            with transaction.atomic():
                Category.objects.filter(code="0201").exists()
        assert writes == []
        with statements_that_may_write() as writes:
            Call.objects.filter(case=case).update(description="改了")
        assert len(writes) == 1
        with statements_that_may_write() as writes, connection.cursor() as cursor:
            cursor.execute("WITH gone AS (DELETE FROM intake_call WHERE false RETURNING id) SELECT count(*) FROM gone")
            cursor.execute("  insert into intake_call (id) select id from intake_call where false")
            # No row, but a setting the next request would meet unless it is rolled back.
            cursor.execute("SET LOCAL lock_timeout = '5s'")
        assert len(writes) == 3
        transaction.set_rollback(True)


def names_field(answer, name) -> bool:
    """The JSON error names the field (or a place inside it: `photos.0`)."""
    errors = (answer.json or {}).get("errors") or {}
    return any(key == name or key.startswith(f"{name}.") for key in errors)


def judge(what, answer, *, poison=None, named=None):
    """What is wrong with one answer to a poisoned request, or None. `named`: whether the answer
    names the poisoned field, for a poison that must be refused naming it (None: need not)."""
    if answer.status >= 500:
        return f"{what}: {answer.status}\n{answer.exception or answer.text[:300]}"
    if answer.status >= 400 and answer.changed:
        return f"{what}: refused with {answer.status} but changed {', '.join(answer.changed)}"
    stored = [column for column in answer.long_stored if column not in UNBOUNDED]
    if stored:
        return f"{what}: 100,000 characters stored in {', '.join(stored)}"
    if poison in UNSTORABLE and named is not None:
        if answer.status in (403, 404, 409):
            warnings.warn(f"{what}: refused with {answer.status} before its body was read", stacklevel=2)
        elif answer.status != 400 or not named:
            return f"{what}: {answer.status} without naming the field: {answer.text[:200]}"
    return None


# --- the API -------------------------------------------------------------------------------------


def acting(operation, world):
    role, key = ACTING.get(operation.action, DEFAULT_ACTING)
    path = operation.path
    if "{number}" in path:
        key = key or DEFAULT_ACTING[1]
        path = path.replace("{number}", world.cases[key].number)
    if "{task}" in path:
        path = path.replace("{task}", str(world.tasks[TASK_OF[operation.path]]))
    path = path.replace("{council}", str(world.council))
    if "{mediation}" in path:
        move = path.rstrip("/").rsplit("/", 1)[-1]
        path = path.replace("{mediation}", str(world.mediations[MEDIATION_OF[move]]))
    return role, path.replace("{system}", PARTNER)


def test_every_operation_with_a_body_is_one_the_fuzzer_can_send():
    assert BODY_OPERATIONS, "the schema lists no operation that takes a body"
    unfilled = {
        str(op): params
        for op in BODY_OPERATIONS
        if (params := set(re.findall(r"{(\w+)}", op.path)) - {"number", "system", "task", "council", "mediation"})
    }
    assert not unfilled, f"Path parameters the fuzzer cannot fill: {unfilled}"
    stale = sorted(set(ACTING) - {op.action for op in BODY_OPERATIONS})
    assert not stale, f"ACTING names operations the schema no longer has: {stale}"


# Bodies of the wrong shape or type, per operation (a form body with the raw bytes of a surrogate
# aside, which is decoded with replacement characters and may be accepted): refused, never a 500.
def wrong_bodies(base):
    nested = json.dumps({**base, "deep": "@"}).replace('"@"', "[" * 40 + "]" * 40)
    return {
        "100,000 nested [": ("[" * 100_000 + "]" * 100_000, "application/json"),
        "a field nested 40 deep": (nested, "application/json"),
        "a bare string": (json.dumps("现场核实情况"), "application/json"),
        "a list": (json.dumps([base]), "application/json"),
        "null": ("null", "application/json"),
        "a key with NUL": (json.dumps({**base, "no\x00te": "x"}), "application/json"),
        "NaN": (json.dumps({**base, "x": float("nan")}), "application/json"),
        "bytes that are not UTF-8": (b'{"note": "ab\xed\xa0\x80cd"}', "application/json"),
        "text/plain": (json.dumps(base), "text/plain"),
        "application/xml": ("<note>现场核实情况</note>", "application/xml"),
        "multipart without a boundary": ("garbage", "multipart/form-data"),
        "multipart with a broken body": ("--zzz\r\ngarbage", "multipart/form-data; boundary=zzz"),
    }


@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=str)
def test_an_api_body_with_poison_in_any_field_is_refused_naming_it(operation, world, db):
    role, url = acting(operation, world)
    base = plausible_body(operation, world)
    accepted = send(world, role, "POST", url, body=json.dumps(base), content_type="application/json")
    assert 200 <= accepted.status < 300, (
        f"{operation} as {role}: the plausible body {base} answers {accepted.status} {accepted.text[:300]}; "
        "add the operation to ACTING (who sends it, on which case) or a hint"
    )

    problems = []
    form = {name: (str(value).lower() if isinstance(value, bool) else value) for name, value in base.items()}
    for name in operation.schema.get("properties", {}):
        for poison, (value, _form_value) in POISONS.items():
            what = f"{operation} as {role}, {name}={poison}"
            answer = send(
                world,
                role,
                "POST",
                url,
                body=json.dumps({**base, name: value}),
                content_type="application/json",
                long_poison=poison == "long",
            )
            problems.append(judge(what, answer, poison=poison, named=names_field(answer, name)))
            # 100,000 characters: refused naming the field, or taken where the field has no limit
            # (judge() then checks which column stored them).
            if poison == "long" and not 200 <= answer.status < 300 and not names_field(answer, name):
                problems.append(f"{what}: {answer.status} without naming the field: {answer.text[:200]}")
        # NUL in a form body: refused by the middleware, in the API's JSON.
        what = f"{operation} as {role}, {name}=nul in a form body"
        body = urlencode({**form, name: NUL})
        answer = send(world, role, "POST", url, body=body, content_type="application/x-www-form-urlencoded")
        problems.append(judge(what, answer, poison="nul", named=names_field(answer, name)))

    for what, (body, content_type) in wrong_bodies(base).items():
        answer = send(world, role, "POST", url, body=body, content_type=content_type)
        problems.append(judge(f"{operation} as {role}, {what}", answer))
        if answer.status < 400:
            problems.append(f"{operation} as {role}, {what}: accepted with {answer.status}")
    body = urlencode({**form, **dict.fromkeys(base, SURROGATE_BYTES)})
    answer = send(world, role, "POST", url, body=body, content_type="application/x-www-form-urlencoded")
    problems.append(judge(f"{operation} as {role}, a form body of raw surrogate bytes", answer))
    problems = [problem for problem in problems if problem]
    assert not problems, "\n".join(problems)


# --- the pages: a crawl per role -----------------------------------------------------------------

# Links the crawl does not follow: signing out, files, other doors (the API has its own section;
# the admin is for superusers, whom no role here is, but its sign-in page is anyone's), and the
# language switch. Export links are not followed either (they answer files) but their query
# strings are poisoned like the htmx fragments'.
SKIP_PREFIXES = ("/static/", "/media/", "/admin/", "/api/", "/i18n/", "/accounts/logout/", "/resident/leave/")
NOT_SKIPPED = ("/admin/login/",)
SKIP_WORDS = ("download", "logout", "/exports/")
EXPORT_WORD = "/export/"
MAX_PAGES_PER_ROLE = 70
# The query-string variants of one page the crawl visits (tabs, pages, filters).
MAX_VARIANTS_PER_PATH = 3
# The roles crawled, the ones who work cases first: a form on a case page is sent by the first
# role that reaches it, and a worker's form is theirs to send.
CRAWLED_ROLES = (
    "community_clerk",
    "dept_clerk",
    "volunteer",
    "street_clerk",
    "gridworker",
    "dispatcher",
    "official",
    "anonymous",
    "resident",  # no account: a mobile number confirmed on the residents' page
)


@dataclass
class Form:
    role: str
    page: str
    method: str
    action: str
    multipart: bool
    fields: list = field(default_factory=list)  # [name, value, kind, options]

    @property
    def key(self):
        """One form per view and set of fields: the same form on another case's page (another
        path) is validated by the same code, so poisoning it again finds nothing new."""
        path = urlsplit(self.action).path
        try:
            door = resolve(path).view_name
        except Resolver404:
            door = path
        return (self.method, door, tuple(sorted({f[0] for f in self.fields})))


class PageParser(HTMLParser):
    """Links, forms (with their fields as rendered) and htmx GETs with the parameters they send."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links, self.forms, self.hx_gets = [], [], []
        self.by_id = {}  # element id → name
        self.forms_by_id = {}
        self.outside = []  # (form id, field): fields placed outside their form (`form="bulk-form"`)
        self.form = None
        self.textarea = None
        self.select = None

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v if v is not None else "") for k, v in attrs}
        if attrs.get("id") and attrs.get("name"):
            self.by_id[attrs["id"]] = attrs["name"]
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if attrs.get("hx-get"):
            self.hx_gets.append((attrs["hx-get"], attrs.get("name", ""), attrs.get("hx-include", "")))
        if tag == "form":
            self.form = {
                "method": attrs.get("method", "get").upper(),
                "action": attrs.get("action", ""),
                "multipart": attrs.get("enctype", "") == "multipart/form-data",
                "fields": [],
            }
            self.forms.append(self.form)
            if attrs.get("id"):
                self.forms_by_id[attrs["id"]] = self.form
        elif tag == "option" and self.select is not None:
            self.select[3].append(attrs.get("value", ""))
            if "selected" in attrs:
                self.select[1] = attrs.get("value", "")
        elif attrs.get("name") and (self.form is not None or attrs.get("form")):
            self.field(tag, attrs)

    def field(self, tag, attrs):
        entry = None
        if tag == "input":
            kind = attrs.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                # Sent only when checked (None: unchecked); its value is one the field may take.
                entry = [attrs["name"], attrs.get("value", "on") if "checked" in attrs else None, kind]
                entry.append([attrs.get("value", "on")])
            elif kind not in ("file", "reset", "button", "image"):
                entry = [attrs["name"], attrs.get("value", ""), kind, []]
        elif tag == "button" and attrs.get("type", "submit") == "submit":
            entry = [attrs["name"], attrs.get("value", ""), "submit", []]
        elif tag == "textarea":
            entry = self.textarea = [attrs["name"], "", "textarea", []]
        elif tag == "select":
            entry = self.select = [attrs["name"], None, "select", []]
        if entry is None:
            return
        if attrs.get("form"):
            self.outside.append((attrs["form"], entry))
        else:
            self.form["fields"].append(entry)

    def close(self):
        super().close()
        for form_id, entry in self.outside:
            if form_id in self.forms_by_id:
                self.forms_by_id[form_id]["fields"].append(entry)

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "textarea":
            self.textarea = None
        elif tag == "select":
            self.select = None


@dataclass
class Crawl:
    pages: dict  # role → [url]
    forms: list  # Form, one per (method, action, field names)
    queries: list  # GET doors with a query string: (role, url, [parameter names])


def _followed(url):
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return False
    if parts.path in NOT_SKIPPED:
        return True
    return not parts.path.startswith(SKIP_PREFIXES) and not any(word in parts.path for word in SKIP_WORDS)


def crawl(world) -> Crawl:
    pages, forms, queries, seen_forms, seen_queries = {}, [], [], set(), set()

    def query_door(role, target, names):
        names = (set(names) | {key for key, _value in parse_qsl(urlsplit(target).query)}) - {""}
        key = (urlsplit(target).path, tuple(sorted(names)))
        if names and key not in seen_queries:
            seen_queries.add(key)
            queries.append((role, target, sorted(names)))

    for role in CRAWLED_ROLES:
        start = {
            "anonymous": ["/", "/accounts/login/", "/admin/login/", world.resident_url, "/resident/"],
            "resident": ["/resident/new/", "/resident/mine/"],
        }.get(role, ["/"])
        queue, visited, variants = list(start), set(), {}
        pages[role] = []
        while queue and len(pages[role]) < MAX_PAGES_PER_ROLE:
            url = queue.pop(0)
            path = urlsplit(url).path
            if url in visited or variants.get(path, 0) >= MAX_VARIANTS_PER_PATH:
                continue
            visited.add(url)
            variants[path] = variants.get(path, 0) + 1
            answer = send(world, role, "GET", url)
            problem = judge(f"GET {url} as {role} (crawling)", answer)
            assert problem is None, problem
            if answer.status != 200 or "<html" not in answer.text[:500].lower():
                continue
            pages[role].append(url)
            parser = PageParser()
            parser.feed(answer.text)
            parser.close()
            for href in parser.links:
                target = urljoin(url, href.split("#")[0])
                if EXPORT_WORD in urlsplit(target).path and _followed(target):
                    query_door(role, target, ())
                elif _followed(target) and target not in visited:
                    queue.append(target)
            for raw in parser.forms:
                action = urljoin(url, raw["action"] or url)
                if not _followed(action):
                    continue
                form = Form(role, url, raw["method"], action, raw["multipart"], raw["fields"])
                if form.key not in seen_forms:
                    seen_forms.add(form.key)
                    forms.append(form)
            for hx_url, name, include in parser.hx_gets:
                # An htmx GET sends its element's own value and those of `hx-include`.
                target = urljoin(url, hx_url)
                included = [parser.by_id.get(ref.strip().lstrip("#"), "") for ref in include.split(",")]
                if _followed(target):
                    query_door(role, target, [name, *included])
    return Crawl(pages, forms, queries)


@pytest.fixture(scope="module")
def crawled(world):
    return crawl(world)


def plausible_value(world, name, kind, options):
    """What a person would type into an empty field or choose, so that the form gets past it."""
    hint = FIELD_HINTS.get(name)
    if hint is not None and name not in ("username", "password"):
        value = hint(world)
        value = ("1" if value else "0") if isinstance(value, bool) else (value or "")
        if not options or value in options:
            return value
    if options or kind == "select":
        return next((value for value in options if value), "")
    now = timezone.localtime() + timedelta(days=3)
    return {
        "datetime-local": now.strftime("%Y-%m-%dT%H:%M"),
        "date": now.strftime("%Y-%m-%d"),
        "number": "1",
        "tel": "13800138000",
        "email": "fuzz@example.com",
        "hidden": "",
        "submit": "",
    }.get(kind, "现场核实情况")


def form_pairs(world, form):
    """The form's fields as a browser sends them, filled in as a person would: an empty text field
    typed into, a select or a radio group without a choice given its first, the first box of a
    group of checkboxes ticked (a bulk form does nothing with none)."""
    pairs = []
    chosen = {entry[0] for entry in form.fields if entry[2] in ("checkbox", "radio") and entry[1] is not None}
    for name, value, kind, options in form.fields:
        if kind in ("checkbox", "radio"):
            if name not in chosen:
                chosen.add(name)
                group = [entry[3][0] for entry in form.fields if entry[0] == name]
                pairs.append((name, plausible_value(world, name, kind, group)))
            elif value is not None:
                pairs.append((name, value))
            continue
        if kind == "submit" and any(p[0] == name for p in pairs):
            continue
        typed = kind not in ("hidden", "submit", "select")
        if (kind == "select" and not value) or (typed and not value.strip()):
            value = plausible_value(world, name, kind, options)
        pairs.append((name, value))
    return pairs


def encode_form(pairs, multipart):
    """(body, content type) of form fields whose values are text or raw bytes."""
    if not multipart:
        return urlencode(pairs), "application/x-www-form-urlencoded"
    boundary = "fuzzfuzzfuzzboundary"
    chunks = []
    for name, value in pairs:
        data = value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogatepass")
        chunks += [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode(),
            data,
            b"\r\n",
        ]
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def with_poison(pairs, name, value):
    poisoned = [(key, value if key == name else current) for key, current in pairs]
    return poisoned if any(key == name for key, _ in pairs) else [*poisoned, (name, value)]


def page_names_field(answer, name) -> bool:
    return answer.status == 400 and name in answer.text


# Routes that take a POST but that no crawled form posts to, each with why. Every other route
# whose view reads a POST must be reached by the crawl.
UNFORMED = {
    "accounts:logout": "signing out is not followed: the crawl would lose its session",
    "set_language": "the language switch is not followed (a cookie only)",
    "cases:reveal-phone": "a button with hx-post and no fields",
    "intake:category-suggestions": "hx-post from the call form's description as it is typed, no form of its own "
    "(its input: tests/suggestions/test_intake.py)",
    "mediation:reveal-phone": "a button with hx-post and no fields (a party's phone)",
    "residents:code": "behind the SMS code, which a crawl cannot read (tests/residents/test_code.py)",
    "residents:leave": "signing out is not followed: the crawl would lose its session",
    "open311:requests": "Open311's door for systems with a key, no page's form (its input: tests/integrations)",
}


def post_routes():
    """URL names of the pages whose view reads a POST (the API and the admin aside): those whose
    code mentions POST or, for a class-based view, handles a valid form."""

    def walk(patterns, prefix="", namespace=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                inner = ":".join(part for part in (namespace, entry.namespace) if part)
                yield from walk(entry.url_patterns, prefix + str(entry.pattern), inner)
            elif isinstance(entry, URLPattern) and entry.name:
                yield prefix + str(entry.pattern), ":".join(p for p in (namespace, entry.name) if p), entry.callback

    names = set()
    for pattern, name, callback in walk(get_resolver().url_patterns):
        if pattern.startswith(("api/", "admin/")):
            continue
        view = getattr(callback, "view_class", None) or inspect.unwrap(callback)
        if "POST" in inspect.getsource(view) or hasattr(view, "form_valid"):
            names.add(name)
    return names


def test_the_crawl_reaches_a_form_for_every_route_that_takes_a_post(crawled, db):
    reached = {resolve(urlsplit(form.action).path).view_name for form in crawled.forms if form.method == "POST"}
    routes = post_routes()
    missing = sorted(routes - reached - set(UNFORMED))
    assert not missing, f"Routes that take a POST but no crawled form posts to: {missing}; pages: {crawled.pages}"
    stale = sorted(set(UNFORMED) - routes)
    assert not stale, f"UNFORMED lists routes that take no POST: {stale}"


def test_every_page_form_refuses_poison_naming_the_field(world, crawled, db):
    problems = []
    for form in crawled.forms:
        pairs = form_pairs(world, form)
        path = urlsplit(form.action).path
        names = sorted({name for name, *_rest in form.fields if name != "csrfmiddlewaretoken"})
        for name in names:
            for poison, (_json_value, value) in POISONS.items():
                if value is None:
                    continue
                what = f"{form.method} {form.action} (a form of {form.page}) as {form.role}, {name}={poison}"
                poisoned = with_poison(pairs, name, value)
                if form.method == "GET":
                    query = urlencode([(key, text) for key, text in poisoned if key != "csrfmiddlewaretoken"])
                    answer = send(world, form.role, "GET", f"{path}?{query}")
                else:
                    body, content_type = encode_form(poisoned, form.multipart)
                    long_poison = poison == "long"
                    answer = send(
                        world, form.role, "POST", path, body=body, content_type=content_type, long_poison=long_poison
                    )
                # The raw bytes of a surrogate are decoded with replacement characters: storable.
                named = page_names_field(answer, name) if poison == "nul" else None
                problems.append(judge(what, answer, poison=poison, named=named))
    problems = [problem for problem in problems if problem]
    assert not problems, "\n".join(problems)


def test_query_strings_of_htmx_fragments_and_exports_refuse_poison(world, crawled, db):
    paths = {urlsplit(url).path for _role, url, _names in crawled.queries}
    assert any("/intake/" in path for path in paths), f"the crawl found no htmx fragment of the call form: {paths}"
    assert any(EXPORT_WORD in path for path in paths), f"the crawl found no export link: {paths}"
    problems = []
    for role, url, names in crawled.queries:
        parts = urlsplit(url)
        base = dict(parse_qsl(parts.query))
        for name in names:
            for poison, (_json_value, value) in POISONS.items():
                if value is None:
                    continue
                query = urlencode({**{other: base.get(other, "现场") for other in names}, name: value})
                answer = send(world, role, "GET", f"{parts.path}?{query}")
                named = page_names_field(answer, name) if poison == "nul" else None
                problems.append(
                    judge(f"GET {parts.path}?{name}={poison} as {role}", answer, poison=poison, named=named)
                )
    problems = [problem for problem in problems if problem]
    assert not problems, "\n".join(problems)
