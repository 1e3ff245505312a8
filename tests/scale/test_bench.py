"""manage.py bench: one whole run on a small generated district (a real gunicorn, the real
PostgreSQL), and the options and databases it refuses. Speed is never asserted here."""

import io
import json
import re

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Q

from cases.models import Case
from intake.models import Call
from routing.models import Assignment
from scale.bench import RAW_NUMBER_PREFIX, SCENARIOS, WARMUP, percentile, raw_calls_delete
from volunteers.models import Booking, ServiceDay, Task

REQUESTS, CLIENTS, EXPORT_ROWS = 3, 2, 50


@pytest.fixture
def generated(transactional_db, settings, tmp_path):
    """The real district with its demo people and 200 generated cases, committed: gunicorn is
    another process and reads only what is committed."""
    settings.DEBUG = True  # load_demo creates accounts with a known password only then
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("load_demo", stdout=io.StringIO())
    call_command("generate_cases", size=200, seed=1, stdout=io.StringIO())
    call_command("generate_tasks", size=200, seed=1, stdout=io.StringIO())


def test_a_run_measures_every_scenario_beside_its_raw_sql_and_logs_real_calls(generated, tmp_path, settings):
    # 200 generated cases leave about 150 closed: enough to train on here.
    settings.SUGGESTER_MIN_CASES = 50
    out = tmp_path / "results"
    calls_before = Call.objects.count()
    # A few more active assignments than the generated ones, opened and dispatched before the sweeps.
    active_before = Assignment.objects.filter(state__in=Assignment.ACTIVE_STATES).count()
    printed = io.StringIO()

    call_command(
        "bench",
        requests=REQUESTS,
        clients=CLIENTS,
        export_rows=EXPORT_ROWS,
        sweep_active=active_before + 5,
        out=str(out),
        label="test",
        stdout=printed,
    )

    (path,) = out.glob("*.json")
    assert re.fullmatch(r"\d{8}T\d{6}Z-200cases\.json", path.name)
    report = json.loads(path.read_text(encoding="utf-8"))
    assert (report["label"], report["size"]["cases"], report["errors"]) == ("test", 200, 0)
    assert report["machine"]["database"].startswith("PostgreSQL")
    assert report["machine"]["cpu_cores"] >= 1
    assert list(report["scenarios"]) == list(SCENARIOS)
    for name, result in report["scenarios"].items():
        for side in (result, result["raw"]):
            assert side["errors"] == 0, (name, side["error_samples"])
            assert side["n"] >= 1, name
            assert 0 < side["p50_ms"] <= side["p95_ms"], name
            assert side["ops_per_s"] > 0, name
        assert result["ratio"] > 0, name
    assert report["scenarios"]["queue"]["n"] == REQUESTS
    sweep = report["scenarios"]["sweep"]["details"]
    assert sweep["cases_opened_to_reach_it"]["dispatched"] == 5
    assert sweep["active_assignments"] >= active_before + 5
    assert report["scenarios"]["call"]["clients"] == CLIENTS
    export = report["scenarios"]["export"]["details"]
    assert 0 < export["rows"] == export["written"] == export["raw_written"]
    map_details = report["scenarios"]["map"]["details"]
    assert 0 < map_details["gzipped_bytes"] < map_details["limit_bytes"]
    locate = report["scenarios"]["locate"]["details"]
    assert locate["grids"] == 2939 and locate["found"] > 0
    retrain = report["scenarios"]["retrain"]["details"]
    not_learned = ["duplicate", "invalid", "out_of_scope"]
    learned_from = Case.objects.filter(status="closed").exclude(closure_reason__in=not_learned)
    assert retrain["closed_cases"] == learned_from.count() > 50
    assert 0 < retrain["loaded_mb"] < 300
    social = report["scenarios"]
    # The generated tasks count their live sign-ups as the sign-up service keeps them.
    live = Count("signups", filter=Q(signups__state__in=["signed", "checked_in", "checked_out", "confirmed"]))
    assert not Task.objects.annotate(live=live).exclude(taken=F("live")).exists()
    assert social["volunteer_tasks"]["details"]["open_tasks_in_reach"] > 0
    assert social["publisher_tasks"]["details"]["open_tasks"] > 0
    # The generated bookings: each day's places taken as the booking service keeps them, a points
    # line for each one served.
    live_bookings = Count("bookings", filter=~Q(bookings__state="cancelled"))
    assert not ServiceDay.objects.annotate(live=live_bookings).exclude(booked=F("live")).exists()
    served = Booking.objects.filter(state="done")
    assert served.exists() and not served.filter(points_entry__isnull=True).exists()
    assert social["my_points"]["details"]["lines"] > 0
    assert report["size"]["tasks"] >= 200  # the generated ones beside the demo's own
    text = printed.getvalue()
    assert re.search(r"^scenario +\|", text, re.MULTILINE)
    assert str(path) in text

    # Every call posted through gunicorn (the warm-up ones too) is in the database, as the
    # dispatcher's; the raw inserts beside them were deleted again.
    posted = REQUESTS + WARMUP * CLIENTS
    assert report["scenarios"]["call"]["details"]["posted"] == posted
    assert Call.objects.count() == calls_before + posted
    logged = Call.objects.filter(idempotency_key__startswith="bench-").exclude(idempotency_key__startswith="bench-raw-")
    assert logged.count() == posted
    assert set(logged.values_list("created_by__username", flat=True)) == {"dispatcher"}
    assert not Case.objects.filter(number__startswith=RAW_NUMBER_PREFIX).exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--requests", "many"], "--requests: expected a whole number, got 'many'"),
        (["--clients", "0"], "--clients: must be at least 1, got 0"),
        (["--export-rows", "-5"], "--export-rows: must be at least 1, got -5"),
        (["--requests", "2.5"], "--requests: expected a whole number, got '2.5'"),
    ],
)
def test_a_bad_option_is_refused_before_anything_runs(arguments, message, tmp_path):
    # No database marker: touching the database at all would fail this test.
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("bench", *arguments, "--out", str(tmp_path))
    assert not list(tmp_path.iterdir())


