"""The workspace `/handling/cases/<number>/`: the actions open to this person now, each posted
through the page, and what happens when two people act on the same case."""

import re
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.utils import timezone, translation

from cases.lifecycle import TransitionNotAllowed
from handling import services
from routing import dispatch
from routing.models import Assignment, ExtensionRequest
from routing.tasks import dispatch_case
from tests.factories import UnitFactory, UserFactory, english, member, open_case, routing_setup
from tests.handling.helpers import TUESDAY, dispatched_case, lead, photo, signed_case

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Tuesday morning with no holiday near it.


def add_helpers(cast):
    # A social force the community may call in, and a second clerk of 金山社区's committee.
    cast.volunteers = UnitFactory(code="SOC-VOLUNTEERS", name="志愿者协会", kind="social")
    cast.volunteer = member(UserFactory(username="t_volunteer", real_name="郑志愿"), cast.volunteers)
    cast.colleague = member(UserFactory(username="t_community2", real_name="冯社区"), cast.committee)
    return cast


@pytest.fixture
def world(cast, categories):
    routing_setup(cast)
    return add_helpers(cast)


def workspace(case):
    return f"/handling/cases/{case.number}/"


def messages_of(response):
    return [(message.level_tag, str(message)) for message in get_messages(response.wsgi_request)]


def panels(response):
    """The action forms and panels on the page, by id."""
    ids = re.findall(r'id="((?:\w+)-(?:form|panel)|extension-pending|return-closed)"', response.text)
    return set(ids)


def post(client, case, action, data=None):
    """Post one workspace action as the page does, and open the page it sends the person to."""
    response = client.post(f"{workspace(case)}{action}/", data or {}, HTTP_REFERER=workspace(case))
    assert response.status_code == 302, response
    return response, client.get(response["Location"], follow=True)


