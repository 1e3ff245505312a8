"""The case API: `/api/v1/cases/` (the list and one case, its timeline) and every action on a
case, `POST /api/v1/cases/<number>/<action>/`. Each action is the stage's service behind the same
door (`routing.doors.case_api_action`): fetch the case in scope, validate with the stage's
serializer, make the move, answer the case."""

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action, api_view
from rest_framework.response import Response

from cases import lifecycle
from cases.schema import CONFLICT
from escalation import services as escalation
from feedback import services as feedback_services
from feedback.serializers import CallbackSerializer, CloseSerializer, ReopenSerializer, VerifySerializer
from handling import services as handling_services
from handling.serializers import (
    ContactSerializer,
    NoteSerializer,
    ReportSerializer,
    ResolveSerializer,
)
from intake import services as intake_services
from intake.serializers import MergeSerializer, PhoneSerializer
from routing import dispatch, reclassify
from routing.doors import case_api_action
from routing.filters import CaseFilterSet
from routing.models import Assignment
from routing.selectors import case_get_for, cases_for
from routing.serializers import (
    AssistSerializer,
    CaseEventSerializer,
    CaseSerializer,
    DispatchSerializer,
    EmptySerializer,
    ExtendSerializer,
    ExtensionDecisionSerializer,
    ReclassifyPreviewSerializer,
    ReclassifySerializer,
    ReturnSerializer,
    SetDeadlineSerializer,
    UrgeSerializer,
    active_leads,
)


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
        events = lifecycle.case_events(case).select_related("actor").order_by("at", "id")
        page = self.paginate_queryset(events)
        return self.get_paginated_response(CaseEventSerializer(page, many=True).data)


# --- routing: dispatch, sign-for, return, calling in, extensions, supervision ---

case_dispatch = case_api_action(DispatchSerializer, dispatch.case_dispatch)
case_redispatch = case_api_action(
    DispatchSerializer, lambda **kwargs: dispatch.case_dispatch(redispatch=True, **kwargs)
)
case_sign = case_api_action(EmptySerializer, dispatch.case_sign)
case_return = case_api_action(ReturnSerializer, dispatch.case_return)
case_assist = case_api_action(AssistSerializer, dispatch.case_assist)
case_extend = case_api_action(ExtendSerializer, dispatch.extension_request)
case_extend_decide = case_api_action(ExtensionDecisionSerializer, dispatch.extension_decide)


def _case_reclassify(*, case, preview, seen_category=None, seen_grid=None, **data):
    """改分类, 改网格; with `preview`, what it would do, changing nothing.

    Without `seen_category`/`seen_grid` the case as this request read it is what was seen: of two
    requests at once, the one that locks the case second finds it changed and is refused (409)."""
    data.update(case=case, seen_category=seen_category or case.category.code, seen_grid=seen_grid or case.grid_id)
    if preview:
        return Response(ReclassifyPreviewSerializer(reclassify.reclassify_preview(**data)).data)
    return reclassify.case_reclassify(**data)


case_reclassify = case_api_action(
    ReclassifySerializer,
    _case_reclassify,
    answer=PolymorphicProxySerializer(
        component_name="ReclassifyAnswer",
        serializers=[CaseSerializer, ReclassifyPreviewSerializer],
        resource_type_field_name=None,
        many=False,
    ),
)


# 督办: a supervising unit urges the lead unit or gives it a new resolution deadline.
case_urge = case_api_action(UrgeSerializer, escalation.case_urge)
case_set_deadline = case_api_action(SetDeadlineSerializer, escalation.case_set_deadline)


# --- handling ---

case_contact = case_api_action(ContactSerializer, handling_services.case_contact)
case_note = case_api_action(NoteSerializer, handling_services.case_note)
case_resolve = case_api_action(ResolveSerializer, handling_services.case_resolve)
case_report = case_api_action(ReportSerializer, handling_services.assist_report)

# --- the end of the loop ---

case_callback = case_api_action(CallbackSerializer, feedback_services.case_callback)
case_verify = case_api_action(VerifySerializer, feedback_services.case_verify)
case_reopen = case_api_action(ReopenSerializer, feedback_services.case_reopen)


def _case_close(*, case, actor, reason, note):
    """The API's one closing door: the closing move the lifecycle allows from the case's status
    (an exemption once resolved; as no real request before a unit has it)."""
    if lifecycle.is_allowed("exempt", case.status):
        return feedback_services.case_exempt(case=case, actor=actor, reason=reason, note=note)
    return feedback_services.case_close_invalid(case=case, actor=actor, reason=reason, note=note)


case_close = case_api_action(CloseSerializer, _case_close)


# --- intake ---


@extend_schema(request=MergeSerializer, responses={200: CaseSerializer, 409: CONFLICT})
@api_view(["POST"])
def case_merge(request, number):
    """A dispatcher merges this case into the case it repeats; answers the surviving case."""
    case = case_get_for(request.user, number)
    serializer = MergeSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    into = cases_for(request.user).filter(number=serializer.validated_data["into"]).first()
    if into is None:
        raise serializers.ValidationError(
            {"into": [_("Unknown case %(number)s.") % {"number": serializer.validated_data["into"]}]}
        )
    survivor = intake_services.case_merge(
        case=case, into=into, actor=request.user, note=serializer.validated_data["note"]
    )
    return Response(CaseSerializer(survivor).data)


@extend_schema(request=None, responses=PhoneSerializer)
@api_view(["POST"])
def case_reveal_phone(request, number):
    """The caller's full phone number, for a role that needs it; the reveal is recorded."""
    case = case_get_for(request.user, number)
    return Response({"caller_phone": intake_services.caller_phone_reveal(case=case, actor=request.user)})
