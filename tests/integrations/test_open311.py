"""Open311 GeoReport v2 under /open311/v2/: each method in JSON and in XML against the fields the
specification lists, the keys and what each may read, every field of a request checked with an
error naming it, requests held for a dispatcher and their tokens, the list's filters, window and
cap, and every call recorded (the whole loop: test_open311_loop.py)."""

import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, Category
from cases.services import CallDetails
from intake.models import Call
from intake.services import call_register, case_merge
from integrations import open311
from integrations.models import ApiCall, Inbound
from integrations.services import inbound_place, inbound_refuse
from routing.dispatch import case_dispatch
from tests.factories import open_case, region

# --- The specification's fields (wiki.open311.org/GeoReport_v2), answer by answer ---------------

SERVICE = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
DEFINITION = {"service_code", "attributes"}
ATTRIBUTE = {"variable", "code", "datatype", "required", "datatype_description", "order", "description", "values"}
VALUE = {"key", "name"}
CREATED = {"service_request_id", "service_notice", "account_id"}  # POST, the request registered
DEFERRED = {"token", "service_notice", "account_id"}  # POST, the request waiting for its id
REQUEST = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}
TOKEN = {"service_request_id", "token"}
ERROR = {"code", "description"}
# The XML's root element of each answer, and the element of each item of a list.
ROOTS = {"services", "service_definition", "service_requests", "errors"}
ITEMS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
}

FORMATS = ["json", "xml"]
ISO_8601 = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$"
BEIJING = ("39.904200", "116.407400")  # 天安门: far outside 苏家屯区

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return Client()


def url(name, fmt="json", **kwargs):
    return reverse(f"open311:{name}", kwargs={"format": fmt, **kwargs})


def spark(element):
    """An XML answer read back as JSON has it, by the spec's mapping (the Spark convention): a
    list's element holds its items, any other element with children is an object, a leaf is its
    text (None when empty)."""
    if element.tag in ITEMS:
        assert all(child.tag == ITEMS[element.tag] for child in element), element.tag
        return [spark(child) for child in element]
    if len(element):
        return {child.tag: spark(child) for child in element}
    return element.text


def read(response, fmt):
    """(root element, the answer as Python) of either format; the XML's root is checked to be
    the spec's and its declaration to say UTF-8."""
    if fmt == "json":
        assert response["Content-Type"] == "application/json; charset=utf-8"
        return None, response.json()
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(response.content)
    assert root.tag in ROOTS
    return root.tag, spark(root)


def as_text(value):
    """A JSON answer as its XML carries it: every value a string, true/false, null as None."""
    if isinstance(value, list):
        return [as_text(item) for item in value]
    if isinstance(value, dict):
        return {name: as_text(item) for name, item in value.items()}
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None or value == "" else str(value)


def inside(grid):
    """A point inside the grid (the representative point the boundaries were generated with)."""
    return f"{grid.latitude:.6f}", f"{grid.longitude:.6f}"


def post(client, fmt="json", **fields):
    return client.post(url("requests", fmt), urlencode(fields), content_type="application/x-www-form-urlencoded")


def create(client, systems, fmt="json", grid=None, **fields):
    """POST a request in `grid` (grid A), located by its point."""
    lat, long = inside(grid or systems.cast.grid_a)
    body = {
        "api_key": systems.key,
        "service_code": "0201",
        "lat": lat,
        "long": long,
        "description": "小区门口垃圾堆放多日无人清理",
        "first_name": "三",
        "last_name": "张",
        "phone": "13800138000",
        **fields,
    }
    return post(client, fmt, **body)


def created_case(client, systems, **fields):
    response = create(client, systems, **fields)
    assert response.status_code == 200, response.content
    return Case.objects.get(number=response.json()[0]["service_request_id"])


def errors(response, fmt="json"):
    """The descriptions of an error answer, checked to have the spec's shape and codes."""
    root, answer = read(response, fmt)
    assert root in (None, "errors")
    for error in answer:
        assert set(error) == ERROR
        assert str(error["code"]) == str(response.status_code)
    return [error["description"] for error in answer]


