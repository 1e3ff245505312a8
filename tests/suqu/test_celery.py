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
