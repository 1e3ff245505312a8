import pytest
from rest_framework.test import APIClient

from cases.models import Case, CaseEvent
from intake.models import Call
from tests.factories import open_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def test_the_case_detail_shows_the_case_with_the_phone_masked(api, cast, categories):
    case = open_case(cast)
    api.force_authenticate(cast.dispatcher)
    body = api.get(f"/api/v1/cases/{case.number}/").json()
    assert body["number"] == case.number
    assert (body["status"], body["category"], body["grid"]) == ("registered", "0201", "210111001015001")
    assert body["caller_phone"] == "138****8000"
    assert "13800138000" not in str(body)
    assert body["lead_unit"] is None


def test_an_outsider_gets_404_for_a_case_and_its_events(api, cast, categories):
    case = open_case(cast)
    api.force_authenticate(cast.outsider)
    assert api.get(f"/api/v1/cases/{case.number}/").status_code == 404
    assert api.get(f"/api/v1/cases/{case.number}/events/").status_code == 404
    assert api.get("/api/v1/cases/SJT-20990101-00001/").status_code == 404


def test_the_events_are_the_timeline_in_order(api, cast, categories):
    case = open_case(cast)
    api.force_authenticate(cast.dispatcher)
    api.post(f"/api/v1/cases/{case.number}/close/", {"reason": "invalid", "note": "骚扰电话"}, format="json")
    events = api.get(f"/api/v1/cases/{case.number}/events/").json()["results"]
    assert [(e["action"], e["from_status"], e["to_status"], e["actor"]) for e in events] == [
        ("open", "", "registered", "t_dispatcher"),
        ("close", "registered", "closed", "t_dispatcher"),
    ]
    assert events[1]["note"] == "骚扰电话"


def test_the_list_is_scoped_filtered_and_paginated(api, cast, categories):
    a = open_case(cast, grid=cast.grid_a)
    b = open_case(cast, grid=cast.grid_b, category_code="0205", description="路灯不亮")
    c = open_case(cast, grid=cast.grid_c)
    api.force_authenticate(cast.dispatcher)
    numbers = lambda r: {row["number"] for row in r.json()["results"]}  # noqa: E731
    assert numbers(api.get("/api/v1/cases/")) == {a.number, b.number, c.number}
    assert numbers(api.get("/api/v1/cases/", {"region": "210111001"})) == {a.number, b.number}
    assert numbers(api.get("/api/v1/cases/", {"category": "02"})) == {a.number, b.number, c.number}
    assert numbers(api.get("/api/v1/cases/", {"category": "0205"})) == {b.number}
    assert numbers(api.get("/api/v1/cases/", {"q": "路灯"})) == {b.number}
    assert numbers(api.get("/api/v1/cases/", {"status": "registered"})) == {a.number, b.number, c.number}
    api.force_authenticate(cast.community_clerk)
    assert numbers(api.get("/api/v1/cases/")) == {a.number, b.number}
    api.force_authenticate(cast.gridworker)
    assert numbers(api.get("/api/v1/cases/")) == {a.number}
    api.force_authenticate(cast.dept_clerk)
    assert api.get("/api/v1/cases/").json()["count"] == 0


def test_a_bad_region_filter_answers_400(api, cast, categories):
    api.force_authenticate(cast.dispatcher)
    response = api.get("/api/v1/cases/", {"region": "abc"})
    assert response.status_code == 400
    assert "region" in response.json()["errors"]


def test_the_case_list_has_a_fixed_number_of_queries(api, cast, categories, django_assert_max_num_queries):
    for _ in range(3):
        open_case(cast)
    api.force_authenticate(cast.dispatcher)
    with django_assert_max_num_queries(6) as few:
        api.get("/api/v1/cases/")
    for _ in range(30):
        open_case(cast, grid=cast.grid_c)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = api.get("/api/v1/cases/")
    assert response.json()["count"] == 33


def test_a_dispatcher_closes_an_invalid_call_with_a_reason(api, cast, categories):
    case = open_case(cast)
    api.force_authenticate(cast.dispatcher)
    response = api.post(f"/api/v1/cases/{case.number}/close/", {"reason": "invalid", "note": "空号"}, format="json")
    assert response.status_code == 200
    case.refresh_from_db()
    assert (case.status, case.closure_reason) == ("closed", "invalid")


