"""Every figure of docs/metrics.md's worked example, computed by hand and checked number by number.

The week of the example (Tuesday 10 and Wednesday 11 March 2026, office hours 08:30–12:00 and
13:00–17:00; sign-for within 2 working hours, first contact within 1 working day, resolution
within 7 working days):

Tue 10:00  A1–A5 open in 金山社区第1网格 (A3 is 物业管理, led by 区住建局; the others
           are 环境卫生, led by 金山社区居委会); C1 opens in 民主村 (led by 民主村村委会).
Tue 10:30  A1, A3, A4, A5 and C1 are signed for (on time: due 12:00).
Tue 11:00  the residents of A1, A5 and C1 are contacted; A4 is returned (not our area).
Tue 13:00  A2 is signed for, an hour late; 13:30 its resident is contacted.
Tue 14:00  A1, A5 and C1 are resolved; 16:00 A3 is resolved without a recorded contact.
Wed 10:00  A2 is resolved. Callbacks: A1 solved and satisfied (closed); A3 not solved,
           unsatisfied (reopened to 区住建局: a redo); A5 solved but unsatisfied, exempted
           (超出政策范围); C1 unreached three times (closed as unreachable).
Wed 11:00  A2's resident: solved, basically satisfied (closed).
Wed 12:00  the figures are read.
"""

import datetime

import pytest
import time_machine
from django.utils import timezone

from cases.models import Case
from feedback import metrics, services
from handling.services import case_contact, case_resolve
from routing import dispatch
from routing.tasks import dispatch_case
from tests.factories import UserFactory, member, open_case
from tests.handling.helpers import SHANGHAI

MARCH = metrics.Period.month("2026-03")


def at(day, hour, minute=0):
    return datetime.datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def example(world, clock):
    """The worked example; returns the cases by name."""
    return play_example(world, clock)


def play_example(world, clock):
    """The worked example played on `world` (the cast with its routing rules) with `clock` (a
    stopped time-machine traveller), which it leaves at Wednesday 12:00; returns the cases by name."""
    world.village_clerk = member(UserFactory(username="t_village", real_name="冯村委"), world.other_committee)
    clerk = {
        world.committee.pk: world.community_clerk,
        world.department.pk: world.dept_clerk,
        world.other_committee.pk: world.village_clerk,
    }
    cases = {name: open_case(world, grid=world.grid_a) for name in ("A1", "A2", "A4", "A5")}
    cases["A3"] = open_case(world, grid=world.grid_a, category_code="0103")
    cases["C1"] = open_case(world, grid=world.grid_c)
    for case in cases.values():
        dispatch_case(case.pk)

    def by(name):
        case = Case.objects.get(pk=cases[name].pk)
        unit = case.assignments.latest("id").unit
        return case, clerk[unit.pk]

    def step(moment, *actions):
        clock.move_to(moment)
        for action in actions:
            action()

    def sign(name):
        case, who = by(name)
        return lambda: dispatch.case_sign(case=case, actor=who)

    def contact(name):
        case, who = by(name)
        return lambda: case_contact(case=case, actor=who, method="phone", agreed="约定上门")

    def resolve(name):
        case, who = by(name)
        return lambda: case_resolve(case=case, actor=who, result_kind="solved", result="已处理")

    def call_back(name, **answer):
        case, _who = by(name)
        return lambda: services.case_callback(case=case, actor=world.dispatcher, **answer)

    step(at(10, 10, 30), sign("A1"), sign("A3"), sign("A4"), sign("A5"), sign("C1"))
    step(at(10, 11), contact("A1"), contact("A5"), contact("C1"))
    case, who = by("A4")
    dispatch.case_return(case=case, actor=who, reason="not_our_area", note="不在本社区")
    step(at(10, 13), sign("A2"))
    step(at(10, 13, 30), contact("A2"))
    step(at(10, 14), resolve("A1"), resolve("A5"), resolve("C1"))
    step(at(10, 16), resolve("A3"))
    step(
        at(11, 10),
        resolve("A2"),
        call_back("A1", reached=True, resolved=True, satisfaction="satisfied"),
        call_back("A3", reached=True, resolved=False, satisfaction="unsatisfied", comment="没修好"),
        call_back(
            "A5", reached=True, resolved=True, satisfaction="unsatisfied", exemption="beyond_policy", note="超出政策"
        ),
        call_back("C1", reached=False),
        call_back("C1", reached=False),
        call_back("C1", reached=False),
    )
    step(at(11, 11), call_back("A2", reached=True, resolved=True, satisfaction="basically"))
    clock.move_to(at(11, 12))
    return {name: Case.objects.get(pk=case.pk) for name, case in cases.items()}


# --- the example, built once for this module's tests ---------------------------------------------
#
# The tests below only read the example (one changes the settings, rolled back after it), so it is
# played once for the module, in a transaction rolled back after the module; each test runs in a
# savepoint rolled back after it, at the moment the example ends, the clock stopped, as the
# function-scoped `example` (which tests elsewhere build on) leaves them.


@pytest.fixture(scope="module")
def played(django_db_setup, django_db_blocker):
    """(the cast, the example's case ids by name, the moment it ends)."""
    from django.db import transaction

    from cases.services import categories_load
    from tests.factories import make_cast, routing_setup
    from tests.handling.helpers import TUESDAY

    with (
        django_db_blocker.unblock(),
        transaction.atomic(),
        time_machine.travel(TUESDAY, tick=False) as traveller,
    ):
        cast = make_cast()
        categories_load()
        routing_setup(cast)
        cases = play_example(cast, traveller)
        yield cast, {name: case.pk for name, case in cases.items()}, timezone.now()
        transaction.set_rollback(True)


