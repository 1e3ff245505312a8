"""Hotspots (未呼先应): the same category N times in M days in one grid or community, their
trend and cases, their promotion to a proactive case routed like any other, and the month's most
frequent problems (每月一题)."""

import datetime
import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.messages import get_messages

from cases.errors import InvalidInput, NotPermitted
from cases.models import Case, Category
from dashboards import hotspots
from dashboards.services import rollups_refresh
from routing.models import Assignment
from routing.tasks import dispatch_case
from tests.factories import open_case
from tests.handling.helpers import SHANGHAI

pytestmark = pytest.mark.django_db

PAGE = "/dashboards/hotspots/"
PROMOTE = "/dashboards/hotspots/promote/"
PROBLEMS = "/dashboards/monthly-problems/"
TODAY = datetime.date(2026, 3, 10)  # the feedback tests' frozen Tuesday


def refresh():
    rollups_refresh(first=TODAY - datetime.timedelta(days=100), last=TODAY)


def cases(world, count, *, grid=None, category_code="0201", on=None, clock=None):
    if on is not None:
        clock.move_to(datetime.datetime(on.year, on.month, on.day, 10, tzinfo=SHANGHAI))
    made = [open_case(world, grid=grid or world.grid_a, category_code=category_code) for _ in range(count)]
    if on is not None:
        clock.move_to(datetime.datetime(2026, 3, 10, 10, tzinfo=SHANGHAI))
    return made


def found(**options):
    return [(spot.code, spot.category.code, spot.count) for spot in hotspots.hotspots(**options)]


# --- what a hotspot is -----------------------------------------------------------------------------


def test_n_minus_one_cases_are_no_hotspot_and_n_cases_are_one(world):
    cases(world, 2)
    refresh()
    assert found() == []
    cases(world, 1)
    refresh()
    assert found() == [(world.grid_a.code, "0201", 3)]


def test_cases_older_than_m_days_do_not_count(world, clock):
    # A 30-day window ending on 10 March starts on 9 February.
    cases(world, 1, on=datetime.date(2026, 2, 8), clock=clock)
    cases(world, 1, on=datetime.date(2026, 2, 9), clock=clock)
    cases(world, 1)
    refresh()
    assert found() == []  # two in the window: 9 Feb and today
    cases(world, 1)
    refresh()
    assert found() == [(world.grid_a.code, "0201", 3)]
    assert found(days=31) == [(world.grid_a.code, "0201", 4)]


def test_other_categories_and_other_grids_are_counted_apart(world):
    cases(world, 2)
    cases(world, 1, category_code="0103")
    cases(world, 1, grid=world.grid_b)
    refresh()
    assert found() == []
    assert found(threshold=2) == [(world.grid_a.code, "0201", 2)]


def test_a_community_gathers_its_grids_and_needs_five_by_default(world):
    cases(world, 3)
    cases(world, 1, grid=world.grid_b)
    refresh()
    assert found(level="community") == []
    assert found(level="grid") == [(world.grid_a.code, "0201", 3)]
    cases(world, 1, grid=world.grid_b)
    refresh()
    assert found(level="community") == [(world.community.code, "0201", 5)]


def test_each_hotspot_has_its_daily_trend_from_one_grouped_query(world, clock, django_assert_num_queries):
    cases(world, 2, on=datetime.date(2026, 3, 2), clock=clock)
    cases(world, 1)
    cases(world, 3, grid=world.grid_c, category_code="0103", on=datetime.date(2026, 2, 20), clock=clock)
    refresh()
    # The counts, the trend of every hotspot at once, the places' names, the categories.
    with django_assert_num_queries(4):
        spots = {spot.code: spot for spot in hotspots.hotspots()}
    grid_a, grid_c = spots[world.grid_a.code], spots[world.grid_c.code]
    assert len(grid_a.trend) == 30 and grid_a.trend[-1] == 1 and grid_a.trend[-9] == 2 and sum(grid_a.trend) == 3
    assert grid_a.change == 3  # all in the later half of the window: rising
    assert grid_c.trend[11] == 3 and grid_c.change == -3 and grid_c.name == "民主村第1网格"
    # Without the trend (the dashboard's map): the same hotspots, one query fewer.
    with django_assert_num_queries(3):
        bare = {spot.code: spot for spot in hotspots.hotspots(trend=False)}
    assert {code: spot.count for code, spot in bare.items()} == {code: spot.count for code, spot in spots.items()}
    assert (bare[world.grid_a.code].trend, bare[world.grid_a.code].change) == ([], 0)


