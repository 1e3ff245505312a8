"""Two calls at once: a call does not wait for another call still being written.

Each new case takes its number from the day's counter row. Taken inside the call's transaction,
that row stayed locked until the whole call (case, event, notices, SMS, call) was committed, so
every other call of the day queued behind it: at a million cases, four clients logging calls on
two cores spent most of their time waiting on that lock (docs/performance.md). The number is now
taken before the transaction, so only the counter's own statement holds the row."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from cases.lifecycle import case_moved
from cases.models import Case
from tests.factories import call_body

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_call_does_not_wait_for_another_call_still_being_written(cast, categories):
    first_inside, first_may_go = threading.Event(), threading.Event()
    answers = {}

    def hold_the_first(sender, event, **kwargs):
        # The first call's case is written and its transaction still open (the open event is
        # recorded in it): it waits here until the second call has been answered.
        if threading.current_thread().name == "first":
            first_inside.set()
            first_may_go.wait(30)

    def post(name, description):
        client = APIClient()
        client.force_authenticate(cast.dispatcher)
        try:
            answers[name] = client.post("/api/v1/calls/", call_body(description=description), format="json")
        finally:
            connection.close()

    case_moved.connect(hold_the_first)
    first = threading.Thread(target=post, args=("first", "小区门口垃圾堆放多日无人清理"), name="first")
    second = threading.Thread(target=post, args=("second", "楼道灯坏了一个多月"), name="second")
    try:
        first.start()
        assert first_inside.wait(30), "the first call never reached its open event"
        second.start()
        second.join(30)
        second_answered = not second.is_alive()
    finally:
        first_may_go.set()
        first.join(30)
        second.join(30)
        case_moved.disconnect(hold_the_first)

    assert second_answered, "the second call waited for the first call's transaction to end"
    assert answers["first"].status_code == answers["second"].status_code == 201
    numbers = [answers[name].json()["case"]["number"] for name in ("first", "second")]
    # Numbered in the order the calls came in, one apart, both cases saved.
    assert [int(number[-5:]) for number in numbers] == [1, 2]
    assert set(Case.objects.values_list("number", flat=True)) == set(numbers)
