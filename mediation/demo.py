"""The demo's 评理说事 (`load_demo`'s "demo mediation" step): the seed's three-level organisation
("区、街道、社区评理说事三级组织体系，形成了180个…'说三事评三理'特色工作模式").

- 1 district point, hosted by the district centre (unit CENTRE): every kind, with an elder, a
  lawyer, a police officer and a judge on call.
- 12 street points, one per street, hosted by its street office: every kind, the same four roles.
- 167 community and village points: the 167 communities and villages with the lowest codes (the
  last 19 by code, in 沈水街道 and 白清姚千街道, send their disputes to their street's point),
  hosted by the committee. Villages take 农事 and 家事 (farming and family matters), urban
  communities 家事 and 公事 (金山社区, whose groups still farm, all three); two to four mediators
  each: elders and a committee cadre, and at every third point a lawyer.

180 points in all. Mediators' names are generated from a fixed seed, each point from its own code,
so a second run gives the same people. The demo login `mediator` (the demo password) mediates at
金山社区's point. Three demo mediations of 金山社区, in the seed's rural character (land, water,
boundaries, livestock, inheritance, neighbours), are made through the services as a mediator would:
one accepted, one scheduled, one with an agreement.

Safe to run again: points are kept by code (a missing one is added with its mediators), the demo
mediations only when 金山社区's point has none."""

import datetime
import random

from django.db import transaction
from django.utils import timezone

from accounts.services import demo_user_ensure
from grids.models import Region
from mediation.models import Kind, Mediation, Mediator, Point
from routing.services import GIVEN_NAMES, SURNAMES, UnitsNotLoaded
from units.models import Unit

DISTRICT_CODE = "210111"
CENTRE = "CENTRE"
COMMUNITY = "210111001015"  # 金山社区
COMMUNITY_POINTS = 167  # + 12 streets + the district = 180
SEED = 21  # issue 21
MEDIATOR_LOGIN = ("mediator", "韩桂兰")

R = Mediator.Role
# Who sits at each level's point (a judge on call and the police at the street and the district).
HIGHER_ROLES = (R.ELDER, R.LAWYER, R.POLICE, R.JUDGE)


def point_code(region) -> str:
    return f"M{region.code}"


def _name(rng) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)


def _mediators(point, *, level, index):
    """2–4 mediators of a point, the same on every run (a generator seeded by the point's code)."""
    rng = random.Random(f"{SEED}:{point.code}")
    if level != Point.Level.COMMUNITY:
        roles = HIGHER_ROLES
    else:
        roles = (R.ELDER, R.CADRE) if index % 3 else (R.ELDER, R.CADRE, R.LAWYER)
        if index % 2:
            roles = (R.ELDER, *roles)
    return [Mediator(point=point, name=_name(rng), role=role, phone=f"139{rng.randrange(10**8):08d}") for role in roles]


@transaction.atomic
def demo_mediation_load(*, progress=None) -> dict:
    district = Region.objects.filter(code=DISTRICT_CODE).first()
    centre = Unit.objects.filter(code=CENTRE).first()
    offices = {u.region_id: u for u in Unit.objects.filter(kind=Unit.Kind.STREET_OFFICE, is_active=True)}
    committees = {u.region_id: u for u in Unit.objects.filter(kind=Unit.Kind.COMMITTEE, is_active=True)}
    if district is None or centre is None or not offices or not committees:
        raise UnitsNotLoaded("the regions and units must be loaded first (load_reference)")
    streets = list(Region.objects.filter(level=Region.Level.STREET).order_by("code"))
    communities = list(
        Region.objects.filter(level=Region.Level.COMMUNITY, pk__in=committees).order_by("code")[:COMMUNITY_POINTS]
    )
    every_kind = list(Kind.values)
    wanted = [(district, Point.Level.DISTRICT, centre, every_kind, "苏家屯区评理说事中心", 0)]
    wanted += [
        (street, Point.Level.STREET, offices[street.pk], every_kind, f"{street.name}评理说事站", 0)
        for street in streets
        if street.pk in offices
    ]
    for index, community in enumerate(communities):
        village = community.community_kind == Region.CommunityKind.VILLAGERS
        kinds = [Kind.FARMING, Kind.FAMILY] if village else [Kind.FAMILY, Kind.PUBLIC]
        if community.code == COMMUNITY:
            kinds = every_kind  # the demo's community keeps farmland groups (组) too: all three
        wanted.append(
            (community, Point.Level.COMMUNITY, committees[community.pk], kinds, f"{community.name}评理说事点", index)
        )
    existing = set(Point.objects.values_list("code", flat=True))
    made_points, mediators = [], []
    for region, level, unit, kinds, name, index in wanted:
        if point_code(region) in existing:
            continue
        point = Point(
            code=point_code(region),
            name=name,
            level=level,
            region=region,
            unit=unit,
            kinds=[str(k) for k in kinds],
            address=f"{unit.name}党群服务中心",
        )
        made_points.append(point)
        mediators.extend(_mediators(point, level=level, index=index))
    # bulk_create sets the points' ids (PostgreSQL), which their mediators then take.
    Point.objects.bulk_create(made_points)
    Mediator.objects.bulk_create(mediators)
    if progress:
        progress("points", len(made_points), len(wanted))

    jinshan = Point.objects.filter(code=f"M{COMMUNITY}").first()
    login = 0
    if jinshan is not None:
        username, real_name = MEDIATOR_LOGIN
        user = demo_user_ensure(username=username, real_name=real_name)
        if not Mediator.objects.filter(point=jinshan, user=user).exists():
            Mediator.objects.create(point=jinshan, name=real_name, role=R.ELDER, user=user)
            login = 1
    made = _demo_mediations(jinshan) if jinshan is not None else 0
    return {"points": len(made_points), "mediators": len(mediators) + login, "mediations": made}


