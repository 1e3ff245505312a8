"""The end of the loop through its services: callback, verdict, verification, reopen, exemption."""

import pytest

from cases.errors import InvalidInput, NotPermitted
from cases.lifecycle import TransitionNotAllowed
from cases.models import Case
from feedback import services
from feedback.models import FeedbackSettings
from handling.services import case_resolve
from notices.models import Notification
from routing.models import Assignment
from tests.feedback.helpers import lead, photo, resolved_case
from tests.handling.helpers import TUESDAY, signed_case


def callback(world, case, **answer):
    answer.setdefault("reached", True)
    return services.case_callback(case=case, actor=world.dispatcher, **answer)


def test_resolving_puts_the_case_in_the_callback_queue_due_the_next_working_day(world):
    case = resolved_case(world)
    assignment = lead(case)
    # Tuesday 10:00 plus one working day: Wednesday 10:00.
    assert assignment.callback_due.astimezone(TUESDAY.tzinfo).isoformat() == "2026-03-11T10:00:00+08:00"


def test_a_solved_and_satisfied_verdict_closes_the_case(world):
    case = resolved_case(world)
    case = callback(world, case, resolved=True, satisfaction="satisfied", comment="很满意")
    assert case.status == Case.Status.CLOSED
    assert case.closure_reason == Case.ClosureReason.SATISFIED
    verdict = case.events.get(action="callback")
    assert verdict.data["satisfaction"] == "satisfied" and verdict.note == "很满意"
    assert lead(case).callback_due is None


def test_basically_satisfied_also_closes(world):
    case = callback(world, resolved_case(world), resolved=True, satisfaction="basically")
    assert case.closure_reason == Case.ClosureReason.SATISFIED


@pytest.mark.parametrize(
    ("resolved", "satisfaction"), [(False, "satisfied"), (True, "unsatisfied"), (False, "unsatisfied")]
)
def test_not_solved_or_not_satisfied_reopens_to_the_same_unit_with_a_new_deadline(world, clock, resolved, satisfaction):
    case = resolved_case(world)
    clock.shift(3600)
    case = callback(world, case, resolved=resolved, satisfaction=satisfaction, comment="垃圾又堆起来了")
    assert case.status == Case.Status.IN_PROGRESS
    redo = lead(case)
    assert redo.unit == world.committee and redo.is_redo and redo.state == Assignment.State.SIGNED
    # Seven working days from Tuesday 11:00.
    assert redo.resolve_due.astimezone(TUESDAY.tzinfo).isoformat() == "2026-03-19T11:00:00+08:00"
    reopen = case.events.get(action="reopen")
    assert reopen.data == {"unit": world.committee.code, "redo": 1, "after": "callback"}
    assert Notification.objects.filter(user=world.community_clerk, kind="reopened", case=case).exists()


def test_a_redo_counts_again_on_the_second_reopen(world):
    case = resolved_case(world)
    callback(world, case, resolved=False, satisfaction="unsatisfied")
    case_resolve(case=case, actor=world.community_clerk, result_kind="solved", result="再次清理")
    callback(world, case, resolved=False, satisfaction="unsatisfied")
    assert [e.data["redo"] for e in case.events.filter(action="reopen").order_by("id")] == [1, 2]


def test_an_exemption_closes_a_negative_verdict_with_its_reason_and_note(world):
    case = callback(
        world,
        resolved_case(world),
        resolved=False,
        satisfaction="unsatisfied",
        exemption="beyond_policy",
        note="诉求超出物业管理规定",
    )
    assert case.status == Case.Status.CLOSED and case.closure_reason == Case.ClosureReason.EXEMPTED
    close = case.events.get(action="close")
    assert close.data["exemption"] == "beyond_policy" and close.note == "诉求超出物业管理规定"


def test_an_exemption_without_a_note_is_refused_and_changes_nothing(world):
    case = resolved_case(world)
    with pytest.raises(InvalidInput) as error:
        callback(world, case, resolved=False, satisfaction="unsatisfied", exemption="beyond_policy", note=" ")
    assert error.value.field == "note"
    case.refresh_from_db()
    assert case.status == Case.Status.RESOLVED and not case.events.filter(action="callback").exists()


def test_a_satisfaction_outside_the_list_is_refused(world):
    case = resolved_case(world)
    with pytest.raises(InvalidInput) as error:
        callback(world, case, resolved=True, satisfaction="very")
    assert error.value.field == "satisfaction"
    assert not case.events.filter(action="callback").exists()


def test_a_callback_on_a_case_that_is_not_resolved_is_refused(world):
    case = signed_case(world)
    with pytest.raises(TransitionNotAllowed):
        callback(world, case, resolved=True, satisfaction="satisfied")
    assert not case.events.filter(action="callback").exists()


def test_only_a_dispatcher_records_a_callback(world):
    case = resolved_case(world)
    with pytest.raises(NotPermitted):
        services.case_callback(case=case, actor=world.official, reached=True, resolved=True, satisfaction="satisfied")


def test_an_unreached_resident_is_tried_again_then_the_case_closes_as_unreachable(world, clock):
    FeedbackSettings.objects.update_or_create(pk=1, defaults={"callback_attempts": 3})
    case = resolved_case(world)
    callback(world, case, reached=False)
    # The next attempt is due two working hours after the failed one (Tuesday 10:00 → 12:00).
    assert lead(case).callback_due.astimezone(TUESDAY.tzinfo).isoformat() == "2026-03-10T12:00:00+08:00"
    callback(world, case, reached=False)
    case.refresh_from_db()
    assert case.status == Case.Status.RESOLVED
    case = callback(world, case, reached=False)
    assert case.status == Case.Status.CLOSED and case.closure_reason == Case.ClosureReason.UNREACHABLE
    assert [e.data["attempt"] for e in case.events.filter(action="callback").order_by("id")] == [1, 2, 3]
    assert lead(case).callback_due is None


