"""The notice table: each move tells the right people and nobody else; SMS and email follow
people's choices, their roles' defaults and their quiet hours; the resident hears back."""

import dataclasses
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from cases import lifecycle
from notices.models import Notification, Preference, QuietHours, RoleDefault, SmsTemplate
from notices.table import NOTICES, SILENT
from outbox.models import Message
from outbox.services import message_deliver
from routing import dispatch
from routing.models import ReturnReason
from tests.factories import UnitFactory, UserFactory, member, open_case, routing_setup
from tests.feedback.helpers import resolved_case
from tests.handling.helpers import signed_case
from units.models import Membership, Unit

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
TUESDAY_NOON = datetime(2026, 3, 10, 12, 0, tzinfo=SHANGHAI)


@pytest.fixture
def world(cast, categories):
    routing_setup(cast)
    # A unit outside every case below: it must hear nothing.
    stranger_unit = UnitFactory(code="DSTRANGER", name="区文旅局", kind=Unit.Kind.DEPARTMENT, region=cast.district)
    cast.stranger = member(UserFactory(username="t_stranger", phone="13900000009"), stranger_unit)
    cast.volunteers = UnitFactory(code="V1", name="志愿服务队", kind=Unit.Kind.SOCIAL, region=cast.district)
    cast.volunteer = member(UserFactory(username="t_volunteer"), cast.volunteers)
    return cast


def told(kind, case):
    return sorted(Notification.objects.filter(kind=kind, case=case).values_list("user__username", flat=True))


def test_every_move_of_the_lifecycle_is_in_the_table_or_said_to_tell_nobody():
    events = {move.event or action for action, move in lifecycle.TRANSITIONS.items()}
    assert events - set(NOTICES) - set(SILENT) == set()
    assert set(NOTICES) & set(SILENT) == set()


def test_a_returned_case_tells_the_dispatchers_and_links_to_the_returned_cases(world):
    case = signed_case(world)
    dispatch.case_return(case=case, actor=world.community_clerk, reason=ReturnReason.WRONG_CATEGORY, note="不归我们管")
    assert told("returned", case) == [world.dispatcher.username]
    notice = Notification.objects.get(kind="returned")
    assert notice.url == "/routing/console/?tab=returned"
    assert "不归我们管" in notice.text and case.number in notice.text
    assert not Notification.objects.filter(user=world.stranger).exists()


def test_a_redispatch_tells_the_new_unit_and_the_old_one_and_nobody_else(world):
    case = signed_case(world)
    dispatch.case_dispatch(case=case, unit=world.department, actor=world.dispatcher, redispatch=True)
    assert told("assigned", case) == sorted([world.community_clerk.username, world.dept_clerk.username])
    assert told("withdrawn", case) == [world.community_clerk.username]
    assert Notification.objects.get(kind="withdrawn").url == "/handling/queue/"
    assert not Notification.objects.filter(user__in=[world.stranger, world.volunteer]).exists()


def test_an_extension_asked_goes_to_whoever_decides_and_the_decision_back_with_the_new_deadline(world):
    case = signed_case(world)
    until = (timezone.now() + timedelta(days=10)).replace(microsecond=0)
    dispatch.extension_request(case=case, actor=world.community_clerk, until=until, reason="需要协调物业")
    assert told("extension_asked", case) == sorted([world.dispatcher.username, world.street_clerk.username])
    dispatch.extension_decide(case=case, actor=world.street_clerk, approve=True)
    (decided,) = Notification.objects.filter(kind="extension_decided")
    assert decided.user == world.community_clerk
    assert until.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") in decided.text


def test_called_in_to_assist_tells_the_assisting_unit_only(world):
    case = signed_case(world)
    dispatch.case_assist(case=case, unit=world.volunteers, actor=world.community_clerk, note="请协助清运")
    assert told("assist", case) == [world.volunteer.username]


def test_a_resolved_case_asks_the_grid_worker_to_check_on_site_when_its_category_says_so(world):
    from cases.models import Category

    Category.objects.filter(code="0101").update(requires_verification=True)
    checked = resolved_case(world, category_code="0101")
    assert told("verify", checked) == [world.gridworker.username]
    assert Notification.objects.get(kind="verify").url == f"/feedback/verifications/{checked.number}/"
    unchecked = resolved_case(world)
    assert told("verify", unchecked) == []


