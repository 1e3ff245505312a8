"""The monthly ranking (排行) of the streets and of the departments by the composite score and
each rate, with the change from the month before, the red and black lists (红榜/黑榜), and the
month's exemptions beside each score.

Two bases, as docs/metrics.md defines them (and the page says which):

- the streets by place (属地): everything that happened to the cases registered in the street,
  whichever unit led them, read with `selectors.place_figures`: the figures the metrics page
  shows at the street level and the dashboard shows for the street;
- the departments (and utilities) by handling unit (承办单位): their own lead assignments, read
  with `selectors.unit_figures`: the figures the metrics page shows for the unit.

A month still running is compared with the same days of the month before
(`selectors.same_days_before`), never with the whole of it. The page and
`GET /api/v1/stats/ranking/` both call `ranking()`.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from cases.errors import InvalidInput
from dashboards.selectors import BASIS, RANKED_UNIT_KINDS, ranked_figures, same_days_before, so_far
from feedback import metrics
from feedback.models import Exemption
from units.models import Unit

LEVELS = tuple(RANKED_UNIT_KINDS)
# The red and black lists hold this many units each, at most (see `_lists`).
LIST_SIZE = 3
# What a change is computed for: the composite score, then every rate of the metrics.
CHANGES = ("composite", *metrics.Figures.RATES)
# Two scores this close are a tie: the composite is a sum of float products, and the same score
# reached by two units in two orders must not rank one above the other by a rounding error.
TIE_DIGITS = 9


@dataclass
class Exempted:
    """One exemption closure of the month, as listed beside the unit's score."""

    number: str
    reason: str
    reason_label: str
    note: str


@dataclass
class RankRow:
    rank: int | None  # None: no composite score this month (ranked last, in code order)
    unit: Unit
    figures: metrics.Figures
    previous: metrics.Figures
    change: dict  # {"composite" or a rate: this month minus last, None when either is missing}
    exempted: list = field(default_factory=list)  # the month's exemption closures (Exempted)
    name: str = ""  # what the row is called: the street (by place) or the unit

    def __post_init__(self):
        self.name = self.name or self.unit.name

    @property
    def composite(self):
        return self.figures.composite

    @property
    def exemptions(self) -> int:
        return self.figures.exempted


@dataclass
class Ranking:
    level: str
    period: metrics.Period  # the days counted: the month, or its 1st to today while it runs
    previous_period: metrics.Period  # the same days of the month before
    rows: list
    red: list  # the best scores, best first (红榜)
    black: list  # the worst scores, worst first (黑榜)

    @property
    def basis(self) -> str:
        """ "place" (the streets, 属地) or "unit" (the departments, 承办单位)."""
        return BASIS[self.level]


def previous_month(period: metrics.Period) -> metrics.Period:
    """The same days of the month before (a whole month: the whole month before)."""
    return same_days_before(period)


def ranking(level: str, month: str, *, today: datetime.date | None = None) -> Ranking:
    """Every active unit of the level for `month` ("YYYY-MM"), the best composite first.

    Units with the same score share a rank (1, 2, 2, 4); units without a score (no callback, or a
    weighted rate with nothing to divide by) have no rank and come last. The cost is the same few
    queries whatever the number of units: two rollup sums, the units twice, the exemptions once.
    """
    if level not in RANKED_UNIT_KINDS:
        raise InvalidInput(_("Choose a level: street or department."), "level")
    period = so_far(metrics.Period.month(month), today)
    before = previous_month(period)
    current = ranked_figures(level=level, period=period)
    previous = {unit.pk: figures for unit, figures in ranked_figures(level=level, period=before)}
    exempted = _exemptions(period, {unit.code: _owner(level, unit) for unit, _figures in current})
    rows = [
        RankRow(
            rank=None,
            unit=unit,
            figures=figures,
            previous=previous.get(unit.pk, metrics.Figures()),
            change={},
            exempted=exempted.get(unit.code, []),
            name=unit.region.name if BASIS[level] == "place" else unit.name,
        )
        for unit, figures in current
    ]
    for row in rows:
        row.change = {name: _difference(getattr(row.figures, name), getattr(row.previous, name)) for name in CHANGES}
    rows.sort(key=lambda row: (row.composite is None, -_score(row), row.unit.code))
    scored = [row for row in rows if row.composite is not None]
    for position, row in enumerate(scored):
        tied = position and _score(row) == _score(scored[position - 1])
        row.rank = scored[position - 1].rank if tied else position + 1
    red, black = _lists(scored)
    return Ranking(level=level, period=period, previous_period=before, rows=rows, red=red, black=black)


def _score(row):
    return round(row.composite, TIE_DIGITS) if row.composite is not None else 0


def _difference(now, then):
    return None if now is None or then is None else now - then


def _lists(scored):
    """The top and the bottom LIST_SIZE of the scored units. No unit is on both lists: with fewer
    than twice LIST_SIZE scored units each list takes half of them (two units: one each; one
    unit: neither, there is nobody to compare it with)."""
    size = min(LIST_SIZE, len(scored) // 2)
    if not size:
        return [], []
    return scored[:size], scored[::-1][:size]


def _owner(level, unit):
    """What a row's exemptions are matched on: a department's code (the lead unit named by the
    closure), a street's code (the place of the case): the same basis as its figures."""
    return unit.region.code if BASIS[level] == "place" else unit.code


def _exemptions(period, owners) -> dict:
    """{unit code: [Exempted]} for the month's exemption closures counted in each row's figures:
    `owners` is {unit code: what it owns} (`_owner`). One query."""
    labels = dict(Exemption.choices)
    by_owner = defaultdict(list)
    for event in metrics.exemptions(period=period):
        reason = event.data.get("exemption", "")
        item = Exempted(event.case.number, reason, str(labels.get(reason, reason)), event.note)
        by_owner[event.data.get("unit")].append(item)
        by_owner[event.case.grid_id[:9]].append(item)
    return {code: by_owner.get(owner, []) for code, owner in owners.items()}
