"""`GET /api/v1/stats/summary/` and `/api/v1/stats/ranking/`: the figures of the pages and of the
metrics over the raw rows, scoped like the dashboards, with 400s naming the parameter."""

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from dashboards import selectors
from dashboards.services import rollups_refresh
from feedback import metrics
from tests.dashboards.test_rankings import PAGE, judged, table  # noqa: F401  (the judged departments)

pytestmark = pytest.mark.django_db

MARCH = metrics.Period.month("2026-03")
SUMMARY = "/api/v1/stats/summary/"
RANKING = "/api/v1/stats/ranking/"
WHOLE_MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def rolled(example):
    rollups_refresh(first=MARCH.first, last=MARCH.last)
    return example


def summary(api, user, **query):
    api.force_authenticate(user)
    return api.get(SUMMARY, query)


@pytest.mark.parametrize(("level", "code"), [("district", "210111"), ("street", "210111001"), ("street", "210111003")])
def test_the_summary_equals_the_metrics_of_the_raw_rows_and_the_pages_selector(api, rolled, world, level, code):
    response = summary(api, world.dispatcher, region=code, **WHOLE_MARCH)
    assert response.status_code == 200, response.json()
    body = response.json()
    (raw,) = [row for row in metrics.rows_for(level, period=MARCH) if row.code == code]
    assert body["figures"] == pytest.approx(raw.figures.as_dict())
    page = selectors.summary(prefix=code, period=MARCH)
    assert (body["open"], body["overdue"], body["supervised"]) == (page.open, page.overdue, page.supervised)
    assert body["region"] == {"code": code, "name": raw.name, "level": level}
    assert (body["from"], body["to"]) == ("2026-03-01", "2026-03-31")


def test_the_district_summary_counts_the_example(api, rolled, world):
    body = summary(api, world.official, region="210111", **WHOLE_MARCH).json()
    assert (body["figures"]["received"], body["figures"]["callbacks"], body["figures"]["exempted"]) == (6, 4, 1)
    assert body["open"] == 2  # A3 reopened, A4 returned
    # C1 adds an on-time response: 30 × 3/5 + 35 × 3/4 + 35 × 0.45
    assert body["figures"]["composite"] == pytest.approx(60.0)


def test_the_defaults_are_the_callers_own_place_and_the_current_month(api, rolled, world):
    body = summary(api, world.dispatcher).json()
    assert (body["region"]["code"], body["from"], body["to"]) == ("210111", "2026-03-01", "2026-03-31")
    assert summary(api, world.community_clerk).json()["region"]["code"] == world.community.code
    assert summary(api, world.street_clerk).json()["region"]["code"] == world.street.code


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"region": "jiefang"}, "region"),
        ({"region": "2101110"}, "region"),
        ({"from": "2026-03-01"}, "to"),
        ({"to": "2026-03-01"}, "from"),
        ({"from": "yesterday", "to": "2026-03-01"}, "from"),
        ({"from": "2026-03-10", "to": "2026-03-01"}, "to"),
        ({"from": "2025-01-01", "to": "2026-03-01"}, "to"),
    ],
)
def test_a_bad_summary_request_is_400_naming_the_parameter(api, world, query, field):
    response = summary(api, world.dispatcher, **query)
    assert response.status_code == 400, response.json()
    assert (response.json()["code"], list(response.json()["errors"])) == ("invalid", [field])


@pytest.mark.parametrize(
    ("person", "code"),
    [
        ("community_clerk", "210111003"),  # another street
        ("community_clerk", "210111001"),  # above their community
        ("street_clerk", "210111"),  # above their street
        ("street_clerk", "210111003201001"),  # a grid of another street
        ("gridworker", "210111001015001"),  # their own grid: grid workers have no dashboard
        ("dept_clerk", "210111"),
        ("dispatcher", "210111999"),  # no such place: the same answer
    ],
)
def test_a_place_the_caller_may_not_open_is_404(api, world, person, code):
    assert summary(api, getattr(world, person), region=code).status_code == 404


