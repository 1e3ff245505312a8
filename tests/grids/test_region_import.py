import io
import json
from decimal import Decimal

import pytest
from django.utils import translation
from openpyxl import Workbook
from shapely.geometry import Point, shape

from grids.models import Region
from grids.services import (
    RegionFileError,
    RegionImportError,
    region_import,
    regions_export,
    rows_from_file,
    rows_to_csv,
    rows_to_xlsx,
)

HEADER = "code,name,parent_code"
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[123.3, 41.6], [123.4, 41.6], [123.4, 41.7], [123.3, 41.7], [123.3, 41.6]]],
}


def csv_rows(*lines, header=HEADER):
    text = "\n".join([header, *lines]) + "\n"
    return rows_from_file(io.BytesIO(text.encode("utf-8")), "regions.csv")


def import_lines(*lines, header=HEADER, **options):
    with translation.override("en"):
        return region_import(rows=csv_rows(*lines, header=header), **options)


def errors_of(*lines, header=HEADER, **options):
    with pytest.raises(RegionImportError) as raised, translation.override("en"):
        region_import(rows=csv_rows(*lines, header=header), **options)
    return raised.value.errors


def state():
    return Region.objects.count(), Region.objects.get(code="210111001015001").name


def test_a_grid_under_an_unknown_parent_is_reported_with_its_line_and_column(cast):
    errors = errors_of("210111001015003,金山社区第3网格,210111001015", "210111001099001,某网格,210111001099")
    assert errors == [(3, "parent_code", "unknown parent 210111001099")]


def test_a_parent_that_comes_later_in_the_file_is_known(cast):
    result = import_lines("210111001016001,新社区第1网格,210111001016", "210111001016,新社区,210111001")
    assert result.created == 2


def test_a_duplicate_code_is_reported_on_its_second_line(cast):
    errors = errors_of(
        "210111001015003,甲,210111001015", "210111001015004,乙,210111001015", "210111001015003,丙,210111001015"
    )
    assert errors == [(4, "code", "duplicate code 210111001015003: already on line 2")]


def test_codes_of_the_wrong_length_or_with_letters_are_reported(cast):
    errors = errors_of(
        "21011100101503,短,210111001015", "21011100101500A,字母,210111001015", "2101110010150031,长,210111001015"
    )
    assert [(line, column) for line, column, _message in errors] == [(2, "code"), (3, "code"), (4, "code")]
    assert errors[0][2] == "code 21011100101503 must be 9, 12 or 15 digits"


def test_a_code_that_does_not_start_with_its_parents_code_is_reported(cast):
    errors = errors_of("210111001015003,错位网格,210111003201")
    assert errors == [(2, "code", "code 210111001015003 does not start with its parent's code 210111003201")]


def test_a_parent_of_the_wrong_level_is_reported(cast):
    errors = errors_of("210111001015003,越级网格,210111001")
    assert errors == [
        (2, "parent_code", "parent 210111001 is not one level above 210111001015003: its code must have 12 digits")
    ]


def test_an_empty_name_and_an_empty_parent_are_reported(cast):
    errors = errors_of("210111001015003,,210111001015", "210111001015004,无上级,")
    assert errors == [(2, "name", "name is empty"), (3, "parent_code", "parent_code is empty")]


def test_bad_coordinates_are_reported(cast):
    errors = errors_of(
        "210111001015003,甲,210111001015,abc,123.4",
        "210111001015004,乙,210111001015,60,123.4",
        "210111001015005,丙,210111001015,41.7,200",
        "210111001015006,丁,210111001015,41.7,",
        header="code,name,parent_code,latitude,longitude",
    )
    assert errors == [
        (2, "latitude", "not a number: abc"),
        (3, "latitude", "60 is outside China (3 to 54)"),
        (4, "longitude", "200 is outside China (73 to 136)"),
        (5, "longitude", "give both latitude and longitude, or neither"),
    ]


def boundary_row(code, geometry):
    text = geometry if isinstance(geometry, str) else json.dumps(geometry)
    return f'{code},网格,210111001015,"{text.replace(chr(34), chr(34) * 2)}"'


def test_a_boundary_that_is_not_a_geojson_polygon_is_reported(cast):
    swapped = {"type": "Polygon", "coordinates": [[[y, x] for x, y in SQUARE["coordinates"][0]]]}
    unclosed = {"type": "Polygon", "coordinates": [[*SQUARE["coordinates"][0][:-1], [123.35, 41.65]]]}
    errors = errors_of(
        boundary_row("210111001015003", "{not json"),
        boundary_row("210111001015004", {"type": "Point", "coordinates": [123.4, 41.7]}),
        boundary_row("210111001015005", swapped),
        boundary_row("210111001015006", unclosed),
        boundary_row("210111001015007", {"type": "MultiPolygon", "coordinates": [SQUARE["coordinates"]]}),
        header="code,name,parent_code,boundary",
    )
    assert [(line, column) for line, column, _message in errors] == [
        (2, "boundary"),
        (3, "boundary"),
        (4, "boundary"),
        (5, "boundary"),
    ]
    assert errors[0][2] == "not valid JSON"
    assert errors[1][2] == "the geometry must be a Polygon or a MultiPolygon"
    assert "GeoJSON puts the longitude first" in errors[2][2]
    assert "not closed" in errors[3][2]


