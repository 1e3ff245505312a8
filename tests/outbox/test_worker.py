"""The outbox through real processes: a Celery worker with the real Redis that `make test`
started, and a deliverer killed while the SMS gateway has its message."""

import logging
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from celery.contrib.testing.worker import start_worker
from django.db import transaction
from django.utils import timezone

from outbox import services as outbox_services
from outbox.models import Message, SentSms
from outbox.services import RECOVER_AFTER, message_queue, messages_deliver_due, messages_poll_reports, messages_recover
from outbox.tasks import deliver_due
from suqu.celery import app
from tests.outbox.conftest import kill_mid_send, vendor_environment

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
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


def test_a_worker_sends_a_message_as_soon_as_its_event_commits(daytime):
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


def test_messages_written_while_redis_is_down_go_out_once_it_is_back(daytime, redis_down):
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


def test_a_deliverer_killed_while_the_gateway_has_the_sms_leaves_it_neither_lost_nor_sent_twice(aliyun):
    # The deliverer is a process of its own, on the real clock (it cannot see this test's time
    # travel): the acknowledgement goes out at any hour.
    with transaction.atomic():
        message = message_queue(
            channel="sms",
            to="13800138000",
            text="您反映的问题已受理，编号SJT20260310-0042。",
            key="killed:1",
            template="case_ack",
            params=[("number", "SJT20260310-0042"), ("link", "https://suqu.example.gov.cn/s/abc/")],
            quiet=None,
        )
    environment = vendor_environment(aliyun, "outbox.gateways.aliyun.AliyunSmsBackend", {"case_ack": "SMS_460010001"})
    kill_mid_send(message, aliyun, environment)
    # Alibaba Cloud took the SMS; the deliverer died before it could record the answer.
    assert aliyun.accepted_ids() == [str(message.pk)]
    message.refresh_from_db()
    assert (message.state, message.attempts) == ("sending", 1)
    # Not lost: not sent again either, while a live deliverer might still be waiting for the answer.
    assert messages_deliver_due() == {}
    assert messages_recover() == {}

    with time_machine.travel(timezone.now() + RECOVER_AFTER + timedelta(minutes=1), tick=False) as clock:
        assert messages_recover() == {"found": 1}
        assert messages_deliver_due() == {}
        message.refresh_from_db()
        assert message.state == "sent"
        # The resident got it once: one SendSms reached the gateway.
        assert (aliyun.sends(), aliyun.accepted_ids()) == (1, [str(message.pk)])
        # QuerySendDetails does not give the BizId back; the delivery report still finds the
        # message, by its OutId.
        aliyun.report(message.pk)
        clock.shift(timedelta(minutes=5))
        assert messages_poll_reports() == {"delivered": 1}
    message.refresh_from_db()
    assert (message.state, message.gateway_code) == ("delivered", "DELIVERED")
