"""Two sweeps at once, on two database connections, and a sweep re-run after a crash: every
stage still happens exactly once."""

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from escalation.models import Alert
from escalation.services import assignment_check, deadlines_sweep
from notices.models import Notification
from routing.models import Assignment
from routing.tasks import dispatch_case
from tests.factories import open_case, routing_setup

SHANGHAI = ZoneInfo("Asia/Shanghai")
DISPATCHED = datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)
WEEKS_LATER = datetime(2026, 4, 30, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def stalled_cases(cast, categories):
    """Five cases dispatched to 金山社区's committee and never signed for."""
    routing_setup(cast)
    with time_machine.travel(DISPATCHED, tick=False):
        cases = [open_case(cast, description=f"{n}号楼门口垃圾堆放多日") for n in range(5)]
        for case in cases:
            dispatch_case(case.pk)
    return cases


def together(*calls):
    """Run the calls at the same moment on their own threads, each with its own connection."""
    barrier = threading.Barrier(len(calls))
    results, errors = [None] * len(calls), []

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as error:  # noqa: BLE001 (whatever fails in a thread must reach the test)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return results


def counts():
    return sorted(Alert.objects.values_list("assignment_id", "limit", "stage").distinct()), Alert.objects.count()


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_fire_every_stage_exactly_once(stalled_cases, cast):
    with time_machine.travel(WEEKS_LATER, tick=False):
        first, second = together(deadlines_sweep, deadlines_sweep)
        # Per case: the sign-for, first-contact and resolution deadlines each ran the whole way
        # (warning, overdue, chase, notice, supervision twice): 3 × 6 stages.
        assert first["fired"] + second["fired"] == 5 * 18
        assert deadlines_sweep()["fired"] == 0
    distinct, total = counts()
    assert len(distinct) == total == 5 * 18
    # One inbox message per clerk per stage: nothing doubled by the race. (The street office was
    # told of three notices and started supervising once per case.)
    assert Notification.objects.filter(user=cast.street_clerk, kind="supervise").count() == 5
    assert Notification.objects.filter(user=cast.street_clerk, kind="notice").count() == 5 * 3


@pytest.mark.django_db(transaction=True)
def test_checking_one_assignment_on_two_connections_at_once_fires_each_stage_once(stalled_cases):
    assignment = Assignment.objects.filter(case=stalled_cases[0]).get()
    with time_machine.travel(WEEKS_LATER, tick=False):
        results = together(*[lambda: assignment_check(assignment_id=assignment.pk)] * 2)
    assert sum(len(fired) for fired in results) == 18
    assert Alert.objects.filter(assignment=assignment).count() == 18


@pytest.mark.django_db
def test_a_sweep_that_crashed_half_way_is_finished_by_the_next_one(stalled_cases):
    with time_machine.travel(WEEKS_LATER, tick=False):
        # The first run got through one batch of two assignments before the process died.
        assert deadlines_sweep(limit=2)["checked"] == 2
        done = Alert.objects.count()
        assert deadlines_sweep()["fired"] == 5 * 18 - done
        assert deadlines_sweep()["fired"] == 0
