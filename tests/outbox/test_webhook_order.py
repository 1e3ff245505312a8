"""Messages of one group (an integrating system's webhook events of one order) go out one at a
time, the oldest first, through retries and failures; other messages are never held up by them;
webhook events ignore quiet hours; a failed message can be sent again."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction

from outbox.backends import DeliveryFailed, DeliveryRejected, Receipt
from outbox.services import message_deliver, message_queue, messages_deliver_due, messages_resend

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=SHANGHAI)


class ScriptedWebhook:
    """The receiver's side, behind WEBHOOK_BACKEND: what it answers per event key (a list of
    outcomes, then "ok"), and every event it took, in order."""

    script: dict = {}
    taken: list = []

    def send(self, message) -> Receipt:
        outcomes = self.script.get(message.key) or []
        outcome = outcomes.pop(0) if outcomes else "ok"
        if outcome == "down":
            raise DeliveryFailed("the receiver answered HTTP 503", code="HTTP 503")
        if outcome == "gone":
            raise DeliveryRejected("the receiver answered HTTP 410", code="HTTP 410")
        self.taken.append(message.key)
        return Receipt(provider_id="", code="HTTP 204")

    def lookup(self, message):
        return None


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_BACKEND = "tests.outbox.test_webhook_order.ScriptedWebhook"
    ScriptedWebhook.script, ScriptedWebhook.taken = {}, []
    return ScriptedWebhook


@pytest.fixture
def noon():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def event(key, group="webhook:1:7"):
    with transaction.atomic():
        return message_queue(channel="webhook", to="https://partner.example/hook", text="{}", key=key, group=group)


def test_a_retry_holds_back_the_rest_of_its_group_and_nothing_else(noon, receiver):
    receiver.script = {"e1": ["down", "down"]}
    first, second, third = event("e1"), event("e2"), event("e3")
    elsewhere = event("x1", group="webhook:1:8")
    with transaction.atomic():
        sms = message_queue(channel="sms", to="13800138000", text="您反映的问题已受理。", key="ack")
    # A batch of one: the group's blocked messages are not even in it, so the others are reached.
    assert messages_deliver_due(limit=1) == {"retry": 1}
    assert messages_deliver_due(limit=1) == {"sent": 1}
    assert messages_deliver_due() == {"sent": 1}
    assert receiver.taken == ["x1"]
    sms.refresh_from_db()
    assert sms.state == "sent"
    assert message_deliver(message_id=second.pk) == "behind"
    noon.shift(timedelta(seconds=61))
    assert messages_deliver_due() == {"retry": 1}
    noon.shift(timedelta(seconds=121))
    assert messages_deliver_due() == {"sent": 1}
    assert messages_deliver_due() == {"sent": 1}
    assert messages_deliver_due() == {"sent": 1}
    assert receiver.taken == ["x1", "e1", "e2", "e3"]
    for message in (first, third, elsewhere):
        message.refresh_from_db()
    assert (first.attempts, third.attempts, elsewhere.attempts) == (3, 1, 1)


def test_a_message_failed_for_good_lets_the_next_go_and_is_sent_again_when_resent(noon, receiver):
    receiver.script = {"e1": ["gone"]}
    first, second = event("e1"), event("e2")
    assert messages_deliver_due() == {"rejected": 1}
    assert messages_deliver_due() == {"sent": 1}
    first.refresh_from_db()
    assert (first.state, first.gateway_code) == ("failed", "HTTP 410")
    assert messages_resend(ids=[first.pk, second.pk]) == 1  # only a failed one moves
    first.refresh_from_db()
    assert (first.state, first.attempts) == ("pending", 0)
    assert messages_deliver_due() == {"sent": 1}
    assert receiver.taken == ["e2", "e1"]


def test_a_webhook_event_goes_out_at_night(receiver):
    with time_machine.travel(datetime(2026, 3, 10, 23, 30, tzinfo=SHANGHAI), tick=False):
        message = event("night")
        assert message.next_attempt_at == datetime(2026, 3, 10, 23, 30, tzinfo=SHANGHAI)
        assert messages_deliver_due() == {"sent": 1}
    assert receiver.taken == ["night"]
