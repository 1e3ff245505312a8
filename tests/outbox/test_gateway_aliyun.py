"""SMS through Alibaba Cloud's adapter, against a local fake of dysmsapi that checks each request as
the vendor documents it (tests/outbox/fakes.py). A deliverer killed mid-send, with a real process
and this gateway, is in test_worker.py."""

import os
import runpy
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from outbox.gateways.aliyun import signature
from outbox.models import Message
from outbox.services import message_deliver, message_queue, messages_deliver_due, messages_poll_reports
from tests.outbox.fakes import aliyun_signature

pytestmark = pytest.mark.django_db

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
    # Alibaba Cloud's documentation signs this DescribeRegions request with "testsecret"; the
    # fake's check is held to it, so an adapter that passes the fake signs as the vendor expects.
    documented = {
        "AccessKeyId": "testid",
        "Action": "DescribeRegions",
        "Format": "XML",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "SignatureVersion": "1.0",
        "Timestamp": "2016-02-23T12:46:24Z",
        "Version": "2014-05-26",
    }
    assert aliyun_signature("GET", documented, "testsecret") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
    assert signature("GET", documented, "testsecret") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


def test_an_accepted_sms_carries_its_template_and_variables_and_is_marked_sent(noon, aliyun):
    message = ack()
    assert message_deliver(message_id=message.pk) == "sent"
    message = reload(message)
    [accepted] = aliyun.accepted
    assert (message.state, message.provider_id, message.gateway_code, message.sent_at) == (
        "sent",
        accepted["provider_id"],
        "OK",
        NOON,
    )
    assert {key: accepted[key] for key in ("message_id", "number", "template", "params")} == {
        "message_id": str(message.pk),
        "number": "13800138000",
        "template": "SMS_460010001",
        "params": {"number": "SJT20260310-0042", "link": "https://suqu.example.gov.cn/s/abc/"},
    }
    assert aliyun.refused == []


def test_a_number_written_with_the_country_code_goes_out_as_eleven_digits(noon, aliyun):
    message = ack(to="+86 138-0013-8000")
    assert message_deliver(message_id=message.pk) == "sent"
    assert aliyun.accepted[0]["number"] == "13800138000"


@pytest.mark.parametrize(
    "code", ["isv.AMOUNT_NOT_ENOUGH", "isv.MOBILE_NUMBER_ILLEGAL", "isv.SMS_TEMPLATE_ILLEGAL", "Forbidden.RAM"]
)
def test_a_permanent_refusal_fails_the_message_and_it_is_never_sent_again(noon, aliyun, code):
    message = ack()
    aliyun.script(code)
    assert message_deliver(message_id=message.pk) == "rejected"
    message = reload(message)
    assert (message.state, message.gateway_code) == ("failed", code)
    assert code in message.last_error
    noon.shift(timedelta(hours=2))
    assert messages_deliver_due() == {}
    assert aliyun.sends() == 1


@pytest.mark.parametrize("outcome", ["isv.BUSINESS_LIMIT_CONTROL", "isp.SYSTEM_ERROR", "ServiceUnavailable", "http500"])
def test_a_transient_failure_is_retried_after_its_back_off_and_the_sms_goes_out_once(noon, aliyun, outcome):
    message = ack()
    aliyun.script(outcome)
    assert message_deliver(message_id=message.pk) == "retry"
    message = reload(message)
    assert (message.state, message.attempts, message.next_attempt_at) == ("pending", 1, NOON + timedelta(minutes=1))
    assert message.gateway_code == ("http_500" if outcome == "http500" else outcome)
    noon.shift(timedelta(seconds=59))
    assert messages_deliver_due() == {}, "retried before its back-off"
    noon.shift(timedelta(seconds=1))
    assert messages_deliver_due() == {"sent": 1}
    assert aliyun.accepted_ids() == [str(message.pk)]


def test_a_gateway_that_does_not_answer_in_time_is_tried_again_and_the_sms_goes_out_once(noon, aliyun):
    message = ack()
    aliyun.script("timeout")
    assert message_deliver(message_id=message.pk) == "retry"
    message = reload(message)
    assert (message.state, message.gateway_code) == ("pending", "timeout")
    assert aliyun.accepted == []
    noon.shift(timedelta(minutes=1))
    assert messages_deliver_due() == {"sent": 1}
    assert (aliyun.sends(), aliyun.accepted_ids()) == (2, [str(message.pk)])


def test_an_answer_that_came_too_late_is_found_at_the_gateway_and_not_sent_twice(noon, aliyun):
    # The vendor took the message, but its answer came after the adapter stopped waiting: the
    # retry asks QuerySendDetails first and finds it there.
    message = ack()
    aliyun.script("late")
    assert message_deliver(message_id=message.pk) == "retry"
    noon.shift(timedelta(minutes=1))
    assert messages_deliver_due() == {"sent": 1}
    assert reload(message).state == "sent"
    assert (aliyun.sends(), aliyun.accepted_ids()) == (1, [str(message.pk)])


