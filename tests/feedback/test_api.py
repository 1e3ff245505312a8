"""The feedback API: `callback`, `verify`, `reopen` and `close` under `/api/v1/cases/<number>/`,
the centre's callback queue (`GET /api/v1/callbacks/`) and the metrics (`GET /api/v1/metrics/`),
with the same answers as the services."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import User
from cases.models import Case
from feedback import services
from feedback.models import FeedbackSettings
from routing.models import Assignment
from routing.tasks import dispatch_case
from tests.factories import open_case
from tests.feedback.helpers import lead, photo, resolved_case
from tests.handling.helpers import TUESDAY, signed_case

pytestmark = pytest.mark.django_db

SATISFIED = {"reached": True, "resolved": True, "satisfaction": "satisfied"}


@pytest.fixture
def api():
    return APIClient()


def action(case, name):
    return f"/api/v1/cases/{case.number}/{name}/"


def fresh(user):
    """The user re-read, without the postings cached on the object by an earlier request, so
    that two requests measured for their queries start alike."""
    return User.objects.get(pk=user.pk)


# --- callback ------------------------------------------------------------------------------------


def test_a_satisfied_callback_closes_the_case(api, world):
    case = resolved_case(world)
    api.force_authenticate(world.dispatcher)
    response = api.post(action(case, "callback"), {**SATISFIED, "comment": "很满意"}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["closure_reason"]) == ("closed", "satisfied")
    case.refresh_from_db()
    assert (case.status, case.closure_reason) == ("closed", "satisfied")
    callback = case.events.get(action="callback")
    assert (callback.actor, callback.note) == (world.dispatcher, "很满意")
    assert callback.data == {
        "reached": True,
        "resolved": True,
        "satisfaction": "satisfied",
        "positive": True,
        "unit": world.committee.code,
        "channel": "phone",
    }
    assert case.events.get(action="close").data == {"reason": "satisfied", "unit": world.committee.code}
    assert lead(case).callback_due is None


def test_an_unsatisfied_callback_reopens_the_case_to_the_same_unit(api, world, clock):
    case = resolved_case(world)
    clock.shift(timedelta(hours=1))
    api.force_authenticate(world.dispatcher)
    response = api.post(
        action(case, "callback"),
        {"reached": True, "resolved": True, "satisfaction": "unsatisfied", "comment": "垃圾又堆起来了"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "in_progress"
    redo = lead(case)
    assert (redo.unit, redo.is_redo, redo.state) == (world.committee, True, Assignment.State.SIGNED)
    assert redo.signed_at == TUESDAY + timedelta(hours=1)
    # Seven working days from Tuesday 11:00.
    assert redo.resolve_due == TUESDAY.replace(day=19, hour=11)
    reopen = case.events.get(action="reopen")
    assert (reopen.note, reopen.data) == (
        "垃圾又堆起来了",
        {"unit": world.committee.code, "redo": 1, "after": "callback"},
    )
    assert response.json()["lead_unit"] == world.committee.code


def test_a_callback_with_an_exemption_closes_the_case_as_exempted(api, world):
    case = resolved_case(world)
    api.force_authenticate(world.dispatcher)
    response = api.post(
        action(case, "callback"),
        {
            "reached": True,
            "resolved": False,
            "satisfaction": "unsatisfied",
            "exemption": "beyond_policy",
            "note": "诉求超出物业管理规定",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    case.refresh_from_db()
    assert (case.status, case.closure_reason) == ("closed", "exempted")
    close = case.events.get(action="close")
    assert close.note == "诉求超出物业管理规定"
    assert close.data == {"reason": "exempted", "exemption": "beyond_policy", "unit": world.committee.code}
    assert not case.events.filter(action="reopen").exists()


@pytest.mark.parametrize("form", ["json", "multipart"])
@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"reached": True, "resolved": True, "satisfaction": "very"}, "satisfaction"),
        ({"reached": True, "satisfaction": "satisfied"}, "resolved"),
        ({"reached": True, "resolved": True}, "satisfaction"),
        ({"resolved": True, "satisfaction": "satisfied"}, "reached"),
        ({"reached": True, "resolved": False, "satisfaction": "unsatisfied", "exemption": "beyond_policy"}, "note"),
        (
            {"reached": True, "resolved": False, "satisfaction": "unsatisfied", "exemption": "bribe", "note": "x"},
            "exemption",
        ),
        ({**SATISFIED, "exemption": "other", "note": "居民满意也免责"}, "exemption"),
    ],
)
def test_a_bad_callback_is_400_naming_the_field_and_changes_nothing(api, world, payload, field, form):
    case = resolved_case(world)
    api.force_authenticate(world.dispatcher)
    response = api.post(action(case, "callback"), payload, format=form)
    assert response.status_code == 400, response.json()
    assert (response.json()["code"], list(response.json()["errors"])) == ("invalid", [field])
    case.refresh_from_db()
    assert case.status == "resolved"
    assert not case.events.filter(action="callback").exists()
    assert lead(case).callback_due is not None


def test_a_callback_on_a_case_that_is_not_resolved_is_409_and_changes_nothing(api, world):
    case = signed_case(world)
    events = case.events.count()
    api.force_authenticate(world.dispatcher)
    response = api.post(action(case, "callback"), SATISFIED, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "transition_not_allowed"
    case.refresh_from_db()
    assert (case.status, case.events.count()) == ("in_progress", events)


def test_a_resident_unreachable_three_times_closes_the_case_as_unreachable(api, world, clock):
    FeedbackSettings.objects.update_or_create(pk=1, defaults={"callback_attempts": 3})
    case = resolved_case(world)
    api.force_authenticate(world.dispatcher)
    for attempt in (1, 2):
        response = api.post(action(case, "callback"), {"reached": False, "comment": "无人接听"}, format="json")
        assert response.status_code == 200, response.json()
        assert response.json()["status"] == "resolved", attempt
        clock.shift(timedelta(hours=2))
    # The second attempt was at 12:00; the next is due two working hours later, after lunch.
    assert lead(case).callback_due == TUESDAY.replace(hour=15)
    response = api.post(action(case, "callback"), {"reached": False}, format="json")
    assert (response.json()["status"], response.json()["closure_reason"]) == ("closed", "unreachable")
    assert [e.data["attempt"] for e in case.events.filter(action="callback").order_by("id")] == [1, 2, 3]
    assert case.events.get(action="close").data == {"reason": "unreachable", "unit": world.committee.code}
    assert lead(case).callback_due is None


# --- on-site verification ------------------------------------------------------------------------


def test_the_grid_worker_confirms_on_site_with_a_photo_and_the_case_closes(api, world):
    case = resolved_case(world, category_code="0101")
    services.case_callback(case=case, actor=world.dispatcher, **SATISFIED)
    api.force_authenticate(world.gridworker)
    response = api.post(
        action(case, "verify"), {"confirmed": True, "note": "现场已拆除", "photos": [photo()]}, format="multipart"
    )
    assert response.status_code == 200, response.json()
    case.refresh_from_db()
    assert (case.status, case.closure_reason) == ("closed", "satisfied")
    verify = case.events.get(action="verify")
    assert (verify.actor, verify.note, verify.data) == (
        world.gridworker,
        "现场已拆除",
        {"confirmed": True, "unit": world.street_office.code},
    )
    assert list(case.photos.filter(stage="verification").values_list("uploaded_by", flat=True)) == [world.gridworker.pk]


def test_a_confirmation_before_the_callback_leaves_the_case_waiting_for_the_resident(api, world):
    case = resolved_case(world, category_code="0101")
    api.force_authenticate(world.gridworker)
    response = api.post(action(case, "verify"), {"confirmed": True, "photos": [photo()]}, format="multipart")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "resolved"
    api.force_authenticate(world.dispatcher)
    assert api.post(action(case, "callback"), SATISFIED, format="json").json()["status"] == "closed"


def test_a_rejection_on_site_sends_the_case_back_for_rework(api, world):
    case = resolved_case(world, category_code="0101")
    api.force_authenticate(world.gridworker)
    response = api.post(action(case, "verify"), {"confirmed": False, "note": "违建只拆了一半"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "in_progress"
    redo = lead(case)
    assert (redo.unit, redo.is_redo, redo.state) == (world.street_office, True, Assignment.State.SIGNED)
    reopen = case.events.get(action="reopen")
    assert (reopen.note, reopen.data["after"], reopen.data["redo"]) == ("违建只拆了一半", "verification", 1)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"note": "现场已拆除", "photos": [photo()]}, "confirmed"),  # a form without the yes/no
        ({"confirmed": True, "note": "现场已拆除"}, "photos"),
        ({"confirmed": False, "note": ""}, "note"),
        ({"confirmed": True, "photos": [SimpleUploadedFile("a.jpg", b"%PDF-1.4")]}, "photos"),
    ],
)
def test_a_bad_verification_is_400_naming_the_field_and_changes_nothing(api, world, payload, field):
    case = resolved_case(world, category_code="0101")
    api.force_authenticate(world.gridworker)
    response = api.post(action(case, "verify"), payload, format="multipart")
    assert response.status_code == 400, response.json()
    assert list(response.json()["errors"]) == [field]
    case.refresh_from_db()
    assert case.status == "resolved"
    assert not case.events.filter(action="verify").exists()
    assert not case.photos.filter(stage="verification").exists()


# --- reopen --------------------------------------------------------------------------------------


def test_a_dispatcher_reopens_a_closed_case_with_a_reason(api, world):
    case = services.case_callback(case=resolved_case(world), actor=world.dispatcher, **SATISFIED)
    api.force_authenticate(world.dispatcher)
    response = api.post(action(case, "reopen"), {"reason": "居民再次来电反映"}, format="json")
    assert response.status_code == 200, response.json()
    case.refresh_from_db()
    assert (case.status, case.closure_reason, case.closed_at) == ("in_progress", "", None)
    redo = lead(case)
    assert (redo.unit, redo.is_redo, redo.state) == (world.committee, True, Assignment.State.SIGNED)
    reopen = case.events.get(action="reopen")
    assert (reopen.actor, reopen.from_status, reopen.note) == (world.dispatcher, "closed", "居民再次来电反映")
    assert reopen.data == {"unit": world.committee.code, "redo": 1, "after": "dispatcher"}


@pytest.mark.parametrize("payload", [{"reason": ""}, {}])
def test_reopening_without_a_reason_is_400(api, world, payload):
    case = resolved_case(world)
    api.force_authenticate(world.dispatcher)
    response = api.post(action(case, "reopen"), payload, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["reason"]
    case.refresh_from_db()
    assert case.status == "resolved" and not case.events.filter(action="reopen").exists()


def test_reopening_a_case_still_at_the_unit_is_409(api, world):
    case = signed_case(world)
    api.force_authenticate(world.dispatcher)
    response = api.post(action(case, "reopen"), {"reason": "再办"}, format="json")
    assert response.status_code == 409
    assert not case.events.filter(action="reopen").exists()


# --- close ---------------------------------------------------------------------------------------


def test_a_dispatcher_closes_a_resolved_case_with_an_exemption(api, world):
    case = resolved_case(world)
    api.force_authenticate(world.dispatcher)
    response = api.post(action(case, "close"), {"reason": "historical", "note": "历史遗留问题"}, format="json")
    assert response.status_code == 200, response.json()
    case.refresh_from_db()
    assert (case.status, case.closure_reason) == ("closed", "exempted")
    close = case.events.get(action="close")
    assert (close.actor, close.note) == (world.dispatcher, "历史遗留问题")
    assert close.data == {"reason": "exempted", "exemption": "historical", "unit": world.committee.code}
    assert lead(case).callback_due is None


def test_a_registered_case_still_closes_as_invalid_through_the_same_endpoint(api, world):
    case = open_case(world)
    api.force_authenticate(world.dispatcher)
    response = api.post(action(case, "close"), {"reason": "out_of_scope", "note": "不属本区"}, format="json")
    assert response.status_code == 200, response.json()
    case.refresh_from_db()
    assert (case.status, case.closure_reason) == ("closed", "out_of_scope")


@pytest.mark.parametrize(
    ("resolved", "payload", "field"),
    [
        (True, {"reason": "unreasonable", "note": " "}, "note"),
        (False, {"reason": "unreasonable", "note": "不合理"}, "reason"),  # registered: intake's reasons
        (False, {"reason": "whim", "note": "x"}, "reason"),
    ],
)
def test_a_bad_closure_is_400_naming_the_field(api, world, resolved, payload, field):
    case = resolved_case(world) if resolved else open_case(world)
    status = case.status
    api.force_authenticate(world.dispatcher)
    response = api.post(action(case, "close"), payload, format="json")
    assert response.status_code == 400, response.json()
    assert list(response.json()["errors"]) == [field]
    case.refresh_from_db()
    assert case.status == status and not case.events.filter(action="close").exists()


def test_a_resolved_case_closed_as_invalid_is_told_to_give_an_exemption_reason(api, world):
    case = resolved_case(world)
    api.force_authenticate(world.dispatcher)
    response = api.post(action(case, "close"), {"reason": "invalid", "note": "无效"}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()["errors"]
    case.refresh_from_db()
    assert case.status == "resolved" and not case.events.filter(action="close").exists()


def test_the_close_service_names_the_reason_field(world):
    """The service's error names the field its callers send (`reason`)."""
    from cases.errors import InvalidInput

    with pytest.raises(InvalidInput) as error:
        services.case_exempt(case=resolved_case(world), actor=world.dispatcher, reason="invalid", note="无效")
    assert error.value.field == "reason"


