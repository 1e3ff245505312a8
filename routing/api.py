from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action, api_view
from rest_framework.response import Response

from cases.filters import CaseFilterSet
from grids.filters import RegionFilterSet
from routing.filters import UnitFilterSet
from routing.selectors import case_get_for, cases_for, postings_for, regions_for, roles_for, units_for
from routing.serializers import (
    CaseEventSerializer,
    CaseSerializer,
    MeSerializer,
    RegionSerializer,
    UnitSerializer,
)


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


class CaseViewSet(viewsets.ReadOnlyModelViewSet):
    """Cases the user may read, filtered like the case list page. Lifecycle actions are POSTs to
    `/cases/<number>/<action>/`, never a PATCH of `status`."""

    serializer_class = CaseSerializer
    filterset_class = CaseFilterSet
    lookup_field = "number"

    def get_queryset(self):
        return cases_for(self.request.user).select_related("category", "grid", "merged_into").order_by("-created_at")

    def get_object(self):
        return case_get_for(self.request.user, self.kwargs["number"])

    @extend_schema(responses=CaseEventSerializer(many=True))
    @action(detail=True, methods=["get"])
    def events(self, request, number=None):
        case = self.get_object()
        events = case.events.select_related("actor").order_by("at", "id")
        page = self.paginate_queryset(events)
        return self.get_paginated_response(CaseEventSerializer(page, many=True).data)
