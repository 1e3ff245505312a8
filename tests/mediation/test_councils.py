"""议事会 (mediation/councils.py): the quorum and the majority decide, votes beyond those present
are refused, a decision on a case shows on that case and opens a routed case, published meetings
reach the residents' page, the council page's queries are pinned, and the demo has the seed's 88."""

from dataclasses import dataclass

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation

from cases.errors import InvalidInput, NotPermitted
from cases.models import Category
from mediation import councils
from mediation.models import Council, CouncilMember, Meeting
from routing.models import Assignment
from routing.tasks import dispatch_case
from tests.factories import Cast, UserFactory


@dataclass
class World:
    cast: Cast
    council: Council  # 金山社区居民议事会: five members, the first with an account
    member: object  # the account of a residents' representative (no posting)
    members: list
    other: Council  # 民主村's, outside the community clerk's area


def _build():
    from cases.services import categories_load
    from tests.factories import make_cast, routing_setup

    cast = make_cast()
    categories_load()
    routing_setup(cast)
    member = UserFactory(username="t_council", real_name="刘代表")
    council = Council.objects.create(
        name="金山社区居民议事会", kind=Council.Kind.RESIDENTS, region=cast.community, unit=cast.committee
    )
    members = [
        CouncilMember.objects.create(council=council, name=name, role=role, user=member if n == 0 else None)
        for n, (name, role) in enumerate(
            [
                ("刘代表", "resident"),
                ("陈代表", "resident"),
                ("赵委员", "committee"),
                ("物业王", "property"),
                ("共建李", "agency"),
            ]
        )
    ]
    other = Council.objects.create(
        name="民主村民情恳谈会", kind=Council.Kind.HEARING, region=cast.other_community, unit=cast.other_committee
    )
    CouncilMember.objects.create(council=other, name="村民代表", role="resident")
    return World(cast, council, member, members, other)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        yield _build()
        transaction.set_rollback(True)


def _item(world, title="小区停车位规划"):
    return councils.item_propose(actor=world.member, council=world.council, title=title, description="东区停车难")


def _record(world, item, present, votes, decision="同意改建30个停车位", actor=None, **extra):
    return councils.meeting_record(
        actor=actor or world.member,
        council=world.council,
        held_on=timezone.localdate(),
        place="社区会议室",
        present=[m.pk for m in world.members[:present]],
        items=[
            {
                "item": item.pk,
                **dict(zip(("votes_for", "votes_against", "votes_abstain"), votes, strict=True)),
                "decision": decision,
            }
        ],
        **extra,
    )


@pytest.mark.django_db
def test_a_meeting_with_its_quorum_decides_a_carried_item(world):
    item = _item(world)
    meeting = _record(world, item, present=3, votes=(2, 1, 0))
    item.refresh_from_db()
    assert item.meeting == meeting and item.decided is True
    assert item.decision == "同意改建30个停车位"
    assert (item.votes_for, item.votes_against, item.votes_abstain) == (2, 1, 0)
    assert sorted(m.pk for m in meeting.present.all()) == sorted(m.pk for m in world.members[:3])
    # An item is decided once: the same item at a second meeting is refused.
    with pytest.raises(InvalidInput) as refused:
        _record(world, item, present=3, votes=(3, 0, 0))
    assert refused.value.field == "items"


@pytest.mark.django_db
def test_without_the_quorum_the_item_is_recorded_as_no_decision_with_the_reason(world):
    item = _item(world, "3号楼加装电梯")
    with translation.override("en"):
        _record(world, item, present=2, votes=(2, 0, 0))  # 2 of 5 < 50 %
    item.refresh_from_db()
    assert item.meeting is not None and item.decided is False
    assert "2 of 5 members present" in item.decision and "quorum is 50%" in item.decision


@pytest.mark.django_db
def test_an_item_not_carried_by_the_majority_is_no_decision(world):
    item = _item(world, "物业费调整")
    _record(world, item, present=4, votes=(2, 1, 1))  # 2 of 4 cast is not more than 50 %
    item.refresh_from_db()
    assert item.decided is False and "2" in item.decision