def test_people_without_a_dashboard_get_404_without_a_region(api, world):
    assert summary(api, world.gridworker).status_code == 404
    assert summary(api, world.dept_clerk).status_code == 404


def test_street_and_community_staff_open_their_own_area_and_below(api, world):
    assert summary(api, world.street_clerk, region=world.grid_b.code).status_code == 200
    assert summary(api, world.community_clerk, region=world.grid_a.code).status_code == 200


def test_an_anonymous_caller_is_refused(api, world):
    assert api.get(SUMMARY).status_code in (401, 403)
    assert api.get(RANKING).status_code in (401, 403)


# --- ranking ---------------------------------------------------------------------------------


def test_the_ranking_gives_the_rows_of_the_page(api, client, judged):  # noqa: F811
    api.force_authenticate(judged.official)
    response = api.get(RANKING, {"level": "department", "month": "2026-03"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["level"], body["month"], body["previous_month"]) == ("department", "2026-03", "2026-02")
    client.force_login(judged.official)
    page = table(client.get(PAGE, {"level": "department", "month": "2026-03"}))
    assert [row["code"] for row in body["results"]] == list(page)
    for row in body["results"]:
        shown = page[row["code"]]
        assert shown["rank"] == ("—" if row["rank"] is None else str(row["rank"]))
        assert shown["composite"] == ("—" if row["composite"] is None else f"{row['composite']:.1f}")
        assert int(shown["exempted"]) == row["exemptions"] == len(row["exempted"])
    assert (body["red"], body["black"]) == (["D-PARKS", "D-WATER"], ["D-ROADS", "D-HOUSING"])
    housing = next(row for row in body["results"] if row["code"] == "D-HOUSING")
    assert housing["change"]["composite"] == pytest.approx(-7.0)
    assert housing["change"]["satisfaction_rate"] == pytest.approx(-0.2)
    assert housing["figures"]["callbacks"] == 1 and housing["exempted"][0]["reason"] == "historical"
    raw = {row.code: row.figures for row in metrics.rows_for("unit", period=MARCH)}
    for row in body["results"]:
        assert row["figures"] == pytest.approx(raw[row["code"]].as_dict()), row["code"]


def test_the_ranking_defaults_to_the_street_offices_this_month(api, world):
    api.force_authenticate(world.dispatcher)
    body = api.get(RANKING).json()
    assert (body["level"], body["month"]) == ("street", "2026-03")
    assert [row["code"] for row in body["results"]] == [world.street_office.code, world.other_street_office.code]
    # The streets are counted by place; 10 March: the 1st to today against the same days of February.
    assert body["basis"] == "place"
    assert [row["place"] for row in body["results"]] == [world.street.code, world.other_street_office.region.code]
    assert (body["first_day"], body["last_day"]) == ("2026-03-01", "2026-03-10")
    assert (body["previous_first_day"], body["previous_last_day"]) == ("2026-02-01", "2026-02-10")


@pytest.mark.parametrize(
    ("query", "field"),
    [({"level": "grid"}, "level"), ({"month": "2026-13"}, "month"), ({"month": "March"}, "month")],
)
def test_a_bad_ranking_request_is_400_naming_the_parameter(api, world, query, field):
    api.force_authenticate(world.dispatcher)
    response = api.get(RANKING, query)
    assert response.status_code == 400, response.json()
    assert (response.json()["code"], list(response.json()["errors"])) == ("invalid", [field])


@pytest.mark.parametrize("person", ["gridworker", "dept_clerk", "community_clerk", "street_clerk"])
def test_only_dispatchers_and_officials_see_the_ranking(api, world, person):
    api.force_authenticate(getattr(world, person))
    response = api.get(RANKING)
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"


def test_the_schema_describes_the_stats_endpoints_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    schema = (tmp_path / "schema.yaml").read_text()
    assert "/api/v1/stats/summary/:" in schema and "/api/v1/stats/ranking/:" in schema
