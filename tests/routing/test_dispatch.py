import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from cases.errors import InvalidInput, NotPermitted
from cases.lifecycle import TransitionNotAllowed
from cases.models import CaseEvent, Category
from cases.services import CallDetails
from deadlines.worktime import WorkCalendar
from routing import dispatch
from routing.models import Assignment, ExtensionRequest
from routing.tasks import dispatch_case, sweep_registered
from tests.factories import UnitFactory, UserFactory, member, open_case, routing_setup
from units.models import Pairing

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Tuesday morning with no holiday near it.
TUESDAY = datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def world(cast, categories):
    routing_setup(cast)
    return cast


def lead(case):
    return Assignment.objects.get(case=case, role="lead", state__in=Assignment.ACTIVE_STATES)


def test_the_rules_dispatch_a_new_case_to_its_own_committee_with_deadlines(world):
    with time_machine.travel(TUESDAY, tick=False):
        case = open_case(world)
        assert dispatch_case(case.pk) == "C210111001015"
    case.refresh_from_db()
    assert case.status == "dispatched"
    assignment = lead(case)
    calendar = WorkCalendar.load()
    assert assignment.sign_due == calendar.add(TUESDAY, 2, "working_hours")
    assert assignment.resolve_due == calendar.add(TUESDAY, 7, "working_days")
    assert assignment.return_until == calendar.add(TUESDAY, 2, "working_days")
    event = case.events.get(action="dispatch")
    assert event.actor is None and event.data["automatic"] is True and event.data["unit"] == "C210111001015"


def test_opening_a_case_queues_its_dispatch_after_commit(world, django_capture_on_commit_callbacks):
    from intake.services import call_register

    with django_capture_on_commit_callbacks() as callbacks:
        call, _ = call_register(
            actor=world.dispatcher,
            details=CallDetails(
                channel="hotline",
                description="垃圾没人清理",
                category=Category.objects.get(code="0201"),
                grid=world.grid_a,
                caller_name="张三",
                caller_phone="13800138000",
            ),
        )
    # Its dispatch, and the acknowledgement SMS to the caller (notices/table.py).
    assert len(callbacks) == 2
    assert call.case.status == "registered"  # until the worker runs


def test_a_case_with_no_rule_stays_with_the_dispatchers(world):
    case = open_case(world, category_code="1301", description="请问怎么办理居住证")
    assert dispatch_case(case.pk) is None
    case.refresh_from_db()
    assert case.status == "registered"
    assert not Assignment.objects.filter(case=case).exists()


def test_the_sweep_dispatches_cases_whose_dispatch_was_lost(world):
    with time_machine.travel(TUESDAY, tick=False):
        stranded = open_case(world)  # its on-commit dispatch never ran
        unroutable = open_case(world, category_code="1301")
    with time_machine.travel(TUESDAY + timedelta(minutes=5), tick=False):
        assert sweep_registered() == {"checked": 2, "dispatched": 1}
        # The rules have looked at both now: the one with no rule waits for a dispatcher and is
        # not read again every minute.
        assert sweep_registered() == {"checked": 0, "dispatched": 0}
    stranded.refresh_from_db()
    unroutable.refresh_from_db()
    assert (stranded.status, unroutable.status) == ("dispatched", "registered")
    assert CaseEvent.objects.filter(case=stranded, action="dispatch").count() == 1


def test_a_dispatcher_dispatches_and_re_dispatches(world):
    case = open_case(world, category_code="1301")
    dispatch.case_dispatch(case=case, unit=world.department, actor=world.dispatcher, reason="涉及住房")
    first = lead(case)
    dispatch.case_dispatch(case=case, unit=world.street_office, actor=world.dispatcher, reason="改派", redispatch=True)
    first.refresh_from_db()
    assert first.state == "withdrawn"
    assert lead(case).unit == world.street_office
    assert list(case.events.values_list("action", flat=True)) == ["open", "dispatch", "redispatch"]


def test_a_unit_that_cannot_take_the_case_is_refused_and_nothing_changes(world):
    case = open_case(world, category_code="1301")
    for unit in (world.centre, world.other_committee, world.other_street_office):
        with pytest.raises(InvalidInput) as error:
            dispatch.case_dispatch(case=case, unit=unit, actor=world.dispatcher)
        assert error.value.field == "unit"
    case.refresh_from_db()
    assert case.status == "registered"
    assert not Assignment.objects.filter(case=case).exists()


def test_only_dispatchers_dispatch(world):
    case = open_case(world, category_code="1301")
    for person in (world.official, world.community_clerk, world.gridworker):
        with pytest.raises(NotPermitted):
            dispatch.case_dispatch(case=case, unit=world.committee, actor=person)


