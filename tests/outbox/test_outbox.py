"""The transactional outbox: written with its event, sent once, whatever fails in between."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import transaction

from outbox.models import Message, SentSms
from outbox.services import MAX_ATTEMPTS, message_deliver, message_queue, messages_deliver_due
from tests.outbox.backends import ProcessKilled

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=SHANGHAI)


def sms(key="case:1:resolved", text="您反映的问题已办结。", **extra):
    with transaction.atomic():
        return message_queue(channel="sms", to="13800138000", text=text, key=key, **extra)


@pytest.fixture
def noon():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def test_a_message_is_written_only_if_its_event_commits(noon):
    with pytest.raises(RuntimeError), transaction.atomic():
        message_queue(channel="sms", to="13800138000", text="不会发出", key="rolled-back")
        raise RuntimeError("the event failed")
    assert not Message.objects.exists()


def test_the_same_key_twice_is_one_message(noon, django_capture_on_commit_callbacks):
    first = sms()
    again = sms(text="另一段文字")
    assert again.pk == first.pk
    assert list(Message.objects.values_list("text", flat=True)) == ["您反映的问题已办结。"]


def test_a_message_whose_delivery_request_never_left_is_sent_once_by_the_due_sweep(noon):
    # The row is committed, and the process dies before it asks a worker (no on-commit callback ran).
    message = sms()
    assert messages_deliver_due() == {"sent": 1}
    assert messages_deliver_due() == {}
    assert message_deliver(message_id=message.pk) == "skipped"
    assert SentSms.objects.get().message_id == message.pk
    message.refresh_from_db()
    assert (message.state, message.attempts, message.sent_at) == ("sent", 1, NOON)


def test_a_crash_after_the_gateway_accepted_is_sent_again_with_the_same_key_and_arrives_once(noon, provider):
    message = sms()
    provider.crash_after_accepting = True
    with pytest.raises(ProcessKilled):
        message_deliver(message_id=message.pk)
    # The crash rolled the `sent` mark back: the row still waits.
    message.refresh_from_db()
    assert message.state == "pending"
    assert messages_deliver_due() == {"sent": 1}
    assert provider.handed_over == 2
    assert provider.accepted == {message.pk: ("13800138000", "您反映的问题已办结。")}
    assert messages_deliver_due() == {}


def test_a_gateway_that_is_down_is_retried_with_back_off_and_the_message_goes_out_once_it_is_up(noon, provider):
    message = sms()
    provider.down = True
    assert messages_deliver_due() == {"retry": 1}
    message.refresh_from_db()
    assert (message.attempts, message.next_attempt_at, message.last_error) == (
        1,
        NOON + timedelta(minutes=1),
        "DeliveryFailed: gateway unreachable",
    )
    noon.shift(timedelta(minutes=1))
    assert messages_deliver_due() == {"retry": 1}
    message.refresh_from_db()
    assert message.next_attempt_at == NOON + timedelta(minutes=1 + 2)
    noon.shift(timedelta(seconds=90))
    assert messages_deliver_due() == {}, "retried before its back-off"
    provider.down = False
    noon.shift(timedelta(seconds=30))
    assert messages_deliver_due() == {"sent": 1}
    assert list(provider.accepted) == [message.pk]


def test_a_message_the_gateway_keeps_refusing_is_marked_failed_at_the_cap(noon, provider):
    # An emergency, so that the night does not hold the hourly retries back.
    message = sms(emergency=True)
    provider.down = True
    for _attempt in range(MAX_ATTEMPTS):
        noon.shift(timedelta(hours=1))
        messages_deliver_due()
    message.refresh_from_db()
    assert (message.state, message.attempts) == ("failed", MAX_ATTEMPTS)
    noon.shift(timedelta(days=1))
    assert messages_deliver_due() == {}


def test_an_sms_written_at_night_waits_until_seven_in_the_morning():
    with time_machine.travel(datetime(2026, 3, 10, 23, 15, tzinfo=SHANGHAI), tick=False):
        message = sms()
        assert message.next_attempt_at == datetime(2026, 3, 11, 7, 0, tzinfo=SHANGHAI)
        assert messages_deliver_due() == {}
    with time_machine.travel(datetime(2026, 3, 11, 6, 59, tzinfo=SHANGHAI), tick=False):
        assert messages_deliver_due() == {}
    with time_machine.travel(datetime(2026, 3, 11, 7, 0, tzinfo=SHANGHAI), tick=False):
        assert messages_deliver_due() == {"sent": 1}


def test_an_emergency_sms_goes_out_at_night_and_an_email_is_not_held_back():
    with time_machine.travel(datetime(2026, 3, 11, 2, 0, tzinfo=SHANGHAI), tick=False):
        sms(key="urgent", text="燃气泄漏，请立即处置", emergency=True)
        with transaction.atomic():
            message_queue(channel="email", to="head@example.gov.cn", text="超期通报\n详情", key="mail")
        assert messages_deliver_due() == {"sent": 2}
    assert SentSms.objects.get().text == "燃气泄漏，请立即处置"
    assert [(email.subject, email.to) for email in mail.outbox] == [("超期通报", ["head@example.gov.cn"])]


def test_a_retry_that_falls_into_the_night_waits_for_the_morning(provider):
    with time_machine.travel(datetime(2026, 3, 10, 21, 59, 30, tzinfo=SHANGHAI), tick=False) as clock:
        message = sms()
        provider.down = True
        assert messages_deliver_due() == {"retry": 1}
        provider.down = False
        clock.shift(timedelta(minutes=1))
        assert messages_deliver_due() == {"waits": 1}
    message.refresh_from_db()
    assert (message.state, message.next_attempt_at) == ("pending", datetime(2026, 3, 11, 7, tzinfo=SHANGHAI))
