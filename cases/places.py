"""Where something happened: a grid chosen, a point, or both, checked against the grids' shapes.
Intake's doors (the call form, the API, the residents' page, the integrations) and the
dispatcher's reclassification (`routing.reclassify`) share it, so a point is judged alike
whichever door it comes through."""

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from cases.errors import InvalidInput
from grids.boundaries import grid_at
from grids.models import Region


@dataclass(frozen=True)
class CallPlace:
    """Where a call happened: its grid, and its point in WGS-84 (None when none was given)."""

    grid: Region
    latitude: Decimal | None = None
    longitude: Decimal | None = None


class PlaceMismatch(InvalidInput):
    """The point given lies in another grid than the grid chosen. `located` is that grid."""

    def __init__(self, *, chosen, located):
        super().__init__(
            _("The point lies in %(located)s (%(located_code)s), not in the grid chosen, %(chosen)s.")
            % {"located": located.name, "located_code": located.code, "chosen": chosen.name},
            "grid",
        )
        self.chosen, self.located = chosen, located


COORDINATE_STEP = Decimal("0.000001")  # the 6 decimals latitude and longitude are stored with


def call_place(*, grid=None, latitude=None, longitude=None, crs="wgs84", confirm_place=False) -> CallPlace:
    """Where a call happened, from the grid chosen, a point, or both; the doors (page, API) share it.

    - A point alone: its grid is the one holding it (grids.boundaries.grid_at).
    - A point is stored in WGS-84: one in GCJ-02 (`crs="gcj02"`, copied from 高德 or 腾讯 maps,
      which shift every point by a few hundred metres) is converted first.
    - A point outside the district is refused (InvalidInput on `latitude`), even with a grid.
    - A grid and a point in another grid: refused (PlaceMismatch, on `grid`) unless
      `confirm_place`, and then the grid chosen is kept, with the point. Never a silent choice.
    - Neither: refused, on `grid`.
    Who may log a call in the grid found is still `call_register`'s check.
    """
    if (latitude is None) != (longitude is None):
        raise InvalidInput(
            _("Give both the latitude and the longitude, or neither."), "longitude" if longitude is None else "latitude"
        )
    if latitude is None:
        if grid is None:
            raise InvalidInput(_("Choose the grid where it happened, or give its coordinates."), "grid")
        return CallPlace(grid)
    code, wgs_longitude, wgs_latitude = grid_at(float(longitude), float(latitude), crs=crs)
    point = {"latitude": latitude, "longitude": longitude}
    if crs == "gcj02":
        point = {
            "latitude": Decimal(wgs_latitude).quantize(COORDINATE_STEP),
            "longitude": Decimal(wgs_longitude).quantize(COORDINATE_STEP),
        }
    if code is None:
        if not _boundaries_known():
            # No boundaries were ever generated or imported: nothing to check the point against,
            # so it is kept as a note beside the grid chosen (as before there were maps).
            if grid is not None:
                return CallPlace(grid, **point)
            raise InvalidInput(_("The grids' boundaries are not loaded yet: choose the grid."), "grid")
        raise InvalidInput(
            _("The point (%(lat)s, %(long)s) is not in 苏家屯区.") % {"lat": latitude, "long": longitude}, "latitude"
        )
    if grid is not None and grid.code == code:
        return CallPlace(grid, **point)
    located = Region.objects.filter(code=code, level=Region.Level.GRID).first()
    if located is None:  # deleted since the index was built: the next question rebuilds it
        raise InvalidInput(_("The grids' boundaries are changing: choose the grid."), "grid")
    if grid is None:
        return CallPlace(located, **point)
    if confirm_place:
        return CallPlace(grid, **point)
    raise PlaceMismatch(chosen=grid, located=located)


def _boundaries_known() -> bool:
    return Region.objects.filter(level=Region.Level.GRID, boundary__isnull=False).exists()
