"""The handling API: `GET /api/v1/queue/` and the actions `contact`, `note`, `resolve` and
`report` under `/api/v1/cases/<number>/`, with the same answers as the pages."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from feedback.services import case_close_invalid
from handling import services
from intake.services import case_merge
from routing import dispatch
from routing.models import Assignment
from tests.factories import UnitFactory, UserFactory, member, open_case, routing_setup
from tests.handling.helpers import TUESDAY, dispatched_case, helping, lead, photo, signed_case

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Tuesday morning with no holiday near it; four working hours from now end at 15:00.
NOW = TUESDAY
ROW_KEYS = {
    "number",
    "status",
    "title",
    "category",
    "grid",
    "role",
    "state",
    "next_due",
    "mark",
    "working_seconds_left",
}


@pytest.fixture
def world(cast, categories, clock):
    routing_setup(cast)
    # A social force the community may call in, with one clerk.
    cast.volunteers = UnitFactory(code="SOC-VOLUNTEERS", name="志愿者协会", kind="social")
    cast.volunteer = member(UserFactory(username="t_volunteer", real_name="郑志愿"), cast.volunteers)
    return cast


@pytest.fixture
def api():
    return APIClient()


def action(case, name):
    return f"/api/v1/cases/{case.number}/{name}/"


# --- the queue -----------------------------------------------------------------------------------


@pytest.fixture
def housing(world):
    """区住房和城乡建设局's queue: two cases to sign for (one of them overdue), one in progress,
    one resolved."""
    first = dispatched_case(world, category_code="0103", description="楼道灯坏了物业不修")
    Assignment.objects.filter(case=first).update(sign_due=NOW - timedelta(hours=1))
    second = dispatched_case(world, category_code="0103", grid=world.grid_c, description="电梯停运三天")
    working = signed_case(world, category_code="0103", grid=world.grid_b, description="物业乱收停车费")
    done = signed_case(world, category_code="0103", description="单元门禁损坏")
    services.case_resolve(case=done, actor=world.dept_clerk, result_kind="solved", result="已修复")
    world.housing = {"first": first, "second": second, "working": working, "done": done}
    return world


def test_the_queue_answers_rows_counts_and_pagination(api, housing):
    api.force_authenticate(housing.dept_clerk)
    response = api.get("/api/v1/queue/", {"unit": "D-HOUSING", "tab": "to_sign"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert {"count", "next", "previous", "results", "unit", "counts"} <= set(body)
    assert (body["count"], body["next"], body["previous"], body["unit"]) == (2, None, None, "D-HOUSING")
    assert body["counts"] == {"to_sign": 2, "in_progress": 1, "due_soon": 1, "overdue": 1, "resolved": 1}
    first, second = body["results"]
    assert set(first) == ROW_KEYS
    case = housing.housing["first"]
    assert (first["number"], first["status"], first["category"], first["grid"]) == (
        case.number,
        "dispatched",
        "0103",
        housing.grid_a.code,
    )
    assert (first["role"], first["state"], first["mark"]) == ("lead", "waiting", "red")
    assert datetime.fromisoformat(first["next_due"]) == NOW - timedelta(hours=1)
    assert first["working_seconds_left"] == -3600
    assert (second["number"], second["mark"]) == (housing.housing["second"].number, "yellow")


def test_the_queue_defaults_to_the_first_unit_and_the_to_sign_tab(api, housing):
    api.force_authenticate(housing.dept_clerk)
    body = api.get("/api/v1/queue/").json()
    assert body["unit"] == "D-HOUSING"
    assert [row["number"] for row in body["results"]] == [
        housing.housing["first"].number,
        housing.housing["second"].number,
    ]


def test_resolved_work_has_no_deadline_left(api, housing):
    api.force_authenticate(housing.dept_clerk)
    [row] = api.get("/api/v1/queue/", {"tab": "resolved"}).json()["results"]
    assert (row["number"], row["status"], row["state"]) == (housing.housing["done"].number, "resolved", "done")
    assert (row["next_due"], row["mark"], row["working_seconds_left"]) == (None, None, None)


def test_the_queue_pages_with_page_size(api, housing):
    api.force_authenticate(housing.dept_clerk)
    body = api.get("/api/v1/queue/", {"tab": "to_sign", "page_size": 1}).json()
    assert (body["count"], len(body["results"]), body["previous"]) == (2, 1, None)
    assert "page=2" in body["next"] and "tab=to_sign" in body["next"]
    assert api.get(body["next"]).json()["results"][0]["number"] == housing.housing["second"].number


def test_the_queue_filters_like_the_page(api, housing):
    api.force_authenticate(housing.dept_clerk)

    def numbers(**query):
        return {row["number"] for row in api.get("/api/v1/queue/", {"tab": "to_sign", **query}).json()["results"]}

    first, second = housing.housing["first"].number, housing.housing["second"].number
    assert numbers(region="210111003") == {second}
    assert numbers(category="0103") == {first, second}
    assert numbers(category="13") == set()
    assert numbers(q="电梯") == {second}
    assert numbers(q=first.lower()) == {first}
    assert numbers(due_by="2026-03-10") == {first, second}
    assert numbers(due_by="2026-03-09") == set()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"unit": "C210111001015"}, "unit"),  # a real unit, not theirs
        ({"unit": "NOPE"}, "unit"),
        ({"tab": "everything"}, "tab"),
        ({"due_by": "next week"}, "due_by"),
    ],
)
def test_a_bad_queue_request_is_400_naming_the_parameter(api, housing, query, field):
    api.force_authenticate(housing.dept_clerk)
    response = api.get("/api/v1/queue/", query)
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], list(body["errors"])) == ("invalid", [field])


def test_someone_in_no_unit_has_no_queue(api, housing):
    api.force_authenticate(housing.gridworker)
    response = api.get("/api/v1/queue/")
    assert response.status_code == 400
    assert "unit" in response.json()["errors"]


def test_a_person_in_two_units_asks_for_either_queue(api, housing):
    water = UnitFactory(code="D-WATER", name="区水务局", kind="department")
    member(housing.dept_clerk, water)
    leak = open_case(housing, category_code="1301", description="自来水管道漏水")
    dispatch.case_dispatch(case=leak, unit=water, actor=housing.dispatcher)
    api.force_authenticate(housing.dept_clerk)
    body = api.get("/api/v1/queue/", {"unit": "D-WATER"}).json()
    assert (body["unit"], [row["number"] for row in body["results"]]) == ("D-WATER", [leak.number])
    assert body["counts"]["to_sign"] == 1


# --- contact -------------------------------------------------------------------------------------


def test_contact_through_the_api(api, world, clock):
    case = signed_case(world)
    api.force_authenticate(world.community_clerk)
    clock.shift(timedelta(minutes=30))
    at = NOW + timedelta(minutes=10)
    response = api.post(
        action(case, "contact"), {"method": "phone", "contacted_at": at.isoformat(), "agreed": "明早清运"}
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["number"], response.json()["status"]) == (case.number, "in_progress")
    assert lead(case).contacted_at == at
    event = case.events.get(action="contact")
    assert (event.actor, event.data["method"], event.note) == (world.community_clerk, "phone", "明早清运")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"agreed": "明早清运"}, "method"),
        ({"method": "pigeon", "agreed": "明早清运"}, "method"),
        ({"method": "phone", "agreed": ""}, "agreed"),
        ({"method": "phone", "agreed": "x", "contacted_at": (NOW + timedelta(hours=2)).isoformat()}, "contacted_at"),
    ],
)
def test_a_bad_contact_is_400_naming_the_field(api, world, payload, field):
    case = signed_case(world)
    api.force_authenticate(world.community_clerk)
    response = api.post(action(case, "contact"), payload)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert not case.events.filter(action="contact").exists()
    assert lead(case).contacted_at is None


# --- notes ---------------------------------------------------------------------------------------


def test_a_note_with_photos_through_the_api(api, world):
    case = signed_case(world)
    api.force_authenticate(world.community_clerk)
    response = api.post(action(case, "note"), {"text": "已联系环卫", "photos": [photo(), photo("b.jpg")]}, "multipart")
    assert response.status_code == 200, response.json()
    assert case.events.get(action="note").note == "已联系环卫"
    assert list(case.photos.values_list("stage", flat=True)) == ["progress", "progress"]


def test_an_assisting_unit_adds_a_note_through_the_api(api, world):
    case = signed_case(world)
    helping(world, case)
    api.force_authenticate(world.volunteer)
    assert api.post(action(case, "note"), {"text": "志愿者已到场"}).status_code == 200
    assert case.events.get(action="note").data == {"units": ["SOC-VOLUNTEERS"]}


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"text": ""}, "text"), ({"text": "照片", "photos": [SimpleUploadedFile("a.jpg", b"%PDF-1.4")]}, "photos")],
)
def test_a_bad_note_is_400_naming_the_field(api, world, payload, field):
    case = signed_case(world)
    api.force_authenticate(world.community_clerk)
    response = api.post(action(case, "note"), payload, "multipart")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert not case.events.filter(action="note").exists()
    assert not case.photos.exists()


# --- resolving -----------------------------------------------------------------------------------


def test_resolving_through_the_api(api, world):
    case = signed_case(world)
    api.force_authenticate(world.community_clerk)
    response = api.post(
        action(case, "resolve"),
        {"result_kind": "explained", "result": "已向居民解释", "photos": [photo()]},
        "multipart",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "resolved"
    assert (lead(case).state, lead(case).finished_at) == ("done", NOW)
    assert case.events.get(action="resolve").data["result_kind"] == "explained"
    assert list(case.photos.values_list("stage", flat=True)) == ["evidence"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"result_kind": "solved"}, "result"), ({"result_kind": "vanished", "result": "已解决"}, "result_kind")],
)
def test_a_bad_resolution_is_400_naming_the_field(api, world, payload, field):
    case = signed_case(world)
    api.force_authenticate(world.community_clerk)
    response = api.post(action(case, "resolve"), payload)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    case.refresh_from_db()
    assert case.status == "in_progress"


# --- an assisting unit's report ------------------------------------------------------------------


def test_an_assisting_unit_reports_through_the_api(api, world):
    case = signed_case(world)
    volunteers = helping(world, case)
    api.force_authenticate(world.volunteer)
    response = api.post(action(case, "report"), {"text": "志愿者清运完毕"})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "in_progress"
    volunteers.refresh_from_db()
    assert (volunteers.state, volunteers.finished_at) == ("done", NOW)


def test_an_empty_report_is_400_naming_the_field(api, world):
    case = signed_case(world)
    helping(world, case)
    api.force_authenticate(world.volunteer)
    response = api.post(action(case, "report"), {"text": ""})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["text"]


def test_the_lead_unit_cannot_report_as_an_assisting_unit(api, world):
    case = signed_case(world)
    helping(world, case)
    api.force_authenticate(world.community_clerk)
    response = api.post(action(case, "report"), {"text": "替他们报"})
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


# --- who may, and when ---------------------------------------------------------------------------

PAYLOADS = {
    "contact": {"method": "phone", "agreed": "明早清运"},
    "note": {"text": "已联系环卫"},
    "resolve": {"result_kind": "solved", "result": "已清运"},
    "report": {"text": "志愿者清运完毕"},
}


@pytest.mark.parametrize("name", PAYLOADS)
def test_the_outsider_gets_404_and_nothing_changes(api, world, name):
    case = signed_case(world)
    helping(world, case)
    events = case.events.count()
    other_department = member(UserFactory(username="t_other_dept"), UnitFactory(code="D-OTHER", name="其他局"))
    for person in (world.outsider, other_department):
        api.force_authenticate(person)
        assert api.post(action(case, name), PAYLOADS[name]).status_code == 404
    assert case.events.count() == events


@pytest.mark.parametrize("name", PAYLOADS)
def test_the_read_only_official_gets_403_and_nothing_changes(api, world, name):
    case = signed_case(world)
    helping(world, case)
    events = case.events.count()
    api.force_authenticate(world.official)
    response = api.post(action(case, name), PAYLOADS[name])
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert case.events.count() == events


@pytest.mark.parametrize("name", ["contact", "resolve"])
def test_working_a_case_not_yet_signed_for_is_409(api, world, name):
    case = dispatched_case(world)
    api.force_authenticate(world.community_clerk)
    response = api.post(action(case, name), PAYLOADS[name])
    assert response.status_code == 409
    assert response.json()["code"] == "transition_not_allowed"
    case.refresh_from_db()
    assert case.status == "dispatched"
    assert list(case.events.values_list("action", flat=True)) == ["open", "dispatch"]


def test_contact_and_resolve_after_the_case_was_resolved_are_409(api, world):
    case = signed_case(world)
    services.case_resolve(case=case, actor=world.community_clerk, result_kind="solved", result="已清运")
    api.force_authenticate(world.community_clerk)
    for name in ("contact", "resolve"):
        response = api.post(action(case, name), PAYLOADS[name])
        assert response.status_code == 409, name
        assert response.json()["code"] == "transition_not_allowed"
    assert case.events.filter(action="resolve").count() == 1


def test_a_note_on_a_closed_case_is_409(api, world):
    case = open_case(world)
    case_close_invalid(case=case, actor=world.dispatcher, reason="invalid", note="空号来电")
    api.force_authenticate(world.community_clerk)
    response = api.post(action(case, "note"), PAYLOADS["note"])
    assert response.status_code == 409
    assert response.json()["code"] == "transition_not_allowed"


def test_a_report_on_a_case_merged_away_is_409(api, world):
    case = signed_case(world)
    helping(world, case)
    original = open_case(world, grid=world.grid_b)
    case_merge(case=case, into=original, actor=world.dispatcher, note="同一处垃圾")
    api.force_authenticate(world.volunteer)
    response = api.post(action(case, "report"), PAYLOADS["report"])
    assert response.status_code == 409
    assert response.json()["code"] == "transition_not_allowed"


def test_contact_accepts_the_contract_field_note_for_what_was_agreed(api, world, clock):
    case = signed_case(world)
    api.force_authenticate(world.community_clerk)
    response = api.post(action(case, "contact"), {"method": "phone", "note": "明早上门"})
    assert response.status_code == 200, response.json()
    assert case.events.get(action="contact").note == "明早上门"
    response = api.post(action(case, "contact"), {"method": "phone"})
    assert response.status_code == 400
    assert "agreed" in response.json()["errors"]


def test_resolve_with_only_the_contract_field_result_counts_as_solved(api, world, clock):
    case = signed_case(world)
    api.force_authenticate(world.community_clerk)
    response = api.post(action(case, "resolve"), {"result": "已清运"})
    assert response.status_code == 200, response.json()
    assert case.events.get(action="resolve").data["result_kind"] == "solved"
