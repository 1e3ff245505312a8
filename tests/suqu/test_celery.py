"""A real Celery worker consuming through the real Redis that `make test` started."""

import pytest
from celery.contrib.testing.worker import start_worker

from suqu.celery import app
from suqu.models import Heartbeat
from suqu.tasks import heartbeat


@pytest.mark.django_db(transaction=True)
def test_a_task_goes_through_redis_to_a_worker_and_back():
    # perform_ping_check would need the test-only celery.ping task; the round trip proves more.
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        result = heartbeat.delay()
        returned = result.get(timeout=20)
    row = Heartbeat.objects.get(name="celery")
    assert row.at.isoformat() == returned


def test_every_task_the_beat_schedules_is_one_a_worker_knows():
    """A task moved to another app keeps its name (`routing.sweep_deadlines` lives in
    escalation/tasks.py): the beat must never schedule a name no worker has."""
    from django.conf import settings

    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled - set(app.tasks) == set()
    assert {"routing.sweep_deadlines", "routing.send_digests"} <= scheduled
