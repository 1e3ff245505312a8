"""Celery's named queues: every task of ours goes to a queue a worker can be started on, and a
worker started on one queue runs that queue's work and leaves the rest for the others."""

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from suqu.celery import app

OURS = ("routing.", "outbox.", "dashboards.", "suggestions.", "residents.", "suqu.")


def queue_of(name):
    return app.amqp.router.route({}, name)["queue"].name


def test_every_task_of_ours_goes_to_a_named_queue():
    app.loader.import_default_modules()
    names = sorted(name for name in app.tasks if name.startswith(OURS))
    assert len(names) >= 15
    assert {queue_of(name) for name in names} <= set(settings.CELERY_QUEUE_NAMES)
    assert {name: queue_of(name) for name in ("routing.dispatch_case", "routing.sweep_deadlines")} == {
        "routing.dispatch_case": "dispatch",
        "routing.sweep_deadlines": "sweep",
    }
    assert queue_of("outbox.deliver_message") == "outbox"
    assert queue_of("dashboards.refresh_case_rollups") == "rollups"
    assert queue_of("dashboards.export") == "exports"
    assert queue_of("suggestions.retrain") == "suggestions"
    assert queue_of("suqu.heartbeat") == "celery"


@pytest.mark.django_db(transaction=True)
def test_work_sent_before_any_worker_waits_in_its_queue_for_a_worker_of_that_queue():
    from escalation.tasks import sweep_deadlines
    from routing.tasks import sweep_registered

    with app.connection_for_write() as connection:
        client = connection.channel().client
        # As a fresh Redis: no queue declared by any worker yet, nothing waiting.
        client.delete("_kombu.binding.celery", "dispatch", "sweep")
        swept = sweep_deadlines.delay()
        left = sweep_registered.delay()
        assert (client.llen("sweep"), client.llen("dispatch")) == (1, 1)
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10, queues=["sweep"]):
            assert swept.get(timeout=30) == {"checked": 0, "fired": 0, "ended": 0}
        # The dispatch queue's message is still waiting for a worker of that queue.
        assert client.llen("dispatch") == 1
        assert left.state == "PENDING"
        client.delete("dispatch")
