import math

from django.shortcuts import get_object_or_404
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import api_view
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from cases.models import Category
from cases.schema import NOT_FOUND
from grids.boundaries import SIMPLIFY, feature, grid_at
from grids.filters import RegionFilterSet
from grids.models import BoundarySet, Region
from routing.filters import UnitFilterSet
from routing.rules import route_for
from routing.selectors import regions_for
from routing.serializers import (
    MeSerializer,
    RegionSerializer,
    UnitSerializer,
)
from units.selectors import postings_for, roles_for, units_for


class RegionViewSet(viewsets.ReadOnlyModelViewSet):
    """Places the user may see: `?level=district|street|community|grid&parent=<code>&q=`."""

    serializer_class = RegionSerializer
    filterset_class = RegionFilterSet
    lookup_field = "code"

    def get_queryset(self):
        return regions_for(self.request.user).select_related("parent").order_by("code")


class UnitViewSet(viewsets.ReadOnlyModelViewSet):
    """Handling units the user may see: `?kind=&region=<code prefix>&q=`."""

    serializer_class = UnitSerializer
    filterset_class = UnitFilterSet
    lookup_field = "code"

    def get_queryset(self):
        return units_for(self.request.user).select_related("region", "parent").order_by("code")


@extend_schema(responses=MeSerializer)
@api_view(["GET"])
def me(request):
    """Who the caller is: roles, the units they work in, the grids they are posted to."""
    user = request.user
    postings = postings_for(user)
    data = {
        "username": user.username,
        "real_name": user.real_name,
        "roles": sorted(roles_for(user)),
        "units": [code for code, *_rest in postings.units],
        "grids": list(postings.grids),
    }
    return Response(MeSerializer(data).data)


class RoutingPreviewSerializer(serializers.Serializer):
    unit = serializers.CharField(allow_null=True)
    unit_name = serializers.CharField(allow_null=True)
    rule = serializers.IntegerField(allow_null=True)
    level = serializers.CharField(allow_null=True)
    explanation = serializers.CharField()


class RoutingPreviewQuery(serializers.Serializer):
    category = serializers.SlugRelatedField(slug_field="code", queryset=Category.objects.filter(is_active=True))
    grid = serializers.SlugRelatedField(slug_field="code", queryset=Region.objects.filter(level=Region.Level.GRID))


@extend_schema(parameters=[RoutingPreviewQuery], responses=RoutingPreviewSerializer)
@api_view(["GET"])
def routing_preview(request):
    """Where a case of this category in this grid would go, and why."""
    query = RoutingPreviewQuery(data=request.query_params)
    query.is_valid(raise_exception=True)
    decision = route_for(**query.validated_data)
    return Response(
        {
            "unit": decision.unit.code if decision.unit else None,
            "unit_name": decision.unit.name if decision.unit else None,
            "rule": decision.rule.pk if decision.rule else None,
            "level": decision.level,
            "explanation": str(decision.explanation),
        }
    )


# --- Places on a map (docs/maps.md) ------------------------------------------------------------------


SHAPES_MAX_AGE = 24 * 3600


class SimplifyQuery(serializers.Serializer):
    simplify = serializers.ChoiceField(
        choices=sorted(SIMPLIFY),
        default=1,
        help_text=_("level of detail: 0 as stored, 1 ≈ 5 m, 2 ≈ 20 m, 3 ≈ 100 m (smaller, for whole-district maps)"),
    )


class GeoJSONQuery(SimplifyQuery):
    parent = serializers.CharField(help_text=_("the code of the place whose places to draw"))
    level = serializers.ChoiceField(
        choices=Region.Level.choices, required=False, help_text=_("the level to draw (default: the parent's children)")
    )


def _number(value, low, high):
    if not math.isfinite(value):
        raise serializers.ValidationError(_("Give a number."))
    if not low <= value <= high:
        raise serializers.ValidationError(_("Must be between %(low)s and %(high)s.") % {"low": low, "high": high})
    return value


