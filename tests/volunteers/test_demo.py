"""The demo's social forces: the seed's 261 teams (62 district, 12 street, 178 community, 9
special) and about ten thousand volunteers. The full size is checked on the plan (no database:
0.2 s); the load itself runs once for the module on the real district with 300 volunteers."""

import csv
import re
from collections import Counter

import pytest
from django.db import transaction
from django.test import override_settings

from accounts.models import User
from grids.models import Region
from grids.services import divisions_read
from routing.services import UNITS_CSV, committee_name, street_office_name
from units.models import Membership, Unit
from volunteers.models import Team, TeamMember, Volunteer
from volunteers.teams_demo import SQUADS, teams_plan, volunteers_plan

SEED_COUNTS = {"district": 62, "street": 12, "community": 178, "special": 9}


def real_plan():
    """The plan over the district's real places and departments, as the loader reads them from the
    database (departments paired in 结邻共建 first)."""
    divisions = divisions_read()
    streets = [(row["code"], row["name"], f"S{row['code']}") for row in divisions if row["level"] == "street"]
    communities = [
        (row["code"], row["name"], row["parent_code"], f"C{row['code']}")
        for row in divisions
        if row["level"] == "community"
    ]
    with UNITS_CSV.open(encoding="utf-8") as source:
        units = [row for row in csv.DictReader(source) if row["kind"] == "department"]
    departments = sorted(
        ((row["code"], row["name"], row["paired"] == "1") for row in units), key=lambda row: (not row[2], row[0])
    )
    teams = teams_plan(district="210111", departments=departments, streets=streets, communities=communities)
    return teams, communities


def test_the_plan_has_the_seeds_261_teams_by_level_with_unique_codes_and_names():
    teams, communities = real_plan()
    assert Counter(team.level for team in teams) == SEED_COUNTS
    assert len({team.code for team in teams}) == len({team.name for team in teams}) == 261
    names = {team.code: team.name for team in teams}
    assert names["VT-D-HOUSING"] == "区住建局党员志愿服务队"
    assert names["VT-D-HOUSING-2"] == "区住建局党员志愿服务二队"
    # The duty forces under vertical command have one team; the 30 paired departments two.
    assert "VT-D-FIRE-2" not in names and "VT-D-TRAFFIC-2" not in names
    assert names["VT-210111001"] == "解放街道党员志愿服务队"
    assert names["N-XIANGYANG"] == "葵花社区向阳先锋志愿服务队"
    # The 8 communities without a team are the last 8 by code.
    homes = {team.home for team in teams if team.level == "community"}
    assert [code for code, *_rest in communities if code not in homes] == [code for code, *_r in communities[-8:]]
    assert [team.name for team in teams if team.level == "special"][:4] == [
        "最美声音志愿服务分队",
        "卫爱同行志愿服务分队",
        "极速帮办志愿服务分队",
        "爱心食堂志愿服务分队",
    ]
    assert sum(squad.invented for squad in SQUADS) == 5


def test_ten_thousand_volunteers_each_in_a_team_mostly_their_communitys_every_team_led():
    teams, communities = real_plan()
    volunteers = volunteers_plan(teams=teams, communities=communities, size=10_000)
    assert len(volunteers) == 10_000
    phones = [volunteer.phone for volunteer in volunteers]
    assert len(set(phones)) == 10_000 and all(re.fullmatch(r"13[0-9]{9}", phone) for phone in phones)
    assert all(volunteer.teams and volunteer.skills and volunteer.availability for volunteer in volunteers)
    # The first volunteer of each team is in it (the leader).
    assert all(teams[i].code in volunteers[i].teams for i in range(len(teams)))
    members = Counter(code for volunteer in volunteers for code in volunteer.teams)
    assert set(members) == {team.code for team in teams}
    own = {team.home: team.code for team in teams if team.level == "community"}
    at_home = sum(volunteer.teams[0] == own.get(volunteer.home) for volunteer in volunteers)
    assert at_home > 7_000
    # A smaller demo is the start of a larger one, so a second run with more adds only the rest.
    assert volunteers_plan(teams=teams, communities=communities, size=300) == volunteers[:300]


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    """The real district's places and units, and the demo's teams with 300 volunteers, loaded twice."""
    from grids.services import regions_load_sujiatun
    from routing.services import units_load_sujiatun
    from volunteers.teams_demo import demo_teams_load

    with django_db_blocker.unblock(), transaction.atomic(), override_settings(DEBUG=True):
        regions_load_sujiatun()
        units_load_sujiatun()
        first = demo_teams_load(size=300)
        second = demo_teams_load(size=300)
        yield first, second
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_the_loaded_demo_has_the_seeds_counts_in_the_database_and_the_api(loaded, client):
    first, second = loaded
    assert first == {"teams": 261, "volunteers": 301, "memberships": first["memberships"], "leaders": 261}
    assert second == {"teams": 0, "volunteers": 0, "memberships": 0, "leaders": 0}
    assert dict(Counter(Team.objects.values_list("level", flat=True))) == SEED_COUNTS
    client.force_login(User.objects.get(username="volunteer"))
    counts = {level: client.get(f"/api/v1/volunteer-teams/?level={level}").json()["count"] for level in SEED_COUNTS}
    assert counts == SEED_COUNTS
    # Every team is a social unit serving its home, sponsored by the unit behind it.
    jinshan = Team.objects.select_related("unit", "sponsor").get(unit__code="VT-210111001015")
    assert (jinshan.unit.kind, jinshan.unit.region.code) == (Unit.Kind.SOCIAL, "210111001015")
    assert jinshan.sponsor.name == committee_name(Region.objects.get(code="210111001015"))
    street = Team.objects.select_related("sponsor").get(unit__code="VT-210111001")
    assert street.sponsor.name == street_office_name(Region.objects.get(code="210111001"))


@pytest.mark.django_db
def test_the_volunteer_login_is_in_jinshans_team_and_the_generated_cannot_sign_in(loaded):
    volunteer = Volunteer.objects.select_related("user").get(user__username="volunteer")
    assert volunteer.user.check_password("suqu-demo")
    assert list(volunteer.teams.values_list("unit__name", flat=True)) == ["金山社区党员志愿服务队"]
    generated = User.objects.filter(volunteer__isnull=False).exclude(username="volunteer")
    assert generated.count() == 300
    assert not any(user.has_usable_password() for user in generated[:50])


@pytest.mark.django_db
def test_every_team_is_led_by_a_member_who_heads_its_unit(loaded):
    teams = list(Team.objects.select_related("leader"))
    assert all(team.leader_id for team in teams)
    assert all(TeamMember.objects.filter(team=team, volunteer_id=team.leader_id).exists() for team in teams[:20])
    heads = set(Membership.objects.filter(role=Membership.Role.HEAD).values_list("unit_id", "user_id"))
    assert all((team.unit_id, team.leader.user_id) in heads for team in teams)
