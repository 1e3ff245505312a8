"""The overview's map (issue 18): each child's figures on the map equal an independent count over
the raw rows, the supervised cases and the hotspots drawn are exactly those of the place, each
point stands where the case or its grid is, a click keeps the days and the figure, and the page
still costs the same few queries whatever the number of places and points."""

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import Case
from cases.services import categories_load
from dashboards import hotspots as hotspot_rules
from dashboards.services import rollups_refresh
from escalation.models import Supervision
from feedback import metrics
from feedback.templatetags.feedback_figures import percent
from grids.boundaries import boundaries_generate
from grids.models import Region
from routing.models import Assignment
from routing.tasks import dispatch_case
from tests.dashboards.test_overview import DISTRICT, MARCH, MONTH_SO_FAR, READ_AT, page, play_march, raw
from tests.factories import make_cast, open_case, region, routing_setup
from tests.feedback.test_metrics import play_example
from tests.handling.helpers import SHANGHAI, TUESDAY

pytestmark = pytest.mark.django_db


# --- the world: test_overview's `march`, built once for the module ---------------------------------
#
# Every test here reads the worked example as read on 30 March (some add cases or shapes of their
# own, rolled back after them), so it is played once for the module, in a transaction rolled back
# after the module; each test runs in a savepoint rolled back after it, with the clock stopped at
# READ_AT as the function-scoped `march` leaves it (a test moving it moves its own traveller).


@pytest.fixture(scope="module")
def played(django_db_setup, django_db_blocker):
    """(the cast, the example's case ids by name)."""
    with (
        django_db_blocker.unblock(),
        transaction.atomic(),
        time_machine.travel(TUESDAY, tick=False) as traveller,
    ):
        cast = make_cast()
        categories_load()
        routing_setup(cast)
        cases = play_march(play_example(cast, traveller), cast, traveller)
        assert timezone.now() == READ_AT
        yield cast, {name: case.pk for name, case in cases.items()}
        transaction.set_rollback(True)


