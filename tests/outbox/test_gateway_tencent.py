"""SMS through Tencent Cloud's adapter (the vendor's SDK), against a local fake of SMS API 3.0
that checks each request as the vendor documents it (tests/outbox/fakes.py)."""

import hashlib
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from outbox.models import Message
from outbox.services import (
    RECOVER_AFTER,
    message_deliver,
    message_queue,
    messages_deliver_due,
    messages_poll_reports,
    messages_recover,
)
from tests.outbox.conftest import kill_mid_send, vendor_environment
from tests.outbox.fakes import tc3_signature

pytestmark = [
    pytest.mark.django_db,
    # The vendor's SDK still dates its signature with datetime.utcfromtimestamp (Python 3.12 warns).
    pytest.mark.filterwarnings("ignore:datetime.datetime.utcfromtimestamp:DeprecationWarning"),
]

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=SHANGHAI)
ACK = (("number", "SJT20260310-0042"), ("link", "https://suqu.example.gov.cn/s/abc/"))


@pytest.fixture
def noon():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def ack(key="ack:1", to="13800138000", template="case_ack", params=ACK):
    with transaction.atomic():
        return message_queue(
            channel="sms", to=to, text="您反映的问题已受理。", key=key, template=template, params=params, quiet=None
        )


def reload(message):
    message.refresh_from_db()
    return message


def test_the_fake_signs_the_vendors_worked_example_as_documented():
    # Tencent Cloud's documentation (API 3.0, "Signature v3") works this DescribeInstances request
    # through to its signature; the fake's check is held to it, so an adapter that passes the
    # fake signs as the vendor expects.
    payload = b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
    assert hashlib.sha256(payload).hexdigest() == "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    assert (
        tc3_signature(
            "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
            method="POST",
            path="/",
            query="",
            headers={"content-type": "application/json; charset=utf-8", "host": "cvm.tencentcloudapi.com"},
            signed_headers="content-type;host",
            payload=payload,
            timestamp="1551113065",
            service="cvm",
        )
        == "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    )


def test_an_accepted_sms_carries_its_template_and_variables_in_order_and_is_marked_sent(noon, tencent):
    message = ack()
    assert message_deliver(message_id=message.pk) == "sent"
    message = reload(message)
    [accepted] = tencent.accepted
    assert (message.state, message.provider_id, message.gateway_code, message.sent_at) == (
        "sent",
        accepted["provider_id"],
        "Ok",
        NOON,
    )
    assert {key: accepted[key] for key in ("message_id", "number", "template", "params")} == {
        "message_id": str(message.pk),
        "number": "+8613800138000",
        "template": "2210001",
        # Tencent Cloud numbers the variables: {1} the case number, {2} the link.
        "params": ["SJT20260310-0042", "https://suqu.example.gov.cn/s/abc/"],
    }
    assert tencent.refused == []


@pytest.mark.parametrize(
    "code",
    [
        "FailedOperation.TemplateIncorrectOrUnapproved",
        "FailedOperation.InsufficientBalanceInSmsPackage",
        "InvalidParameterValue.IncorrectPhoneNumber",  # refused in the number's SendStatus
        "FailedOperation.PhoneNumberInBlacklist",  # the resident opted out (退订)
    ],
)
def test_a_permanent_refusal_fails_the_message_and_it_is_never_sent_again(noon, tencent, code):
    message = ack()
    tencent.script(code)
    assert message_deliver(message_id=message.pk) == "rejected"
    message = reload(message)
    assert (message.state, message.gateway_code) == ("failed", code)
    noon.shift(timedelta(hours=2))
    assert messages_deliver_due() == {}
    assert tencent.sends() == 1


@pytest.mark.parametrize(
    "outcome",
    ["LimitExceeded.PhoneNumberThirtySecondLimit", "InternalError.Timeout", "RequestLimitExceeded", "http500"],
)
def test_a_transient_failure_is_retried_after_its_back_off_and_the_sms_goes_out_once(noon, tencent, outcome):
    message = ack()
    tencent.script(outcome)
    assert message_deliver(message_id=message.pk) == "retry"
    message = reload(message)
    assert (message.state, message.attempts, message.next_attempt_at) == ("pending", 1, NOON + timedelta(minutes=1))
    assert message.gateway_code == ("ServerNetworkError" if outcome == "http500" else outcome)
    noon.shift(timedelta(seconds=59))
    assert messages_deliver_due() == {}, "retried before its back-off"
    noon.shift(timedelta(seconds=1))
    assert messages_deliver_due() == {"sent": 1}
    assert tencent.accepted_ids() == [str(message.pk)]


def test_a_gateway_that_does_not_answer_in_time_is_tried_again_and_the_sms_goes_out_once(noon, tencent):
    message = ack()
    tencent.script("timeout")
    assert message_deliver(message_id=message.pk) == "retry"
    message = reload(message)
    assert (message.state, message.gateway_code) == ("pending", "ClientNetworkError")
    noon.shift(timedelta(minutes=1))
    assert messages_deliver_due() == {"sent": 1}
    assert (tencent.sends(), tencent.accepted_ids()) == (2, [str(message.pk)])


