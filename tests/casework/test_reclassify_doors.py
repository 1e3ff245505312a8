"""改分类, 改网格 through its doors: `POST /api/v1/cases/<number>/reclassify/` (with its preview),
the case page's form and its htmx preview, the one-click acceptance of a returning unit's
proposal from the console and the case page, the unit's return form and API carrying the
proposal."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from cases.models import Case, CaseEvent
from routing import dispatch
from routing.models import Assignment, ReturnReason
from routing.tasks import dispatch_case
from tests.factories import open_case, routing_setup

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
TUESDAY = datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def world(cast, categories):
    routing_setup(cast)
    return cast


@pytest.fixture
def api():
    return APIClient()


def signed_case(world):
    """环境卫生 (0201) in grid A, at 金山社区's committee, signed for (Tuesday)."""
    with time_machine.travel(TUESDAY, tick=False):
        case = open_case(world)
        dispatch_case(case.pk)
        dispatch.case_sign(case=case, actor=world.community_clerk)
    case.refresh_from_db()
    return case


def returned_case(world, **proposal):
    case = signed_case(world)
    with time_machine.travel(TUESDAY + timedelta(hours=1), tick=False):
        dispatch.case_return(
            case=case, actor=world.community_clerk, reason=ReturnReason.WRONG_CATEGORY, note="物业的事", **proposal
        )
    case.refresh_from_db()
    return case


def lead_unit(case):
    lead = Assignment.objects.filter(case=case, role="lead", state__in=Assignment.ACTIVE_STATES).first()
    return lead.unit.code if lead else None


# --- the API -------------------------------------------------------------------------------------


def test_a_dispatcher_reclassifies_through_the_api_and_the_case_is_re_routed(api, world):
    case = signed_case(world)
    api.force_authenticate(world.dispatcher)
    response = api.post(
        f"/api/v1/cases/{case.number}/reclassify/",
        {"category": "0103", "reason": "物业的责任", "seen_category": "0201", "seen_grid": case.grid_id},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["category"], body["status"], body["lead_unit"]) == ("0103", "dispatched", "D-HOUSING")
    assert set(body["deadlines"]) == {"sign", "contact", "resolve", "return_until"}
    (event,) = api.get(f"/api/v1/cases/{case.number}/events/").json()["results"][-1:]
    assert event["action"] == "reclassify" and event["data"]["unit"] == "D-HOUSING"


