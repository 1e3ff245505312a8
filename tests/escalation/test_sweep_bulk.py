"""The sweep checks its due assignments together (issue 24): many at once leave exactly what
checking them one by one leaves, its statements do not grow with the assignments due, it passes
by a case someone holds, and one assignment that cannot be checked holds back only itself."""

import operator
import threading
from datetime import datetime
from functools import reduce

import pytest
import time_machine
from django.db import connection, transaction
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from cases.models import Case
from escalation.models import Alert, Supervision
from escalation.services import assignment_check, deadlines_sweep
from notices.models import Notification
from outbox.models import Message
from routing.models import Assignment
from routing.tasks import dispatch_case
from tests.escalation.test_escalation import DISPATCHED, at, handled_promptly, with_heads
from tests.escalation.test_escalation_concurrency import WEEKS_LATER, stalled_cases  # noqa: F401 (a fixture)
from tests.factories import open_case

SWEEP_ACTIONS = ("deadline_warning", "overdue", "chase", "notice", "supervise")


@pytest.fixture
def world(cast, categories):
    return with_heads(cast)


def never_signed(world):
    with time_machine.travel(DISPATCHED, tick=False):
        case = open_case(world, description="3号楼门口垃圾堆放多日")
        dispatch_case(case.pk)
    return case


def cases_of_each_kind(world):
    """A community's case and a department's, each handled at once but never resolved, and a
    community's case never signed for."""
    return [
        handled_promptly(world, "0201", world.community_clerk),
        handled_promptly(world, "0103", world.dept_clerk),
        never_signed(world),
    ]


def left_by_the_sweep(case):
    """What the sweep wrote for one case, without what differs between two cases alike (the
    case's number, the ids): its alerts, supervisions, events, inbox rows and outbox messages."""
    number = case.number
    assignments = Assignment.objects.filter(case=case)
    events = list(case.events.filter(action__in=SWEEP_ACTIONS).order_by("id"))
    order = {event.pk: n for n, event in enumerate(events)}

    def plain(text):
        return str(text).replace(number, "<number>")

    def key(text):
        _notice, event, rest = text.split(":", 2)
        return f"notice:<event {order[int(event)]}>:{rest}"

    return {
        "alerts": list(Alert.objects.filter(assignment__in=assignments).order_by("id").values_list("limit", "stage")),
        "supervisions": list(Supervision.objects.filter(case=case).order_by("id").values_list("unit", "level")),
        "events": [(event.action, event.from_status, event.to_status, event.actor_id, event.data) for event in events],
        "inbox": [
            (user, kind, plain(text), plain(url))
            for user, kind, text, url in Notification.objects.filter(case=case)
            .exclude(kind="assigned")
            .order_by("id")
            .values_list("user", "kind", "text", "url")
        ],
        "outbox": [
            (row.channel, row.to, plain(row.text), key(row.key), row.emergency, row.template, plain(row.params))
            for row in Message.objects.filter(
                reduce(operator.or_, (Q(key__startswith=f"notice:{pk}:") for pk in order), Q(pk__in=[]))
            ).order_by("id")
        ],
    }


def test_many_assignments_due_in_one_sweep_leave_what_checking_them_one_by_one_leaves(world):
    together, one_by_one = cases_of_each_kind(world), cases_of_each_kind(world)
    singles = list(Assignment.objects.filter(case__in=one_by_one).values_list("pk", flat=True))
    for moment in (at(17, 3, 11, 53), at(19, 3, 10), at(20, 3, 8, 30), at(30, 3, 10), at(30, 4, 10)):
        with time_machine.travel(moment, tick=False):
            for assignment_id in singles:
                assignment_check(assignment_id=assignment_id)
            # The ones checked one by one are not due again: the sweep checks only the others.
            assert not Assignment.objects.filter(pk__in=singles, next_check_at__lte=moment).exists()
            assert deadlines_sweep()["checked"] >= 1
    for swept, checked in zip(together, one_by_one, strict=True):
        left = left_by_the_sweep(swept)
        assert left == left_by_the_sweep(checked)
        assert left["alerts"] and left["events"] and left["inbox"] and left["outbox"]
    # The community's case went the whole way: warned, overdue, chased, noticed, supervised twice.
    assert [action for action, *_rest in left_by_the_sweep(together[0])["events"]] == [
        "deadline_warning",
        "overdue",
        "chase",
        "notice",
        "supervise",
        "supervise",
    ]


def test_a_sweeps_statements_do_not_grow_with_the_assignments_due(world, django_assert_max_num_queries):
    cases = [never_signed(world) for _ in range(55)]
    few, many = cases[:5], cases[5:]
    Assignment.objects.filter(case__in=many).update(next_check_at=None)
    with time_machine.travel(WEEKS_LATER, tick=False), CaptureQueriesContext(connection) as five:
        assert deadlines_sweep()["fired"] == 5 * 18
    Assignment.objects.filter(case__in=many).update(next_check_at=DISPATCHED)
    with time_machine.travel(WEEKS_LATER, tick=False), django_assert_max_num_queries(len(five.captured_queries)):
        assert deadlines_sweep()["fired"] == 50 * 18
    assert len(five.captured_queries) <= 40
    # Every one of the fifty was told as each of the five was: the committee's clerk, per case,
    # of three notices and of the street office's supervision (once per level).
    for case in (few[0], many[-1]):
        kinds = list(Notification.objects.filter(case=case, user=world.street_clerk).values_list("kind", flat=True))
        assert sorted(kinds) == ["notice", "notice", "notice", "supervise"]


@pytest.mark.django_db(transaction=True)
def test_a_sweep_passes_by_a_case_someone_holds_and_the_next_sweep_takes_it(stalled_cases):  # noqa: F811
    held = stalled_cases[0]
    locked, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                Case.objects.select_for_update().get(pk=held.pk)
                locked.set()
                release.wait(60)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(30)
        with time_machine.travel(WEEKS_LATER, tick=False):
            # The sweep does not wait for the person: it fires the other four cases' stages.
            outcome = deadlines_sweep()
    finally:
        release.set()
        holder.join()
    assert outcome["fired"] == 4 * 18
    assert not Alert.objects.filter(assignment__case=held).exists()
    assert not held.events.filter(action__in=SWEEP_ACTIONS).exists()
    # Still due: the next sweep looks at it.
    assert Assignment.objects.get(case=held).next_check_at <= WEEKS_LATER
    with time_machine.travel(WEEKS_LATER, tick=False):
        assert deadlines_sweep()["fired"] == 18


def test_an_assignment_that_cannot_be_checked_holds_back_only_itself(stalled_cases):  # noqa: F811
    # A resolution deadline typed as the last days of year 9999 by a data fix, after its first
    # stages were recorded: the moment of its formal notice overflows the calendar.
    broken = Assignment.objects.get(case=stalled_cases[0])
    typo = datetime(9999, 12, 30, tzinfo=DISPATCHED.tzinfo)
    Assignment.objects.filter(pk=broken.pk).update(resolve_due=typo)
    for stage in ("warning", "overdue", "chase"):
        Alert.objects.create(assignment=broken, limit="resolve", due=typo, stage=stage, at=DISPATCHED)
    with time_machine.travel(WEEKS_LATER, tick=False):
        assert deadlines_sweep()["fired"] == 4 * 18
    assert Alert.objects.filter(assignment=broken).count() == 3
    assert Alert.objects.count() == 4 * 18 + 3
    assert Assignment.objects.get(pk=broken.pk).next_check_at <= WEEKS_LATER
