"""任务发布 through its services: publish → sign up → check in and out → confirm → points; the
refusals (full, twice, past the deadline, no sign-up, confirmed twice) with nothing changed; who
sees which task; a campaign across communities; a task from a case on the case's timeline."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import translation

from cases.errors import InvalidInput, NotPermitted
from cases.models import CaseEvent
from feedback.services import case_close_invalid
from tests.factories import open_case
from tests.volunteers.tasks_world import ENDS, STARTS, TUESDAY, module_world, photo, publish
from volunteers import tasks as services
from volunteers.models import Campaign, PointEntry, Signup, Task
from volunteers.points import balance

pytestmark = pytest.mark.django_db

world = pytest.fixture(scope="module", name="world")(module_world)


@pytest.fixture(autouse=True)
def english():
    """The refusals are matched in English (the services speak the active language)."""
    with translation.override("en"):
        yield


def at(moment):
    return time_machine.travel(moment, tick=False)


def rows(task):
    """Everything a confirmation writes, as it stands."""
    return (
        list(Task.objects.filter(pk=task.pk).values_list("state", "taken", "confirmed_at")),
        list(Signup.objects.filter(task=task).order_by("pk").values_list("state", "hours", "checked_out_at")),
        list(PointEntry.objects.order_by("pk").values_list("volunteer", "points")),
        CaseEvent.objects.count(),
    )


def test_publish_sign_up_check_in_and_out_confirm_credits_hours_and_points(world):
    with at(TUESDAY):
        task = publish(world, wanted=3)
        assert (task.state, task.taken, task.deadline, task.publisher) == ("open", 0, STARTS, world.cast.committee)
        services.task_signup(task=task, actor=world.alice)
        services.task_signup(task=task, actor=world.bob)
    task.refresh_from_db()
    assert task.taken == 2
    with at(STARTS - timedelta(minutes=10)):
        signup = services.task_check_in(task=task, actor=world.alice, photo=photo())
    assert signup.state == "checked_in" and signup.checked_in_at == STARTS - timedelta(minutes=10)
    assert signup.photo.name.startswith("tasks/2026/03/") and signup.photo.name.endswith(".jpg")
    # On site 2 h 25 min: credited 2.5 h (to the half hour); Bob never came.
    with at(STARTS + timedelta(hours=2, minutes=15)):
        services.task_check_out(task=task, actor=world.alice)
    with at(ENDS + timedelta(hours=1)):
        done = services.task_confirm(task=task, actor=world.cast.community_clerk)
    assert (done.state, done.confirmed_at) == ("done", ENDS + timedelta(hours=1))
    alice, bob = world.alice.volunteer, world.bob.volunteer
    assert Signup.objects.get(task=task, volunteer=alice).hours == Decimal("2.50")
    assert Signup.objects.get(task=task, volunteer=bob).state == "absent"
    # 10 points an hour by the default rules: 2.5 h earn 25; the absent earn nothing.
    entry = PointEntry.objects.get(volunteer=alice)
    assert (entry.kind, entry.points, entry.reason, entry.signup.task_id) == ("task", 25, task.title, task.pk)
    assert balance(alice) == 25 and balance(bob) == 0


def test_the_publisher_edits_the_hours_and_an_emergency_earns_the_bonus(world):
    with at(TUESDAY):
        task = publish(world, emergency=True)
        services.task_signup(task=task, actor=world.alice)
    with at(STARTS):
        services.task_check_in(task=task, actor=world.alice)
    # Never checked out: out at the end when confirmed, 3 h by default; the publisher credits 2.
    with at(ENDS + timedelta(days=1)):
        services.task_confirm(task=task, actor=world.cast.community_clerk, hours={world.alice.volunteer.pk: 2})
    signup = Signup.objects.get(task=task)
    assert (signup.state, signup.hours, signup.checked_out_at) == ("confirmed", Decimal("2.00"), ENDS)
    # 10 an hour and 5 an hour more for an emergency.
    assert balance(world.alice.volunteer) == 30


def test_signing_up_past_the_number_wanted_is_refused_with_nothing_changed(world):
    with at(TUESDAY):
        task = publish(world, wanted=1)
        services.task_signup(task=task, actor=world.alice)
        with pytest.raises(InvalidInput, match="full"):
            services.task_signup(task=task, actor=world.bob)
    task.refresh_from_db()
    assert task.taken == 1
    assert list(Signup.objects.filter(task=task).values_list("volunteer__user", flat=True)) == [world.alice.pk]


def test_the_same_volunteer_twice_is_refused_and_a_withdrawn_place_is_free_again(world):
    with at(TUESDAY):
        task = publish(world, wanted=1)
        services.task_signup(task=task, actor=world.alice)
        with pytest.raises(InvalidInput, match="already signed up"):
            services.task_signup(task=task, actor=world.alice)
        services.signup_withdraw(task=task, actor=world.alice)
        task.refresh_from_db()
        assert task.taken == 0
        services.task_signup(task=task, actor=world.bob)
        with pytest.raises(InvalidInput, match="withdrew"):
            services.task_signup(task=task, actor=world.alice)
    task.refresh_from_db()
    assert task.taken == 1
    with at(STARTS + timedelta(minutes=1)), pytest.raises(InvalidInput, match="started"):
        services.signup_withdraw(task=task, actor=world.bob)


def test_signing_up_after_the_deadline_is_refused(world):
    with at(TUESDAY):
        task = publish(world, deadline=TUESDAY + timedelta(hours=1))
    with at(TUESDAY + timedelta(hours=1)), pytest.raises(InvalidInput, match="closed"):
        services.task_signup(task=task, actor=world.alice)
    assert not Signup.objects.filter(task=task).exists()


def test_checking_in_needs_a_sign_up_the_day_window_and_checking_out_a_check_in(world):
    with at(TUESDAY):
        task = publish(world)
        services.task_signup(task=task, actor=world.alice)
    with at(STARTS):
        with pytest.raises(InvalidInput, match="not signed up"):
            services.task_check_in(task=task, actor=world.bob)
        with pytest.raises(InvalidInput, match="Check in first"):
            services.task_check_out(task=task, actor=world.alice)
        with pytest.raises(NotPermitted):
            services.task_check_in(task=task, actor=world.cast.community_clerk)
    with at(STARTS - timedelta(hours=1, minutes=1)), pytest.raises(InvalidInput, match="opens an hour before"):
        services.task_check_in(task=task, actor=world.alice)
    with at(ENDS + timedelta(minutes=1)), pytest.raises(InvalidInput, match="ended"):
        services.task_check_in(task=task, actor=world.alice)
    assert Signup.objects.get(task=task).state == "signed"


def test_confirming_twice_is_refused_with_nothing_changed(world):
    with at(TUESDAY):
        task = publish(world, case=open_case(world.cast).number)
        services.task_signup(task=task, actor=world.alice)
    with at(STARTS):
        services.task_check_in(task=task, actor=world.alice)
    with at(ENDS):
        services.task_confirm(task=task, actor=world.cast.community_clerk)
    before = rows(task)
    with at(ENDS + timedelta(hours=1)), pytest.raises(InvalidInput, match="already confirmed"):
        services.task_confirm(task=task, actor=world.cast.community_clerk, hours={world.alice.volunteer.pk: 1})
    assert rows(task) == before


def test_only_the_publishers_staff_confirm_and_not_before_the_start(world):
    with at(TUESDAY):
        task = publish(world)
        with pytest.raises(InvalidInput, match="not started"):
            services.task_confirm(task=task, actor=world.cast.community_clerk)
    with at(ENDS):
        for outsider in (world.cast.street_clerk, world.alice):
            with pytest.raises(NotPermitted):
                services.task_confirm(task=task, actor=outsider)
    assert Task.objects.get(pk=task.pk).state == "open"


def test_hours_are_refused_for_someone_who_did_not_come_or_beyond_the_task(world):
    with at(TUESDAY):
        task = publish(world)
        services.task_signup(task=task, actor=world.alice)
        services.task_signup(task=task, actor=world.bob)
    with at(STARTS):
        services.task_check_in(task=task, actor=world.alice)
    with at(ENDS):
        clerk, alice, bob = world.cast.community_clerk, world.alice.volunteer.pk, world.bob.volunteer.pk
        with pytest.raises(InvalidInput, match="did not check in") as refused:
            services.task_confirm(task=task, actor=clerk, hours={bob: 2})
        assert refused.value.field == "hours"
        with pytest.raises(InvalidInput, match="between 0"):
            services.task_confirm(task=task, actor=clerk, hours={alice: 4})
    assert Task.objects.get(pk=task.pk).state == "open"
    assert sorted(Signup.objects.filter(task=task).values_list("state", flat=True)) == ["checked_in", "signed"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"ends": STARTS}, "ends"),
        ({"ends": STARTS + timedelta(hours=25)}, "ends"),
        ({"deadline": STARTS + timedelta(minutes=1)}, "deadline"),
        ({"deadline": TUESDAY - timedelta(minutes=1)}, "deadline"),
        ({"wanted": 0}, "wanted"),
        ({"wanted": 501}, "wanted"),
        ({"title": "  "}, "title"),
    ],
)
def test_bad_terms_are_refused_naming_the_field(world, fields, field):
    with at(TUESDAY), pytest.raises(InvalidInput) as refused:
        publish(world, **fields)
    assert refused.value.field == field
    assert not Task.objects.exists()


def test_who_may_publish_where(world):
    cast = world.cast
    with at(TUESDAY):
        for nobody in (world.alice, cast.gridworker):
            with pytest.raises(NotPermitted):
                publish(world, actor=nobody)
        with pytest.raises(InvalidInput, match="outside") as refused:
            publish(world, region=cast.grid_c)
        assert refused.value.field == "region"
        with pytest.raises(InvalidInput) as refused:
            publish(world, region=cast.district)
        assert refused.value.field == "region"
        # A street office in its street, a department anywhere in the district.
        assert publish(world, actor=cast.street_clerk, region=cast.grid_b).publisher == cast.street_office
        assert publish(world, actor=cast.dept_clerk, region=cast.grid_c).publisher == cast.department


def test_a_task_for_a_paired_agency_or_a_team_reaches_only_its_volunteers(world):
    with at(TUESDAY):
        open_to_all = publish(world)
        for_court = publish(world, addressed_to=world.agency)
        for_team = publish(world, addressed_to=world.team.unit)
        in_grid = publish(world, region=world.cast.grid_a)
        in_village = publish(world, actor=world.cast.dept_clerk, region=world.cast.other_community)
        in_street = publish(world, actor=world.cast.street_clerk, region=world.cast.street)
        with pytest.raises(InvalidInput) as refused:
            publish(world, addressed_to=world.cast.department)
        assert refused.value.field == "addressed_to"

        def seen(user):
            return set(services.tasks_for_volunteer(user.volunteer).values_list("pk", flat=True))

        assert seen(world.alice) == {open_to_all.pk, for_team.pk, in_grid.pk}
        assert seen(world.carol) == {in_village.pk}
        # The special squad serves the whole district; the court's team is given the court's task
        # and serves 金山社区.
        assert seen(world.dan) == {open_to_all.pk, in_grid.pk, in_village.pk, in_street.pk}
        assert seen(world.erin) == {open_to_all.pk, for_court.pk, in_grid.pk}
        with pytest.raises(NotPermitted):
            services.task_signup(task=for_court, actor=world.alice)
        services.task_signup(task=for_court, actor=world.erin)
        assert Task.objects.get(pk=for_court.pk).taken == 1


def test_a_campaign_across_three_communities_makes_three_tasks(world):
    with at(TUESDAY):
        communities = [world.cast.community, world.community2, world.community3]
        campaign = services.campaign_publish(
            actor=world.cast.street_clerk,
            title="创城环境整治",
            kind=Campaign.Kind.CIVILISED_CITY,
            communities=communities,
            starts=STARTS,
            ends=ENDS,
            wanted_each=5,
            skills=["环境整治"],
        )
        tasks = list(campaign.tasks.order_by("region__code"))
        assert [t.region for t in tasks] == communities
        assert {(t.source, t.wanted, t.publisher_id, t.title) for t in tasks} == {
            ("campaign", 5, world.cast.street_office.pk, "创城环境整治")
        }
        # Each community's volunteers see their own community's task.
        assert [t.pk for t in services.tasks_for_volunteer(world.alice.volunteer)] == [tasks[0].pk]
        with pytest.raises(NotPermitted):
            services.campaign_publish(
                actor=world.cast.community_clerk,
                title="创卫",
                kind="hygiene",
                communities=communities,
                starts=STARTS,
                ends=ENDS,
                wanted_each=1,
            )
        with pytest.raises(InvalidInput, match="outside"):
            services.campaign_publish(
                actor=world.cast.street_clerk,
                title="创卫",
                kind="hygiene",
                communities=[world.cast.other_community],
                starts=STARTS,
                ends=ENDS,
                wanted_each=1,
            )
    assert Campaign.objects.count() == 1 and Task.objects.count() == 3


def test_a_task_from_a_case_reports_on_its_timeline_and_leaves_the_status(world):
    cast = world.cast
    with at(TUESDAY):
        case = open_case(cast)
        task = publish(world, case=case.number)
        services.task_signup(task=task, actor=world.alice)
    assert (task.source, task.case_id) == ("case", case.pk)
    with at(STARTS):
        services.task_check_in(task=task, actor=world.alice)
    with at(STARTS + timedelta(hours=2)):
        services.task_check_out(task=task, actor=world.alice)
    with at(ENDS):
        services.task_confirm(task=task, actor=cast.community_clerk)
    events = list(CaseEvent.objects.filter(case=case).order_by("at", "id").values_list("action", "data", "actor"))
    assert [action for action, *_rest in events] == ["open", "task_publish", "task_done"]
    assert events[1][1]["task"] == task.pk and events[1][2] == cast.community_clerk.pk
    assert events[2][1] == {"task": task.pk, "people": 1, "hours": 2.0}
    case.refresh_from_db()
    assert case.status == "registered"


def test_a_case_the_publisher_may_not_read_or_that_is_closed_is_refused(world):
    cast = world.cast
    with at(TUESDAY):
        elsewhere = open_case(cast, grid=cast.grid_c)
        closed = case_close_invalid(case=open_case(cast), actor=cast.dispatcher, reason="invalid", note="骚扰电话")
        for number, message in ((elsewhere.number, "Unknown case"), (closed.number, "closed")):
            with pytest.raises(InvalidInput, match=message) as refused:
                publish(world, case=number)
            assert refused.value.field == "case"
    assert not Task.objects.exists()
    assert not CaseEvent.objects.filter(action="task_publish").exists()


def test_the_lists_are_one_query_each_whatever_their_length(world, django_assert_num_queries):
    with at(TUESDAY):
        publish(world)
        volunteer = world.alice.volunteer
        services.reach_for(volunteer)  # the volunteer's teams and their places: read once per request
        with django_assert_num_queries(1):
            assert len(list(services.tasks_for_volunteer(volunteer))) == 1
        with django_assert_num_queries(1):
            assert len(list(services.tasks_for_publisher(world.cast.committee))) == 1
        for n in range(9):
            publish(world, title=f"任务{n}", region=world.cast.grid_a if n % 2 else world.cast.community)
        with django_assert_num_queries(1):
            assert len(list(services.tasks_for_volunteer(volunteer))) == 10
        with django_assert_num_queries(1):
            assert len(list(services.tasks_for_publisher(world.cast.committee))) == 10
