"""The figures every unit and every place is judged by (三率 and the rest), for a period.

Every figure is defined in `docs/metrics.md` as a count over case events and the assignment rows
those events wrote; this module is that page in SQL. A whole level (every street, every
community, every unit) costs the same few grouped queries as a single row: nothing is read per
row, so a ranking of 2,939 grids is as cheap as one grid.
"""

import calendar as month_calendar
import datetime
from dataclasses import dataclass, field

from django.db.models import Count, F, Q, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.errors import InvalidInput
from cases.models import Case, CaseEvent
from feedback.models import FeedbackSettings, Satisfaction
from grids.models import Region
from routing.models import Assignment
from units.models import Unit

REGION_LEVELS = {"district": 6, "street": 9, "community": 12, "grid": 15}
LEVELS = (*REGION_LEVELS, "unit")
# Units that dispatch or supervise never lead a case, so they have no figures of their own.
UNRANKED_KINDS = (Unit.Kind.CENTRE, Unit.Kind.LEADERSHIP)
LONGEST_RANGE_DAYS = 366


@dataclass(frozen=True)
class Period:
    """[start, end) in Asia/Shanghai; `first` and `last` are the days it covers."""

    first: datetime.date
    last: datetime.date

    @property
    def start(self):
        return _midnight(self.first)

    @property
    def end(self):
        return _midnight(self.last + datetime.timedelta(days=1))

    @classmethod
    def month(cls, text: str) -> "Period":
        try:
            year, month = (int(part) for part in text.split("-"))
            first = datetime.date(year, month, 1)
        except ValueError:
            raise InvalidInput(_("Write the month as YYYY-MM, for example 2026-03."), "month") from None
        return cls(first, first.replace(day=month_calendar.monthrange(year, month)[1]))

    @classmethod
    def between(cls, first: datetime.date, last: datetime.date) -> "Period":
        if last < first:
            raise InvalidInput(_("The end date is before the start date."), "to")
        if (last - first).days >= LONGEST_RANGE_DAYS:
            raise InvalidInput(_("Choose at most a year."), "to")
        return cls(first, last)


def _midnight(day):
    return datetime.datetime.combine(day, datetime.time(), tzinfo=timezone.get_default_timezone())


def _ratio(numerator, denominator):
    return numerator / denominator if denominator else None


@dataclass
class Figures:
    """The counts of one row; the rates are computed from them (None: nothing to divide by)."""

    received: int = 0
    dispatched: int = 0
    signed_on_time: int = 0
    contacted_on_time: int = 0
    response_due: int = 0
    responded_on_time: int = 0
    resolved: int = 0
    resolved_on_time: int = 0
    overdue_unresolved: int = 0
    callbacks: int = 0
    callbacks_solved: int = 0
    satisfied: int = 0
    basically: int = 0
    unsatisfied: int = 0
    unreachable_attempts: int = 0
    closed_unreachable: int = 0
    exempted: int = 0
    returns: int = 0
    redos: int = 0
    answered: int = 0
    closed: int = 0
    handling_seconds: float = 0.0
    handled: int = 0
    basically_value: float = field(default=0.8, repr=False)
    weights: tuple = field(default=(30, 35, 35), repr=False)

    @property
    def response_rate(self):
        return _ratio(self.responded_on_time, self.response_due)

    @property
    def resolution_rate(self):
        return _ratio(self.callbacks_solved, self.callbacks)

    @property
    def satisfaction_rate(self):
        return _ratio(self.satisfied + self.basically_value * self.basically, self.callbacks)

    @property
    def on_time_rate(self):
        return _ratio(self.resolved_on_time, self.resolved + self.overdue_unresolved)

    @property
    def return_rate(self):
        return _ratio(self.returns, self.dispatched)

    @property
    def redo_rate(self):
        return _ratio(self.redos, self.resolved)

    @property
    def mean_handling_hours(self):
        return _ratio(self.handling_seconds / 3600, self.handled)

    @property
    def composite(self):
        """Weighted mean of the three rates, out of 100; None while a weighted rate is missing."""
        parts = list(zip(self.weights, (self.response_rate, self.resolution_rate, self.satisfaction_rate), strict=True))
        if any(weight and rate is None for weight, rate in parts):
            return None
        total = sum(weight for weight, _rate in parts)
        return 100 * sum(weight * rate for weight, rate in parts if weight) / total

    RATES = (
        "response_rate",
        "resolution_rate",
        "satisfaction_rate",
        "on_time_rate",
        "return_rate",
        "redo_rate",
    )

    def as_dict(self) -> dict:
        counts = {
            name: getattr(self, name)
            for name in self.__dataclass_fields__
            if name not in ("basically_value", "weights", "handling_seconds", "handled")
        }
        rates = {name: getattr(self, name) for name in self.RATES}
        return {
            **counts,
            **rates,
            "mean_handling_hours": self.mean_handling_hours,
            "composite": self.composite,
        }


