"""The 08:30 digest to unit heads: overdue and due today, on working days, once."""

import pytest
import time_machine

from escalation.services import digests_send
from outbox.models import Message
from routing.tasks import dispatch_case
from tests.escalation.test_escalation import DISPATCHED, at, with_heads
from tests.factories import open_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(cast, categories):
    return with_heads(cast)


def test_the_committee_head_gets_one_digest_on_a_working_morning_and_none_at_the_weekend(world):
    with time_machine.travel(DISPATCHED, tick=False):
        for n in range(2):
            dispatch_case(open_case(world, description=f"{n}号楼垃圾无人清理").pk)
    # Wednesday 08:30: both were due to be signed for by Tuesday 12:00.
    with time_machine.travel(at(11, 3, 8, 30), tick=False):
        digests_send()
        digests_send()
    assert Message.objects.count() == 2, "a second run the same morning wrote again"
    texts = Message.objects.filter(user__username="t_committee_head")
    assert sorted(texts.values_list("channel", flat=True)) == ["email", "sms"]
    assert "2" in texts.get(channel="sms").text
    # Saturday: no digest.
    with time_machine.travel(at(14, 3, 8, 30), tick=False):
        digests_send()
    assert Message.objects.count() == 2
    # Units with nothing overdue and nothing due today hear nothing.
    assert not Message.objects.filter(user__username="t_dept_head").exists()
