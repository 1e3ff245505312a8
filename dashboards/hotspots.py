"""Hotspots (未呼先应) and the month's most frequent problems (每月一题).

A hotspot is the same category of request received at least N times in the last M days in one
grid or one community. The counts are sums of the daily rollups (`received`), so a hotspot
costs a grouped query whatever the number of cases; an official or a dispatcher turns one into a
proactive case that the routing rules dispatch like any other (`hotspot_promote`).
"""

import datetime
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Q, Sum
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.errors import InvalidInput, NotPermitted
from cases.models import Case, Category, Channel
from dashboards.models import DailyRollup
from dashboards.selectors import same_days_before, so_far
from feedback import metrics
from grids.models import Region
from intake.services import case_open_proactive
from units.permissions import may_promote_hotspot

# The defaults of the page's `n`, `days` and `level`. A grid is small, so three of the same
# problem in a month already says something; a community gathers several grids, so it takes five.
DEFAULT_LEVEL = "grid"
DEFAULT_DAYS = 30
DEFAULT_THRESHOLD = {"grid": 3, "community": 5}
LEVELS = tuple(DEFAULT_THRESHOLD)
# The bounds the page accepts: beyond a quarter the rollups of old days make a hotspot of
# anything, and a threshold of 1 would list every case.
MIN_THRESHOLD, MAX_THRESHOLD = 2, 1000
MIN_DAYS, MAX_DAYS = 1, 92
# At most this many hotspots are listed, the most frequent first.
LIMIT = 100
# 每月一题: how many category kinds the month's list holds.
TOP_PROBLEMS = 10


def window(days: int, today: datetime.date | None = None) -> metrics.Period:
    """The last `days` days, today included."""
    today = today or timezone.localdate()
    return metrics.Period(today - datetime.timedelta(days=days - 1), today)


@dataclass
class Hotspot:
    code: str  # the grid's or the community's code
    name: str
    category: Category
    count: int  # cases received in the window
    trend: list = field(default_factory=list)  # cases received on each day of the window
    # Cases received in the later half of the window minus the earlier half: > 0 is growing.
    change: int = 0
    # The place's representative point (WGS-84), for the maps; None while it has no boundary.
    latitude: float | None = None
    longitude: float | None = None

    @property
    def level(self):
        return "grid" if len(self.code) == metrics.REGION_LEVELS["grid"] else "community"


def hotspots(
    *, level=DEFAULT_LEVEL, threshold=None, days=DEFAULT_DAYS, prefixes=None, today=None, limit=LIMIT, trend=True
) -> list[Hotspot]:
    """The grids (or communities) × categories with at least `threshold` cases received in the
    last `days` days, the most frequent first, at most `limit`; `prefixes` keeps those inside
    these areas (None: the whole district). Four queries whatever the number of hotspots: the
    grouped counts, one grouped daily trend for all of them, the places' names and points, and the
    categories; three with `trend=False` (a map: each hotspot's `trend` is empty, `change` 0)."""
    threshold = threshold or DEFAULT_THRESHOLD[level]
    period = window(days, today)
    length = metrics.REGION_LEVELS[level]
    rows = DailyRollup.objects.filter(day__gte=period.first, day__lte=period.last)
    if prefixes is not None:
        area = Q(pk__in=[])
        for prefix in prefixes:
            area |= Q(grid__startswith=prefix)
        rows = rows.filter(area)
    rows = rows.annotate(place=Substr("grid", 1, length))
    found = list(
        rows.values("place", "category")
        .annotate(n=Sum("received"))
        .filter(n__gte=threshold)
        .order_by("-n", "place", "category")[:limit]
    )
    if not found:
        return []
    wanted = {(row["place"], row["category"]) for row in found}
    daily = _daily(rows, wanted) if trend else {}
    places = {
        code: (name, latitude, longitude)
        for code, name, latitude, longitude in Region.objects.filter(
            code__in={place for place, _c in wanted}
        ).values_list("code", "name", "latitude", "longitude")
    }
    categories = Category.objects.select_related("parent").in_bulk({c for _p, c in wanted})
    days_of = [period.first + datetime.timedelta(days=offset) for offset in range(days)]
    result = []
    for row in found:
        key = (row["place"], row["category"])
        daily_counts = [daily.get((key, day), 0) for day in days_of] if trend else []
        half = days // 2 if trend else 0
        name, latitude, longitude = places.get(row["place"], (row["place"], None, None))
        result.append(
            Hotspot(
                code=row["place"],
                name=name,
                category=categories[row["category"]],
                count=row["n"],
                trend=daily_counts,
                change=sum(daily_counts[days - half :]) - sum(daily_counts[: days - half]) if half else 0,
                latitude=None if latitude is None else float(latitude),
                longitude=None if longitude is None else float(longitude),
            )
        )
    return result


def _daily(rows, wanted) -> dict:
    """{((place, category), day): cases received} for the hotspots `wanted`: one grouped query."""
    daily = {}
    for row in (
        rows.filter(place__in={place for place, _c in wanted}, category__in={c for _p, c in wanted})
        .values("place", "category", "day")
        .annotate(n=Sum("received"))
        .order_by()
    ):
        key = (row["place"], row["category"])
        if key in wanted:
            daily[key, row["day"]] = row["n"]
    return daily