@pytest.fixture
def story(played, db):
    """The example's cases by name, read afresh, at the moment it ends."""
    _cast, ids, end = played
    with time_machine.travel(end, tick=False):
        yield {name: Case.objects.get(pk=pk) for name, pk in ids.items()}


@pytest.fixture
def story_world(played, story):
    return played[0]


def row(level, code, period=MARCH):
    (found,) = [r for r in metrics.rows_for(level, period=period) if r.code == code]
    return found.figures


def test_the_example_ends_where_the_story_says(story):
    assert {name: (case.status, case.closure_reason) for name, case in story.items()} == {
        "A1": ("closed", "satisfied"),
        "A2": ("closed", "satisfied"),
        "A3": ("in_progress", ""),
        "A4": ("returned", ""),
        "A5": ("closed", "exempted"),
        "C1": ("closed", "unreachable"),
    }


def test_every_figure_of_the_street(story):
    street = row("street", "210111001")
    assert street.received == 5
    assert street.dispatched == 5
    assert street.signed_on_time == 4  # all but A2
    assert street.contacted_on_time == 3  # A1, A2, A5; A3 never recorded one, A4 went back
    assert street.response_due == 4  # A4 was returned: not counted
    assert street.responded_on_time == 2  # A1, A5
    assert street.response_rate == 2 / 4
    assert street.resolved == 4
    assert street.resolved_on_time == 4
    assert street.overdue_unresolved == 0
    assert street.on_time_rate == 1
    assert street.callbacks == 4
    assert street.callbacks_solved == 3  # A1, A2, A5
    assert (street.satisfied, street.basically, street.unsatisfied) == (1, 1, 2)
    assert street.resolution_rate == 3 / 4
    assert street.satisfaction_rate == pytest.approx((1 + 0.8 * 1) / 4)  # 0.45
    assert street.returns == 1 and street.return_rate == 1 / 5
    assert street.redos == 1 and street.redo_rate == 1 / 4
    assert street.exempted == 1
    assert street.unreachable_attempts == 0 and street.closed_unreachable == 0
    # A1 3 h, A5 3 h, A3 5 h, A2 7.5 h (Tue 10:00–12:00, 13:00–17:00, Wed 08:30–10:00).
    assert street.mean_handling_hours == pytest.approx(18.5 / 4)
    # 30 × 0.5 + 35 × 0.75 + 35 × 0.45 = 15 + 26.25 + 15.75
    assert street.composite == pytest.approx(57.0)


def test_the_community_and_the_grid_hold_the_same_figures(story):
    street = row("street", "210111001").as_dict()
    assert row("community", "210111001015").as_dict() == street
    assert row("grid", "210111001015001").as_dict() == street
    assert row("grid", "210111001015002").received == 0


def test_the_units_are_judged_by_their_own_assignments(story, story_world):
    committee = row("unit", story_world.committee.code)
    assert (committee.received, committee.dispatched, committee.response_due) == (4, 4, 3)
    assert committee.response_rate == 2 / 3
    assert (committee.callbacks, committee.callbacks_solved) == (3, 3)
    assert committee.satisfaction_rate == pytest.approx(1.8 / 3)
    assert committee.returns == 1 and committee.return_rate == 1 / 4
    assert committee.redos == 0 and committee.exempted == 1
    department = row("unit", story_world.department.code)
    assert (department.dispatched, department.response_rate) == (1, 0)
    assert (department.callbacks, department.resolution_rate, department.satisfaction_rate) == (1, 0, 0)
    assert department.redos == 1 and department.redo_rate == 1
    assert department.composite == 0


def test_an_unreachable_resident_is_counted_apart_and_leaves_the_rates_empty(story):
    village = row("street", "210111003")
    assert village.unreachable_attempts == 3 and village.closed_unreachable == 1
    assert village.callbacks == 0
    assert village.resolution_rate is None and village.satisfaction_rate is None
    assert village.composite is None
    assert village.response_rate == 1


def test_an_empty_month_has_no_rates_and_no_errors(story):
    april = row("street", "210111001", period=metrics.Period.month("2026-04"))
    assert april.received == 0
    assert all(value is None for name, value in april.as_dict().items() if name.endswith("rate"))
    assert april.mean_handling_hours is None and april.composite is None


def test_the_district_row_adds_up_its_streets(story):
    district = row("district", "210111")
    assert district.received == 6 and district.callbacks == 4 and district.unreachable_attempts == 3


def test_weights_and_the_value_of_basically_satisfied_come_from_the_settings(story):
    from feedback.models import FeedbackSettings

    FeedbackSettings.objects.update_or_create(
        pk=1, defaults={"weight_response": 0, "weight_resolution": 50, "weight_satisfaction": 50, "basically_value": 1}
    )
    street = row("street", "210111001")
    assert street.satisfaction_rate == 2 / 4
    assert street.composite == pytest.approx(50 * 0.75 + 50 * 0.5)


def test_the_exemptions_are_listed(story):
    (exempted,) = metrics.exemptions(period=MARCH, codes_prefix="210111001")
    assert exempted.case == story["A5"] and exempted.data["exemption"] == "beyond_policy"


def test_a_whole_level_costs_the_same_few_queries_as_one_row(story, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        rows = metrics.rows_for("grid", period=MARCH)
    assert len(rows) == 3


@pytest.mark.parametrize(("text", "field"), [("2026-13", "month"), ("March", "month"), ("", "month")])
def test_a_bad_month_names_the_field(text, field):
    from cases.errors import InvalidInput

    with pytest.raises(InvalidInput) as error:
        metrics.Period.month(text)
    assert error.value.field == field
