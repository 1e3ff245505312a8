"""改分类, 改网格 (routing/reclassify.py): the case follows its new category and grid; a unit holding
it keeps it when the rules give it again, and is withdrawn (and told) when they give another;
deadlines follow the new category's policy from the moment of reclassification, never shortened
unless the dispatcher says so; the unit that returned a case proposes the right category, and is
never proposed for that case again."""

import re
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from cases.errors import InvalidInput, NotPermitted
from cases.lifecycle import TransitionNotAllowed, timeline
from cases.models import Case, Category
from deadlines.models import SlaPolicy
from deadlines.worktime import WorkCalendar
from notices.models import Notification
from routing import dispatch
from routing.models import Assignment, ReturnReason
from routing.reclassify import ReclassifiedMeanwhile, case_reclassify, reclassify_preview
from routing.tasks import dispatch_case
from tests.factories import open_case, routing_setup

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Tuesday morning with no holiday near it, and the next morning.
TUESDAY = datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)
WEDNESDAY = TUESDAY + timedelta(days=1)


@pytest.fixture
def world(cast, categories):
    routing_setup(cast)
    return cast


def lead(case):
    return Assignment.objects.get(case=case, role="lead", state__in=Assignment.ACTIVE_STATES)


def signed_rubbish_case(world):
    """环境卫生 (0201) in grid A, dispatched by the rules to 金山社区's committee on Tuesday and
    signed for."""
    with time_machine.travel(TUESDAY, tick=False):
        case = open_case(world)
        dispatch_case(case.pk)
        dispatch.case_sign(case=case, actor=world.community_clerk)
    case.refresh_from_db()
    return case


def returned_rubbish_case(world, reason=ReturnReason.WRONG_CATEGORY, **proposal):
    """The same case returned by the committee on Tuesday, within its return window."""
    case = signed_rubbish_case(world)
    with time_machine.travel(TUESDAY + timedelta(hours=1), tick=False):
        dispatch.case_return(case=case, actor=world.community_clerk, reason=reason, note="不归我们管", **proposal)
    case.refresh_from_db()
    return case


def property_policy(days):
    """物业管理 (0103)'s own SLA policy: resolution within `days` working days."""
    return SlaPolicy.objects.create(
        category=Category.objects.get(code="0103"),
        priority="",
        sign_value=1,
        sign_unit="working_hours",
        contact_value=1,
        contact_unit="working_days",
        resolve_value=days,
        resolve_unit="working_days",
        callback_value=1,
        callback_unit="working_days",
    )


def test_another_grid_of_the_same_community_keeps_the_unit_and_its_part_untouched(world):
    case = signed_rubbish_case(world)
    before = lead(case)
    moved = case_reclassify(case=case, actor=world.dispatcher, grid=world.grid_b.code, reason="地址在第2网格")
    assert (moved.status, moved.grid_id, moved.category.code) == ("in_progress", world.grid_b.code, "0201")
    after = lead(case)
    assert after.pk == before.pk
    assert (after.state, after.sign_due, after.resolve_due) == (before.state, before.sign_due, before.resolve_due)
    event = case.events.get(action="reclassify")
    assert (event.from_status, event.to_status, event.actor, event.note) == (
        "in_progress",
        "in_progress",
        world.dispatcher,
        "地址在第2网格",
    )
    assert event.data["from_grid"] == world.grid_a.code and event.data["to_grid"] == world.grid_b.code
    assert "unit" not in event.data  # nobody was re-routed, so nobody is told
    assert not Notification.objects.filter(kind="withdrawn").exists()
    assert Notification.objects.filter(kind="assigned").count() == 1  # the first dispatch's
    (words,) = [e.words for e in timeline(case) if e.action == "reclassify"]
    assert world.grid_a.name in words and world.grid_b.name in words and "地址在第2网格" in words


def test_a_category_the_rules_give_to_nobody_leaves_the_case_with_its_unit(world):
    case = signed_rubbish_case(world)
    before = lead(case)
    case_reclassify(case=case, actor=world.dispatcher, category="1301", reason="其实是咨询")
    case.refresh_from_db()
    assert case.category.code == "1301" and case.status == "in_progress"
    assert lead(case).pk == before.pk


def test_a_category_of_another_unit_re_routes_the_case_and_tells_the_old_unit(world):
    case = signed_rubbish_case(world)
    old = lead(case)
    with time_machine.travel(WEDNESDAY, tick=False):
        moved = case_reclassify(case=case, actor=world.dispatcher, category="0103", reason="物业的责任")
    assert (moved.status, moved.category.code) == ("dispatched", "0103")
    old.refresh_from_db()
    assert old.state == "withdrawn"
    new = lead(case)
    assert (new.unit, new.state, new.dispatched_by) == (world.department, "waiting", world.dispatcher)
    event = case.events.get(action="reclassify")
    assert (event.from_status, event.to_status) == ("in_progress", "dispatched")
    assert (event.data["from_unit"], event.data["unit"]) == ("C210111001015", "D-HOUSING")
    assert (event.data["from_category"], event.data["to_category"]) == ("0201", "0103")
    withdrawn = Notification.objects.get(kind="withdrawn", case=case)
    assert withdrawn.user == world.community_clerk and "区住房和城乡建设局" in withdrawn.text
    assert Notification.objects.filter(kind="assigned", case=case, user=world.dept_clerk).exists()
    assert not Notification.objects.filter(user=world.dispatcher, kind__in=["withdrawn", "assigned"]).exists()