def test_the_logger_who_follows_a_case_hears_of_its_dispatch_resolution_and_closing_and_others_do_not(world):
    from cases.models import Category
    from cases.services import CallDetails
    from intake.services import call_register
    from routing.tasks import dispatch_case

    details = CallDetails(
        channel="grid",
        category=Category.objects.get(code="0201"),
        grid=world.grid_a,
        description="楼道堆放杂物",
        caller_phone="13800138000",
    )
    call, _ = call_register(actor=world.gridworker, details=details, follow=True)
    unfollowed, _ = call_register(actor=world.gridworker, details=dataclasses.replace(details, description="路灯不亮"))
    dispatch_case(call.case_id)
    dispatch_case(unfollowed.case_id)
    assert told("dispatched", call.case) == [world.gridworker.username]
    assert told("dispatched", unfollowed.case) == []


def test_sms_follows_the_persons_choice_and_waits_for_their_quiet_hours(world):
    world.dispatcher.phone = "13800000001"
    world.dispatcher.save()
    Preference.objects.create(user=world.dispatcher, kind="returned", sms=True)
    QuietHours.objects.create(user=world.dispatcher, starts=time(21), ends=time(8))
    with time_machine.travel(TUESDAY_NOON.replace(hour=21, minute=30), tick=False):
        case = signed_case(world)
        dispatch.case_return(case=case, actor=world.community_clerk, reason=ReturnReason.WRONG_CATEGORY, note="错派")
    sms = Message.objects.get(user=world.dispatcher, channel="sms")
    assert sms.template == "staff_notice" and case.number in sms.text
    assert sms.next_attempt_at == datetime(2026, 3, 11, 8, 0, tzinfo=SHANGHAI)
    # Nobody else chose SMS for it.
    assert Message.objects.filter(user__isnull=False).count() == 1


def test_a_roles_default_set_in_the_admin_sends_sms_to_everyone_in_the_role_unless_they_opted_out(world):
    RoleDefault.objects.create(role="community_staff", kind="assigned", sms=True)
    second = member(UserFactory(username="t_committee2", phone="13800000002"), world.committee)
    Preference.objects.create(user=second, kind="assigned", sms=False)
    world.community_clerk.phone = "13800000003"
    world.community_clerk.save()
    signed_case(world)
    assert list(Message.objects.filter(channel="sms", user__isnull=False).values_list("user__username", flat=True)) == [
        world.community_clerk.username
    ]


def test_supervision_is_urgent_and_ignores_the_heads_quiet_hours(world):
    head = member(UserFactory(username="t_head", phone="13800000004"), world.committee, role=Membership.Role.HEAD)
    case = signed_case(world)
    from escalation.models import Supervision
    from routing.dispatch import lead_assignment

    with time_machine.travel(TUESDAY_NOON.replace(hour=23), tick=False):
        Supervision.objects.create(
            case=case, assignment=lead_assignment(case), unit=world.street_office, level=1, started_at=TUESDAY_NOON
        )
        lifecycle.apply(
            case=case, action="supervise", actor=None, data={"unit": "C210111001015", "supervisor": "S210111001"}
        )
        sms = Message.objects.get(user=head, channel="sms")
        assert sms.emergency and sms.next_attempt_at <= TUESDAY_NOON.replace(hour=23)
    assert told("supervise", case) == sorted(
        [world.community_clerk.username, head.username, world.street_clerk.username]
    )


def test_the_caller_gets_an_acknowledgement_with_the_case_number_and_a_link_to_their_page(world, client):
    case = open_case(world)
    sms = Message.objects.get(template="case_ack")
    assert sms.to == "13800138000" and case.number in sms.text
    # The vendor is sent the number and the link's token; the site's address is in its words.
    assert [name for name, _value in sms.params] == ["number", "token"]
    assert dict(sms.params)["number"] == case.number
    token = dict(sms.params)["token"]
    assert f"/s/{token}/" in sms.text
    page = client.get(f"/s/{token}/")
    assert page.status_code == 200 and case.number in page.text
    assert "13800138000" not in page.text


def test_a_confidential_caller_gets_no_sms_and_a_landline_is_refused_with_the_reason(world):
    open_case(world, caller_confidential=True)
    assert not Message.objects.filter(template="case_ack").exists()
    open_case(world, caller_phone="024-89123456")
    landline = Message.objects.get(template="case_ack")
    # The acknowledgement has no quiet hours: it is due at once.
    message_deliver(message_id=landline.pk)
    landline.refresh_from_db()
    assert (landline.state, landline.gateway_code) == ("failed", "not_mobile")
    assert "mobile" in landline.last_error


def test_a_wrong_or_forged_resident_link_answers_a_plain_page(world, client):
    case = open_case(world)
    response = client.get(f"/s/{case.number}-forged/")
    assert response.status_code == 410
    assert case.number not in response.text and "Traceback" not in response.text


