"""The world of the points and bookings tests (志愿活动积分, 预约服务): the cast, 金山社区's volunteer
team, 民主村's, and the 爱心食堂 special squad (the whole district), each with a member of staff
(a member of the team's unit); volunteers in each; two rewards of 金山社区 and one of 民主村; a
service of the squad and one of 民主村's team. Built once per module in a transaction rolled back at
its end (each test runs in a savepoint of it), or per test by `build_points()`.

Sign-ups are made here through their table of moves (signed → checked in → checked out →
confirmed), not through the tasks' services, so these tests stand on the ledger alone."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction

from tests.factories import Cast

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Tuesday morning with no holiday near it.
TUESDAY = datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI)


@dataclass
class PointsWorld:
    cast: Cast
    team: object  # 金山社区志愿服务队 (community level)
    village_team: object  # 民主村志愿服务队
    squad: object  # 爱心食堂志愿分队 (special squad, the whole district)
    team_clerk: object  # staff of 金山社区's team (a member of its unit)
    squad_clerk: object  # staff of the squad
    village_clerk: object  # clerk of 民主村's committee
    alice: object  # Volunteer: 金山社区's team, lives in grid A
    bob: object  # Volunteer: 金山社区's team and the squad
    carol: object  # Volunteer: 民主村's team, lives there
    dan: object  # Volunteer: the squad only, lives nowhere recorded
    rice: object  # Reward of 金山社区: 100 points, 5 in stock
    soap: object  # Reward of 金山社区: 20 points, 1 in stock
    village_reward: object  # Reward of 民主村
    meals: object  # Service of the squad: 爱心午餐, 2 a day
    checks: object  # Service of 民主村's team: 健康检查, 1 a day


def team(code, name, level, home, area):
    from tests.factories import UnitFactory
    from units.models import Unit
    from volunteers.models import Team

    unit = UnitFactory(code=code, name=name, kind=Unit.Kind.SOCIAL, region=home)
    return Team.objects.create(unit=unit, level=level, home=home, area=area)


def volunteer(username, name, phone, *teams, home=None):
    from tests.factories import UserFactory
    from volunteers.models import TeamMember, Volunteer

    user = UserFactory(username=username, real_name=name)
    person = Volunteer.objects.create(user=user, name=name, phone=phone, home=home, skills=["助老"])
    for each in teams:
        TeamMember.objects.create(team=each, volunteer=person)
    return person


def build_points() -> PointsWorld:
    from tests.factories import UserFactory, make_cast, member
    from volunteers.models import Reward, Service, Team

    cast = make_cast()
    L = Team.Level
    jinshan = team("V-C210111001015", "金山社区志愿服务队", L.COMMUNITY, cast.community, cast.community)
    village = team("V-C210111003201", "民主村志愿服务队", L.COMMUNITY, cast.other_community, cast.other_community)
    squad = team("V-SQ-MEALS", "爱心食堂志愿分队", L.SPECIAL, cast.district, cast.district)
    return PointsWorld(
        cast=cast,
        team=jinshan,
        village_team=village,
        squad=squad,
        team_clerk=member(UserFactory(username="t_teamstaff", real_name="冯队员"), jinshan.unit),
        squad_clerk=member(UserFactory(username="t_squadstaff", real_name="卢会长"), squad.unit),
        village_clerk=member(UserFactory(username="t_village", real_name="蒋村委"), cast.other_committee),
        alice=volunteer("t_alice", "马志愿", "13900000001", jinshan, home=cast.grid_a),
        bob=volunteer("t_bob", "牛志愿", "13900000002", jinshan, squad),
        carol=volunteer("t_carol", "羊志愿", "13900000003", village, home=cast.other_community),
        dan=volunteer("t_dan", "鹿志愿", "13900000004", squad),
        rice=Reward.objects.create(community=cast.community, name="大米5斤", cost=100, stock=5),
        soap=Reward.objects.create(community=cast.community, name="洗衣液", cost=20, stock=1),
        village_reward=Reward.objects.create(community=cast.other_community, name="毛巾", cost=10, stock=9),
        meals=Service.objects.create(team=squad, name="爱心午餐", capacity=2),
        checks=Service.objects.create(team=village, name="健康检查", capacity=1),
    )


def module_world(django_db_setup, django_db_blocker):
    """`PointsWorld`, built once for the module (tests that use it also ask for `db`). A module
    makes it its fixture with `pytest.fixture(scope="module", name="world")(module_world)`."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_points()
        transaction.set_rollback(True)


def confirmed_signup(world, person, *, hours, emergency=False, title="清理12号楼楼道杂物"):
    """A task of 金山社区's committee and `person`'s sign-up to it, moved through SIGNUP_MOVES to
    confirmed with `hours` credited (the task is left open: confirming it is the tasks' part)."""
    from cases.moves import rows_move
    from volunteers.models import Signup, Task
    from volunteers.moves import SIGNUP_MOVES

    starts = TUESDAY + timedelta(hours=5)
    task = Task.objects.create(
        title=title,
        publisher=world.cast.committee,
        created_by=world.cast.community_clerk,
        region=world.cast.community,
        starts=starts,
        ends=starts + timedelta(hours=3),
        deadline=starts,
        wanted=5,
        emergency=emergency,
    )
    signup = Signup.objects.create(task=task, volunteer=person)
    rows = Signup.objects.filter(pk=signup.pk)
    for action in ("check_in", "check_out"):
        assert rows_move(rows, SIGNUP_MOVES, action) == 1
    assert rows_move(rows, SIGNUP_MOVES, "confirm", hours=Decimal(str(hours))) == 1
    signup.refresh_from_db()
    return signup


def earned(world, person, points, *, actor=None):
    """`points` on `person`'s ledger, as a correction by a dispatcher (the quickest way to a balance)."""
    from volunteers.points import points_correct

    return points_correct(volunteer=person, points=points, reason="测试余额", actor=actor or world.cast.dispatcher)
