"""督办: who supervises, what a supervisor may do (urge, reassign, set a new deadline), and the mark
a supervised case carries in the lists."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.errors import InvalidInput, NotPermitted
from escalation.models import Alert, Supervision
from escalation.services import case_set_deadline, case_urge, deadlines_sweep
from handling.services import case_resolve
from notices.models import Notification
from routing.dispatch import case_dispatch
from routing.models import Assignment
from tests.escalation.test_escalation import at, handled_promptly, with_heads
from tests.factories import english

pytestmark = pytest.mark.django_db

SUPERVISED_AT = at(30, 3, 10)


@pytest.fixture
def clock():
    with time_machine.travel(SUPERVISED_AT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(cast, categories):
    return with_heads(cast)


@pytest.fixture
def supervised(world, clock):
    """金山社区's case, seven working days overdue: 解放街道's office supervises it."""
    case = handled_promptly(world, "0201", world.community_clerk)
    deadlines_sweep()
    assert Supervision.objects.get(case=case).unit == world.street_office
    return case


def test_the_street_office_urges_and_the_committee_reads_the_note(world, supervised):
    case_urge(case=supervised, actor=world.street_clerk, note="请今天下班前清运完毕并回复")
    event = supervised.events.get(action="urge")
    assert (event.actor, event.note, event.data) == (
        world.street_clerk,
        "请今天下班前清运完毕并回复",
        {"supervisor": world.street_office.code},
    )
    note = Notification.objects.filter(user=world.community_clerk, kind="urge").get()
    assert "请今天下班前清运完毕并回复" in note.text


def test_only_a_supervising_unit_may_urge(world, supervised):
    for outsider in (world.community_clerk, world.dept_clerk, world.official):
        with pytest.raises(NotPermitted):
            case_urge(case=supervised, actor=outsider, note="快办")
    with pytest.raises(InvalidInput):
        case_urge(case=supervised, actor=world.street_clerk, note="  ")
    assert not supervised.events.filter(action="urge").exists()


def test_the_leaderships_supervision_is_worked_by_the_dispatchers_and_read_by_officials(world, supervised, clock):
    with pytest.raises(NotPermitted):
        case_urge(case=supervised, actor=world.dispatcher, note="请加快")
    clock.move_to(at(6, 4, 10))
    deadlines_sweep()
    case_urge(case=supervised, actor=world.dispatcher, note="区领导督办：请加快")
    with pytest.raises(NotPermitted):
        case_urge(case=supervised, actor=world.official, note="请加快")


def test_a_new_deadline_moves_the_resolution_and_its_stages_start_again(world, supervised, clock):
    until = SUPERVISED_AT + timedelta(days=2)
    case_set_deadline(case=supervised, actor=world.street_clerk, until=until, reason="现场需要协调物业")
    lead = Assignment.objects.get(case=supervised)
    assert lead.resolve_due == until
    assert supervised.events.get(action="set_deadline").data["until"] == until.isoformat()
    assert Notification.objects.filter(user=world.community_clerk, kind="set_deadline").count() == 1
    clock.move_to(until)
    deadlines_sweep()
    # The new deadline is overdue in its own right; the supervision that runs already is not
    # started again.
    assert list(Alert.objects.filter(assignment=lead, due=until).values_list("stage", flat=True)) == [
        "warning",
        "overdue",
    ]
    assert Supervision.objects.filter(case=supervised).count() == 1


def test_a_new_deadline_in_the_past_is_refused(world, supervised):
    with pytest.raises(InvalidInput):
        case_set_deadline(case=supervised, actor=world.street_clerk, until=SUPERVISED_AT, reason="x")


def test_the_supervisor_reassigns_the_case_and_the_supervision_ends_with_the_old_lead(world, supervised):

    case_dispatch(
        case=supervised, unit=world.street_office, actor=world.street_clerk, reason="街道直接办理", redispatch=True
    )
    assert Assignment.objects.get(case=supervised, state="waiting").unit == world.street_office
    assert Supervision.objects.get(case=supervised).ended_at == SUPERVISED_AT


def test_resolving_ends_the_supervision_at_once_on_the_pages_and_in_the_table_at_the_next_sweep(
    client, world, supervised
):
    case_resolve(case=supervised, actor=world.community_clerk, result_kind="solved", result="已清运完毕")
    client.force_login(world.street_clerk)
    assert supervised.number not in client.get("/routing/supervision/").text
    deadlines_sweep()
    assert Supervision.objects.get(case=supervised).ended_at == SUPERVISED_AT


def test_the_supervision_page_lists_the_case_with_its_actions_for_the_street_office(client, world, supervised):
    english(client).force_login(world.street_clerk)
    page = client.get("/routing/supervision/")
    assert page.status_code == 200
    assert f'data-case="{supervised.number}"' in page.text
    assert 'data-action="urge"' in page.text
    # The nav links to it.
    assert 'href="/routing/supervision/"' in page.text


def test_the_official_reads_the_supervision_page_without_actions(client, world, supervised, clock):
    clock.move_to(at(6, 4, 10))
    deadlines_sweep()
    client.force_login(world.official)
    page = client.get("/routing/supervision/")
    assert f'data-case="{supervised.number}"' in page.text
    assert 'data-action="urge"' not in page.text


def test_people_who_supervise_nothing_get_404(client, world, supervised):
    for user in (world.community_clerk, world.gridworker, world.dept_clerk):
        client.force_login(user)
        assert client.get("/routing/supervision/").status_code == 404


def test_urging_through_the_page(client, world, supervised):
    english(client).force_login(world.street_clerk)
    response = client.post(f"/routing/supervision/{supervised.number}/urge/", {"note": "请尽快处理"}, follow=True)
    assert "urged" in response.text
    assert supervised.events.filter(action="urge", actor=world.street_clerk).count() == 1


def test_an_outsider_posting_an_urge_gets_404_and_a_clerk_of_the_committee_is_refused(client, world, supervised):
    client.force_login(world.outsider)
    assert client.post(f"/routing/supervision/{supervised.number}/urge/", {"note": "x"}).status_code == 404
    client.force_login(world.community_clerk)
    client.post(f"/routing/supervision/{supervised.number}/urge/", {"note": "x"})
    assert not supervised.events.filter(action="urge").exists()


def test_a_supervised_case_is_marked_in_the_queue_the_case_list_and_the_case_page(client, world, supervised):
    client.force_login(world.community_clerk)
    for url in (
        "/handling/queue/?tab=overdue",
        "/cases/",
        f"/cases/{supervised.number}/",
    ):
        assert "data-supervised" in client.get(url).text, url


def test_marking_the_case_list_costs_no_query_per_row(client, world, supervised, django_assert_num_queries):
    client.force_login(world.street_clerk)
    client.get("/cases/")
    with CaptureQueriesContext(connection) as one:
        client.get("/cases/")
    for _n in range(3):
        handled_promptly(world, "0201", world.community_clerk)
    deadlines_sweep()
    with django_assert_num_queries(len(one.captured_queries)):
        page = client.get("/cases/")
    assert page.text.count("data-supervised") == 4


def test_the_api_urges_and_sets_a_deadline_for_the_supervisor_only(world, supervised):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(world.community_clerk)
    url = f"/api/v1/cases/{supervised.number}/"
    assert api.post(url + "urge/", {"note": "快办"}, format="json").status_code == 403
    api.force_authenticate(world.street_clerk)
    response = api.post(url + "urge/", {"note": ""}, format="json")
    assert response.status_code == 400 and "note" in response.json()["errors"]
    assert api.post(url + "urge/", {"note": "请今天办结"}, format="json").status_code == 200
    assert supervised.events.get(action="urge").note == "请今天办结"
    until = (SUPERVISED_AT + timedelta(days=3)).isoformat()
    response = api.post(url + "set_deadline/", {"until": until, "reason": "协调物业"}, format="json")
    assert response.status_code == 200
    assert Assignment.objects.get(case=supervised).resolve_due == SUPERVISED_AT + timedelta(days=3)
    api.force_authenticate(world.outsider)
    assert api.post(url + "urge/", {"note": "快办"}, format="json").status_code == 404
