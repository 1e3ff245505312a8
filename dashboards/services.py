"""Keeping the dashboards' rollups true: whole days recomputed from the raw rows."""

import datetime
import logging
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

from django.db import connection, transaction
from django.db.models import CharField, Count, F, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from cases.models import Case, CaseEvent
from cases.partitions import archived_until
from dashboards.models import COUNTS, DailyRollup, RollupRun
from feedback import metrics
from intake.models import Call
from routing.models import Assignment

logger = logging.getLogger(__name__)

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


def _rollup_parts(first: datetime.date, last: datetime.date, now) -> list:
    """The grouped counts the rollups of the days first..last are summed from: each part of
    `feedback.metrics.parts` (the figures' one definition) and the calls taken, grouped by day and
    place, as querysets of rows (the KEYS, then the part's counts)."""
    period = metrics.Period(first, last)
    grouped = [
        _grouped(part.queryset, part.moment, part.paths).values(*KEYS).annotate(**part.counts).order_by()
        for part in metrics.parts(period, now)
    ]
    calls = Call.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
    call_paths = {"grid": "grid", "category": "category_id", "unit": None, "channel": "channel"}
    grouped.append(_grouped(calls, "created_at", call_paths).values(*KEYS).annotate(calls=Count("id")).order_by())
    return grouped


def rollups_compute(*, first: datetime.date, last: datetime.date, now=None) -> dict:
    """{(day, grid, category id, unit, channel): {count: value}} for the days first..last, counted
    with `feedback.metrics.parts` (the figures' one definition) grouped by day and place."""
    rows = defaultdict(lambda: defaultdict(float))
    for grouped in _rollup_parts(first, last, now or timezone.now()):
        for row in grouped:
            key = tuple(row.pop(name) for name in KEYS)
            for name, value in row.items():
                rows[key][name] += value or 0
    return rows


def rollups_refresh(*, first: datetime.date, last: datetime.date, now=None) -> int:
    """Recompute the rollups of the days first..last; returns how many rows they hold now.

    Replaces the days' rows in one transaction, so a dashboard never reads a half-written day;
    an advisory lock makes two refreshes of overlapping days (beat and a command) take turns.
    Safe to run twice, and at any moment: it only ever reads the raw rows. The days of archived
    months of case events (cases/partitions.py) keep their rollups: their rows are not online to
    count again, so the refresh starts after them.
    """
    online = archived_until("cases_caseevent")
    if online and first < online:
        first = online
        if first > last:
            return 0
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