def test_an_answer_that_came_too_late_is_found_by_its_report_and_not_sent_twice(noon, tencent):
    message = ack()
    tencent.script("late")
    assert message_deliver(message_id=message.pk) == "retry"
    noon.shift(timedelta(seconds=30))
    # Tencent Cloud lists a message by number once its delivery report is in.
    tencent.report(message.pk)
    noon.shift(timedelta(seconds=30))
    assert messages_deliver_due() == {"sent": 1}
    assert reload(message).provider_id == tencent.accepted[0]["provider_id"]
    assert (tencent.sends(), tencent.accepted_ids()) == (1, [str(message.pk)])


def test_a_wrong_secret_is_refused_by_the_vendors_signature_check(noon, tencent, settings):
    settings.SMS_KEY_SECRET = "not-the-secret"
    message = ack()
    assert message_deliver(message_id=message.pk) == "rejected"
    message = reload(message)
    assert (message.state, message.gateway_code) == ("failed", "AuthFailure.SignatureFailure")
    assert (tencent.refused, tencent.accepted) == (["AuthFailure.SignatureFailure"], [])


def test_a_number_that_is_not_a_mainland_mobile_fails_with_the_reason_and_no_request(noon, tencent):
    message = ack(to="+1 415 555 0100")
    assert message_deliver(message_id=message.pk) == "rejected"
    message = reload(message)
    assert (message.state, message.gateway_code, message.last_error) == (
        "failed",
        "not_mobile",
        "not a mainland China mobile number",
    )
    assert (tencent.calls, tencent.refused) == ([], [])


def test_delivery_reports_mark_messages_delivered_or_undelivered(noon, tencent):
    delivered, bounced, waiting = ack("ack:1"), ack("ack:2", to="13900139000"), ack("ack:3", to="13700137000")
    assert messages_deliver_due() == {"sent": 3}
    noon.shift(timedelta(seconds=20))
    tencent.report(delivered.pk)
    tencent.report(bounced.pk, delivered=False, code="MN:0001")
    noon.shift(timedelta(minutes=5))
    assert messages_poll_reports() == {"delivered": 1, "undelivered": 1}
    rows = {m.pk: (m.state, m.gateway_code, m.reported_at) for m in Message.objects.all()}
    assert rows == {
        delivered.pk: ("delivered", "DELIVRD", NOON + timedelta(seconds=20)),
        bounced.pk: ("undelivered", "MN:0001", NOON + timedelta(seconds=20)),
        waiting.pk: ("sent", "Ok", None),
    }
    # The queue hands each report out once; the late one comes with the next poll.
    tencent.report(waiting.pk)
    assert messages_poll_reports() == {"delivered": 1}
    assert [json.dumps(body) for action, body in tencent.calls if action == "PullSmsSendStatus"] == [
        json.dumps({"Limit": 100, "SmsSdkAppId": "1400123456"})
    ] * 2


def test_a_report_pulled_for_a_message_outside_the_poll_is_not_lost(noon, tencent):
    # The pull hands out whatever reports are queued, once: one for a message the poll did not ask
    # about (sent four days ago, past the three days it asks for) must still be recorded.
    old = ack("ack:old")
    assert message_deliver(message_id=old.pk) == "sent"
    noon.shift(timedelta(days=4))
    new = ack("ack:new", to="13900139000")
    assert message_deliver(message_id=new.pk) == "sent"
    tencent.report(old.pk)
    assert messages_poll_reports() == {"delivered": 1}
    assert (reload(old).state, reload(new).state) == ("delivered", "sent")


@pytest.mark.django_db(transaction=True)
def test_a_deliverer_killed_after_the_vendor_took_the_sms_is_settled_by_its_report_and_not_sent_twice(tencent):
    message = ack()
    environment = vendor_environment(
        tencent,
        "outbox.gateways.tencent.TencentSmsBackend",
        {"case_ack": "2210001"},
        SMS_APP_ID=tencent.app_id,
        SMS_REGION="ap-guangzhou",
    )
    kill_mid_send(message, tencent, environment)
    message = reload(message)
    assert (message.state, message.attempts) == ("sending", 1)
    assert messages_recover() == {}, "a deliverer may still be waiting for the answer"
    tencent.report(message.pk)
    with time_machine.travel(timezone.now() + RECOVER_AFTER + timedelta(minutes=1), tick=False):
        assert messages_recover() == {"found": 1}
        assert messages_deliver_due() == {}
    message = reload(message)
    assert (message.state, message.provider_id) == ("sent", tencent.accepted[0]["provider_id"])
    assert (tencent.sends(), tencent.accepted_ids()) == (1, [str(message.pk)])
