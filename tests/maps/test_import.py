"""Importing the district's real boundaries, one level at a time: what is valid replaces the generated
shapes (and what is still generated is regenerated around it); anything invalid is refused whole,
with each place's code and the reason."""

import json
import zipfile

import pytest
import shapefile
import shapely
from django.core.management import CommandError, call_command
from django.utils import translation
from shapely.geometry import mapping, shape

from grids import geometry
from grids.boundaries import BoundaryError, boundaries_import, features_from_file, grid_code_at
from grids.models import BoundarySet, Region

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """The reasons in English here; Chinese is the default (one test below reads it)."""
    with translation.override("en"):
        yield


def halves():
    """Two real streets: the district cut in two at 123.45°E (解放街道 west, 民主街道 east)."""
    outline = geometry.district_outline()
    minx, miny, maxx, maxy = outline.bounds
    west = outline.intersection(shapely.box(minx - 1, miny - 1, 123.45, maxy + 1))
    east = outline.intersection(shapely.box(123.45, miny - 1, maxx + 1, maxy + 1))
    return geometry.polygonal(west), geometry.polygonal(east)


def collection(*pairs):
    return {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {"code": c}, "geometry": g} for c, g in pairs],
    }


def snapshot():
    return {r.code: (r.boundary, r.boundary_generated) for r in Region.objects.all()}, BoundarySet.current()


def test_real_streets_replace_the_generated_ones_and_everything_below_follows(mapped, tmp_path):
    west, east = halves()
    path = tmp_path / "streets.geojson"
    path.write_text(json.dumps(collection(("210111001", mapping(west)), ("210111003", mapping(east)))))
    version = BoundarySet.current()

    report = boundaries_import(features_from_file(path))

    assert report.imported == ["210111001", "210111003"]
    assert BoundarySet.current() == version + 1
    street = Region.objects.get(code="210111001")
    assert street.boundary_generated is False
    assert shape(street.boundary).equals(west)
    # The generated community and grids below were generated anew inside the real street.
    for code in ("210111001015", "210111001015001", "210111001015002"):
        place = Region.objects.get(code=code)
        assert place.boundary_generated is True
        assert geometry.area_km2(shape(place.boundary).difference(west)) < 1e-6, code
    # The point-to-grid index follows at once.
    point = west.representative_point()
    assert grid_code_at(point.x, point.y).startswith("210111001")


def refused(features):
    before = snapshot()
    with pytest.raises(BoundaryError) as caught:
        boundaries_import(features)
    assert snapshot() == before  # nothing half-imported
    return dict(caught.value.problems)


def test_a_ring_that_is_not_closed_is_refused_with_its_code(mapped):
    west, east = halves()
    ring = [list(point) for point in west.exterior.coords][:-1]
    problems = refused([("210111001", {"type": "Polygon", "coordinates": [ring]}), ("210111003", mapping(east))])
    assert "not closed" in problems["210111001"]


def test_an_invalid_polygon_is_refused_with_the_reason(mapped):
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[123.3, 41.6], [123.4, 41.7], [123.4, 41.6], [123.3, 41.7], [123.3, 41.6]]],
    }
    problems = refused([("210111001", bowtie), ("210111003", mapping(halves()[1]))])
    assert "Self-intersection" in problems["210111001"]


def test_overlapping_neighbours_are_refused_naming_both(mapped):
    _west, east = halves()
    wide_west = geometry.district_outline().intersection(shapely.box(0, 0, 123.55, 90))
    problems = refused([("210111001", mapping(wide_west)), ("210111003", mapping(east))])
    assert "210111003" in problems["210111001"]
    assert "overlaps" in problems["210111001"]


def test_a_grid_outside_its_community_is_refused(mapped):
    # Grid A of 金山社区 drawn inside 民主村, in the other street.
    elsewhere = shape(mapped.grid_c.boundary)
    problems = refused([("210111001015001", mapping(elsewhere))])
    assert "outside 210111001015" in problems["210111001015001"]


@pytest.mark.parametrize(
    ("features", "code", "reason"),
    [
        ([("210111999", mapping(shapely.box(123.3, 41.6, 123.4, 41.7)))], "210111999", "no place"),
        ([("", mapping(shapely.box(123.3, 41.6, 123.4, 41.7)))], "#1", "no region code"),
        ([("210111001", {"type": "Point", "coordinates": [123.3, 41.6]})], "210111001", "Polygon"),
        ([("210111001", mapping(shapely.box(400000, 4600000, 410000, 4610000)))], "210111001", "projected"),
    ],
)
def test_other_bad_features_are_refused_with_their_reason(mapped, features, code, reason):
    assert reason in refused(features)[code]


def test_a_file_mixing_levels_is_refused(mapped):
    west, _east = halves()
    problems = refused([("210111001", mapping(west)), ("210111001015", mapping(west))])
    assert "one level" in problems[""]


def test_a_file_that_leaves_a_place_out_is_refused_not_squeezed_into_a_sliver(mapped):
    # 解放街道 drawn as all but a strip of 0.5% of the district: 民主街道, still generated, would be
    # squeezed into the strip.
    outline = geometry.district_outline()
    minx, miny, maxx, maxy = outline.bounds
    almost_all = outline.intersection(shapely.box(minx - 1, miny - 1, maxx - 0.03, maxy + 1))
    assert 0.99 < geometry.area_km2(almost_all) / geometry.area_km2(outline) < 0.999
    problems = refused([("210111001", mapping(geometry.polygonal(almost_all)))])
    assert "leaves this one out" in problems["210111003"]


