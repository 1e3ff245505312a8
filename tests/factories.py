"""Test data: factories, and `Cast`, a small world with one named person for each role.

The world: 苏家屯区 with two streets. 解放街道 has 金山社区 with grids A and B; 民主街道 has one
community with one grid (C). Units: the centre, the leadership, the two street offices, the two
committees, and 区住房和城乡建设局.
"""

import functools
from dataclasses import dataclass

import factory
from django.contrib.auth.hashers import make_password

from accounts.models import User
from accounts.services import DEMO_PASSWORD
from grids.models import GridPosting, Region
from units.models import Membership, Unit


@functools.cache
def demo_password_hash():
    # Hashing is slow on purpose; every test user shares one hash of the demo password.
    return make_password(DEMO_PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    real_name = factory.Sequence(lambda n: f"用户{n}")
    password = factory.LazyFunction(demo_password_hash)


def region(code, name, parent=None, **extra):
    level = Region.level_for_code(code)
    if level == Region.Level.COMMUNITY:
        extra.setdefault("community_kind", Region.CommunityKind.RESIDENTS)
    obj, _ = Region.objects.get_or_create(code=code, defaults={"name": name, "level": level, "parent": parent, **extra})
    return obj


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"U{n:04d}")
    name = factory.Sequence(lambda n: f"单位{n}")
    kind = Unit.Kind.DEPARTMENT


def member(user, unit, role=Membership.Role.CLERK):
    Membership.objects.get_or_create(user=user, unit=unit, defaults={"role": role})
    return user


def posted(user, *grids):
    for grid in grids:
        GridPosting.objects.get_or_create(user=user, grid=grid)
    return user


@dataclass
class Cast:
    district: Region
    street: Region  # 解放街道
    community: Region  # 金山社区
    grid_a: Region
    grid_b: Region
    other_street: Region  # 民主街道
    other_community: Region
    grid_c: Region
    centre: Unit
    leadership: Unit
    street_office: Unit
    committee: Unit
    other_street_office: Unit
    other_committee: Unit
    department: Unit
    gridworker: User  # posted to grid A
    outsider: User  # a grid worker posted to grid B: sees nothing of grid A
    community_clerk: User  # clerk of 金山社区's committee
    street_clerk: User  # clerk of 解放街道's office
    dept_clerk: User  # clerk of 区住房和城乡建设局
    dispatcher: User  # member of the district centre
    official: User  # member of the district leadership: reads everything, writes nothing


def make_cast() -> Cast:
    district = region("210111", "苏家屯区")
    street = region("210111001", "解放街道", district)
    community = region("210111001015", "金山社区", street)
    grid_a = region("210111001015001", "金山社区第1网格", community)
    grid_b = region("210111001015002", "金山社区第2网格", community)
    other_street = region("210111003", "民主街道", district)
    other_community = region("210111003201", "民主村", other_street, community_kind=Region.CommunityKind.VILLAGERS)
    grid_c = region("210111003201001", "民主村第1网格", other_community)

    centre = UnitFactory(code="CENTRE", name="区民呼我应中心", kind=Unit.Kind.CENTRE, region=district)
    leadership = UnitFactory(code="LEADERSHIP", name="区领导", kind=Unit.Kind.LEADERSHIP, region=district)
    street_office = UnitFactory(
        code="S210111001", name="解放街道办事处", kind=Unit.Kind.STREET_OFFICE, region=street, parent=leadership
    )
    committee = UnitFactory(
        code="C210111001015", name="金山社区居委会", kind=Unit.Kind.COMMITTEE, region=community, parent=street_office
    )
    other_street_office = UnitFactory(
        code="S210111003", name="民主街道办事处", kind=Unit.Kind.STREET_OFFICE, region=other_street, parent=leadership
    )
    other_committee = UnitFactory(
        code="C210111003201",
        name="民主村村委会",
        kind=Unit.Kind.COMMITTEE,
        region=other_community,
        parent=other_street_office,
    )
    department = UnitFactory(
        code="D-HOUSING", name="区住房和城乡建设局", kind=Unit.Kind.DEPARTMENT, region=district, parent=leadership
    )
    return Cast(
        district=district,
        street=street,
        community=community,
        grid_a=grid_a,
        grid_b=grid_b,
        other_street=other_street,
        other_community=other_community,
        grid_c=grid_c,
        centre=centre,
        leadership=leadership,
        street_office=street_office,
        committee=committee,
        other_street_office=other_street_office,
        other_committee=other_committee,
        department=department,
        gridworker=posted(UserFactory(username="t_gridworker", real_name="王网格"), grid_a),
        outsider=posted(UserFactory(username="t_outsider", real_name="李网格"), grid_b),
        community_clerk=member(UserFactory(username="t_community", real_name="赵社区"), committee),
        street_clerk=member(UserFactory(username="t_street", real_name="钱街道"), street_office),
        dept_clerk=member(UserFactory(username="t_dept", real_name="孙部门"), department),
        dispatcher=member(UserFactory(username="t_dispatcher", real_name="周派单"), centre),
        official=member(UserFactory(username="t_official", real_name="吴领导"), leadership),
    )


def open_case(
    cast, *, grid=None, category_code="0201", actor=None, description="小区门口垃圾堆放多日无人清理", **fields
):
    """A registered case, opened the way intake opens one."""
    from cases.models import Category
    from cases.services import CallDetails, case_open

    details = CallDetails(
        channel=fields.pop("channel", "hotline"),
        category=Category.objects.get(code=category_code),
        grid=grid or cast.grid_a,
        description=description,
        caller_name=fields.pop("caller_name", "张三"),
        caller_phone=fields.pop("caller_phone", "13800138000"),
        **fields,
    )
    return case_open(actor=actor or cast.dispatcher, details=details)


def routing_setup(cast):
    """Office hours, a default SLA policy and two rules on top of the cast's world:
    环境卫生 (0201) goes to the grid's committee, 违章建筑 (0101) to the street office, and
    物业管理 (0103) to 区住房和城乡建设局. Everything else falls to the dispatchers."""
    from cases.models import Category
    from deadlines.models import SlaPolicy
    from deadlines.worktime import office_hours_seed
    from routing.models import RoutingRule

    office_hours_seed()
    SlaPolicy.objects.get_or_create(
        category=None,
        priority="",
        defaults={
            "sign_value": 2,
            "sign_unit": "working_hours",
            "contact_value": 1,
            "contact_unit": "working_days",
            "resolve_value": 7,
            "resolve_unit": "working_days",
            "callback_value": 1,
            "callback_unit": "working_days",
        },
    )
    for code, level, unit in (("0201", "community", None), ("0101", "street", None), ("0103", "unit", cast.department)):
        RoutingRule.objects.get_or_create(
            category=Category.objects.get(code=code), region=None, defaults={"level": level, "unit": unit}
        )


def english(client):
    """The client reading pages in English: pages follow the language switch's cookie, not the
    browser's Accept-Language."""
    client.cookies["django_language"] = "en"
    return client


def call_body(**overrides):
    """A valid `POST /api/v1/calls/` body from the hotline for grid A of the cast."""
    return {
        "channel": "hotline",
        "caller_name": "张三",
        "caller_phone": "13800138000",
        "description": "小区门口垃圾堆放多日无人清理",
        "category": "0201",
        "grid": "210111001015001",
        **overrides,
    }