# --- the page ------------------------------------------------------------------------------------


def rows(response):
    return re.findall(r'<tr data-hotspot="([^"]+)">', response.text)


def test_the_page_lists_the_hotspots_with_a_link_to_their_cases(client, world):
    cases(world, 3)
    refresh()
    client.force_login(world.official)
    response = client.get(PAGE)
    assert response.status_code == 200
    assert rows(response) == [f"{world.grid_a.code}:0201"]
    (link,) = re.findall(r'href="([^"]+)" data-link="cases"', response.text)
    assert urlparse(link).path == "/cases/"
    assert parse_qs(urlparse(link.replace("&amp;", "&")).query) == {
        "region": [world.grid_a.code],
        "category": ["0201"],
        "created_from": ["2026-02-09"],
        "created_to": ["2026-03-10"],
    }
    assert 'id="hotspot-data"' in response.text and 'data-sparkline="0"' in response.text
    assert f'data-promote="{world.grid_a.code}:0201"' in response.text


def test_the_page_takes_n_m_and_the_level_from_the_query(client, world):
    cases(world, 2)
    cases(world, 2, grid=world.grid_b)
    refresh()
    client.force_login(world.dispatcher)
    assert rows(client.get(PAGE)) == []
    assert rows(client.get(PAGE, {"n": 2})) == [f"{world.grid_a.code}:0201", f"{world.grid_b.code}:0201"]
    assert rows(client.get(PAGE, {"level": "community", "n": 4})) == [f"{world.community.code}:0201"]
    response = client.get(PAGE, {"level": "community"})
    assert 'data-level="community" data-n="5" data-days="30"' in response.text


def test_the_page_says_when_the_list_was_cut(client, world, monkeypatch):
    cases(world, 3)
    cases(world, 4, grid=world.grid_b)
    refresh()
    client.force_login(world.dispatcher)
    assert 'id="hotspots-cut"' not in client.get(PAGE).text
    monkeypatch.setattr(hotspots, "LIMIT", 1)
    response = client.get(PAGE)
    assert rows(response) == [f"{world.grid_b.code}:0201"]  # the most frequent kept
    assert 'id="hotspots-cut"' in response.text


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"n": "1"}, "n"),
        ({"n": "many"}, "n"),
        ({"days": "0"}, "days"),
        ({"days": "400"}, "days"),
        ({"level": "street"}, "level"),
    ],
)
def test_bad_settings_are_an_error_on_their_field(client, world, query, field):
    client.force_login(world.dispatcher)
    response = client.get(PAGE, query)
    assert response.status_code == 200
    assert f'data-error-for="{field}"' in response.text and 'id="hotspot-table"' not in response.text


def test_street_and_community_staff_see_the_hotspots_of_their_area_without_promoting(client, world):
    cases(world, 3)
    cases(world, 3, grid=world.grid_c)
    refresh()
    client.force_login(world.dispatcher)
    assert rows(client.get(PAGE)) == [f"{world.grid_a.code}:0201", f"{world.grid_c.code}:0201"]
    for person in (world.street_clerk, world.community_clerk):
        client.force_login(person)
        response = client.get(PAGE)
        assert rows(response) == [f"{world.grid_a.code}:0201"]
        assert "data-promote=" not in response.text


@pytest.mark.parametrize("person", ["gridworker", "outsider", "dept_clerk"])
def test_people_without_a_dashboard_get_404(client, world, person):
    client.force_login(getattr(world, person))
    assert client.get(PAGE).status_code == 404


# --- promotion -----------------------------------------------------------------------------------


