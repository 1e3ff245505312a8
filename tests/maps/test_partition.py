"""The boundaries of all 3,138 places of 苏家屯区 as `manage.py load_reference` leaves them: the
district's published outline, and streets, communities and grids generated to tile it exactly."""

import gzip
import json
import statistics
from collections import defaultdict

import pytest
import shapely
from django.db import transaction
from shapely.geometry import Point, shape

from grids import geometry
from grids.boundaries import boundaries_generate, feature, grid_code_at
from grids.models import BoundarySet, Region

# Tolerances of floating point, not of the method: a gap or overlap of a square metre in 782 km².
M2 = 1e-6  # km²


@pytest.fixture(scope="module")
def district(django_db_setup, django_db_blocker):
    """All places loaded and given boundaries once for the module, in a transaction rolled back at
    its end."""
    from grids.services import regions_load_sujiatun

    with django_db_blocker.unblock(), transaction.atomic():
        regions_load_sujiatun()
        report = boundaries_generate()
        rows = list(Region.objects.filter(code__startswith="210111").order_by("code"))
        yield {
            "report": report,
            "rows": {row.code: row for row in rows},
            "shapes": {row.code: shape(row.boundary) for row in rows},
        }
        transaction.set_rollback(True)


@pytest.fixture
def places(district, db):
    return district


def children_of(shapes):
    children = defaultdict(list)
    for code in shapes:
        if len(code) > 6:
            children[code[:-3]].append(code)
    return children


def test_every_place_has_a_boundary_an_area_and_a_point_inside_it(places):
    rows, shapes = places["rows"], places["shapes"]
    counts = defaultdict(int)
    for code, row in rows.items():
        counts[row.level] += 1
        assert shapes[code].is_valid, code
        assert row.area_km2 == pytest.approx(geometry.area_km2(shapes[code]), abs=1e-6)
        assert shapes[code].contains(Point(float(row.longitude), float(row.latitude))), code
    assert dict(counts) == {"district": 1, "street": 12, "community": 186, "grid": 2939}
    assert rows["210111"].boundary_generated is False  # the published outline
    assert all(row.boundary_generated for code, row in rows.items() if code != "210111")
    assert 775 < rows["210111"].area_km2 < 785  # 苏家屯区: 782 km²


def test_children_tile_their_parent_exactly_at_every_level(places):
    shapes = places["shapes"]
    for parent, codes in children_of(shapes).items():
        parts = [shapes[code] for code in codes]
        # Areas add up ...
        assert sum(geometry.area_km2(part) for part in parts) == pytest.approx(
            geometry.area_km2(shapes[parent]), abs=M2
        ), parent
        # ... because nothing overlaps ...
        tree = shapely.STRtree(parts)
        overlap = sum(
            geometry.area_km2(parts[i].intersection(parts[j]))
            for i, j in zip(*tree.query(parts, predicate="intersects"), strict=True)
            if i < j
        )
        assert overlap < M2, parent
        # ... and nothing is left over or sticks out.
        union = shapely.union_all(parts)
        assert geometry.area_km2(shapes[parent].difference(union)) < M2, parent
        assert geometry.area_km2(union.difference(shapes[parent])) < M2, parent


def test_urban_committees_are_small_and_villages_large(places):
    rows = places["rows"]
    urban = [r.area_km2 for r in rows.values() if r.community_kind == "residents"]
    villages = [r.area_km2 for r in rows.values() if r.community_kind == "villagers"]
    assert statistics.median(villages) > 4 * statistics.median(urban)


def test_a_second_run_with_the_same_seed_changes_nothing(places):
    version = BoundarySet.current()
    boundaries_generate()
    assert BoundarySet.current() == version
    row = Region.objects.get(code="210111001015003")
    assert row.boundary == places["rows"]["210111001015003"].boundary


def test_the_seed_decides_the_shapes():
    square = shapely.box(123.3, 41.6, 123.4, 41.7)
    items = [("a", 1), ("b", 2), ("c", 3)]
    first = geometry.partition(square, items, seed="one")
    assert {c: g.wkt for c, g in geometry.partition(square, items, seed="one").items()} == {
        c: g.wkt for c, g in first.items()
    }
    assert first["a"].wkt != geometry.partition(square, items, seed="two")["a"].wkt
    assert first["c"].area == pytest.approx(3 * first["a"].area, rel=1e-6)


def test_locate_finds_the_grid_under_each_grids_own_point(places):
    rows = places["rows"]
    grids = [row for row in rows.values() if row.level == "grid"]
    for row in grids[::7]:
        assert grid_code_at(float(row.longitude), float(row.latitude)) == row.code


def test_a_point_on_a_border_belongs_to_the_lower_code(places):
    shapes = places["shapes"]
    first = "210111001002001"
    second = next(
        code
        for code in sorted(shapes)
        if len(code) == 15 and code > first and shapes[first].buffer(1e-9).intersection(shapes[code].boundary).length
    )
    border = shapes[first].buffer(1e-9).intersection(shapes[second].boundary)
    longest = max(getattr(border, "geoms", [border]), key=lambda line: line.length)
    point = longest.interpolate(0.5, normalized=True)
    assert grid_code_at(point.x, point.y) == first


def test_a_point_outside_the_district_has_no_grid(places):
    outline = places["shapes"]["210111"]
    minx, miny, maxx, maxy = outline.bounds
    assert grid_code_at(116.404, 39.915) is None  # Beijing
    assert grid_code_at(minx - 0.001, miny - 0.001) is None  # just beyond the district's corner
    assert grid_code_at((minx + maxx) / 2, maxy + 0.01) is None  # north of it


def test_all_grids_reach_a_browser_in_under_one_and_a_half_megabytes(places):
    grids = [row for row in places["rows"].values() if row.level == "grid"]
    body = json.dumps({"type": "FeatureCollection", "features": [feature(g, level=2) for g in grids]})
    size = len(gzip.compress(body.encode()))
    assert size < 1.5 * 1024 * 1024, size
