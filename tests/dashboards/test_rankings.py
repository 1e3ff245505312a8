"""The monthly ranking of units (排行): scores and ranks as the metrics count them over the raw
rows, the change from last month, the red and black lists, the exemptions beside each score."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboards import rankings
from dashboards.services import rollups_refresh
from feedback import metrics
from tests.dashboards.helpers import department, judged_case, tuesday

pytestmark = pytest.mark.django_db

FEBRUARY = metrics.Period.month("2026-02")
MARCH = metrics.Period.month("2026-03")
PAGE = "/dashboards/ranking/"
DEPARTMENTS = ("D-HOUSING", "D-WATER", "D-PARKS", "D-ROADS", "D-IDLE")


def refresh():
    rollups_refresh(first=FEBRUARY.first, last=MARCH.last)


@pytest.fixture
def judged(world, clock):
    """Four departments and a utility judged over February and March:

    - 区住建局 (D-HOUSING): February satisfied (100), March basically satisfied (93), and a
      March case closed with an exemption;
    - 区水务公司 (D-WATER, a utility): February basically satisfied (93), March satisfied (100);
    - 区园林局 (D-PARKS): March satisfied (100), a tie with D-WATER;
    - 区公路局 (D-ROADS): March unsatisfied and not solved (30);
    - 区档案局 (D-IDLE): nothing, so no score.
    """
    water, water_clerk = department("D-WATER", "区水务公司", kind="utility")
    parks, parks_clerk = department("D-PARKS", "区园林局")
    roads, roads_clerk = department("D-ROADS", "区公路局")
    department("D-IDLE", "区档案局")
    clock.move_to(tuesday(2))
    judged_case(world, world.department, world.dept_clerk, "satisfied")
    judged_case(world, water, water_clerk, "basically")
    clock.move_to(tuesday(3))
    judged_case(world, world.department, world.dept_clerk, "basically")
    world.exempted = judged_case(world, world.department, world.dept_clerk, exempt=True)
    judged_case(world, water, water_clerk, "satisfied")
    judged_case(world, parks, parks_clerk, "satisfied")
    judged_case(world, roads, roads_clerk, "unsatisfied")
    refresh()
    return world


def by_code(result):
    return {row.unit.code: row for row in result.rows}


def competition_ranks(scores):
    """1, 1, 3, 4 for {a: 100, b: 100, c: 93, d: 30}: computed here, apart from the code."""
    ordered = sorted((score for score in scores.values() if score is not None), reverse=True)
    return {
        code: None if score is None else 1 + sum(s > score + 1e-9 for s in ordered) for code, score in scores.items()
    }


def test_the_scores_and_ranks_equal_those_of_the_metrics_over_the_raw_rows(judged):
    raw = {row.code: row.figures for row in metrics.rows_for("unit", period=MARCH) if row.code in DEPARTMENTS}
    assert set(raw) == set(DEPARTMENTS)
    result = rankings.ranking("department", "2026-03")
    rows = by_code(result)
    assert set(rows) == set(DEPARTMENTS)
    for code, figures in raw.items():
        assert rows[code].figures.as_dict() == pytest.approx(figures.as_dict()), code
    expected = competition_ranks({code: figures.composite for code, figures in raw.items()})
    assert {code: row.rank for code, row in rows.items()} == expected
    assert expected == {"D-WATER": 1, "D-PARKS": 1, "D-HOUSING": 3, "D-ROADS": 4, "D-IDLE": None}
    # Best first; a tie in code order; the unit without a score last.
    assert [row.unit.code for row in result.rows] == ["D-PARKS", "D-WATER", "D-HOUSING", "D-ROADS", "D-IDLE"]
    assert rows["D-HOUSING"].composite == pytest.approx(93.0)
    assert rows["D-ROADS"].composite == pytest.approx(30.0)


def test_the_change_from_last_month_is_given_for_the_score_and_every_rate(judged):
    rows = by_code(rankings.ranking("department", "2026-03"))
    housing = rows["D-HOUSING"].change
    assert housing["composite"] == pytest.approx(-7.0)
    assert housing["satisfaction_rate"] == pytest.approx(-0.2)
    assert housing["response_rate"] == pytest.approx(0) and housing["resolution_rate"] == pytest.approx(0)
    assert rows["D-WATER"].change["composite"] == pytest.approx(7.0)
    # Nothing to compare with: no score last month (D-ROADS, D-PARKS) or this month (D-IDLE).
    assert rows["D-ROADS"].change["composite"] is None and rows["D-PARKS"].change["composite"] is None
    assert all(value is None for value in rows["D-IDLE"].change.values())
    assert set(housing) == {"composite", *metrics.Figures.RATES}


def test_the_red_and_black_lists_hold_only_scored_units_and_never_the_same_one(judged):
    result = rankings.ranking("department", "2026-03")
    # Four scored units: two on each list, the unit without a score on neither.
    assert [row.unit.code for row in result.red] == ["D-PARKS", "D-WATER"]
    assert [row.unit.code for row in result.black] == ["D-ROADS", "D-HOUSING"]


@pytest.mark.parametrize(("scored", "size"), [(0, 0), (1, 0), (2, 1), (5, 2), (6, 3), (9, 3)])
def test_each_list_takes_at_most_three_units_and_half_of_those_with_a_score(scored, size):
    rows = list(range(scored))
    red, black = rankings._lists(rows)
    assert red == rows[:size] and black == rows[::-1][:size]
    assert not set(red) & set(black)


def test_the_exemptions_are_counted_and_listed_beside_the_units_score(client, judged):
    rows = by_code(rankings.ranking("department", "2026-03"))
    assert rows["D-HOUSING"].exemptions == 1
    assert [item.number for item in rows["D-HOUSING"].exempted] == [judged.exempted.number]
    assert rows["D-HOUSING"].exempted[0].reason == "historical"
    assert rows["D-WATER"].exemptions == 0 and rows["D-WATER"].exempted == []
    client.force_login(judged.official)
    response = client.get(PAGE, {"level": "department", "month": "2026-03"})
    cells = table(response)["D-HOUSING"]
    assert cells["exempted"] == "1"
    assert f'data-case="{judged.exempted.number}"' in response.text
    assert "/feedback/metrics/?level=unit&amp;month=2026-03#exemptions-title" in response.text


def table(response):
    """{unit code: {column: shown text}} from the ranking table."""
    rows = {}
    for code, cells in re.findall(r'<tr data-code="([^"]+)" data-rank="[^"]*"[^>]*>(.*?)</tr>', response.text, re.S):
        found = dict(re.findall(r'data-(?:rate|value)="(\w+)">([^<]*)<', cells))
        found.update({f"change_{k}": v for k, v in re.findall(r'data-change="(\w+)">([^<]*)<', cells)})
        # The count opens the list (a <summary>); the link to the month's exemptions is inside it.
        exempted = re.search(r'data-count="exempted">\s*(?:<details[^>]*>\s*<summary>(?:<a [^>]*>)?)?(\d+)', cells)
        found["exempted"] = exempted.group(1)
        rows[code] = found
    return rows


def test_the_page_shows_the_ranking_the_function_computes(client, judged):
    client.force_login(judged.dispatcher)
    response = client.get(PAGE, {"level": "department", "month": "2026-03"})
    assert response.status_code == 200
    assert re.findall(r'<tr data-code="([^"]+)" data-rank="([^"]*)"', response.text) == [
        ("D-PARKS", "1"),
        ("D-WATER", "1"),
        ("D-HOUSING", "3"),
        ("D-ROADS", "4"),
        ("D-IDLE", ""),
    ]
    cells = table(response)
    assert (cells["D-HOUSING"]["composite"], cells["D-HOUSING"]["change_composite"]) == ("93.0", "−7.0")
    assert cells["D-HOUSING"]["change_satisfaction_rate"] == "−20.0"
    assert (cells["D-ROADS"]["composite"], cells["D-ROADS"]["change_composite"]) == ("30.0", "—")
    assert cells["D-IDLE"]["composite"] == "—"
    assert re.findall(r'<li class="list-group-item[^"]*" data-code="([^"]+)"', response.text) == [
        "D-PARKS",
        "D-WATER",
        "D-ROADS",
        "D-HOUSING",
    ]
    assert 'id="ranking-data"' in response.text and "js/dashboards_insights.js" in response.text


def test_the_street_offices_are_ranked_apart_and_the_current_month_is_the_default(client, judged):
    judged_case(judged, judged.street_office, judged.street_clerk, "satisfied")
    refresh()
    client.force_login(judged.official)
    response = client.get(PAGE)
    assert 'data-level="street" data-month="2026-03" data-previous="2026-02"' in response.text
    assert re.findall(r'<tr data-code="([^"]+)" data-rank="([^"]*)"', response.text) == [
        (judged.street_office.code, "1"),
        (judged.other_street_office.code, ""),
    ]
    # One scored office: nobody to compare it with, so neither list names it.
    assert 'id="red-list"' in response.text and "list-group-item d-flex" not in response.text


@pytest.mark.parametrize(
    ("query", "field"),
    [({"month": "2026-13"}, "month"), ({"month": "March"}, "month"), ({"level": "grid"}, "level")],
)
def test_a_bad_request_is_an_error_on_its_field_not_a_crash(client, world, query, field):
    client.force_login(world.dispatcher)
    response = client.get(PAGE, query)
    assert response.status_code == 200
    assert f'data-error-for="{field}"' in response.text and 'id="ranking-table"' not in response.text


@pytest.mark.parametrize("person", ["gridworker", "outsider", "dept_clerk", "community_clerk", "street_clerk"])
def test_only_dispatchers_and_officials_open_the_ranking(client, world, person):
    client.force_login(getattr(world, person))
    assert client.get(PAGE).status_code == 404


def test_the_ranking_link_is_in_the_navigation_of_those_who_may_open_it(client, world):
    client.force_login(world.official)
    assert f'href="{PAGE}"' in client.get("/").text
    client.force_login(world.dept_clerk)
    assert f'href="{PAGE}"' not in client.get("/").text


def test_the_page_makes_the_same_number_of_queries_for_2_units_or_10(client, world, clock, django_assert_num_queries):
    unit, clerk = department("D-00", "区部门0")
    judged_case(world, unit, clerk, "satisfied")
    judged_case(world, world.department, world.dept_clerk, "basically")
    refresh()
    client.force_login(world.official)
    client.get(PAGE, {"level": "department"})  # the first request of a session may warm caches
    with CaptureQueriesContext(connection) as two:
        assert len(re.findall(r"<tr data-code=", client.get(PAGE, {"level": "department"}).text)) == 2
    for index in range(1, 9):
        unit, clerk = department(f"D-{index:02d}", f"区部门{index}")
        case = judged_case(world, unit, clerk, ("satisfied", "basically", "unsatisfied")[index % 3])
        if index % 4 == 0:
            judged_case(world, unit, clerk, exempt=True, grid=case.grid)
    refresh()
    with django_assert_num_queries(len(two.captured_queries)):
        assert len(re.findall(r"<tr data-code=", client.get(PAGE, {"level": "department"}).text)) == 10


def test_only_the_most_specific_navigation_entry_is_active(client, world):
    client.force_login(world.official)
    navigation = client.get(PAGE).context["navigation"]
    assert [item["url"] for item in navigation if item["active"]] == [PAGE]