def test_promoting_opens_one_proactive_case_routed_by_the_rules(world, django_capture_on_commit_callbacks):
    cases(world, 3)
    category = Category.objects.get(code="0201")
    with django_capture_on_commit_callbacks() as queued:
        case = hotspots.hotspot_promote(
            actor=world.official, grid_or_community_code=world.grid_a.code, category=category, note="请排查垃圾点"
        )
    assert len(queued) == 1  # intake's dispatch after the commit
    dispatch_case(case.pk)  # what the queued task does in the worker
    case.refresh_from_db()
    assert (case.channel, case.grid_id, case.category_id, case.created_by) == (
        "proactive",
        world.grid_a.code,
        category.pk,
        world.official,
    )
    assert "3" in case.description and "请排查垃圾点" in case.description and world.grid_a.name in case.description
    assert case.status == Case.Status.DISPATCHED
    lead = Assignment.objects.get(case=case, role="lead")
    assert lead.unit == world.committee  # 环境卫生 goes to the grid's committee
    assert Case.objects.filter(channel="proactive").count() == 1
    assert not case.calls.exists()  # nobody called: it is not a call


def test_a_second_promotion_of_the_same_hotspot_is_refused(world, clock):
    cases(world, 3)
    category = Category.objects.get(code="0201")
    first = hotspots.hotspot_promote(
        actor=world.dispatcher, grid_or_community_code=world.grid_a.code, category=category
    )
    clock.shift(5 * 24 * 3600)
    with pytest.raises(InvalidInput, match=first.number) as refused:
        hotspots.hotspot_promote(actor=world.official, grid_or_community_code=world.grid_a.code, category=category)
    assert refused.value.field == "code" and "30" in str(refused.value)
    # The community above it is covered too: its proactive case is in the community.
    with pytest.raises(InvalidInput, match=first.number):
        hotspots.hotspot_promote(actor=world.dispatcher, grid_or_community_code=world.community.code, category=category)
    # Another category in the same grid is another hotspot.
    hotspots.hotspot_promote(
        actor=world.dispatcher, grid_or_community_code=world.grid_a.code, category=Category.objects.get(code="0103")
    )
    assert Case.objects.filter(channel="proactive").count() == 2


def test_a_closed_proactive_case_older_than_m_days_allows_a_new_promotion(world, clock):
    category = Category.objects.get(code="0201")
    first = hotspots.hotspot_promote(
        actor=world.dispatcher, grid_or_community_code=world.grid_a.code, category=category
    )
    from feedback.services import case_close_invalid

    case_close_invalid(case=first, actor=world.dispatcher, reason="invalid", note="重复")
    clock.shift(31 * 24 * 3600)
    again = hotspots.hotspot_promote(
        actor=world.dispatcher, grid_or_community_code=world.grid_a.code, category=category
    )
    assert again.pk != first.pk


def test_a_community_hotspot_goes_to_its_first_grid_or_the_grid_chosen(world):
    category = Category.objects.get(code="0201")
    case = hotspots.hotspot_promote(
        actor=world.dispatcher, grid_or_community_code=world.community.code, category=category
    )
    assert case.grid_id == world.grid_a.code
    other = Category.objects.get(code="0103")
    case = hotspots.hotspot_promote(
        actor=world.dispatcher, grid_or_community_code=world.community.code, category=other, grid=world.grid_b
    )
    assert case.grid_id == world.grid_b.code
    with pytest.raises(InvalidInput) as refused:
        hotspots.hotspot_promote(
            actor=world.dispatcher,
            grid_or_community_code=world.community.code,
            category=Category.objects.get(code="0101"),
            grid=world.grid_c,
        )
    assert refused.value.field == "grid"


@pytest.mark.parametrize("person", ["community_clerk", "street_clerk", "gridworker", "dept_clerk"])
def test_only_dispatchers_and_officials_may_promote(world, person):
    with pytest.raises(NotPermitted):
        hotspots.hotspot_promote(
            actor=getattr(world, person),
            grid_or_community_code=world.grid_a.code,
            category=Category.objects.get(code="0201"),
        )
    assert not Case.objects.filter(channel="proactive").exists()


def test_the_page_promotes_a_hotspot_and_then_shows_its_case(client, world):
    cases(world, 3)
    refresh()
    client.force_login(world.dispatcher)
    response = client.post(PROMOTE, {"code": world.grid_a.code, "category": "0201", "note": "集中整治", "days": "30"})
    case = Case.objects.get(channel="proactive")
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.number}/"
    assert "集中整治" in case.description
    page = client.get(PAGE)
    assert f'data-promoted="{case.number}"' in page.text and "data-promote=" not in page.text


