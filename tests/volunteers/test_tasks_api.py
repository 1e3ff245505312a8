"""The tasks' API: publish (201 with its id), the list of what the caller may see, a volunteer's
sign-up, check-in (with a photo) and check-out, the publisher's confirmation with hours; 400
naming the field, 403 for the wrong role, 404 outside the caller's reach; the lists' queries."""

from datetime import timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from tests.factories import english, open_case
from tests.volunteers.tasks_world import ENDS, STARTS, TUESDAY, module_world, not_a_photo, photo, publish
from volunteers.models import PointEntry, Signup, Task

pytestmark = pytest.mark.django_db

world = pytest.fixture(scope="module", name="world")(module_world)
TASKS = "/api/v1/tasks/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def api(user):
    client = english(APIClient())
    client.force_authenticate(user)
    return client


def at(moment):
    return time_machine.travel(moment, tick=False)


def body(world, **fields):
    return {
        "title": "清理12号楼楼道杂物",
        "description": "搬运杂物",
        "region": world.cast.grid_a.code,
        "starts": STARTS.isoformat(),
        "ends": ENDS.isoformat(),
        "skills": ["环境整治", "搬运"],
        "wanted": 2,
        **fields,
    }


def test_publish_sign_up_check_in_and_out_and_confirm_through_the_api(world):
    cast = world.cast
    case = open_case(cast)
    with at(TUESDAY):
        answer = api(cast.community_clerk).post(TASKS, body(world, case=case.number), format="json")
        assert answer.status_code == 201, answer.json()
        task = answer.json()
        assert task["id"] == Task.objects.get().pk
        assert (task["region"], task["case"], task["publisher"], task["deadline"]) == (
            cast.grid_a.code,
            case.number,
            cast.committee.code,
            task["starts"],
        )
        listed = api(world.alice).get(TASKS).json()
        assert [(row["id"], row["my_signup"]) for row in listed["results"]] == [(task["id"], None)]
        signed = api(world.alice).post(f"{TASKS}{task['id']}/signup/")
        assert signed.status_code == 201 and signed.json()["state"] == "signed"
        assert api(world.alice).get(TASKS).json()["results"][0]["my_signup"] == "signed"
    with at(STARTS - timedelta(minutes=30)):
        checked_in = api(world.alice).post(f"{TASKS}{task['id']}/checkin/", {"photo": photo()}, format="multipart")
        assert checked_in.status_code == 200, checked_in.json()
        signup = checked_in.json()
        assert signup["state"] == "checked_in"
        assert signup["photo"] == f"http://testserver/volunteers/tasks/{task['id']}/photos/{signup['id']}/"
    with at(STARTS + timedelta(hours=1)):
        assert api(world.alice).post(f"{TASKS}{task['id']}/checkout/").json()["state"] == "checked_out"
    with at(ENDS):
        volunteer = world.alice.volunteer.pk
        done = api(cast.community_clerk).post(
            f"{TASKS}{task['id']}/confirm/", {"hours": {str(volunteer): 1.5}}, format="json"
        )
    assert done.status_code == 200, done.json()
    assert done.json()["state"] == "done"
    assert [(s["volunteer"], s["state"], s["hours"]) for s in done.json()["signups"]] == [
        (volunteer, "confirmed", "1.50")
    ]
    assert PointEntry.objects.get(volunteer_id=volunteer).points == 15
    assert list(case.events.values_list("action", flat=True).order_by("id")) == ["open", "task_publish", "task_done"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": ""}, "title"),
        ({"region": "999999999"}, "region"),
        ({"region": "210111003201"}, "region"),  # 民主村: outside 金山社区's area
        ({"ends": STARTS.isoformat()}, "ends"),
        ({"wanted": 0}, "wanted"),
        ({"skills": ["x" * 21]}, "skills"),
        ({"case": "SJT-20260101-99999"}, "case"),
        ({"addressed_to": "D-HOUSING"}, "addressed_to"),
        ({"starts": "tomorrow"}, "starts"),
    ],
)
def test_bad_input_is_400_naming_the_field(world, fields, field):
    with at(TUESDAY):
        answer = api(world.cast.community_clerk).post(TASKS, body(world, **fields), format="json")
    assert answer.status_code == 400
    assert field in answer.json()["errors"], answer.json()
    assert not Task.objects.exists()