# 金山社区's disputes: (kind, facts, parties).
DISPUTES = (
    (
        Kind.FARMING,
        "两户承包地相邻，东侧一户去年春耕时将地界石向西挪动约半米，西侧一户认为被占地，双方多次争吵。",
        [("王德福", "13904001101", "金山社区东三组"), ("李长海", "13904001102", "金山社区东三组")],
    ),
    (
        Kind.FARMING,
        "上游农户在灌渠上私设挡板截水浇地，下游三户稻田缺水，双方因放水时间发生口角。",
        [("赵玉山", "13904001103", "金山社区西二组"), ("孙桂芝", "13904001104", "金山社区西二组")],
    ),
    (
        Kind.FAMILY,
        "老人去世后留下三间平房和宅基地，兄妹二人对房屋继承和赡养期间的付出有争议。",
        [("刘建国", "13904001105", "金山社区南一组"), ("刘秀英", "13904001106", "沈阳市苏家屯区枫杨路")],
    ),
)


PLACE = "金山社区评理说事点（社区党群服务中心一楼）"


def _demo_mediations(point) -> int:
    """Through the services, if they are there (mediation/services.py); none when 金山社区's point
    already has mediations."""
    from mediation import services

    needed = ("mediation_open", "mediation_schedule", "mediation_session", "mediation_agreement")
    if not all(hasattr(services, name) for name in needed) or Mediation.objects.filter(point=point).exists():
        return 0
    actor = Mediator.objects.filter(point=point, user__isnull=False).select_related("user").first().user
    mediators = list(point.mediators.filter(is_active=True).order_by("id")[:2])
    opened = [
        services.mediation_open(
            actor=actor,
            point=point,
            kind=kind,
            facts=facts,
            parties=[{"name": n, "phone": p, "address": a} for n, p, a in parties],
        )
        for kind, facts, parties in DISPUTES
    ]
    today = timezone.localtime().replace(minute=0, second=0, microsecond=0)
    _accepted, scheduled, agreed = opened
    services.mediation_schedule(
        mediation=scheduled,
        actor=actor,
        at=today + datetime.timedelta(days=2, hours=1),
        place=PLACE,
        mediators=mediators,
    )
    services.mediation_schedule(
        mediation=agreed, actor=actor, at=today - datetime.timedelta(days=3), place=PLACE, mediators=mediators
    )
    services.mediation_session(
        mediation=agreed,
        actor=actor,
        present=list(agreed.parties.all()),
        mediators=mediators,
        statements="哥哥：照顾老人十年，房子应归自己。妹妹：每月寄赡养费，应分得一半。",
        reasoning=["feeling", "morality", "law"],
        record="调解员讲明继承法的规定，也肯定了哥哥照顾老人的付出，双方各让一步。",
    )
    services.mediation_agreement(
        mediation=agreed,
        actor=actor,
        terms="一、三间平房归刘建国所有；\n二、刘建国于三个月内一次性补偿刘秀英人民币三万元；\n三、双方不再就此事争执。",
        follow_up=[timezone.localdate() + datetime.timedelta(days=days) for days in (30, 90)],
    )
    return len(opened)
