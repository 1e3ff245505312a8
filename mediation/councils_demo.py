"""The demo's 议事会 (`manage.py load_demo`, after the demo people): 88 deliberation councils, as the
seed counts ("新培育发展居民议事会、民情恳谈会等协商议事队伍88支") — a 民情恳谈会 for each street office
and a 居民议事会 in the first communities and villages by code, in turn across the streets, each with
seven members (three residents' representatives, two of the committee or street office, one of the
property management, one of a paired agency; generated names); the `council` login sits on
金山社区's council, whose meeting of last week decided on parking and discussed an elevator.
A second run adds nothing."""

import datetime
from itertools import zip_longest

from django.db import transaction
from django.utils import timezone

from accounts.services import demo_user_ensure
from grids.models import Region
from mediation import councils
from mediation.models import AgendaItem, Council, CouncilMember
from routing.services import UnitsNotLoaded, person_name
from units.models import Unit

COUNT = 88
COMMUNITY = "210111001015"  # 金山社区
MEMBERS = (
    CouncilMember.Role.RESIDENT,
    CouncilMember.Role.RESIDENT,
    CouncilMember.Role.RESIDENT,
    CouncilMember.Role.COMMITTEE,
    CouncilMember.Role.COMMITTEE,
    CouncilMember.Role.PROPERTY,
    CouncilMember.Role.AGENCY,
)
ITEMS = (
    (
        "小区停车位规划",
        "东区晚间停车难，消防通道常被占用。议题：是否将东侧绿化带边缘改建为30个停车位，按月收取管理费。",
    ),
    ("3号楼加装电梯", "3号楼共18户，高层老人多，低层住户担心采光和噪音。议题：是否同意启动加装电梯并按楼层分摊费用。"),
)


def _places():
    """(region, unit, kind) for the 88 councils: every street's 民情恳谈会, then the communities
    taken in turn from each street (the first of each street, then the second…)."""
    streets = list(Region.objects.filter(level=Region.Level.STREET).order_by("code"))
    units = {
        unit.region_id: unit
        for unit in Unit.objects.filter(
            kind__in=[Unit.Kind.STREET_OFFICE, Unit.Kind.COMMITTEE], is_active=True, region__isnull=False
        )
    }
    chosen = [(street, units.get(street.pk), Council.Kind.HEARING) for street in streets]
    by_street = {street.code: [] for street in streets}
    for community in Region.objects.filter(level=Region.Level.COMMUNITY).order_by("code"):
        by_street.setdefault(community.code[:9], []).append(community)
    # 金山社区 first: the `council` login's.
    rows = zip_longest(*by_street.values())
    communities = [c for row in rows for c in row if c is not None]
    communities.sort(key=lambda c: c.code != COMMUNITY)
    for community in communities:
        if len(chosen) >= COUNT:
            break
        chosen.append((community, units.get(community.pk), Council.Kind.RESIDENTS))
    return [(place, unit, kind) for place, unit, kind in chosen if unit is not None]


@transaction.atomic
def demo_councils_load(*, progress=None) -> dict:
    if not Council.objects.exists():
        places = _places()
        if not places:
            raise UnitsNotLoaded("the streets, communities and their committees must be loaded first (load_reference)")
        made = Council.objects.bulk_create(
            Council(
                name=f"{place.name}{'民情恳谈会' if kind == Council.Kind.HEARING else '居民议事会'}",
                kind=kind,
                region=place,
                unit=unit,
            )
            for place, unit, kind in places
        )
        CouncilMember.objects.bulk_create(
            CouncilMember(council=council, name=person_name(f"council-{council.region.code}-{n}"), role=role)
            for council in made
            for n, role in enumerate(MEMBERS)
        )
    council = Council.objects.filter(region__code=COMMUNITY).first()
    if council is None:
        return {"councils": Council.objects.count(), "meetings": 0}
    user = demo_user_ensure(username="council", real_name="刘桂兰")
    if not council.members.filter(user=user).exists():
        seat = council.members.filter(role=CouncilMember.Role.RESIDENT, user__isnull=True).order_by("id").first()
        if seat is None:
            seat = CouncilMember(council=council, role=CouncilMember.Role.RESIDENT)
        seat.name, seat.user = user.real_name, user
        seat.save()
    meetings = 0
    if not council.items.exists():
        items = [
            AgendaItem.objects.create(
                council=council, source=AgendaItem.Source.MEMBER, title=title, description=text, created_by=user
            )
            for title, text in ITEMS
        ]
        present = list(council.members.order_by("id").values_list("pk", flat=True)[:5])
        councils.meeting_record(
            actor=user,
            council=council,
            held_on=timezone.localdate() - datetime.timedelta(days=7),
            place="金山社区党群服务中心二楼会议室",
            present=present,
            items=[
                {
                    "item": items[0].pk,
                    "votes_for": 4,
                    "votes_against": 1,
                    "decision": "同意改建30个停车位，每月管理费60元，由物业公司负责施工和管理，社区居委会监督。",
                },
                {"item": items[1].pk, "votes_for": 2, "votes_against": 2, "votes_abstain": 1},
            ],
            published=True,
        )
        meetings = 1
    return {"councils": Council.objects.count(), "meetings": meetings}
