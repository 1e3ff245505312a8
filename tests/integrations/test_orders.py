"""Work orders from the city's 12345 platform (issue 19): sent with its API key, opened as cases
at once when their category and place are known, held for a dispatcher with the reason when not,
answered the same way however often the same order is sent, and read back by their own id."""

import json
from datetime import datetime

import pytest
import time_machine
from rest_framework.test import APIClient

from cases.models import Case, Category
from feedback.services import case_callback
from grids.coordinates import wgs84_to_gcj02
from handling.services import case_contact, case_resolve
from intake.models import Call
from integrations.models import ApiCall, Inbound, System
from integrations.services import inbound_place
from outbox.models import Message
from routing import dispatch
from routing.models import Assignment
from routing.tasks import dispatch_case
from tests.factories import english
from tests.handling.helpers import TUESDAY
from tests.integrations.orders_world import ORDERS, SECRET, city_world, order_body

pytestmark = pytest.mark.django_db

BEIJING = {"lat": "39.904200", "long": "116.407400"}  # 天安门: far outside 苏家屯区


@pytest.fixture(scope="module")
def city(django_db_setup, django_db_blocker):
    yield from city_world(django_db_blocker)


@pytest.fixture
def clock():
    with time_machine.travel(TUESDAY, tick=False) as traveller:
        yield traveller


def test_an_order_sent_twice_is_one_case_and_the_second_answer_repeats_the_first(city, clock):
    api = city.client()
    first = api.post(ORDERS, order_body(), format="json")
    assert first.status_code == 201, first.content
    answer = first.json()
    assert answer["id"] == "SY2026031000123" and answer["status"] == "registered" and not answer["duplicate"]
    case = Case.objects.get(number=answer["number"])
    assert (case.channel, case.category.code, case.grid_id) == ("hotline", "0201", city.cast.grid_a.code)
    assert (case.caller_name, case.caller_phone, case.created_by) == ("张三", "13800138000", city.system.user)
    # Their deadline is kept and shown; ours follows the SLA policy.
    assert answer["deadline"] == "2026-03-13T18:00:00+08:00"

    # Sent again, even with other words: nothing changes, and the answer is the first order's.
    again = api.post(ORDERS, order_body(text="另一段文字", category="WZJS-01"), format="json")
    assert again.status_code == 200
    assert again.json() == {**answer, "duplicate": True}
    assert Inbound.objects.filter(system=city.system).count() == 1
    assert Call.objects.filter(case=case).count() == 1 and Case.objects.count() == 1
    case.refresh_from_db()
    assert case.description.startswith("金山社区3号楼") and case.category.code == "0201"
    # Both calls are in the system's log, with their key.
    assert list(ApiCall.objects.filter(system=city.system).values_list("status", flat=True)) == [200, 201]


def test_a_point_alone_places_the_order_in_its_grid_and_gcj02_points_are_converted(city, clock):
    grid = city.cast.grid_b
    point = {"lat": f"{grid.latitude:.7f}", "long": f"{grid.longitude:.7f}"}  # 7 decimals: rounded, not refused
    answer = city.client().post(ORDERS, order_body(grid="", address="", **point), format="json")
    assert answer.status_code == 201, answer.content
    case = Case.objects.get(number=answer.json()["number"])
    assert case.grid_id == grid.code and case.latitude is not None


def test_an_address_that_names_one_grid_places_the_order_and_one_that_does_not_holds_it(city, clock):
    api = city.client()
    named = api.post(ORDERS, order_body(id="A-1", grid="", address="苏家屯区金山社区第2网格3号楼"), format="json")
    assert named.status_code == 201 and named.json()["grid"]["code"] == city.cast.grid_b.code
    vague = api.post(ORDERS, order_body(id="A-2", grid="", address="苏家屯区某小区门口"), format="json")
    assert vague.status_code == 201
    assert vague.json()["status"] == "held" and vague.json()["number"] is None
    assert "address names no single grid" in vague.json()["reason"]