@dataclass
class Row:
    code: str
    name: str
    figures: Figures


def rows_for(level, *, period, codes=None, parent="", now=None) -> list[Row]:
    """The figures of every street, community, grid or unit (`level`) for `period`.

    `codes` keeps only those rows (a person's own area or units); `parent` keeps the regions
    under one code. Rows come in code order, with zeros where nothing happened.
    """
    if level not in LEVELS:
        raise InvalidInput(_("Choose a level: district, street, community, grid or unit."), "level")
    now = now or timezone.now()
    policy = FeedbackSettings.load()
    if level == "unit":
        rows = Unit.objects.filter(is_active=True).exclude(kind__in=UNRANKED_KINDS)
    else:
        rows = Region.objects.filter(level=level, code__startswith=parent)
    if codes is not None:
        rows = rows.filter(code__in=codes)
    names = dict(rows.order_by("code").values_list("code", "name"))
    figures = {
        code: Figures(
            basically_value=float(policy.basically_value),
            weights=(policy.weight_response, policy.weight_resolution, policy.weight_satisfaction),
        )
        for code in names
    }
    if figures:
        _count(level, period, now, figures)
    return [Row(code, name, figures[code]) for code, name in names.items()]


def _key(level, paths):
    """What a row is grouped by: the unit, or the case's grid code cut to the level's length."""
    if level == "unit":
        unit = paths["unit"]
        return unit if hasattr(unit, "resolve_expression") else F(unit)
    return Substr(paths["grid"], 1, REGION_LEVELS[level])


@dataclass(frozen=True)
class Part:
    """One grouped count: the rows of `queryset` (already cut to the period), dated by `moment`,
    placed by `paths` (grid, category, unit, channel), counted into `counts`."""

    name: str
    queryset: object
    moment: str
    paths: dict
    counts: dict


_CASE_PATHS = {"grid": "grid", "category": "category_id", "unit": None, "channel": "channel"}
_ASSIGNMENT_PATHS = {
    "grid": "case__grid",
    "category": "case__category_id",
    "unit": "unit__code",
    "channel": "case__channel",
}
_EVENT_PATHS = {
    "grid": "case__grid",
    "category": "case__category_id",
    "unit": KT("data__unit"),
    "channel": "case__channel",
}


