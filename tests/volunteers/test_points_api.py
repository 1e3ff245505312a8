"""The volunteer's own profile and ledger over the API: `GET /api/v1/volunteers/me/` and
`GET /api/v1/volunteers/me/points/` (newest first, paginated, with the balance). An account that
is no volunteer: 404; no account: 401 (tokens are asked first, and answer with a challenge)."""

from datetime import timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from tests.volunteers.points_world import TUESDAY, earned, module_world
from volunteers import points

pytestmark = pytest.mark.django_db
world = pytest.fixture(scope="module", name="world")(module_world)


def api(user=None):
    """A client signed in as `user`, read afresh (as a request would: nothing cached on it)."""
    from accounts.models import User

    client = APIClient()
    if user is not None:
        client.force_authenticate(User.objects.get(pk=user.pk))
    return client


def test_me_is_the_volunteers_profile_with_teams_skills_and_balance(world):
    earned(world, world.bob, 42)
    answer = api(world.bob.user).get("/api/v1/volunteers/me/")
    assert answer.status_code == 200
    body = answer.json()
    assert {key: body[key] for key in ("id", "name", "phone", "skills", "balance", "home")} == {
        "id": world.bob.pk,
        "name": "牛志愿",
        "phone": "13900000002",
        "skills": ["助老"],
        "balance": 42,
        "home": None,
    }
    assert sorted((team["code"], team["level"]) for team in body["teams"]) == [
        ("V-C210111001015", "community"),
        ("V-SQ-MEALS", "special"),
    ]
    assert api(world.alice.user).get("/api/v1/volunteers/me/").json()["home"] == world.cast.grid_a.code


def test_my_points_are_the_ledger_newest_first_paginated_with_the_balance(world, django_assert_num_queries):
    for day, amount in enumerate((10, 20, 30)):
        with time_machine.travel(TUESDAY + timedelta(days=day), tick=False):
            earned(world, world.alice, amount)
    with time_machine.travel(TUESDAY + timedelta(days=3), tick=False):
        points.points_redeem(volunteer=world.alice, reward=world.soap, actor=world.alice.user)
    client = api(world.alice.user)
    # The volunteer, the count, the page, the balance: whatever the page size.
    with django_assert_num_queries(4):
        body = client.get("/api/v1/volunteers/me/points/", {"page_size": 3}).json()
    assert body["count"] == 4 and body["balance"] == 40
    assert [(line["kind"], line["points"]) for line in body["results"]] == [
        ("redemption", -20),
        ("correction", 30),
        ("correction", 20),
    ]
    assert body["results"][0]["reward"] == "洗衣液"
    second = client.get(body["next"]).json()
    assert [line["points"] for line in second["results"]] == [10] and second["balance"] == 40


def test_an_account_that_is_no_volunteer_gets_404_and_no_account_401(world):
    for path in ("/api/v1/volunteers/me/", "/api/v1/volunteers/me/points/"):
        answer = api(world.cast.community_clerk).get(path)
        assert answer.status_code == 404 and answer.json()["code"] == "not_found"
        assert api().get(path).status_code == 401