def test_a_wrong_secret_is_refused_by_the_vendors_signature_check(noon, aliyun, settings):
    settings.SMS_KEY_SECRET = "not-the-secret"
    message = ack()
    assert message_deliver(message_id=message.pk) == "rejected"
    message = reload(message)
    assert (message.state, message.gateway_code) == ("failed", "SignatureDoesNotMatch")
    assert (aliyun.refused, aliyun.accepted) == (["SignatureDoesNotMatch"], [])


def test_a_number_that_is_not_a_mainland_mobile_fails_with_the_reason_and_no_request(noon, aliyun):
    message = ack(to="024-89881234")
    assert message_deliver(message_id=message.pk) == "rejected"
    message = reload(message)
    assert (message.state, message.gateway_code, message.last_error) == (
        "failed",
        "not_mobile",
        "not a mainland China mobile number",
    )
    assert (aliyun.calls, aliyun.refused) == ([], [])


def test_a_template_without_a_vendor_id_fails_with_the_reason_and_no_request(noon, aliyun):
    message = ack(template="case_reopened")
    assert message_deliver(message_id=message.pk) == "rejected"
    message = reload(message)
    assert (message.state, message.gateway_code) == ("failed", "no_template")
    assert "'case_reopened'" in message.last_error and "SMS_TEMPLATES" in message.last_error
    assert aliyun.calls == []


def test_delivery_reports_mark_messages_delivered_or_undelivered(noon, aliyun):
    delivered, bounced, waiting = ack("ack:1"), ack("ack:2", to="13900139000"), ack("ack:3", to="13700137000")
    assert messages_deliver_due() == {"sent": 3}
    noon.shift(timedelta(seconds=20))
    aliyun.report(delivered.pk)
    aliyun.report(bounced.pk, delivered=False, code="MK:0001")
    noon.shift(timedelta(minutes=5))
    assert messages_poll_reports() == {"delivered": 1, "undelivered": 1}
    rows = {m.pk: (m.state, m.gateway_code, m.reported_at) for m in Message.objects.all()}
    assert rows == {
        delivered.pk: ("delivered", "DELIVERED", NOON + timedelta(seconds=20)),
        bounced.pk: ("undelivered", "MK:0001", NOON + timedelta(seconds=20)),
        waiting.pk: ("sent", "OK", None),
    }
    # The one still waiting for its handset is asked about again on the next poll.
    aliyun.report(waiting.pk)
    assert messages_poll_reports() == {"delivered": 1}


def read_settings(monkeypatch, **environment):
    """Run suqu/settings.py as a process does at start, with these SMS_* variables only."""
    for name in [name for name in os.environ if name.startswith("SMS_")]:
        monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(Path(settings.BASE_DIR) / "suqu" / "settings.py"))


ALIYUN = {
    "SMS_BACKEND": "outbox.gateways.aliyun.AliyunSmsBackend",
    "SMS_KEY_ID": "LTAI5tTestKeyId0001",
    "SMS_KEY_SECRET": "secret",
    "SMS_SIGN_NAME": "苏家屯民呼我应",
    "SMS_TEMPLATES": "case_ack=SMS_460010001, case_resolved=SMS_460010002",
}
TENCENT = {**ALIYUN, "SMS_BACKEND": "outbox.gateways.tencent.TencentSmsBackend", "SMS_APP_ID": "1400123456"}


@pytest.mark.parametrize(
    ("environment", "missing"),
    [
        ({**ALIYUN, "SMS_KEY_SECRET": ""}, "SMS_KEY_SECRET"),
        ({**ALIYUN, "SMS_TEMPLATES": ""}, "SMS_TEMPLATES"),
        ({**TENCENT, "SMS_APP_ID": ""}, "SMS_APP_ID"),
    ],
)
def test_a_vendor_named_without_what_it_needs_stops_the_process_at_start(monkeypatch, environment, missing):
    with pytest.raises(ImproperlyConfigured, match=f"{missing}: required but not set"):
        read_settings(monkeypatch, **environment)


def test_the_vendors_settings_are_read_from_the_environment(monkeypatch):
    values = read_settings(monkeypatch, **TENCENT, SMS_TIMEOUT="5")
    assert values["SMS_TEMPLATES"] == {"case_ack": "SMS_460010001", "case_resolved": "SMS_460010002"}
    assert (values["SMS_REGION"], values["SMS_TIMEOUT"], values["SMS_ENDPOINT"]) == ("ap-guangzhou", 5, "")
    with pytest.raises(ImproperlyConfigured, match="SMS_TEMPLATES: expected key=template id, got 'case_ack'"):
        read_settings(monkeypatch, **{**ALIYUN, "SMS_TEMPLATES": "case_ack"})
    # Without a vendor, nothing SMS_* is needed.
    assert read_settings(monkeypatch)["SMS_TEMPLATES"] == {}
