"""A call's place from coordinates (issue 18): the grid found from the point on the call page and in
the API, GCJ-02 points converted, a point outside the district refused, a point in another grid
than the one chosen confirmed by the operator; and the maps of the call and case pages."""

import json
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from cases.models import Case
from grids.boundaries import grid_code_at
from grids.coordinates import wgs84_to_gcj02
from intake.models import Call
from tests.factories import open_case

pytestmark = pytest.mark.django_db

DESCRIPTION = "金山社区3号楼门口垃圾堆放多日无人清理，气味很大"
BEIJING = ("39.904200", "116.407400")  # 天安门: far outside 苏家屯区


def inside(grid):
    """A point inside the grid (its representative point), as the boxes are filled: 6 decimals."""
    return f"{grid.latitude:.6f}", f"{grid.longitude:.6f}"


def call_form(**overrides):
    """What the call page posts for a patrol finding, its place given by `overrides`."""
    data = {
        "channel": "patrol",
        "caller_name": "",
        "caller_phone": "",
        "description": DESCRIPTION,
        "category": "0201",
        "grid": "",
        "address": "",
        "latitude": "",
        "longitude": "",
        "crs": "wgs84",
        "priority": "",
        "attach_to": "",
        "answer": "",
        "submission": "5ea7c0de",
    }
    data.update(overrides)
    return data


def call_payload(**overrides):
    payload = {
        "channel": "hotline",
        "caller_name": "张三",
        "caller_phone": "13800138000",
        "description": DESCRIPTION,
        "category": "0201",
    }
    payload.update(overrides)
    return payload


@pytest.fixture
def api():
    return APIClient()


def assert_nothing_saved():
    assert Case.objects.count() == 0
    assert Call.objects.count() == 0


# --- The call page -------------------------------------------------------------------------------------


def test_a_call_with_coordinates_only_is_saved_in_the_grid_under_the_point(client, mapped, categories):
    client.force_login(mapped.dispatcher)
    latitude, longitude = inside(mapped.grid_b)
    response = client.post(
        "/intake/new/",
        call_form(
            channel="hotline", caller_name="张三", caller_phone="13800138000", latitude=latitude, longitude=longitude
        ),
    )
    case = Case.objects.get()
    assert response["Location"] == f"/cases/{case.number}/"
    assert case.grid_id == mapped.grid_b.code
    assert (case.latitude, case.longitude) == (Decimal(latitude), Decimal(longitude))
    assert Call.objects.get().grid_id == mapped.grid_b.code


def test_a_gcj02_point_is_converted_and_the_wgs84_point_is_stored(client, mapped, categories):
    client.force_login(mapped.gridworker)
    wgs_lat, wgs_long = float(mapped.grid_a.latitude), float(mapped.grid_a.longitude)
    gcj_long, gcj_lat = wgs84_to_gcj02(wgs_long, wgs_lat)
    client.post("/intake/new/", call_form(latitude=f"{gcj_lat:.6f}", longitude=f"{gcj_long:.6f}", crs="gcj02"))
    case = Case.objects.get()
    assert case.grid_id == mapped.grid_a.code
    # The stored point is the WGS-84 one (to the 6 decimals kept, ≈ 0.1 m), not the shifted one
    # (which is hundreds of metres away in 沈阳).
    assert float(case.latitude) == pytest.approx(wgs_lat, abs=2e-6)
    assert float(case.longitude) == pytest.approx(wgs_long, abs=2e-6)
    assert abs(float(case.longitude) - gcj_long) > 0.003


def test_a_point_outside_the_district_is_an_error_on_its_field_and_nothing_is_saved(client, mapped, categories):
    client.force_login(mapped.dispatcher)
    latitude, longitude = BEIJING
    response = client.post("/intake/new/", call_form(grid=mapped.grid_a.code, latitude=latitude, longitude=longitude))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "苏家屯区" in " ".join(errors["latitude"])
    assert latitude in " ".join(errors["latitude"])
    # What was typed is still there.
    assert f'value="{latitude}"' in response.text
    assert DESCRIPTION in response.text
    assert_nothing_saved()


def test_a_point_in_another_grid_is_a_warning_naming_it_then_confirmed_it_keeps_the_grid_chosen(
    client, mapped, categories
):
    client.force_login(mapped.dispatcher)
    latitude, longitude = inside(mapped.grid_b)
    data = call_form(grid=mapped.grid_a.code, latitude=latitude, longitude=longitude)
    response = client.post("/intake/new/", data)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.place_mismatch == mapped.grid_b
    assert mapped.grid_b.name in " ".join(form.errors["grid"])
    assert 'id="place-mismatch"' in response.text
    assert 'name="confirm_place"' in response.text
    # The grid chosen stays chosen; the point stays typed.
    assert f'<option value="{mapped.grid_a.code}" selected>' in response.text
    assert f'value="{latitude}"' in response.text
    assert_nothing_saved()

    response = client.post("/intake/new/", {**data, "confirm_place": "on"})
    case = Case.objects.get()
    assert response["Location"] == f"/cases/{case.number}/"
    assert case.grid_id == mapped.grid_a.code
    assert (case.latitude, case.longitude) == (Decimal(latitude), Decimal(longitude))