def test_an_unknown_category_or_grid_is_held_with_the_reason_never_lost(city, clock):
    api = city.client()
    unknown = api.post(ORDERS, order_body(id="H-1", category="XX-99"), format="json")
    nowhere = api.post(ORDERS, order_body(id="H-2", grid="210111999999999"), format="json")
    assert unknown.status_code == 201 and unknown.json()["status"] == "held"
    assert "Category XX-99 is not in the table of 沈阳市12345平台" in unknown.json()["reason"]
    assert "Grid 210111999999999 is not a grid of this district" in nowhere.json()["reason"]
    assert not Case.objects.exists()
    held = Inbound.objects.get(external_id="H-1")
    assert held.state == "held" and held.payload["description"] == order_body()["text"]
    # Read back by their id: held, with the reason, and their deadline.
    state = api.get(f"{ORDERS}H-1/").json()
    assert state["status"] == "held" and state["reason"] == unknown.json()["reason"]
    assert state["deadline"] == "2026-03-13T18:00:00+08:00"


def test_bad_fields_answer_400_naming_the_field_and_create_nothing(city, clock):
    api = city.client()
    caller = {"name": "张三", "phone": "12"}
    bad = {
        "id": order_body(id=""),
        "text": order_body(text="长" * 5001),
        "category": order_body(category=""),
        "channel": order_body(channel="fax"),
        "caller": order_body(caller=caller),
        "deadline": order_body(deadline="2026-03-13T18:00:00"),
        "long": order_body(grid="", lat="41.7"),
        "grid": order_body(grid="", address=""),
        "lat": order_body(grid="", **BEIJING),
    }
    missing_id = order_body()
    del missing_id["id"]
    bad["id "] = missing_id
    bad["id  "] = order_body(id="SY/2026")
    for field, body in bad.items():
        answer = api.post(ORDERS, body, format="json")
        assert answer.status_code == 400, (field, answer.content)
        assert field.strip() in answer.json()["errors"], (field, answer.json())
    assert "phone" in api.post(ORDERS, bad["caller"], format="json").json()["errors"]["caller"]
    outside = api.post(ORDERS, order_body(grid="", **BEIJING), format="json").json()
    assert "is not in 苏家屯区" in outside["errors"]["lat"][0]
    assert not Inbound.objects.exists() and not Case.objects.exists()


def test_a_key_revoked_of_another_system_or_jurisdiction_or_without_the_scope_is_refused_with_403(city, clock):
    keys = {
        "none": "",
        "unknown": "sq_not-a-key",
        "revoked": city.revoked,
        "another system": city.other_key,
        "another jurisdiction": city.foreign,
        "no orders scope": city.open311_key,
    }
    for what, key in keys.items():
        api = english(APIClient())
        if key:
            api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        answer = api.post(ORDERS, order_body(), format="json")
        assert answer.status_code == 403, (what, answer.content)
        assert answer.json()["code"] == "permission_denied", what
        assert api.get(f"{ORDERS}SY2026031000123/").status_code == 403, what
    assert city.client(city.revoked).post(ORDERS, order_body(), format="json").json() == {
        "code": "permission_denied",
        "detail": "This API key was revoked.",
    }
    assert not Inbound.objects.exists()
    # Each refusal is in the log, with no key.
    assert ApiCall.objects.filter(status=403, key__isnull=True).count() >= 5
    # The key may also come as X-Api-Key.
    plain = APIClient()
    plain.credentials(HTTP_X_API_KEY=city.key)
    assert plain.post(ORDERS, order_body(), format="json").status_code == 201