def test_a_case_checked_on_site_waits_for_the_grid_worker_after_a_good_verdict(world):
    case = resolved_case(world, category_code="0101")
    case = callback(world, case, resolved=True, satisfaction="satisfied")
    assert case.status == Case.Status.RESOLVED
    case = services.case_verify(case=case, actor=world.gridworker, confirmed=True, note="现场已拆除", photos=[photo()])
    assert case.status == Case.Status.CLOSED and case.closure_reason == Case.ClosureReason.SATISFIED
    assert case.photos.filter(stage="verification").count() == 1


def test_a_confirmed_check_before_the_callback_lets_the_callback_close(world):
    case = resolved_case(world, category_code="0101")
    services.case_verify(case=case, actor=world.gridworker, confirmed=True, photos=[photo()])
    case = callback(world, case, resolved=True, satisfaction="satisfied")
    assert case.status == Case.Status.CLOSED


def test_a_rejected_check_sends_the_case_back_for_rework(world):
    case = resolved_case(world, category_code="0101")
    case = services.case_verify(case=case, actor=world.gridworker, confirmed=False, note="违建只拆了一半")
    assert case.status == Case.Status.IN_PROGRESS
    assert lead(case).unit == world.street_office and lead(case).is_redo
    assert case.events.get(action="reopen").data["after"] == "verification"


def test_a_confirmation_needs_a_photo_and_a_rejection_a_note(world):
    case = resolved_case(world, category_code="0101")
    with pytest.raises(InvalidInput) as error:
        services.case_verify(case=case, actor=world.gridworker, confirmed=True)
    assert error.value.field == "photos"
    with pytest.raises(InvalidInput) as error:
        services.case_verify(case=case, actor=world.gridworker, confirmed=False, note="")
    assert error.value.field == "note"
    assert not case.events.filter(action="verify").exists()


def test_only_the_grid_worker_of_the_case_grid_verifies(world):
    case = resolved_case(world, category_code="0101")
    with pytest.raises(NotPermitted):
        services.case_verify(case=case, actor=world.outsider, confirmed=True, photos=[photo()])


def test_a_dispatcher_reopens_a_closed_case_with_a_reason(world):
    case = callback(world, resolved_case(world), resolved=True, satisfaction="satisfied")
    case = services.case_reopen(case=case, actor=world.dispatcher, reason="居民再次来电反映")
    assert case.status == Case.Status.IN_PROGRESS and case.closure_reason == "" and case.closed_at is None
    assert lead(case).is_redo


def test_reopening_needs_a_reason_and_a_dispatcher(world):
    case = callback(world, resolved_case(world), resolved=True, satisfaction="satisfied")
    with pytest.raises(InvalidInput):
        services.case_reopen(case=case, actor=world.dispatcher, reason="")
    with pytest.raises(NotPermitted):
        services.case_reopen(case=case, actor=world.community_clerk, reason="再办")
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED


def test_closing_a_resolved_case_needs_an_exemption_reason(world):
    case = resolved_case(world)
    with pytest.raises(InvalidInput):
        services.case_exempt(case=case, actor=world.dispatcher, reason="invalid", note="无效")
    case = services.case_exempt(case=case, actor=world.dispatcher, reason="unreasonable", note="要求不合理")
    assert case.closure_reason == Case.ClosureReason.EXEMPTED


def test_a_resident_link_answers_once(world):
    from cases.services import resident_link_issue

    case = resolved_case(world)
    token = resident_link_issue(case=case)
    case = services.resident_answer(token=token, resolved=True, satisfaction="satisfied", comment="谢谢")
    assert case.status == Case.Status.CLOSED
    assert case.events.get(action="callback").data["channel"] == "link"
    with pytest.raises(services.LinkInvalid):
        services.resident_answer(token=token, resolved=True, satisfaction="satisfied")


def test_an_expired_link_is_refused_and_changes_nothing(world, clock):
    from cases.services import resident_link_issue

    case = resolved_case(world)
    token = resident_link_issue(case=case)
    clock.shift(8 * 24 * 3600)
    with pytest.raises(services.LinkInvalid):
        services.resident_answer(token=token, resolved=True, satisfaction="satisfied")
    case.refresh_from_db()
    assert case.status == Case.Status.RESOLVED


def test_a_refused_answer_leaves_the_link_usable(world):
    from cases.services import resident_link_issue

    case = resolved_case(world)
    token = resident_link_issue(case=case)
    with pytest.raises(InvalidInput):
        services.resident_answer(token=token, resolved=True, satisfaction="")
    assert services.resident_answer(token=token, resolved=True, satisfaction="basically").status == "closed"


def test_resolving_texts_the_caller_a_link_that_answers_the_callback(world):
    from outbox.models import Message

    case = resolved_case(world)
    (sms,) = Message.objects.filter(channel="sms", to=case.caller_phone, template="case_resolved")
    assert case.number in sms.text
    token = sms.text.rstrip("/").rsplit("/r/", 1)[1]
    case = services.resident_answer(token=token, resolved=True, satisfaction="satisfied")
    assert case.status == Case.Status.CLOSED


def test_a_caller_without_a_phone_gets_no_text(world):
    from outbox.models import Message

    resolved_case(world, caller_phone="")
    assert not Message.objects.exists()