def local(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


# --- what the page offers ------------------------------------------------------------------------


def test_the_lead_unit_signs_first_then_gets_the_working_panels(client, world, clock):
    case = dispatched_case(world)
    client.force_login(world.community_clerk)
    before = client.get(workspace(case))
    assert before.status_code == 200
    assert panels(before) == {"sign-form", "return-panel", "note-panel"}
    assert 'id="return-closed"' not in before.text
    _response, after = post(client, case, "sign")
    assert after.request["PATH_INFO"] == workspace(case)
    assert [level for level, _text in messages_of(after)] == ["success"]
    assert panels(after) == {
        "contact-panel",
        "resolve-panel",
        "assist-panel",
        "extend-panel",
        "return-panel",
        "note-panel",
    }
    assert '<span class="badge fs-6 status-in_progress" id="case-status">' in after.text


def shown_deadline(response, unit):
    """The deadline the workspace shows on `unit`'s row."""
    row = re.search(rf'data-unit="{unit.code}".*?</li>', response.text, re.DOTALL).group(0)
    return re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", row.split("data-mark=", 1)[1]).group(0)


def test_the_workspace_shows_the_deadline_due_next_as_the_queue_does(client, world, clock):
    case = dispatched_case(world)
    assignment = lead(case)
    client.force_login(world.community_clerk)
    # Waiting to be signed for: the sign-for deadline, not the resolution's a week later.
    assert shown_deadline(client.get(workspace(case)), world.committee) == local(assignment.sign_due)
    dispatch.case_sign(case=case, actor=world.community_clerk)
    # Signed for, nobody contacted yet: the first contact's deadline comes before the resolution's.
    assert assignment.contact_due < assignment.resolve_due
    assert shown_deadline(client.get(workspace(case)), world.committee) == local(assignment.contact_due)
    services.case_contact(case=case, actor=world.community_clerk, method="phone", agreed="明早清运")
    assert shown_deadline(client.get(workspace(case)), world.committee) == local(assignment.resolve_due)


def test_after_the_return_window_the_page_says_it_closed_instead_of_offering_the_form(client, world, clock):
    case = signed_case(world)
    english(client).force_login(world.community_clerk)
    assert f'action="{workspace(case)}return/"' in client.get(workspace(case)).text
    # Two working days from Tuesday 10:00 end on Thursday 10:00.
    clock.move_to(datetime(2026, 3, 12, 10, 1, tzinfo=SHANGHAI))
    page = client.get(workspace(case))
    assert f'action="{workspace(case)}return/"' not in page.text
    closed = re.search(r'<p class="mb-0" id="return-closed">([^<]*)</p>', page.text).group(1)
    assert closed == (
        "The return window closed at 2026-03-12 10:00. Resolve the case, call other units in, or ask for an extension."
    )


def test_the_street_office_decides_its_communitys_pending_extension_on_the_page(client, world, clock):
    case = signed_case(world)
    until = lead(case).resolve_due + timedelta(days=2)
    dispatch.extension_request(case=case, actor=world.community_clerk, until=until, reason="需等待维修材料")
    decide = f'action="{workspace(case)}extend/decide/"'
    client.force_login(world.community_clerk)
    asked = client.get(workspace(case))
    assert "extension-pending" in panels(asked) and "extend-panel" not in panels(asked)
    assert decide not in asked.text
    client.force_login(world.street_clerk)
    page = client.get(workspace(case))
    assert page.status_code == 200
    assert decide in page.text
    assert panels(page) == {"extension-pending"}  # nothing else is theirs to do
    _response, after = post(client, case, "extend/decide", {"approve": "1", "note": "同意"})
    assert [level for level, _text in messages_of(after)] == ["success"]
    assert lead(case).resolve_due == until
    assert ExtensionRequest.objects.get().decided_by == world.street_clerk


def test_a_clerk_of_another_unit_gets_404(client, world, clock):
    case = signed_case(world)
    other_committee_clerk = member(UserFactory(username="t_other_committee"), world.other_committee)
    # Other units, a grid worker of another grid, and a social force nobody called in.
    for person in (world.dept_clerk, other_committee_clerk, world.outsider, world.volunteer):
        client.force_login(person)
        assert client.get(workspace(case)).status_code == 404, person
        assert client.post(f"{workspace(case)}resolve/", {"result_kind": "solved", "result": "x"}).status_code == 404
    case.refresh_from_db()
    assert case.status == "in_progress"
    assert not case.events.filter(action="resolve").exists()


def test_the_street_office_over_the_community_follows_the_case_without_working_on_it(client, world, clock):
    case = signed_case(world)
    client.force_login(world.street_clerk)
    page = client.get(workspace(case))
    assert page.status_code == 200
    assert panels(page) == set()


# --- every action through the page ---------------------------------------------------------------


def test_each_action_posted_through_the_page_changes_the_row_and_shows_a_message(client, world, clock):
    case = dispatched_case(world)
    client.force_login(world.community_clerk)

    def step(action, data=None, person=None):
        if person:
            client.force_login(person)
        _response, page = post(client, case, action, data)
        assert [level for level, _text in messages_of(page)] == ["success"], (action, messages_of(page))
        case.refresh_from_db()
        return page

    step("sign")
    assert (case.status, lead(case).state) == ("in_progress", "signed")

    clock.shift(timedelta(hours=1))
    step("contact", {"method": "phone", "contacted_at": "2026-03-10 10:40", "agreed": "明早清运"})
    assert lead(case).contacted_at == datetime(2026, 3, 10, 10, 40, tzinfo=SHANGHAI)
    assert case.events.get(action="contact").data["method"] == "phone"

    step("note", {"text": "已通知环卫", "photos": [photo("a.jpg")]})
    assert list(case.photos.values_list("stage", flat=True)) == ["progress"]

    step("assist", {"unit": "SOC-VOLUNTEERS", "note": "请协助清运", "due": ""})
    helper = Assignment.objects.get(case=case, role="assist")
    assert (helper.unit, helper.state) == (world.volunteers, "waiting")

    until = lead(case).resolve_due + timedelta(days=2)
    step("extend", {"until": local(until), "reason": "需等待清运车辆"})
    assert ExtensionRequest.objects.get().requested_until == until

    step("extend/decide", {"approve": "1", "note": "同意"}, person=world.street_clerk)
    assert lead(case).resolve_due == until

    page = step("report", {"text": "志愿者清运完毕"}, person=world.volunteer)
    helper.refresh_from_db()
    assert helper.state == "done"
    # Their part is over: the case file is where they follow it, with the message on it.
    assert page.request["PATH_INFO"] == f"/cases/{case.number}/"

    page = step(
        "resolve", {"result_kind": "solved", "result": "垃圾已清运", "photos": [photo()]}, world.community_clerk
    )
    assert case.status == "resolved"
    assert (lead(case).state, lead(case).finished_at) == ("done", TUESDAY + timedelta(hours=1))
    assert list(case.photos.values_list("stage", flat=True)) == ["progress", "evidence"]
    assert page.status_code == 200
    assert page.request["PATH_INFO"] == f"/cases/{case.number}/"
    assert [e.action for e in case.events.order_by("at", "id")] == [
        "open",
        "dispatch",
        "sign",
        "contact",
        "note",
        "assist",
        "extend",
        "extend",
        "note",
        "resolve",
    ]


def test_returning_through_the_page_sends_the_case_back_and_says_so(client, world, clock):
    case = dispatched_case(world)
    client.force_login(world.community_clerk)
    _response, page = post(client, case, "return", {"reason": "not_our_duty", "note": "属物业管理范围"})
    assert [level for level, _text in messages_of(page)] == ["success"]
    assert page.status_code == 200
    case.refresh_from_db()
    assert (case.status, lead(case).state) == ("returned", "returned")
    assert case.events.get(action="return").data["reason"] == "not_our_duty"


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("resolve", {"result_kind": "solved", "result": ""}),
        ("resolve", {"result_kind": "gone", "result": "已解决"}),
        ("contact", {"agreed": "明早清运"}),
        ("contact", {"method": "phone", "agreed": "x", "contacted_at": "2026-03-11 10:00"}),
        ("note", {"text": ""}),
    ],
)
def test_bad_input_shows_an_error_message_and_changes_nothing(client, world, clock, action, data):
    case = signed_case(world)
    events = case.events.count()
    client.force_login(world.community_clerk)
    response, page = post(client, case, action, data)
    assert response["Location"] == workspace(case)
    assert [level for level, _text in messages_of(page)] == ["error"]
    case.refresh_from_db()
    assert case.status == "in_progress"
    assert case.events.count() == events
    assert (lead(case).state, lead(case).contacted_at) == ("signed", None)


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("resolve", {"result_kind": "explained", "result": "已向居民解释"}),
        ("contact", {"method": "phone", "agreed": "明早清运"}),
    ],
)
def test_a_form_sent_after_a_colleague_resolved_the_case_changes_nothing_and_says_so(
    client, world, clock, action, data
):
    case = signed_case(world)
    english(client).force_login(world.community_clerk)
    assert client.get(workspace(case)).status_code == 200  # the form is on their screen
    services.case_resolve(case=case, actor=world.colleague, result_kind="solved", result="垃圾已清运")
    _response, page = post(client, case, action, data)
    assert page.status_code == 200
    with translation.override("en"):
        expected = str(TransitionNotAllowed(action, "resolved"))
    assert messages_of(page) == [("error", expected)]
    case.refresh_from_db()
    assert case.status == "resolved"
    event = case.events.get(action="resolve")
    assert (event.actor, event.note) == (world.colleague, "垃圾已清运")
    assert not case.events.filter(action="contact").exists()
    assert lead(case).contacted_at is None


