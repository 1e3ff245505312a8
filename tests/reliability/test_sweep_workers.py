"""The deadline sweep on a worker of its own queue with three processes (`celery -A suqu worker -Q
sweep --concurrency 3`), three sweeps sent at once: every stage still happens exactly once, as
with many workers on many machines (each sweep locks the cases it checks and skips those another
holds; each stage is an insert under a unique constraint)."""

import sys

import pytest
from django.conf import settings

from escalation.tasks import sweep_deadlines
from notices.models import Notification
from routing.models import Assignment
from tests.escalation.test_escalation_concurrency import counts, stalled_cases  # noqa: F401 (a fixture)
from tests.reliability.conftest import database_url_of_tests


@pytest.mark.django_db(transaction=True)
def test_three_worker_processes_sweeping_at_once_fire_every_stage_once(stalled_cases, cast, processes):  # noqa: F811
    command = [sys.executable, "-m", "celery", "-A", "suqu", "worker", "-Q", "sweep", "--pool", "prefork"]
    command += ["--concurrency", "3", "-n", "sweepers@%h", "--without-mingle", "--without-gossip", "-l", "info"]
    worker = processes.start(
        "sweepers", command, {"DATABASE_URL": database_url_of_tests(), "REDIS_URL": settings.REDIS_URL}
    )
    # The five cases were dispatched in March and never signed for: today every stage is due.
    sweeps = [sweep_deadlines.delay() for _ in range(3)]
    outcomes = [sweep.get(timeout=90) for sweep in sweeps]
    assert sum(outcome["fired"] for outcome in outcomes) == 5 * 18, (outcomes, processes.log(worker)[-3000:])
    distinct, total = counts()
    assert len(distinct) == total == 5 * 18
    assert Notification.objects.filter(user=cast.street_clerk, kind="supervise").count() == 5
    assert Notification.objects.filter(user=cast.street_clerk, kind="notice").count() == 5 * 3
    # Nothing left for the next sweep: each assignment's next check is gone or in the future.
    assert sweep_deadlines.delay().get(timeout=60)["fired"] == 0
    assert not Assignment.objects.filter(next_check_at__isnull=False, next_check_at__lte="2026-04-01").exists()
