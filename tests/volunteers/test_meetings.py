"""结邻共建 at work: the community's clerk records the monthly joint meeting with its paired agencies
(only those may be ticked or take a problem up), and a problem taken up becomes a case routed by
the rules, or a task addressed to the agency that took it; the agency sees its contributions."""

import datetime

import pytest
from django.utils import timezone

from cases.errors import InvalidInput, NotPermitted
from cases.models import Case, Category, Channel
from routing.dispatch import lead_assignment
from tests.volunteers.paired_world import module_world
from volunteers import meetings
from volunteers.models import Meeting, MeetingProblem, Task

pytestmark = pytest.mark.django_db
world_fixture = pytest.fixture(scope="module", name="world")(module_world)


def yesterday():
    return timezone.localdate() - datetime.timedelta(days=1)


def record(world, *, problems=(("小区东门路灯不亮", "agency"),), held_on=None, attendees=None):
    return meetings.meeting_record(
        actor=world.cast.community_clerk,
        held_on=held_on or yesterday(),
        attendees=[world.agency] if attendees is None else attendees,
        notes="五月联席会议",
        problems=[(text, getattr(world, who) if who else None) for text, who in problems],
    )


def test_the_clerk_records_a_meeting_with_the_paired_agencies_and_the_problems(client, world):
    client.force_login(world.cast.community_clerk)
    form = client.get("/volunteers/meetings/new/")
    # Only 金山社区's paired agency is offered.
    offered = f'name="attendees" value="{world.agency.pk}"', f'name="attendees" value="{world.other_agency.pk}"'
    assert offered[0] in form.text and offered[1] not in form.text
    body = {
        "held_on": yesterday().isoformat(),
        "attendees": [world.agency.pk],
        "notes": "研究老旧小区改造中的矛盾纠纷",
        "problems-TOTAL_FORMS": "2",
        "problems-INITIAL_FORMS": "0",
        "problems-0-text": "3号楼加装电梯意见不一",
        "problems-0-agency": world.agency.pk,
        "problems-1-text": "",
        "problems-1-agency": "",
    }
    answer = client.post("/volunteers/meetings/new/", body)
    meeting = Meeting.objects.get(community=world.cast.community, held_on=yesterday())
    assert answer.status_code == 302 and answer.url == f"/volunteers/meetings/{meeting.pk}/"
    assert list(meeting.attendees.all()) == [world.agency]
    assert meeting.convened_by == world.cast.committee and meeting.created_by == world.cast.community_clerk
    assert list(meeting.problems.values_list("text", "agency")) == [("3号楼加装电梯意见不一", world.agency.pk)]
    page = client.get(f"/volunteers/meetings/{meeting.pk}/")
    assert f'data-unit="{world.agency.code}"' in page.text and "3号楼加装电梯意见不一" in page.text
    assert f'data-meeting="{meeting.pk}"' in client.get("/volunteers/meetings/").text
    # The same meeting sent again (a double submit): one meeting, the second refused on its date.
    again = client.post("/volunteers/meetings/new/", body)
    assert again.status_code == 200 and 'data-error-for="held_on"' in again.text
    assert Meeting.objects.filter(community=world.cast.community, held_on=yesterday()).count() == 1


def test_only_the_communitys_paired_agencies_may_be_ticked_or_take_a_problem_up(client, world):
    for attendees, problems in (
        ([world.other_agency], ()),
        ([world.cast.department], ()),
        ([world.agency], (("问题", "other_agency"),)),
    ):
        with pytest.raises(InvalidInput):
            record(world, attendees=attendees, problems=problems)
    client.force_login(world.cast.community_clerk)
    answer = client.post(
        "/volunteers/meetings/new/",
        {
            "held_on": yesterday().isoformat(),
            "attendees": [world.agency.pk, world.other_agency.pk],
            "problems-TOTAL_FORMS": "1",
            "problems-INITIAL_FORMS": "0",
            "problems-0-text": "问题",
            "problems-0-agency": world.utility.pk,
        },
    )
    assert answer.status_code == 200
    assert 'data-error-for="attendees"' in answer.text and 'data-error-for="problems-0-agency"' in answer.text
    assert not Meeting.objects.exists() and not MeetingProblem.objects.exists()