def rollups_refresh_in_sql(*, first: datetime.date, last: datetime.date, now=None, connections=1) -> int:
    """`rollups_refresh` summed by PostgreSQL: the same parts, grouped and summed in one
    INSERT … SELECT … GROUP BY, with no row through Python. For years at once (the generator's
    history); tests/scale/test_generated_quarter.py shows it writes the rows the month-by-month
    refresh writes.

    PostgreSQL runs an INSERT … SELECT in one process. With `connections` above 1, outside a
    transaction, the days are cut into that many runs of consecutive days, each summed and written
    at the same time by a connection of its own, in a transaction of its own (a day's rows are
    still written at once), while this connection holds the refresh's lock. The rows go in in the
    order of their keys: their ids follow the days, and each index takes them in order.
    tests/scale/test_generator_committed.py shows two connections write the rows one does."""
    now = now or timezone.now()
    days = (last - first).days + 1
    parts = max(1, min(connections, days)) if not connection.in_atomic_block else 1
    spans = []
    for index in range(parts):
        begin = first + datetime.timedelta(days=days * index // parts)
        spans.append((begin, first + datetime.timedelta(days=days * (index + 1) // parts - 1)))
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('dashboards.rollups_refresh'))")
        if parts == 1:
            written = _rollups_replace_in_sql(first, last, now)
        else:
            with ThreadPoolExecutor(parts) as pool:
                written = sum(pool.map(lambda span: in_own_connection(_rollups_replace_in_sql, *span, now), spans))
        RollupRun.objects.create(first=first, last=last, rows=written)
    return written


def in_own_connection(function, *args):
    """`function` run in a thread of a pool, on the thread's own connection, closed after it."""
    try:
        return function(*args)
    finally:
        connection.close()


def _rollups_replace_in_sql(first, last, now) -> int:
    """The rollups of the days first..last replaced in one transaction, by one statement (the
    caller holds the refresh's lock); returns how many rows were written."""
    columns = [*COUNTS, "handling_seconds"]
    selects, params = [], []
    for grouped in _rollup_parts(first, last, now):
        sql, part_params = grouped.query.sql_with_params()
        counted = set(grouped.query.annotation_select) - set(KEYS)
        values = []
        for name in columns:
            if name not in counted:
                values.append("0")
            elif name == "handling_seconds":
                values.append(f'COALESCE(part."{name}", 0)')
            else:  # a count as an integer: summed below in 64 bits, not as a numeric
                values.append(f'COALESCE(part."{name}", 0)::integer')
        values = ", ".join(values)
        selects.append(f"SELECT {', '.join(f'part.{key}' for key in KEYS)}, {values} FROM ({sql}) part")
        params += part_params
    sums = ", ".join(f"SUM(c{index})" for index in range(len(columns)))
    names = ", ".join(f"c{index}" for index in range(len(columns)))
    keys = ", ".join(KEYS)
    table = DailyRollup._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        # The groups of years held in memory, not sorted through temporary files.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        DailyRollup.objects.filter(day__gte=first, day__lte=last).delete()
        cursor.execute(
            f"INSERT INTO {table} (day, grid, category_id, unit, channel, {', '.join(columns)}) "
            f"SELECT {keys}, {sums} FROM ("
            + " UNION ALL ".join(f"SELECT * FROM ({select}) AS part_{index}" for index, select in enumerate(selects))
            + f") AS parts ({keys}, {names}) GROUP BY {keys} ORDER BY {keys}",
            params,
        )
        return cursor.rowcount


def rollups_refresh_recent(*, now=None) -> int:
    """The frequent refresh (Celery beat): the last RECENT_DAYS days up to today."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    return rollups_refresh(first=today - datetime.timedelta(days=RECENT_DAYS), last=today, now=now)


# --- a case reclassified: the days it counts on, recomputed ----------------------------------------


def on_case_moved(sender, *, event, **kwargs):
    """The receiver of `cases.lifecycle.case_moved`, so that the rollups never keep a figure the
    raw rows no longer give (the dashboard and the assessment must show the same number):

    - a reclassification (routing/reclassify.py): the figures count the category and grid a case
      has now, so every day the case counts on is recomputed;
    - any other move of a case registered before the frequent refresh's window: its older days
      can change too (an assignment dispatched weeks ago returned or withdrawn leaves the
      response rate; one resolved weeks after its deadline is no longer overdue on the deadline's
      day), and beat only recomputes the last RECENT_DAYS days, so those older days are.

    Once the move has committed (a worker does it; the move never waits for it)."""
    case_id = event.case_id
    if event.action != "reclassify":
        # The case is the one the lifecycle moved, already loaded: no query on every move.
        case = event.case if CaseEvent.case.is_cached(event) else None
        if case is not None and timezone.localdate(case.created_at) < _window_start(event.at):
            transaction.on_commit(lambda: _refresh_soon(case_id, only_old=True))
        return
    data = event.data or {}
    if (data.get("from_category"), data.get("from_grid")) == (data.get("to_category"), data.get("to_grid")):
        return  # an address or a point alone: no figure is placed by them
    transaction.on_commit(lambda: _refresh_soon(case_id))


def on_cases_moved(sender, *, events, **kwargs):
    """The receiver of `cases.lifecycle.cases_moved` (many moves at once, the deadline sweep's):
    `on_case_moved`'s rule, each older case's days recomputed once however many of its moves."""
    seen = set()
    for event in events:
        if event.action == "reclassify" or event.case_id not in seen:
            seen.add(event.case_id)
            on_case_moved(sender, event=event)


def _window_start(now) -> datetime.date:
    """The first day the frequent refresh recomputes (rollups_refresh_recent)."""
    return timezone.localdate(now) - datetime.timedelta(days=RECENT_DAYS)


def _refresh_soon(case_id, *, only_old=False):
    from dashboards.tasks import refresh_case_rollups

    try:
        refresh_case_rollups.delay(case_id, only_old=only_old)
    except Exception:
        # Redis is down: the days of one case are few, so they are recomputed here instead (the
        # frequent refresh would only reach the last RECENT_DAYS days).
        logger.warning("could not queue the rollups of case %s; recomputing them now", case_id, exc_info=True)
        try:
            case_rollups_refresh(case_id=case_id, only_old=only_old)
        except Exception:
            logger.exception("recomputing the rollups of case %s failed", case_id)


def case_days(*, case_id, now=None) -> list[datetime.date]:
    """The days up to today a case counts on in the rollups: the day it was registered, the days
    of its events (returns, callbacks, closures, ...) and of its lead units' dispatch, resolution
    and passed resolution deadline. Three queries."""
    now = now or timezone.now()
    moments = list(Case.objects.filter(pk=case_id).values_list("created_at", flat=True))
    moments += CaseEvent.objects.filter(case_id=case_id).values_list("at", flat=True)
    for row in Assignment.objects.filter(case_id=case_id, role=Assignment.Role.LEAD).values_list(
        "dispatched_at", "finished_at", "resolve_due"
    ):
        moments += row
    return sorted({timezone.localdate(moment) for moment in moments if moment is not None and moment <= now})


def case_rollups_refresh(*, case_id, now=None, only_old=False) -> int:
    """Recompute the rollups of every day the case counts on (`case_days`), or with `only_old`
    those before the frequent refresh's window, each run of consecutive days at once; returns how
    many days. Safe to run twice, like rollups_refresh."""
    days = case_days(case_id=case_id, now=now)
    if only_old:
        days = [day for day in days if day < _window_start(now or timezone.now())]
    runs = []
    for day in days:
        if runs and day - runs[-1][1] == datetime.timedelta(days=1):
            runs[-1][1] = day
        else:
            runs.append([day, day])
    for first, last in runs:
        rollups_refresh(first=first, last=last, now=now)
    return len(days)