def test_a_missing_column_is_reported_on_the_header_line(cast):
    errors = errors_of("210111001015003,甲", header="code,name")
    assert errors == [(1, "parent_code", "the column is missing")]


def test_a_code_a_spreadsheet_turned_into_a_number_is_explained(cast):
    errors = errors_of("2.10111E+14,甲,210111001015")
    assert errors[0][:2] == (2, "code")
    assert "format the column as text" in errors[0][2]


def test_every_error_in_a_file_is_reported_in_one_run_and_nothing_is_written(cast):
    before = state()
    errors = errors_of(
        "210111001015001,改过的名字,210111001015",
        "210111001015003,新网格,210111001015",
        "210111001099001,某网格,210111001099",
        "21011100101500X,,210111001015",
        "210111001015003,重复,210111001015",
    )
    assert [(line, column) for line, column, _message in errors] == [
        (4, "parent_code"),
        (5, "code"),
        (5, "name"),
        (6, "code"),
    ]
    assert state() == before == (8, "金山社区第1网格")


def test_blank_lines_keep_the_line_numbers_of_the_rows_after_them(cast):
    errors = errors_of("210111001015003,甲,210111001015", "", "210111001099001,乙,210111001099")
    assert errors == [(4, "parent_code", "unknown parent 210111001099")]


def test_a_good_file_creates_and_updates(cast):
    result = import_lines(
        "210111001016,新华社区,210111001,,",
        "210111001016001,新华社区第1网格,210111001016,41.7,123.4",
        "210111001016002,新华社区第2网格,210111001016,,",
        "210111001015001,金山社区花园网格,210111001015,,",
        "210111001015002,金山社区第2网格,210111001015,41.712345,123.456789",
        "210111003201001,民主村第1网格,210111003201,,",
        header="code,name,parent_code,latitude,longitude",
    )
    assert (result.created, result.updated, result.deleted, result.unchanged) == (3, 2, 0, 1)
    community = Region.objects.get(code="210111001016")
    assert (community.level, community.parent, community.community_kind) == ("community", cast.street, "residents")
    new_grid = Region.objects.get(code="210111001016001")
    assert (new_grid.level, new_grid.parent, new_grid.latitude) == ("grid", community, Decimal("41.7"))
    cast.grid_a.refresh_from_db()
    cast.grid_b.refresh_from_db()
    assert cast.grid_a.name == "金山社区花园网格"
    assert (cast.grid_b.latitude, cast.grid_b.longitude) == (Decimal("41.712345"), Decimal("123.456789"))


def test_a_new_village_code_makes_a_villagers_committee(cast):
    import_lines("210111003202,新兴村,210111003")
    assert Region.objects.get(code="210111003202").community_kind == "villagers"


def test_a_file_without_coordinate_columns_keeps_the_coordinates_and_an_empty_cell_clears_them(cast):
    Region.objects.filter(pk=cast.grid_a.pk).update(latitude=Decimal("41.7"), longitude=Decimal("123.4"))
    assert import_lines("210111001015001,金山社区第1网格,210111001015").unchanged == 1
    cast.grid_a.refresh_from_db()
    assert cast.grid_a.latitude == Decimal("41.7")
    result = import_lines("210111001015001,金山社区第1网格,210111001015,,", header=f"{HEADER},latitude,longitude")
    assert result.updated == 1
    cast.grid_a.refresh_from_db()
    # Cleared, the grid is shown at a point inside its shape again (docs/maps.md).
    assert cast.grid_a.latitude != Decimal("41.7")
    point = Point(float(cast.grid_a.longitude), float(cast.grid_a.latitude))
    assert shape(cast.grid_a.boundary).contains(point)


def test_a_second_import_of_the_same_file_changes_nothing(cast):
    lines = ("210111001015003,金山社区第3网格,210111001015", "210111001015001,金山社区花园网格,210111001015")
    import_lines(*lines)
    result = import_lines(*lines)
    assert (result.created, result.updated, result.deleted, result.unchanged) == (0, 0, 0, 2)


def test_a_dry_run_writes_nothing_and_counts_what_would_change(cast):
    before = state()
    result = import_lines(
        "210111001015003,金山社区第3网格,210111001015",
        "210111001015001,金山社区花园网格,210111001015",
        "210111001015002,金山社区第2网格,210111001015",
        dry_run=True,
    )
    assert (result.dry_run, result.created, result.updated, result.unchanged) == (True, 1, 1, 1)
    assert state() == before


