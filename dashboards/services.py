"""Keeping the dashboards' rollups true: whole days recomputed from the raw rows."""

import datetime
from collections import defaultdict

from django.db import connection, transaction
from django.db.models import CharField, Count, F, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from dashboards.models import COUNTS, DailyRollup, RollupRun
from feedback import metrics
from intake.models import Call

# How far back the frequent refresh goes: a figure of a day can still change while its
# deadlines run (a contact limit passing, an overdue case resolved), which takes days, not weeks.
RECENT_DAYS = 14


def _expression(path):
    if path is None:
        return Value("", output_field=CharField())
    if hasattr(path, "resolve_expression"):
        return Coalesce(path, Value(""), output_field=CharField())
    return F(path)


def _grouped(queryset, moment, paths):
    return queryset.annotate(
        r_day=TruncDate(moment, tzinfo=timezone.get_default_timezone()),
        r_grid=_expression(paths["grid"]),
        r_category=_expression(paths["category"]),
        r_unit=_expression(paths["unit"]),
        r_channel=_expression(paths["channel"]),
    )


KEYS = ("r_day", "r_grid", "r_category", "r_unit", "r_channel")


def rollups_compute(*, first: datetime.date, last: datetime.date, now=None) -> dict:
    """{(day, grid, category id, unit, channel): {count: value}} for the days first..last, counted
    with `feedback.metrics.parts` (the figures' one definition) grouped by day and place."""
    now = now or timezone.now()
    period = metrics.Period(first, last)
    rows = defaultdict(lambda: defaultdict(float))
    for part in metrics.parts(period, now):
        grouped = _grouped(part.queryset, part.moment, part.paths)
        for row in grouped.values(*KEYS).annotate(**part.counts).order_by():
            key = tuple(row.pop(name) for name in KEYS)
            for name, value in row.items():
                rows[key][name] += value or 0
    calls = Call.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
    call_paths = {"grid": "grid", "category": "category_id", "unit": None, "channel": "channel"}
    for row in _grouped(calls, "created_at", call_paths).values(*KEYS).annotate(calls=Count("id")).order_by():
        key = tuple(row.pop(name) for name in KEYS)
        rows[key]["calls"] += row["calls"]
    return rows


def rollups_refresh(*, first: datetime.date, last: datetime.date, now=None) -> int:
    """Recompute the rollups of the days first..last; returns how many rows they hold now.

    Replaces the days' rows in one transaction, so a dashboard never reads a half-written day;
    an advisory lock makes two refreshes of overlapping days (beat and a command) take turns.
    Safe to run twice, and at any moment: it only ever reads the raw rows.
    """
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('dashboards.rollups_refresh'))")
        computed = rollups_compute(first=first, last=last, now=now)
        DailyRollup.objects.filter(day__gte=first, day__lte=last).delete()
        _rollups_write(computed)
        RollupRun.objects.create(first=first, last=last, rows=len(computed))
    return len(computed)


def _rollups_write(computed):
    """COPY the rows in: a month of the district is about 100,000 rows, which an INSERT built by
    the ORM takes tens of seconds to send and COPY a second or two."""
    columns = ["day", "grid", "category_id", "unit", "channel", *COUNTS, "handling_seconds"]
    table = DailyRollup._meta.db_table
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for (day, grid, category, unit, channel), counts in computed.items():
            numbers = [int(counts.get(name, 0)) for name in COUNTS]
            copy.write_row((day, grid, category, unit, channel, *numbers, counts.get("handling_seconds", 0)))


def rollups_refresh_recent(*, now=None) -> int:
    """The frequent refresh (Celery beat): the last RECENT_DAYS days up to today."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    return rollups_refresh(first=today - datetime.timedelta(days=RECENT_DAYS), last=today, now=now)
