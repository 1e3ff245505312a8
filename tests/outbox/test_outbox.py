"""The transactional outbox: written with its event, sent once, whatever fails in between."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.urls import reverse

from outbox.models import Message, SentSms
from outbox.services import (
    MAX_ATTEMPTS,
    RECOVER_AFTER,
    message_deliver,
    message_queue,
    messages_deliver_due,
    messages_poll_reports,
    messages_recover,
)
from tests.outbox.backends import ProcessKilled

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=SHANGHAI)


def sms(key="case:1:resolved", text="您反映的问题已办结。", to="13800138000", **extra):
    with transaction.atomic():
        return message_queue(channel="sms", to=to, text=text, key=key, **extra)


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


def test_a_deliverer_killed_after_the_gateway_took_the_sms_is_settled_by_asking_the_gateway_and_it_arrives_once(
    noon, provider
):
    message = sms()
    provider.die = "after"
    with pytest.raises(ProcessKilled):
        message_deliver(message_id=message.pk)
    # The claim was committed before the gateway was called: the row says a deliverer has it.
    message.refresh_from_db()
    assert (message.state, message.attempts, message.claimed_at) == ("sending", 1, NOON)
    assert messages_deliver_due() == {}, "sent again while its deliverer may still be waiting for the answer"
    noon.shift(RECOVER_AFTER - timedelta(seconds=1))
    assert messages_recover() == {}
    noon.shift(timedelta(seconds=2))
    provider.down = True
    assert messages_recover() == {"unknown": 1}, "the gateway cannot say: asked again on the next run"
    provider.down = False
    assert messages_recover() == {"found": 1}
    message.refresh_from_db()
    assert (message.state, message.provider_id, message.sent_at) == (
        "sent",
        f"test-{message.pk}",
        NOON + RECOVER_AFTER + timedelta(seconds=1),
    )
    assert messages_deliver_due() == {}
    assert provider.accepted == [message.pk]


def test_a_deliverer_killed_before_the_gateway_got_the_sms_is_recovered_and_it_is_sent_once(noon, provider):
    message = sms()
    provider.die = "before"
    with pytest.raises(ProcessKilled):
        message_deliver(message_id=message.pk)
    assert provider.accepted == []
    noon.shift(RECOVER_AFTER + timedelta(seconds=1))
    assert messages_recover() == {"resend": 1}
    message.refresh_from_db()
    assert (message.state, message.next_attempt_at) == ("pending", NOON + RECOVER_AFTER + timedelta(seconds=1))
    assert messages_deliver_due() == {"sent": 1}
    assert messages_recover() == {}
    assert messages_deliver_due() == {}
    assert provider.accepted == [message.pk]


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
    assert provider.accepted == [message.pk]


def test_a_deliverer_too_slow_for_the_recovery_sweep_does_not_send_what_the_sweep_took_back(noon, provider):
    message = sms()
    provider.down = True
    assert messages_deliver_due() == {"retry": 1}
    noon.shift(timedelta(minutes=1))
    provider.down = False

    def the_sweep_runs_meanwhile():
        # The retry's lookup hangs past RECOVER_AFTER; the sweep finds nothing at the vendor and
        # hands the row back.
        noon.shift(RECOVER_AFTER + timedelta(seconds=1))
        assert messages_recover() == {"resend": 1}

    provider.while_looking_up = the_sweep_runs_meanwhile
    assert messages_deliver_due() == {"skipped": 1}
    assert provider.accepted == []
    assert messages_deliver_due() == {"sent": 1}
    assert provider.accepted == [message.pk]


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


def test_the_default_backend_records_each_sms_once_and_reports_it_delivered(noon):
    message = sms()
    assert messages_deliver_due() == {"sent": 1}
    noon.shift(timedelta(minutes=5))
    assert messages_poll_reports() == {"delivered": 1}
    assert messages_poll_reports() == {}
    message.refresh_from_db()
    assert (message.state, message.provider_id, message.gateway_code, message.reported_at) == (
        "delivered",
        f"recorded-{message.pk}",
        "DELIVRD",
        NOON + timedelta(minutes=5),
    )
    assert SentSms.objects.get().message_id == message.pk


def test_the_admin_shows_what_the_gateway_answered_and_filters_by_state_and_channel(noon, provider, admin_client):
    sent, refused = sms(key="sent"), sms(key="refused", to="024-89881234")
    assert messages_deliver_due() == {"sent": 1, "rejected": 1}
    with transaction.atomic():
        message_queue(channel="email", to="head@example.gov.cn", text="通报\n内容", key="mail")
    changelist = admin_client.get(reverse("admin:outbox_message_changelist"), {"state": "failed", "channel": "sms"})
    assert [row.pk for row in changelist.context["cl"].result_list] == [refused.pk]
    assert "not_mobile" in changelist.content.decode()
    page = admin_client.get(reverse("admin:outbox_message_change", args=[sent.pk])).content.decode()
    assert f"test-{sent.pk}" in page
