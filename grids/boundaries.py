"""Boundaries of places in the database: generating the partition, importing real GIS data level by
level, the point-to-grid index, and the shapes the maps are served. See docs/maps.md.

The district's outline is real (`geometry.district_outline`); the boundaries of its streets,
communities and grids are not published, so they are generated inside it, seeded and
reproducible, and marked `boundary_generated`. An import of real boundaries replaces one level;
what is still generated beneath or beside it is generated anew around the real shapes.
"""

import json
import struct
import threading
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import shapely
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from shapely.geometry import shape

from grids import geometry
from grids.coordinates import gcj02_to_wgs84
from grids.models import BoundarySet, Region

DISTRICT_CODE = "210111"
DEFAULT_SEED = "suqu"
GRID_WEIGHT = 1
# An imported shape may stick out of its parent, or overlap a neighbour, by this share of its area
# (the published outline is drawn at about 100 m; real survey data will not follow it exactly).
DEFAULT_TOLERANCE = 0.01
# Simplification for the browser, by level of detail: tolerance in degrees (0.0001° ≈ 10 m) and
# decimals kept (5 ≈ 1 m, 4 ≈ 10 m).
SIMPLIFY = {0: (0, None), 1: (0.00005, 6), 2: (0.0002, 5), 3: (0.001, 4)}
POINT_STEP = Decimal("0.000001")
BORDER_WIDTH = 1e-9  # degrees, about 0.1 mm


class BoundaryError(Exception):
    """The boundaries were refused; nothing was written. `problems` holds (code, reason) pairs, the
    code being a region's code or, for a feature without one, "#N" (its place in the file)."""

    def __init__(self, problems):
        self.problems = sorted(problems)
        super().__init__(_("boundaries refused: %(count)d problems; nothing was written") % {"count": len(problems)})


@dataclass
class BoundaryReport:
    imported: list[str] = field(default_factory=list)
    regenerated: int = 0
    version: int = 0
    dry_run: bool = False


# --- Generating ---------------------------------------------------------------------------------------


def _weight(region) -> float:
    if region.level == Region.Level.GRID:
        return GRID_WEIGHT
    if region.level == Region.Level.COMMUNITY:
        return geometry.AREA_WEIGHTS.get(region.community_kind, 1)
    return 0  # streets: the sum of their communities', filled in by _weights


def _weights(regions) -> dict[str, float]:
    weights = {code: _weight(region) for code, region in regions.items()}
    for code, region in regions.items():
        if region.level == Region.Level.STREET:
            weights[code] = sum(w for c, w in weights.items() if len(c) == 12 and c.startswith(code)) or 1
    return weights


def _is_real(region) -> bool:
    return region.boundary is not None and not region.boundary_generated


def _shapes(regions, fixed, *, seed, progress=None, tolerance=None):
    """Shapes for every region: those in `fixed` (code → geometry) as given, every other region
    with a real boundary as stored, the rest generated top-down inside what their parent has left.
    Returns ({code: geometry}, {codes generated}); raises BoundaryError where nothing is left, or,
    with a `tolerance` (an import), where the real places leave their generated siblings no more
    than slivers of that share of the parent: the file left those siblings out."""
    children = defaultdict(list)
    for code in sorted(regions):
        if len(code) > 6:
            children[code[:-3]].append(code)
    weights = _weights(regions)
    shapes, generated, problems = {}, set(), []
    district = regions[DISTRICT_CODE]
    if DISTRICT_CODE in fixed:
        shapes[DISTRICT_CODE] = fixed[DISTRICT_CODE]
    elif _is_real(district):
        shapes[DISTRICT_CODE] = shape(district.boundary)
    else:
        shapes[DISTRICT_CODE] = geometry.district_outline()
    todo, done, total = [DISTRICT_CODE], 0, len(children)
    while todo:
        parent = todo.pop(0)
        if parent in children:
            done += 1
            if progress and (done % 50 == 0 or done == total):
                progress("boundaries", done, total)
        kids = children.get(parent, [])
        real = []
        for code in kids:
            if code in fixed:
                shapes[code] = fixed[code]
                real.append(code)
            elif _is_real(regions[code]):
                shapes[code] = shape(regions[code].boundary)
                real.append(code)
        rest = [code for code in kids if code not in real]
        if rest:
            left = shapes[parent]
            if real:
                left = geometry.polygonal(left.difference(shapely.union_all([shapes[c] for c in real])))
            left_km2, parent_km2 = geometry.area_km2(left), geometry.area_km2(shapes[parent])
            if tolerance is not None and any(c in fixed for c in kids) and left_km2 < tolerance * parent_km2:
                problems.extend(
                    (
                        code,
                        _(
                            "the real places of %(parent)s cover it but for %(left).4f km², too little for the "
                            "places still generated: the file leaves this one out"
                        )
                        % {"parent": parent, "left": left_km2},
                    )
                    for code in rest
                )
            elif left_km2 < 1e-6 * len(rest):
                problems.extend(
                    (
                        code,
                        _("nothing of %(parent)s is left for it: its real neighbours cover it all")
                        % {"parent": parent},
                    )
                    for code in rest
                )
            else:
                shapes.update(geometry.partition(left, [(c, weights[c]) for c in rest], seed=f"{seed}:{parent}"))
                generated.update(rest)
        todo.extend(code for code in kids if code in shapes)  # a refused place's children wait for it
    if problems:
        raise BoundaryError(problems)
    return shapes, generated


