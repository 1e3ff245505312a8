"""Webhook events to the city's 12345 platform (issue 19): every status change of its work order's
case is POSTed to its receiver, signed with the shared secret, through the outbox: retried with
back-off while the receiver is down, none lost, in order per order, and each identifiable by its
event id so that a repeat is dropped. The receiver is a real HTTP server checking every request as
the docs tell a partner to."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from cases.models import Case
from feedback.services import case_callback
from handling.services import case_contact, case_resolve
from integrations.models import System
from outbox.models import Message
from outbox.services import message_deliver, messages_deliver_due
from routing import dispatch
from routing.models import Assignment
from routing.tasks import dispatch_case
from tests.handling.helpers import TUESDAY
from tests.integrations.orders_world import ORDERS, SECRET, city_world, order_body
from tests.integrations.receiver import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def city(django_db_setup, django_db_blocker):
    yield from city_world(django_db_blocker)


@pytest.fixture(scope="module")
def server():
    receiver = Receiver(SECRET)
    yield receiver
    receiver.close()


@pytest.fixture
def receiver(server, city):
    """The partner's receiver, up and empty, as the city's platform's webhook URL."""
    server.outcomes.clear()
    server.arrivals.clear()
    server.events.clear()
    server.refused.clear()
    server.attempts = 0
    System.objects.filter(pk=city.system.pk).update(webhook_url=server.url, webhook_secret=SECRET)
    return server


@pytest.fixture
def clock():
    with time_machine.travel(TUESDAY, tick=False) as traveller:
        yield traveller


def order(**overrides):
    """A work order whose caller gave no phone: the outbox holds only its webhook events."""
    return order_body(caller={"name": "张三"}, **overrides)


def webhooks():
    return Message.objects.filter(channel=Message.Channel.WEBHOOK)


def deliver_everything(clock, rounds=40):
    """Run the outbox's due sweep, moving the clock to each retry, until no webhook event waits."""
    for _round in range(rounds):
        messages_deliver_due()
        waiting = webhooks().filter(state__in=["pending", "sending"])
        if not waiting.exists():
            return
        later = waiting.filter(next_attempt_at__gt=timezone.now()).order_by("next_attempt_at").first()
        if later is not None:
            clock.move_to(later.next_attempt_at)
    raise AssertionError("webhook events still waiting after every retry")


def test_every_move_of_an_order_reaches_a_receiver_that_was_down_once_each_in_order_and_signed(city, receiver, clock):
    # The receiver is down for the first five requests (503s, a connection cut), and the sixth
    # takes the event but its answer is lost: that event comes again.
    receiver.script("down", "down", "hangup", "down", "down", "lost")
    api = city.client()
    number = api.post(ORDERS, order(), format="json").json()["number"]
    case = Case.objects.get(number=number)
    clerk, dispatcher = city.cast.community_clerk, city.cast.dispatcher
    moves = [
        lambda: dispatch_case(case.pk),
        lambda: dispatch.case_sign(case=case, actor=clerk),
        lambda: dispatch.extension_request(
            case=case,
            actor=clerk,
            until=dispatch.lead_assignment(case).resolve_due + timedelta(hours=1),
            reason="等配件",
        ),
        lambda: dispatch.extension_decide(case=case, actor=dispatcher, approve=True),
        lambda: case_contact(case=case, actor=clerk, method="phone", agreed="约定今天处理"),
        lambda: case_resolve(case=case, actor=clerk, result_kind="solved", result="已清理完毕"),
        lambda: case_callback(case=case, actor=dispatcher, reached=True, resolved=True, satisfaction="satisfied"),
    ]
    for move in moves:
        move()
        messages_deliver_due()  # the worker, as each event is written; the receiver is down
        clock.shift(timedelta(seconds=30))
    deliver_everything(clock)

    # Every event arrived, once as far as the receiver can tell, in the order of the moves.
    events = receiver.in_order()
    assert [event["type"] for event in events] == [
        "opened",
        "dispatched",
        "signed",
        "extended",
        "resolved",
        "callback",
        "closed",
    ]
    assert [event["sequence"] for event in events] == list(range(1, 8))
    assert len(receiver.arrivals) == 8 and len(set(receiver.arrivals)) == 7, "the lost answer's event came twice"
    assert receiver.refused == [], "a request whose signature did not verify"
    assert receiver.attempts == 13  # five failures, the lost answer, seven events taken
    assert {event["order_id"] for event in events} == {"SY2026031000123"}
    assert {event["number"] for event in events} == {number}
    assert [event["status"] for event in events] == [
        "registered",
        "dispatched",
        "in_progress",
        "in_progress",
        "resolved",
        "resolved",
        "closed",
    ]
    by_type = {event["type"]: event for event in events}
    assert by_type["dispatched"]["data"]["unit"] == "金山社区居委会"
    lead = Assignment.objects.filter(case=case, role="lead").latest("id")
    assert datetime.fromisoformat(by_type["extended"]["data"]["deadline"]) == lead.resolve_due
    assert by_type["resolved"]["data"] == {"result": "已清理完毕", "result_kind": "solved"}
    assert by_type["callback"]["data"] == {"reached": True, "resolved": True, "satisfaction": "satisfied"}
    assert by_type["closed"]["data"]["reason"] == "satisfied"
    assert by_type["opened"]["at"].endswith("+08:00")
    assert not webhooks().exclude(state="sent").exists()