@pytest.mark.django_db
def test_votes_beyond_the_members_present_are_refused_and_nothing_is_saved(world):
    item = _item(world, "垃圾分类点位")
    meetings = Meeting.objects.count()
    with pytest.raises(InvalidInput) as refused:
        _record(world, item, present=2, votes=(2, 1, 0))
    assert refused.value.field == "items"
    item.refresh_from_db()
    assert item.meeting is None and item.decided is None and Meeting.objects.count() == meetings


@pytest.mark.django_db
def test_a_carried_item_needs_its_decision_and_strangers_may_not_record(world):
    item = _item(world, "楼道照明")
    with pytest.raises(InvalidInput):
        _record(world, item, present=3, votes=(3, 0, 0), decision="")
    with pytest.raises(NotPermitted):
        _record(world, item, present=3, votes=(3, 0, 0), actor=world.cast.dispatcher)
    with pytest.raises(InvalidInput) as refused:
        councils.meeting_record(
            actor=world.member,
            council=world.council,
            held_on=timezone.localdate(),
            present=[world.other.members.get().pk],
            items=[{"item": item.pk, "votes_for": 0, "votes_against": 0}],
        )
    assert refused.value.field == "present"


@pytest.mark.django_db
def test_a_decision_on_a_case_settles_it_and_opens_a_routed_case(world, client, django_capture_on_commit_callbacks):
    from tests.handling.helpers import dispatched_case

    cast = world.cast
    source = dispatched_case(cast, category_code="0201", description="东区晚上乱停车，堵住消防通道")
    # Only the lead unit (金山社区's committee) or a dispatcher sends a case to the council.
    with pytest.raises(NotPermitted):
        councils.item_propose_from_case(actor=cast.street_clerk, council=world.council, number=source.number)
    item = councils.item_propose_from_case(
        actor=cast.community_clerk, council=world.council, number=source.number, title="东区停车"
    )
    assert item.case == source and source.events.filter(action="council").count() == 1
    _record(world, item, present=4, votes=(3, 1, 0), decision="设立夜间临时停车区")
    settled = source.events.get(action="council_settled")
    assert settled.note == "设立夜间临时停车区"
    client.force_login(cast.community_clerk)
    client.cookies["django_language"] = "en"  # pages follow the language switch's cookie
    page = client.get(reverse("cases:detail", args=[source.number])).content.decode()
    assert "settled by the council" in page and "设立夜间临时停车区" in page

    with django_capture_on_commit_callbacks(execute=False) as queued:
        opened = councils.decision_open_case(actor=world.member, item=item, category=Category.objects.get(code="0201"))
    assert len(queued) == 1
    assert dispatch_case(opened.pk) == cast.committee.code  # the rules route it like any case
    assert Assignment.objects.filter(case=opened, unit=cast.committee, role="lead").exists()
    assert opened.grid == source.grid and "设立夜间临时停车区" in opened.description
    item.refresh_from_db()
    assert item.opened_case == opened
    with pytest.raises(InvalidInput):  # once per decision
        councils.decision_open_case(actor=world.member, item=item, category=Category.objects.get(code="0201"))


@pytest.mark.django_db
def test_a_published_meeting_reaches_the_residents_page_and_an_unpublished_one_does_not(world, client):
    shown = _record(
        world, _item(world, "健身器材更新"), present=3, votes=(3, 0, 0), decision="更新健身器材", published=True
    )
    hidden = _record(world, _item(world, "宠物管理公约"), present=3, votes=(3, 0, 0), decision="制定公约")
    page = client.get(reverse("residents:councils"))
    body = page.content.decode()
    assert page.status_code == 200 and "健身器材更新" in body and "更新健身器材" in body
    assert "宠物管理公约" not in body
    assert client.get(reverse("mediation:council-notice", args=[shown.pk])).status_code == 200
    assert client.get(reverse("mediation:council-notice", args=[hidden.pk])).status_code == 404
    # Published by a member: then it is there too.
    councils.meeting_publish(actor=world.member, meeting=hidden)
    assert "宠物管理公约" in client.get(reverse("residents:councils")).content.decode()
    other_street = client.get(reverse("residents:councils"), {"place": world.cast.other_street.code})
    assert "健身器材更新" not in other_street.content.decode()