def test_a_bad_option_given_in_python_gets_the_same_message(tmp_path):
    with pytest.raises(CommandError, match=re.escape("--clients: must be at least 1, got 0")):
        call_command("bench", clients=0, out=str(tmp_path))


@pytest.mark.django_db
def test_an_empty_database_is_refused_with_what_to_do(tmp_path):
    with pytest.raises(CommandError) as refused:
        call_command("bench", out=str(tmp_path))
    assert str(refused.value) == (
        "the database holds no cases: generate data first (manage.py generate_cases --size N)"
    )
    assert not list(tmp_path.iterdir())


@pytest.mark.django_db(transaction=True)
def test_the_raw_calls_cleanup_leaves_the_cases_of_every_past_day(cast, categories):
    # Ten million generated cases go back to 1996; the cleanup of the raw inserts (by their
    # numbers' prefix) once took those of 2000-01-01 with it.
    from tests.factories import open_case

    for day in ("19960707", "20000101", "20261208"):
        Case.objects.filter(pk=open_case(cast).pk).update(number=f"SJT-{day}-00001")
    raw_calls_delete()
    assert sorted(Case.objects.values_list("number", flat=True)) == [
        "SJT-19960707-00001",
        "SJT-20000101-00001",
        "SJT-20261208-00001",
    ]


def test_percentiles_are_interpolated_between_the_closest_ranks():
    assert percentile([4, 1, 3, 2], 0.5) == 2.5
    assert percentile(range(1, 101), 0.95) == pytest.approx(95.05)
    assert percentile([7], 0.95) == 7
    assert percentile([], 0.5) is None


def test_an_unknown_scenario_is_refused_naming_the_ones_there_are(tmp_path):
    with pytest.raises(CommandError) as refused:
        call_command("bench", "--only", "call,cases", "--out", str(tmp_path))
    assert str(refused.value).startswith("--only: unknown scenario cases; the scenarios are retrain, call, queue,")
    assert not list(tmp_path.iterdir())
