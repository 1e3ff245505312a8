"""A grid worker's "my grids" (issue 18): their grids and the open cases in them, on a map and in a
list; nobody else's cases; a page only for grid workers; a few queries whatever the number of
cases."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import Case
from dashboards import selectors
from feedback.services import case_close_invalid
from grids.boundaries import boundaries_generate
from routing.tasks import dispatch_case
from tests.factories import open_case, posted

pytestmark = pytest.mark.django_db

URL = "/dashboards/my-grids/"


@pytest.fixture
def patrol(world):
    """Two open cases in grid A (one dispatched, one with a point of its own), one closed there, one
    open in grid B (the outsider's) and one in 民主村."""
    boundaries_generate()
    world.grid_a.refresh_from_db()
    found = {
        "registered": open_case(world),
        "located": open_case(world, latitude=Decimal("41.660000"), longitude=Decimal("123.340000")),
        "dispatched": open_case(world, category_code="0103"),
        "grid_b": open_case(world, grid=world.grid_b),
        "village": open_case(world, grid=world.grid_c),
    }
    dispatch_case(found["dispatched"].pk)
    found["closed"] = case_close_invalid(
        case=open_case(world), actor=world.dispatcher, reason=Case.ClosureReason.INVALID, note="误拨"
    )
    return found


def data(response):
    assert response.status_code == 200
    assert "js/my_grids.js" in response.text and 'id="my-grids-map"' in response.text
    return response.context["data"]


def test_a_grid_worker_sees_the_open_cases_of_their_grids_and_nothing_else(client, world, patrol):
    client.force_login(world.gridworker)
    shown = data(client.get(URL))
    assert shown["grids"] == [world.grid_a.code]
    expected = {patrol[name].number for name in ("registered", "located", "dispatched")}
    independent = set(
        Case.objects.filter(grid=world.grid_a, status__in=Case.OPEN_STATUSES).values_list("number", flat=True)
    )
    assert {case["number"] for case in shown["cases"]} == expected == independent
    response = client.get(URL)
    assert f'<span class="badge text-bg-secondary" id="open-count">{len(expected)}</span>' in response.text
    for name in ("grid_b", "village", "closed"):
        assert patrol[name].number not in response.text
    for number in expected:
        assert f'href="/cases/{number}/"' in response.text


def test_each_case_is_at_its_own_point_or_its_grids(client, world, patrol):
    client.force_login(world.gridworker)
    cases = {case["number"]: case for case in data(client.get(URL))["cases"]}
    located = cases[patrol["located"].number]
    assert (located["lat"], located["long"], located["located"]) == (41.66, 123.34, "case")
    registered = cases[patrol["registered"].number]
    assert (registered["lat"], registered["long"], registered["located"]) == (
        float(world.grid_a.latitude),
        float(world.grid_a.longitude),
        "grid",
    )


def test_the_outsider_sees_only_grid_b(client, world, patrol):
    client.force_login(world.outsider)
    shown = data(client.get(URL))
    assert shown["grids"] == [world.grid_b.code]
    assert [case["number"] for case in shown["cases"]] == [patrol["grid_b"].number]


def test_a_worker_of_two_grids_sees_both(client, world, patrol):
    posted(world.gridworker, world.grid_c)
    client.force_login(world.gridworker)
    shown = data(client.get(URL))
    assert shown["grids"] == [world.grid_a.code, world.grid_c.code]
    assert patrol["village"].number in {case["number"] for case in shown["cases"]}


@pytest.mark.parametrize("person", ["dispatcher", "official", "community_clerk", "street_clerk", "dept_clerk"])
def test_a_page_only_for_grid_workers(client, world, person):
    client.force_login(getattr(world, person))
    assert client.get(URL).status_code == 404
    assert f'href="{URL}"' not in client.get("/").text


def test_the_grid_worker_finds_it_in_the_navigation(client, world):
    client.force_login(world.gridworker)
    assert f'href="{URL}"' in client.get("/").text


def test_the_page_costs_the_same_queries_for_3_cases_or_10(client, world, patrol, django_assert_num_queries):
    client.force_login(world.gridworker)
    client.get(URL)
    with CaptureQueriesContext(connection) as few:
        assert len(data(client.get(URL))["cases"]) == 3
    for _ in range(7):
        open_case(world)
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(data(client.get(URL))["cases"]) == 10


def test_each_grids_count_is_all_its_open_cases_not_only_those_drawn(
    client, world, patrol, monkeypatch, django_assert_num_queries
):
    client.force_login(world.gridworker)
    client.get(URL)
    with CaptureQueriesContext(connection) as uncapped:
        data(client.get(URL))
    # Three open cases in grid A, only two of them drawn: the grid's count and the badge are 3.
    monkeypatch.setattr(selectors, "MAP_POINTS", 2)
    with django_assert_num_queries(len(uncapped.captured_queries)):
        response = client.get(URL)
    assert len(data(response)["cases"]) == 2
    assert [(grid["code"], grid["open"]) for grid in response.context["grids"]] == [(world.grid_a.code, 3)]
    assert response.context["total"] == 3
    assert '<span class="badge text-bg-secondary" id="open-count">3</span>' in response.text
    assert re.search(rf'data-grid="{world.grid_a.code}">[^<]*3[^<]*</span>', response.text)
