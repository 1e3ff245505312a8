"""The world of the team and import tests: the cast with five volunteer teams (one of each level,
and 民主村's) and three volunteers, built once per module in a transaction rolled back at its end
(each test runs in a savepoint of it)."""

from dataclasses import dataclass

import pytest
from django.db import transaction

from tests.factories import Cast


@dataclass
class Teams:
    cast: Cast
    district: object  # 区住建局党员志愿服务队, sponsored by the cast's department
    street: object  # 解放街道党员志愿服务队
    community: object  # 金山社区党员志愿服务队, led by `leader`
    other_community: object  # 民主村党员志愿服务队
    special: object  # 爱心食堂志愿服务分队
    leader: object  # 张志愿, 金山社区's team leader
    member: object  # 李志愿, in 金山社区's team and 爱心食堂
    villager: object  # 王志愿, in 民主村's team


def build_teams() -> Teams:
    from tests.factories import make_cast
    from volunteers.models import Team
    from volunteers.teams import team_create, team_leader_set, volunteer_create

    cast = make_cast()

    def team(code, name, level, home, **extra):
        return team_create(code=code, name=name, level=level, home=home, actor=None, **extra)

    district = team(
        "VT-D-HOUSING", "区住建局党员志愿服务队", Team.Level.DISTRICT, cast.district, sponsor=cast.department
    )
    street = team("VT-210111001", "解放街道党员志愿服务队", Team.Level.STREET, cast.street, skills="环境整治、应急救援")
    community = team("VT-210111001015", "金山社区党员志愿服务队", Team.Level.COMMUNITY, cast.community)
    other_community = team("VT-210111003201", "民主村党员志愿服务队", Team.Level.COMMUNITY, cast.other_community)
    special = team("N-CANTEEN", "爱心食堂志愿服务分队", Team.Level.SPECIAL, cast.district, skills=["送餐"])
    leader = volunteer_create(name="张志愿", phone="13900000001", home=cast.community, teams=[community], actor=None)
    member = volunteer_create(
        name="李志愿", phone="13900000002", home=cast.community, skills="送餐", teams=[community, special], actor=None
    )
    villager = volunteer_create(
        name="王志愿", phone="13900000003", home=cast.other_community, teams=[other_community], actor=None
    )
    team_leader_set(team=community, volunteer=leader, actor=None)
    return Teams(
        cast=cast,
        district=district,
        street=street,
        community=community,
        other_community=other_community,
        special=special,
        leader=leader,
        member=member,
        villager=villager,
    )


def module_teams():
    @pytest.fixture(scope="module")
    def teams(django_db_setup, django_db_blocker):
        """`Teams`, built once for the module (tests that use it also ask for `db`)."""
        with django_db_blocker.unblock(), transaction.atomic():
            yield build_teams()
            transaction.set_rollback(True)

    return teams
