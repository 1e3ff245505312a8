"""Writes about places: the 苏家屯区 loader, and grid import and export. See docs/grids.md.

Codes are the whole story of the hierarchy: a street is 9 digits, a community or village 12, a grid
15, and every code starts with its parent's code. Everything here keeps that true.
"""

import csv
import io
import json
import math
import re
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path

from django.db import connection, router, transaction
from django.db.models import ProtectedError, QuerySet, RestrictedError
from django.db.models.deletion import Collector
from django.utils.translation import gettext as _
from shapely.geometry import shape

from grids.boundaries import BoundaryError, boundaries_generate
from grids.geometry import geojson_problem
from grids.models import Region

DIVISIONS_FILE = Path(__file__).resolve().parent / "data" / "divisions.csv"
DISTRICT_CODE = "210111"
# The published number of grids in 苏家屯区; the grids themselves are not published, so the loader
# generates this many beneath the real communities and villages.
TOTAL_GRIDS = 2939
# A residents' committee (urban, dense) is cut into more grids than a village.
GRID_WEIGHTS = {Region.CommunityKind.RESIDENTS: 25, Region.CommunityKind.VILLAGERS: 11}
# National rule: a village-level code below 200 is a residents' committee, 200 and up a villagers'.
VILLAGERS_FROM = 200

REQUIRED_COLUMNS = ("code", "name", "parent_code")
OPTIONAL_COLUMNS = ("latitude", "longitude", "boundary")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
IMPORTABLE_LENGTHS = (9, 12, 15)
# China's bounding box, generous on every side: catches swapped or mistyped coordinates.
LATITUDE_RANGE = (Decimal(3), Decimal(54))
LONGITUDE_RANGE = (Decimal(73), Decimal(136))
COORDINATE_STEP = Decimal("0.000001")  # the model keeps 6 decimal places
NAME_MAX_LENGTH = Region._meta.get_field("name").max_length
BATCH_SIZE = 500

# progress(stage, done, total): called now and then during long work, and once at the end of a stage.
Progress = Callable[[str, int, int], None] | None

_DIGITS = re.compile(r"[0-9]+")  # str.isdigit() would let full-width digits through


class RegionImportError(Exception):
    """The file has problems; nothing was written. `errors` holds (line, field, message) tuples,
    line 1 being the header and line 2 the first data row."""

    def __init__(self, errors):
        self.errors = sorted(
            errors, key=lambda error: (error[0], COLUMNS.index(error[1]) if error[1] in COLUMNS else 9)
        )
        super().__init__(_("errors found: %(count)d; nothing was written") % {"count": len(self.errors)})


class RegionFileError(Exception):
    """The file cannot be read at all (wrong type, not a spreadsheet, unknown text encoding)."""


@dataclass
class ImportResult:
    """What an import did, or with `dry_run`, what it would do."""

    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    dry_run: bool = False
    deleted_codes: list[str] = field(default_factory=list)


