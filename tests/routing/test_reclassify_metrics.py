"""The figures follow a reclassified case: the rollups of the days it counts on are recomputed
once the move commits, so hotspots and 每月一题 count it under its new category, as the raw rows
do; an address alone recomputes nothing."""

import logging
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from cases.models import Case
from dashboards.hotspots import hotspots, monthly_problems
from dashboards.services import case_days, rollups_refresh
from dashboards.tasks import refresh_case_rollups
from routing import dispatch
from routing.reclassify import case_reclassify
from routing.tasks import dispatch_case
from tests.factories import open_case, routing_setup

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
TUESDAY = datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)
WEDNESDAY = TUESDAY + timedelta(days=1)


@pytest.fixture
def world(cast, categories):
    routing_setup(cast)
    with time_machine.travel(TUESDAY, tick=False):
        cases = [open_case(cast) for _ in range(3)] + [open_case(cast, category_code="0103")]
        for case in cases:
            dispatch_case(case.pk)
        dispatch.case_sign(case=cases[0], actor=cast.community_clerk)
    rollups_refresh(first=TUESDAY.date(), last=TUESDAY.date(), now=TUESDAY + timedelta(hours=1))
    cast.cases = cases
    return cast


def shown():
    """What the dashboards show: hotspots of grids (cases received this week) and 每月一题."""
    spots = {(spot.code, spot.category.code): spot.count for spot in hotspots(level="grid", threshold=1, days=7)}
    _period, problems = monthly_problems("2026-03")
    return spots, {problem.category.code: problem.count for problem in problems}


def raw():
    """The same figures counted from the cases as they are now."""
    rows = Case.objects.values_list("grid_id", "category__code")
    return dict(Counter(rows)), dict(Counter(category for _grid, category in rows))


def test_a_reclassified_case_moves_to_its_new_category_in_the_figures(
    world, redis_down, django_capture_on_commit_callbacks, caplog
):
    caplog.set_level(logging.WARNING, logger="dashboards.services")
    grid = world.grid_a.code
    with time_machine.travel(WEDNESDAY, tick=False):
        assert shown() == ({(grid, "0201"): 3, (grid, "0103"): 1}, {"0201": 3, "0103": 1}) == raw()
        # Redis is down: the rollups are recomputed in the request instead of by a worker.
        with django_capture_on_commit_callbacks(execute=True):
            case_reclassify(case=world.cases[0], actor=world.dispatcher, category="0103", reason="物业的责任")
        assert "recomputing them now" in caplog.text
        assert shown() == ({(grid, "0201"): 2, (grid, "0103"): 2}, {"0201": 2, "0103": 2}) == raw()


def test_the_worker_recomputes_every_day_the_case_counts_on(world, django_capture_on_commit_callbacks):
    case = world.cases[0]
    with time_machine.travel(WEDNESDAY, tick=False):
        with django_capture_on_commit_callbacks() as queued:
            case_reclassify(case=case, actor=world.dispatcher, category="0103", reason="物业的责任")
        assert queued  # the refresh waits for the commit
        assert case_days(case_id=case.pk) == [TUESDAY.date(), WEDNESDAY.date()]
        assert refresh_case_rollups(case.pk) == 2
        assert shown()[1] == {"0201": 2, "0103": 2} == raw()[1]


def test_an_address_alone_queues_no_recomputation(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as queued:
        case_reclassify(case=world.cases[1], actor=world.dispatcher, address="金山路3号", reason="门牌号")
    assert not queued