@pytest.mark.django_db
def test_the_council_page_for_a_member_the_host_and_an_outsider(world, client, django_assert_num_queries):
    for n in range(3):
        _record(world, _item(world, f"议题{n}"), present=3, votes=(3, 0, 0), decision="通过")
    _item(world, "待议事项")
    url = reverse("mediation:council", args=[world.council.pk])
    client.force_login(world.member)
    client.get(url)
    # Session, user, postings, council, may_record, members, open items, meetings + items + present.
    with django_assert_num_queries(11):
        page = client.get(url)
    assert page.status_code == 200 and "待议事项" in page.content.decode()
    assert 'id="meeting-link"' in page.content.decode()
    client.force_login(world.cast.community_clerk)
    assert client.get(url).status_code == 200
    # Another community's clerk: no such council for them.
    client.force_login(UserFactory(username="t_other_clerk"))
    assert client.get(url).status_code == 404
    client.force_login(world.cast.dispatcher)
    page = client.get(url)
    assert page.status_code == 200 and 'id="meeting-link"' not in page.content.decode()


@pytest.mark.django_db
def test_recording_a_meeting_on_the_page(world, client):
    item = _item(world, "电动车充电桩")
    client.force_login(world.member)
    url = reverse("mediation:council-meeting-new", args=[world.council.pk])
    data = {
        "held_on": "2025-05-06",
        "place": "会议室",
        "present": [str(m.pk) for m in world.members[:2]],
        f"item-{item.pk}-discussed": "on",
        f"item-{item.pk}-for": "3",
    }
    refused = client.post(url, data)
    assert refused.status_code == 200 and Meeting.objects.filter(items=item).count() == 0
    data["present"] = [str(m.pk) for m in world.members[:4]]
    data[f"item-{item.pk}-decision"] = "在东门安装充电桩"
    answer = client.post(url, data)
    assert answer.status_code == 302
    item.refresh_from_db()
    assert item.decided is True and answer["Location"] == reverse("mediation:council-meeting", args=[item.meeting_id])


@pytest.mark.django_db
def test_an_item_comes_from_a_hotspot_of_the_councils_area_and_not_from_elsewhere(world):
    from dashboards.services import rollups_refresh_recent
    from tests.factories import open_case

    for n in range(6):
        open_case(world.cast, description=f"小区门口垃圾堆放多日无人清理{n}")
        open_case(world.cast, grid=world.cast.grid_c, description=f"村口垃圾没人清运{n}")
    rollups_refresh_recent()  # hotspots are read from the dashboards' rollups
    spots = councils.council_hotspots(world.council)
    assert any(s.category.code == "0201" for s in spots)
    assert all(s.place_code.startswith(world.council.region.code) for s in spots)
    spot = next(s for s in spots if s.category.code == "0201")
    item = councils.item_propose_from_hotspot(
        actor=world.member, council=world.council, place_code=spot.place_code, category_code="0201"
    )
    assert item.source == "hotspot" and "环境卫生" in item.title and str(spot.count) in item.description
    # 民主村's hotspot is not this council's to take up.
    with pytest.raises(InvalidInput):
        councils.item_propose_from_hotspot(
            actor=world.member, council=world.council, place_code=world.cast.grid_c.code, category_code="0201"
        )


@pytest.mark.django_db
def test_a_carried_decision_becomes_a_volunteer_task_of_the_councils_place_and_a_lost_one_does_not(world):
    from datetime import timedelta

    carried, lost = _item(world, "楼道清理"), _item(world, "加装电梯")
    _record(world, carried, present=3, votes=(3, 0, 0), decision="组织志愿者清理楼道")
    _record(world, lost, present=3, votes=(1, 2, 0))
    carried.refresh_from_db()
    starts = timezone.now() + timedelta(days=2)
    task = councils.decision_publish_task(
        actor=world.cast.community_clerk,
        item=carried,
        title="清理楼道杂物",
        starts=starts,
        ends=starts + timedelta(hours=3),
        wanted=5,
    )
    assert (task.region, task.publisher, task.description) == (
        world.council.region,
        world.cast.committee,
        "组织志愿者清理楼道",
    )
    lost.refresh_from_db()
    with pytest.raises(InvalidInput):
        councils.decision_publish_task(
            actor=world.cast.community_clerk, item=lost, title="x", starts=starts, ends=starts, wanted=1
        )


