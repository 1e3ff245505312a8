"""Teams and volunteers: the services (a team is a unit that can take work; a volunteer has an
account of their own; the leader heads the team's unit), and `GET /api/v1/volunteer-teams/`."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import translation

from accounts.models import User
from cases.errors import InvalidInput
from tests.factories import UserFactory, english
from tests.volunteers.teams_world import module_teams
from units.models import Membership, Unit
from units.selectors import roles_for
from volunteers.models import Team, TeamMember
from volunteers.teams import may_read_teams, team_create, team_member_remove, volunteer_create

pytestmark = pytest.mark.django_db

URL = "/api/v1/volunteer-teams/"
teams = module_teams()


def get(client, user, query=""):
    client.force_login(user)
    return client.get(f"{URL}?{query}")


# --- the services -------------------------------------------------------------------------------


def test_a_team_is_a_social_unit_serving_its_home(teams):
    unit = Unit.objects.get(code="VT-210111001015")
    assert (unit.kind, unit.name, unit.region) == (Unit.Kind.SOCIAL, "金山社区党员志愿服务队", teams.cast.community)
    team = unit.team
    assert (team.level, team.home, team.area) == (Team.Level.COMMUNITY, teams.cast.community, teams.cast.community)
    assert Team.objects.get(unit__code="VT-210111001").skills == ["环境整治", "应急救援"]


def test_a_team_whose_home_is_not_of_its_level_is_refused_and_nothing_is_made(teams):
    with translation.override("en"), pytest.raises(InvalidInput) as refused:
        team_create(code="VT-X", name="某队", level=Team.Level.STREET, home=teams.cast.community, actor=None)
    assert refused.value.field == "home"
    assert "a street team has its home in a place of level street" in str(refused.value).lower()
    with pytest.raises(InvalidInput) as taken:
        team_create(code="CENTRE", name="某队", level=Team.Level.SPECIAL, home=teams.cast.district, actor=None)
    assert taken.value.field == "code"
    with pytest.raises(InvalidInput) as elsewhere:
        team_create(
            code="VT-Y",
            name="某队",
            level=Team.Level.COMMUNITY,
            home=teams.cast.community,
            area=teams.cast.other_street,
            actor=None,
        )
    assert elsewhere.value.field == "area"
    assert not Unit.objects.filter(code__in=["VT-X", "VT-Y"]).exists()


def test_a_volunteer_has_an_account_that_cannot_sign_in(teams, client):
    user = teams.member.user
    assert (user.username, user.real_name, user.phone) == ("v13900000002", "李志愿", "13900000002")
    assert not user.has_usable_password()
    refused = client.post("/accounts/login/", {"username": "v13900000002", "password": "suqu-demo"})
    assert refused.status_code == 200  # the form again, no redirect into the site
    assert set(teams.member.teams.values_list("unit__code", flat=True)) == {"VT-210111001015", "N-CANTEEN"}


def test_a_bad_phone_or_a_phone_already_a_volunteers_is_refused(teams):
    for phone in ("1390000000", "23900000009", "139000000o1"):
        with pytest.raises(InvalidInput) as refused:
            volunteer_create(name="某人", phone=phone, actor=None)
        assert refused.value.field == "phone"
    with pytest.raises(InvalidInput):
        volunteer_create(name="某人", phone="13900000001", actor=None)
    assert not User.objects.filter(username__in=["v1390000000", "v13900000001-2"]).exists()


def test_the_leader_heads_the_teams_unit_and_cannot_leave_it(teams):
    community = teams.community
    assert Membership.objects.filter(user=teams.leader.user, unit=community.unit, role=Membership.Role.HEAD).exists()
    # So the team's work reaches a person: the leader works in a social force's unit.
    assert roles_for(User.objects.get(pk=teams.leader.user_id))
    with pytest.raises(InvalidInput):
        team_member_remove(team=community, volunteer=teams.leader, actor=None)
    assert team_member_remove(team=community, volunteer=teams.member, actor=None)
    assert not TeamMember.objects.filter(team=community, volunteer=teams.member).exists()


def test_an_administrator_without_the_permission_may_not_create_a_team(teams):
    from cases.errors import NotPermitted

    staff = UserFactory(username="t_staff_noperm", is_staff=True)
    with pytest.raises(NotPermitted):
        team_create(code="VT-Z", name="某队", level=Team.Level.SPECIAL, home=teams.cast.district, actor=staff)


# --- who may read the list ----------------------------------------------------------------------


def test_staff_grid_workers_and_volunteers_may_read_the_teams_nobody_else(teams, client):
    assert may_read_teams(teams.cast.gridworker)
    assert may_read_teams(teams.cast.community_clerk)
    assert may_read_teams(teams.villager.user)
    assert not may_read_teams(AnonymousUser())
    stranger = UserFactory(username="t_stranger")
    response = get(english(client), stranger)
    assert response.status_code == 403
    assert response.json()["detail"] == "The volunteer teams are for the district's staff and its volunteers."
    client.logout()
    assert client.get(URL).status_code in (401, 403)


# --- the API ------------------------------------------------------------------------------------


def test_the_list_answers_each_team_with_its_home_leader_skills_and_members(teams, client):
    response = get(client, teams.villager.user, "level=community")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    jinshan = next(row for row in body["results"] if row["code"] == "VT-210111001015")
    assert jinshan == {
        "id": teams.community.pk,
        "code": "VT-210111001015",
        "name": "金山社区党员志愿服务队",
        "level": "community",
        "home": {"code": "210111001015", "name": "金山社区"},
        "area": {"code": "210111001015", "name": "金山社区"},
        "leader": "张志愿",
        "skills": [],
        "members_count": 2,
    }


def test_each_level_counts_its_teams_and_the_list_runs_district_first(teams, client):
    counts = {
        level: get(client, teams.cast.dispatcher, f"level={level}").json()["count"] for level in Team.Level.values
    }
    assert counts == {"district": 1, "street": 1, "community": 2, "special": 1}
    everything = get(client, teams.cast.dispatcher).json()
    assert [row["level"] for row in everything["results"]] == [
        "district",
        "street",
        "community",
        "community",
        "special",
    ]


def test_a_region_gives_the_teams_whose_home_is_that_place_or_inside_it(teams, client):
    def codes(query):
        return sorted(row["code"] for row in get(client, teams.cast.gridworker, query).json()["results"])

    assert codes("region=210111001") == ["VT-210111001", "VT-210111001015"]
    assert codes("region=210111003201") == ["VT-210111003201"]
    assert codes("region=210111001&level=community") == ["VT-210111001015"]
    assert len(codes("region=210111")) == 5


def test_a_bad_level_or_region_is_refused_naming_the_field(teams, client):
    for query, field in (("level=county", "level"), ("region=金山", "region"), ("region=2101", "region")):
        response = get(client, teams.cast.gridworker, query)
        assert response.status_code == 400, query
        assert field in response.json()["errors"], query


def test_the_list_costs_no_query_per_team(teams, client, django_assert_num_queries):
    client.force_login(teams.villager.user)
    # The session and its user, the postings (units, grids), is the caller a volunteer, the count, the page.
    with django_assert_num_queries(6):
        first = client.get(URL).json()
    for n in range(20):
        team_create(
            code=f"VT-MORE-{n}", name=f"更多{n}队", level=Team.Level.SPECIAL, home=teams.cast.district, actor=None
        )
    with django_assert_num_queries(6):
        more = client.get(URL).json()
    assert (first["count"], more["count"], len(more["results"])) == (5, 25, 25)
