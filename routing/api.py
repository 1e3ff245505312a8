from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action, api_view
from rest_framework.response import Response

from cases.models import Category
from cases.schema import CONFLICT
from grids.filters import RegionFilterSet
from grids.models import Region
from routing import dispatch, escalation
from routing.filters import CaseFilterSet, UnitFilterSet
from routing.models import Assignment, ReturnReason, Unit
from routing.rules import route_for
from routing.selectors import case_get_for, cases_for, postings_for, regions_for, roles_for, units_for
from routing.serializers import (
    CaseEventSerializer,
    CaseSerializer,
    MeSerializer,
    RegionSerializer,
    UnitSerializer,
    active_leads,
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
        return (
            cases_for(self.request.user)
            .select_related("category", "grid", "merged_into")
            .prefetch_related(
                Prefetch("assignments", queryset=active_leads(Assignment.objects.all()), to_attr="active_leads")
            )
            .order_by("-created_at")
        )

    def get_object(self):
        return case_get_for(self.request.user, self.kwargs["number"])

    # The case list's filters do not apply to a timeline; its pages do.
    @extend_schema(
        description="The case's timeline, oldest first.", filters=False, responses=CaseEventSerializer(many=True)
    )
    @action(detail=True, methods=["get"])
    # `format`: the router also serves /events.json, and passes the suffix.
    def events(self, request, number=None, format=None):
        case = self.get_object()
        events = case.events.select_related("actor").order_by("at", "id")
        page = self.paginate_queryset(events)
        return self.get_paginated_response(CaseEventSerializer(page, many=True).data)


class UnitCodeField(serializers.SlugRelatedField):
    default_error_messages = {"does_not_exist": _("Unknown unit {value}."), "invalid": _("Give a unit code as text.")}

    def __init__(self, **kwargs):
        super().__init__(slug_field="code", queryset=Unit.objects.filter(is_active=True), **kwargs)


class DispatchSerializer(serializers.Serializer):
    unit = UnitCodeField()
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ReturnSerializer(serializers.Serializer):
    """`reason` is one of the listed codes with a `note`; a free-text `reason` alone (the
    integration contract's form) is taken as reason `other` with that text."""

    reason = serializers.CharField(max_length=2000)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    def validate(self, data):
        if data["reason"] not in ReturnReason.values:
            data["note"] = data["note"] or data["reason"]
            data["reason"] = ReturnReason.OTHER
        if not data["note"].strip():
            raise serializers.ValidationError({"note": [_("Say why the case is returned.")]})
        return data


class AssistSerializer(serializers.Serializer):
    unit = UnitCodeField()
    note = serializers.CharField(max_length=2000)
    due = serializers.DateTimeField(required=False, allow_null=True, default=None)


class ExtendSerializer(serializers.Serializer):
    until = serializers.DateTimeField()
    reason = serializers.CharField(max_length=2000)


class ExtensionDecisionSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


def _case_answer(request, case):
    case = case_get_for(request.user, case.number)
    return Response(CaseSerializer(case, context={"request": request}).data)


def case_action(serializer_class, run):
    """A lifecycle action endpoint: fetch in scope, validate, call the service, answer the case."""

    @extend_schema(request=serializer_class, responses={200: CaseSerializer, 409: CONFLICT})
    @api_view(["POST"])
    def view(request, number):
        case = case_get_for(request.user, number)
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        run(case=case, actor=request.user, **serializer.validated_data)
        return _case_answer(request, case)

    return view


class EmptySerializer(serializers.Serializer):
    pass


case_dispatch = case_action(DispatchSerializer, dispatch.case_dispatch)
case_redispatch = case_action(DispatchSerializer, lambda **kwargs: dispatch.case_dispatch(redispatch=True, **kwargs))
case_sign = case_action(EmptySerializer, dispatch.case_sign)
case_return = case_action(ReturnSerializer, dispatch.case_return)
case_assist = case_action(AssistSerializer, dispatch.case_assist)
case_extend = case_action(ExtendSerializer, dispatch.extension_request)
case_extend_decide = case_action(ExtensionDecisionSerializer, dispatch.extension_decide)


class UrgeSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000)


class SetDeadlineSerializer(serializers.Serializer):
    until = serializers.DateTimeField()
    reason = serializers.CharField(max_length=2000)


# 督办: a supervising unit urges the lead unit or gives it a new resolution deadline.
case_urge = case_action(UrgeSerializer, escalation.case_urge)
case_set_deadline = case_action(SetDeadlineSerializer, escalation.case_set_deadline)


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
