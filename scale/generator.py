"""Fill the database with N realistic cases, fast: the data behind `make bench`.

Every case lives a life through the same states, events and rows the services write (see
docs/lifecycle.md), computed here in memory and loaded with COPY:

- arrivals shaped like a real year of 311 traffic (`scale/data/arrivals.json`, derived once from
  Boston's 2015 requests by `scale/derive_arrivals.py`): hour of day, weekday, the factor of each
  day of the year (storms), channel shares, and how long requests took against their deadline;
- over the real hierarchy (every grid, weighted so that some places call more than others), the
  category tree and the routing rules, with deadlines from the SLA policies on the work calendar;
- fates: answered directly, auto-dispatched, returned and re-dispatched (~3%), signed, contacted,
  resolved in time or late (~10%, per-unit speed), escalated by the sweep's own stage schedule at
  the moments the sweep would have fired each stage (warnings, overdue, chase, notice,
  supervision ~2%), called back (satisfied, basically, unsatisfied, unreachable, with the attempts
  and retries of `FeedbackSettings`), verified on site where the category asks for it, reopened
  (~5%) or exempted;
- cases still open at `end` stop where their life has got to, with `next_check_at` at their next
  stage, so the real sweep at `end` has nothing left to do; then the dashboards' rollups are
  summed from the same parts as the real `rollups_refresh`, by PostgreSQL
  (`rollups_refresh_in_sql`).

Not generated: merged duplicates, assisting units, extension requests, photos, and the SMS and
in-app messages of past stages.

Deterministic for a seed and an end moment (the rollups' ids apart: they follow the order their
connections write them in). Secondary indexes and the foreign keys of the loaded tables (and the
rollups' key) are dropped during the load; the indexes are built again and the tables analysed
in the load's transaction, nothing is committed until every row is in and every index built.
Then, outside a transaction, each PostgreSQL statement running in one process, what is left runs
on several connections at once: the tables vacuumed and their keys (added back unchecked before
the commit, so in force for every new row; before PostgreSQL 18 a partitioned table's are
checked there) checked, while the rollups are summed, a run of days per connection
(`Generator._after_commit`). Inside a transaction (the tests') it all runs there, one statement
after another, and writes the same rows (tests/scale/test_generator_committed.py).
"""

import bisect
import collections
import contextlib
import datetime
import itertools
import json
import math
import multiprocessing
import os
import random
import shutil
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from psycopg._copy_base import TextFormatter
from psycopg.adapt import Transformer

from cases.models import Case, Category
from cases.partitions import partitions_cover
from cases.services import title_from
from dashboards.services import in_own_connection, rollups_refresh_in_sql
from deadlines.models import LimitUnit
from deadlines.policies import deadlines_from, sla_policy_for
from deadlines.worktime import HOUR, TZ, WorkCalendar, _amount, _local, _whole_micros
from escalation.models import Alert, EscalationPolicy
from escalation.services import SUPERVISION_STAGES, schedule, supervisors_of, warning_at
from feedback.models import FeedbackSettings
from grids.models import GridPosting, Region
from routing.models import RoutingRule
from routing.rules import routes_for_many
from routing.services import GIVEN_NAMES, SURNAMES
from units.models import Membership, Unit

ARRIVALS = json.loads((Path(__file__).resolve().parent / "data" / "arrivals.json").read_text())
LARGEST = 100_000_000  # three centuries at 900 a day
PER_DAY = 900  # 苏家屯区: 500–1,400 requests a day (../shared/data/README.md)
SHORTEST_SPAN_DAYS = 30
CHUNK = 5_000  # cases per COPY round
# Measured on generated data (docs/performance.md): table and index bytes per case, with room.
BYTES_PER_CASE = 6_000
HEADROOM = 2 * 1024**3

# Fates, as shares. Boston's late share (24%) is brought to the ~10% the issue asks for.
ANSWERED_SHARE = 0.12  # of hotline and walk-in calls: a question answered on the phone
WALK_IN_SHARE = 0.05  # Boston has no walk-ins: taken from its calls
RETURN_SHARE = 0.03
LATE_SHARE = 0.12
LATE_SIGN_SHARE = 0.04
LATE_CONTACT_SHARE = 0.06
REACHED_SHARE = 0.75  # per attempt: three misses in a row (unreachable) about 1.5%
VERDICTS = (("satisfied", 0.805), ("basically", 0.13), ("unsatisfied", 0.065))
REOPEN_SHARE_OF_UNSATISFIED = 0.85  # the rest are closed with an exemption
LATE_RATIO_CAP = 4.0
# Boston's late requests are very late (half of them over 2.5 times the time allowed): nobody
# supervises them. Here supervision (after 7 overdue working days) cuts the tail short, so the
# time past the deadline is Boston's scaled down; about 2% of the cases then reach supervision.
LATE_EXCESS_SCALE = 0.15

TABLES = {
    "cases_case": (
        "id number status channel priority category_id grid_code address title description caller_name "
        "caller_phone caller_confidential call_count closure_reason created_by_id created_at updated_at closed_at"
    ),
    "intake_call": (
        "id case_id outcome channel caller_name caller_phone caller_confidential description category_id "
        "grid_code address priority created_by_id created_at idempotency_key"
    ),
    "routing_assignment": (
        "id case_id unit_id role state note dispatched_at dispatched_by_id rule_id sign_due contact_due "
        "resolve_due return_until extension_max_until signed_at contacted_at finished_at is_redo callback_due "
        "handling_seconds next_check_at"
    ),
    "cases_caseevent": "id case_id action from_status to_status actor_id at note data",
    "routing_alert": "id assignment_id limit due stage at",
    "routing_supervision": "id case_id assignment_id unit_id level started_at ended_at",
    "routing_autorouteattempt": "case_id at outcome",
}
# Tables keyed by their own id (the others hang off a case).
NUMBERED = [table for table, columns in TABLES.items() if columns.split()[0] == "id"]
CALLBACK_DUE = TABLES["routing_assignment"].split().index("callback_due")
# Resolved, the callback (or the on-site check) still to come: (status, closure reason, closed at).
RESOLVED_WAITING = ("resolved", "", None)
WARNED = frozenset({Alert.Stage.WARNING})
STAGE_ACTIONS = {"warning": "deadline_warning", "overdue": "overdue", "chase": "chase", "notice": "notice"}
RETURN_REASONS = ("not_our_duty", "not_our_area", "wrong_category", "insufficient")
EXEMPTIONS = ("unreasonable", "beyond_policy", "historical", "no_conditions")
PLACES = (
    "{n}号楼",
    "{n}号楼{u}单元",
    "小区东门",
    "小区西门",
    "南侧路口",
    "北侧空地",
    "菜市场旁",
    "公交站附近",
    "学校门口",
)
SAYINGS = (
    "居民反映{place}{kw}，影响日常生活，请相关部门尽快核实处理。",
    "来电人称{place}存在{kw}问题，已持续{days}天，希望尽快解决。",
    "{place}{kw}，多次反映未果，群众意见较大。",
    "网格员巡查发现{place}{kw}，需要协调处理。",
    "市民反映{place}一带{kw}，存在安全隐患，请尽快处置。",
)