def test_the_wrong_role_is_403_and_outside_the_reach_404(world):
    cast = world.cast
    with at(TUESDAY):
        task = publish(world)
        assert api(world.alice).post(TASKS, body(world), format="json").status_code == 403
        assert api(cast.gridworker).get(TASKS).status_code == 403
        # The publisher reads the task, but signs up for nothing.
        assert api(cast.community_clerk).post(f"{TASKS}{task.pk}/signup/").status_code == 403
        # 民主村's volunteer does not see 金山社区's task; nor does another unit's clerk.
        assert api(world.carol).post(f"{TASKS}{task.pk}/signup/").status_code == 404
        assert api(cast.street_clerk).post(f"{TASKS}{task.pk}/confirm/", {}, format="json").status_code == 404
        assert api(world.alice).post(f"{TASKS}{task.pk + 1000}/signup/").status_code == 404
        api(world.alice).post(f"{TASKS}{task.pk}/signup/")
    with at(ENDS):
        assert api(world.alice).post(f"{TASKS}{task.pk}/confirm/", {}, format="json").status_code == 403
    assert Task.objects.get(pk=task.pk).state == "open"


def test_refusals_of_the_volunteer_doors_are_400_with_a_reason(world):
    with at(TUESDAY):
        task = publish(world, wanted=1)
        assert api(world.alice).post(f"{TASKS}{task.pk}/signup/").status_code == 201
        twice = api(world.alice).post(f"{TASKS}{task.pk}/signup/")
        assert twice.status_code == 400 and "already signed up" in twice.json()["detail"]
        full = api(world.bob).post(f"{TASKS}{task.pk}/signup/")
        assert full.status_code == 400 and "full" in full.json()["detail"]
        unsigned = api(world.bob).post(f"{TASKS}{task.pk}/checkin/")
        assert unsigned.status_code == 400 and "not signed up" in unsigned.json()["detail"]
    with at(STARTS):
        fake = api(world.alice).post(f"{TASKS}{task.pk}/checkin/", {"photo": not_a_photo()}, format="multipart")
        assert fake.status_code == 400 and "photo" in fake.json()["errors"]
        assert Signup.objects.get(task=task).state == "signed"
    with at(ENDS):
        api(world.cast.community_clerk).post(f"{TASKS}{task.pk}/confirm/", {}, format="json")
        again = api(world.cast.community_clerk).post(f"{TASKS}{task.pk}/confirm/", {}, format="json")
        assert again.status_code == 400 and "already confirmed" in again.json()["detail"]
        hours = api(world.cast.community_clerk).post(f"{TASKS}{task.pk}/confirm/", {"hours": {"abc": 1}}, format="json")
        assert hours.status_code == 400 and "hours" in hours.json()["errors"]


def test_the_list_filters_by_place_and_openness(world):
    with at(TUESDAY):
        in_grid = publish(world, region=world.cast.grid_a)
        in_community = publish(world)
        closing = publish(world, deadline=TUESDAY + timedelta(minutes=30))
    with at(TUESDAY + timedelta(hours=1)):
        alice = api(world.alice)
        assert [r["id"] for r in alice.get(TASKS).json()["results"]] == [in_grid.pk, in_community.pk]
        assert [r["id"] for r in alice.get(TASKS, {"region": world.cast.grid_a.code}).json()["results"]] == [in_grid.pk]
        everything = alice.get(TASKS, {"open": "false"}).json()
        assert {r["id"] for r in everything["results"]} == {in_grid.pk, in_community.pk, closing.pk}
        assert alice.get(TASKS, {"region": "abc"}).status_code == 400
        # The publisher's own tasks, open ones by default.
        assert api(world.cast.community_clerk).get(TASKS).json()["count"] == 2


def test_the_lists_cost_the_same_queries_for_one_task_or_six(
    world, django_assert_num_queries, django_assert_max_num_queries
):
    with at(TUESDAY):
        publish(world)
        volunteer, clerk = api(world.alice), api(world.cast.community_clerk)
        counts = {}
        # The API client hands the same user object to every request, which keeps what the first
        # request read of the person (postings, volunteer row, teams): one untimed request each,
        # so both measured requests start from the same state.
        for client in (volunteer, clerk):
            client.get(TASKS)
        # The count and the page, and what is read of the caller anew each request.
        for name, client in (("volunteer", volunteer), ("publisher", clerk)):
            with django_assert_max_num_queries(6) as one:
                assert client.get(TASKS).json()["count"] == 1
            counts[name] = len(one.captured_queries)
        for n in range(5):
            publish(world, title=f"任务{n}")
        for name, client in (("volunteer", volunteer), ("publisher", clerk)):
            with django_assert_num_queries(counts[name]):
                assert client.get(TASKS).json()["count"] == 6
