from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import api_view
from rest_framework.response import Response

from cases.models import Category
from grids.filters import RegionFilterSet
from grids.models import Region
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