def _lock(code, category):
    # Two officials promoting the same hotspot at the same moment take turns, so the second one
    # sees the first one's case and is refused.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"dashboards.hotspot:{code}:{category.pk}"])


def promoted_case(*, code, category, days=DEFAULT_DAYS, now=None) -> Case | None:
    """The proactive case that already answers this hotspot, if any: one of the category in the
    place opened in the last `days` days, or still open however old."""
    now = now or timezone.now()
    return (
        Case.objects.filter(channel=Channel.PROACTIVE, category=category, grid__code__startswith=code)
        .filter(Q(created_at__gte=now - datetime.timedelta(days=days)) | Q(status__in=Case.OPEN_STATUSES))
        .order_by("-created_at")
        .first()
    )


def hotspot_promote(*, actor, grid_or_community_code, category, note="", grid=None, days=DEFAULT_DAYS) -> Case:
    """Turn a hotspot into a proactive case (channel "proactive"), opened through intake's
    service, which queues its dispatch by the routing rules after the commit.

    Keeps one proactive case per hotspot per `days` days: a second promotion is refused while a
    proactive case of that category in that place is open, or was opened in the last `days` days.
    The case goes to `grid` (a community-level hotspot: one of the community's grids; by default
    its first grid by code), and its description says what recurred and adds the `note`.
    """
    if not may_promote_hotspot(actor):
        raise NotPermitted(_("Only the district centre and the district leadership open proactive cases."))
    code = (grid_or_community_code or "").strip()
    place = Region.objects.filter(code=code, level__in=[Region.Level.GRID, Region.Level.COMMUNITY]).first()
    if place is None:
        raise InvalidInput(_("Choose a grid or a community."), "code")
    if category is None or category.parent_id is None:
        raise InvalidInput(_("Choose a category kind."), "category")
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise InvalidInput(_("Choose between %(low)s and %(high)s days.") % {"low": MIN_DAYS, "high": MAX_DAYS}, "days")
    grid = _grid_for(place, grid)
    now = timezone.now()
    since = now - datetime.timedelta(days=days)
    with transaction.atomic():
        _lock(place.code, category)
        earlier = promoted_case(code=place.code, category=category, days=days, now=now)
        if earlier is not None:
            raise InvalidInput(
                _(
                    "This hotspot is already case %(number)s, opened on %(date)s. It can become a proactive "
                    "case again once that case is closed and %(days)s days have passed since it was opened."
                )
                % {
                    "number": earlier.number,
                    "date": f"{timezone.localtime(earlier.created_at):%Y-%m-%d}",
                    "days": days,
                },
                "code",
            )
        count = Case.objects.filter(category=category, grid__code__startswith=place.code, created_at__gte=since).count()
        description = _(
            "Proactive case: %(count)s cases of “%(category)s” were received in %(place)s in the last %(days)s days."
        ) % {"count": count, "category": category.name, "place": place.name, "days": days}
        if note.strip():
            description = f"{description}\n{note.strip()}"
        return case_open_proactive(actor=actor, category=category, grid=grid, description=description)


def _grid_for(place, grid):
    if place.level == Region.Level.GRID:
        if grid is not None and grid.code != place.code:
            raise InvalidInput(_("A grid hotspot's case goes to that grid."), "grid")
        return place
    if grid is None:
        grid = Region.objects.filter(level=Region.Level.GRID, code__startswith=place.code).order_by("code").first()
        if grid is None:
            raise InvalidInput(_("The community has no grid to give the case to."), "grid")
        return grid
    if grid.level != Region.Level.GRID or not grid.code.startswith(place.code):
        raise InvalidInput(_("Choose one of the community's grids."), "grid")
    return grid


@dataclass
class Problem:
    rank: int
    category: Category
    count: int
    previous: int
    previous_rank: int | None  # None: not among last month's TOP_PROBLEMS

    @property
    def change(self):
        return self.count - self.previous


def monthly_problems(
    month: str, *, limit=TOP_PROBLEMS, today: datetime.date | None = None
) -> tuple[metrics.Period, list[Problem]]:
    """每月一题: the district's `limit` category kinds with the most cases received in `month`,
    with the count and rank of the same days of last month beside each: a month still running
    counts its 1st to today against the 1st to the same day of the month before (six days against
    six, not against a whole month); a past month against the whole month before. Returns the
    days counted and the problems; `same_days_before(period)` is the days compared with. Three
    queries."""
    period = so_far(metrics.Period.month(month), today)
    before = same_days_before(period)

    def counted(span):
        return (
            DailyRollup.objects.filter(day__gte=span.first, day__lte=span.last)
            .values("category")
            .annotate(n=Sum("received"))
            .filter(n__gt=0)
            .order_by("-n", "category")
        )

    top = list(counted(period)[:limit])
    previous = list(counted(before))
    previous_count = {row["category"]: row["n"] for row in previous}
    previous_rank = {row["category"]: position for position, row in enumerate(previous[:limit], start=1)}
    categories = Category.objects.select_related("parent").in_bulk([row["category"] for row in top])
    return period, [
        Problem(
            rank=position,
            category=categories[row["category"]],
            count=row["n"],
            previous=previous_count.get(row["category"], 0),
            previous_rank=previous_rank.get(row["category"]),
        )
        for position, row in enumerate(top, start=1)
    ]
