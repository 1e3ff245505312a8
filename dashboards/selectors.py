"""Reads for the dashboards: sums of the daily rollups, and the few figures that are a state of
now rather than a count over a period (open, overdue, supervised), read from the live indexes.

Every function takes a region code prefix ("210111" is the district) and a `Period`; the rates
come from `feedback.metrics.Figures`, so a figure means the same on every page.
"""

import calendar as month_calendar
import datetime
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import Substr
from django.utils import timezone

from cases.models import Case, Category
from dashboards.models import COUNTS, DailyRollup
from escalation.models import Supervision
from feedback import metrics
from feedback.models import FeedbackSettings
from grids.models import Region
from routing.models import Assignment
from routing.selectors import cases_for
from units.models import Unit
from units.selectors import postings_for

CHILD_LEVEL = {"district": "street", "street": "community", "community": "grid"}
SUM_COLUMNS = (*COUNTS, "handling_seconds")
SUMS = {name: Sum(name) for name in SUM_COLUMNS}


def _figures(sums, policy) -> metrics.Figures:
    figures = metrics.Figures(
        basically_value=float(policy.basically_value),
        weights=(policy.weight_response, policy.weight_resolution, policy.weight_satisfaction),
    )
    for name, value in sums.items():
        if name in figures.__dataclass_fields__:
            setattr(figures, name, value or 0)
    return figures


def _rollups(period, prefix="", unit=None):
    rows = DailyRollup.objects.filter(day__gte=period.first, day__lte=period.last)
    if prefix:
        rows = rows.filter(grid__startswith=prefix)
    if unit is not None:
        rows = rows.filter(unit=unit)
    return rows


def late_leads(now):
    """Active lead assignments past a deadline: the case list's `overdue` filter, the same rule."""
    return Assignment.objects.filter(role=Assignment.Role.LEAD, state__in=Assignment.ACTIVE_STATES).filter(
        Q(state=Assignment.State.WAITING, sign_due__lt=now)
        | Q(contacted_at__isnull=True, contact_due__lt=now)
        | Q(resolve_due__lt=now)
    )


def _live(prefix, key=None):
    """Open, overdue and supervised cases now, in one query, grouped by `key` if given."""
    now = timezone.now()
    cases = Case.objects.filter(status__in=Case.OPEN_STATUSES)
    if prefix:
        cases = cases.filter(grid__code__startswith=prefix)
    supervised = Supervision.objects.filter(
        case=OuterRef("pk"), ended_at__isnull=True, assignment__state__in=Assignment.ACTIVE_STATES
    )
    counts = {
        "open": Count("id"),
        "overdue": Count("id", filter=Q(Exists(late_leads(now).filter(case=OuterRef("pk"))))),
        "supervised": Count("id", filter=Q(Exists(supervised))),
    }
    if key is None:
        return cases.aggregate(**counts)
    return {
        row.pop("key"): row
        for row in cases.annotate(key=Substr("grid", 1, key)).values("key").annotate(**counts).order_by()
    }


@dataclass
class Summary:
    figures: metrics.Figures
    open: int
    overdue: int
    supervised: int


def summary(*, prefix, period) -> Summary:
    policy = FeedbackSettings.load()
    figures = _figures(_rollups(period, prefix).aggregate(**SUMS), policy)
    return Summary(figures, **_live(prefix))


@dataclass
class Child:
    code: str
    name: str
    figures: metrics.Figures
    open: int = 0
    overdue: int = 0
    supervised: int = 0


def children(*, region, period, codes=None) -> list[Child]:
    """The region's children (streets of the district, …) with their figures, in code order."""
    level = CHILD_LEVEL[region.level]
    length = metrics.REGION_LEVELS[level]
    kids = Region.objects.filter(parent=region).order_by("code")
    if codes is not None:
        kids = kids.filter(code__in=codes)
    names = dict(kids.values_list("code", "name"))
    policy = FeedbackSettings.load()
    sums = {
        row.pop("key"): row
        for row in _rollups(period, region.code)
        .annotate(key=Substr("grid", 1, length))
        .values("key")
        .annotate(**SUMS)
        .order_by()
    }
    live = _live(region.code, key=length)
    return [
        Child(code, name, _figures(sums.get(code, {}), policy), **live.get(code, {})) for code, name in names.items()
    ]


def _trend(by_day, period) -> list[tuple]:
    days = []
    day = period.first
    while day <= period.last:
        row = by_day.get(day, {})
        days.append((day, int(row.get("calls") or 0), int(row.get("received") or 0), int(row.get("closed") or 0)))
        day = day.fromordinal(day.toordinal() + 1)
    return days


