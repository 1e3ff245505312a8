"""The deadline sweep with the clock moved: warning → overdue → chase → notice → supervision, each
once, for a community's case and for a department's."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from escalation.models import Alert, EscalationPolicy, Supervision
from escalation.services import deadlines_sweep
from handling.services import case_contact
from notices.models import Notification
from outbox.models import Message
from routing import dispatch
from routing.models import Assignment
from routing.tasks import dispatch_case
from tests.factories import UserFactory, member, open_case, routing_setup
from units.models import Membership

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day, month, hour, minute=0, second=0):
    return datetime(2026, month, day, hour, minute, second, tzinfo=SHANGHAI)


# Dispatched Tuesday 2026-03-10 10:00; the default policy of routing_setup gives 7 working days to
# resolve: due Thursday 19 March 10:00 (no holidays in the test calendar).
DISPATCHED = at(10, 3, 10)


def with_heads(cast):
    """routing_setup, and a head with a phone and an email in each unit that escalation tells."""
    routing_setup(cast)
    for unit, name in (
        (cast.committee, "t_committee_head"),
        (cast.street_office, "t_street_head"),
        (cast.department, "t_dept_head"),
        (cast.leadership, "t_leader"),
    ):
        head = UserFactory(username=name, phone="1390000" + str(unit.pk).zfill(4), email=f"{name}@example.gov.cn")
        member(head, unit, role=Membership.Role.HEAD)
    return cast


@pytest.fixture
def world(cast, categories):
    return with_heads(cast)


def handled_promptly(world, category_code, clerk):
    """A case signed for and the resident contacted at once: only the resolution can run late."""
    with time_machine.travel(DISPATCHED, tick=False):
        case = open_case(world, category_code=category_code)
        dispatch_case(case.pk)
        dispatch.case_sign(case=case, actor=clerk)
        case_contact(case=case, actor=clerk, method="phone", agreed="约好上门查看")
    return case


def stages(case):
    return list(Alert.objects.filter(assignment__case=case).order_by("id").values_list("stage", flat=True))


def inbox_kinds(user, case):
    return list(Notification.objects.filter(user=user, case=case).order_by("id").values_list("kind", flat=True))


def sweep_twice(moment):
    with time_machine.travel(moment, tick=False):
        first, second = deadlines_sweep(), deadlines_sweep()
    assert second["fired"] == 0, "a second sweep at the same moment repeated something"
    return first["fired"]


def run(case, steps):
    for moment, expected in steps:
        before = stages(case)
        sweep_twice(moment)
        assert stages(case) == before + expected, f"at {moment:%m-%d %H:%M}"


def test_a_community_case_left_unresolved_is_warned_chased_noticed_and_supervised_up_two_levels_once(world):
    case = handled_promptly(world, "0201", world.community_clerk)
    run(
        case,
        [
            # 75% of the time, on the clock and in working time: 5.25 working days after dispatch.
            (at(17, 3, 11, 52), []),
            (at(17, 3, 11, 53), ["warning"]),
            (at(19, 3, 9, 59), []),
            (at(19, 3, 10), ["overdue"]),
            # The chase notice at the start of the next working day.
            (at(20, 3, 8, 29), []),
            (at(20, 3, 8, 30), ["chase"]),
            # Five overdue working days: a formal notice to the street office.
            (at(26, 3, 9, 59), []),
            (at(26, 3, 10), ["notice"]),
            # Seven: the street office supervises; five more: the district leadership too.
            (at(30, 3, 9, 59), []),
            (at(30, 3, 10), ["supervise_1"]),
            (at(6, 4, 9, 59), []),
            (at(6, 4, 10), ["supervise_2"]),
            (at(30, 4, 10), []),
        ],
    )
    assert inbox_kinds(world.community_clerk, case) == [
        "assigned",
        "deadline_warning",
        "overdue",
        "chase",
        "notice",
        "supervise",
        "supervise",
    ]
    assert inbox_kinds(world.street_clerk, case) == ["notice", "supervise"]
    assert inbox_kinds(world.official, case) == ["supervise"]
    assert list(
        Supervision.objects.filter(case=case).order_by("level").values_list("unit__code", "level", "ended_at")
    ) == [(world.street_office.code, 1, None), (world.leadership.code, 2, None)]
    events = list(case.events.order_by("at", "id").values_list("action", flat=True))
    assert events[events.index("contact") + 1 :] == [
        "deadline_warning",
        "overdue",
        "chase",
        "notice",
        "supervise",
        "supervise",
    ]
    # SMS and email to the heads: the committee's at overdue and at each supervision step, the
    # street office's at the notice; each written once.
    texts = Message.objects.filter(channel="sms", user__isnull=False)
    assert sorted(texts.values_list("user__username", flat=True)) == [
        "t_committee_head",
        "t_committee_head",
        "t_committee_head",
        "t_street_head",
    ]
    assert Message.objects.filter(channel="email").count() == 4
    assert Assignment.objects.get(case=case).next_check_at is None


def test_a_department_case_is_supervised_by_the_district_leadership_and_goes_no_higher(world):
    case = handled_promptly(world, "0103", world.dept_clerk)
    run(
        case,
        [
            (at(17, 3, 11, 53), ["warning"]),
            (at(19, 3, 10), ["overdue"]),
            (at(20, 3, 8, 30), ["chase"]),
            (at(26, 3, 10), ["notice"]),
            (at(30, 3, 10), ["supervise_1"]),
            (at(30, 6, 10), []),
        ],
    )
    assert inbox_kinds(world.official, case) == ["notice", "supervise"]
    assert list(Supervision.objects.filter(case=case).values_list("unit__code", "level")) == [
        (world.leadership.code, 1)
    ]


def test_a_sweep_that_was_down_for_weeks_catches_up_once_and_in_order(world):
    case = handled_promptly(world, "0201", world.community_clerk)
    assert sweep_twice(at(30, 4, 10)) == 6
    assert stages(case) == ["warning", "overdue", "chase", "notice", "supervise_1", "supervise_2"]


def test_a_case_never_signed_for_escalates_on_its_sign_for_deadline(world):
    with time_machine.travel(DISPATCHED, tick=False):
        case = open_case(world)
        dispatch_case(case.pk)
    # Sign-for within 2 working hours: due 12:00; the warning at 11:30.
    run(case, [(at(10, 3, 11, 29), []), (at(10, 3, 11, 30), ["warning"]), (at(10, 3, 12), ["overdue"])])
    assert set(Alert.objects.filter(assignment__case=case).values_list("limit", flat=True)) == {"sign"}


def test_signing_for_stops_the_sign_for_stages(world):
    with time_machine.travel(DISPATCHED, tick=False):
        case = open_case(world)
        dispatch_case(case.pk)
    sweep_twice(at(10, 3, 11, 30))
    with time_machine.travel(at(10, 3, 11, 45), tick=False):
        dispatch.case_sign(case=case, actor=world.community_clerk)
    sweep_twice(at(11, 3, 8, 30))
    # No overdue or chase for the sign-for deadline; the first contact (due Wednesday 10:00) warns.
    assert list(Alert.objects.filter(assignment__case=case).values_list("limit", "stage")) == [
        ("sign", "warning"),
        ("contact", "warning"),
    ]


def test_the_warning_share_and_the_supervision_delay_come_from_the_policy(world):
    EscalationPolicy.objects.update_or_create(pk=1, defaults={"warning_percent": 50, "supervise_after_days": 1})
    case = handled_promptly(world, "0201", world.community_clerk)
    # Half of 7 working days: 3.5 working days (26.25 h) after Tuesday 10:00 is Friday 14:45.
    run(case, [(at(13, 3, 14, 44), []), (at(13, 3, 14, 45), ["warning"])])
    run(case, [(at(20, 3, 10), ["overdue", "chase", "supervise_1"])])


def test_the_sweep_reads_only_assignments_whose_next_check_has_come(world, django_assert_num_queries):
    handled_promptly(world, "0201", world.community_clerk)
    sweep_twice(at(10, 3, 10, 1))
    # Nothing is due: one query for the due rows, one to end finished supervisions.
    with time_machine.travel(at(11, 3, 10), tick=False), django_assert_num_queries(2):
        assert deadlines_sweep() == {"checked": 0, "fired": 0, "ended": 0}