def test_a_re_route_counts_the_new_categorys_deadlines_from_the_moment_of_reclassification(world):
    property_policy(days=15)
    case = signed_rubbish_case(world)
    with time_machine.travel(WEDNESDAY, tick=False):
        case_reclassify(case=case, actor=world.dispatcher, category="0103", reason="物业的责任")
    calendar = WorkCalendar.load()
    new = lead(case)
    assert new.sign_due == calendar.add(WEDNESDAY, 1, "working_hours")
    assert new.resolve_due == calendar.add(WEDNESDAY, 15, "working_days")
    assert case.events.get(action="reclassify").data["kept"] == []


def test_a_re_route_never_shortens_a_running_deadline_unless_the_dispatcher_says_so(world):
    property_policy(days=2)
    kept = signed_rubbish_case(world)
    shortened = signed_rubbish_case(world)
    running = lead(kept).resolve_due  # seven working days from Tuesday
    calendar = WorkCalendar.load()
    with time_machine.travel(WEDNESDAY, tick=False):
        case_reclassify(case=kept, actor=world.dispatcher, category="0103", reason="物业的责任")
        case_reclassify(
            case=shortened, actor=world.dispatcher, category="0103", reason="物业的责任", shorten_deadline=True
        )
    assert lead(kept).resolve_due == running
    assert "resolve_due" in kept.events.get(action="reclassify").data["kept"]
    assert lead(shortened).resolve_due == calendar.add(WEDNESDAY, 2, "working_days") < running
    # The sign-for limit is the new unit's own, from Wednesday, either way.
    assert lead(kept).sign_due == lead(shortened).sign_due == calendar.add(WEDNESDAY, 1, "working_hours")


def test_a_registered_case_only_changes_and_the_console_then_proposes_by_its_new_category(world, client):
    case = open_case(world, category_code="1301")  # no rule: left to the dispatchers
    dispatch_case(case.pk)
    case_reclassify(case=case, actor=world.dispatcher, category="0201", reason="是垃圾问题")
    case.refresh_from_db()
    assert (case.status, case.category.code) == ("registered", "0201")
    assert not Assignment.objects.filter(case=case).exists()
    client.force_login(world.dispatcher)
    (shown,) = client.get("/routing/console/", {"tab": "waiting"}).context["cases"]
    assert shown.suggestion.unit == world.committee


def test_a_new_point_and_address_are_recorded_with_the_grid(world):
    case = open_case(world)
    # No boundaries are loaded in this world: the point is kept beside the grid chosen (intake's rule).
    case_reclassify(
        case=case,
        actor=world.dispatcher,
        grid=world.grid_b.code,
        address="金山路2号",
        latitude=Decimal("41.660000"),
        longitude=Decimal("123.330000"),
        reason="定位",
    )
    case.refresh_from_db()
    assert (case.grid_id, case.address) == (world.grid_b.code, "金山路2号")
    assert (case.latitude, case.longitude) == (Decimal("41.660000"), Decimal("123.330000"))
    data = case.events.get(action="reclassify").data
    assert (data["to_point"], data["to_address"]) == (["41.660000", "123.330000"], "金山路2号")


def test_the_unit_that_returned_a_case_proposes_the_right_category(world):
    case = returned_rubbish_case(world, proposed_category="0103")
    event = case.events.get(action="return")
    assert (event.data["proposed_category"], event.data["proposed_category_name"]) == ("0103", "物业管理")
    moved = case_reclassify(case=case, actor=world.dispatcher, accept_proposal=True)
    assert (moved.category.code, moved.status) == ("0103", "returned")
    reclassified = case.events.get(action="reclassify")
    assert reclassified.data["proposal_from"] == "C210111001015"
    assert "金山社区居委会" in reclassified.note  # the reason said for the dispatcher
    # Accepted once: nothing waits any more.
    with pytest.raises(InvalidInput) as refused:
        case_reclassify(case=case, actor=world.dispatcher, accept_proposal=True)
    assert refused.value.field == "category"


@pytest.mark.parametrize(
    ("reason", "code", "message"),
    [
        (ReturnReason.WRONG_CATEGORY, "9999", "9999"),  # unknown
        (ReturnReason.WRONG_CATEGORY, "02", "城市管理"),  # a class, not a kind
        (ReturnReason.WRONG_CATEGORY, "0201", ""),  # the case's own
        (ReturnReason.NOT_OUR_DUTY, "0103", ""),  # not returned as wrongly classified
    ],
)
def test_a_proposal_that_cannot_be_taken_is_refused_naming_the_field(world, reason, code, message):
    case = signed_rubbish_case(world)
    with time_machine.travel(TUESDAY + timedelta(hours=1), tick=False), pytest.raises(InvalidInput) as refused:
        dispatch.case_return(case=case, actor=world.community_clerk, reason=reason, note="不对", proposed_category=code)
    assert refused.value.field == "proposed_category" and message in str(refused.value)
    case.refresh_from_db()
    assert case.status == "in_progress"


