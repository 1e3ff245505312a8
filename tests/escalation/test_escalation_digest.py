"""The 08:30 digest to unit heads: overdue and due today, on working days, once."""

import pytest
import time_machine
from django.utils import translation

from escalation.services import digests_send
from outbox.models import Message
from routing.tasks import dispatch_case
from tests.escalation.test_escalation import DISPATCHED, at, with_heads
from tests.factories import open_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(cast, categories):
    return with_heads(cast)


def digests():
    # The callers' acknowledgement SMS are in the outbox too.
    return Message.objects.filter(key__startswith="digest:")


def test_the_committee_head_gets_one_digest_on_a_working_morning_and_none_at_the_weekend(world):
    with time_machine.travel(DISPATCHED, tick=False):
        for n in range(2):
            dispatch_case(open_case(world, description=f"{n}号楼垃圾无人清理").pk)
    # Wednesday 08:30: both were due to be signed for by Tuesday 12:00.
    with time_machine.travel(at(11, 3, 8, 30), tick=False):
        digests_send()
        digests_send()
    assert digests().count() == 2, "a second run the same morning wrote again"
    texts = digests().filter(user__username="t_committee_head")
    assert sorted(texts.values_list("channel", flat=True)) == ["email", "sms"]
    assert "2" in texts.get(channel="sms").text
    # Saturday: no digest.
    with time_machine.travel(at(14, 3, 8, 30), tick=False):
        digests_send()
    assert digests().count() == 2
    # Units with nothing overdue and nothing due today hear nothing.
    assert not Message.objects.filter(user__username="t_dept_head").exists()


def test_the_digest_goes_at_the_time_and_with_the_counts_set_in_the_admin(world):
    from notices.models import NoticeSettings

    # load(): a test that flushed the database before this one took the migration's row with it.
    NoticeSettings.load()
    NoticeSettings.objects.filter(pk=1).update(
        digest_at="09:15", digest_overdue=False, digest_waiting=True, digest_email=False
    )
    with time_machine.travel(DISPATCHED, tick=False):
        dispatch_case(open_case(world, description="3号楼垃圾无人清理").pk)
    with time_machine.travel(at(11, 3, 9, 10), tick=False):
        assert digests_send() == 0, "sent before the time set in the admin"
    with time_machine.travel(at(11, 3, 9, 15), tick=False):
        assert digests_send() == 1
        assert digests_send() == 0
    (sms,) = digests()
    assert sms.channel == "sms" and sms.template == "staff_digest"
    assert "待签收 1 件" in sms.text and "超期" not in sms.text


def test_the_digest_is_written_in_chinese_whatever_language_is_active(world):
    """A worker process or a test that left English active must not send heads an English SMS."""
    with time_machine.travel(DISPATCHED, tick=False):
        dispatch_case(open_case(world, description="5号楼垃圾无人清理").pk)
    with time_machine.travel(at(11, 3, 8, 30), tick=False), translation.override("en"):
        digests_send()
    sms = digests().get(user__username="t_committee_head", channel="sms")
    assert "件" in sms.text and "overdue" not in sms.text and "due today" not in sms.text, sms.text