def test_a_meeting_is_recorded_once_held_and_only_by_the_communitys_staff(client, world):
    with pytest.raises(InvalidInput):
        record(world, held_on=timezone.localdate() + datetime.timedelta(days=1))
    for person in (world.cast.dept_clerk, world.agency_clerk, world.cast.street_clerk):
        with pytest.raises(NotPermitted):
            meetings.meeting_record(actor=person, held_on=yesterday())
        client.force_login(person)
        assert client.get("/volunteers/meetings/new/").status_code == 404
    meeting = record(world)
    client.force_login(world.other_community_clerk)
    assert client.get(f"/volunteers/meetings/{meeting.pk}/").status_code == 404
    problem = meeting.problems.get()
    answer = client.post(f"/volunteers/meetings/problems/{problem.pk}/case/", {"category": "0201", "grid": "x"})
    assert answer.status_code == 404
    assert not Meeting.objects.exclude(pk=meeting.pk).exists()


def test_a_problem_becomes_a_case_routed_by_the_rules_once(client, world):
    meeting = record(world, problems=(("楼道堆放杂物堵塞消防通道", "agency"),))
    problem = meeting.problems.get()
    client.force_login(world.cast.community_clerk)
    answer = client.post(
        f"/volunteers/meetings/problems/{problem.pk}/case/", {"category": "0201", "grid": world.cast.grid_a.code}
    )
    assert answer.status_code == 302
    problem.refresh_from_db()
    case = problem.case
    assert (case.channel, case.category.code, case.grid, case.created_by) == (
        Channel.PROACTIVE,
        "0201",
        world.cast.grid_a,
        world.cast.community_clerk,
    )
    assert "楼道堆放杂物堵塞消防通道" in case.description and "区人民法院" in case.description
    # Routed at once: 环境卫生 goes to the grid's committee by the rules.
    assert case.status == Case.Status.DISPATCHED and lead_assignment(case).unit == world.cast.committee
    assert f'data-case="{case.number}"' in client.get(f"/volunteers/meetings/{meeting.pk}/").text
    # Once: a second case or a task for the same problem is refused.
    with pytest.raises(InvalidInput):
        meetings.problem_to_case(
            problem=problem, actor=world.cast.community_clerk, category=case.category, grid=world.cast.grid_a
        )
    assert Case.objects.filter(channel=Channel.PROACTIVE).count() == 1


def test_a_problem_case_needs_a_grid_of_the_community_and_a_category(world):
    problem = record(world).problems.get()
    category = Category.objects.get(code="0201")
    with pytest.raises(InvalidInput):
        meetings.problem_to_case(
            problem=problem, actor=world.cast.community_clerk, category=category, grid=world.cast.grid_c
        )
    with pytest.raises(InvalidInput):
        meetings.problem_to_case(
            problem=problem, actor=world.cast.community_clerk, category=category.parent, grid=world.cast.grid_a
        )
    problem.refresh_from_db()
    assert problem.case is None and not Case.objects.exists()


def test_a_problem_becomes_a_task_addressed_to_the_agency_that_took_it(client, world):
    meeting = record(world, problems=(("社区法律讲座需要讲师", "agency"), ("无人认领的问题", None)))
    taken, unclaimed = meeting.problems.order_by("id")
    starts = timezone.localtime() + datetime.timedelta(days=3)
    client.force_login(world.cast.community_clerk)
    answer = client.post(
        f"/volunteers/meetings/problems/{taken.pk}/task/",
        {
            "title": "法律讲座进社区",
            "starts": starts.strftime("%Y-%m-%dT%H:%M"),
            "ends": (starts + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "wanted": "2",
        },
    )
    assert answer.status_code == 302
    taken.refresh_from_db()
    task = taken.task
    assert (task.title, task.addressed_to, task.publisher, task.region, task.wanted, task.state) == (
        "法律讲座进社区",
        world.agency,
        world.cast.committee,
        world.cast.community,
        2,
        Task.State.OPEN,
    )
    # A problem nobody took up has no agency to address a task to.
    with pytest.raises(InvalidInput):
        meetings.problem_to_task(
            problem=unclaimed,
            actor=world.cast.community_clerk,
            title="",
            starts=starts,
            ends=starts + datetime.timedelta(hours=1),
            wanted=1,
        )
    assert Task.objects.count() == 1


def test_the_agency_sees_its_contributions(client, world):
    meeting = record(world, problems=(("老年人防诈骗宣传", "agency"), ("另一问题", None)))
    client.force_login(world.agency_clerk)
    page = client.get("/volunteers/contributions/")
    assert page.status_code == 200
    assert 'data-count="meetings">1<' in page.text and 'data-count="problems">1<' in page.text
    assert "老年人防诈骗宣传" in page.text and "金山社区" in page.text
    # The other agency was not there and took nothing up.
    client.force_login(world.other_agency_clerk)
    page = client.get("/volunteers/contributions/")
    assert 'data-count="meetings">0<' in page.text and "老年人防诈骗宣传" not in page.text
    assert meeting.pk