def test_an_order_read_back_follows_its_case_to_the_end(city, clock):
    api = city.client()
    number = api.post(ORDERS, order_body(), format="json").json()["number"]
    case = Case.objects.get(number=number)
    dispatch_case(case.pk)  # routed by the rules: rubbish to 金山社区's committee
    state = api.get(f"{ORDERS}SY2026031000123/").json()
    lead = Assignment.objects.get(case=case, role="lead")
    assert state["status"] == "dispatched" and state["unit"] == "金山社区居委会"
    assert datetime.fromisoformat(state["due"]) == lead.resolve_due
    assert state["result"] is None and state["verdict"] is None and state["closed_at"] is None

    clerk = city.cast.community_clerk
    dispatch.case_sign(case=case, actor=clerk)
    case_contact(case=case, actor=clerk, method="phone", agreed="约定今天处理")
    case_resolve(case=case, actor=clerk, result_kind="solved", result="已清理完毕")
    case_callback(case=case, actor=city.cast.dispatcher, reached=True, resolved=True, satisfaction="satisfied")
    state = api.get(f"{ORDERS}SY2026031000123/").json()
    assert state["status"] == "closed" and state["closure_reason"] == "satisfied" and state["closed_at"]
    assert state["result"] == "已清理完毕"
    assert state["verdict"]["reached"] and state["verdict"]["satisfaction"] == "satisfied"
    # Nothing is sent to a system without a webhook URL.
    assert not Message.objects.filter(channel="webhook").exists()


def test_an_order_is_read_only_by_its_own_system(city, clock):
    city.client().post(ORDERS, order_body(), format="json")
    other = city.client(city.other_key)
    assert other.get("/api/v1/integrations/province12345/orders/SY2026031000123/").status_code == 404
    assert city.client().get(f"{ORDERS}NO-SUCH-ID/").status_code == 404


# --- the held orders, for the dispatchers ---------------------------------------------------------

HELD = "/integrations/held/"


def webhook_events(system):
    return [
        json.loads(text)
        for text in Message.objects.filter(channel="webhook").order_by("id").values_list("text", flat=True)
    ]


def test_a_held_order_is_on_the_dispatchers_page_and_placing_it_opens_its_case_and_tells_the_sender(
    city, clock, client, django_assert_num_queries
):
    System.objects.filter(pk=city.system.pk).update(webhook_url="https://partner.example/suqu", webhook_secret=SECRET)
    api = city.client()
    for number in range(3):
        api.post(
            ORDERS,
            order_body(
                id=f"H-{number}",
                category="XX-99",
                caller={"name": "李四", "phone": "13900139000", "confidential": True},
            ),
            format="json",
        )
    english(client).force_login(city.cast.dispatcher)
    # Constant however many wait: the session and roles (3), the requests, their categories in the
    # table, the unread badge, the categories and grids offered.
    with django_assert_num_queries(8):
        page = client.get(HELD)
    assert page.status_code == 200
    text = page.content.decode()
    assert text.count("data-inbound=") == 3 and "Category XX-99 is not in the table" in text
    assert order_body()["text"] in text and "13900139000" not in text
    for other in (city.cast.community_clerk, city.cast.gridworker, city.cast.official):
        client.force_login(other)
        assert client.get(HELD).status_code == 404
        assert (
            client.post(f"{HELD}{Inbound.objects.get(external_id='H-0').pk}/refuse/", {"reason": "x"}).status_code
            == 404
        )

    client.force_login(city.cast.dispatcher)
    held = Inbound.objects.get(external_id="H-1")
    answer = client.post(f"{HELD}{held.pk}/place/", {"category": "0201", "grid": city.cast.grid_a.code}, follow=True)
    assert answer.status_code == 200
    held.refresh_from_db()
    assert held.state == "opened" and held.decided_by == city.cast.dispatcher
    case = held.case
    assert f"H-1 is case {case.number} now." in answer.content.decode()
    assert (case.channel, case.category.code, case.grid_id) == ("hotline", "0201", city.cast.grid_a.code)
    assert (case.caller_name, case.caller_confidential) == ("李四", True)
    state = api.get(f"{ORDERS}H-1/").json()
    assert (state["number"], state["status"]) == (case.number, "registered")
    # The sender hears it: its first event for this order.
    [opened] = webhook_events(city.system)
    assert opened["type"] == "opened" and opened["sequence"] == 1
    assert (opened["order_id"], opened["number"], opened["status"]) == ("H-1", case.number, "registered")
    assert opened["data"]["grid"]["code"] == city.cast.grid_a.code

    # Placed once: a second try changes nothing.
    again = client.post(f"{HELD}{held.pk}/place/", {"category": "0201", "grid": city.cast.grid_b.code}, follow=True)
    assert "already placed or refused" in again.content.decode()
    assert Case.objects.count() == 1


