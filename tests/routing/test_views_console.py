import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from routing import dispatch
from routing.models import Assignment
from routing.tasks import dispatch_case
from tests.factories import open_case, routing_setup

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(cast, categories):
    routing_setup(cast)
    return cast


def test_the_console_lists_waiting_cases_with_the_rules_suggestion(client, world):
    open_case(world, description="小区垃圾没人清理")  # 0201: its committee
    open_case(world, category_code="1301", description="咨询居住证办理")  # no rule
    client.force_login(world.dispatcher)
    response = client.get("/routing/console/")
    assert response.status_code == 200
    cases = response.context["cases"]
    assert [case.suggestion.unit.code if case.suggestion.unit else None for case in cases] == ["C210111001015", None]
    assert response.context["counts"] == {"waiting": 2, "returned": 0, "extensions": 0}


def test_only_dispatchers_have_a_console(client, world):
    for person in (world.official, world.community_clerk, world.dept_clerk):
        client.force_login(person)
        assert client.get("/routing/console/").status_code == 404
        assert "/routing/console/" not in client.get("/").text
    client.force_login(world.dispatcher)
    assert "/routing/console/" in client.get("/").text


def test_the_console_pins_its_query_count(client, world, django_assert_num_queries):
    for _ in range(3):
        open_case(world)
    client.force_login(world.dispatcher)
    client.get("/routing/console/")  # warm the session
    with CaptureQueriesContext(connection) as small:
        client.get("/routing/console/")
    for _ in range(30):
        open_case(world, grid=world.grid_c)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get("/routing/console/")
    assert len(response.context["cases"]) == 33


def test_a_dispatcher_dispatches_one_case_from_the_console(client, world):
    case = open_case(world, category_code="1301")
    client.force_login(world.dispatcher)
    response = client.post(
        "/routing/console/dispatch/", {"case": case.number, "unit": "D-HOUSING", "reason": "住房"}, follow=True
    )
    assert "区住房和城乡建设局" in response.text
    assert Assignment.objects.get(case=case).unit.code == "D-HOUSING"
    case.refresh_from_db()
    assert case.status == "dispatched"


def test_an_unknown_unit_in_the_console_is_a_message_and_nothing_changes(client, world):
    case = open_case(world, category_code="1301")
    client.force_login(world.dispatcher)
    response = client.post("/routing/console/dispatch/", {"case": case.number, "unit": "NOPE"}, follow=True)
    assert "单位: 找不到与“NOPE”相符的单位。" in response.text
    assert not Assignment.objects.exists()


def test_bulk_dispatch_sends_each_case_to_its_suggestion_and_reports_the_rest(client, world):
    routed = [open_case(world), open_case(world, grid=world.grid_c)]
    unrouted = open_case(world, category_code="1301")
    client.force_login(world.dispatcher)
    response = client.post("/routing/console/bulk/", {"cases": [c.number for c in [*routed, unrouted]]}, follow=True)
    assert sorted(Assignment.objects.values_list("unit__code", flat=True)) == ["C210111001015", "C210111003201"]
    assert unrouted.number in response.text
    unrouted.refresh_from_db()
    assert unrouted.status == "registered"


def test_a_returned_case_shows_its_reason_and_can_be_re_routed(client, world):
    case = open_case(world)
    dispatch_case(case.pk)
    dispatch.case_return(case=case, actor=world.community_clerk, reason="wrong_category", note="是物业问题")
    client.force_login(world.dispatcher)
    response = client.get("/routing/console/", {"tab": "returned"})
    assert [c.number for c in response.context["cases"]] == [case.number]
    assert "是物业问题" in response.text
    client.post(
        "/routing/console/dispatch/",
        {"case": case.number, "unit": "D-HOUSING", "next": "/routing/console/?tab=returned"},
    )
    case.refresh_from_db()
    assert case.status == "dispatched"
    assert Assignment.objects.get(case=case, state="waiting").unit.code == "D-HOUSING"


def test_pending_extensions_are_listed_for_the_dispatcher_to_decide(client, world):
    from datetime import timedelta

    case = open_case(world)
    dispatch_case(case.pk)
    dispatch.case_sign(case=case, actor=world.community_clerk)
    until = Assignment.objects.get(case=case).resolve_due + timedelta(days=2)
    dispatch.extension_request(case=case, actor=world.community_clerk, until=until, reason="等待材料")
    client.force_login(world.dispatcher)
    assert client.get("/routing/console/").context["counts"]["extensions"] == 1
    response = client.get("/routing/console/extensions/")
    assert "等待材料" in response.text
    client.post(f"/handling/cases/{case.number}/extend/decide/", {"approve": "1", "note": "同意"})
    assert Assignment.objects.get(case=case).resolve_due == until
    assert "等待材料" not in client.get("/routing/console/extensions/").text


def test_the_console_does_not_follow_a_next_to_another_site(client, world):
    case = open_case(world, category_code="1301")
    client.force_login(world.dispatcher)
    response = client.post(
        "/routing/console/dispatch/", {"case": case.number, "unit": "D-HOUSING", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/routing/console/"
