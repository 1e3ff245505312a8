import pytest
from rest_framework.test import APIClient

from routing.models import Assignment
from routing.tasks import dispatch_case
from tests.factories import open_case, routing_setup

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(cast, categories):
    routing_setup(cast)
    return cast


@pytest.fixture
def api():
    return APIClient()


def test_a_dispatcher_dispatches_through_the_api_and_sees_the_lead_and_deadlines(api, world):
    case = open_case(world, category_code="1301")
    api.force_authenticate(world.dispatcher)
    response = api.post(f"/api/v1/cases/{case.number}/dispatch/", {"unit": "D-HOUSING", "reason": "住房问题"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["lead_unit"]) == ("dispatched", "D-HOUSING")
    assert set(body["deadlines"]) == {"sign", "contact", "resolve", "return_until"}


def test_dispatching_an_already_dispatched_case_is_409_with_the_fresh_state(api, world):
    case = open_case(world, category_code="1301")
    api.force_authenticate(world.dispatcher)
    api.post(f"/api/v1/cases/{case.number}/dispatch/", {"unit": "D-HOUSING"})
    response = api.post(f"/api/v1/cases/{case.number}/dispatch/", {"unit": "C210111001015"})
    assert response.status_code == 409
    assert response.json()["code"] == "transition_not_allowed"
    fresh = api.get(f"/api/v1/cases/{case.number}/").json()
    assert fresh["lead_unit"] == "D-HOUSING"


def test_an_unknown_unit_is_400_naming_the_field(api, world):
    case = open_case(world, category_code="1301")
    api.force_authenticate(world.dispatcher)
    response = api.post(f"/api/v1/cases/{case.number}/dispatch/", {"unit": "NOPE"})
    assert response.status_code == 400
    assert "NOPE" in " ".join(response.json()["errors"]["unit"])
    response = api.post(f"/api/v1/cases/{case.number}/dispatch/", {"unit": "CENTRE"})
    assert response.status_code == 400
    assert "unit" in response.json()["errors"]
    assert not Assignment.objects.exists()


def test_the_read_only_official_cannot_dispatch(api, world):
    case = open_case(world, category_code="1301")
    api.force_authenticate(world.official)
    assert api.post(f"/api/v1/cases/{case.number}/dispatch/", {"unit": "D-HOUSING"}).status_code == 403


def test_an_outsider_gets_404_for_every_action(api, world):
    case = open_case(world)
    dispatch_case(case.pk)
    api.force_authenticate(world.outsider)
    for action, payload in (("sign", {}), ("return", {"reason": "other", "note": "x"}), ("dispatch", {"unit": "x"})):
        assert api.post(f"/api/v1/cases/{case.number}/{action}/", payload).status_code == 404


def test_sign_return_assist_and_extend_through_the_api(api, world):
    case = open_case(world)
    dispatch_case(case.pk)
    api.force_authenticate(world.community_clerk)
    assert api.post(f"/api/v1/cases/{case.number}/sign/").json()["status"] == "in_progress"
    response = api.post(f"/api/v1/cases/{case.number}/return/", {"reason": "other"})
    assert response.status_code == 400
    assert "note" in response.json()["errors"]
    lead = Assignment.objects.get(case=case, role="lead")
    until = (lead.resolve_due.replace(microsecond=0)).isoformat()
    response = api.post(f"/api/v1/cases/{case.number}/extend/", {"until": until, "reason": "x"})
    assert response.status_code == 400
    assert "until" in response.json()["errors"]
    response = api.post(f"/api/v1/cases/{case.number}/return/", {"reason": "not_our_area", "note": "不在本社区"})
    assert response.json()["status"] == "returned"


def test_the_routing_preview_says_where_and_why(api, world):
    api.force_authenticate(world.dispatcher)
    body = api.get("/api/v1/routing/preview/", {"category": "0201", "grid": "210111003201001"}).json()
    assert body["unit"] == "C210111003201"
    assert body["explanation"]
    body = api.get("/api/v1/routing/preview/", {"category": "1301", "grid": "210111003201001"}).json()
    assert body["unit"] is None
    response = api.get("/api/v1/routing/preview/", {"category": "0201"})
    assert response.status_code == 400
    assert "grid" in response.json()["errors"]


def test_a_free_text_return_reason_from_an_integration_is_kept_as_other(api, world):
    case = open_case(world)
    dispatch_case(case.pk)
    api.force_authenticate(world.community_clerk)
    response = api.post(f"/api/v1/cases/{case.number}/return/", {"reason": "不属于本社区"}, format="json")
    assert response.status_code == 200, response.json()
    event = case.events.get(action="return")
    assert (event.data["reason"], event.note) == ("other", "不属于本社区")