def test_the_page_shows_no_place_warning_when_grid_and_point_agree(client, mapped, categories):
    client.force_login(mapped.dispatcher)
    latitude, longitude = inside(mapped.grid_a)
    response = client.post("/intake/new/", call_form(grid=mapped.grid_a.code, latitude=latitude, longitude=longitude))
    assert Case.objects.get().grid_id == mapped.grid_a.code
    assert response.status_code == 302


def test_neither_grid_nor_point_asks_for_the_grid(client, mapped, categories):
    client.force_login(mapped.dispatcher)
    response = client.post("/intake/new/", call_form())
    assert response.context["form"].errors["grid"]
    assert 'id="grid-error"' in response.text
    assert_nothing_saved()


def test_half_a_point_is_an_error_on_the_missing_half(client, mapped, categories):
    client.force_login(mapped.dispatcher)
    latitude, _longitude = inside(mapped.grid_a)
    response = client.post("/intake/new/", call_form(latitude=latitude))
    assert response.context["form"].errors["longitude"]
    assert_nothing_saved()


def test_a_grid_worker_cannot_log_a_call_at_a_point_in_a_grid_not_theirs(client, mapped, categories):
    client.force_login(mapped.gridworker)
    latitude, longitude = inside(mapped.grid_b)
    response = client.post("/intake/new/", call_form(latitude=latitude, longitude=longitude))
    assert response.status_code == 200
    assert response.context["form"].errors["grid"]
    assert_nothing_saved()


def test_the_grid_found_from_the_point_is_chosen_when_the_page_is_drawn_again(client, mapped, categories):
    client.force_login(mapped.dispatcher)
    latitude, longitude = inside(mapped.grid_b)
    response = client.post("/intake/new/", call_form(latitude=latitude, longitude=longitude, category=""))
    assert response.context["form"].errors["category"]
    assert f'<option value="{mapped.grid_b.code}" selected>' in response.text
    assert response.context["places"]["community"] == mapped.community.code
    assert_nothing_saved()


def test_a_double_submit_of_a_call_by_coordinates_opens_one_case(client, mapped, categories):
    client.force_login(mapped.gridworker)
    latitude, longitude = inside(mapped.grid_a)
    data = call_form(latitude=latitude, longitude=longitude, crs="gcj02")
    first = client.post("/intake/new/", data)
    second = client.post("/intake/new/", data)
    case = Case.objects.get()
    assert first["Location"] == second["Location"] == f"/cases/{case.number}/"
    assert Call.objects.count() == 1


def test_without_any_boundaries_a_point_is_kept_beside_the_grid_chosen(client, cast, categories):
    client.force_login(cast.dispatcher)
    client.post("/intake/new/", call_form(grid=cast.grid_a.code, latitude="41.700000", longitude="123.400000"))
    case = Case.objects.get()
    assert (case.grid_id, case.latitude) == (cast.grid_a.code, Decimal("41.700000"))
    response = client.post("/intake/new/", call_form(latitude="41.7", longitude="123.4", submission="another"))
    assert response.context["form"].errors["grid"]
    assert Case.objects.count() == 1


@pytest.mark.parametrize(
    ("who", "parent", "level"),
    [
        ("dispatcher", "210111", "street"),
        ("street_clerk", "210111001", "community"),
        ("community_clerk", "210111001015", "grid"),
        ("gridworker", "210111001015", "grid"),
    ],
)
def test_the_call_page_has_a_map_of_the_operators_area(client, mapped, categories, who, parent, level):
    client.force_login(getattr(mapped, who))
    response = client.get("/intake/new/")
    assert f'data-parent="{parent}" data-level="{level}"' in response.text
    assert 'id="call-map"' in response.text
    assert "js/intake_map.js" in response.text
    assert "vendor/leaflet/leaflet.js" in response.text
    # What the map will ask for is there for this person.
    assert client.get("/api/v1/regions/geojson/", {"parent": parent, "level": level}).json()["features"]


# --- The API -------------------------------------------------------------------------------------------


def test_the_api_saves_a_call_by_coordinates_only_in_the_grid_under_the_point(api, mapped, categories):
    api.force_authenticate(mapped.dispatcher)
    latitude, longitude = inside(mapped.grid_b)
    response = api.post("/api/v1/calls/", call_payload(latitude=latitude, longitude=longitude), format="json")
    assert response.status_code == 201
    assert response.json()["grid"] == mapped.grid_b.code
    case = Case.objects.get()
    assert (case.grid_id, case.latitude, case.longitude) == (mapped.grid_b.code, Decimal(latitude), Decimal(longitude))