# json.dumps(..., ensure_ascii=False) without making an encoder for each of millions of events.
_json = json.JSONEncoder(ensure_ascii=False).encode


class GenerationRefused(Exception):
    """Nothing was written: the message says why and what to do."""


def check_size(text) -> int:
    try:
        size = int(str(text).replace("_", ""))
    except ValueError:
        raise GenerationRefused(f"size must be a whole number of cases, like 1000000; got {text!r}") from None
    if not 1 <= size <= LARGEST:
        raise GenerationRefused(f"size must be between 1 and {LARGEST:,}; got {size:,}")
    return size


def check_room(size, *, free_bytes=None):
    """Refuse a size the database's disk cannot hold (when the data directory is on this machine)."""
    if free_bytes is None:
        free_bytes = _free_bytes()
    needed = size * BYTES_PER_CASE + HEADROOM
    if free_bytes is not None and needed > free_bytes:
        raise GenerationRefused(
            f"{size:,} cases need about {_gib(needed)} of disk for the database, but only {_gib(free_bytes)} "
            "is free there: free some space or choose a smaller size"
        )


def _gib(count):
    return f"{count / 1024**3:,.1f} GiB"


def _free_bytes():
    with connection.cursor() as cursor:
        try:
            with transaction.atomic():
                cursor.execute("SELECT current_setting('data_directory')")
                directory = cursor.fetchone()[0]
        except DatabaseError:  # not allowed to read it: a managed or remote server
            return None
    host = connection.settings_dict.get("HOST") or "localhost"
    if host not in ("localhost", "127.0.0.1", "::1", "") and not host.startswith("/"):
        return None
    try:
        return shutil.disk_usage(directory).free
    except OSError:  # another machine's path
        return None


def check_empty(*, reset):
    if reset:
        return
    if Case.objects.exists():
        raise GenerationRefused(
            f"the database already holds {Case.objects.count():,} cases: generating more would mix them with "
            "real or earlier data. Run again with --reset to delete every case first"
        )


def reset_cases():
    """Every case and everything that hangs off a case, gone; the reference data stays."""
    tables = [
        "cases_case",
        "cases_casenumbercounter",
        "dashboards_dailyrollup",
        "dashboards_rolluprun",
        "dashboards_exportjob",
        "routing_notification",
        "outbox_message",
        "outbox_sentsms",
    ]
    existing = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(t for t in tables if t in existing)} RESTART IDENTITY CASCADE")


# --- The world the cases live in ---------------------------------------------------------------


@dataclass
class Route:
    unit_id: int
    unit_code: str
    rule_id: int | None
    note: str
    parent_id: int | None
    grid: str = ""  # the grid `note` names (routes are worked out once per community)


@dataclass
class World:
    calendar: WorkCalendar
    escalation: EscalationPolicy
    grids: list
    grid_weights: list
    community_names: dict
    categories: list
    category_weights: list
    policies: dict  # (category id, priority) -> SlaPolicy
    routes: dict  # (category id, grid code) -> Route | None
    units: dict  # id -> Unit (with parent)
    actors: dict  # unit id -> user ids
    street_offices: dict  # street code -> unit id
    departments: list
    workers: dict  # grid code -> user id
    dispatcher: int
    grid_names: dict
    callback_attempts: int
    retry_hours: Decimal
    supervisors: dict = field(default_factory=dict)  # unit id -> [unit, ...]


class TabledCalendar(WorkCalendar):
    """A work calendar whose working days over a span of dates are counted once into tables, so
    that each of the generator's millions of deadline sums is a look-up, not a walk over the
    weeks. The same answers as the calendar it copies (tests/scale/test_generator.py compares them
    on random moments); outside the span it walks as `WorkCalendar` does.

    A moment in the span is placed by its difference from the span's first midnight: between two
    Asia/Shanghai moments Python subtracts their wall-clock times, which gives the day and the
    time of day at once, and is the time elapsed while the zone keeps one offset (checked for
    every day of the span; Shanghai has had no daylight saving time since 1991)."""

    def __init__(self, calendar, *, first, last):
        self.__dict__.update(calendar.__dict__)
        self._span_first = first
        days = [first + datetime.timedelta(days=index) for index in range((last - first).days + 1)]
        self._span_open = [calendar.is_workday(day) for day in days]
        self._span_workdays = [index for index, is_open in enumerate(self._span_open) if is_open]
        # Working days before each day of the span (and after its last one).
        self._span_before = [0]
        for is_open in self._span_open:
            self._span_before.append(self._span_before[-1] + is_open)
        self._span_midnight = datetime.datetime.combine(first, datetime.time(), tzinfo=TZ)
        offsets = {datetime.datetime.combine(day, datetime.time(12), tzinfo=TZ).utcoffset() for day in days}
        self._span_days = len(days) if len(offsets) <= 1 else 0  # else: every moment walks
        # Microseconds of working time each (amount, unit) of a sum stands for.
        self._needed = {}

    def _place(self, moment):
        """(the day of the span, microseconds since local midnight) of an aware moment; the day
        may fall outside the span."""
        if moment.tzinfo is not TZ:
            _local(moment)  # refuses a naive datetime
            moment = moment.astimezone(TZ)
        since = moment - self._span_midnight
        return since.days, since.seconds * 1_000_000 + since.microseconds

    def _index(self, day):
        index = (day - self._span_first).days
        return index if 0 <= index < len(self._span_open) else None

    def is_workday(self, day):
        if isinstance(day, datetime.datetime):
            day = _local(day)[0]
        index = self._index(day)
        return super().is_workday(day) if index is None else self._span_open[index]

    def workdays_between(self, first, last):
        start, stop = (first - self._span_first).days, (last - self._span_first).days
        if 0 <= start < len(self._span_before) and 0 <= stop < len(self._span_before):
            return max(0, self._span_before[stop] - self._span_before[start])
        return super().workdays_between(first, last)

    def add(self, start, amount, unit):
        """WorkCalendar.add with the working time of each amount worked out once."""
        key = (type(amount), amount, unit)
        needed = self._needed.get(key)
        if needed is None:
            unit, value = LimitUnit(unit), _amount(amount)
            needed = 0
            if unit != LimitUnit.CALENDAR_HOURS and value != 0:
                needed = _whole_micros(value * (HOUR if unit == LimitUnit.WORKING_HOURS else self.day_length))
            if len(self._needed) > 10_000:  # a warning's share of a deadline is seldom seen twice
                self._needed.clear()
            self._needed[key] = needed
        if needed == 0:
            return super().add(start, amount, unit)
        return self._add_working(start, needed)

    def _add_working(self, start, needed):
        index, micros = self._place(start)
        if 0 <= index < self._span_days:
            # Working time from the span's start to the result; the result is on the working day
            # whose office time holds it (its end, not the next day's start, when it fills a day).
            position = self._span_before[index] * self.day_length + needed
            if self._span_open[index]:
                position += self._elapsed(micros)
            workday = (position - 1) // self.day_length
            if workday < len(self._span_workdays):
                return self._span_midnight + datetime.timedelta(
                    days=self._span_workdays[workday], microseconds=self._at(position - workday * self.day_length)
                )
        return super()._add_working(start, needed)

    def _working_micros(self, start, end):
        first, first_micros = self._place(start)
        last, last_micros = self._place(end)
        if not (0 <= first < self._span_days and 0 <= last < self._span_days):
            return super()._working_micros(start, end)
        if (last, last_micros) < (first, first_micros):
            return -self._working_micros(end, start)
        done_first = self._elapsed(first_micros) if self._span_open[first] else 0
        done_last = self._elapsed(last_micros) if self._span_open[last] else 0
        return (self._span_before[last] - self._span_before[first]) * self.day_length - done_first + done_last