def test_replace_deletes_the_grids_of_the_files_communities_that_the_file_leaves_out(cast):
    result = import_lines("210111003201002,民主村第2网格,210111003201", replace=True)
    assert (result.created, result.deleted, result.deleted_codes) == (1, 1, ["210111003201001"])
    assert not Region.objects.filter(code="210111003201001").exists()
    # 金山社区 has no grid rows in the file, so its grids stay.
    assert cast.community.children.count() == 2


def test_a_dry_run_with_replace_counts_the_deletions_and_deletes_nothing(cast):
    result = import_lines("210111003201002,民主村第2网格,210111003201", replace=True, dry_run=True)
    assert (result.created, result.deleted) == (1, 1)
    assert Region.objects.filter(code="210111003201001").exists()


def test_replace_refuses_to_delete_a_grid_a_grid_worker_is_posted_to(cast):
    before = state()
    errors = errors_of("210111001015001,金山社区花园网格,210111001015", replace=True)
    assert len(errors) == 1
    line, column, message = errors[0]
    assert (line, column) == (2, "parent_code")
    assert "210111001015002" in message
    assert message == (
        "grid 210111001015002 金山社区第2网格 of this community is not in the file but cannot be deleted: "
        "it still has 1 grid posting"
    )
    assert state() == before


def test_an_xlsx_export_imports_back_unchanged(cast):
    Region.objects.filter(pk=cast.grid_a.pk).update(
        latitude=Decimal("41.712345"), longitude=Decimal("123.456789"), boundary=SQUARE
    )
    output = io.BytesIO()
    rows_to_xlsx(regions_export(queryset=Region.objects.all()), output)
    output.seek(0)
    rows = rows_from_file(output, "regions.xlsx")
    assert rows[0]["code"] == "210111"
    grid_a = dict(rows[3])
    assert json.loads(grid_a.pop("boundary")) == SQUARE
    assert grid_a == {
        "code": "210111001015001",
        "name": "金山社区第1网格",
        "parent_code": "210111001015",
        "latitude": "41.712345",
        "longitude": "123.456789",
    }
    result = region_import(rows=rows)
    assert (result.created, result.updated, result.deleted, result.unchanged) == (0, 0, 0, Region.objects.count())


def test_a_csv_export_starts_with_a_byte_order_mark_and_imports_back_unchanged(cast):
    Region.objects.filter(pk=cast.grid_b.pk).update(boundary=SQUARE)
    output = io.BytesIO()
    rows_to_csv(regions_export(queryset=Region.objects.filter(code__startswith="210111001")), output)
    assert output.getvalue().startswith(b"\xef\xbb\xbfcode,name,parent_code,latitude,longitude,boundary")
    output.seek(0)
    result = region_import(rows=rows_from_file(output, "regions.csv"))
    assert (result.created, result.updated, result.unchanged) == (0, 0, 4)


def test_codes_an_xlsx_file_holds_as_numbers_are_read_as_text(cast):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["code", "name", "parent_code", "latitude", "longitude"])
    sheet.append([210111001015003, "金山社区第3网格", 210111001015, 41.7, 123.4])
    sheet.append([210111001015004.0, " 金山社区第4网格 ", 210111001015.0, None, None])
    output = io.BytesIO()
    workbook.save(output)
    output.seek(0)
    rows = rows_from_file(output, "REGIONS.XLSX")
    assert [(row["code"], row["name"], row["parent_code"]) for row in rows] == [
        ("210111001015003", "金山社区第3网格", "210111001015"),
        ("210111001015004", "金山社区第4网格", "210111001015"),
    ]
    assert region_import(rows=rows).created == 2
    assert Region.objects.get(code="210111001015003").latitude == Decimal("41.7")


def test_a_csv_saved_by_excel_in_gbk_is_read(cast):
    text = "code,name,parent_code\r\n210111001015003,金山社区第3网格,210111001015\r\n"
    rows = rows_from_file(io.BytesIO(text.encode("gbk")), "regions.csv")
    assert rows == [{"code": "210111001015003", "name": "金山社区第3网格", "parent_code": "210111001015"}]


def test_a_txt_file_is_refused_clearly():
    with pytest.raises(RegionFileError) as raised, translation.override("en"):
        rows_from_file(io.BytesIO(b"code,name,parent_code\n"), "regions.txt")
    assert str(raised.value) == "regions.txt: only .csv and .xlsx files are supported"


def test_a_broken_xlsx_file_is_refused_clearly():
    with pytest.raises(RegionFileError) as raised, translation.override("en"):
        rows_from_file(io.BytesIO(b"not a zip"), "regions.xlsx")
    assert str(raised.value) == "regions.xlsx is not a readable .xlsx workbook"