def _category_mix(by_category) -> list[tuple]:
    """(category class, cases received) from the most frequent down; classes with none left out."""
    received = {pk: row["received"] for pk, row in by_category.items() if row.get("received")}
    classes = {}
    for category in Category.objects.filter(pk__in=received).select_related("parent"):
        top = category.parent or category
        classes[top.name] = classes.get(top.name, 0) + int(received[category.pk])
    return sorted(classes.items(), key=lambda item: (-item[1], item[0]))


def _channel_mix(by_channel) -> list[tuple]:
    """(channel label, cases received), the most frequent first."""
    labels = dict(Case._meta.get_field("channel").choices)
    rows = sorted(
        ((channel, int(row["received"])) for channel, row in by_channel.items() if row.get("received")),
        key=lambda item: (-item[1], item[0]),
    )
    return [(labels.get(channel, channel), n) for channel, n in rows]


@dataclass
class Sets:
    """The sums of a place's rollups over a period, grouped four ways in one pass."""

    by_day: dict
    by_key: dict
    by_category: dict
    by_channel: dict


def _sets(period, prefix, length) -> Sets:
    """One scan of the period's rollup rows under `prefix`, summed by day, by grid code cut to
    `length`, by category and by channel (GROUPING SETS): the overview page needs all four, and
    a month of the district is about a hundred thousand rows, too many to read five times."""
    table = DailyRollup._meta.db_table
    key = f"left(grid, {int(length)})"
    sums = ", ".join(f"SUM({name})" for name in SUM_COLUMNS)
    sql = (
        f"SELECT GROUPING(day), GROUPING({key}), GROUPING(category_id), day, {key}, category_id, channel, {sums} "
        f"FROM {table} WHERE day >= %s AND day <= %s AND grid LIKE %s "
        f"GROUP BY GROUPING SETS ((day), ({key}), (category_id), (channel))"
    )
    found = Sets({}, {}, {}, {})
    with connection.cursor() as cursor:
        cursor.execute(sql, [period.first, period.last, prefix.replace("%", "") + "%"])
        for no_day, no_key, no_category, day, code, category, channel, *values in cursor.fetchall():
            row = dict(zip(SUM_COLUMNS, values, strict=True))
            if not no_day:
                found.by_day[day] = row
            elif not no_key:
                found.by_key[code] = row
            elif not no_category:
                found.by_category[category] = row
            else:
                found.by_channel[channel] = row
    return found


RANKED_UNIT_KINDS = {
    "street": (Unit.Kind.STREET_OFFICE,),
    "department": (Unit.Kind.DEPARTMENT, Unit.Kind.UTILITY),
}


# What each ranked level's figures count (docs/metrics.md, "Who a figure belongs to"): the streets
# by place (属地), the departments and utilities by handling unit (承办单位).
BASIS = {"street": "place", "department": "unit"}


def ranked_figures(*, level, period) -> list[tuple]:
    """(unit, figures) for every active unit of a ranked level ("street" or "department"), in code
    order: the departments' own lead work (`unit_figures`); the streets by place
    (`place_figures`), each street office standing for its street. Two queries."""
    kinds = RANKED_UNIT_KINDS[level]
    if BASIS[level] == "unit":
        return unit_figures(kinds=kinds, period=period)
    offices = list(
        Unit.objects.filter(is_active=True, kind__in=kinds, region__isnull=False)
        .select_related("region")
        .order_by("code")
    )
    figures = place_figures(codes=[office.region.code for office in offices], period=period)
    return [(office, figures[office.region.code]) for office in offices]


def unit_figures(*, kinds, period) -> list[tuple]:
    """(unit, figures) for every active unit of `kinds`, from the rollups of their lead work."""
    units = list(Unit.objects.filter(is_active=True, kind__in=kinds).order_by("code"))
    policy = FeedbackSettings.load()
    sums = {
        row.pop("unit"): row
        for row in _rollups(period)
        .filter(unit__in=[unit.code for unit in units])
        .values("unit")
        .annotate(**SUMS)
        .order_by()
    }
    result = []
    for unit in units:
        figures = _figures(sums.get(unit.code, {}), policy)
        figures.received = figures.dispatched
        result.append((unit, figures))
    return result


def place_figures(*, codes, period) -> dict[str, metrics.Figures]:
    """{place code: figures} for places of one level (streets, communities, grids), by place:
    everything that happened to the cases registered in the place, whichever unit led them (the
    definition of `feedback.metrics.rows_for` at a place's level, read from the rollups). One
    query; a place with nothing has zeros."""
    codes = list(codes)
    policy = FeedbackSettings.load()
    lengths = {len(code) for code in codes}
    if not codes:
        return {}
    if len(lengths) != 1:
        raise ValueError("place_figures: codes of one level only")
    length = lengths.pop()
    sums = {
        row.pop("key"): row
        for row in _rollups(period)
        .annotate(key=Substr("grid", 1, length))
        .filter(key__in=codes)
        .values("key")
        .annotate(**SUMS)
        .order_by()
    }
    return {code: _figures(sums.get(code, {}), policy) for code in codes}


