"""A team signs up for a task (队伍报名): its leader or its staff tick members of the team, and each
takes a place, or none does; on the page (the task page of the leader's phone) and in the API."""

import json

import pytest
import time_machine
from django.utils import translation

from cases.errors import InvalidInput, NotPermitted
from tests.factories import UserFactory, english, member
from tests.volunteers.tasks_world import TUESDAY, module_world, publish, volunteer
from volunteers import tasks as services
from volunteers.models import Signup

pytestmark = pytest.mark.django_db
world = pytest.fixture(scope="module", name="world")(module_world)


@pytest.fixture(autouse=True)
def tuesday(world):
    world.team.leader = world.alice.volunteer
    world.team.save()
    with time_machine.travel(TUESDAY, tick=False):
        yield


@pytest.fixture
def gina(world):
    return volunteer("t_gina", "鸽志愿", world.team)


def ids(*users):
    return [user.volunteer.pk for user in users]


def signed(task):
    return sorted(Signup.objects.filter(task=task).values_list("volunteer__name", "team__unit__code"))


def test_the_leader_signs_members_up_together_each_taking_a_place(world):
    task = publish(world, wanted=3)
    rows = services.task_signup_team(
        task=task, team=world.team, volunteer_ids=ids(world.alice, world.bob), actor=world.alice
    )
    assert len(rows) == 2
    task.refresh_from_db()
    assert task.taken == 2
    assert signed(task) == [("牛志愿", "V-C210111001015"), ("马志愿", "V-C210111001015")]


def test_more_members_than_places_left_is_refused_and_nobody_is_signed_up(world, gina):
    task = publish(world, wanted=2)
    with pytest.raises(InvalidInput) as refused, translation.override("en"):
        services.task_signup_team(
            task=task, team=world.team, volunteer_ids=ids(world.alice, world.bob, gina), actor=world.alice
        )
    assert refused.value.field == "volunteers"
    assert str(refused.value) == "Only 2 of the task's places are left: choose at most 2 members."
    task.refresh_from_db()
    assert (task.taken, signed(task)) == (0, [])


def test_a_stranger_or_a_member_signed_up_already_is_named_and_nothing_is_written(world):
    task = publish(world, wanted=5)
    with pytest.raises(InvalidInput) as stranger:
        services.task_signup_team(
            task=task, team=world.team, volunteer_ids=ids(world.alice, world.carol), actor=world.alice
        )
    assert str(world.carol.volunteer.pk) in str(stranger.value)
    services.task_signup(task=task, actor=world.bob)
    with pytest.raises(InvalidInput) as already:
        services.task_signup_team(
            task=task, team=world.team, volunteer_ids=ids(world.alice, world.bob), actor=world.alice
        )
    assert "牛志愿" in str(already.value)
    with pytest.raises(InvalidInput):
        services.task_signup_team(task=task, team=world.team, volunteer_ids=[], actor=world.alice)
    task.refresh_from_db()
    assert (task.taken, signed(task)) == (1, [("牛志愿", None)])


def test_only_the_leader_or_the_teams_staff_sign_it_up_and_only_for_its_area(world):
    task = publish(world, wanted=5)
    with pytest.raises(NotPermitted):  # a member, not the leader
        services.task_signup_team(task=task, team=world.team, volunteer_ids=ids(world.bob), actor=world.bob)
    staff = member(UserFactory(username="t_teamstaff", real_name="队务"), world.team.unit)
    services.task_signup_team(task=task, team=world.team, volunteer_ids=ids(world.bob), actor=staff)
    village = publish(world, actor=world.cast.community_clerk, wanted=5)
    village.region = world.cast.other_community  # a place outside 金山社区's team's area
    village.save()
    with pytest.raises(NotPermitted):
        services.task_signup_team(task=village, team=world.team, volunteer_ids=ids(world.alice), actor=world.alice)
    assert signed(village) == []


def test_the_leader_ticks_members_on_the_task_page(world, client, gina):
    task = publish(world, wanted=3)
    services.task_signup(task=task, actor=world.bob)
    client.force_login(world.alice)
    english(client)
    page = client.get(f"/volunteers/tasks/{task.pk}/")
    form = page.context["team_forms"]
    # Bob signed up on his own: only the others are offered.
    assert [(f["team"], sorted(v.name for v in f["members"])) for f in form] == [
        (world.team, sorted(["鸽志愿", "马志愿"]))
    ]
    answer = client.post(
        f"/volunteers/tasks/{task.pk}/signup-team/",
        {"team": world.team.pk, "volunteers": [str(pk) for pk in ids(gina, world.alice)]},
        follow=True,
    )
    assert answer.redirect_chain[-1][0] == f"/volunteers/tasks/{task.pk}/", [str(m) for m in answer.context["messages"]]
    assert "signed up 2 members" in answer.text
    assert "team_forms" not in answer.context  # the task is full now
    assert sorted(name for name, _team in signed(task)) == sorted(["牛志愿", "马志愿", "鸽志愿"])
    # Bob, a member but not the leader, has no such form and no such door.
    client.force_login(world.bob)
    assert not client.get(f"/volunteers/tasks/{task.pk}/").context.get("team_forms")
    assert client.post(f"/volunteers/tasks/{task.pk}/signup-team/", {"team": world.team.pk}).status_code == 404


def test_the_api_signs_a_team_up_and_names_the_field_when_refused(world, client, gina):
    task = publish(world, wanted=2)
    client.force_login(world.alice)
    url = f"/api/v1/tasks/{task.pk}/team-signup/"

    def post(body):
        return client.post(url, json.dumps(body), content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")

    too_many = post({"team": "V-C210111001015", "volunteers": ids(world.alice, world.bob, gina)})
    assert too_many.status_code == 400 and "volunteers" in json.dumps(too_many.json())
    assert post({"team": "V-C210111001015", "volunteers": []}).status_code == 400
    done = post({"team": "V-C210111001015", "volunteers": ids(world.alice, world.bob)})
    assert done.status_code == 201
    assert sorted((row["volunteer_name"], row["team"]) for row in done.json()) == [
        ("牛志愿", world.team.pk),
        ("马志愿", world.team.pk),
    ]
    client.force_login(world.bob)
    assert post({"team": "V-C210111001015", "volunteers": ids(world.bob)}).status_code == 403