def test_a_template_with_an_unknown_variable_is_refused(db):
    template = SmsTemplate(key="case_ack", text="编号{number}，联系人{caller_phone}")
    with pytest.raises(ValidationError, match="caller_phone"):
        template.full_clean()
    SmsTemplate(key="case_ack", text="编号{number} {site}/s/{token}/").full_clean(validate_unique=False)
    with pytest.raises(ValidationError):
        SmsTemplate(key="case_ack", text="编号{number.__class__}").full_clean(validate_unique=False)


def test_the_residents_page_shows_the_unit_and_the_result_but_no_internal_note_and_expires(world, client):
    from handling.services import case_note

    case = signed_case(world)
    case_note(case=case, actor=world.community_clerk, text="内部备注：该户曾多次投诉")
    token = dict(Message.objects.get(template="case_ack").params)["token"]
    page = client.get(f"/s/{token}/")
    assert world.committee.name in page.text and 'id="case-deadline"' in page.text
    assert "内部备注" not in page.text and "张三" not in page.text
    resolved = resolved_case(world)
    token = dict(Message.objects.filter(template="case_ack").latest("id").params)["token"]
    page = client.get(f"/s/{token}/")
    assert "已清理完毕" in page.text and resolved.number in page.text
    with time_machine.travel(timezone.now() + timedelta(days=366)):
        gone = client.get(f"/s/{token}/")
    assert gone.status_code == 410 and resolved.number not in gone.text


def test_the_admin_refuses_a_template_with_an_unknown_variable_and_keeps_the_old_words(admin_client):
    from notices.templates import TEMPLATES

    # The migration writes the templates; a test that flushed the database took them with it.
    template, _created = SmsTemplate.objects.get_or_create(key="case_ack", defaults={"text": TEMPLATES["case_ack"][2]})
    before = template.text
    url = f"/admin/notices/smstemplate/{template.pk}/change/"
    page = admin_client.post(url, {"text": "您的编号{number}，来电人{caller_phone}"})
    assert page.status_code == 200 and "caller_phone" in page.content.decode()
    template.refresh_from_db()
    assert template.text == before
    assert admin_client.post(url, {"text": "编号{number}：{site}/s/{token}/"}).status_code == 302
    template.refresh_from_db()
    assert template.text == "编号{number}：{site}/s/{token}/"


def test_telling_a_unit_costs_the_same_queries_for_two_people_as_for_six(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    RoleDefault.objects.create(role="department_staff", kind="assigned", sms=True)
    RoleDefault.objects.create(role="community_staff", kind="assigned", email=True)

    def queries_to_redispatch(unit):
        case = signed_case(world)
        with CaptureQueriesContext(connection) as captured:
            dispatch.case_dispatch(case=case, unit=unit, actor=world.dispatcher, redispatch=True)
        return len(captured)

    world.dept_clerk.phone = "13800000099"
    world.dept_clerk.save()
    queries_to_redispatch(world.department)  # the first one loads what is cached per process
    few = queries_to_redispatch(world.department)
    for n in range(4):
        member(UserFactory(username=f"t_dept_more{n}", phone=f"1380000010{n}"), world.department)
    assert queries_to_redispatch(world.department) == few


def test_a_role_default_for_staff_does_not_take_the_heads_red_light_sms_away(world):
    from notices.services import channels_for
    from notices.table import NOTICES

    RoleDefault.objects.create(role="community_staff", kind="overdue", email=True)
    head = member(UserFactory(username="t_head2"), world.committee, role=Membership.Role.HEAD)
    (overdue,) = NOTICES["overdue"]
    chosen = channels_for({head.pk: True, world.community_clerk.pk: False}, overdue)
    assert chosen == {head.pk: {"sms", "email"}, world.community_clerk.pk: {"email"}}
    # Once the administrator sets the heads' own default, it replaces the table's.
    RoleDefault.objects.create(role="unit_head", kind="overdue", sms=False, email=False)
    assert channels_for({head.pk: True}, overdue) == {head.pk: {"email"}}, "still community staff"


def test_a_deactivated_follower_hears_nothing(world):
    from notices.models import Follow

    case = signed_case(world)
    Follow.objects.create(case=case, user=world.gridworker)
    world.gridworker.is_active = False
    world.gridworker.save()
    dispatch.case_dispatch(case=case, unit=world.department, actor=world.dispatcher, redispatch=True)
    assert told("dispatched", case) == []


def test_after_a_return_the_residents_page_does_not_name_the_unit_that_returned_it(world, client):
    case = signed_case(world)
    dispatch.case_return(case=case, actor=world.community_clerk, reason=ReturnReason.OTHER, note="不属于本单位")
    token = dict(Message.objects.get(template="case_ack").params)["token"]
    page = client.get(f"/s/{token}/")
    assert world.committee.name not in page.text and 'id="case-deadline"' not in page.text