def test_closing_without_a_note_is_400_and_changes_nothing(api, cast, categories):
    case = open_case(cast)
    api.force_authenticate(cast.dispatcher)
    response = api.post(f"/api/v1/cases/{case.number}/close/", {"reason": "invalid"}, format="json")
    assert response.status_code == 400
    assert "note" in response.json()["errors"]
    case.refresh_from_db()
    assert case.status == "registered"


def test_closing_a_closed_case_again_is_409(api, cast, categories):
    case = open_case(cast)
    api.force_authenticate(cast.dispatcher)
    api.post(f"/api/v1/cases/{case.number}/close/", {"reason": "invalid", "note": "空号"}, format="json")
    response = api.post(f"/api/v1/cases/{case.number}/close/", {"reason": "invalid", "note": "空号"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "transition_not_allowed"
    assert CaseEvent.objects.filter(case=case, action="close").count() == 1


def test_the_read_only_official_cannot_close_a_case(api, cast, categories):
    case = open_case(cast)
    api.force_authenticate(cast.official)
    response = api.post(f"/api/v1/cases/{case.number}/close/", {"reason": "invalid", "note": "x"}, format="json")
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == "registered"


def test_merging_moves_the_calls_and_closes_the_duplicate(api, cast, categories):
    api.force_authenticate(cast.dispatcher)
    first = api.post(
        "/api/v1/calls/",
        {
            "channel": "hotline",
            "caller_name": "张三",
            "caller_phone": "13800138000",
            "description": "垃圾没人清理",
            "category": "0201",
            "grid": "210111001015001",
        },
        format="json",
    ).json()["case"]["number"]
    second = api.post(
        "/api/v1/calls/",
        {
            "channel": "hotline",
            "caller_name": "李四",
            "caller_phone": "13900139000",
            "description": "门口垃圾好几天了",
            "category": "0201",
            "grid": "210111001015001",
        },
        format="json",
    ).json()["case"]["number"]
    response = api.post(f"/api/v1/cases/{second}/merge/", {"into": first, "note": "同一处垃圾"}, format="json")
    assert response.status_code == 200
    assert response.json()["number"] == first
    assert response.json()["call_count"] == 2
    duplicate = Case.objects.get(number=second)
    assert (duplicate.status, duplicate.closure_reason, duplicate.merged_into.number) == ("closed", "duplicate", first)
    assert Call.objects.filter(case__number=first).count() == 2


def test_merging_into_itself_or_an_unknown_case_is_400(api, cast, categories):
    case = open_case(cast)
    api.force_authenticate(cast.dispatcher)
    assert api.post(f"/api/v1/cases/{case.number}/merge/", {"into": case.number}, format="json").status_code == 400
    response = api.post(f"/api/v1/cases/{case.number}/merge/", {"into": "SJT-20990101-00009"}, format="json")
    assert response.status_code == 400
    assert "into" in response.json()["errors"]


def test_revealing_the_phone_is_recorded(api, cast, categories):
    case = open_case(cast)
    api.force_authenticate(cast.dispatcher)
    response = api.post(f"/api/v1/cases/{case.number}/reveal_phone/")
    assert response.json() == {"caller_phone": "13800138000"}
    event = CaseEvent.objects.get(case=case, action="reveal_phone")
    assert event.actor == cast.dispatcher


def test_a_confidential_callers_phone_is_only_for_dispatchers(api, cast, categories):
    case = open_case(cast, caller_confidential=True)
    api.force_authenticate(cast.community_clerk)
    assert api.get(f"/api/v1/cases/{case.number}/").json()["caller_name"] == "***"
    assert api.post(f"/api/v1/cases/{case.number}/reveal_phone/").status_code == 403
    assert not CaseEvent.objects.filter(case=case, action="reveal_phone").exists()


def test_categories_list_the_tree(api, cast, categories):
    api.force_authenticate(cast.gridworker)
    page = api.get("/api/v1/categories/", {"page_size": 100}).json()
    rows = page["results"]
    assert page["count"] == len(rows) == len(categories) and page["next"] is None
    by_code = {row["code"]: row for row in rows}
    assert by_code["02"]["parent"] is None
    assert by_code["0201"] == {
        "code": "0201",
        "name": "环境卫生",
        "parent": "02",
        "default_priority": "normal",
        "keywords": by_code["0201"]["keywords"],
    }
    assert len([r for r in rows if r["parent"] is None]) >= 12