class LocateQuery(serializers.Serializer):
    lat = serializers.FloatField(help_text=_("latitude, WGS-84 unless crs says otherwise"))
    long = serializers.FloatField(help_text=_("longitude"))
    crs = serializers.ChoiceField(
        choices=[("wgs84", "WGS-84"), ("gcj02", "GCJ-02")],
        default="wgs84",
        help_text=_("gcj02 for a point copied from a Chinese phone map (高德, 腾讯): converted to WGS-84"),
    )

    def validate_lat(self, value):
        return _number(value, -90, 90)

    def validate_long(self, value):
        return _number(value, -180, 180)


class PlaceSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class LocateSerializer(serializers.Serializer):
    grid = PlaceSerializer()
    community = PlaceSerializer()
    street = PlaceSerializer()
    latitude = serializers.FloatField(help_text=_("the WGS-84 point looked up (converted when crs=gcj02)"))
    longitude = serializers.FloatField()


def _query(serializer_class, request):
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data


@extend_schema(parameters=[SimplifyQuery], responses={200: OpenApiTypes.OBJECT, 404: NOT_FOUND})
@api_view(["GET"])
def region_boundary(request, code):
    """A place as a GeoJSON Feature: code, name, level, area (km²), representative point and
    whether its boundary is generated (the real one not yet imported)."""
    simplify = _query(SimplifyQuery, request)["simplify"]
    region = get_object_or_404(regions_for(request.user), code=code)
    stamp = BoundarySet.stamp()
    return _cached(request, Response(feature(region, level=simplify, stamp=stamp)), stamp)


@extend_schema(parameters=[GeoJSONQuery], responses={200: OpenApiTypes.OBJECT, 404: NOT_FOUND})
@api_view(["GET"])
def regions_geojson(request):
    """The places under `parent` (its children, or all its places at `level`) the user may see, as
    a GeoJSON FeatureCollection. `?parent=210111` gives the 12 streets."""
    query = _query(GeoJSONQuery, request)
    parent = get_object_or_404(regions_for(request.user), code=query["parent"])
    levels = Region.Level.values  # from the district down
    level = query.get("level")
    if level is None:
        if parent.level == Region.Level.GRID:
            raise serializers.ValidationError({"parent": [_("A grid has no places below it.")]})
        level = levels[levels.index(parent.level) + 1]
    elif levels.index(level) <= levels.index(parent.level):
        raise serializers.ValidationError({"level": [_("Give a level below the parent's.")]})
    stamp = BoundarySet.stamp()
    regions = regions_for(request.user).filter(code__startswith=parent.code, level=level).order_by("code")
    features = [feature(region, level=query["simplify"], stamp=stamp) for region in regions]
    return _cached(request, Response({"type": "FeatureCollection", "version": stamp[0], "features": features}), stamp)


def _cached(request, response, stamp):
    """Shapes asked for with the current boundary version (`?v=`, as the pages ask) may be kept by
    the browser for a day: a new version is a new URL. Without it, they are asked for again."""
    if request.query_params.get("v") == str(stamp[0]):
        patch_cache_control(response, private=True, max_age=SHAPES_MAX_AGE)
    else:
        patch_cache_control(response, private=True, no_cache=True)
    return response


@extend_schema(parameters=[LocateQuery], responses={200: LocateSerializer, 404: NOT_FOUND})
@api_view(["GET"])
def regions_locate(request):
    """The grid holding a point, with its community and street; 404 outside the district (or
    outside the user's area)."""
    query = _query(LocateQuery, request)
    code, longitude, latitude = grid_at(query["long"], query["lat"], crs=query["crs"])
    if code is None:
        raise NotFound(
            _("The point (%(lat)s, %(long)s) is not in 苏家屯区.") % {"lat": query["lat"], "long": query["long"]}
        )
    places = {r.code: r for r in regions_for(request.user).filter(code__in=[code[:9], code[:12], code])}
    if code not in places:
        raise NotFound(_("The point lies in a grid outside your area."))
    data = {
        level: {"code": places[c].code, "name": places[c].name}
        for level, c in (("grid", code), ("community", code[:12]), ("street", code[:9]))
    }
    return Response(LocateSerializer({**data, "latitude": latitude, "longitude": longitude}).data)