# --- Each method, each format, the spec's fields ----------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_services_lists_every_leaf_category_with_the_specs_fields(systems, client, fmt):
    response = client.get(url("services", fmt))
    assert response.status_code == 200
    root, answer = read(response, fmt)
    assert root in (None, "services")
    leaves = Category.objects.filter(is_active=True, parent__isnull=False)
    assert [service["service_code"] for service in answer] == sorted(leaves.values_list("code", flat=True))
    for service in answer:
        assert set(service) == SERVICE
    rubbish = next(service for service in answer if service["service_code"] == "0201")
    assert rubbish["service_name"] == "环境卫生"
    assert rubbish["group"] == "城市管理"
    assert rubbish["keywords"].split(",")[:2] == ["垃圾", "清运"]
    assert str(rubbish["metadata"]).lower() == "true" and rubbish["type"] == "realtime"


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_service_definition_has_the_specs_fields(systems, client, fmt):
    response = client.get(url("service", fmt, service_code="0201"))
    assert response.status_code == 200
    root, answer = read(response, fmt)
    assert root in (None, "service_definition")
    assert set(answer) == DEFINITION
    assert answer["service_code"] == "0201"
    assert [attribute["code"] for attribute in answer["attributes"]] == ["grid", "crs"]
    for attribute in answer["attributes"]:
        assert set(attribute) == ATTRIBUTE
        for value in attribute["values"]:
            assert set(value) == VALUE
    grid, crs = answer["attributes"]
    assert grid["datatype"] == "string" and crs["datatype"] == "singlevaluelist"
    assert [value["key"] for value in crs["values"]] == ["wgs84", "gcj02"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_answers_the_case_number_with_the_specs_fields(systems, client, fmt):
    response = create(client, systems, fmt, account_id="u-42")
    assert response.status_code == 200, response.content
    root, answer = read(response, fmt)
    assert root in (None, "service_requests")
    [created] = answer
    assert set(created) == CREATED
    assert created["account_id"] == "u-42"
    case = Case.objects.get(number=created["service_request_id"])
    assert case.number in created["service_notice"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_whose_place_is_unknown_answers_a_token_with_the_specs_fields(systems, client, fmt):
    response = post(client, fmt, api_key=systems.key, service_code="0201", address_string="沈阳市苏家屯区某某路8号")
    assert response.status_code == 200, response.content
    _root, answer = read(response, fmt)
    [deferred] = answer
    assert set(deferred) == DEFERRED
    assert deferred["account_id"] is None
    held = Inbound.objects.get(token=deferred["token"])
    assert held.state == Inbound.State.HELD and held.case is None
    assert "某某路8号" in held.reason


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_requests_answers_the_specs_fields(systems, client, fmt):
    case = created_case(client, systems)
    response = client.get(url("requests", fmt), {"api_key": systems.key})
    assert response.status_code == 200
    root, answer = read(response, fmt)
    assert root in (None, "service_requests")
    [request] = answer
    assert set(request) == REQUEST
    assert request["service_request_id"] == case.number
    assert request["status"] == "open"
    assert request["service_code"] == "0201" and request["service_name"] == "环境卫生"


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_one_request_answers_a_list_of_one_with_the_specs_fields(systems, client, fmt):
    case = created_case(client, systems)
    response = client.get(url("request", fmt, service_request_id=case.number), {"api_key": systems.key})
    assert response.status_code == 200
    root, answer = read(response, fmt)
    assert root in (None, "service_requests")
    [request] = answer
    assert set(request) == REQUEST
    assert request["service_request_id"] == case.number


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_token_answers_the_specs_fields(systems, client, fmt):
    token = post(client, api_key=systems.key, service_code="0201", address_string="某某路8号").json()[0]["token"]
    response = client.get(url("token", fmt, token=token), {"api_key": systems.key})
    assert response.status_code == 200
    root, answer = read(response, fmt)
    assert root in (None, "service_requests")
    assert answer == [{"service_request_id": None, "token": token}]


@pytest.mark.parametrize("fmt", FORMATS)
def test_errors_have_the_specs_fields(systems, client, fmt):
    response = client.get(url("requests", fmt))
    assert response.status_code == 403
    [description] = errors(response, fmt)
    assert description.startswith("api_key: ")


def test_each_answer_in_xml_is_its_json_by_the_specs_mapping(systems, client):
    case = created_case(client, systems)
    token = post(client, api_key=systems.key, service_code="0201", address_string="某某路8号").json()[0]["token"]
    key = {"api_key": systems.key}
    for name, kwargs, params in [
        ("services", {}, {}),
        ("service", {"service_code": "0205"}, {}),
        ("requests", {}, key),
        ("request", {"service_request_id": case.number}, key),
        ("token", {"token": token}, key),
        ("request", {"service_request_id": "SJT-20000101-00001"}, key),  # an error
    ]:
        as_json = client.get(url(name, "json", **kwargs), params)
        as_xml = client.get(url(name, "xml", **kwargs), params)
        assert as_json.status_code == as_xml.status_code
        assert read(as_xml, "xml")[1] == as_text(read(as_json, "json")[1]), name


def test_numbers_are_numbers_and_times_carry_the_districts_offset(systems, client):
    case = created_case(client, systems)
    case_dispatch(case=case, unit=systems.cast.committee, actor=systems.cast.dispatcher)
    [request] = client.get(url("request", service_request_id=case.number), {"api_key": systems.key}).json()
    assert isinstance(request["lat"], float) and isinstance(request["long"], float)
    assert Decimal(str(request["lat"])) == case.latitude
    for field in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert request[field] is not None
        assert re.match(ISO_8601, request[field]), request[field]
    definition = client.get(url("service", service_code="0201")).json()
    assert [attribute["order"] for attribute in definition["attributes"]] == [1, 2]
    assert definition["attributes"][0]["required"] is False
    [error] = client.get(url("services"), {"jurisdiction_id": "210102"}).json()
    assert error["code"] == 404


# --- Creating a request ---------------------------------------------------------------------------


def test_a_request_is_a_call_on_the_systems_channel_under_its_account_and_waits_for_dispatch(systems, client):
    case = created_case(client, systems, address_string="金山社区3号楼")
    call = Call.objects.get(case=case)
    assert (call.channel, call.created_by) == ("online", systems.system.user)
    assert (case.channel, case.status, case.grid, case.category.code) == (
        "online",
        "registered",
        systems.cast.grid_a,
        "0201",
    )
    assert (case.caller_name, case.caller_phone) == ("张三", "13800138000")
    assert (case.address, case.description) == ("金山社区3号楼", "小区门口垃圾堆放多日无人清理")
    lat, long = inside(systems.cast.grid_a)
    assert (case.latitude, case.longitude) == (Decimal(lat), Decimal(long))
    inbound = Inbound.objects.get(case=case)
    assert (inbound.system, inbound.kind, inbound.state) == (systems.system, "open311", "opened")
    # The request as sent is kept, without the key.
    assert inbound.payload["service_code"] == "0201" and systems.key not in str(inbound.payload)


def test_a_latin_name_keeps_its_order_and_a_missing_description_is_the_services_name(systems, client):
    case = created_case(
        client, systems, first_name="John", last_name="Smith", description="", phone="+86 138 0013 8000"
    )
    assert (case.caller_name, case.caller_phone, case.description) == ("John Smith", "13800138000", "环境卫生")


def test_the_grid_attribute_places_a_request_without_coordinates(systems, client):
    response = post(client, api_key=systems.key, service_code="0201", **{"attribute[grid]": systems.cast.grid_c.code})
    case = Case.objects.get(number=response.json()[0]["service_request_id"])
    assert (case.grid, case.latitude) == (systems.cast.grid_c, None)


def test_a_gcj02_point_is_converted_before_it_is_kept(systems, client):
    from grids.coordinates import wgs84_to_gcj02

    lat, long = inside(systems.cast.grid_b)
    gcj_long, gcj_lat = wgs84_to_gcj02(float(long), float(lat))
    case = created_case(client, systems, lat=f"{gcj_lat:.6f}", long=f"{gcj_long:.6f}", **{"attribute[crs]": "gcj02"})
    assert case.grid == systems.cast.grid_b
    assert abs(case.latitude - Decimal(lat)) < Decimal("0.00002")


def test_an_address_naming_exactly_one_grid_places_it_and_a_longer_name_wins_over_its_prefix(systems, client):
    def place(address):
        answer = post(client, api_key=systems.key, service_code="0201", address_string=address).json()[0]
        return Case.objects.get(number=answer["service_request_id"]).grid if "service_request_id" in answer else None

    assert place("解放街道金山社区第2网格7号楼") == systems.cast.grid_b
    eleventh = region("210111001015011", "金山社区第11网格", systems.cast.community)
    assert place("金山社区第11网格2号楼") == eleventh
    # Two grids named: a dispatcher decides.
    assert place("金山社区第2网格和民主村第1网格之间的路口") is None
    held = Inbound.objects.filter(system=systems.system, state="held").get()
    assert "金山社区第2网格" in held.reason and "民主村第1网格" in held.reason


def test_a_held_request_gets_its_number_once_a_dispatcher_places_it_and_its_system_reads_it(systems, client):
    token = post(
        client, api_key=systems.key, service_code="0201", address_string="某某路8号", description="路口垃圾"
    ).json()[0]["token"]
    inbound = Inbound.objects.get(token=token)
    inbound_place(
        inbound=inbound,
        actor=systems.cast.dispatcher,
        category=Category.objects.get(code="0201"),
        grid=systems.cast.grid_a,
    )
    [answer] = client.get(url("token", token=token), {"api_key": systems.key}).json()
    case = Case.objects.get(number=answer["service_request_id"])
    assert (case.description, case.address, case.channel) == ("路口垃圾", "某某路8号", "online")
    [request] = client.get(url("request", service_request_id=case.number), {"api_key": systems.key}).json()
    assert request["address"] == "某某路8号"
    # Another system's key does not know the token.
    assert client.get(url("token", token=token), {"api_key": systems.other_key}).status_code == 404


def test_a_refused_request_answers_404_with_the_reason_at_its_token(systems, client):
    token = post(client, api_key=systems.key, service_code="0201", address_string="和平区某路").json()[0]["token"]
    inbound_refuse(inbound=Inbound.objects.get(token=token), actor=systems.cast.dispatcher, reason="不在苏家屯区")
    response = client.get(url("token", token=token), {"api_key": systems.key})
    assert response.status_code == 404
    [description] = errors(response)
    assert description.startswith("token: ") and description.endswith("不在苏家屯区")


def test_an_address_id_alone_waits_for_a_dispatcher_and_no_place_at_all_is_refused(systems, client):
    held = post(client, api_key=systems.key, service_code="0201", address_id="A-1001").json()[0]
    assert "A-1001" in Inbound.objects.get(token=held["token"]).reason
    response = post(client, api_key=systems.key, service_code="0201", description="垃圾")
    assert response.status_code == 400
    assert errors(response)[0].startswith("lat: ")


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_point_outside_the_district_is_refused_naming_lat(systems, client, fmt):
    response = create(client, systems, fmt, lat=BEIJING[0], long=BEIJING[1])
    assert response.status_code == 400
    [description] = errors(response, fmt)
    assert description.startswith("lat: ") and "苏家屯区" in description
    assert not Inbound.objects.exists()


def test_a_point_in_another_grid_than_the_grid_named_is_refused(systems, client):
    response = create(client, systems, **{"attribute[grid]": systems.cast.grid_c.code})
    assert response.status_code == 400
    assert errors(response)[0].startswith("attribute[grid]: ")


BAD_FIELDS = [
    ("lat", {"lat": "abc"}),
    ("lat", {"lat": "NaN"}),
    ("lat", {"lat": "Infinity"}),
    ("lat", {"lat": "1e999999"}),
    ("lat", {"lat": "91"}),
    ("long", {"long": "-180.5"}),
    ("long", {"long": ""}),
    ("lat", {"lat": ""}),
    ("description", {"description": "垃" * 4001}),
    ("address_string", {"address_string": "路" * 201}),
    ("address_id", {"address_id": "9" * 101}),
    ("first_name", {"first_name": "名" * 51}),
    ("last_name", {"first_name": "名" * 30, "last_name": "姓" * 30}),
    ("phone", {"phone": "12"}),
    ("phone", {"phone": "138001380001234567"}),
    ("email", {"email": "not-an-address"}),
    ("media_url", {"media_url": "javascript:alert(1)"}),
    ("media_url", {"media_url": "ftp://example.com/a.jpg"}),
    ("device_id", {"device_id": "d" * 101}),
    ("account_id", {"account_id": "a" * 101}),
    ("attribute[grid]", {"attribute[grid]": "123"}),
    ("attribute[grid]", {"attribute[grid]": "210111001015999"}),
    ("attribute[grid]", {"attribute[grid]": "210111001015"}),  # a community, not a grid
    ("attribute[crs]", {"attribute[crs]": "bd09"}),
    ("attribute[color]", {"attribute[color]": "red"}),
    ("attribute[grid", {"attribute[grid": "210111001015001"}),
    ("service_code", {"service_code": ""}),
]


@pytest.mark.parametrize(("field", "fields"), BAD_FIELDS, ids=[f"{f}-{i}" for i, (f, _v) in enumerate(BAD_FIELDS)])
def test_a_bad_field_is_refused_with_an_error_naming_it(systems, client, field, fields):
    response = create(client, systems, **fields)
    assert response.status_code == 400, response.content
    assert any(description.startswith(f"{field}: ") for description in errors(response)), errors(response)
    assert not Inbound.objects.exists()


def test_a_multivalue_answer_to_a_single_value_attribute_is_refused(systems, client):
    lat, long = inside(systems.cast.grid_a)
    body = [("api_key", systems.key), ("service_code", "0201"), ("lat", lat), ("long", long)]
    body += [("attribute[grid][]", systems.cast.grid_a.code), ("attribute[grid][]", systems.cast.grid_b.code)]
    response = client.post(url("requests"), urlencode(body), content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert errors(response)[0].startswith("attribute[grid]: ")


def test_every_bad_field_is_named_in_one_answer(systems, client):
    response = create(client, systems, lat="abc", phone="12", email="x", **{"attribute[crs]": "bd09"})
    named = {description.split(": ", 1)[0] for description in errors(response)}
    assert named == {"lat", "phone", "email", "attribute[crs]"}


def test_an_unknown_service_is_404_in_both_doors(systems, client):
    for response in (client.get(url("service", service_code="9999")), create(client, systems, service_code="9999")):
        assert response.status_code == 404
        assert errors(response)[0].startswith("service_code: ")
    # A class is not a service: only the leaf categories are.
    assert client.get(url("service", "xml", service_code="02")).status_code == 404


def test_a_body_that_is_not_a_form_is_refused(systems, client):
    response = client.post(
        url("requests") + "?" + urlencode({"api_key": systems.key}),
        {"service_code": "0201"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "x-www-form-urlencoded" in errors(response)[0]


def test_a_multipart_body_is_taken_like_a_form(systems, client):
    lat, long = inside(systems.cast.grid_a)
    response = client.post(url("requests"), {"api_key": systems.key, "service_code": "0201", "lat": lat, "long": long})
    assert response.status_code == 200
    assert "service_request_id" in response.json()[0]


# --- Keys -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_missing_unknown_revoked_or_foreign_key_is_403(systems, client, fmt):
    lat, long = inside(systems.cast.grid_a)
    for key in ("", "sq_not-a-key", systems.revoked, systems.foreign):
        body = {"api_key": key, "service_code": "0201", "lat": lat, "long": long}
        response = post(client, fmt, **body)
        assert response.status_code == 403, key
        [description] = errors(response, fmt)
        assert description.startswith("api_key: ")
        assert client.get(url("requests", fmt), {"api_key": key}).status_code == 403
    assert not Inbound.objects.exists()


def test_a_good_key_naming_another_jurisdiction_is_403(systems, client):
    response = create(client, systems, jurisdiction_id="210102")
    assert response.status_code == 403
    assert client.get(url("requests"), {"api_key": systems.key, "jurisdiction_id": "210102"}).status_code == 403
    assert client.get(url("requests"), {"api_key": systems.key, "jurisdiction_id": "210111"}).status_code == 200


def test_each_key_does_only_what_its_scopes_allow(systems, client):
    case = created_case(client, systems)
    for name, kwargs in (("requests", {}), ("request", {"service_request_id": case.number})):
        assert client.get(url(name, **kwargs), {"api_key": systems.create_only}).status_code == 403
        assert client.get(url(name, **kwargs), {"api_key": systems.reader}).status_code == 200
    assert create(client, systems, api_key=systems.reader).status_code == 403


def test_services_are_public_and_answer_404_for_another_jurisdiction(systems, client):
    for name, kwargs in (("services", {}), ("service", {"service_code": "0201"})):
        assert client.get(url(name, **kwargs)).status_code == 200
        assert client.get(url(name, **kwargs), {"jurisdiction_id": "210111"}).status_code == 200
        response = client.get(url(name, "xml", **kwargs), {"jurisdiction_id": "sfgov.org"})
        assert response.status_code == 404
        assert errors(response, "xml")[0].startswith("jurisdiction_id: ")


def test_an_unknown_format_is_404_and_another_method_405(systems, client):
    assert client.get("/open311/v2/services.csv").status_code == 404
    assert client.get("/open311/v2/services").status_code == 404
    response = client.put(url("requests"), "")
    assert response.status_code == 405
    assert response["Allow"] == "GET, POST"
    assert errors(response)
    assert client.post(url("services")).status_code == 405
    assert client.head(url("services")).status_code == 200


NASTY = ["", " ", "'", '"><script>', "%", "_", "\\", "☃" * 3000, "1" * 5000, "-1", "0x10", "1,2,,3", "\r\n", "\x01\x7f"]


def test_no_input_answers_a_server_error(systems, client):
    lat, long = inside(systems.cast.grid_a)
    statuses = set()
    for value in NASTY:
        for name in ("service_code", "lat", "long", "address_string", "phone", "attribute[grid]", "media_url"):
            body = {"api_key": systems.key, "service_code": "0201", "lat": lat, "long": long, name: value}
            statuses.add(post(client, **body).status_code)
        for param in ("service_request_id", "service_code", "status", "start_date", "end_date", "jurisdiction_id"):
            statuses.add(client.get(url("requests", "xml"), {"api_key": systems.reader, param: value}).status_code)
        for name, kwarg in (("service", "service_code"), ("request", "service_request_id"), ("token", "token")):
            if value.strip() and "/" not in value:
                path = url(name, **{kwarg: "x"}).replace("/x.json", "/" + value.replace("%", "%25") + ".json")
                statuses.add(client.get(path, {"api_key": systems.key}).status_code)
    assert statuses <= {200, 400, 403, 404}, statuses


# --- Reading --------------------------------------------------------------------------------------


def test_read_own_sees_its_own_requests_only_and_another_case_answers_like_a_missing_one(systems, client):
    mine = created_case(client, systems)
    theirs = created_case(client, systems, api_key=systems.other_key)
    hotline = open_case(systems.cast, description="楼道灯不亮")
    listed = client.get(url("requests"), {"api_key": systems.key}).json()
    assert [request["service_request_id"] for request in listed] == [mine.number]
    missing = client.get(url("request", service_request_id="SJT-20000101-00001"), {"api_key": systems.key})
    for case in (theirs, hotline):
        other = client.get(url("request", service_request_id=case.number), {"api_key": systems.key})
        assert other.status_code == missing.status_code == 404
        assert errors(other) == [e.replace("SJT-20000101-00001", case.number) for e in errors(missing)]
    everything = client.get(url("requests"), {"api_key": systems.reader}).json()
    assert {request["service_request_id"] for request in everything} == {mine.number, theirs.number, hotline.number}


def test_a_case_merged_into_another_stays_readable_and_says_where_it_went(systems, client):
    mine = created_case(client, systems)
    other = open_case(systems.cast)
    case_merge(case=mine, into=other, actor=systems.cast.dispatcher)
    listed = {r["service_request_id"]: r for r in client.get(url("requests"), {"api_key": systems.key}).json()}
    assert listed[mine.number]["status"] == "closed"
    assert other.number in listed[mine.number]["status_notes"]
    # Its call moved to the case it repeats, which is now the system's too.
    assert listed[other.number]["status"] == "open"


def test_the_result_given_on_the_spot_is_the_status_notes_of_a_case_answered_directly(systems, client):
    details = CallDetails(
        channel="hotline",
        description="咨询垃圾清运时间",
        category=Category.objects.get(code="0201"),
        grid=systems.cast.grid_a,
    )
    call, _created = call_register(actor=systems.cast.gridworker, details=details, answer="每天早七点清运")
    [request] = client.get(url("request", service_request_id=call.case.number), {"api_key": systems.reader}).json()
    assert (request["status"], request["status_notes"]) == ("closed", "每天早七点清运")


def shift(case, days):
    Case.objects.filter(pk=case.pk).update(created_at=timezone.now() - timedelta(days=days))


def numbers(client, key, **params):
    response = client.get(url("requests"), {"api_key": key, **params})
    assert response.status_code == 200, response.content
    return [request["service_request_id"] for request in response.json()]


def test_the_list_filters_by_status_service_and_dates_newest_first(systems, client):
    cast = systems.cast
    rubbish, light, old = (open_case(cast), open_case(cast, category_code="0205"), open_case(cast))
    shift(light, 1)
    shift(old, 30)
    call_register(
        actor=cast.gridworker,
        details=CallDetails(channel="patrol", description="已答复", category=rubbish.category, grid=cast.grid_a),
        answer="已当场答复",
    )
    closed = Case.objects.get(status="closed")
    key = systems.reader
    assert numbers(client, key) == [closed.number, rubbish.number, light.number, old.number]
    assert numbers(client, key, status="closed") == [closed.number]
    assert numbers(client, key, status="open") == [rubbish.number, light.number, old.number]
    assert numbers(client, key, status="open,closed") == numbers(client, key)
    assert numbers(client, key, service_code="0205") == [light.number]
    assert numbers(client, key, service_code="0205,0201") == numbers(client, key)
    since = (timezone.now() - timedelta(days=2)).isoformat()
    assert numbers(client, key, start_date=since) == [closed.number, rubbish.number, light.number]
    until = (timezone.now() - timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert numbers(client, key, end_date=until) == [old.number]
    assert numbers(client, key, end_date=timezone.localdate().isoformat(), status="open") == [
        rubbish.number,
        light.number,
        old.number,
    ]
    # A list of ids overrides every other parameter.
    assert numbers(client, key, service_request_id=f"{old.number},{light.number}", status="closed") == [
        light.number,
        old.number,
    ]


def test_the_list_covers_the_last_90_days_unless_asked_and_at_most_the_limit(systems, client, monkeypatch):
    cast = systems.cast
    recent, older, oldest = open_case(cast), open_case(cast), open_case(cast)
    shift(older, 89)
    shift(oldest, 120)
    assert numbers(client, systems.reader) == [recent.number, older.number]
    start = (timezone.now() - timedelta(days=150)).isoformat()
    assert numbers(client, systems.reader, start_date=start) == [older.number, oldest.number]
    assert numbers(client, systems.reader, service_request_id=oldest.number) == [oldest.number]
    monkeypatch.setattr(open311, "REQUESTS_LIMIT", 1)
    assert numbers(client, systems.reader) == [recent.number]


BAD_FILTERS = [
    ("start_date", {"start_date": "yesterday"}),
    ("start_date", {"start_date": "2026-13-01T00:00:00Z"}),
    ("start_date", {"start_date": "0001-01-01T00:00:00+08:00"}),
    ("end_date", {"end_date": "2026-12-01T00:00:00+25:00"}),
    ("end_date", {"start_date": "2026-01-01", "end_date": "2026-06-01"}),
    ("end_date", {"start_date": "2026-06-01", "end_date": "2026-01-01"}),
    ("status", {"status": "pending"}),
    ("service_code", {"service_code": "0201,9999"}),
]


@pytest.mark.parametrize(("field", "params"), BAD_FILTERS, ids=[f"{f}-{i}" for i, (f, _p) in enumerate(BAD_FILTERS)])
def test_a_bad_filter_is_refused_naming_it(systems, client, field, params):
    response = client.get(url("requests"), {"api_key": systems.reader, **params})
    assert response.status_code == 400
    assert [description.split(": ", 1)[0] for description in errors(response)] == [field]


def test_too_many_ids_are_refused(systems, client):
    ids = ",".join(f"SJT-20261207-{n:05d}" for n in range(open311.REQUESTS_LIMIT + 1))
    response = client.get(url("requests"), {"api_key": systems.reader, "service_request_id": ids})
    assert response.status_code == 400
    assert errors(response)[0].startswith("service_request_id: ")


@pytest.mark.parametrize("key", ["key", "reader"])
def test_a_list_of_50_requests_takes_the_same_few_queries(systems, client, django_assert_num_queries, key):
    """The key, the one query of the list, the call's record: never a query per request."""
    cast = systems.cast
    for n in range(50):
        case = created_case(client, systems, description=f"第{n}处垃圾")
        if n % 2:
            case_dispatch(case=case, unit=cast.committee, actor=cast.dispatcher)
    raw = getattr(systems, key)
    client.get(url("requests"), {"api_key": raw})  # the key's first use is marked once
    with django_assert_num_queries(3):
        response = client.get(url("requests", "xml"), {"api_key": raw})
    assert len(read(response, "xml")[1]) == 50
    assert sum(1 for r in client.get(url("requests"), {"api_key": raw}).json() if r["agency_responsible"]) == 25


def test_no_answer_shows_a_callers_or_a_staff_members_name_or_phone(systems, client):
    case = created_case(client, systems, phone="13912345678", first_name="小明", last_name="欧阳")
    case_dispatch(case=case, unit=systems.cast.committee, actor=systems.cast.dispatcher)
    bodies = b"".join(
        client.get(url(name, fmt, **kwargs), {"api_key": systems.reader}).content
        for fmt in FORMATS
        for name, kwargs in (("requests", {}), ("request", {"service_request_id": case.number}))
    ).decode()
    for secret in (
        "13912345678",
        "欧阳小明",
        "小明",
        systems.cast.dispatcher.real_name,
        systems.cast.dispatcher.username,
    ):
        assert secret not in bodies
    assert systems.cast.committee.name in bodies


def test_xml_leaves_out_characters_it_cannot_carry(systems, client):
    case = created_case(client, systems, description="垃圾\x01堆放\x1f多日\n无人清理")
    response = client.get(url("request", "xml", service_request_id=case.number), {"api_key": systems.key})
    [request] = read(response, "xml")[1]
    assert request["description"] == "垃圾堆放多日\n无人清理"


# --- Every call recorded ---------------------------------------------------------------------------


def test_a_refused_and_an_accepted_call_are_each_recorded_without_the_key(systems, client):
    client.get(url("requests"), {"api_key": systems.revoked, "status": "open"})
    refused = ApiCall.objects.get()
    assert (refused.status, refused.key, refused.system, refused.method) == (403, None, None, "GET")
    assert refused.path == "/open311/v2/requests.json?status=open"
    create(client, systems, fmt="xml")
    accepted = ApiCall.objects.latest("id")
    assert (accepted.status, accepted.system, accepted.method) == (200, systems.system, "POST")
    assert accepted.key.system == systems.system and accepted.path == "/open311/v2/requests.xml"
    client.get(url("services"))
    assert ApiCall.objects.count() == 3
    for call in ApiCall.objects.all():
        assert "api_key" not in call.path and systems.key not in call.path and systems.revoked not in call.path