def test_a_grid_under_a_generated_community_is_told_to_import_the_level_above_first(mapped):
    elsewhere = shape(mapped.grid_c.boundary)
    problems = refused([("210111001015001", mapping(elsewhere))])
    assert "import the level above first" in problems["210111001015001"]


def test_an_unreadable_shapefile_is_refused_not_a_traceback(mapped, tmp_path):
    broken = tmp_path / "broken.shp"
    broken.write_bytes(b"not a shapefile at all")
    (tmp_path / "broken.dbf").write_bytes(b"nor a dbf")
    with pytest.raises(BoundaryError) as caught:
        features_from_file(broken)
    assert "not readable as a Shapefile" in caught.value.problems[0][1]
    bad_zip = tmp_path / "broken.zip"
    bad_zip.write_bytes(b"PK no zip")
    with pytest.raises(BoundaryError):
        features_from_file(bad_zip)


def write_shapefile(base, pairs, prj=None):
    with shapefile.Writer(str(base), shapeType=shapefile.POLYGON, encoding="utf-8") as writer:
        writer.field("CODE", "C", size=15)
        for code, polygon in pairs:
            clockwise = shapely.geometry.polygon.orient(polygon, sign=-1.0)  # the Shapefile convention
            writer.poly([list(clockwise.exterior.coords)])
            writer.record(code)
    if prj:
        base.with_suffix(".prj").write_text(prj)


def test_a_shapefile_imports_like_geojson_also_zipped(mapped, tmp_path):
    west, east = halves()
    base = tmp_path / "streets"
    write_shapefile(base, [("210111001", west), ("210111003", east)], prj='GEOGCS["GCS_WGS_1984"]')
    archive = tmp_path / "streets.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for suffix in (".shp", ".shx", ".dbf", ".prj"):
            zipped.write(base.with_suffix(suffix), f"streets{suffix}")

    for path in (base.with_suffix(".shp"), archive):
        features = features_from_file(path)
        assert [code for code, _geometry in features] == ["210111001", "210111003"]
        assert shape(features[0][1]).equals(west)
    boundaries_import(features)
    assert Region.objects.get(code="210111003").boundary_generated is False


def test_a_projected_shapefile_is_refused(mapped, tmp_path):
    base = tmp_path / "projected"
    write_shapefile(base, [("210111001", halves()[0])], prj='PROJCS["CGCS2000_3_Degree_GK_Zone_41"]')
    with pytest.raises(BoundaryError, match="refused") as caught:
        features_from_file(base.with_suffix(".shp"))
    assert "projected" in caught.value.problems[0][1]


def test_the_command_reports_what_it_did_and_every_problem(mapped, tmp_path, capsys):
    west, east = halves()
    good = tmp_path / "good.geojson"
    good.write_text(json.dumps(collection(("210111001", mapping(west)), ("210111003", mapping(east)))))
    call_command("import_boundaries", str(good), "--dry-run")
    out = capsys.readouterr().out
    assert "2 real boundaries imported" in out
    assert Region.objects.get(code="210111001").boundary_generated is True

    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps(collection(("210111001", mapping(west)), ("210111777", mapping(east)))))
    with pytest.raises(CommandError):
        call_command("import_boundaries", str(bad))
    assert "210111777: no place has this code" in capsys.readouterr().err


def test_places_added_by_the_places_file_get_shapes_and_are_located_at_once(mapped):
    from grids.services import region_import

    version = BoundarySet.current()
    region_import(rows=[{"code": "210111001015003", "name": "金山社区第3网格", "parent_code": "210111001015"}])
    new = Region.objects.get(code="210111001015003")
    assert new.boundary_generated is True
    assert BoundarySet.current() > version
    assert grid_code_at(float(new.longitude), float(new.latitude)) == new.code
    community = shape(Region.objects.get(code="210111001015").boundary)
    grids = [shape(r.boundary) for r in Region.objects.filter(parent__code="210111001015")]
    assert sum(geometry.area_km2(g) for g in grids) == pytest.approx(geometry.area_km2(community), abs=1e-6)


def test_a_boundary_from_the_places_file_is_real_and_survives_generation(mapped):
    from grids.services import region_import

    drawn = shape(mapped.grid_a.boundary).buffer(-0.0005)
    region_import(
        rows=[
            {
                "code": "210111001015001",
                "name": "金山社区第1网格",
                "parent_code": "210111001015",
                "boundary": json.dumps(mapping(drawn)),
            }
        ]
    )
    call_command("generate_boundaries")
    grid_a = Region.objects.get(code="210111001015001")
    assert grid_a.boundary_generated is False
    assert shape(grid_a.boundary).equals(drawn)
    # Its generated neighbour fills the rest of the community, over none of it.
    grid_b = shape(Region.objects.get(code="210111001015002").boundary)
    assert geometry.area_km2(grid_b.intersection(drawn)) < 1e-6
    assert geometry.area_km2(grid_b) + geometry.area_km2(drawn) == pytest.approx(
        geometry.area_km2(shape(Region.objects.get(code="210111001015").boundary)), abs=1e-6
    )