def test_a_street_office_passes_its_case_down_to_its_own_community(world):
    case = open_case(world, category_code="0101")
    dispatch_case(case.pk)
    assert lead(case).unit == world.street_office
    dispatch.case_dispatch(case=case, unit=world.committee, actor=world.street_clerk, redispatch=True)
    assert lead(case).unit == world.committee
    with pytest.raises(NotPermitted):
        dispatch.case_dispatch(case=case, unit=world.street_office, actor=world.community_clerk, redispatch=True)


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_one_wins_the_other_is_refused(cast, categories):
    routing_setup(cast)
    case = open_case(cast, category_code="1301")
    barrier = threading.Barrier(2)
    outcomes = []

    def dispatch_to(unit):
        try:
            barrier.wait()
            dispatch.case_dispatch(case=case, unit=unit, actor=cast.dispatcher)
            outcomes.append(unit.code)
        except TransitionNotAllowed:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatch_to, args=(u,)) for u in (cast.department, cast.committee)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("refused") == 1
    winner = next(o for o in outcomes if o != "refused")
    assert list(Assignment.objects.filter(case=case).values_list("unit__code", flat=True)) == [winner]


def test_the_lead_unit_returns_within_the_window_with_a_reason(world):
    with time_machine.travel(TUESDAY, tick=False):
        case = open_case(world)
        dispatch_case(case.pk)
    with time_machine.travel(TUESDAY + timedelta(days=1), tick=False):
        dispatch.case_return(case=case, actor=world.community_clerk, reason="not_our_duty", note="属物业管理")
    case.refresh_from_db()
    assert case.status == "returned"
    assert Assignment.objects.get(case=case).state == "returned"
    event = case.events.get(action="return")
    assert (event.data["reason"], event.note) == ("not_our_duty", "属物业管理")


def test_a_return_after_the_window_is_refused_with_the_time_it_closed(world):
    with time_machine.travel(TUESDAY, tick=False):
        case = open_case(world)
        dispatch_case(case.pk)
    # Two working days from Tuesday 09:00 end on Thursday 09:00.
    with (
        time_machine.travel(datetime(2026, 3, 12, 9, 1, tzinfo=SHANGHAI), tick=False),
        pytest.raises(InvalidInput, match="2026-03-12 09:00"),
    ):
        dispatch.case_return(case=case, actor=world.community_clerk, reason="not_our_duty", note="x")
    case.refresh_from_db()
    assert case.status == "dispatched"


def test_a_return_needs_a_listed_reason_and_a_note(world):
    case = open_case(world)
    dispatch_case(case.pk)
    with pytest.raises(InvalidInput) as error:
        dispatch.case_return(case=case, actor=world.community_clerk, reason="bored", note="x")
    assert error.value.field == "reason"
    with pytest.raises(InvalidInput) as error:
        dispatch.case_return(case=case, actor=world.community_clerk, reason="other", note=" ")
    assert error.value.field == "note"


def test_only_the_lead_unit_returns(world):
    case = open_case(world)
    dispatch_case(case.pk)
    with pytest.raises(NotPermitted):
        dispatch.case_return(case=case, actor=world.dept_clerk, reason="other", note="x")


def test_a_returned_case_goes_back_to_a_dispatcher_who_re_routes_it(world):
    case = open_case(world)
    dispatch_case(case.pk)
    dispatch.case_return(case=case, actor=world.community_clerk, reason="wrong_category", note="应为物业问题")
    dispatch.case_dispatch(case=case, unit=world.department, actor=world.dispatcher, reason="改由住建局")
    case.refresh_from_db()
    assert case.status == "dispatched"
    assert lead(case).unit == world.department


def test_a_community_calls_in_its_paired_agency_but_not_any_department(world):
    agency = UnitFactory(code="A-BANK", name="银行支行", kind="agency")
    Pairing.objects.create(agency=agency, community=world.community)
    case = open_case(world)
    dispatch_case(case.pk)
    dispatch.case_sign(case=case, actor=world.community_clerk)
    helper = dispatch.case_assist(case=case, unit=agency, actor=world.community_clerk, note="请协助清运")
    assert (helper.role, helper.requested_by, helper.resolve_due) == ("assist", world.committee, lead(case).resolve_due)
    with pytest.raises(InvalidInput):
        dispatch.case_assist(case=case, unit=world.department, actor=world.community_clerk, note="请协助")
    assert case.events.filter(action="assist").count() == 1


def test_a_street_office_calls_in_a_department_with_its_own_deadline(world):
    case = open_case(world, category_code="0101")
    dispatch_case(case.pk)
    dispatch.case_sign(case=case, actor=world.street_clerk)
    due = timezone.now() + timedelta(days=3)
    helper = dispatch.case_assist(case=case, unit=world.department, actor=world.street_clerk, note="联合执法", due=due)
    assert helper.resolve_due == due
    assert case.events.get(action="assist").data["unit"] == "D-HOUSING"


def signed_case(world):
    case = open_case(world)
    dispatch_case(case.pk)
    dispatch.case_sign(case=case, actor=world.community_clerk)
    return case