def world_load(rng) -> World:
    grids = list(Region.objects.filter(level=Region.Level.GRID).order_by("code").values_list("code", flat=True))
    categories = list(Category.objects.filter(parent__isnull=False, is_active=True).order_by("code"))
    if not grids or not categories:
        raise GenerationRefused("load the regions and the categories first: manage.py load_reference (or load_demo)")
    units = {unit.pk: unit for unit in Unit.objects.select_related("region")}
    for unit in units.values():
        # The whole escalation chain in memory: the worker processes never query.
        unit.parent = units.get(unit.parent_id)
    actors = {}
    for user_id, unit_id in Membership.objects.order_by("role", "user_id").values_list("user_id", "unit_id"):
        actors.setdefault(unit_id, []).append(user_id)
    centre = [pk for pk, unit in units.items() if unit.kind == Unit.Kind.CENTRE and pk in actors]
    if not centre:
        raise GenerationRefused("nobody works at the district centre: load people first (manage.py load_demo)")
    workers = dict(GridPosting.objects.order_by("user_id").values_list("grid__code", "user_id"))
    community_names = dict(Region.objects.filter(level=Region.Level.COMMUNITY).values_list("code", "name"))
    grid_names = dict(Region.objects.filter(level=Region.Level.GRID).values_list("code", "name"))
    feedback = FeedbackSettings.load()
    # Places differ: a few grids call far more than most (a lognormal weight per grid).
    grid_weights = list(_cumulative(rng.lognormvariate(0, 0.8) for _grid in grids))
    # Boston's request-type shares, largest first, given to our kinds in a seeded order.
    shares = ARRIVALS["type_weights"][: len(categories)]
    shares += [shares[-1]] * (len(categories) - len(shares))
    order = list(range(len(categories)))
    rng.shuffle(order)
    category_weights = list(_cumulative(shares[order[index]] for index in range(len(categories))))
    policies = {}
    for category in categories:
        for priority in {category.default_priority, "normal"}:
            policies[(category.pk, priority)] = sla_policy_for(category=category, priority=priority)
    routes = _routes(categories, grids, actors)
    street_offices = {
        unit.region.code: pk for pk, unit in units.items() if unit.kind == Unit.Kind.STREET_OFFICE and pk in actors
    }
    departments = sorted(pk for pk, unit in units.items() if unit.kind == Unit.Kind.DEPARTMENT and pk in actors)
    return World(
        calendar=WorkCalendar.load(),
        escalation=EscalationPolicy.current(),
        grids=grids,
        grid_weights=grid_weights,
        community_names=community_names,
        categories=categories,
        category_weights=category_weights,
        policies=policies,
        routes=routes,
        units=units,
        actors=actors,
        street_offices=street_offices,
        departments=departments,
        workers=workers,
        dispatcher=actors[centre[0]][0],
        grid_names=grid_names,
        callback_attempts=feedback.callback_attempts,
        retry_hours=feedback.retry_after_hours,
        supervisors={pk: supervisors_of(unit) for pk, unit in units.items()},
    )


def _routes(categories, grids, actors) -> dict:
    """Where each category goes from each grid, by the real rules. Grids of one community share
    their routes unless a rule names the grid itself, so one probe per community is asked."""
    local = set(RoutingRule.objects.filter(region__isnull=False).values_list("region__code", flat=True))
    keys = {code: code if code in local else code[:12] for code in grids}
    representatives = {}
    for code in grids:
        representatives.setdefault(keys[code], code)
    probes = []
    for category in categories:
        for code in representatives.values():
            probe = Case(category=category, grid_id=code)
            probe.pk = len(probes)
            probes.append(probe)
    decisions = routes_for_many(probes)
    by_key = {}
    for probe in probes:
        decision = decisions[probe.pk]
        unit = decision.unit
        by_key[(probe.category_id, keys[probe.grid_id])] = (
            Route(
                unit.pk,
                unit.code,
                decision.rule.pk if decision.rule else None,
                str(decision.explanation),
                unit.parent_id,
                probe.grid_id,
            )
            if unit is not None and unit.pk in actors
            else None
        )
    return {(category.pk, code): by_key[(category.pk, keys[code])] for category in categories for code in grids}


def _cumulative(weights):
    total = 0.0
    for weight in weights:
        total += weight
        yield total


# --- Arrivals ----------------------------------------------------------------------------------