class _Reporter:
    """Calls progress every tenth of the work (at least every 100 rows) and at the end."""

    def __init__(self, progress, stage, total):
        self.progress, self.stage, self.total, self.done = progress, stage, total, 0
        self.step = max(100, math.ceil(total / 10))

    def advance(self, count=1):
        before, self.done = self.done, self.done + count
        if self.progress and (self.done // self.step > before // self.step or self.done == self.total):
            self.progress(self.stage, self.done, self.total)


def _lock_regions():
    # Two loads or imports at once would both see a code missing and both insert it; the second
    # would end in an IntegrityError. This lock makes them take turns; reads go on meanwhile.
    table = connection.ops.quote_name(Region._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")


def _batches(items, size=BATCH_SIZE):
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- The 苏家屯区 loader ----------------------------------------------------------------------------


def divisions_read() -> list[dict[str, str]]:
    """The district, its streets and its communities and villages, from the project's data file."""
    with DIVISIONS_FILE.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def grids_apportion(*, weights: dict[str, int], total: int) -> dict[str, int]:
    """Share `total` grids among communities in proportion to their weights, by the
    largest-remainder (Hamilton) method: each gets the whole part of its quota, and the seats left
    go to the largest remainders, ties to the lower code. Exact fractions, so no float can tip a tie.
    """
    weight_sum = sum(weights.values())
    quotas = {code: Fraction(total * weight, weight_sum) for code, weight in weights.items()}
    counts = {code: math.floor(quota) for code, quota in quotas.items()}
    left = total - sum(counts.values())
    for code in sorted(quotas, key=lambda code: (-(quotas[code] - counts[code]), code))[:left]:
        counts[code] += 1
    return counts


@transaction.atomic
def regions_load_sujiatun(*, progress: Progress = None) -> dict[str, int]:
    """Load 苏家屯区, its 12 streets and 186 communities and villages from `grids/data/divisions.csv`,
    and generate its 2,939 grids beneath them. Returns the number created per level.

    Creates what is missing and never changes a row that exists, so a second run changes nothing
    and edits made since (a renamed grid, coordinates) survive. A community that already has grids
    of any kind gets no generated ones: its grids are taken to be the real ones (imported from the
    district's list), and generated grids mixed in would be places that do not exist.

    Grid rule: TOTAL_GRIDS apportioned by GRID_WEIGHTS (see `grids_apportion`); grid codes are the
    community code + 001, 002, ...; names are the community name + 第N网格.
    """
    _lock_regions()
    divisions = divisions_read()
    pks = dict(Region.objects.filter(code__startswith=DISTRICT_CODE).values_list("code", "pk"))
    created = dict.fromkeys(Region.Level.values, 0)
    for level in (Region.Level.DISTRICT, Region.Level.STREET, Region.Level.COMMUNITY):
        new = [
            Region(
                code=row["code"],
                name=row["name"],
                level=level,
                parent_id=pks.get(row["parent_code"]),
                community_kind=row["community_kind"],
            )
            for row in divisions
            if row["level"] == level and row["code"] not in pks
        ]
        for region in Region.objects.bulk_create(new):
            pks[region.code] = region.pk
        created[level] = len(new)
        if progress:
            progress(level, len(new), len(new))

    communities = [row for row in divisions if row["level"] == Region.Level.COMMUNITY]
    counts = grids_apportion(
        weights={row["code"]: GRID_WEIGHTS[row["community_kind"]] for row in communities}, total=TOTAL_GRIDS
    )
    with_grids = set(
        Region.objects.filter(level=Region.Level.GRID, parent__code__in=list(counts)).values_list(
            "parent__code", flat=True
        )
    )
    grids = [
        Region(
            code=f"{row['code']}{number:03d}",
            name=f"{row['name']}第{number}网格",
            level=Region.Level.GRID,
            parent_id=pks[row["code"]],
        )
        for row in communities
        if row["code"] not in with_grids
        for number in range(1, counts[row["code"]] + 1)
    ]
    reporter = _Reporter(progress, Region.Level.GRID, len(grids))
    for batch in _batches(grids, 1000):
        Region.objects.bulk_create(batch)
        reporter.advance(len(batch))
    created[Region.Level.GRID] = len(grids)
    return created


# --- Import -----------------------------------------------------------------------------------------


@dataclass
class _Row:
    line: int
    code: str
    name: str
    parent_code: str
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    boundary: dict | None = None


def _text(value) -> str:
    if value is None:
        return ""
    return str(value).strip()


def _coordinate(text, low, high):
    """(value, problem): the coordinate rounded to the model's 6 places, or what is wrong with it."""
    if not text:
        return None, None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None, _("not a number: %(value)s") % {"value": text}
    if not value.is_finite():
        return None, _("not a number: %(value)s") % {"value": text}
    if not low <= value <= high:
        return None, _("%(value)s is outside China (%(low)s to %(high)s)") % {"value": text, "low": low, "high": high}
    return value.quantize(COORDINATE_STEP), None


def _boundary(text):
    """(geometry, problem): the parsed GeoJSON Polygon or MultiPolygon, or what is wrong with it
    (`geometry.geojson_problem`, and a point outside China, where swapped coordinates land)."""
    if not text:
        return None, None
    try:
        data = json.loads(text)
    except ValueError:
        return None, _("not valid JSON")
    problem = geojson_problem(data)
    if problem:
        return None, problem
    minx, miny, maxx, maxy = shape(data).bounds
    for longitude, latitude in ((minx, miny), (maxx, maxy)):
        if not (
            LONGITUDE_RANGE[0] <= longitude <= LONGITUDE_RANGE[1] and LATITUDE_RANGE[0] <= latitude <= LATITUDE_RANGE[1]
        ):
            return None, _("the boundary has a point outside China (%(point)s); GeoJSON puts the longitude first") % {
                "point": f"{longitude}, {latitude}"
            }
    return data, None


def _code_problem(code, known_district):
    if not code:
        return _("code is empty")
    if re.fullmatch(r"[0-9.]+[eE]\+?[0-9]+", code):
        return _(
            "code %(code)s was shortened by a spreadsheet into a number: format the column as text, "
            "or use the .xlsx file"
        ) % {"code": code}
    if not _DIGITS.fullmatch(code) or len(code) not in (*IMPORTABLE_LENGTHS, 6):
        return _("code %(code)s must be 9, 12 or 15 digits") % {"code": code}
    if len(code) == 6 and not known_district:
        return _("unknown district %(code)s: only streets, communities and grids can be added") % {"code": code}
    return None


def _kind_for(code):
    if len(code) != Region.CODE_LENGTHS[Region.Level.COMMUNITY]:
        return ""
    return Region.CommunityKind.RESIDENTS if int(code[9:12]) < VILLAGERS_FROM else Region.CommunityKind.VILLAGERS


def _blocked_grids(error, grids):
    """{grid pk: {verbose name: count}} of the rows that keep grids from being deleted."""
    by_pk = {grid.pk for grid in grids}
    blocked = defaultdict(lambda: defaultdict(int))
    found = error.protected_objects if isinstance(error, ProtectedError) else error.restricted_objects
    for obj in found:
        for model_field in obj._meta.concrete_fields:
            if model_field.is_relation and model_field.related_model is Region:
                pk = getattr(obj, model_field.attname)
                if pk in by_pk:
                    blocked[pk][obj._meta.model] += 1
    return blocked


def _deletion_errors(error, grids, first_line):
    errors = []
    by_pk = {grid.pk: grid for grid in grids}
    for pk, referrers in sorted(_blocked_grids(error, grids).items(), key=lambda item: by_pk[item[0]].code):
        grid = by_pk[pk]
        what = ", ".join(
            f"{count} {model._meta.verbose_name if count == 1 else model._meta.verbose_name_plural}"
            for model, count in referrers.items()
        )
        errors.append(
            (
                first_line[grid.code[:12]],
                "parent_code",
                _(
                    "grid %(code)s %(name)s of this community is not in the file but cannot be deleted: "
                    "it still has %(what)s"
                )
                % {"code": grid.code, "name": grid.name, "what": what},
            )
        )
    return errors


def _rows_check(rows):
    """Check every row on its own, and the file as a whole; the database is asked once."""
    errors, parsed, first_line = [], [], {}
    for line, raw in enumerate(rows, start=2):
        raw = {_text(key).lower(): value for key, value in raw.items() if key is not None}
        values = {column: _text(raw.get(column)) for column in COLUMNS}
        if not any(_text(value) for value in raw.values()):
            continue  # a blank line in the file
        row = _Row(line=line, code=values["code"], name=values["name"], parent_code=values["parent_code"])
        row_errors = []
        if row.code in first_line:
            row_errors.append(
                (
                    "code",
                    _("duplicate code %(code)s: already on line %(first)d")
                    % {"code": row.code, "first": first_line[row.code]},
                )
            )
        elif row.code:
            first_line[row.code] = line
        if not row.name:
            row_errors.append(("name", _("name is empty")))
        elif len(row.name) > NAME_MAX_LENGTH:
            row_errors.append(("name", _("name is longer than %(max)d characters") % {"max": NAME_MAX_LENGTH}))
        row.latitude, problem = _coordinate(values["latitude"], *LATITUDE_RANGE)
        if problem:
            row_errors.append(("latitude", problem))
        row.longitude, problem = _coordinate(values["longitude"], *LONGITUDE_RANGE)
        if problem:
            row_errors.append(("longitude", problem))
        if bool(values["latitude"]) != bool(values["longitude"]):
            missing = "longitude" if values["latitude"] else "latitude"
            row_errors.append((missing, _("give both latitude and longitude, or neither")))
        row.boundary, problem = _boundary(values["boundary"])
        if problem:
            row_errors.append(("boundary", problem))
        errors += [(line, column, message) for column, message in row_errors]
        parsed.append(row)

    existing = {
        region.code: region
        for region in Region.objects.filter(
            code__in={row.code for row in parsed} | {row.parent_code for row in parsed if row.parent_code}
        )
    }
    for row in parsed:
        code_problem = _code_problem(row.code, row.code in existing)
        if code_problem:
            errors.append((row.line, "code", code_problem))
            continue
        if len(row.code) == Region.CODE_LENGTHS[Region.Level.DISTRICT]:
            if row.parent_code:
                errors.append((row.line, "parent_code", _("the district has no parent: leave parent_code empty")))
            continue
        parent, length = row.parent_code, len(row.code) - 3
        if not parent:
            errors.append((row.line, "parent_code", _("parent_code is empty")))
        elif not _DIGITS.fullmatch(parent) or len(parent) != length:
            errors.append(
                (
                    row.line,
                    "parent_code",
                    _("parent %(parent)s is not one level above %(code)s: its code must have %(length)d digits")
                    % {"parent": parent, "code": row.code, "length": length},
                )
            )
        elif not row.code.startswith(parent):
            errors.append(
                (
                    row.line,
                    "code",
                    _("code %(code)s does not start with its parent's code %(parent)s")
                    % {"code": row.code, "parent": parent},
                )
            )
        elif parent not in existing and parent not in first_line:
            errors.append((row.line, "parent_code", _("unknown parent %(parent)s") % {"parent": parent}))
    return errors, parsed, existing


@transaction.atomic
def region_import(
    *, rows: Iterable[dict], replace: bool = False, dry_run: bool = False, progress: Progress = None
) -> ImportResult:
    """Add and update streets, communities and grids from the rows of a file (see `rows_from_file`).

    All or nothing: every row is checked first, and if anything is wrong RegionImportError lists
    every problem with its line and nothing is written. Otherwise, in one transaction, missing
    regions are created (parents first) and existing ones get the file's name, and its coordinates
    and boundary when the file has those columns (an empty cell clears them). Codes never change:
    a code is the region's identity. With `replace`, the grids of the communities that have grid
    rows in the file, but that the file does not list, are deleted; a grid something still refers
    to (a grid worker's posting, a case) is refused and named. `dry_run` checks and counts, and
    writes nothing. Safe to run twice: the second run finds everything unchanged.
    """
    rows = list(rows)
    result = ImportResult(dry_run=dry_run)
    columns = {_text(key).lower() for row in rows[:1] for key in row if key is not None}
    if not rows:
        return result
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        raise RegionImportError([(1, column, _("the column is missing")) for column in missing])
    if not dry_run:
        _lock_regions()

    check = _Reporter(progress, "check", len(rows))
    errors, parsed, existing = _rows_check(rows)
    check.advance(len(rows))
    if errors:
        raise RegionImportError(errors)

    with_coordinates = "latitude" in columns or "longitude" in columns
    with_boundary = "boundary" in columns
    fields = [
        "name",
        *(["latitude", "longitude"] if with_coordinates else []),
        *(["boundary"] if with_boundary else []),
    ]
    creates, updates = [], []
    for row in parsed:
        region = existing.get(row.code)
        if region is None:
            creates.append(row)
            continue
        new = {"name": row.name, "latitude": row.latitude, "longitude": row.longitude, "boundary": row.boundary}
        if all(getattr(region, name) == new[name] for name in fields):
            result.unchanged += 1
            continue
        for name in fields:
            setattr(region, name, new[name])
        # A boundary given in the file is a real one: generation works around it, never over it.
        region.boundary_generated = False
        updates.append(region)
    result.created, result.updated = len(creates), len(updates)

    doomed, community_line = [], {}
    if replace:
        listed = {row.code for row in parsed}
        communities = {row.parent_code for row in parsed if len(row.code) == Region.CODE_LENGTHS[Region.Level.GRID]}
        doomed = list(
            Region.objects.filter(level=Region.Level.GRID, parent__code__in=communities)
            .exclude(code__in=listed)
            .order_by("code")
        )
        for row in parsed:
            community_line.setdefault(row.parent_code, row.line)
        # Ask Django's deletion collector, which knows every PROTECT and RESTRICT pointing at a
        # region (postings now, cases later), before writing anything, so a dry run sees it too.
        try:
            Collector(using=router.db_for_write(Region)).collect(doomed)
        except (ProtectedError, RestrictedError) as error:
            raise RegionImportError(_deletion_errors(error, doomed, community_line)) from None
        result.deleted, result.deleted_codes = len(doomed), [grid.code for grid in doomed]

    if dry_run:
        return result

    write = _Reporter(progress, "write", len(creates) + len(updates) + len(doomed))
    pks = {code: region.pk for code, region in existing.items()}
    for length in IMPORTABLE_LENGTHS:
        level = Region.level_for_code("0" * length)
        new = [
            Region(
                code=row.code,
                name=row.name,
                level=level,
                parent_id=pks[row.parent_code],
                community_kind=_kind_for(row.code),
                latitude=row.latitude,
                longitude=row.longitude,
                boundary=row.boundary,
            )
            for row in creates
            if len(row.code) == length
        ]
        for batch in _batches(new, min(BATCH_SIZE, write.step)):
            for region in Region.objects.bulk_create(batch):
                pks[region.code] = region.pk
            write.advance(len(batch))
    for batch in _batches(updates, min(BATCH_SIZE, write.step)):
        Region.objects.bulk_update(batch, [*fields, "boundary_generated"])
        write.advance(len(batch))
    if doomed:
        try:
            Region.objects.filter(pk__in=[grid.pk for grid in doomed]).delete()
        except (ProtectedError, RestrictedError) as error:
            # A posting added between the check above and now; the table lock does not stop those.
            raise RegionImportError(_deletion_errors(error, doomed, community_line)) from None
        write.advance(len(doomed))
    if creates or updates or doomed:
        _shapes_follow(parsed)
    return result


def _shapes_follow(parsed):
    """New places get generated shapes, deleted ones leave room, boundaries from the file are kept
    as real ones; the point-to-grid index and the maps follow (docs/maps.md)."""
    try:
        boundaries_generate()
    except BoundaryError as error:
        lines = {row.code: row.line for row in parsed}
        raise RegionImportError(
            [(lines.get(code, 1), "boundary", f"{code}: {reason}") for code, reason in error.problems]
        ) from None


# --- Export, and reading and writing files ----------------------------------------------------------


def regions_export(*, queryset: QuerySet[Region]) -> list[dict[str, str]]:
    """The regions as rows in the import format, parents before children, so that importing an
    export changes nothing."""
    rows = []
    for code, name, parent_code, latitude, longitude, boundary in queryset.order_by("code").values_list(
        "code", "name", "parent__code", "latitude", "longitude", "boundary"
    ):
        rows.append(
            {
                "code": code,
                "name": name,
                "parent_code": parent_code or "",
                "latitude": "" if latitude is None else str(latitude),
                "longitude": "" if longitude is None else str(longitude),
                "boundary": "" if boundary is None else json.dumps(boundary, ensure_ascii=False, separators=(",", ":")),
            }
        )
    return rows


def rows_to_csv(rows: Iterable[dict], fileobj) -> None:
    """Write rows as CSV to a binary file: UTF-8 with a byte-order mark, or Excel reads it as GBK."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    fileobj.write(text.getvalue().encode("utf-8-sig"))


def rows_to_xlsx(rows: Iterable[dict], fileobj) -> None:
    """Write rows as an .xlsx workbook to a binary file. Codes are text cells, so that Excel never
    shows 210111001015001 as 2.10111E+14; coordinates are numbers."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("regions")
    for letter, width in zip("ABCDEF", (18, 24, 15, 12, 12, 40), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.append(list(COLUMNS))
    for row in rows:
        cells = []
        for column in COLUMNS:
            value = row.get(column) or ""
            if column in ("latitude", "longitude") and value:
                cell = WriteOnlyCell(sheet, value=float(value))
            else:
                cell = WriteOnlyCell(sheet, value=str(value))
                cell.number_format = "@"
            cells.append(cell)
        sheet.append(cells)
    workbook.save(fileobj)


def rows_to_file(rows: Iterable[dict], fileobj, filename: str) -> None:
    """Write rows as .csv or .xlsx, chosen by the file name's extension."""
    writers = {".csv": rows_to_csv, ".xlsx": rows_to_xlsx}
    suffix = Path(filename).suffix.lower()
    if suffix not in writers:
        raise RegionFileError(_("%(name)s: only .csv and .xlsx files are supported") % {"name": Path(filename).name})
    writers[suffix](rows, fileobj)


def _cell_text(value) -> str:
    """A spreadsheet cell as the text a person typed: 210111001015001 stays that, never 2.1e14 or
    '210111001015001.0' (Excel keeps numbers as floats; 15 digits fit exactly)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value).strip()


def _csv_rows(data):
    if isinstance(data, str):
        text = data.removeprefix("\ufeff")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            # Excel on a Chinese Windows saves "CSV" in the ANSI code page, GBK; GB18030 covers it.
            try:
                text = data.decode("gb18030")
            except UnicodeDecodeError:
                return None
    return list(csv.reader(io.StringIO(text, newline="")))


def _xlsx_rows(source):
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(source, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        return None
    try:
        return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()


def rows_from_file(path_or_fileobj, filename: str | None = None) -> list[dict[str, str]]:
    """The rows of a .csv or .xlsx file (the first sheet) as dicts keyed by the lower-cased header,
    every value a trimmed string. Blank lines are kept as empty rows, so that a row's position
    stays its line number (line = index + 2). Raises RegionFileError for anything else."""
    name = Path(filename or str(path_or_fileobj)).name
    suffix = Path(name).suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise RegionFileError(_("%(name)s: only .csv and .xlsx files are supported") % {"name": name})
    if suffix == ".csv":
        is_path = isinstance(path_or_fileobj, str | Path)
        table = _csv_rows(Path(path_or_fileobj).read_bytes() if is_path else path_or_fileobj.read())
        if table is None:
            raise RegionFileError(_("%(name)s is neither UTF-8 nor GBK text") % {"name": name})
    else:
        table = _xlsx_rows(path_or_fileobj)
        if table is None:
            raise RegionFileError(_("%(name)s is not a readable .xlsx workbook") % {"name": name})
    if not table:
        return []
    header = [_cell_text(cell).lower() for cell in table[0]]
    rows = []
    for cells in table[1:]:
        texts = [_cell_text(cell) for cell in cells]
        texts += [""] * (len(header) - len(texts))
        rows.append({column: text for column, text in zip(header, texts, strict=False) if column})
    return rows