def test_an_extension_past_the_maximum_is_refused(world):
    case = signed_case(world)
    assignment = lead(case)
    with pytest.raises(InvalidInput) as error:
        dispatch.extension_request(
            case=case,
            actor=world.community_clerk,
            until=assignment.extension_max_until + timedelta(hours=1),
            reason="x",
        )
    assert error.value.field == "until"
    assert not ExtensionRequest.objects.exists()


def test_an_approved_extension_moves_the_deadline_and_is_on_the_timeline(world):
    case = signed_case(world)
    assignment = lead(case)
    until = assignment.resolve_due + timedelta(days=3)
    dispatch.extension_request(case=case, actor=world.community_clerk, until=until, reason="需等待维修材料")
    # The street office over the community decides; the community itself cannot.
    with pytest.raises(NotPermitted):
        dispatch.extension_decide(case=case, actor=world.community_clerk, approve=True)
    dispatch.extension_decide(case=case, actor=world.street_clerk, approve=True, note="同意")
    assignment.refresh_from_db()
    assert assignment.resolve_due == until
    steps = [e.data["step"] for e in case.events.filter(action="extend").order_by("at", "id")]
    assert steps == ["asked", "approved"]


def test_a_refusal_needs_a_note_and_keeps_the_deadline(world):
    case = signed_case(world)
    assignment = lead(case)
    before = assignment.resolve_due
    dispatch.extension_request(case=case, actor=world.community_clerk, until=before + timedelta(days=2), reason="x")
    with pytest.raises(InvalidInput):
        dispatch.extension_decide(case=case, actor=world.dispatcher, approve=False)
    dispatch.extension_decide(case=case, actor=world.dispatcher, approve=False, note="可按期完成")
    assignment.refresh_from_db()
    assert assignment.resolve_due == before
    assert ExtensionRequest.objects.get().decision == "refused"


def test_unit_staff_see_the_cases_assigned_to_their_unit(world):
    from routing.selectors import cases_for

    case = open_case(world, category_code="0103")
    assert not cases_for(world.dept_clerk).filter(pk=case.pk).exists()
    dispatch_case(case.pk)
    assert cases_for(world.dept_clerk).filter(pk=case.pk).exists()
    other = member(UserFactory(username="other_dept"), UnitFactory(code="D-OTHER", name="其他局"))
    assert not cases_for(other).filter(pk=case.pk).exists()


def test_an_assisting_unit_signs_for_its_part_without_moving_the_case(world):
    case = open_case(world, category_code="0101")
    dispatch_case(case.pk)
    dispatch.case_sign(case=case, actor=world.street_clerk)
    dispatch.case_assist(case=case, unit=world.department, actor=world.street_clerk, note="联合执法")
    helper = dispatch.case_sign(case=case, actor=world.dept_clerk)
    assert (helper.role, helper.state) == ("assist", "signed")
    case.refresh_from_db()
    assert case.status == "in_progress"
    assert case.events.filter(action="assist_sign").count() == 1


def test_a_return_ends_the_parts_of_the_units_called_in(world):
    case = open_case(world, category_code="0101")
    dispatch_case(case.pk)
    dispatch.case_sign(case=case, actor=world.street_clerk)
    dispatch.case_assist(case=case, unit=world.department, actor=world.street_clerk, note="联合执法")
    dispatch.case_return(case=case, actor=world.street_clerk, reason="not_our_duty", note="属部门职责")
    assert not Assignment.objects.filter(case=case, state__in=Assignment.ACTIVE_STATES).exists()
    assert Assignment.objects.get(case=case, role="assist").state == "withdrawn"


def test_one_case_the_rules_cannot_dispatch_does_not_stop_the_sweep(world):
    from routing.models import RoutingRule

    # A rule naming a unit that cannot lead (the centre): that case stays for the dispatchers.
    RoutingRule.objects.create(category=Category.objects.get(code="1301"), level="unit", unit=world.centre)
    with time_machine.travel(TUESDAY, tick=False):
        broken = open_case(world, category_code="1301")
        fine = open_case(world)
    with time_machine.travel(TUESDAY + timedelta(minutes=5), tick=False):
        assert sweep_registered() == {"checked": 2, "dispatched": 1}
    broken.refresh_from_db()
    fine.refresh_from_db()
    assert (broken.status, fine.status) == ("registered", "dispatched")


def test_the_case_list_filters_by_unit_and_by_overdue(world):
    from rest_framework.test import APIClient

    with time_machine.travel(TUESDAY, tick=False):
        late = open_case(world)
        dispatch_case(late.pk)
    on_time = open_case(world, category_code="0103")
    dispatch_case(on_time.pk)
    api = APIClient()
    api.force_authenticate(world.dispatcher)
    numbers = lambda **query: {row["number"] for row in api.get("/api/v1/cases/", query).json()["results"]}  # noqa: E731
    assert numbers(unit="D-HOUSING") == {on_time.number}
    assert numbers(unit="C210111001015") == {late.number}
    assert numbers(overdue="true") == {late.number}
    assert numbers(overdue="false") == {on_time.number}