def _point(geom):
    point = geom.point_on_surface()
    return Decimal(point.y).quantize(POINT_STEP), Decimal(point.x).quantize(POINT_STEP)


def _write(regions, shapes, generated, note):
    rows = []
    for code, geom in shapes.items():
        region = regions[code]
        stored = json.loads(json.dumps(geometry.to_geojson(geom)))  # tuples to lists, as stored
        point = (region.latitude, region.longitude)
        # Where a point and a shape disagree, the real one wins: a point given in the places file
        # stays beside a generated shape; a real shape moves a point that lies outside it.
        if None in point or (
            code not in generated and not geom.contains(shapely.Point(float(point[1]), float(point[0])))
        ):
            point = _point(geom)
        values = (stored, code in generated, round(geometry.area_km2(geom), 6), *point)
        old = (region.boundary, region.boundary_generated, region.area_km2, region.latitude, region.longitude)
        if values != old:
            rows.append((code, json.dumps(values[0]), *values[1:]))
    if not rows:
        return BoundarySet.current()
    # One statement for thousands of rows: bulk_update's CASE per field and row costs seconds.
    table = connection.ops.quote_name(Region._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {table} AS r SET boundary = v.boundary::jsonb, boundary_generated = v.generated,
                       area_km2 = v.area, latitude = v.latitude, longitude = v.longitude
                FROM unnest(%s::text[], %s::text[], %s::bool[], %s::float8[], %s::numeric[], %s::numeric[])
                     AS v(code, boundary, generated, area, latitude, longitude)
                WHERE r.code = v.code""",
            [list(column) for column in zip(*rows, strict=True)],
        )
    boundaries = BoundarySet.objects.select_for_update().get(pk=1)
    boundaries.version += 1
    boundaries.changed_at = timezone.now()
    boundaries.note = note[:200]
    boundaries.save()
    return boundaries.version


def _regions():
    fields = ("code", "level", "community_kind", "boundary", "boundary_generated", "area_km2", "latitude", "longitude")
    return {region.code: region for region in Region.objects.filter(code__startswith=DISTRICT_CODE).only(*fields)}


@transaction.atomic
def boundaries_generate(*, seed: str = DEFAULT_SEED, progress=None) -> BoundaryReport:
    """Give every place a boundary: the district its published outline (unless a real one was
    imported), every place without a real boundary a generated one. Reproducible: the same places
    and seed give the same shapes, so a second run changes no row and keeps the version.
    `progress(stage, done, total)` hears of every 50 places shared out."""
    BoundarySet.objects.get_or_create(pk=1)
    BoundarySet.objects.select_for_update().get(pk=1)
    regions = _regions()
    if DISTRICT_CODE not in regions:
        return BoundaryReport()
    shapes, generated = _shapes(regions, {}, seed=seed, progress=progress)
    version = _write(regions, shapes, generated, _("generated (seed %(seed)s)") % {"seed": seed})
    return BoundaryReport(regenerated=len(generated), version=version)


# --- Importing real boundaries ------------------------------------------------------------------------


def _overlaps(codes, shapes, tolerance):
    """Pairs among `codes` whose overlap is more than `tolerance` of the smaller one's area."""
    items = [shapes[code] for code in codes]
    tree = shapely.STRtree(items)
    found = []
    for i, j in zip(*tree.query(items, predicate="intersects"), strict=True):
        if i >= j:
            continue
        shared = geometry.area_km2(items[i].intersection(items[j]))
        smaller = min(geometry.area_km2(items[i]), geometry.area_km2(items[j]))
        if shared > tolerance * smaller:
            found.append((codes[i], codes[j], shared))
    return found


def _check_level(regions, shapes, fixed, tolerance):
    problems = []
    for code in sorted(fixed):
        if code == DISTRICT_CODE:
            continue
        outside = geometry.area_km2(fixed[code].difference(shapes[code[:-3]]))
        if outside > tolerance * geometry.area_km2(fixed[code]):
            reason = _("%(share).1f%% of it lies outside %(parent)s") % {
                "share": 100 * outside / geometry.area_km2(fixed[code]),
                "parent": code[:-3],
            }
            if not _is_real(regions[code[:-3]]):
                reason += _(" (whose boundary is generated: import the level above first)")
            problems.append((code, reason))
    siblings, lengths = defaultdict(list), {len(code) for code in fixed}
    for code in regions:
        if len(code) > 6 and len(code) in lengths:
            siblings[code[:-3]].append(code)
    for codes in siblings.values():
        if not any(code in fixed for code in codes):
            continue
        real = [code for code in codes if code in fixed or _is_real(regions[code])]
        for first, second, shared in _overlaps(real, shapes, tolerance):
            problems.append((first, _("overlaps %(other)s by %(area).4f km²") % {"other": second, "area": shared}))
    # Real places below an imported one must still lie inside it.
    for code, region in regions.items():
        parent = code[:-3]
        if parent in fixed and _is_real(region):
            outside = geometry.area_km2(shapes[code].difference(fixed[parent]))
            if outside > tolerance * geometry.area_km2(shapes[code]):
                problems.append((code, _("no longer lies inside %(parent)s as imported") % {"parent": parent}))
    return problems


@transaction.atomic
def boundaries_import(
    features: list[tuple[str, object]],
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    seed: str = DEFAULT_SEED,
    dry_run: bool = False,
) -> BoundaryReport:
    """Replace the boundaries of one level of places with real ones. `features` holds (code, GeoJSON
    geometry) pairs, all of one level. Each geometry must be a valid (Multi)Polygon of closed rings
    in longitude/latitude; each place must lie in its parent and not overlap its neighbours (both
    within `tolerance` of its area); real places below must still lie inside. Whatever is still
    generated is generated anew around the real shapes. All or nothing: any problem raises
    BoundaryError with every problem found, and nothing is written."""
    BoundarySet.objects.get_or_create(pk=1)
    BoundarySet.objects.select_for_update().get(pk=1)
    regions = _regions()
    problems, fixed, levels = [], {}, set()
    for index, (code, data) in enumerate(features, start=1):
        label = code or f"#{index}"
        if not code:
            problems.append((label, _("the feature has no region code")))
            continue
        if code not in regions:
            problems.append((label, _("no place has this code")))
            continue
        if code in fixed:
            problems.append((label, _("the code appears twice in the file")))
            continue
        levels.add(len(code))
        problem = geometry.geojson_problem(data)
        if problem:
            problems.append((label, problem))
            continue
        fixed[code] = shape(data)
    if len(levels) > 1:
        problems.append(("", _("a file holds one level of places; this one mixes several")))
    if not features:
        problems.append(("", _("the file holds no features")))
    if problems:
        raise BoundaryError(problems)
    try:
        shapes, generated = _shapes(regions, fixed, seed=seed, tolerance=tolerance)
    except BoundaryError as error:
        problems.extend(error.problems)
        shapes = None
    if shapes is not None:
        problems.extend(_check_level(regions, shapes, fixed, tolerance))
    if problems:
        raise BoundaryError(problems)
    report = BoundaryReport(imported=sorted(fixed), regenerated=len(generated), dry_run=dry_run)
    if not dry_run:
        report.version = _write(
            regions, shapes, generated, _("imported %(count)d real boundaries") % {"count": len(fixed)}
        )
    return report


def features_from_geojson(data, *, code_field: str = "code") -> list[tuple[str, object]]:
    """(code, geometry) pairs from a GeoJSON FeatureCollection (or one Feature); the code is the
    feature's property `code_field`, or its `id`."""
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = {"type": "FeatureCollection", "features": [data]}
    if (
        not isinstance(data, dict)
        or data.get("type") != "FeatureCollection"
        or not isinstance(data.get("features"), list)
    ):
        raise BoundaryError([("", _("not a GeoJSON FeatureCollection"))])
    pairs = []
    for feature in data["features"]:
        if not isinstance(feature, dict):
            pairs.append(("", None))
            continue
        properties = feature.get("properties") or {}
        code = properties.get(code_field, feature.get("id")) if isinstance(properties, dict) else feature.get("id")
        pairs.append((str(code).strip() if code is not None else "", feature.get("geometry")))
    return pairs


def features_from_shapefile(path: Path, *, code_field: str = "code") -> list[tuple[str, object]]:
    """(code, geometry) pairs from an ESRI Shapefile (a .shp with its .dbf beside it, or a .zip of
    them) read with pyshp. Coordinates must be longitude/latitude: a .prj naming a projected system
    is refused (suqu does not reproject). A file pyshp cannot read is refused with its reason."""
    import shapefile  # pyshp: only imports need it

    path = Path(path)
    try:
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as archive:
                names = {Path(name).suffix.lower(): name for name in archive.namelist()}
                if ".shp" not in names or ".dbf" not in names:
                    raise BoundaryError([("", _("the .zip must hold a .shp and its .dbf"))])
                prj = archive.read(names[".prj"]).decode("latin-1") if ".prj" in names else ""
                with shapefile.Reader(
                    shp=archive.open(names[".shp"]), dbf=archive.open(names[".dbf"]), encoding="utf-8"
                ) as reader:
                    return _shapefile_pairs(reader, prj, code_field)
        prj_path = path.with_suffix(".prj")
        prj = prj_path.read_text(encoding="latin-1") if prj_path.exists() else ""
        with shapefile.Reader(str(path), encoding="utf-8") as reader:
            return _shapefile_pairs(reader, prj, code_field)
    except (shapefile.ShapefileException, zipfile.BadZipFile, OSError, ValueError, struct.error, EOFError) as error:
        raise BoundaryError([("", _("not readable as a Shapefile: %(error)s") % {"error": error})]) from error


def _shapefile_pairs(reader, prj, code_field):
    import shapefile

    if prj.strip().upper().startswith(("PROJCS", "PROJCRS")):
        raise BoundaryError(
            [
                (
                    "",
                    _(
                        "the shapefile is in a projected coordinate system; "
                        "export it in longitude/latitude (WGS-84 or CGCS2000)"
                    ),
                )
            ]
        )
    names = [f[0] for f in reader.fields[1:]]
    matching = [name for name in names if name.lower() == code_field.lower()]
    if not matching:
        raise BoundaryError([("", _("the shapefile has no field %(field)s") % {"field": code_field})])
    pairs = []
    for record in reader.iterShapeRecords():
        code = record.record[matching[0]]
        empty = record.shape.shapeType == shapefile.NULL  # a record without a shape
        pairs.append((str(code).strip() if code is not None else "", None if empty else record.shape.__geo_interface__))
    return pairs


def features_from_file(path: Path, *, code_field: str = "code") -> list[tuple[str, object]]:
    path = Path(path)
    if path.suffix.lower() in (".geojson", ".json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise BoundaryError([("", _("not readable as GeoJSON: %(error)s") % {"error": error})]) from error
        return features_from_geojson(data, code_field=code_field)
    if path.suffix.lower() in (".shp", ".zip"):
        return features_from_shapefile(path, code_field=code_field)
    raise BoundaryError([("", _("give a .geojson, .json, .shp or .zip file"))])


# --- Point to grid -----------------------------------------------------------------------------------


class _GridIndex:
    """The grids' shapes in an STRtree, per process, rebuilt when the boundary version moves on."""

    def __init__(self):
        self.version, self.tree, self.codes = None, None, []
        self.lock = threading.Lock()

    def get(self):
        version = BoundarySet.stamp()
        if version != self.version:
            with self.lock:
                if version != self.version:
                    rows = Region.objects.filter(level=Region.Level.GRID, boundary__isnull=False).values_list(
                        "code", "boundary"
                    )
                    codes, shapes = [], []
                    for code, boundary in rows:
                        codes.append(code)
                        shapes.append(shape(boundary))
                    self.tree, self.codes, self.version = shapely.STRtree(shapes), codes, version
        return self.tree, self.codes


_grid_index = _GridIndex()


def grid_index():
    """(STRtree, codes) of the grids' shapes, as locating uses them; rebuilt when they change."""
    return _grid_index.get()


def grid_code_at(longitude: float, latitude: float) -> str | None:
    """The code of the grid holding a WGS-84 point, or None outside every grid. A point on a border
    (within BORDER_WIDTH of it: neighbours' shared edges agree to floating point, not exactly)
    belongs to the grid with the lowest code, so the answer never depends on the order of a tree."""
    tree, codes = grid_index()
    if tree is None or not codes:
        return None
    hits = tree.query(shapely.Point(longitude, latitude), predicate="dwithin", distance=BORDER_WIDTH)
    return min((codes[i] for i in hits), default=None)


def grid_at(longitude: float, latitude: float, *, crs: str = "wgs84") -> tuple[str | None, float, float]:
    """The grid holding a point given in WGS-84 or GCJ-02 (`crs="gcj02"`, converted first), with
    the WGS-84 point looked up: (code or None, longitude, latitude)."""
    if crs == "gcj02":
        longitude, latitude = gcj02_to_wgs84(longitude, latitude)
    return grid_code_at(longitude, latitude), longitude, latitude


# --- Shapes for the maps ------------------------------------------------------------------------------

_simplified: dict = {}
_simplified_lock = threading.Lock()


def simplified(code: str, boundary: dict | None, level: int, stamp: tuple) -> dict | None:
    """A region's boundary at a level of detail (see SIMPLIFY), kept per process and
    `BoundarySet.stamp()` (the version and when it was made)."""
    if boundary is None:
        return None
    key = (code, level, stamp)
    found = _simplified.get(key)
    if found is None:
        tolerance, decimals = SIMPLIFY[level]
        geom = shape(boundary)
        if tolerance:
            geom = geom.simplify(tolerance, preserve_topology=True)
        if decimals:
            geom = shapely.set_precision(geom, 10**-decimals, mode="pointwise")
        found = shapely.geometry.mapping(geometry.polygonal(geom))
        found = json.loads(json.dumps(found))  # tuples to lists, once
        with _simplified_lock:
            if len(_simplified) > 50_000:
                _simplified.clear()
            _simplified[key] = found
    return found


def feature(region, *, level: int = 0, stamp: tuple | None = None) -> dict:
    """A region as a GeoJSON Feature: code, name, level, area, its representative point, and
    whether its boundary is generated. `stamp`: `BoundarySet.stamp()`, read once for many."""
    stamp = BoundarySet.stamp() if stamp is None else stamp
    point = (
        [float(region.longitude), float(region.latitude)]
        if region.latitude is not None and region.longitude is not None
        else None
    )
    return {
        "type": "Feature",
        "id": region.code,
        "properties": {
            "code": region.code,
            "name": region.name,
            "level": region.level,
            "parent": region.code[:-3] if len(region.code) > 6 else None,
            "area_km2": None if region.area_km2 is None else round(region.area_km2, 4),
            "generated": region.boundary_generated,
            "point": point,
        },
        "geometry": simplified(region.code, region.boundary, level, stamp),
    }
