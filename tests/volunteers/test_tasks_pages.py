"""The tasks' pages: the publisher's list, form (from a case) and task page with its confirmation;
the volunteer's phone page with sign-up, check-in (the photo checked by its content) and its
query count; who sees the pages in the navigation."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.factories import english, open_case
from tests.volunteers.tasks_world import ENDS, STARTS, TUESDAY, module_world, not_a_photo, photo, publish
from volunteers import tasks as services
from volunteers.models import PointEntry, Signup, Task

pytestmark = pytest.mark.django_db

world = pytest.fixture(scope="module", name="world")(module_world)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def at(moment):
    return time_machine.travel(moment, tick=False)


def signed_in(client, user):
    client.force_login(user)
    return english(client)


def local(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_the_pages_are_in_the_navigation_of_publishers_and_volunteers_only(client, world):
    cast = world.cast
    for user, shown in (
        (cast.community_clerk, {"/volunteers/tasks/"}),
        (cast.dept_clerk, {"/volunteers/tasks/"}),
        (world.alice, {"/volunteers/me/"}),
        (cast.gridworker, set()),
        (cast.dispatcher, set()),
    ):
        client.force_login(user)
        links = {item["url"] for item in client.get("/").context["navigation"]}
        assert links & {"/volunteers/tasks/", "/volunteers/me/"} == shown, user
    client.force_login(world.alice)
    assert client.get("/volunteers/tasks/").status_code == 404
    client.force_login(cast.gridworker)
    assert client.get("/volunteers/me/").status_code == 404


def test_a_publisher_publishes_from_a_case_and_confirms_on_the_task_page(client, world):
    cast = world.cast
    case = open_case(cast)
    signed_in(client, cast.gridworker)  # reads the case, publishes no tasks: no link
    assert 'id="publish-task"' not in client.get(f"/cases/{case.number}/").text
    signed_in(client, cast.community_clerk)
    with at(TUESDAY):
        # The case page links to the form with the case filled in.
        link = f'href="/volunteers/tasks/new/?case={case.number}"'
        assert link in client.get(f"/cases/{case.number}/").text
        form = client.get(f"/volunteers/tasks/new/?case={case.number}")
        assert form.context["form"]["case"].value() == case.number
        answer = client.post(
            "/volunteers/tasks/new/",
            {
                "title": "清理12号楼楼道杂物",
                "region": cast.grid_a.code,
                "starts": local(STARTS),
                "ends": local(ENDS),
                "skills": "环境整治\n搬运",
                "wanted": "3",
                "case": case.number,
            },
        )
        task = Task.objects.get()
        assert answer.status_code == 302 and answer.url == f"/volunteers/tasks/{task.pk}/"
        assert (task.case, task.skills, task.deadline, task.region) == (case, ["环境整治", "搬运"], STARTS, cast.grid_a)
        # Bad input comes back on the form with the field marked, nothing saved.
        refused = client.post(
            "/volunteers/tasks/new/",
            {"title": "x", "region": cast.grid_a.code, "starts": local(STARTS), "ends": local(STARTS), "wanted": "1"},
        )
        assert refused.status_code == 200
        assert refused.context["form"].errors["ends"] == ["The task must end after it starts."]
        assert 'data-error-for="ends"' in refused.text
        assert Task.objects.count() == 1
        services.task_signup(task=task, actor=world.alice)
        services.task_signup(task=task, actor=world.bob)
    with at(STARTS):
        services.task_check_in(task=task, actor=world.alice, photo=photo())
    with at(STARTS + timedelta(hours=2)):
        services.task_check_out(task=task, actor=world.alice)
    with at(ENDS):
        page = client.get(f"/volunteers/tasks/{task.pk}/")
        assert page.context["may_confirm"]
        # The check-in photo, for the publisher (and the volunteer), never as a page.
        shown = client.get(f"/volunteers/tasks/{task.pk}/photos/{Signup.objects.get(volunteer__user=world.alice).pk}/")
        assert shown["Content-Type"] == "image/jpeg" and "sandbox" in shown["Content-Security-Policy"]
        photo_url = shown.wsgi_request.path
        signed_in(client, world.bob)  # signed up for the same task: not their photo
        assert client.get(photo_url).status_code == 404
        signed_in(client, cast.community_clerk)
        field = f"hours_{world.alice.volunteer.pk}"
        assert page.context["confirm_form"][field].value() == 2  # on site 2 h
        assert list(client.get("/volunteers/tasks/").context["page"]) == [task]
        done = client.post(f"/volunteers/tasks/{task.pk}/confirm/", {field: "1.5"}, follow=True)
    assert "Confirmed" in done.text
    task.refresh_from_db()
    assert task.state == "done"
    assert dict(Signup.objects.filter(task=task).values_list("volunteer__user", "state")) == {
        world.alice.pk: "confirmed",
        world.bob.pk: "absent",
    }
    assert PointEntry.objects.get().points == 15
    # The case page lists the task, done, beside its timeline's report.
    with at(ENDS):
        case_page = client.get(f"/cases/{case.number}/").text
    assert f'data-task="{task.pk}" data-state="done"' in case_page
    with at(ENDS):
        again = client.post(f"/volunteers/tasks/{task.pk}/confirm/", {field: "3"}, follow=True)
    assert "already confirmed" in again.text
    assert PointEntry.objects.get().points == 15


def test_a_volunteer_signs_up_checks_in_and_out_on_their_page(client, world):
    signed_in(client, world.alice)
    with at(TUESDAY):
        task = publish(world)
        page = client.get("/volunteers/me/")
        assert [t.pk for t in page.context["open_tasks"]] == [task.pk]
        assert 'href="/volunteers/me/points/"' in page.text
        assert f'action="/volunteers/tasks/{task.pk}/signup/"' in page.text
        answer = client.post(f"/volunteers/tasks/{task.pk}/signup/", {"next": "/volunteers/me/"}, follow=True)
        assert "Signed up" in answer.text
        assert [s.task_id for s in answer.context["mine"]] == [task.pk] and answer.context["open_tasks"] == []
        # Check-in is not offered before the window opens.
        assert f"/volunteers/tasks/{task.pk}/checkin/" not in answer.text
    with at(STARTS - timedelta(minutes=20)):
        assert f"/volunteers/tasks/{task.pk}/checkin/" in client.get("/volunteers/me/").text
        refused = client.post(f"/volunteers/tasks/{task.pk}/checkin/", {"photo": not_a_photo()}, follow=True)
        assert "not a photo" in refused.text
        assert Signup.objects.get(task=task).state == "signed"
        client.post(f"/volunteers/tasks/{task.pk}/checkin/", {"photo": photo()})
        page = client.get("/volunteers/me/")
        assert page.context["mine"][0].state == "checked_in" and "data-checked-in" in page.text
    with at(STARTS + timedelta(hours=1)):
        client.post(f"/volunteers/tasks/{task.pk}/checkout/")
    assert Signup.objects.get(task=task).state == "checked_out"


def test_the_volunteer_page_costs_the_same_queries_for_one_task_or_six(client, world, django_assert_num_queries):
    signed_in(client, world.alice)
    with at(TUESDAY):
        services.task_signup(task=publish(world), actor=world.alice)
        publish(world)
        client.get("/volunteers/me/")
        # The session, the user, their volunteer row, sign-ups, teams and the places they serve,
        # open tasks, the done ones, the postings, the unread count.
        with django_assert_num_queries(10) as one:
            client.get("/volunteers/me/")
        for n in range(4):
            services.task_signup(task=publish(world, title=f"任务{n}"), actor=world.alice)
            publish(world, title=f"任务{n}")
        with django_assert_num_queries(len(one.captured_queries)):
            page = client.get("/volunteers/me/")
    assert (len(page.context["mine"]), len(page.context["open_tasks"])) == (5, 5)


def test_the_publishers_list_costs_the_same_queries_for_one_task_or_six(client, world, django_assert_num_queries):
    signed_in(client, world.cast.community_clerk)
    with at(TUESDAY):
        publish(world, case=open_case(world.cast).number)
        client.get("/volunteers/tasks/")
        with django_assert_num_queries(7) as one:
            client.get("/volunteers/tasks/")
        for n in range(5):
            publish(world, title=f"任务{n}", addressed_to=world.team.unit, case=open_case(world.cast).number)
        with django_assert_num_queries(len(one.captured_queries)):
            page = client.get("/volunteers/tasks/")
    assert len(page.context["page"]) == 6


def test_a_street_office_publishes_a_campaign_across_its_communities(client, world):
    cast = world.cast
    signed_in(client, cast.community_clerk)
    assert client.get("/volunteers/tasks/campaign/").status_code == 404
    assert "campaign-new" not in client.get("/volunteers/tasks/").text
    signed_in(client, cast.street_clerk)
    assert 'id="campaign-new"' in client.get("/volunteers/tasks/").text
    page = client.get("/volunteers/tasks/campaign/")
    # Its own communities only.
    assert [code for code, _name in page.context["form"].fields["communities"].choices] == [
        cast.community.code,
        world.community2.code,
        world.community3.code,
    ]
    with at(TUESDAY):
        answer = client.post(
            "/volunteers/tasks/campaign/",
            {
                "title": "创卫环境整治",
                "kind": "hygiene",
                "communities": [cast.community.code, world.community2.code, world.community3.code],
                "starts": local(STARTS),
                "ends": local(ENDS),
                "wanted_each": "4",
            },
            follow=True,
        )
    assert "a task in each of 3 communities" in answer.text
    assert sorted(Task.objects.values_list("region__code", "wanted", "source")) == [
        (cast.community.code, 4, "campaign"),
        (world.community2.code, 4, "campaign"),
        (world.community3.code, 4, "campaign"),
    ]
