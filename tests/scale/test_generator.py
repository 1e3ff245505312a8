"""The generator: bad input refused before anything is written; the data it writes is the data the
services would have written (the real sweep finds nothing left to do, the dashboards agree with
plain counts), with the fates in the shares the issue asks for, the same for the same seed."""

import datetime
import hashlib
import random
from decimal import Decimal
from io import StringIO

import chinese_calendar
import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import override_settings

from cases.models import Case, CaseEvent
from deadlines.models import LimitUnit
from deadlines.worktime import TZ, WorkCalendar
from intake.models import Call
from scale.generator import BYTES_PER_CASE, HEADROOM, GenerationRefused, TabledCalendar, _free_bytes, check_room
from tests.factories import open_case, routing_setup

pytestmark = pytest.mark.django_db
END = "2026-03-31T18:00+08:00"
END_MOMENT = datetime.datetime.fromisoformat(END)
SIZE = 3000


def generate(*args, size=SIZE, **options):
    out = StringIO()
    call_command("generate_cases", f"--size={size}", f"--end={END}", *args, stdout=out, **options)
    return out.getvalue()


@pytest.fixture(scope="module")
def demo_world(django_db_setup, django_db_blocker):
    """The district with its demo people, loaded once for the module inside a transaction rolled
    back at its end; each test runs in a savepoint inside it."""
    # DEBUG on: the demo people (the generated cases' staff) are made only then.
    with django_db_blocker.unblock(), transaction.atomic(), override_settings(DEBUG=True):
        call_command("load_demo", stdout=StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def sujiatun(demo_world, db, settings):
    settings.DEBUG = True


@pytest.mark.parametrize(
    ("size", "message"),
    [
        ("abc", "whole number"),
        ("1.5", "whole number"),
        ("0", "between 1 and"),
        ("-3", "between 1 and"),
        ("100000001", "between 1 and 100,000,000"),
    ],
)
def test_a_size_that_is_not_a_count_is_refused_before_anything_is_written(sujiatun, size, message):
    with pytest.raises(CommandError, match=message):
        generate(size=size)
    assert not Case.objects.exists()


def test_a_database_with_cases_is_refused_unless_reset(sujiatun, cast, categories):
    routing_setup(cast)
    existing = open_case(cast, grid=cast.grid_a, category_code="0201")
    with pytest.raises(CommandError, match=r"already holds 1 cases.*--reset"):
        generate(size=50)
    assert list(Case.objects.values_list("pk", flat=True)) == [existing.pk]
    generate("--reset", size=50)
    assert Case.objects.count() == 50 and not Case.objects.filter(pk=existing.pk, number=existing.number).exists()


def test_too_little_disk_is_refused_before_anything_is_written(sujiatun):
    free = _free_bytes()
    assert free is not None, "the test database must be on this machine to know its free disk"
    with pytest.raises(GenerationRefused, match=r"100,000,000 cases need about 560\.8 GiB of disk .* only 1\.0 GiB"):
        check_room(100_000_000, free_bytes=1024**3)
    # The command asks the real disk; --check writes nothing either way.
    largest = 100_000_000
    if largest * BYTES_PER_CASE + HEADROOM > free:
        with pytest.raises(CommandError, match=r"need about .* GiB of disk .* free"):
            generate("--check", size=largest)
    else:
        assert "can be generated here" in generate("--check", size=largest)
    assert not Case.objects.exists() and not CaseEvent.objects.exists()


def test_the_progress_is_shown_and_counts_are_reported(sujiatun):
    output = generate(size=400)
    assert "100% 400/400" in output and "rollups" in output
    assert "generated: cases_case 400" in output
    assert Case.objects.count() == Call.objects.count() == 400


def test_the_same_seed_gives_the_same_data_however_many_workers_and_another_seed_other_data(sujiatun):
    def digest():
        rows = Case.objects.order_by("pk").values_list("number", "status", "grid_id", "category_id", "created_at")
        events = CaseEvent.objects.order_by("pk").values_list("case_id", "action", "at")
        return hashlib.sha256(repr((list(rows), list(events))).encode()).hexdigest()

    generate("--seed=7", "--workers=1", "--chunk=100", size=300)
    first = digest()
    generate("--seed=7", "--reset", "--workers=2", "--chunk=100", size=300)
    assert digest() == first
    generate("--seed=8", "--reset", "--workers=2", "--chunk=100", size=300)
    assert digest() != first


def test_make_runs_demo_history_is_generated_once(sujiatun):
    """`make run` asks for a month of demo cases with --if-empty: the second start keeps the first's."""
    generate("--if-empty", size=200)
    numbers = set(Case.objects.values_list("number", flat=True))
    output = generate("--if-empty", size=200)
    assert "already holds cases: none generated" in output
    assert set(Case.objects.values_list("number", flat=True)) == numbers


def test_a_history_ending_just_after_midnight_is_generated(sujiatun):
    """Before 01:00 no hour of the last day has ended yet: that day gets no arrivals."""
    call_command("generate_cases", "--size=200", "--end=2026-03-31T00:30+08:00", stdout=StringIO())
    assert Case.objects.count() == 200
    assert not Case.objects.filter(created_at__gte=datetime.datetime.fromisoformat("2026-03-31T00:00+08:00")).exists()


@pytest.mark.parametrize(
    ("option", "message"), [("--chunk=0", "--chunk: must be at least 1"), ("--workers=0", "--workers")]
)
def test_a_bad_chunk_or_worker_count_is_refused(sujiatun, option, message):
    with pytest.raises(CommandError, match=message):
        generate(option, size=10)
    assert not Case.objects.exists()


def test_the_tabled_calendar_gives_the_work_calendars_answers():
    """The generator's calendar counts the working days once into tables: every deadline sum and
    working time it gives is the real calendar's, at office-hour edges, over holidays and
    make-up weekends, and before and after its span (where it walks as the real one does), for
    moments given in Shanghai's time or in another zone."""
    exceptions = {day: False for day in chinese_calendar.holidays if day.weekday() < 5}
    exceptions.update({day: True for day in chinese_calendar.workdays if day.weekday() >= 5})
    plain = WorkCalendar(exceptions=exceptions)
    tabled = TabledCalendar(plain, first=datetime.date(2025, 1, 1), last=datetime.date(2026, 12, 31))
    rng = random.Random(24)
    edges = [datetime.time(0), datetime.time(8, 30), datetime.time(12), datetime.time(13), datetime.time(17)]
    amounts = [Decimal("0.5"), Decimal("0.25"), 1, 2, 3, 5, 7, 10, 15, 30, 1.7, Decimal("24")]
    for _ in range(20_000):
        day = datetime.date(2024, 11, 1) + datetime.timedelta(days=rng.randrange(820))
        clock = rng.choice(edges) if rng.random() < 0.3 else datetime.time(rng.randrange(24), rng.randrange(60))
        start = datetime.datetime.combine(day, clock, tzinfo=TZ) + datetime.timedelta(seconds=rng.random())
        if rng.random() < 0.2:  # the same moment in another zone
            start = start.astimezone(datetime.UTC)
        amount = rng.choice(amounts) if rng.random() < 0.7 else Decimal(str(round(rng.uniform(0, 40), 3)))
        unit = rng.choice(list(LimitUnit))
        assert tabled.add(start, amount, unit) == plain.add(start, amount, unit), (start, amount, unit)
        until = start + datetime.timedelta(hours=rng.uniform(-500, 2000))
        assert tabled.working_seconds_between(start, until) == plain.working_seconds_between(start, until)
        assert tabled.is_workday(day) == plain.is_workday(day)