@pytest.mark.django_db(transaction=True)
def test_two_clerks_resolving_at_once_one_wins_the_other_is_refused(cast, categories):
    routing_setup(cast)
    world = add_helpers(cast)
    case = signed_case(world)
    barrier = threading.Barrier(2)
    outcomes = {}

    def resolve(person, result):
        try:
            barrier.wait()
            services.case_resolve(case=case, actor=person, result_kind="solved", result=result)
            outcomes[person.username] = "resolved"
        except TransitionNotAllowed:
            outcomes[person.username] = "refused"
        except Exception as error:  # noqa: BLE001 - any other answer is the failure this test reports
            outcomes[person.username] = repr(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=resolve, args=(person, f"{person.username} 已处理"))
        for person in (world.community_clerk, world.colleague)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == ["refused", "resolved"], outcomes
    winner = next(name for name, outcome in outcomes.items() if outcome == "resolved")
    event = case.events.get(action="resolve")
    assert (event.actor.username, event.note) == (winner, f"{winner} 已处理")
    case.refresh_from_db()
    assert case.status == "resolved"


def test_the_lead_unit_reveals_the_callers_number_it_must_call(client, world, clock):
    from cases.models import CaseEvent

    # A department has no area: it may see the number because it leads the case.
    case = open_case(world, category_code="0103")
    dispatch_case(case.pk)
    client.force_login(world.dept_clerk)
    page = client.get(f"/handling/cases/{case.number}/")
    assert page.context["may_reveal_phone"] is True
    assert "13800138000" not in page.text
    response = client.post(f"/cases/{case.number}/reveal-phone/", HTTP_HX_REQUEST="true")
    assert "13800138000" in response.text
    assert CaseEvent.objects.filter(case=case, action="reveal_phone", actor=world.dept_clerk).count() == 1
