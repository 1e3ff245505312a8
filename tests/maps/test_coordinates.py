"""GCJ-02, the datum of Chinese phone maps, converted to the WGS-84 suqu stores and draws."""

import math

import pytest

from grids.coordinates import gcj02_to_wgs84, wgs84_to_gcj02
from grids.geometry import echarts_decode_ring


def metres(a, b):
    (lon1, lat1), (lon2, lat2) = a, b
    return math.hypot((lon1 - lon2) * 111_195 * math.cos(math.radians(lat1)), (lat1 - lat2) * 111_195)


def test_the_forward_formula_matches_the_published_reference_point():
    # The reference in wandergis/coordtransform's test/app.js (天安门, 116.404, 39.915):
    # wgs84togcj02 → [116.41024449916938, 39.91640428150164].
    assert wgs84_to_gcj02(116.404, 39.915) == pytest.approx((116.41024449916938, 39.91640428150164), abs=1e-12)


def test_the_inverse_is_within_centimetres_of_the_published_one_step_approximation():
    # The same file's gcj02towgs84(116.404, 39.915) → [116.39775550083061, 39.91359571849836], a one-step
    # inverse good to a few metres; ours iterates to under a millimetre, so they agree closely.
    ours = gcj02_to_wgs84(116.404, 39.915)
    assert metres(ours, (116.39775550083061, 39.91359571849836)) < 1
    assert metres(wgs84_to_gcj02(*ours), (116.404, 39.915)) < 0.001


@pytest.mark.parametrize("point", [(123.3440, 41.6648), (123.1200, 41.5000), (123.7800, 41.7100)])
def test_in_sujiatun_the_shift_is_hundreds_of_metres_and_the_round_trip_exact(point):
    shifted = wgs84_to_gcj02(*point)
    assert 100 < metres(point, shifted) < 800
    assert metres(gcj02_to_wgs84(*shifted), point) < 0.001


def test_outside_china_nothing_is_shifted():
    assert wgs84_to_gcj02(2.3522, 48.8566) == (2.3522, 48.8566)  # Paris
    assert gcj02_to_wgs84(2.3522, 48.8566) == (2.3522, 48.8566)


def encode(points, offset, scale=1024):
    """ECharts' compression, written from its description, to check our decoder against."""
    text, (x0, y0) = [], offset
    for lon, lat in points:
        x, y = round(lon * scale), round(lat * scale)
        for delta in (x - x0, y - y0):
            text.append(chr(((delta << 1) ^ (delta >> 31)) + 64))
        x0, y0 = x, y
    return "".join(text)


def test_echarts_compressed_rings_decode_to_their_points():
    # Points on ECharts' grid of 1/1024 degree, as the published data is.
    points = [(126417 / 1024, 42467 / 1024), (126460 / 1024, 42500 / 1024), (126300 / 1024, 42550 / 1024)]
    offset = (126419, 42468)
    assert echarts_decode_ring(encode(points, offset), offset) == points