def arrivals(rng, *, size, end, days=None) -> list[datetime.datetime]:
    """`size` moments before `end`, sorted, spread like Boston's year: the weekday's share times
    the day of the year's factor, then the hour of day's share. Over `days` days, or as many as
    PER_DAY cases a day fill (at least SHORTEST_SPAN_DAYS)."""
    days = days or max(SHORTEST_SPAN_DAYS, math.ceil(size / PER_DAY))
    end_local = end.astimezone(TZ)
    last_day = end_local.date()
    first_day = last_day - datetime.timedelta(days=days - 1)
    factors = ARRIVALS["day_factors"]
    weekday = ARRIVALS["weekday_weights"]
    hours = ARRIVALS["hour_weights"]
    dates = [first_day + datetime.timedelta(days=index) for index in range(days)]
    open_hours = end_local.hour  # today counts only the hours already begun and ended
    weights = [
        weekday[day.weekday()]
        * factors[(day.timetuple().tm_yday - 1) % len(factors)]
        * (sum(hours[:open_hours]) / sum(hours) if day == last_day else 1)
        for day in dates
    ]
    counts = _apportion(size, weights)
    moments = []
    for day, count in zip(dates, counts, strict=True):
        usable = open_hours if day == last_day else 24
        if not count:  # (the last day before 01:00 has no hour begun and ended yet)
            continue
        cumulative = list(_cumulative(hours[:usable]))
        midnight = datetime.datetime.combine(day, datetime.time(), tzinfo=TZ)
        chosen = rng.choices(range(usable), cum_weights=cumulative, k=count)
        moments.extend(midnight + datetime.timedelta(hours=hour, seconds=rng.randrange(3600)) for hour in chosen)
    moments.sort()
    return moments


def _apportion(size, weights):
    """Split `size` in proportion to `weights`, exactly (largest remainders)."""
    total = sum(weights)
    exact = [size * weight / total for weight in weights]
    counts = [int(value) for value in exact]
    rest = sorted(range(len(weights)), key=lambda index: counts[index] - exact[index])
    for index in rest[: size - sum(counts)]:
        counts[index] += 1
    return counts


# --- One case's life ---------------------------------------------------------------------------


class Ids:
    """Ids within one chunk: cases and calls from the chunk's first case on, the other tables
    from 1 (PostgreSQL gives their final ids as they go in; see `GIVEN_IDS`)."""

    def __init__(self, first_case=0):
        self.last = dict.fromkeys(NUMBERED, 0)
        self.last["cases_case"] = self.last["intake_call"] = first_case

    def next(self, table):
        self.last[table] += 1
        return self.last[table]


@dataclass
class Rows:
    tables: dict = field(default_factory=lambda: {table: [] for table in TABLES})

    def add(self, table, row):
        self.tables[table].append(row)


def _quantile(rng, quantiles):
    """A draw from a distribution given by its percentiles (linear between them)."""
    position = rng.random() * (len(quantiles) - 1)
    index = int(position)
    low, high = quantiles[index], quantiles[min(index + 1, len(quantiles) - 1)]
    return low + (high - low) * (position - index)


