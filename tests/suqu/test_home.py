"""The home page is the day's work of each role: every figure links to a list showing as many
rows as the figure says, and the page costs a fixed number of queries per role."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import Category
from escalation.models import Supervision
from feedback.services import case_reopen
from routing import dispatch
from tests.factories import UserFactory, member, posted
from tests.feedback.helpers import resolved_case
from tests.handling.helpers import dispatched_case, lead, signed_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def day(world, clock):
    """金山社区's committee with one case of each kind of work: waiting to be signed for, signed
    and nearly due, overdue, supervised, sent back to redo; a pending extension; a resolved case
    waiting for its callback; one checked on site (违章建筑, by the street office)."""
    waiting = dispatched_case(world, description="楼道堆放杂物")
    signed_case(world, description="垃圾桶满了")
    late = signed_case(world, description="路灯不亮")
    supervised = signed_case(world, description="污水外溢")
    Supervision.objects.create(
        case=supervised, assignment=lead(supervised), unit=world.street_office, level=1, started_at=timezone.now()
    )
    redo = resolved_case(world, description="小广告清理")
    case_reopen(case=redo, actor=world.dispatcher, reason="居民不满意")
    dispatch.extension_request(
        case=late, actor=world.community_clerk, until=lead(late).resolve_due + timedelta(days=2), reason="需协调物业"
    )
    resolved_case(world, description="垃圾清运完毕")
    Category.objects.filter(code="0101").update(requires_verification=True)
    resolved_case(world, category_code="0101", description="违章搭建")
    # Past the sign-for deadline of the case still waiting, and near others' deadlines.
    clock.shift(timedelta(hours=3))
    return {"waiting": waiting, "late": late, "supervised": supervised, "redo": redo}


@pytest.fixture
def world(cast, categories):
    from tests.factories import routing_setup

    routing_setup(cast)
    return cast


@pytest.fixture
def clock():
    import time_machine

    from tests.handling.helpers import TUESDAY

    with time_machine.travel(TUESDAY, tick=False) as traveller:
        yield traveller


def parts(client, user):
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    return {part.key: part for part in response.context["parts"]}


def listed(client, url) -> int:
    """How many rows the page at `url` lists, read from what the page itself shows."""
    response = client.get(url)
    assert response.status_code == 200, url
    context = response.context
    if "page" in context and hasattr(context["page"], "paginator"):
        return context["page"].paginator.count
    if "requests" in context:
        return len(list(context["requests"]))
    if "rows" in context:
        return len(context["rows"])
    return len(context["cases"])


def test_a_communitys_home_counts_what_its_queue_and_case_list_show(client, world, day):
    unit = parts(client, world.community_clerk)[f"unit-{world.committee.code}"]
    counts = {item.key: item.count for item in unit.items}
    assert counts["to_sign"] == 1
    assert counts["supervised"] == 1
    assert counts["reopened"] == 1
    assert counts["overdue"] >= 1
    for item in unit.items:
        assert listed(client, item.url) == item.count, item.key
    assert unit.next_due is not None
    assert unit.next_due["number"] == day["waiting"].number  # its sign-for deadline has passed
    assert unit.next_due["mark"] == "red"


def test_the_home_page_shows_the_figures_and_their_links(client, world, day):
    client.force_login(world.community_clerk)
    text = client.get("/").text
    assert "Choose a page from the menu above." not in text
    assert re.search(r'data-item="to_sign">.*?data-count>1<', text, re.S)
    assert f'href="/handling/queue/?unit={world.committee.code}&amp;tab=overdue"' in text
    assert day["waiting"].number in text  # the next deadline names its case


def test_a_dispatchers_home_counts_what_the_console_and_the_callbacks_show(client, world, day):
    from tests.factories import open_case

    open_case(world, category_code="1301", description="咨询居住证办理")  # no rule: waits for dispatch
    centre = parts(client, world.dispatcher)["dispatcher"]
    counts = {item.key: item.count for item in centre.items}
    assert counts == {"waiting": 1, "returned": 0, "extensions": 1, "callbacks": 2}
    for item in centre.items:
        assert listed(client, item.url) == item.count, item.key
    assert "unit-CENTRE" not in parts(client, world.dispatcher)  # the centre has no queue


def test_a_grid_workers_home_counts_their_grids_open_cases_and_the_checks_to_make(client, world, day):
    worker = parts(client, world.gridworker)["grid_worker"]
    counts = {item.key: item.count for item in worker.items}
    assert counts[f"grid-{world.grid_a.code}"] == 7  # every case of the day is in grid A; all open
    assert counts["verifications"] == 1
    for item in worker.items:
        assert listed(client, item.url) == item.count, item.key
    client.force_login(world.gridworker)
    assert 'href="/intake/new/"' in client.get("/").text


def test_an_officials_home_compares_the_rates_with_the_same_days_of_last_month(client, world, day):
    official = parts(client, world.official)["official"]
    assert [rate["name"] for rate in official.extra["rates"]] == [
        "response_rate",
        "resolution_rate",
        "satisfaction_rate",
    ]
    before = official.extra["before"]
    assert (before.first.day, before.last.day) == (1, official.extra["period"].last.day)
    assert before.first.month != official.extra["period"].first.month
    counts = {item.key: item.count for item in official.items}
    assert counts["supervised"] == 1
    assert counts["overdue"] >= 1
    for item in official.items:
        assert listed(client, item.url) == item.count, item.key


def test_an_officials_worst_street_is_the_rankings_and_opens_its_dashboard(client, world, day):
    from dashboards.services import rollups_refresh
    from feedback.services import case_callback

    case_callback(
        case=resolved_case(world, description="垃圾已清运"),
        actor=world.dispatcher,
        reached=True,
        resolved=True,
        satisfaction="satisfied",
    )
    today = timezone.localdate()
    rollups_refresh(first=today.replace(day=1), last=today)
    official = parts(client, world.official)["official"]
    (street,) = official.extra["worst_streets"]  # only 解放街道 had calls this month
    assert street["unit"] == world.street_office
    ranked = client.get("/dashboards/ranking/", {"level": "street", "month": f"{today:%Y-%m}"}).context["result"]
    row = next(row for row in ranked.rows if row.unit == world.street_office)
    assert street["composite"] == row.composite
    board = client.get(street["url"])
    assert board.status_code == 200 and board.context["region"] == world.street


def test_a_person_with_several_roles_sees_each_roles_part(client, world, day):
    both = member(posted(UserFactory(username="t_both", real_name="双岗"), world.grid_a), world.committee)
    shown = parts(client, both)
    assert set(shown) == {f"unit-{world.committee.code}", "grid_worker"}


def test_a_street_office_sees_its_queue_and_what_it_supervises(client, world, day):
    shown = parts(client, world.street_clerk)
    assert f"unit-{world.street_office.code}" in shown
    (supervising,) = shown["supervising"].items
    assert supervising.count == 1
    assert listed(client, supervising.url) == 1


def test_someone_with_no_posting_is_told_what_to_do(client, world):
    client.force_login(UserFactory(username="t_nobody"))
    response = client.get("/")
    assert response.context["parts"] == []
    assert 'id="no-work"' in response.text


@pytest.mark.parametrize(
    "who, most",
    [("community_clerk", 12), ("dispatcher", 8), ("gridworker", 8), ("official", 19), ("street_clerk", 13)],
)
def test_the_home_page_costs_the_same_queries_however_much_work_there_is(
    client, world, day, who, most, django_assert_max_num_queries
):
    user = getattr(world, who)
    client.force_login(user)
    client.get("/")  # warm the session
    with CaptureQueriesContext(connection) as small:
        client.get("/")
    for _ in range(5):
        signed_case(world, description="又一处垃圾")
        resolved_case(world, description="又一处已清理")
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get("/")
    assert len(small.captured_queries) <= most


def test_an_officials_rates_are_the_dashboards_for_the_month(client, world, day):
    from dashboards.services import rollups_refresh

    today = timezone.localdate()
    rollups_refresh(first=today.replace(day=1), last=today)
    client.force_login(world.official)
    home = client.get("/").text
    rate = re.search(r'data-rate="response_rate".*?data-value>([^<]+)<', home, re.S).group(1)
    assert rate.endswith("%")
    link = re.search(r'href="([^"]+)" data-rate="response_rate"', home).group(1).replace("&amp;", "&")
    board = client.get(link, follow=True).text
    assert re.search(r'data-kpi="response_rate">([^<]+)<', board).group(1) == rate


def test_a_volunteer_is_led_to_their_own_page(client, world):
    from volunteers.models import Volunteer

    alice = UserFactory(username="t_alice", real_name="马志愿")
    Volunteer.objects.create(user=alice, name="马志愿", phone="13900000000")
    shown = parts(client, alice)
    assert list(shown) == ["own_pages"]
    client.force_login(alice)
    assert 'href="/volunteers/me/" data-own-page' in client.get("/").text
