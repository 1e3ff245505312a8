"""What may enter at all: NUL bytes and lone surrogates are refused at the door with a 400 naming
the field (404 in a path), JSON is bounded in depth and size, and the API always answers JSON.
Every URL here answered 500 (or an HTML page) before the guard (issue 15, findings 1 and 5)."""

import json

import pytest
from rest_framework.test import APIClient

from tests.factories import call_body

pytestmark = pytest.mark.django_db

GRID_A = "210111001015001"


@pytest.fixture
def api(cast):
    client = APIClient()
    client.force_authenticate(cast.dispatcher)
    return client


@pytest.fixture
def browser_client(client, cast):
    client.force_login(cast.dispatcher)
    return client


def assert_refused(response, field):
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["errors"], body
    # In the default language, Simplified Chinese: "…NUL 字符…" or "…不成对的代理字符…".
    assert "NUL" in body["detail"] or "代理字符" in body["detail"]


@pytest.mark.parametrize(
    ("url", "field"),
    [
        (f"/api/v1/routing/preview/?category=%00&grid={GRID_A}", "category"),
        ("/api/v1/routing/preview/?category=0201&grid=%00", "grid"),
        ("/api/v1/cases/?q=%00", "q"),
        ("/api/v1/cases/?status=%00", "status"),
        ("/api/v1/regions/?parent=%00", "parent"),
        ("/api/v1/units/?q=a%00b", "q"),
        ("/api/v1/queue/?unit=%00", "unit"),
        ("/api/v1/stats/summary/?region=%00", "region"),
    ],
)
def test_a_nul_in_an_api_query_string_is_a_400_naming_the_parameter(api, categories, url, field):
    assert_refused(api.get(url), field)


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/intake/places/?q=%00", "q"),
        ("/intake/places/?parent=%00", "parent"),
        ("/intake/duplicates/?grid=%00&category=%00&description=%00", "grid"),
        (f"/intake/duplicates/?grid={GRID_A}&category=0201&description=%00", "description"),
        ("/cases/?q=%00", "q"),
    ],
)
def test_a_nul_in_a_page_query_string_is_a_400_page_naming_the_parameter(browser_client, categories, url, field):
    response = browser_client.get(url)
    assert response.status_code == 400
    text = response.content.decode()
    assert f"{field}:" in text
    assert "\x00" not in text


@pytest.mark.parametrize("url", ["/cases/%00/", "/places/%00/", "/cases/2026%00/", "/handling/cases/%00/"])
def test_a_nul_in_a_page_path_is_not_found(browser_client, url):
    assert browser_client.get(url).status_code == 404


def test_a_nul_in_an_api_path_is_a_json_404(api):
    response = api.get("/api/v1/cases/%00/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"description": "垃圾\x00堆放"}, "description"),
        ({"caller_name": "\ud800"}, "caller_name"),
        ({"address": "金山路\udfff1号"}, "address"),
        ({"grid": "\x00"}, "grid"),
    ],
)
def test_a_json_body_with_text_postgresql_cannot_store_is_refused_naming_the_field(api, categories, overrides, field):
    from cases.models import Case

    # json.dumps writes the lone surrogate as the escape "\ud800", as a client would.
    response = api.post("/api/v1/calls/", json.dumps(call_body(**overrides)), content_type="application/json")
    assert_refused(response, field)
    assert not Case.objects.exists()


def test_a_form_field_with_a_nul_is_refused_before_anything_is_saved(browser_client, categories):
    from cases.models import Case

    response = browser_client.post("/intake/new/", {"description": "垃圾\x00堆放", "channel": "hotline"})
    assert response.status_code == 400
    assert "description:" in response.content.decode()
    assert not Case.objects.exists()


def test_a_multipart_api_field_with_a_nul_is_refused_naming_it(api, categories):
    response = api.post("/api/v1/calls/", call_body(caller_name="张\x00三"), format="multipart")
    assert_refused(response, "caller_name")


@pytest.mark.parametrize("url", ["/api/v1/auth/token/", "/api/v1/calls/"])
def test_deeply_nested_json_is_a_400_in_json_not_a_crash(url, cast):
    client = APIClient()
    client.force_authenticate(cast.dispatcher)
    body = "[" * 100_000 + "]" * 100_000
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert "32" in response.json()["detail"]


def test_json_nested_within_the_bound_still_parses(api, categories):
    # Brackets inside strings do not count; the call is refused for its fields, not its nesting.
    response = api.post(
        "/api/v1/calls/", json.dumps(call_body(description="[" * 200 + "楼道灯坏了")), content_type="application/json"
    )
    assert response.status_code == 201, response.json()


def test_a_body_over_the_limit_is_a_413_in_the_apis_json(cast, settings):
    client = APIClient()
    body = json.dumps({"username": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10), "password": "x"})
    response = client.post("/api/v1/auth/token/", body, content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "too_large"


def test_nan_is_not_json(api, categories):
    response = api.post("/api/v1/calls/", '{"latitude": NaN}', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