class Life:
    """Writes the rows of one case from its arrival to `end`, or to wherever it has got by then."""

    def __init__(self, generator, rows, ids, rng):
        self.g, self.world, self.rng, self.end = generator, generator.world, rng, generator.end
        self.rows, self.ids = rows, ids

    # Rows

    def event(self, action, source, target, at, *, actor=None, note="", data=None):
        self.rows.add(
            "cases_caseevent",
            (
                self.ids.next("cases_caseevent"),
                self.case_id,
                action,
                source,
                target,
                actor,
                at,
                note,
                _json(data or {}),
            ),
        )
        self.updated = max(self.updated, at)

    def live(self, arrived, number):
        world, rng = self.world, self.rng
        self.case_id = self.ids.next("cases_case")
        self.updated = arrived
        category = world.categories[bisect.bisect(world.category_weights, rng.random() * world.category_weights[-1])]
        grid = world.grids[
            min(bisect.bisect(world.grid_weights, rng.random() * world.grid_weights[-1]), len(world.grids) - 1)
        ]
        channel = rng.choices(self.g.channels, cum_weights=self.g.channel_weights)[0]
        priority = category.default_priority
        name = rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)
        phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
        keywords = category.keyword_list or [category.name]
        place = world.community_names.get(grid[:12], "") + rng.choice(PLACES).format(
            n=rng.randint(1, 40), u=rng.randint(1, 6)
        )
        description = rng.choice(SAYINGS).format(place=place, kw=rng.choice(keywords), days=rng.randint(2, 20))
        taker = world.workers.get(grid, world.dispatcher) if channel == "patrol" else world.dispatcher
        self.event("open", "", "registered", arrived, actor=taker, data={"channel": channel})
        status, reason, closed_at = "registered", "", None
        outcome = "new_case"
        if channel in ("hotline", "walk_in") and rng.random() < ANSWERED_SHARE:
            self.event("answer", "registered", "closed", arrived, actor=taker, note="已当场解答政策咨询。")
            status, reason, closed_at, outcome = "closed", "answered_directly", arrived, "answered"
        else:
            status, reason, closed_at = self.handle(category, grid, priority, arrived)
        self.rows.add(
            "cases_case",
            (
                self.case_id,
                number,
                status,
                channel,
                priority,
                category.pk,
                grid,
                place,
                title_from(description),
                description,
                name,
                phone,
                False,
                1,
                reason,
                taker,
                arrived,
                self.updated,
                closed_at,
            ),
        )
        self.rows.add(
            "intake_call",
            (
                self.ids.next("intake_call"),
                self.case_id,
                outcome,
                channel,
                name,
                phone,
                False,
                description,
                category.pk,
                grid,
                place,
                priority,
                taker,
                arrived,
                "",
            ),
        )

    def handle(self, category, grid, priority, arrived):
        """Dispatch, handling and the callbacks; returns (status, closure reason, closed at)."""
        world, rng = self.world, self.rng
        route = world.routes.get((category.pk, grid))
        outcome = f"dispatched to {route.unit_code}" if route else "no rule: left to the dispatchers"
        self.rows.add("routing_autorouteattempt", (self.case_id, arrived, outcome))
        if route is not None and route.grid != grid:
            names = world.grid_names
            route = replace(route, note=route.note.replace(names[route.grid], names[grid]), grid=grid)
        if route is None:  # no rule: a dispatcher sends it to the street office
            unit_id = world.street_offices[grid[:9]]
            unit = world.units[unit_id]
            route = Route(unit_id, unit.code, None, "", unit.parent_id)
            at = arrived + datetime.timedelta(minutes=rng.randint(5, 90))
            automatic = False
        else:
            at, automatic = arrived, True
        if at > self.end:
            return "registered", "", None
        policy = world.policies[(category.pk, priority)]
        status = "registered"
        if rng.random() < RETURN_SHARE:
            outcome = self.part(route, policy, at, automatic, status, returned=True)
            if outcome is None:
                return self.open_status, "", None
            status, at = "returned", outcome
            other = self.redispatch_target(route, grid)
            at += datetime.timedelta(minutes=rng.randint(20, 240))
            if at > self.end:
                return "returned", "", None
            route, automatic = other, False
        finished = self.part(route, policy, at, automatic, status)
        if finished is None:
            return self.open_status, "", None
        return self.callbacks(category, grid, policy, route, finished)

    def redispatch_target(self, route, grid):
        world = self.world
        office = world.street_offices[grid[:9]]
        # A committee's or a department's return goes to the street office; the office's own to a department.
        unit_id = office if route.unit_id != office else self.rng.choice(world.departments)
        unit = world.units[unit_id]
        return Route(unit_id, unit.code, None, "", unit.parent_id)

    def met(self, start, due, late_share, *, earliest):
        """When a deadline from `start` is met: mostly within it, sometimes late."""
        span = (due - start).total_seconds()
        if self.rng.random() < late_share:
            excess = _quantile(self.rng, ARRIVALS["late_ratio_quantiles"]) - 1
            ratio = min(1.01 + excess * LATE_EXCESS_SCALE, LATE_RATIO_CAP)
        else:
            ratio = self.rng.uniform(0.05, 0.95)
        return max(start + datetime.timedelta(seconds=span * ratio), earliest)

    def part(self, route, policy, at, automatic, source, *, returned=False, redo=False, speed=None):
        """One lead assignment from dispatch to resolution (or return); returns when it finished,
        or None when it is still open at `end` (then `open_status` says where it stands)."""
        world, rng, end = self.world, self.rng, self.end
        actor = world.actors[route.unit_id][0]
        due = deadlines_from(policy, at, world.calendar)
        assignment_id = self.ids.next("routing_assignment")
        if redo:
            signed = at
        else:
            dispatcher = None if automatic else world.dispatcher
            self.event(
                "dispatch",
                source,
                "dispatched",
                at,
                actor=dispatcher,
                note=route.note,
                data={"rule": route.rule_id, "unit": route.unit_code, "automatic": automatic},
            )
            signed = self.met(at, due["sign_due"], LATE_SIGN_SHARE, earliest=at + datetime.timedelta(minutes=2))
        speed = speed if speed is not None else self.g.unit_late_share(route.unit_id)
        contacted = self.met(
            at, due["contact_due"], LATE_CONTACT_SHARE, earliest=signed + datetime.timedelta(minutes=5)
        )
        resolved = self.met(at, due["resolve_due"], speed, earliest=contacted + datetime.timedelta(minutes=30))
        if returned:
            # Returned within the window, soon after signing for it.
            contacted = None
            resolved = signed + datetime.timedelta(minutes=rng.randint(5, 120))
        state, finished = ("returned" if returned else "done"), resolved
        status_now = None
        if not redo and signed > end:
            signed = contacted = finished = None
            state, status_now = "waiting", "dispatched"
        elif contacted is not None and contacted > end:
            contacted = finished = None
            state, status_now = "signed", "in_progress"
        elif resolved > end:
            finished = None
            state, status_now = "signed", "in_progress"
        if signed is not None and not redo:
            self.event("sign", "dispatched", "in_progress", signed, actor=actor, data={"unit": route.unit_code})
        if contacted is not None:
            self.event(
                "contact",
                "in_progress",
                "in_progress",
                contacted,
                actor=actor,
                note="已电话联系群众，约定处理时间。",
                data={"at": contacted.isoformat(), "unit": route.unit_code, "method": "phone"},
            )
        next_check = self.escalate(assignment_id, route, due, signed, contacted, finished, at)
        handling = None
        callback_due = None
        if finished is not None and returned:
            self.event(
                "return",
                "in_progress",
                "returned",
                finished,
                actor=actor,
                note="经核实不属本单位职责。",
                data={"unit": route.unit_code, "reason": rng.choice(RETURN_REASONS)},
            )
        elif finished is not None:
            handling = world.calendar.working_seconds_between(at, finished)
            callback_due = world.calendar.add(finished, *policy.limit("callback"))
            self.event(
                "resolve",
                "in_progress",
                "resolved",
                finished,
                actor=actor,
                note="已到现场处理完毕。",
                data={"unit": route.unit_code, "result_kind": "solved"},
            )
        self.callback_due = callback_due
        self.rows.add(
            "routing_assignment",
            (
                assignment_id,
                self.case_id,
                route.unit_id,
                "lead",
                state,
                route.note if not redo else "群众对办理结果不满意。",
                at,
                None if automatic else world.dispatcher,
                route.rule_id if automatic else None,
                at if redo else due["sign_due"],
                due["contact_due"],
                due["resolve_due"],
                None if redo else due["return_until"],
                due["extension_max_until"],
                signed,
                contacted,
                finished,
                redo,
                callback_due,
                handling,
                next_check,
            ),
        )
        self.open_status = status_now
        return finished

    def escalate(self, assignment_id, route, due, signed, contacted, finished, dispatched):
        """The stages the sweep fired, each at its moment, until its deadline was met, the part
        ended or `end` came; returns when the next stage of a part still open falls due (its
        `next_check_at`), the sweep's own schedule (`escalation.services.schedule`)."""
        world, end = self.world, self.end
        probe = _Probe(dispatched, world.units[route.unit_id])
        supervised, upcoming = set(), []
        for limit, met in (("sign", signed), ("contact", contacted), ("resolve", finished)):
            deadline = due[f"{limit}_due"]
            stop = met or finished or end
            # Nothing fires before the warning: most deadlines are met by then, so this saves
            # working out the rest of the schedule.
            warn = warning_at(world.calendar, world.escalation, dispatched, deadline)
            if stop < min(warn, deadline):
                if met is None and finished is None:
                    upcoming.append(min(warn, deadline) if warn < deadline else deadline)
                continue
            # The sweep's own schedule, its warning the one worked out here (the same sum).
            stages = schedule(probe, limit, deadline, calendar=world.calendar, policy=world.escalation, fired=WARNED)
            for stage, at in itertools.chain([(Alert.Stage.WARNING, warn)] if warn < deadline else [], stages):
                if at > stop:
                    if met is None and finished is None:
                        upcoming.append(at)
                    break
                self.rows.add(
                    "routing_alert", (self.ids.next("routing_alert"), assignment_id, limit, deadline, stage, at)
                )
                status = "dispatched" if signed is None or at < signed else "in_progress"
                if stage in STAGE_ACTIONS:
                    data = {"due": deadline.isoformat(), "unit": route.unit_code, "limit": limit, "stage": stage}
                    self.event(STAGE_ACTIONS[stage], status, status, at, data=data)
                    continue
                level = SUPERVISION_STAGES.index(stage) + 1
                if level in supervised:
                    continue
                supervised.add(level)
                supervisor = world.supervisors[route.unit_id][level - 1]
                self.rows.add(
                    "routing_supervision",
                    (
                        self.ids.next("routing_supervision"),
                        self.case_id,
                        assignment_id,
                        supervisor.pk,
                        level,
                        at,
                        finished,
                    ),
                )
                data = {"unit": route.unit_code, "level": level, "supervisor": supervisor.code}
                self.event("supervise", status, status, at, data=data)
        return min(upcoming, default=None)

    def callbacks(self, category, grid, policy, route, finished):
        """Calls to the resident after the resolution; returns (status, reason, closed at)."""
        world, rng, end = self.world, self.rng, self.end
        dispatcher = world.dispatcher
        redo = 0
        while True:
            due = self.callback_due
            at = finished + (due - finished) * rng.uniform(0.1, 0.9)
            for attempt in range(1, world.callback_attempts + 1):
                if at > end:
                    if attempt > 1:
                        self._set_callback_due(at)  # the retry the dispatchers are waiting for
                    return RESOLVED_WAITING
                if rng.random() < REACHED_SHARE:
                    break
                self.callback(at, {"unit": route.unit_code, "attempt": attempt, "channel": "phone", "reached": False})
                if attempt == world.callback_attempts:
                    return self.close(at, "unreachable", route)
                at = world.calendar.add(at, world.retry_hours, LimitUnit.WORKING_HOURS)
            verdict = "satisfied" if redo else rng.choices(self.g.verdicts, cum_weights=self.g.verdict_weights)[0]
            positive = verdict != "unsatisfied"
            self.callback(
                at,
                {
                    "unit": route.unit_code,
                    "channel": "phone",
                    "reached": True,
                    "positive": positive,
                    "resolved": positive,
                    "satisfaction": verdict,
                },
            )
            if positive:
                if category.requires_verification:
                    checked = at + datetime.timedelta(hours=rng.uniform(1, 30))
                    if checked > end:
                        self._set_callback_due(None)  # called back: waiting for the on-site check
                        return RESOLVED_WAITING
                    worker = world.workers.get(grid, dispatcher)
                    self.event(
                        "verify",
                        "resolved",
                        "resolved",
                        checked,
                        actor=worker,
                        note="现场核查，问题已解决。",
                        data={"confirmed": True, "unit": route.unit_code},
                    )
                    at = checked
                return self.close(at, "satisfied", route)
            if rng.random() > REOPEN_SHARE_OF_UNSATISFIED:
                exemption = {"exemption": rng.choice(EXEMPTIONS)}
                return self.close(at, "exempted", route, data=exemption, note="诉求超出政策范围。")
            redo += 1
            self._set_callback_due(None)
            self.event(
                "reopen",
                "resolved",
                "in_progress",
                at,
                actor=dispatcher,
                note="群众对办理结果不满意。",
                data={"redo": redo, "unit": route.unit_code, "after": "callback"},
            )
            finished = self.part(route, policy, at, False, "resolved", redo=True, speed=LATE_SHARE / 2)
            if finished is None:
                return "in_progress", "", None

    def callback(self, at, data):
        self.event("callback", "resolved", "resolved", at, actor=self.world.dispatcher, data=data)

    def close(self, at, reason, route, *, data=None, note=""):
        self.event(
            "close",
            "resolved",
            "closed",
            at,
            actor=self.world.dispatcher,
            note=note,
            data={"unit": route.unit_code, "reason": reason, **(data or {})},
        )
        self._set_callback_due(None)
        return "closed", reason, at

    def _set_callback_due(self, moment):
        """Move the callback due time of the case's resolved assignment (already written), as the
        feedback services do: None once the callback is done."""
        rows = self.rows.tables["routing_assignment"]
        for index in range(len(rows) - 1, -1, -1):
            if rows[index][1] != self.case_id:
                break
            if rows[index][CALLBACK_DUE] is not None:
                rows[index] = (*rows[index][:CALLBACK_DUE], moment, *rows[index][CALLBACK_DUE + 1 :])


