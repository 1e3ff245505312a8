"""manage.py bench --city-day: the city's busy minute of calls, paced, on a small generated
district (a real gunicorn, the real PostgreSQL), and the city's load worked out from the
generator's shapes. Speed is never asserted here."""

import io
import json
import re

import pytest
from django.core.management import call_command
from django.db import connection

from intake.models import Call
from routing.models import AutoRouteAttempt
from scale.city import DISTRICT_POPULATION, city_load, poisson_quantile
from scale.generator import ARRIVALS, PER_DAY


def test_the_district_population_gives_back_the_generators_day_and_the_city_scales_it():
    assert city_load(DISTRICT_POPULATION)["calls_per_day"] == PER_DAY
    city = city_load()
    assert city["calls_per_day"] == round(PER_DAY * 9_000_000 / 524_300) == 15_449
    assert city["calls_per_year"] == round(PER_DAY * 9_000_000 / 524_300 * 365)
    # The peak day is the busiest weekday-times-day-factor of the year; its busiest hour carries
    # the largest hour share, and a minute of it a sixtieth.
    assert city["peak_day_calls"] > 2 * city["calls_per_day"]
    assert city["peak_hour_calls"] == pytest.approx(city["peak_day_calls"] * max(ARRIVALS["hour_weights"]), abs=1)
    assert city["peak_minute_mean"] == pytest.approx(city["peak_hour_calls"] / 60, abs=0.1)
    assert city["busy_minute_calls"] > city["peak_minute_mean"]


def test_a_poisson_quantile_is_the_least_count_reaching_the_share():
    # P(X=0) = 0.368 and P(X<=1) = 0.736 for a mean of one.
    assert poisson_quantile(1, 0.3) == 0
    assert poisson_quantile(1, 0.5) == 1
    assert poisson_quantile(1, 0.9) == 2


@pytest.fixture
def generated(transactional_db, settings, tmp_path):
    """The real district with its demo people and 200 generated cases, committed: gunicorn is
    another process and reads only what is committed."""
    settings.DEBUG = True  # load_demo creates accounts with a known password only then
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("load_demo", stdout=io.StringIO())
    call_command("generate_cases", size=200, seed=1, stdout=io.StringIO())


def test_a_city_day_run_logs_the_paced_calls_and_routes_every_new_case(generated, tmp_path):
    out = tmp_path / "results"
    printed = io.StringIO()

    call_command("bench", city_day=True, city_seconds=2, out=str(out), label="test", stdout=printed)

    (path,) = out.glob("*.json")
    assert re.fullmatch(r"\d{8}T\d{6}Z-city-day-200cases\.json", path.name)
    report = json.loads(path.read_text(encoding="utf-8"))
    assert (report["label"], report["errors"]) == ("test", 0)
    assert report["city"] == city_load()
    measures = report["measures"]
    assert measures["cases"] == 200 and measures["events_per_case"] > 1 and measures["bytes_per_case"] > 0
    assert report["city_year"]["events_per_day"] == round(15_449 * measures["events_per_case"])
    # The bytes count the partitions of the partitioned tables (their parents hold nothing).
    with connection.cursor() as cursor:
        cursor.execute("SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('cases_caseevent')")
        (events_bytes,) = cursor.fetchone()
    assert measures["bytes_per_case"] * measures["cases"] > events_bytes > 0
    assert len(report["machine"]["load_average_before"]) == 3
    busy = report["city"]["busy_minute_calls"]
    assert [run["per_minute"] for run in report["runs"].values()] == [busy, busy * 10]
    for name, run in report["runs"].items():
        assert run["calls"] == run["answered"] == run["routed"] > 0, name
        assert 0 < run["p50_ms"] <= run["p95_ms"], name
        # Every call is in the database as the dispatcher's, and the rules have looked at its case.
        logged = Call.objects.filter(idempotency_key__startswith="city-", idempotency_key__contains=f"-{name}-")
        assert logged.count() == run["calls"], name
        assert set(logged.values_list("created_by__username", flat=True)) == {"dispatcher"}
        routed = AutoRouteAttempt.objects.filter(case__calls__in=logged)
        assert routed.count() == run["calls"], name
    text = printed.getvalue()
    assert "busy_minute:" in text and "headroom:" in text and str(path) in text
