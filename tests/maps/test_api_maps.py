"""The maps' API: a place's boundary, the places under a place, and the grid at a point."""

import gzip
import json

import pytest
from rest_framework.test import APIClient
from shapely.geometry import shape

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def test_a_boundary_is_a_feature_with_code_name_level_area_and_whether_it_is_generated(api, mapped):
    api.force_authenticate(mapped.dispatcher)
    body = api.get("/api/v1/regions/210111001/boundary/").json()
    assert body["type"] == "Feature"
    assert body["properties"]["code"] == "210111001"
    assert body["properties"]["name"] == "解放街道"
    assert body["properties"]["level"] == "street"
    assert body["properties"]["generated"] is True
    assert body["properties"]["area_km2"] == pytest.approx(shape(body["geometry"]).area * 111.195**2 * 0.747, rel=0.01)
    district = api.get("/api/v1/regions/210111/boundary/").json()
    assert district["properties"]["generated"] is False  # the published outline
    assert 770 < district["properties"]["area_km2"] < 790  # 苏家屯区 is 782 km²


def test_geojson_of_the_district_gives_its_streets(api, mapped):
    api.force_authenticate(mapped.dispatcher)
    body = api.get("/api/v1/regions/geojson/", {"parent": "210111"}).json()
    assert body["type"] == "FeatureCollection"
    assert [f["properties"]["code"] for f in body["features"]] == ["210111001", "210111003"]
    grids = api.get("/api/v1/regions/geojson/", {"parent": "210111", "level": "grid"}).json()
    assert [f["id"] for f in grids["features"]] == ["210111001015001", "210111001015002", "210111003201001"]


def test_a_grid_worker_sees_only_the_shapes_of_their_area(api, mapped):
    api.force_authenticate(mapped.gridworker)
    grids = api.get("/api/v1/regions/geojson/", {"parent": "210111", "level": "grid"}).json()
    assert [f["id"] for f in grids["features"]] == ["210111001015001"]
    assert api.get("/api/v1/regions/210111003201001/boundary/").status_code == 404


def test_the_geojson_is_gzipped_for_a_browser_that_asks(api, mapped):
    api.force_authenticate(mapped.dispatcher)
    response = api.get("/api/v1/regions/geojson/?parent=210111&level=grid", HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(response.content))["features"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"parent": "210111", "simplify": "9"}, "simplify"),
        ({"parent": "210111", "level": "district"}, "level"),
        ({"parent": "210111001015001"}, "parent"),
        ({}, "parent"),
    ],
)
def test_bad_geojson_queries_get_400_naming_the_field(api, mapped, query, field):
    api.force_authenticate(mapped.dispatcher)
    response = api.get("/api/v1/regions/geojson/", query)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_locate_gives_the_grid_its_community_and_street(api, mapped):
    api.force_authenticate(mapped.dispatcher)
    grid = mapped.grid_a
    body = api.get("/api/v1/regions/locate/", {"lat": grid.latitude, "long": grid.longitude}).json()
    assert body["grid"] == {"code": grid.code, "name": grid.name}
    assert body["community"] == {"code": "210111001015", "name": "金山社区"}
    assert body["street"] == {"code": "210111001", "name": "解放街道"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"lat": "abc", "long": "123.4"}, "lat"),
        ({"lat": "41.6", "long": ""}, "long"),
        ({"lat": "95", "long": "123.4"}, "lat"),
        ({"lat": "41.6", "long": "190"}, "long"),
        ({"lat": "nan", "long": "123.4"}, "lat"),
        ({"lat": "41.6", "long": "inf"}, "long"),
        ({"lat": "41.6", "long": "123.4", "crs": "bd09"}, "crs"),
    ],
)
def test_locate_refuses_coordinates_that_are_not_numbers_in_range(api, mapped, query, field):
    api.force_authenticate(mapped.dispatcher)
    response = api.get("/api/v1/regions/locate/", query)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_a_point_outside_the_district_is_404_with_a_message(api, mapped):
    api.force_authenticate(mapped.dispatcher)
    response = api.get("/api/v1/regions/locate/", {"lat": "39.915", "long": "116.404"})  # Beijing
    assert response.status_code == 404
    assert "苏家屯区" in response.json()["detail"]


def test_shapes_asked_for_with_the_current_version_may_be_kept_by_the_browser(api, mapped):
    from grids.models import BoundarySet

    api.force_authenticate(mapped.dispatcher)
    current = api.get("/api/v1/regions/geojson/", {"parent": "210111", "v": BoundarySet.current()})
    assert current["Cache-Control"] == "private, max-age=86400"
    stale = api.get("/api/v1/regions/210111001/boundary/", {"v": BoundarySet.current() - 1})
    assert "no-cache" in stale["Cache-Control"]


def test_a_grid_worker_locating_a_point_in_another_workers_grid_gets_404(api, mapped):
    api.force_authenticate(mapped.gridworker)  # posted to grid A only
    grid_b = mapped.grid_b
    point = {"lat": grid_b.latitude, "long": grid_b.longitude}
    response = api.get("/api/v1/regions/locate/", point)
    assert response.status_code == 404
    assert response.json()["detail"] == "该坐标点位于您负责区域之外的网格。"
    own = api.get("/api/v1/regions/locate/", {"lat": mapped.grid_a.latitude, "long": mapped.grid_a.longitude})
    assert own.json()["grid"]["code"] == mapped.grid_a.code


def test_locate_converts_a_gcj02_point_and_answers_with_the_wgs84_one(api, mapped):
    from grids.coordinates import wgs84_to_gcj02

    api.force_authenticate(mapped.dispatcher)
    grid = mapped.grid_a
    gcj_long, gcj_lat = wgs84_to_gcj02(float(grid.longitude), float(grid.latitude))
    body = api.get("/api/v1/regions/locate/", {"lat": gcj_lat, "long": gcj_long, "crs": "gcj02"}).json()
    assert body["grid"]["code"] == grid.code
    assert body["latitude"] == pytest.approx(float(grid.latitude), abs=1e-7)
    assert body["longitude"] == pytest.approx(float(grid.longitude), abs=1e-7)
