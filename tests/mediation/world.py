"""The world of 评理说事's tests, built once per module in a transaction rolled back at its end
(each test runs in a savepoint of it): the cast with routing rules and the categories, mediation
points at the three levels over 金山社区 (community: 金山社区's committee; street: 解放街道's office;
district: 区司法局) and one of 民主村 (the outsider's), each with its mediators.

A module makes it its fixture with `world = pytest.fixture(scope="module", name="world")(module_world)`.
Helpers: `dispute_case(world)` (a 矛盾纠纷 case in progress at 金山社区's committee), `walk_in(world)`
(a mediation opened at 金山社区's point), `to_state(world, mediation, state)` (moved along the
usual path by the services)."""

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from tests.factories import Cast

TERMS = "一、刘家于本月内拆除越界的猪圈；\n二、王家不再追究此前损失。"


@dataclass
class MediationWorld:
    cast: Cast
    point: object  # 金山社区评理说事点 (community; host: 金山社区's committee)
    street_point: object  # 解放街道评理说事点 (street; host: the street office)
    district_point: object  # 苏家屯区评理说事中心 (district; host: 区司法局)
    village_point: object  # 民主村评理说事点 (community; host: 民主村's committee)
    justice: object  # 区司法局, the district point's host unit
    mediator: object  # a user: mediates at 金山社区's point (the demo's `mediator`)
    elder: object  # a Mediator of 金山社区's point without an account
    street_mediator: object  # a user: mediates at 解放街道's point
    village_mediator: object  # a user: mediates at 民主村's point (an outsider to 金山社区's)
    mediators: dict  # point code → [Mediator]


def build_world() -> MediationWorld:
    from cases.services import categories_load
    from feedback.models import FeedbackSettings
    from mediation.models import Kind, Mediator, Point
    from tests.factories import UnitFactory, UserFactory, make_cast, routing_setup
    from units.models import Unit

    cast = make_cast()
    categories_load()
    routing_setup(cast)
    FeedbackSettings.load()
    justice = UnitFactory(
        code="D-JUSTICE", name="区司法局", kind=Unit.Kind.DEPARTMENT, region=cast.district, parent=cast.leadership
    )
    every = [Kind.FAMILY, Kind.PUBLIC, Kind.FARMING]

    def point(code, name, level, region, unit):
        return Point.objects.create(code=code, name=name, level=level, region=region, unit=unit, kinds=every)

    points = {
        "point": point("P210111001015", "金山社区评理说事点", "community", cast.community, cast.committee),
        "street_point": point("P210111001", "解放街道评理说事点", "street", cast.street, cast.street_office),
        "district_point": point("P210111", "苏家屯区评理说事中心", "district", cast.district, justice),
        "village_point": point(
            "P210111003201", "民主村评理说事点", "community", cast.other_community, cast.other_committee
        ),
    }
    users = {
        "mediator": UserFactory(username="t_mediator", real_name="刘调解"),
        "street_mediator": UserFactory(username="t_street_mediator", real_name="陈调解"),
        "village_mediator": UserFactory(username="t_village_mediator", real_name="杨调解"),
    }
    M = Mediator.Role
    mediators = {
        points["point"].code: [
            Mediator.objects.create(point=points["point"], name="刘调解", role=M.CADRE, user=users["mediator"]),
            Mediator.objects.create(point=points["point"], name="孙大爷", role=M.ELDER),
        ],
        points["street_point"].code: [
            Mediator.objects.create(
                point=points["street_point"], name="陈调解", role=M.LAWYER, user=users["street_mediator"]
            )
        ],
        points["district_point"].code: [
            Mediator.objects.create(point=points["district_point"], name="郑法官", role=M.JUDGE)
        ],
        points["village_point"].code: [
            Mediator.objects.create(
                point=points["village_point"], name="杨调解", role=M.ELDER, user=users["village_mediator"]
            )
        ],
    }
    return MediationWorld(
        cast=cast,
        justice=justice,
        elder=mediators[points["point"].code][1],
        mediators=mediators,
        **points,
        **users,
    )


def module_world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


PARTIES = [
    {"name": "王大山", "phone": "13812345678", "address": "金山社区3组"},
    {"name": "刘二柱", "phone": "13987654321", "address": "金山社区4组"},
]


def walk_in(world, point=None, actor=None, **fields):
    """A walk-in at 金山社区's point: two neighbours over a pigsty on the boundary."""
    from mediation.services import mediation_open

    values = {
        "actor": actor or world.mediator,
        "point": point or world.point,
        "kind": "farming",
        "facts": "刘家猪圈越过地界半米，气味影响王家",
        "parties": PARTIES,
        **fields,
    }
    return mediation_open(**values)


def dispute_case(world):
    """A 矛盾纠纷 (1104) case in grid A, dispatched to 金山社区's committee and signed for."""
    from routing import dispatch
    from tests.factories import open_case

    case = open_case(world.cast, category_code="1104", description="邻居猪圈越界，双方争吵多次")
    dispatch.case_dispatch(case=case, unit=world.cast.committee, actor=world.cast.dispatcher)
    dispatch.case_sign(case=case, actor=world.cast.community_clerk)
    case.refresh_from_db()
    return case


def mediators_of(world, point):
    return world.mediators[point.code]


def to_state(world, mediation, state):
    """Move `mediation` along the usual path until it is in `state` (accepted → scheduled → in
    session → agreement → follow-up; or → no agreement; referred out; closed after the follow-up)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from mediation import services

    actor = world.mediator if mediation.point_id == world.point.pk else world.street_mediator
    mediators = mediators_of(world, mediation.point)
    steps = {
        "accepted": [],
        "scheduled": ["schedule"],
        "in_session": ["schedule", "session"],
        "agreement": ["schedule", "session", "agreement"],
        "no_agreement": ["schedule", "session", "no_agreement"],
        "follow_up": ["schedule", "session", "agreement", "sign"],
        "referred": ["refer_out"],
        "closed": ["schedule", "session", "agreement", "sign", "close"],
    }[state]
    for step in steps:
        if step == "schedule":
            at = timezone.now() + datetime.timedelta(hours=2)
            place = "村委会调解室"
            services.mediation_schedule(mediation=mediation, actor=actor, at=at, place=place, mediators=mediators)
        elif step == "session":
            services.mediation_session(
                mediation=mediation,
                actor=actor,
                present=list(mediation.parties.all()),
                mediators=mediators[:1],
                statements="王：猪圈越界；刘：地界不清",
                reasoning=["feeling", "law"],
                record="双方同意以村里的地界图为准",
            )
        elif step == "agreement":
            services.mediation_agreement(
                mediation=mediation,
                actor=actor,
                terms=TERMS,
                follow_up=[timezone.localdate() + datetime.timedelta(days=30)],
            )
        elif step == "no_agreement":
            services.mediation_no_agreement(mediation=mediation, actor=actor, note="刘家不同意拆除")
        elif step == "sign":
            scan = SimpleUploadedFile("signed.pdf", b"%PDF-1.4 signed", content_type="application/pdf")
            services.mediation_sign(mediation=mediation, actor=actor, scan=scan)
        elif step == "refer_out":
            services.mediation_refer(mediation=mediation, actor=actor, to="区人民法院")
        elif step == "close":
            services.mediation_close(mediation=mediation, actor=actor)
    mediation.refresh_from_db()
    assert mediation.state == state
    return mediation
