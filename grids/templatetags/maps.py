"""{% map_config %}: what every map on a page needs to know, for templates/maps/_assets.html."""

from django import template
from django.conf import settings
from django.utils.translation import gettext

from grids.models import BoundarySet

register = template.Library()


@register.simple_tag(takes_context=True)
def map_config(context):
    # A page that has read the boundaries' version already says it (`boundary_version`).
    version = context.get("boundary_version")
    return {
        "tiles": settings.MAP_TILE_URL,
        "subdomains": settings.MAP_TILE_SUBDOMAINS,
        "attribution": settings.MAP_TILE_ATTRIBUTION,
        "maxZoom": settings.MAP_TILE_MAX_ZOOM,
        # Part of every boundary URL, so a browser's cached shapes are dropped when they change.
        "version": BoundarySet.current() if version is None else version,
        # Shown under every map that draws a generated boundary (static/js/maps.js).
        "generatedNote": gettext("The boundaries of streets, communities and grids are generated, not surveyed."),
    }
