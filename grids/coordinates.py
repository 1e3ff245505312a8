"""WGS-84 and GCJ-02 (the "Mars" datum of Chinese phone maps: 高德, 腾讯, and 百度 before its own
further shift). suqu stores and draws WGS-84 only (GPS, the browser's Geolocation API, 天地图's
CGCS2000 agree with it to within centimetres); a point copied from a Chinese map app is GCJ-02,
offset by 100–700 m, and is converted here on the way in. See docs/maps.md.

GCJ-02's forward formula is public knowledge (the Krasovsky-ellipsoid offset below); it has no
closed inverse, so `gcj02_to_wgs84` inverts it by fixed-point iteration to under a millimetre.
Two packages on PyPI do this (eviltransform, coord-convert); neither has been released since 2019,
so the twenty lines live here, tested against published reference points.
"""

import math

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as GCJ-02 uses
_EE = 0.00669342162296594323  # its first eccentricity squared


def in_china(longitude: float, latitude: float) -> bool:
    """The rough box where GCJ-02 applies; outside it GCJ-02 coordinates are WGS-84 unchanged."""
    return 72.004 <= longitude <= 137.8347 and 0.8293 <= latitude <= 55.8271


def _offset(longitude: float, latitude: float) -> tuple[float, float]:
    x, y = longitude - 105.0, latitude - 35.0
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    d_lat += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    d_lat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    d_lat += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    d_lon += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    d_lon += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    d_lon += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    rad_lat = latitude / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return d_lon, d_lat


def wgs84_to_gcj02(longitude: float, latitude: float) -> tuple[float, float]:
    if not in_china(longitude, latitude):
        return longitude, latitude
    d_lon, d_lat = _offset(longitude, latitude)
    return longitude + d_lon, latitude + d_lat


def gcj02_to_wgs84(longitude: float, latitude: float) -> tuple[float, float]:
    """The WGS-84 point whose GCJ-02 is the one given (to under a millimetre)."""
    if not in_china(longitude, latitude):
        return longitude, latitude
    lon, lat = longitude, latitude
    for _ in range(10):
        shifted_lon, shifted_lat = wgs84_to_gcj02(lon, lat)
        error_lon, error_lat = shifted_lon - longitude, shifted_lat - latitude
        lon, lat = lon - error_lon, lat - error_lat
        if abs(error_lon) < 1e-9 and abs(error_lat) < 1e-9:
            break
    return lon, lat