def test_a_second_promotion_from_the_page_says_why_and_changes_nothing(client, world):
    cases(world, 3)
    client.force_login(world.official)
    data = {"code": world.grid_a.code, "category": "0201", "note": ""}
    client.post(PROMOTE, data)
    first = Case.objects.get(channel="proactive")
    response = client.post(PROMOTE, data, HTTP_REFERER=f"http://testserver{PAGE}")
    assert response.status_code == 302 and response["Location"] == f"http://testserver{PAGE}"
    (message,) = [str(m) for m in get_messages(response.wsgi_request)][-1:]
    assert first.number in message
    assert Case.objects.filter(channel="proactive").count() == 1


@pytest.mark.parametrize("person", ["community_clerk", "street_clerk", "dept_clerk"])
def test_a_clerk_posting_a_promotion_gets_404_and_nothing_changes(client, world, person):
    client.force_login(getattr(world, person))
    response = client.post(PROMOTE, {"code": world.grid_a.code, "category": "0201"})
    assert response.status_code == 404
    assert not Case.objects.filter(channel="proactive").exists()


def test_a_promotion_of_no_place_is_refused_with_a_message(client, world):
    client.force_login(world.dispatcher)
    response = client.post(PROMOTE, {"code": "210111001999", "category": "0201"})
    assert response.status_code == 302
    assert not Case.objects.filter(channel="proactive").exists()
    assert client.get(PROMOTE).status_code == 405


# --- 每月一题 -------------------------------------------------------------------------------------


def test_the_months_most_frequent_problems_with_the_change_from_last_month(world, clock):
    cases(world, 1, on=datetime.date(2026, 2, 10), clock=clock)
    cases(world, 4, category_code="0103", on=datetime.date(2026, 2, 11), clock=clock)
    cases(world, 3)
    cases(world, 2, category_code="0103")
    cases(world, 1, category_code="0101")
    refresh()
    # Seen after the month has ended: the whole of March against the whole of February.
    period, problems = hotspots.monthly_problems("2026-03", today=datetime.date(2026, 4, 2))
    assert (period.first, period.last) == (datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))
    assert [(p.rank, p.category.code, p.count, p.previous, p.change, p.previous_rank) for p in problems] == [
        (1, "0201", 3, 1, 2, 2),
        (2, "0103", 2, 4, -2, 1),
        (3, "0101", 1, 0, 1, None),
    ]
    _period, top = hotspots.monthly_problems("2026-03", limit=2, today=datetime.date(2026, 4, 2))
    assert [p.category.code for p in top] == ["0201", "0103"]
    # Seen on 10 March (the clock): 1–10 March against 1–10 February, so the four cases of
    # 11 February are not compared with days March has not had yet.
    period, problems = hotspots.monthly_problems("2026-03")
    assert (period.first, period.last) == (datetime.date(2026, 3, 1), datetime.date(2026, 3, 10))
    assert [(p.category.code, p.count, p.previous, p.previous_rank) for p in problems] == [
        ("0201", 3, 1, 1),
        ("0103", 2, 0, None),
        ("0101", 1, 0, None),
    ]


def test_the_monthly_problems_page_lists_ten_at_most(client, world, categories):
    kinds = [code for code, category in sorted(categories.items()) if category.parent_id][:12]
    for index, code in enumerate(kinds):
        cases(world, 1 + index % 3, category_code=code)
    refresh()
    client.force_login(world.official)
    response = client.get(PROBLEMS, {"month": "2026-03"})
    assert response.status_code == 200
    ranked = re.findall(r'<tr data-category="([^"]+)" data-rank="(\d+)">', response.text)
    assert len(ranked) == 10 and [rank for _code, rank in ranked] == [str(n) for n in range(1, 11)]
    assert 'id="problems-data"' in response.text
    assert 'data-error-for="month"' in client.get(PROBLEMS, {"month": "2026-13"}).text


@pytest.mark.parametrize("person", ["street_clerk", "community_clerk", "gridworker", "dept_clerk"])
def test_only_dispatchers_and_officials_open_the_monthly_problems(client, world, person):
    client.force_login(getattr(world, person))
    assert client.get(PROBLEMS).status_code == 404