def _form_time(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.django_db
def test_a_decision_is_published_as_a_task_from_the_meeting_page_once(world, client):
    """A member (no posting of their own) publishes the decision for the council's host unit; the
    meeting shows the task; a second publish is refused with a message, whatever the door."""
    from datetime import timedelta

    from volunteers.models import Task

    item = _item(world, "楼道杂物清理")
    meeting = _record(world, item, present=3, votes=(3, 0, 0), decision="组织志愿者周六清理楼道")
    meeting_url = reverse("mediation:council-meeting", args=[meeting.pk])
    url = reverse("mediation:council-item-task", args=[item.pk])
    client.force_login(world.member)
    client.cookies["django_language"] = "en"
    assert f'href="{url}"' in client.get(meeting_url).content.decode()
    page = client.get(url)
    assert page.status_code == 200 and "组织志愿者周六清理楼道" in page.content.decode()
    starts = timezone.now() + timedelta(days=3)
    data = {
        "title": "周六清理楼道",
        "description": "",
        "region": world.council.region.code,
        "address": "金山社区5号楼",
        "starts": _form_time(starts),
        "ends": _form_time(starts + timedelta(hours=3)),
        "deadline": "",
        "skills": "",
        "wanted": "6",
        "addressed_to": "",
    }
    tasks = Task.objects.count()
    # Bad input: the page again with the error under the field, nothing saved.
    bad = client.post(url, {**data, "ends": _form_time(starts - timedelta(hours=1))})
    assert bad.status_code == 400 and 'data-error-for="ends"' in bad.content.decode()
    assert Task.objects.count() == tasks
    answer = client.post(url, data)
    assert answer.status_code == 302 and answer["Location"] == meeting_url
    item.refresh_from_db()
    task = item.opened_task
    assert (task.title, task.publisher, task.created_by, task.region, task.wanted) == (
        "周六清理楼道",
        world.cast.committee,
        world.member,
        world.council.region,
        6,
    )
    assert task.description == "组织志愿者周六清理楼道" and task.state == "open"
    shown = client.get(meeting_url).content.decode()
    assert f'data-task="{task.pk}"' in shown and "周六清理楼道" in shown and f'href="{url}"' not in shown
    # Published once: the page and the service refuse a second, with a message, no 500.
    again = client.post(url, data, follow=True)
    assert again.status_code == 200 and "already been published" in again.content.decode()
    assert client.get(url).status_code == 302
    with pytest.raises(InvalidInput) as refused:
        councils.decision_publish_task(
            actor=world.cast.community_clerk,
            item=item,
            title="再来一次",
            starts=starts,
            ends=starts + timedelta(hours=1),
            wanted=1,
        )
    assert refused.value.field == "item"
    assert Task.objects.count() == tasks + 1
    # The API shows it on the item.
    api = client.get(reverse("api:council-meetings", args=[world.council.pk])).json()
    shown_item = next(row for m in api["results"] for row in m["items"] if row["id"] == item.pk)
    assert shown_item["opened_task"] == task.pk


@pytest.mark.django_db
def test_who_may_not_record_gets_404_on_the_task_page_and_a_lost_item_has_no_form(world, client):
    from datetime import timedelta

    lost = _item(world, "收取停车费")
    meeting = _record(world, lost, present=3, votes=(1, 2, 0))
    url = reverse("mediation:council-item-task", args=[lost.pk])
    client.force_login(world.cast.dispatcher)  # reads every council, records none
    assert client.get(url).status_code == 404
    client.force_login(world.member)
    assert f'href="{url}"' not in client.get(reverse("mediation:council-meeting", args=[meeting.pk])).content.decode()
    starts = timezone.now() + timedelta(days=1)
    answer = client.post(
        url, {"title": "x", "region": world.council.region.code, "starts": _form_time(starts), "wanted": "1"}
    )
    assert answer.status_code == 302
    lost.refresh_from_db()
    assert lost.opened_task is None
