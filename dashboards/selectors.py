"""Reads for the dashboards: sums of the daily rollups, and the few figures that are a state of
now rather than a count over a period (open, overdue, supervised), read from the live indexes.

Every function takes a region code prefix ("210111" is the district) and a `Period`; the rates
come from `feedback.metrics.Figures`, so a figure means the same on every page.
"""

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import Substr
from django.utils import timezone

from cases.models import Case, Category
from dashboards.models import COUNTS, DailyRollup
from feedback import metrics
from feedback.models import FeedbackSettings
from grids.models import Region
from routing.models import Assignment, Supervision, Unit
from routing.selectors import postings_for

CHILD_LEVEL = {"district": "street", "street": "community", "community": "grid"}
SUMS = {name: Sum(name) for name in (*COUNTS, "handling_seconds")}


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


def trend(*, prefix, period) -> list[tuple]:
    """(day, received, closed, overdue_unresolved) for every day of the period, zeros included."""
    rows = {
        row["day"]: row
        for row in _rollups(period, prefix)
        .values("day")
        .annotate(received=Sum("received"), closed=Sum("closed"), calls=Sum("calls"))
        .order_by()
    }
    days = []
    day = period.first
    while day <= period.last:
        row = rows.get(day, {})
        days.append((day, row.get("calls") or 0, row.get("received") or 0, row.get("closed") or 0))
        day = day.fromordinal(day.toordinal() + 1)
    return days


def category_mix(*, prefix, period) -> list[tuple]:
    """(category class, cases received) from the most frequent down; classes with none left out."""
    by_category = dict(
        _rollups(period, prefix)
        .values("category")
        .annotate(n=Sum("received"))
        .filter(n__gt=0)
        .values_list("category", "n")
        .order_by()
    )
    classes = {}
    for category in Category.objects.filter(pk__in=by_category).select_related("parent"):
        top = category.parent or category
        classes[top.name] = classes.get(top.name, 0) + by_category[category.pk]
    return sorted(classes.items(), key=lambda item: (-item[1], item[0]))


def channel_mix(*, prefix, period) -> list[tuple]:
    """(channel label, cases received), the most frequent first."""
    labels = dict(Case._meta.get_field("channel").choices)
    rows = (
        _rollups(period, prefix).values("channel").annotate(n=Sum("received")).filter(n__gt=0).order_by("-n", "channel")
    )
    return [(labels.get(row["channel"], row["channel"]), row["n"]) for row in rows]


RANKED_UNIT_KINDS = {
    "street": (Unit.Kind.STREET_OFFICE,),
    "department": (Unit.Kind.DEPARTMENT, Unit.Kind.UTILITY),
}


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


def places_under(*, region, period, levels) -> dict[str, list[Place]]:
    """{level: the places of that level under `region`, in code order, with their figures}.

    Four queries whatever the number of places and levels (names, policy, one grouped sum of the
    rollups and one grouped count of the live cases, both cut at the deepest level asked for);
    the shallower levels are added up from the deeper keys, since every count is a sum.
    """
    lengths = {level: metrics.REGION_LEVELS[level] for level in levels}
    deepest = max(lengths.values())
    places = list(
        Region.objects.filter(code__startswith=region.code, level__in=list(levels))
        .order_by("code")
        .values_list("code", "level", "name")
    )
    policy = FeedbackSettings.load()
    sums = (
        _rollups(period, region.code).annotate(key=Substr("grid", 1, deepest)).values("key").annotate(**SUMS).order_by()
    )
    live = _live(region.code, key=deepest)
    totals = {}
    for key, row in [(row.pop("key"), row) for row in sums] + [(key, row) for key, row in live.items()]:
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


def has_dashboard(user) -> bool:
    """Whether `dashboard_roots_for(user)` can hold anything, from the postings alone (no query):
    the navigation asks this on every page."""
    postings = postings_for(user)
    return postings.district_wide or any(kind in Unit.TERRITORIAL and region for _c, kind, region, _r in postings.units)