@dataclass
class _Probe:
    """What `escalation.services.schedule` reads of an assignment."""

    dispatched_at: datetime.datetime
    unit: Unit
    role: str = "lead"


# --- The generator -----------------------------------------------------------------------------


class Generator:
    def __init__(self, *, size, seed=1, end=None, days=None, workers=None, chunk=CHUNK, progress=print):
        self.size = check_size(size)
        self.chunk_size = chunk
        self.days = days
        self.seed = seed
        self.end = (end or timezone.now()).astimezone(TZ).replace(microsecond=0)
        self.workers = workers or min(4, os.cpu_count() or 1)
        self.say = progress
        self.rng = random.Random(seed)
        self._unit_late = {}
        shares = dict(ARRIVALS["channel_weights"])
        shares["walk_in"] = shares.get("walk_in", 0) + WALK_IN_SHARE * shares["hotline"]
        shares["hotline"] *= 1 - WALK_IN_SHARE
        self.channels = list(shares)
        self.channel_weights = list(_cumulative(shares.values()))
        self.verdicts = [name for name, _share in VERDICTS]
        self.verdict_weights = list(_cumulative(share for _name, share in VERDICTS))

    def unit_late_share(self, unit_id):
        """Some units are slower than others: a seeded factor per unit around the overall share.

        Seeded by the unit's code, not its id: ids depend on what the database's sequences went
        through before (a test database's sequences are not rolled back), codes do not."""
        if unit_id not in self._unit_late:
            code = self.world.units[unit_id].code
            factor = random.Random(f"{self.seed}:late:{code}").lognormvariate(0, 0.6)
            self._unit_late[unit_id] = min(0.6, LATE_SHARE * factor)
        return self._unit_late[unit_id]

    def chunk(self, index) -> dict:
        """The rows of the cases of chunk `index`: pure computation, run in a worker process.
        Each chunk has its own seed, so the data does not depend on the number of workers.
        Returns {table: (count, rows)}, the rows as `_load` writes them (see `_formatted`)."""
        start = index * self.chunk_size
        rows = Rows()
        life = Life(self, rows, Ids(first_case=start), random.Random(f"{self.seed}:{index}"))
        for moment, number in zip(
            self.moments[start : start + self.chunk_size], self.numbers[start : start + self.chunk_size], strict=True
        ):
            life.live(moment, number)
        return _formatted(rows.tables)

    def run(self, *, reset=False):
        check_empty(reset=reset)
        check_room(self.size)
        self.world = world_load(self.rng)
        self.moments = arrivals(self.rng, size=self.size, end=self.end, days=self.days)
        # Deadlines, stages and callbacks fall up to a few months after a case's arrival.
        self.world.calendar = TabledCalendar(
            self.world.calendar,
            first=self.moments[0].astimezone(TZ).date(),
            last=self.end.astimezone(TZ).date() + datetime.timedelta(days=400),
        )
        counters = {}
        self.numbers = []
        for moment in self.moments:
            day = moment.date()
            counters[day] = counters.get(day, 0) + 1
            self.numbers.append(f"SJT-{day:%Y%m%d}-{counters[day]:05d}")
        self.say(
            f"{self.size:,} cases from {self.moments[0]:%Y-%m-%d} to {self.end:%Y-%m-%d %H:%M}, "
            f"{self.workers} worker process(es)"
        )
        totals = dict.fromkeys(TABLES, 0)
        # Outside a transaction (not in the tests' own) the load commits, and what is left to do
        # after it runs on several connections at once (see `_after_commit`).
        committed = not connection.in_atomic_block
        with transaction.atomic():
            with connection.cursor() as cursor:
                # Foreign keys are checked row by row as the rows go in, not queued to the commit
                # (millions of queued checks would hold the memory and block the index builds).
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            if reset:
                reset_cases()
            # The months of the span get partitions of their own (not the default one's), and the
            # month after it, where the deadlines of its last cases fall.
            partitions_cover(self.moments[0], self.end + datetime.timedelta(days=31))
            dropped = _indexes_drop()
            unchecked = _foreign_keys_drop(TABLES)
            # The rollups' key too, until they are written: checked row by row, it would cost
            # more than summing them.
            rollup_keys = _foreign_keys_drop(["dashboards_dailyrollup"])
            with connection.cursor() as cursor, _chunks(self) as chunks:
                for table in GIVEN_IDS:
                    # Empty (they hang off the cases): their ids start from 1, as the rows go in.
                    cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 1, false)")
                for index, tables in enumerate(chunks):
                    _load(cursor, tables, totals)
                    done = min((index + 1) * self.chunk_size, self.size)
                    self.say(f"cases {_bar(done, self.size)} {done:,}/{self.size:,}")
                self.say("building the indexes again")
                # Sorting in memory, with a parallel worker, not in many passes over temporary files.
                cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
                for statement in dropped:
                    cursor.execute(statement)
                # Committed, a key is added unchecked and checked after the commit, on another
                # connection beside other work; here only where PostgreSQL can (before 18, a key
                # of a partitioned table cannot be added unchecked).
                later = [key for key in unchecked if committed and key.can_wait()]
                self.say("checking the foreign keys" if len(later) < len(unchecked) else "adding the foreign keys")
                for key in unchecked:
                    cursor.execute(key.add(checked=key not in later))
                cursor.executemany(
                    "INSERT INTO cases_casenumbercounter (day, last) VALUES (%s, %s) "
                    "ON CONFLICT (day) DO UPDATE SET last = GREATEST(cases_casenumbercounter.last, EXCLUDED.last)",
                    sorted(counters.items()),
                )
                for table in NUMBERED:
                    sequence = f"pg_get_serial_sequence('{table}', 'id')"
                    cursor.execute(f"SELECT setval({sequence}, GREATEST(1, (SELECT MAX(id) FROM {table})))")
                # Statistics before the rollups read the tables (ANALYZE counts this transaction's
                # rows).
                self.say("analysing the loaded tables")
                for table in TABLES:
                    cursor.execute(f"ANALYZE {table}")
        first, last = self.moments[0].date(), self.end.date()
        try:
            if committed:
                rollups = self._after_commit(later, first, last, rollup_keys)
            else:
                self.say("computing the dashboards' daily rollups")
                rollups = rollups_refresh_in_sql(first=first, last=last, now=self.end)
                _keys_add(rollup_keys)
                _vacuum(["dashboards_dailyrollup"])
        except BaseException:
            if committed:  # (in a transaction, the key comes back with its rollback)
                _keys_add(rollup_keys, missing_only=True)
            raise
        self.say(f"rollups {_bar(1, 1)} {first:%Y-%m} to {last:%Y-%m}")
        return {**totals, "rollups": rollups}

    def _after_commit(self, keys, first, last, rollup_keys):
        """The work left once the load has committed, at the same time on several connections
        (each of these statements runs in one PostgreSQL process): the rollups summed by as many
        connections as there were worker processes, a run of days each, while as many more
        vacuum the loaded tables, the largest first, then check their keys (VALIDATE
        CONSTRAINT); then the rollups vacuumed. None of them waits for another's locks: a table
        is vacuumed, and its keys checked, by one connection at a time, and the rollups only
        read the loaded tables (the rollups' key, added again after them, locks the categories
        against writes, which none of the others make)."""
        self.say(
            f"vacuuming, checking the foreign keys and computing the dashboards' daily rollups "
            f"({2 * self.workers} connections)"
        )
        tables = sorted(TABLES, key=lambda table: -_table_bytes(table))
        with ThreadPoolExecutor(1) as aside:
            checked = aside.submit(_tables_finish, tables, keys, self.workers)
            rollups = rollups_refresh_in_sql(first=first, last=last, now=self.end, connections=self.workers)
            _keys_add(rollup_keys)
            _vacuum(["dashboards_dailyrollup"])
            checked.result()
        return rollups