# --- comparing periods: like with like -----------------------------------------------------------


def _month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def _month_end(day: datetime.date) -> datetime.date:
    return day.replace(day=month_calendar.monthrange(day.year, day.month)[1])


def so_far(period: metrics.Period, today: datetime.date | None = None) -> metrics.Period:
    """The days of `period` that have begun: a month still running is its 1st to today (the later
    days have nothing yet, and comparing them would compare nothing with something)."""
    today = today or timezone.localdate()
    if period.first <= today < period.last:
        return metrics.Period(period.first, today)
    return period


def same_days_before(period: metrics.Period) -> metrics.Period:
    """The period a month's figures are compared with: the same days of the month before.

    A whole month is compared with the whole month before it (31 March with 28 February: whole
    months); days 1..N of a month with days 1..N of the month before, N cut to that month's length
    (1–30 March with 1–28 February). Any other range of days is compared with as many days just
    before it."""
    if period.first.day == 1 and period.first.month == period.last.month and period.first.year == period.last.year:
        before = _month_start(period.first - datetime.timedelta(days=1))
        if period.last == _month_end(period.last):
            return metrics.Period(before, _month_end(before))
        return metrics.Period(
            before, min(before.replace(day=1) + datetime.timedelta(days=period.last.day - 1), _month_end(before))
        )
    days = (period.last - period.first).days + 1
    return metrics.Period(period.first - datetime.timedelta(days=days), period.first - datetime.timedelta(days=1))


@dataclass
class Comparison:
    """A place's figures for a period and for the period it is compared with (same_days_before)."""

    period: metrics.Period
    previous_period: metrics.Period
    figures: metrics.Figures
    previous: metrics.Figures

    def change(self, name):
        """This period's figure minus the compared one's; None when either has no value."""
        now, then = getattr(self.figures, name), getattr(self.previous, name)
        return None if now is None or then is None else now - then


def month_comparison(*, prefix, today: datetime.date | None = None) -> Comparison:
    """The month so far (its 1st to today) of the place `prefix` ("210111" is the district)
    against the same days of last month: the official's 三率 against last month. Two queries."""
    today = today or timezone.localdate()
    period = metrics.Period(_month_start(today), today)
    previous_period = same_days_before(period)
    policy = FeedbackSettings.load()
    return Comparison(
        period=period,
        previous_period=previous_period,
        figures=_figures(_rollups(period, prefix).aggregate(**SUMS), policy),
        previous=_figures(_rollups(previous_period, prefix).aggregate(**SUMS), policy),
    )


def dashboard_roots_for(user) -> list[Region]:
    """The places whose dashboard the user may open: the district for dispatchers and officials;
    their street or community for the staff of a street office or a committee; nothing for grid
    workers, departments and everyone else (a grid worker has no district dashboard)."""
    postings = postings_for(user)
    if postings.district_wide:
        return list(Region.objects.filter(level=Region.Level.DISTRICT))
    codes = {region for _code, kind, region, _role in postings.units if kind in Unit.TERRITORIAL and region}
    return list(Region.objects.filter(code__in=codes).order_by("code"))


def may_open(user, region) -> bool:
    """Whether `region`'s dashboard lies inside one of the user's roots."""
    return any(region.code.startswith(root.code) for root in dashboard_roots_for(user))


# --- the overview pages: a place's children and grandchildren in a few grouped queries ---------


@dataclass
class Place(Child):
    """A place's figures with the calls taken there (the rollups count calls; `Figures` does not)."""

    calls: int = 0

    @property
    def overdue_rate(self):
        """The share of the open cases that are overdue now; None when nothing is open."""
        return self.overdue / self.open if self.open else None


LIVE = ("open", "overdue", "supervised")


@dataclass
class Overview:
    summary: Summary
    trend: list
    categories: list
    channels: list
    places: dict


def overview(*, region, period, levels=()) -> Overview:
    """Everything a place's overview page shows, in a fixed handful of queries: one grouped
    pass over the rollups (`_sets`), one grouped count of the live cases, the names."""
    deepest = max((metrics.REGION_LEVELS[level] for level in levels), default=len(region.code))
    sets = _sets(period, region.code, deepest)
    live = _live(region.code, key=deepest)
    policy = FeedbackSettings.load()
    totals = _added_up(list(sets.by_key.values()))
    now = _added_up(list(live.values()))
    summary = Summary(_figures(totals, policy), **{figure: int(now.get(figure, 0)) for figure in LIVE})
    return Overview(
        summary=summary,
        trend=_trend(sets.by_day, period),
        categories=_category_mix(sets.by_category),
        channels=_channel_mix(sets.by_channel),
        places=_places(region, levels, sets.by_key, live, policy) if levels else {},
    )