def test_a_dispatcher_refuses_a_held_order_with_the_reason_the_sender_is_told(city, clock, client):
    System.objects.filter(pk=city.system.pk).update(webhook_url="https://partner.example/suqu", webhook_secret=SECRET)
    api = city.client()
    api.post(ORDERS, order_body(id="R-1", grid="", address="某处"), format="json")
    held = Inbound.objects.get(external_id="R-1")
    english(client).force_login(city.cast.dispatcher)
    # A category or grid that is not ours is refused by the form, and nothing changes.
    wrong = client.post(f"{HELD}{held.pk}/place/", {"category": "9999", "grid": "x"}, follow=True)
    assert "No category matches “9999”." in wrong.content.decode()
    assert "No place matches “x”." in wrong.content.decode()
    held.refresh_from_db()
    assert held.state == "held"

    client.post(f"{HELD}{held.pk}/refuse/", {"reason": "不属于苏家屯区"})
    held.refresh_from_db()
    assert (held.state, held.reason) == ("refused", "不属于苏家屯区")
    state = api.get(f"{ORDERS}R-1/").json()
    assert (state["status"], state["number"], state["reason"]) == ("refused", None, "不属于苏家屯区")
    [refused] = webhook_events(city.system)
    assert (refused["type"], refused["status"], refused["number"]) == ("refused", "refused", None)
    assert refused["data"] == {"reason": "不属于苏家屯区"}
    assert "data-inbound" not in client.get(HELD).content.decode()


def test_placing_a_held_order_keeps_the_point_its_sender_gave_in_wgs84(city, clock):
    grid = city.cast.grid_b
    longitude, latitude = wgs84_to_gcj02(float(grid.longitude), float(grid.latitude))
    body = order_body(id="P-1", category="XX-99", grid="", address="", lat=f"{latitude:.6f}", long=f"{longitude:.6f}")
    assert city.client().post(ORDERS, {**body, "crs": "gcj02"}, format="json").status_code == 201
    placed = inbound_place(
        inbound=Inbound.objects.get(external_id="P-1"),
        actor=city.cast.dispatcher,
        category=Category.objects.get(code="0201"),
        grid=grid,
    )
    case = placed.case
    # Back in WGS-84 within a metre of the grid's own point, not the GCJ-02 one a few hundred metres off.
    assert abs(float(case.latitude) - float(grid.latitude)) < 1e-5
    assert abs(float(case.longitude) - float(grid.longitude)) < 1e-5


def test_a_dispatcher_places_a_held_order_by_names(city, clock, client):
    api = city.client()
    api.post(ORDERS, order_body(id="N-1", grid="", address="某处"), format="json")
    held = Inbound.objects.get(external_id="N-1")
    client.force_login(city.cast.dispatcher)
    # Typed, not picked from the list (no JavaScript): the names are enough when each means one thing.
    answer = client.post(
        f"{HELD}{held.pk}/place/",
        {"category": "", "category_text": "环境卫生", "grid": "", "grid_text": "金山社区第1网格"},
        follow=True,
    )
    assert answer.status_code == 200
    held.refresh_from_db()
    assert held.state == "opened"
    assert (held.case.category.code, held.case.grid_id) == ("0201", city.cast.grid_a.code)