@pytest.fixture
def clock(played, db):
    with time_machine.travel(READ_AT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(played, clock):
    return played[0]


@pytest.fixture
def march(played, clock):
    """The example's cases by name, read afresh."""
    return {name: Case.objects.get(pk=pk) for name, pk in played[1].items()}


MAP_FIGURES = ("calls", "open", "overdue", "resolution_rate", "satisfaction_rate")
RATES = ("resolution_rate", "satisfaction_rate")


def map_of(client, code=DISTRICT, **query):
    response = client.get(page(code), query)
    assert response.status_code == 200
    assert 'id="dashboard-map"' in response.text and 'id="dashboard-map-data"' in response.text
    assert "js/dashboards_map.js" in response.text and "vendor/leaflet/leaflet.js" in response.text
    return response.context["map"]


def shown(name, value):
    return percent(value) if name in RATES else str(value)


def supervised_now(prefix):
    """The independent count: open cases under `prefix` with a supervision in force on an active
    assignment, straight from the supervision rows."""
    rows = Supervision.objects.filter(
        ended_at__isnull=True,
        assignment__state__in=Assignment.ACTIVE_STATES,
        case__status__in=Case.OPEN_STATUSES,
        case__grid__code__startswith=prefix,
    )
    return set(rows.values_list("case__number", flat=True))


def test_each_childs_figures_on_the_map_equal_the_count_over_the_raw_rows(client, march, world):
    client.force_login(world.official)
    for code, level in ((DISTRICT, "street"), ("210111001", "community"), ("210111001015", "grid")):
        drawn = map_of(client, code)
        assert drawn["child_level"] == level
        assert [figure["key"] for figure in drawn["figures"]] == list(MAP_FIGURES)
        expected = [row.code for row in metrics.rows_for(level, period=MONTH_SO_FAR, parent=code)]
        assert list(drawn["places"]) == expected
        for child, values in drawn["places"].items():
            counted = raw(level, child)
            assert {name: shown(name, values[name]) for name in MAP_FIGURES} == {
                name: counted[name] for name in MAP_FIGURES
            }, child


def test_the_example_colours_the_streets_with_what_the_story_says(client, march, world):
    client.force_login(world.official)
    streets = map_of(client)["places"]
    jiefang, minzhu = streets["210111001"], streets["210111003"]
    assert (jiefang["open"], jiefang["overdue"], minzhu["open"], minzhu["overdue"]) == (2, 1, 1, 1)
    assert jiefang["resolution_rate"] == 0.75 and minzhu["resolution_rate"] is None  # C1 never reached
    assert jiefang["name"] == "解放街道"


def test_a_child_opens_its_dashboard_with_the_same_days_and_the_figure_chosen_is_kept(client, march, world):
    client.force_login(world.official)
    days = {"period": "custom", "from": "2026-03-10", "to": "2026-03-11"}
    drawn = map_of(client, **days, figure="overdue")
    assert drawn["places"]["210111001"]["url"] == "/dashboards/210111001/?period=custom&from=2026-03-10&to=2026-03-11"
    assert drawn["figure"] == "overdue"
    # The period form sends the figure along, so changing the days keeps the colours.
    assert 'name="figure" id="period-figure" value="overdue"' in client.get(page(), {**days, "figure": "overdue"}).text
    tenth = metrics.Period(datetime.date(2026, 3, 10), datetime.date(2026, 3, 11))
    assert str(drawn["places"]["210111001"]["calls"]) == raw("street", "210111001", tenth)["calls"]
    assert map_of(client, figure="nonsense")["figure"] == "calls"


def test_a_grid_shows_itself_with_no_children_to_colour(client, march, world):
    client.force_login(world.official)
    drawn = map_of(client, "210111001015001")
    assert drawn["child_level"] is None and drawn["places"] == {}
    assert drawn["supervised"][0]["number"] == march["A3"].number
    assert 'id="map-figure"' not in client.get(page("210111001015001")).text


def test_no_map_when_the_days_are_wrong(client, march, world):
    client.force_login(world.official)
    response = client.get(page(), {"period": "custom", "from": "2026-03-10", "to": "2026-03-01"})
    assert "map" not in response.context and 'id="dashboard-map"' not in response.text


# --- the points --------------------------------------------------------------------------------


def test_the_supervised_cases_drawn_are_exactly_those_supervised_now(client, march, world):
    client.force_login(world.official)
    for code in (DISTRICT, "210111001", "210111003", "210111001015002"):
        drawn = map_of(client, code)
        numbers = {point["number"] for point in drawn["supervised"]}
        assert numbers == supervised_now(code), code
        assert drawn["supervised_total"] == len(numbers)
        # The same rule as the supervised figure of the page.
        card = client.get(page(code)).context["cards"]
        assert next(cell["value"] for cell in card if cell["key"] == "supervised") == len(numbers)
    assert len(supervised_now(DISTRICT)) == 2


def test_each_point_is_the_cases_own_or_its_grids(client, march, world):
    boundaries_generate()
    a3 = march["A3"]
    Case.objects.filter(pk=a3.pk).update(latitude=Decimal("41.650000"), longitude=Decimal("123.350000"))
    client.force_login(world.official)
    points = {point["number"]: point for point in map_of(client)["supervised"]}
    assert (points[a3.number]["lat"], points[a3.number]["long"], points[a3.number]["located"]) == (
        41.65,
        123.35,
        "case",
    )
    (other,) = [point for number, point in points.items() if number != a3.number]
    grid = Region.objects.get(code=other["grid"])
    assert grid.latitude is not None
    assert (other["lat"], other["long"], other["located"]) == (float(grid.latitude), float(grid.longitude), "grid")
    assert other["late"] is True and other["url"] == f"/cases/{other['number']}/"


def test_the_hotspots_drawn_are_those_of_the_pages_days(client, march, world):
    boundaries_generate()
    client.force_login(world.official)
    # Independent: cases of one category received in one grid in the days, at least three.
    opened = Case.objects.filter(created_at__gte=MONTH_SO_FAR.start, created_at__lt=MONTH_SO_FAR.end)
    counts = {}
    for grid, category in opened.values_list("grid_id", "category__code"):
        counts[grid, category] = counts.get((grid, category), 0) + 1
    expected = {(grid, n) for (grid, _category), n in counts.items() if n >= 3}
    assert expected == {("210111001015001", 4)}  # A1, A2, A4 and A5: 环境卫生 in grid A
    spots = map_of(client)["hotspots"]
    assert {(spot["code"], spot["count"]) for spot in spots} == expected
    grid_a = Region.objects.get(code="210111001015001")
    assert (spots[0]["lat"], spots[0]["long"]) == (float(grid_a.latitude), float(grid_a.longitude))
    assert spots[0]["url"].startswith("/cases/?region=210111001015001&category=0201&created_from=2026-03-01")
    # Days with none of them: no hotspot; and none outside the place viewed.
    assert map_of(client, period="custom", **{"from": "2026-02-01", "to": "2026-02-28"})["hotspots"] == []
    assert map_of(client, "210111003")["hotspots"] == []


def test_the_hotspots_of_a_long_period_are_those_of_its_last_quarter(client, march, world, clock):
    """A period of up to a year: the hotspots are counted over its last MAX_DAYS days only, and
    the legend says which days."""
    boundaries_generate()
    # Three of the same problem in grid B in November: a hotspot of November, long before the last
    # 92 days of a period ending on 30 March (29 December – 30 March).
    clock.move_to(datetime.datetime(2025, 11, 10, 10, tzinfo=SHANGHAI))
    for _ in range(3):
        open_case(world, grid=world.grid_b, category_code="0103")
    clock.move_to(READ_AT)
    rollups_refresh(first=datetime.date(2025, 11, 1), last=datetime.date(2025, 11, 30))
    client.force_login(world.official)
    november = map_of(client, period="custom", **{"from": "2025-11-01", "to": "2025-11-30"})
    assert {(spot["code"], spot["count"]) for spot in november["hotspots"]} == {("210111001015002", 3)}
    assert november["hotspot_days"]["clamped"] is False

    year = {"period": "custom", "from": "2025-04-01", "to": "2026-03-30"}
    drawn = map_of(client, **year)
    assert hotspot_rules.MAX_DAYS == 92
    assert drawn["hotspot_days"] == {"first": "2025-12-29", "last": "2026-03-30", "days": 92, "clamped": True}
    assert {(spot["code"], spot["count"]) for spot in drawn["hotspots"]} == {("210111001015001", 4)}
    assert "created_from=2025-12-29&created_to=2026-03-30" in drawn["hotspots"][0]["url"]
    text = client.get(page(), year).text
    said = re.search(r'<span id="map-hotspot-days" data-first="2025-12-29" data-last="2026-03-30">(.*?)</span>', text)
    assert said and all(words in said[1] for words in ("92", "2025-12-29", "2026-03-30"))
    # A period no longer than MAX_DAYS is counted whole, and says nothing more.
    assert 'id="map-hotspot-days"' not in client.get(page()).text


def test_the_legend_says_when_the_hotspots_were_cut(client, march, world, monkeypatch):
    for _ in range(3):
        open_case(world, grid=world.grid_b, category_code="0103")
    rollups_refresh(first=MARCH.first, last=MARCH.last)
    client.force_login(world.official)
    assert len(map_of(client)["hotspots"]) == 2
    assert 'id="map-hotspots-cut"' not in client.get(page()).text
    monkeypatch.setattr(hotspot_rules, "LIMIT", 1)
    drawn = map_of(client)
    assert (len(drawn["hotspots"]), drawn["hotspots_cut"]) == (1, True)
    assert drawn["hotspots"][0]["count"] == 4  # the most frequent kept
    text = client.get(page()).text
    assert 'id="map-hotspots-cut"' in text and '<span data-map-count="hotspots">1+</span>' in text


def test_a_street_office_sees_the_points_of_its_street_only(client, march, world):
    client.force_login(world.street_clerk)
    drawn = map_of(client, "210111001")
    assert {point["number"] for point in drawn["supervised"]} == {march["A3"].number}
    assert list(drawn["places"]) == ["210111001015"]


# --- cost --------------------------------------------------------------------------------------


def test_the_map_costs_no_query_per_place_or_point(client, march, world, django_assert_num_queries):
    client.force_login(world.official)
    client.get(page())  # the first request of a session may warm caches
    with CaptureQueriesContext(connection) as before:
        drawn = map_of(client)
    assert (len(drawn["places"]), len(drawn["hotspots"]), len(drawn["supervised"])) == (2, 1, 2)
    now = datetime.datetime.now(tz=datetime.UTC)
    for index in range(5):
        street = region(f"{DISTRICT}{100 + index:03d}", f"街道{index}", world.district)
        community = region(f"{street.code}001", f"社区{index}", street)
        grid = region(f"{community.code}001", f"社区{index}第1网格", community)
        for _ in range(3):  # a hotspot in every new grid, one of its cases supervised
            case = open_case(world, grid=grid, category_code="0103")  # to 区住建局, which signs for it
            dispatch_case(case.pk)
        lead = Assignment.objects.filter(case=case, role=Assignment.Role.LEAD).first()
        Supervision.objects.create(case=case, assignment=lead, unit=world.leadership, level=1, started_at=now)
    rollups_refresh(first=MARCH.first, last=MARCH.last)
    with django_assert_num_queries(len(before.captured_queries)):
        drawn = map_of(client)
    assert (len(drawn["places"]), len(drawn["hotspots"]), len(drawn["supervised"])) == (7, 6, 7)
