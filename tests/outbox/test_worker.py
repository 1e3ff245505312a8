"""The outbox through a real Celery worker and the real Redis that `make test` started."""

import logging
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from celery.contrib.testing.worker import start_worker
from django.db import transaction

from outbox import services as outbox_services
from outbox.models import Message, SentSms
from outbox.services import message_queue
from outbox.tasks import deliver_due
from suqu.celery import app

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def daytime():
    """A weekday noon (the clock ticking on), so that no SMS waits for the morning."""
    with time_machine.travel(datetime(2026, 3, 10, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))):
        yield


def queue_one(key):
    with transaction.atomic():
        return message_queue(channel="sms", to="13800138000", text="您反映的问题已办结。", key=key)


def wait_until_sent(message, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        message.refresh_from_db()
        if message.state == Message.State.SENT:
            return message
        time.sleep(0.1)
    raise AssertionError(f"message {message.pk} still {message.state} after {seconds} s")


def test_a_worker_sends_a_message_as_soon_as_its_event_commits():
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        message = queue_one("worker:1")
        wait_until_sent(message)
    assert SentSms.objects.get().message_id == message.pk


class Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_messages_written_while_redis_is_down_go_out_once_it_is_back(redis_down):
    # A handler of our own on the module's logger: a Celery worker started by an earlier test
    # reconfigures logging, after which pytest's capture misses the records.
    collected = Collect()
    logger = outbox_services.logger
    level = logger.level
    # The worker also leaves levels (and the logger's cached answers) behind: state ours.
    logger.setLevel(logging.WARNING)
    logger.addHandler(collected)
    try:
        message = queue_one("redis-down:1")
    finally:
        logger.removeHandler(collected)
        logger.setLevel(level)
    assert any("could not queue message" in text for text in collected.messages)
    message.refresh_from_db()
    assert message.state == Message.State.PENDING
    redis_down.restore()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        # What beat sends every minute, through Redis to the worker: twice, as two beats might.
        assert deliver_due.delay().get(timeout=20) == {"sent": 1}
        assert deliver_due.delay().get(timeout=20) == {}
    assert SentSms.objects.filter(message_id=message.pk).count() == 1