def _added_up(rows) -> dict:
    total = {}
    for row in rows:
        for name, value in row.items():
            total[name] = total.get(name, 0) + (value or 0)
    return total


def _places(region, levels, sums, live, policy) -> dict[str, list[Place]]:
    """The places of `levels` under `region` from sums and live counts keyed by the deepest
    level's codes; the shallower levels are added up from the deeper keys, since every count is
    a sum."""
    lengths = {level: metrics.REGION_LEVELS[level] for level in levels}
    places = list(
        Region.objects.filter(code__startswith=region.code, level__in=list(levels))
        .order_by("code")
        .values_list("code", "level", "name")
    )
    totals = {}
    for key, row in [*sums.items(), *live.items()]:
        for length in set(lengths.values()):
            bucket = totals.setdefault(key[:length], {})
            for name, value in row.items():
                bucket[name] = bucket.get(name, 0) + (value or 0)
    result = {level: [] for level in levels}
    for code, level, place_name in places:
        counts = totals.get(code, {})
        result[level].append(
            Place(
                code,
                place_name,
                _figures(counts, policy),
                **{figure: int(counts.get(figure, 0)) for figure in LIVE},
                calls=int(counts.get("calls", 0)),
            )
        )
    return result


# --- the maps: cases as points -----------------------------------------------------------------

# At most this many cases are drawn as points on one map (the most recent first); the page says
# how many more there are, and the case list holds them all.
MAP_POINTS = 500


def _point(row) -> tuple[float, float, str] | None:
    """(latitude, longitude, where from): the case's own point if it has one, else its grid's
    representative point; None when neither is known (the grid has no boundary yet)."""
    if row["latitude"] is not None and row["longitude"] is not None:
        return float(row["latitude"]), float(row["longitude"]), "case"
    if row["grid__latitude"] is not None and row["grid__longitude"] is not None:
        return float(row["grid__latitude"]), float(row["grid__longitude"]), "grid"
    return None


STATUS_LABELS = dict(Case.Status.choices)
POINT_FIELDS = (
    "number",
    "status",
    "title",
    "latitude",
    "longitude",
    "grid_id",
    "grid__name",
    "grid__latitude",
    "grid__longitude",
    "category__name",
)


def _case_points(cases, limit=None, *, total=None) -> tuple[list[dict], int]:
    """The cases as points, the most recent first, at most `limit` (MAP_POINTS, read when called),
    and how many there are in all: `total` when the caller has counted them, else counted here,
    a second query only when there are more than `limit`."""
    limit = MAP_POINTS if limit is None else limit
    rows = list(cases.order_by("-created_at", "-pk").values(*POINT_FIELDS, "late")[: limit + (total is None)])
    if total is None:
        total = len(rows) if len(rows) <= limit else cases.count()
    points = []
    for row in rows[:limit]:
        point = _point(row)
        points.append(
            {
                "number": row["number"],
                "status": row["status"],
                "status_label": str(STATUS_LABELS.get(row["status"], row["status"])),
                "title": row["title"],
                "category": row["category__name"],
                "grid": row["grid_id"],
                "grid_name": row["grid__name"],
                "late": bool(row["late"]),
                "lat": point[0] if point else None,
                "long": point[1] if point else None,
                "located": point[2] if point else None,
            }
        )
    return points, total


def supervised_points(*, user, prefix, limit=None) -> tuple[list[dict], int]:
    """The open cases under `prefix` supervised now (督办: the same rule as the supervised figure)
    that `user` may read, as points; one query."""
    supervised = Supervision.objects.filter(
        case=OuterRef("pk"), ended_at__isnull=True, assignment__state__in=Assignment.ACTIVE_STATES
    )
    cases = (
        cases_for(user)
        .filter(status__in=Case.OPEN_STATUSES, grid__code__startswith=prefix)
        .filter(Exists(supervised))
        .annotate(late=Exists(late_leads(timezone.now()).filter(case=OuterRef("pk"))))
    )
    return _case_points(cases, limit)


def open_cases_in_grids(*, user, grids, limit=None) -> tuple[list[dict], dict[str, int]]:
    """A grid worker's open cases in their grids (inside what `user` may read), each marked late
    when its lead unit has missed a deadline, as points (at most `limit`, the most recent), and
    how many are open in each grid: {grid code: n}, all of them, not only those drawn (their sum
    is the total). Two queries: the grouped count and the points."""
    cases = cases_for(user).filter(status__in=Case.OPEN_STATUSES, grid__code__in=list(grids))
    counts = dict(cases.order_by().values("grid_id").annotate(n=Count("id")).values_list("grid_id", "n"))
    late = Exists(late_leads(timezone.now()).filter(case=OuterRef("pk")))
    points, _total = _case_points(cases.annotate(late=late), limit, total=sum(counts.values()))
    return points, counts