def parts(period, now) -> list[Part]:
    """Every figure of docs/metrics.md as grouped counts over the period. `rows_for` groups them
    by place or unit; the dashboards' rollups group the same parts by day, grid, category, unit
    and channel, so the two cannot drift apart."""
    start, end = period.start, period.end
    leads = Assignment.objects.filter(role=Assignment.Role.LEAD)
    counted = ~Q(state__in=[Assignment.State.WITHDRAWN, Assignment.State.RETURNED])
    contact_met = Q(contact_due__isnull=True) | Q(contacted_at__lte=F("contact_due"))
    responded = Q(signed_at__lte=F("sign_due")) & contact_met
    failed = (
        Q(signed_at__isnull=True, sign_due__lte=now)
        | Q(signed_at__gt=F("sign_due"))
        | Q(contact_due__lte=now, contacted_at__isnull=True)
        | Q(contacted_at__gt=F("contact_due"))
    )
    callback = Q(action="callback")
    reached = callback & Q(data__reached=True)
    closed_as = Q(action="close")
    return [
        # Received: cases registered in the period.
        Part(
            "cases",
            Case.objects.filter(created_at__gte=start, created_at__lt=end),
            "created_at",
            _CASE_PATHS,
            {"received": Count("id")},
        ),
        # Lead assignments dispatched in the period: the response rate.
        Part(
            "dispatched",
            leads.filter(dispatched_at__gte=start, dispatched_at__lt=end, is_redo=False),
            "dispatched_at",
            _ASSIGNMENT_PATHS,
            {
                "dispatched": Count("id"),
                "signed_on_time": Count("id", filter=Q(signed_at__lte=F("sign_due"))),
                "contacted_on_time": Count("id", filter=Q(contacted_at__lte=F("contact_due"))),
                "response_due": Count("id", filter=counted & (responded | failed)),
                "responded_on_time": Count("id", filter=counted & responded),
            },
        ),
        # Lead assignments resolved in the period (redos too): on-time closure, handling time.
        Part(
            "resolved",
            leads.filter(state=Assignment.State.DONE, finished_at__gte=start, finished_at__lt=end),
            "finished_at",
            _ASSIGNMENT_PATHS,
            {
                "resolved": Count("id"),
                "resolved_on_time": Count("id", filter=Q(finished_at__lte=F("resolve_due"))),
                # `handled` first: once annotated, the name handling_seconds means the sum.
                "handled": Count("handling_seconds"),
                "handling_seconds": Sum("handling_seconds"),
            },
        ),
        # Still open, and their resolution deadline fell in the period and has passed.
        Part(
            "overdue",
            leads.filter(state__in=Assignment.ACTIVE_STATES, resolve_due__gte=start, resolve_due__lt=min(end, now)),
            "resolve_due",
            _ASSIGNMENT_PATHS,
            {"overdue_unresolved": Count("id")},
        ),
        # Events: callbacks and their verdicts, returns, redos, and the closures counted apart.
        Part(
            "events",
            CaseEvent.objects.filter(at__gte=start, at__lt=end).filter(
                action__in=["callback", "return", "reopen", "close", "answer", "merge"]
            ),
            "at",
            _EVENT_PATHS,
            {
                "callbacks": Count("id", filter=reached),
                "callbacks_solved": Count("id", filter=reached & Q(data__resolved=True)),
                "satisfied": Count("id", filter=reached & Q(data__satisfaction=Satisfaction.SATISFIED)),
                "basically": Count("id", filter=reached & Q(data__satisfaction=Satisfaction.BASICALLY)),
                "unsatisfied": Count("id", filter=reached & Q(data__satisfaction=Satisfaction.UNSATISFIED)),
                "unreachable_attempts": Count("id", filter=callback & Q(data__reached=False)),
                "closed_unreachable": Count("id", filter=closed_as & Q(data__reason=Case.ClosureReason.UNREACHABLE)),
                "exempted": Count("id", filter=closed_as & Q(data__reason=Case.ClosureReason.EXEMPTED)),
                "returns": Count("id", filter=Q(action="return")),
                "redos": Count("id", filter=Q(action="reopen")),
                "answered": Count("id", filter=Q(action="answer")),
                "closed": Count("id", filter=Q(to_status=Case.Status.CLOSED)),
            },
        ),
    ]


def _count(level, period, now, figures):
    wanted = list(figures)
    for part in parts(period, now):
        if part.paths["unit"] is None and level == "unit":
            continue  # a unit's "received" is what was dispatched to it (set in rows_for)
        grouped = part.queryset.annotate(key=_key(level, part.paths)).filter(key__in=wanted)
        for row in grouped.values("key").annotate(**part.counts).order_by():
            target = figures[row.pop("key")]
            for name, value in row.items():
                setattr(target, name, getattr(target, name) + (value or 0))
    if level == "unit":
        for target in figures.values():
            target.received = target.dispatched


def exemptions(*, period, codes_prefix="", unit="") -> list[CaseEvent]:
    """The exemption closures of the period, newest first, to be listed beside the figures."""
    events = CaseEvent.objects.filter(
        action="close", data__reason=Case.ClosureReason.EXEMPTED, at__gte=period.start, at__lt=period.end
    )
    if codes_prefix:
        events = events.filter(case__grid__code__startswith=codes_prefix)
    if unit:
        events = events.filter(data__unit=unit)
    return list(events.select_related("case", "actor").order_by("-at", "-id"))