def test_the_console_never_proposes_the_unit_that_returned_the_case(world, client):
    case = returned_rubbish_case(world, reason=ReturnReason.NOT_OUR_DUTY)
    client.force_login(world.dispatcher)
    response = client.get("/routing/console/")  # returned cases first
    assert response.context["tab"] == "returned"
    (shown,) = response.context["cases"]
    assert shown.suggestion.unit is None and "金山社区居委会" in shown.suggestion.explanation
    # The card's unit picker comes empty: no code to send, no name in its box.
    picker = re.search(
        rf'<input type="hidden" name="unit" value="([^"]*)" data-picker-code>\s*'
        rf'<input type="text" [^>]*id="unit-{case.number}" name="unit_text" value="([^"]*)"',
        response.text,
    )
    assert picker is not None and picker.groups() == ("", "")
    # Nor does the bulk dispatch send it back there.
    client.post("/routing/console/bulk/", {"cases": [case.number]})
    case.refresh_from_db()
    assert case.status == "returned"
    # Reclassified to another place whose rule gives another committee, it is proposed again.
    case_reclassify(case=case, actor=world.dispatcher, grid=world.grid_c.code, reason="在民主村")
    (shown,) = client.get("/routing/console/").context["cases"]
    assert shown.suggestion.unit == world.other_committee


def test_a_closed_case_cannot_be_reclassified(world):
    case = open_case(world)
    Case.objects.filter(pk=case.pk).update(status="closed", closure_reason="invalid", closed_at=case.created_at)
    with pytest.raises(TransitionNotAllowed):
        case_reclassify(case=case, actor=world.dispatcher, category="0103", reason="晚了")
    assert not case.events.filter(action="reclassify").exists()


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"category": "9999"}, "category"),  # unknown
        ({"category": "02"}, "category"),  # a class, not a kind
        ({"category": "0299"}, "category"),  # inactive (made so below)
        ({"grid": "210111001015999"}, "grid"),  # unknown
        ({"grid": "210111001015"}, "grid"),  # a community, not a grid
        ({"category": "0103", "reason": "   "}, "reason"),
        ({"category": "0201", "grid": "210111001015001"}, "category"),  # nothing changes
        ({"latitude": "41.66"}, "longitude"),  # half a point
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_changes(world, arguments, field):
    Category.objects.create(code="0299", name="停用的类别", parent=Category.objects.get(code="02"), is_active=False)
    case = signed_rubbish_case(world)
    arguments = {"reason": "改一下", **arguments}
    with pytest.raises(InvalidInput) as refused:
        case_reclassify(case=case, actor=world.dispatcher, **arguments)
    assert refused.value.field == field
    case.refresh_from_db()
    assert (case.category.code, case.grid_id) == ("0201", world.grid_a.code)
    assert not case.events.filter(action="reclassify").exists()


def test_what_the_dispatcher_saw_must_still_be_true(world):
    case = signed_rubbish_case(world)
    case_reclassify(case=case, actor=world.dispatcher, grid=world.grid_b.code, reason="第2网格", seen_grid=case.grid_id)
    with pytest.raises(ReclassifiedMeanwhile) as refused:
        # A colleague saw grid A and category 0201: the grid has changed since.
        case_reclassify(
            case=case,
            actor=world.dispatcher,
            category="0103",
            reason="物业",
            seen_category="0201",
            seen_grid=case.grid_id,
        )
    # The colleague is told what the case is now, not only that the move is refused.
    assert world.grid_b.name in str(refused.value) and refused.value.action == "reclassify"
    case.refresh_from_db()
    assert case.category.code == "0201"


def test_only_dispatchers_reclassify(world):
    case = signed_rubbish_case(world)
    for person in (world.community_clerk, world.official, world.gridworker):
        with pytest.raises(NotPermitted):
            case_reclassify(case=case, actor=person, category="0103", reason="物业")
        with pytest.raises(NotPermitted):
            reclassify_preview(case=case, actor=person, category="0103")
    assert not case.events.filter(action="reclassify").exists()


def test_the_preview_says_what_would_happen_and_changes_nothing(world):
    property_policy(days=2)
    case = signed_rubbish_case(world)
    with time_machine.travel(WEDNESDAY, tick=False):
        plan = reclassify_preview(case=case, actor=world.dispatcher, category="0103")
    assert plan.reroute and plan.unit == world.department and plan.current.unit == world.committee
    assert plan.kept and plan.deadlines["resolve_due"] == lead(case).resolve_due
    case.refresh_from_db()
    assert case.category.code == "0201" and lead(case).unit == world.committee
    assert not case.events.filter(action="reclassify").exists()