def test_the_api_preview_answers_what_would_happen_and_changes_nothing(api, world):
    case = signed_case(world)
    events = CaseEvent.objects.filter(case=case).count()
    api.force_authenticate(world.dispatcher)
    response = api.post(
        f"/api/v1/cases/{case.number}/reclassify/", {"category": "0103", "preview": True}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["category"], body["unit"], body["current_unit"], body["reroute"]) == (
        "0103",
        "D-HOUSING",
        "C210111001015",
        True,
    )
    assert set(body["deadlines"]) == {"sign", "contact", "resolve", "return_until"}
    case.refresh_from_db()
    assert (case.category.code, case.status, lead_unit(case)) == ("0201", "in_progress", "C210111001015")
    assert CaseEvent.objects.filter(case=case).count() == events


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"category": "9999", "reason": "改"}, "category"),
        ({"category": "02", "reason": "改"}, "category"),
        ({"grid": "210111001015999", "reason": "改"}, "grid"),
        ({"category": "0103", "reason": ""}, "reason"),
        ({"category": "0103"}, "reason"),
        ({"category": "0201", "reason": "改"}, "category"),  # nothing changes
        ({"category": "0103", "reason": "改", "latitude": "41.7"}, "longitude"),
        ({"category": "0103", "reason": "x" * 2001}, "reason"),
    ],
)
def test_bad_input_to_the_api_is_400_naming_the_field(api, world, body, field):
    case = signed_case(world)
    api.force_authenticate(world.dispatcher)
    response = api.post(f"/api/v1/cases/{case.number}/reclassify/", body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    case.refresh_from_db()
    assert case.category.code == "0201"


def test_a_closed_case_or_a_stale_view_is_409(api, world):
    closed = open_case(world)
    Case.objects.filter(pk=closed.pk).update(status="closed", closure_reason="invalid", closed_at=closed.created_at)
    case = signed_case(world)
    api.force_authenticate(world.dispatcher)
    response = api.post(f"/api/v1/cases/{closed.number}/reclassify/", {"category": "0103", "reason": "改"})
    assert (response.status_code, response.json()["code"]) == (409, "transition_not_allowed")
    response = api.post(
        f"/api/v1/cases/{case.number}/reclassify/", {"category": "0103", "reason": "改", "seen_category": "0103"}
    )
    assert response.status_code == 409
    assert "环境卫生" in response.json()["detail"]  # what the case has now
    case.refresh_from_db()
    assert case.category.code == "0201"


def test_a_reader_who_is_not_a_dispatcher_is_403_and_an_outsider_404(api, world):
    case = signed_case(world)
    for person, status in ((world.community_clerk, 403), (world.official, 403), (world.outsider, 404)):
        api.force_authenticate(person)
        for body in ({"category": "0103", "reason": "改"}, {"category": "9999", "preview": True}):
            response = api.post(f"/api/v1/cases/{case.number}/reclassify/", body, format="json")
            assert response.status_code == status, (person, body, response.json())
    case.refresh_from_db()
    assert case.category.code == "0201"


def test_the_return_api_carries_a_proposal_the_dispatcher_accepts_through_the_api(api, world):
    case = signed_case(world)
    api.force_authenticate(world.community_clerk)
    with time_machine.travel(TUESDAY + timedelta(hours=1), tick=False):
        refused = api.post(
            f"/api/v1/cases/{case.number}/return/",
            {"reason": "wrong_category", "note": "物业的事", "proposed_category": "01"},
        )
        assert refused.status_code == 400 and "proposed_category" in refused.json()["errors"]
        returned = api.post(
            f"/api/v1/cases/{case.number}/return/",
            {"reason": "wrong_category", "note": "物业的事", "proposed_category": "0103"},
        )
    assert returned.status_code == 200, returned.json()
    api.force_authenticate(world.dispatcher)
    response = api.post(
        f"/api/v1/cases/{case.number}/reclassify/", {"accept_proposal": True, "seen_category": "0201"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["category"], response.json()["status"]) == ("0103", "returned")
    # Then dispatched as usual, to the unit the rules give for the new category.
    assert api.post(f"/api/v1/cases/{case.number}/dispatch/", {"unit": "D-HOUSING"}).status_code == 200


# --- the pages -----------------------------------------------------------------------------------


def test_the_case_page_offers_dispatchers_the_form_and_shows_the_change_in_words(client, world):
    case = signed_case(world)
    client.force_login(world.community_clerk)
    assert 'id="reclassify-form"' not in client.get(f"/cases/{case.number}/").text
    assert client.get(f"/cases/{case.number}/reclassify/").status_code == 404
    client.force_login(world.dispatcher)
    page = client.get(f"/cases/{case.number}/").text
    assert 'id="reclassify-form"' in page and '<option value="0201" selected>' in page
    response = client.post(
        f"/cases/{case.number}/reclassify/",
        {
            "category": "0201",
            "grid": world.grid_b.code,
            "address": "",
            "reason": "在第2网格",
            "seen_category": "0201",
            "seen_grid": world.grid_a.code,
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"/cases/{case.number}/"
    case.refresh_from_db()
    assert case.grid_id == world.grid_b.code
    words = response.text.split('data-action="reclassify"')[1].split("</li>")[0]
    assert world.grid_a.name in words and world.grid_b.name in words and "在第2网格" in words


def test_the_page_form_shows_a_chinese_error_and_keeps_what_was_typed(client, world):
    case = signed_case(world)
    client.force_login(world.dispatcher)
    typed = {
        "category": "0103",
        "grid": "210111001015999",
        "address": "金山路1号",
        "reason": "地址写错了，是物业的事",
        "seen_category": "0201",
        "seen_grid": world.grid_a.code,
    }
    response = client.post(f"/cases/{case.number}/reclassify/", typed)
    assert response.status_code == 200
    assert "找不到与“210111001015999”相符的地点。" in response.text
    assert "地址写错了，是物业的事</textarea>" in response.text
    assert 'value="210111001015999"' in response.text and 'value="金山路1号"' in response.text
    assert '<option value="0103" selected>' in response.text
    response = client.post(f"/cases/{case.number}/reclassify/", {**typed, "grid": "", "reason": ""})
    assert "该字段是必填项。" in response.text
    case.refresh_from_db()
    assert (case.category.code, case.grid_id, case.address) == ("0201", world.grid_a.code, "")


def test_the_htmx_preview_shows_the_re_route_before_confirming(client, world):
    case = signed_case(world)
    client.force_login(world.dispatcher)
    body = {"category": "0103", "grid": case.grid_id, "address": "", "reason": "", "preview": "1"}
    response = client.post(f"/cases/{case.number}/reclassify/", body, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert 'data-outcome="reroute"' in response.text and "区住房和城乡建设局" in response.text
    assert 'id="reclassify-confirm"' in response.text and "<html" not in response.text
    case.refresh_from_db()
    assert (case.category.code, lead_unit(case)) == ("0201", "C210111001015")
    # Without htmx, the whole page with the preview in it.
    page = client.post(f"/cases/{case.number}/reclassify/", body)
    assert "<html" in page.text and 'data-outcome="reroute"' in page.text


def test_a_proposal_is_accepted_in_one_click_from_the_console_then_dispatched_as_usual(client, world):
    case = returned_case(world, proposed_category="0103")
    client.force_login(world.dispatcher)
    console = client.get("/routing/console/")
    assert console.context["tab"] == "returned"
    assert 'data-proposal="0103"' in console.text and "物业管理" in console.text
    response = client.post(
        f"/cases/{case.number}/reclassify/",
        {
            "accept_proposal": "1",
            "seen_category": "0201",
            "seen_grid": case.grid_id,
            "next": "/routing/console/?tab=returned",
        },
    )
    assert response.status_code == 302 and response.url == "/routing/console/?tab=returned"
    case.refresh_from_db()
    assert (case.category.code, case.status, case.address) == ("0103", "returned", "")
    event = case.events.get(action="reclassify")
    assert event.data["proposal_from"] == "C210111001015" and "金山社区居委会" in event.note
    (shown,) = client.get("/routing/console/?tab=returned").context["cases"]
    assert shown.proposal is None and shown.suggestion.unit == world.department
    client.post("/routing/console/dispatch/", {"case": case.number, "unit": shown.suggestion.unit.code})
    assert lead_unit(case) == "D-HOUSING"


def test_the_case_page_shows_the_proposal_with_its_one_click_accept(client, world):
    case = returned_case(world, proposed_category="0103")
    client.force_login(world.dispatcher)
    page = client.get(f"/cases/{case.number}/").text
    assert 'id="accept-proposal"' in page and 'data-proposed="0103"' in page
    client.post(
        f"/cases/{case.number}/reclassify/",
        {"accept_proposal": "1", "seen_category": "0201", "seen_grid": case.grid_id},
    )
    case.refresh_from_db()
    assert case.category.code == "0103"
    assert 'id="accept-proposal"' not in client.get(f"/cases/{case.number}/").text


def test_the_units_return_form_carries_its_proposal(client, world):
    case = signed_case(world)
    client.force_login(world.community_clerk)
    with time_machine.travel(TUESDAY + timedelta(hours=1), tick=False):
        assert 'name="proposed_category"' in client.get(f"/handling/cases/{case.number}/").text
        client.post(
            f"/handling/cases/{case.number}/return/",
            {"reason": "wrong_category", "note": "物业的事", "proposed_category": "0103"},
        )
    case.refresh_from_db()
    assert case.status == "returned"
    assert case.events.get(action="return").data["proposed_category"] == "0103"


def test_the_returned_tab_pins_its_query_count(client, world, django_assert_num_queries):
    returned_case(world, proposed_category="0103")
    client.force_login(world.dispatcher)
    client.get("/routing/console/?tab=returned")  # warm the session
    with CaptureQueriesContext(connection) as small:
        client.get("/routing/console/?tab=returned")
    for _ in range(5):
        returned_case(world, proposed_category="0103")
        returned_case(world)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get("/routing/console/?tab=returned")
    assert len(response.context["cases"]) == 11
