"""The rollups hold exactly what the metrics service counts over the raw rows."""

import datetime

from dashboards import selectors
from dashboards.models import DailyRollup
from dashboards.services import rollups_refresh
from feedback import metrics

MARCH = metrics.Period.month("2026-03")


def refresh():
    rollups_refresh(first=MARCH.first, last=MARCH.last)


def test_the_summary_of_each_place_equals_the_metrics_of_the_raw_rows(example):
    refresh()
    for level, code in (("district", "210111"), ("street", "210111001"), ("street", "210111003")):
        (raw,) = [row for row in metrics.rows_for(level, period=MARCH) if row.code == code]
        rolled = selectors.summary(prefix=code, period=MARCH).figures
        assert rolled.as_dict() == raw.figures.as_dict(), code


def test_the_units_in_the_rollups_equal_their_metrics(example, world):
    refresh()
    raw = {row.code: row.figures.as_dict() for row in metrics.rows_for("unit", period=MARCH)}
    rolled = dict(selectors.unit_figures(kinds=("committee", "department"), period=MARCH))
    for unit, figures in rolled.items():
        assert figures.as_dict() == raw[unit.code], unit.code


def test_refreshing_twice_changes_nothing(example):
    refresh()
    first = sorted(DailyRollup.objects.values_list("day", "grid", "unit", "channel", "received", "callbacks"))
    refresh()
    assert sorted(DailyRollup.objects.values_list("day", "grid", "unit", "channel", "received", "callbacks")) == first


def test_the_children_add_up_to_their_parent(example, world):
    refresh()
    district = selectors.summary(prefix="210111", period=MARCH)
    streets = selectors.children(region=world.district, period=MARCH)
    assert [child.code for child in streets] == ["210111001", "210111003"]
    for name in ("received", "dispatched", "callbacks", "exempted", "returns", "redos", "closed"):
        assert sum(getattr(child.figures, name) for child in streets) == getattr(district.figures, name), name
    assert sum(child.open for child in streets) == district.open == 2  # A3 reopened, A4 returned


def test_the_trend_has_every_day_of_the_period(example, world):
    refresh()
    days = selectors.overview(region=world.district, period=MARCH).trend
    assert len(days) == 31
    assert days[9] == (datetime.date(2026, 3, 10), 0, 6, 0)
    assert days[10][3] == 4  # A1, A5 and C1 closed, and A2, on Wednesday the 11th