def test_a_later_event_waits_while_an_earlier_one_of_its_order_waits_for_a_retry(city, receiver, clock):
    receiver.script("down")
    api = city.client()
    case = Case.objects.get(number=api.post(ORDERS, order(), format="json").json()["number"])
    # Another order's event is not held back by this one's.
    other = Case.objects.get(number=api.post(ORDERS, order(id="OTHER-1"), format="json").json()["number"])
    assert messages_deliver_due() == {"retry": 1, "sent": 1}
    dispatch_case(case.pk)
    _opened, dispatched = webhooks().filter(group__endswith=f":{case.inbound.get().pk}").order_by("id")
    assert messages_deliver_due() == {}, "the dispatched event went before the opened one it follows"
    assert message_deliver(message_id=dispatched.pk) == "behind"
    assert receiver.attempts == 2
    clock.shift(timedelta(seconds=61))
    assert messages_deliver_due() == {"sent": 1}
    assert messages_deliver_due() == {"sent": 1}
    assert [event["type"] for event in receiver.in_order()] == ["opened", "opened", "dispatched"]
    assert [event["order_id"] for event in receiver.in_order()] == ["OTHER-1", "SY2026031000123", "SY2026031000123"]
    assert other.pk != case.pk


def test_a_receiver_that_refuses_an_event_for_good_fails_it_lets_the_next_go_and_the_admin_sends_it_again(
    city, receiver, clock, admin_client
):
    receiver.script("gone")
    api = city.client()
    case = Case.objects.get(number=api.post(ORDERS, order(), format="json").json()["number"])
    assert messages_deliver_due() == {"rejected": 1}
    dispatch_case(case.pk)
    assert messages_deliver_due() == {"sent": 1}
    failed = webhooks().get(state="failed")
    assert (failed.gateway_code, failed.last_error) == ("HTTP 410", "the receiver answered HTTP 410")

    # The delivery log of the city's platform shows it, with the error; sent again from there.
    log = admin_client.get(f"/admin/integrations/webhookdelivery/?system={city.system.pk}")
    assert log.status_code == 200 and failed.key in log.content.decode() and "HTTP 410" in log.content.decode()
    admin_client.post(
        "/admin/integrations/webhookdelivery/", {"action": "resend", "_selected_action": [failed.pk]}, follow=True
    )
    assert messages_deliver_due() == {"sent": 1}
    assert [event["type"] for event in receiver.in_order()] == ["dispatched", "opened"]
    assert not webhooks().exclude(state="sent").exists()


def test_a_redirect_is_not_followed_and_a_system_without_a_secret_is_tried_again(city, receiver, clock):
    receiver.script("moved")
    api = city.client()
    api.post(ORDERS, order(), format="json")
    assert messages_deliver_due() == {"rejected": 1}
    System.objects.filter(pk=city.system.pk).update(webhook_secret="")
    api.post(ORDERS, order(id="NO-SECRET"), format="json")
    assert messages_deliver_due() == {"retry": 1}
    assert webhooks().get(state="pending").gateway_code == "no_secret"
    System.objects.filter(pk=city.system.pk).update(webhook_secret=SECRET)
    clock.shift(timedelta(seconds=61))
    assert messages_deliver_due() == {"sent": 1}
    assert receiver.refused == []