def test_the_api_converts_a_gcj02_point_and_stores_the_wgs84_one(api, mapped, categories):
    api.force_authenticate(mapped.dispatcher)
    wgs_lat, wgs_long = float(mapped.grid_c.latitude), float(mapped.grid_c.longitude)
    gcj_long, gcj_lat = wgs84_to_gcj02(wgs_long, wgs_lat)
    payload = call_payload(latitude=f"{gcj_lat:.6f}", longitude=f"{gcj_long:.6f}", crs="gcj02")
    response = api.post("/api/v1/calls/", payload, format="json")
    assert response.status_code == 201
    case = Case.objects.get()
    assert case.grid_id == mapped.grid_c.code
    assert float(case.latitude) == pytest.approx(wgs_lat, abs=2e-6)
    assert float(case.longitude) == pytest.approx(wgs_long, abs=2e-6)
    assert grid_code_at(float(case.longitude), float(case.latitude)) == mapped.grid_c.code


def test_the_api_refuses_a_point_outside_the_district_naming_the_field(api, mapped, categories):
    api.force_authenticate(mapped.dispatcher)
    latitude, longitude = BEIJING
    response = api.post("/api/v1/calls/", call_payload(latitude=latitude, longitude=longitude), format="json")
    assert response.status_code == 400
    body = response.json()
    assert "苏家屯区" in " ".join(body["errors"]["latitude"])
    assert_nothing_saved()


def test_the_api_answers_400_on_grid_for_a_point_in_another_grid_unless_confirmed(api, mapped, categories):
    api.force_authenticate(mapped.dispatcher)
    latitude, longitude = inside(mapped.grid_b)
    payload = call_payload(grid=mapped.grid_a.code, latitude=latitude, longitude=longitude)
    response = api.post("/api/v1/calls/", payload, format="json")
    assert response.status_code == 400
    message = " ".join(response.json()["errors"]["grid"])
    assert mapped.grid_b.code in message
    assert "confirm_place" in message
    assert_nothing_saved()

    response = api.post("/api/v1/calls/", {**payload, "confirm_place": True}, format="json")
    assert response.status_code == 201
    case = Case.objects.get()
    assert (case.grid_id, case.latitude) == (mapped.grid_a.code, Decimal(latitude))


@pytest.mark.parametrize(
    ("place", "field"),
    [
        ({}, "grid"),
        ({"grid": None}, "grid"),
        ({"latitude": "41.7"}, "longitude"),
        ({"latitude": "41.7", "longitude": "123.4", "crs": "bd09"}, "crs"),
        ({"latitude": "north", "longitude": "123.4"}, "latitude"),
    ],
)
def test_the_api_answers_400_naming_the_field_for_a_place_it_cannot_use(api, mapped, categories, place, field):
    api.force_authenticate(mapped.dispatcher)
    response = api.post("/api/v1/calls/", call_payload(**place), format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert_nothing_saved()


def test_a_grid_worker_gets_403_for_a_point_in_a_grid_not_theirs(api, mapped, categories):
    api.force_authenticate(mapped.gridworker)
    latitude, longitude = inside(mapped.grid_c)
    response = api.post("/api/v1/calls/", call_payload(latitude=latitude, longitude=longitude), format="json")
    assert response.status_code == 403
    assert_nothing_saved()


def test_a_retry_of_a_call_by_coordinates_opens_one_case(api, mapped, categories):
    api.force_authenticate(mapped.dispatcher)
    latitude, longitude = inside(mapped.grid_a)
    payload = call_payload(latitude=latitude, longitude=longitude, crs="gcj02")
    first = api.post("/api/v1/calls/", payload, format="json", HTTP_IDEMPOTENCY_KEY="map-1")
    second = api.post("/api/v1/calls/", payload, format="json", HTTP_IDEMPOTENCY_KEY="map-1")
    assert first.status_code == second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert Case.objects.count() == 1


# --- The case page -------------------------------------------------------------------------------------


def case_place(response):
    text = response.text
    start = text.index('<script id="case-place" type="application/json">') + len(
        '<script id="case-place" type="application/json">'
    )
    return json.loads(text[start : text.index("</script>", start)])


def test_the_case_page_draws_the_cases_point_and_its_grid(client, mapped, categories):
    latitude, longitude = inside(mapped.grid_a)
    case = open_case(mapped, latitude=Decimal(latitude), longitude=Decimal(longitude))
    # The outline is written into the page: whoever may read the case sees where it is.
    for person in (mapped.dispatcher, mapped.gridworker):
        client.force_login(person)
        response = client.get(f"/cases/{case.number}/")
        assert 'id="case-map"' in response.text
        assert "js/case_map.js" in response.text
        place = case_place(response)
        assert place["point"] == [float(latitude), float(longitude)]
        assert place["grid"]["properties"]["code"] == mapped.grid_a.code
        assert place["grid"]["geometry"]["type"] in {"Polygon", "MultiPolygon"}


def test_a_case_without_a_point_shows_its_grid_and_says_so(client, mapped, categories):
    case = open_case(mapped)
    client.force_login(mapped.dispatcher)
    response = client.get(f"/cases/{case.number}/")
    assert case_place(response)["point"] is None
    assert 'id="case-map-no-point"' in response.text


def test_a_case_with_neither_point_nor_boundary_has_no_map(client, cast, categories):
    case = open_case(cast)
    client.force_login(cast.dispatcher)
    response = client.get(f"/cases/{case.number}/")
    assert 'id="case-map"' not in response.text
    assert "leaflet" not in response.text