def _table_bytes(table):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(SUM(pg_table_size(relid)), 0) FROM pg_partition_tree(%s::regclass) WHERE isleaf", [table]
        )
        return cursor.fetchone()[0]


def _tables_finish(tables, keys, connections):
    """Every loaded table vacuumed, then its foreign keys added unchecked checked, by
    `connections` at once. Vacuumed first: with the visibility maps set, each check is a merge of
    two indexes read alone (for a partitioned table, one per partition), not a scan of the
    table the key refers to per partition."""
    with ThreadPoolExecutor(connections) as pool:
        list(pool.map(lambda table: in_own_connection(_vacuum_one, table), tables))
        list(pool.map(lambda table: in_own_connection(_keys_check, table, keys), tables))


def _vacuum_one(table):
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM {table}")


def _keys_check(table, keys):
    for key in keys:
        if key.table == table:
            with transaction.atomic(), connection.cursor() as cursor:
                # The check is one join, in the memory the index builds had.
                cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
                cursor.execute(f'ALTER TABLE {table} VALIDATE CONSTRAINT "{key.name}"')


def _keys_add(keys, *, missing_only=False):
    """Add `keys` again, each checking every row at once; with `missing_only`, those not there."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for key in keys:
            if missing_only:
                cursor.execute("SELECT 1 FROM pg_constraint WHERE conname = %s", [key.name])
                if cursor.fetchone():
                    continue
            cursor.execute(key.add())


def _vacuum(tables):
    """Statistics for the planner, and the visibility map set: PostgreSQL without autovacuum (this
    machine's) would otherwise have no statistics, and its index-only scans would read the heap
    until a vacuum. VACUUM cannot run in a transaction (the tests' own): there, ANALYZE alone."""
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"{command} {table}")


# The generator the worker processes compute chunks for (inherited when they are forked).
_RUNNING = None


def _chunk_in_worker(index):
    return _RUNNING.chunk(index)


@contextlib.contextmanager
def _chunks(generator):
    """The chunks' rows in order, computed by worker processes while this one loads the earlier
    ones. The workers are forked: they inherit the world read from the database and never use
    the database themselves (a query by mistake would open a connection of its own)."""
    global _RUNNING
    count = math.ceil(generator.size / generator.chunk_size)
    if generator.workers == 1 or count == 1:
        yield (generator.chunk(index) for index in range(count))
        return
    _RUNNING = generator
    try:
        with warnings.catch_warnings():
            # Python warns that forking a process with threads (the connection pool's) may deadlock
            # the child. These children only compute: they never touch a lock those threads take,
            # and they forget the parent's connection and pool at the fork (suqu/forking.py).
            warnings.filterwarnings("ignore", "This process .* is multi-threaded", DeprecationWarning)
            pool = multiprocessing.get_context("fork").Pool(generator.workers)
        with pool:
            yield _in_order(pool, count, ahead=2 * generator.workers)
    finally:
        _RUNNING = None


def _in_order(pool, count, *, ahead):
    """The chunks' results in order, with at most `ahead` computed but not yet loaded (a slow
    COPY must not pile finished chunks up in memory)."""
    pending, submitted = collections.deque(), 0
    while submitted < count or pending:
        while submitted < count and len(pending) < ahead:
            pending.append(pool.apply_async(_chunk_in_worker, (submitted,)))
            submitted += 1
        yield pending.popleft().get()


# Tables whose ids PostgreSQL gives (their identity column, from 1, in the order the rows go
# in): a chunk's rows are written without them. Cases and calls carry their final ids.
GIVEN_IDS = [table for table in NUMBERED if table not in ("cases_case", "intake_call")]
# Columns (of the rows without their own id) holding the id of an assignment the chunk numbered
# from 1: shifted past the assignments of the chunks before it as they are loaded.
_LOCAL_REFERENCES = {"routing_alert": 0, "routing_supervision": 1}


def _columns(table):
    columns = TABLES[table].split()
    return columns[1:] if table in GIVEN_IDS else columns


def _formatted(tables):
    """A chunk's rows ready for COPY, made in the worker: as COPY's text, or for the tables that
    refer to the chunk's own assignments, as tuples for `_load` to shift."""
    formatted = {}
    formatter = TextFormatter(Transformer())
    for table, rows in tables.items():
        if table in GIVEN_IDS:
            rows = [row[1:] for row in rows]
        if table in _LOCAL_REFERENCES:
            formatted[table] = (len(rows), rows)
            continue
        text = [formatter.write_row(row) for row in rows]
        text.append(formatter.end())
        formatted[table] = (len(rows), b"".join(text))
    return formatted


def _load(cursor, tables, totals):
    """COPY a chunk's rows in, after those of the chunks before it; counts them in `totals`."""
    for table, (count, rows) in tables.items():
        if count:
            names = ", ".join(f'"{column}"' for column in _columns(table))
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                if isinstance(rows, bytes):
                    copy.write(rows)
                else:
                    column, offset = _LOCAL_REFERENCES[table], totals["routing_assignment"]
                    for row in rows:
                        copy.write_row((*row[:column], row[column] + offset, *row[column + 1 :]))
    for table, (count, _rows) in tables.items():
        totals[table] += count


def _bar(done, total, width=30):
    filled = int(width * done / total) if total else width
    return f"[{'#' * filled}{'.' * (width - filled)}] {100 * done // max(total, 1):3d}%"


def _indexes_drop() -> list[str]:
    """Drop the non-unique secondary indexes of the loaded tables; returns the statements that
    build them again. (Unique indexes stay: they guard the data as it goes in.)"""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.relname, pg_get_indexdef(x.indexrelid)
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_class t ON t.oid = x.indrelid
            WHERE t.relname = ANY(%s) AND NOT x.indisunique AND NOT x.indisprimary
            """,
            [list(TABLES)],
        )
        found = cursor.fetchall()
        for name, _definition in found:
            cursor.execute(f'DROP INDEX "{name}"')
    # A partitioned table's index reads `ON ONLY` the parent: made again on every partition.
    return [definition.replace(" ON ONLY ", " ON ") for _name, definition in found]


@dataclass(frozen=True)
class ForeignKey:
    table: str
    name: str
    definition: str
    partitioned: bool

    def can_wait(self):
        """Whether the key can be added unchecked (NOT VALID) and checked later."""
        return not self.partitioned or connection.pg_version >= 180000

    def add(self, *, checked=True):
        return f'ALTER TABLE {self.table} ADD CONSTRAINT "{self.name}" {self.definition}' + (
            "" if checked else " NOT VALID"
        )


def _foreign_keys_drop(tables) -> list[ForeignKey]:
    """Drop the foreign keys of `tables`; returns them, to be added again after the load, each
    checking every row at once (a join) instead of one look-up per row as it goes in. Until the
    commit, the tables they refer to (cases, users, units, categories, places) take no writes
    from others."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.relname, c.conname, pg_get_constraintdef(c.oid), t.relkind = 'p'
            FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
            WHERE t.relname = ANY(%s) AND c.contype = 'f'
            """,
            [list(tables)],
        )
        found = [ForeignKey(*row) for row in cursor.fetchall()]
        for key in found:
            cursor.execute(f'ALTER TABLE {key.table} DROP CONSTRAINT "{key.name}"')
    return found