def test_closing_a_case_at_work_in_a_unit_is_409(api, world):
    case = signed_case(world)
    api.force_authenticate(world.dispatcher)
    response = api.post(action(case, "close"), {"reason": "invalid", "note": "无效"}, format="json")
    assert response.status_code == 409
    case.refresh_from_db()
    assert case.status == "in_progress"


# --- who may -------------------------------------------------------------------------------------

WRITES = {
    "callback": ("0201", SATISFIED),
    "verify": ("0101", {"confirmed": False, "note": "违建只拆了一半"}),
    "reopen": ("0201", {"reason": "居民再次来电"}),
    "close": ("0201", {"reason": "unreasonable", "note": "要求不合理"}),
}


@pytest.mark.parametrize("name", WRITES)
def test_the_outsider_gets_404_and_nothing_changes(api, world, name):
    category, payload = WRITES[name]
    case = resolved_case(world, category_code=category)
    events = case.events.count()
    api.force_authenticate(world.outsider)
    assert api.post(action(case, name), payload, format="json").status_code == 404
    case.refresh_from_db()
    assert (case.status, case.events.count()) == ("resolved", events)


@pytest.mark.parametrize("name", WRITES)
def test_the_read_only_official_gets_403_and_nothing_changes(api, world, name):
    category, payload = WRITES[name]
    case = resolved_case(world, category_code=category)
    events = case.events.count()
    api.force_authenticate(world.official)
    response = api.post(action(case, name), payload, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    case.refresh_from_db()
    assert (case.status, case.events.count()) == ("resolved", events)


@pytest.mark.parametrize("name", ["callback", "reopen", "close"])
def test_the_unit_that_resolved_it_may_not_judge_its_own_work(api, world, name):
    case = resolved_case(world)
    api.force_authenticate(world.community_clerk)
    assert api.post(action(case, name), WRITES[name][1], format="json").status_code == 403
    case.refresh_from_db()
    assert case.status == "resolved"


# --- the whole loop ------------------------------------------------------------------------------


def test_the_whole_loop_through_the_api(api, world):
    api.force_authenticate(world.dispatcher)
    response = api.post(
        "/api/v1/calls/",
        {
            "channel": "hotline",
            "caller_name": "张三",
            "caller_phone": "13800138000",
            "description": "金山社区3号楼门口垃圾堆放多日无人清理",
            "category": "0201",
            "grid": world.grid_a.code,
            "address": "金山路3号",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    case = Case.objects.get(number=response.json()["case"]["number"])
    dispatch_case(case.pk)  # what the worker does after the call is saved

    api.force_authenticate(world.community_clerk)
    assert api.post(action(case, "sign")).json()["status"] == "in_progress"
    assert api.post(action(case, "contact"), {"method": "phone", "agreed": "今天下午清运"}).status_code == 200
    assert api.post(action(case, "resolve"), {"result": "已清运完毕"}).json()["status"] == "resolved"

    api.force_authenticate(world.dispatcher)
    [row] = api.get("/api/v1/callbacks/").json()["results"]
    assert (row["number"], row["unit"]) == (case.number, world.committee.code)
    response = api.post(action(case, "callback"), SATISFIED, format="json")
    assert (response.json()["status"], response.json()["closure_reason"]) == ("closed", "satisfied")
    assert api.get("/api/v1/callbacks/").json()["count"] == 0
    timeline = api.get(f"/api/v1/cases/{case.number}/events/").json()["results"]
    assert [(e["action"], e["actor"]) for e in timeline] == [
        ("open", "t_dispatcher"),
        ("dispatch", None),
        ("sign", "t_community"),
        ("contact", "t_community"),
        ("resolve", "t_community"),
        ("callback", "t_dispatcher"),
        ("close", "t_dispatcher"),
    ]


# --- the callback queue --------------------------------------------------------------------------


def test_the_callback_queue_lists_resolved_cases_longest_waiting_first(api, world, clock):
    waiting = resolved_case(world, description="楼下垃圾没人清")
    tried = resolved_case(world, category_code="0103", grid=world.grid_c, description="电梯停运")
    services.case_callback(case=tried, actor=world.dispatcher, reached=False)
    services.case_callback(case=resolved_case(world), actor=world.dispatcher, **SATISFIED)  # closed: not listed
    api.force_authenticate(world.dispatcher)
    body = api.get("/api/v1/callbacks/").json()
    assert (body["count"], body["next"], body["previous"]) == (2, None, None)
    first, second = body["results"]
    # Tried once at 10:00 and due again two working hours later, before the other's next day.
    assert (first["number"], first["failed_attempts"], first["due"]) == (tried.number, 1, False)
    assert first["callback_due"] == "2026-03-10T12:00:00+08:00"
    assert second == {
        "number": waiting.number,
        "title": waiting.title,
        "category": "0201",
        "category_name": waiting.category.name,
        "grid": world.grid_a.code,
        "unit": world.committee.code,
        "unit_name": world.committee.name,
        "resolved_at": "2026-03-10T10:00:00+08:00",
        "callback_due": "2026-03-11T10:00:00+08:00",
        "failed_attempts": 0,
        "due": False,
    }
    clock.shift(timedelta(hours=2))
    assert [row["due"] for row in api.get("/api/v1/callbacks/").json()["results"]] == [True, False]
    assert api.get("/api/v1/callbacks/", {"page_size": 1}).json()["next"] is not None


@pytest.mark.parametrize("who", ["official", "community_clerk", "gridworker", "dept_clerk"])
def test_only_dispatchers_see_the_callback_queue(api, world, who):
    resolved_case(world)
    api.force_authenticate(getattr(world, who))
    response = api.get("/api/v1/callbacks/")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def four_more(world):
    """Four more cases across three grids: rubbish to 金山社区's committee, the housing bureau's
    物业管理 (0103) anywhere (民主村's committee has no clerk in the cast)."""
    return [(world.grid_a, "0201"), (world.grid_b, "0201"), (world.grid_c, "0103"), (world.grid_a, "0103")]


def test_the_callback_queue_costs_the_same_queries_for_one_case_or_five(api, world, django_assert_max_num_queries):
    services.case_callback(case=resolved_case(world), actor=world.dispatcher, reached=False)
    api.force_authenticate(fresh(world.dispatcher))
    with django_assert_max_num_queries(4) as one:
        assert api.get("/api/v1/callbacks/").json()["count"] == 1
    for grid, category in four_more(world):
        case = resolved_case(world, grid=grid, category_code=category)
        services.case_callback(case=case, actor=world.dispatcher, reached=False)
    api.force_authenticate(fresh(world.dispatcher))
    with django_assert_max_num_queries(len(one.captured_queries)) as five:
        assert api.get("/api/v1/callbacks/").json()["count"] == 5
    assert len(five.captured_queries) == len(one.captured_queries)


# --- metrics -------------------------------------------------------------------------------------


@pytest.fixture
def scored(world):
    """March 2026 in 金山社区's grid A: two cases resolved by the committee; one resident
    satisfied (closed), the other says it is solved but is not satisfied (reopened)."""
    FeedbackSettings.load()
    services.case_callback(case=resolved_case(world), actor=world.dispatcher, **SATISFIED)
    services.case_callback(
        case=resolved_case(world), actor=world.dispatcher, reached=True, resolved=True, satisfaction="unsatisfied"
    )
    return world


def metrics(api, user, **query):
    api.force_authenticate(user)
    response = api.get("/api/v1/metrics/", query)
    assert response.status_code == 200, response.json()
    return response.json()


def test_the_street_row_counts_the_callbacks_and_the_redo(api, scored):
    body = metrics(api, scored.dispatcher, level="street", month="2026-03")
    assert (body["level"], body["from"], body["to"]) == ("street", "2026-03-01", "2026-03-31")
    assert (body["weights"], body["basically_value"]) == ({"response": 30, "resolution": 35, "satisfaction": 35}, 0.8)
    assert [(row["code"], row["name"]) for row in body["results"]] == [
        ("210111001", "解放街道"),
        ("210111003", "民主街道"),
    ]
    street, other = body["results"]
    assert (street["callbacks"], street["resolution_rate"], street["satisfaction_rate"], street["redos"]) == (
        2,
        1.0,
        0.5,
        1,
    )
    assert (street["received"], street["resolved"], street["satisfied"], street["unsatisfied"]) == (2, 2, 1, 1)
    assert (other["callbacks"], other["resolution_rate"], other["satisfaction_rate"]) == (0, None, None)


def test_the_current_month_is_the_default_and_a_range_of_days_counts_the_same(api, scored):
    default = metrics(api, scored.dispatcher, level="street")
    assert (default["from"], default["to"]) == ("2026-03-01", "2026-03-31")
    days = metrics(api, scored.dispatcher, level="street", **{"from": "2026-03-10", "to": "2026-03-10"})
    assert (days["from"], days["to"]) == ("2026-03-10", "2026-03-10")
    assert days["results"] == default["results"]


def test_an_empty_month_gives_rows_with_no_rates(api, scored):
    body = metrics(api, scored.dispatcher, level="street", month="2026-01")
    assert [row["code"] for row in body["results"]] == ["210111001", "210111003"]
    for row in body["results"]:
        assert (row["callbacks"], row["received"], row["redos"]) == (0, 0, 0)
        assert (row["response_rate"], row["resolution_rate"], row["satisfaction_rate"], row["composite"]) == (
            None,
            None,
            None,
            None,
        )


def codes(api, user, **query):
    return [row["code"] for row in metrics(api, user, month="2026-03", **query)["results"]]


def test_dispatchers_and_officials_see_every_row(api, scored):
    for user in (scored.dispatcher, scored.official):
        assert codes(api, user, level="community") == ["210111001015", "210111003201"]
        assert codes(api, user, level="grid", parent="210111003") == ["210111003201001"]
        assert "C210111003201" in codes(api, user, level="unit")


def test_a_community_clerk_sees_only_their_community(api, scored):
    clerk = scored.community_clerk
    assert codes(api, clerk, level="community") == ["210111001015"]
    assert codes(api, clerk, level="grid") == ["210111001015001", "210111001015002"]
    assert codes(api, clerk, level="street") == []  # the street is wider than their area
    assert codes(api, clerk, level="unit") == ["C210111001015"]


def test_a_street_clerk_sees_their_street(api, scored):
    assert codes(api, scored.street_clerk, level="street") == ["210111001"]
    assert codes(api, scored.street_clerk, level="community") == ["210111001015"]
    assert codes(api, scored.street_clerk, level="unit") == ["S210111001"]


def test_grid_workers_see_their_own_grids_only(api, scored):
    assert codes(api, scored.gridworker, level="grid") == ["210111001015001"]
    assert codes(api, scored.gridworker, level="community") == []
    assert codes(api, scored.outsider, level="grid") == ["210111001015002"]
    assert codes(api, scored.outsider, level="street") == []


def test_a_department_sees_its_own_unit_and_no_place(api, scored):
    assert codes(api, scored.dept_clerk, level="unit") == ["D-HOUSING"]
    assert codes(api, scored.dept_clerk, level="street") == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({}, "level"),
        ({"level": "province"}, "level"),
        ({"level": "street", "month": "2026-13"}, "month"),
        ({"level": "street", "month": "March"}, "month"),
        ({"level": "street", "month": "2026-03", "from": "2026-03-01", "to": "2026-03-10"}, "month"),
        ({"level": "street", "from": "2026-03-01"}, "to"),
        ({"level": "street", "to": "2026-03-01"}, "from"),
        ({"level": "street", "from": "yesterday", "to": "2026-03-01"}, "from"),
        ({"level": "street", "from": "2026-03-10", "to": "2026-03-01"}, "to"),
        ({"level": "street", "from": "2025-01-01", "to": "2026-03-01"}, "to"),
        ({"level": "street", "parent": "jiefang"}, "parent"),
        ({"level": "unit", "parent": "210111001"}, "parent"),
    ],
)
def test_a_bad_metrics_request_is_400_naming_the_parameter(api, world, query, field):
    api.force_authenticate(world.dispatcher)
    response = api.get("/api/v1/metrics/", query)
    assert response.status_code == 400, response.json()
    assert (response.json()["code"], list(response.json()["errors"])) == ("invalid", [field])


def test_the_metrics_cost_the_same_queries_for_one_case_or_five(api, world, django_assert_max_num_queries):
    FeedbackSettings.load()
    services.case_callback(case=resolved_case(world), actor=world.dispatcher, **SATISFIED)

    def grid_rows():
        response = api.get("/api/v1/metrics/", {"level": "grid"})
        assert response.status_code == 200, response.json()
        return {row["code"]: row["callbacks"] for row in response.json()["results"]}

    api.force_authenticate(fresh(world.dispatcher))
    with django_assert_max_num_queries(13) as one:
        assert grid_rows()[world.grid_a.code] == 1
    for grid, category in four_more(world):
        services.case_callback(
            case=resolved_case(world, grid=grid, category_code=category), actor=world.dispatcher, **SATISFIED
        )
    api.force_authenticate(fresh(world.dispatcher))
    with django_assert_max_num_queries(len(one.captured_queries)) as five:
        assert grid_rows() == {world.grid_a.code: 3, world.grid_b.code: 1, world.grid_c.code: 1}
    assert len(five.captured_queries) == len(one.captured_queries)


def test_an_area_costs_one_query_more_than_the_whole_district(api, scored, django_assert_max_num_queries):
    api.force_authenticate(fresh(scored.dispatcher))
    with django_assert_max_num_queries(13) as everyone:
        api.get("/api/v1/metrics/", {"level": "grid"})
    api.force_authenticate(fresh(scored.community_clerk))
    # The area's codes are read in one query, whatever their number.
    with django_assert_max_num_queries(len(everyone.captured_queries) + 1):
        assert len(api.get("/api/v1/metrics/", {"level": "grid"}).json()["results"]) == 2


# --- the schema ----------------------------------------------------------------------------------


def test_the_schema_describes_the_feedback_endpoints_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    schema = (tmp_path / "schema.yaml").read_text()
    for path in ("callback", "verify", "reopen", "close"):
        assert f"/api/v1/cases/{{number}}/{path}/:" in schema
    assert "/api/v1/callbacks/:" in schema and "/api/v1/metrics/:" in schema
