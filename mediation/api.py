"""评理说事 over the API (docs/mediation.md, "Mediation"): `POST /api/v1/cases/<number>/mediate/`
sends a case to a point; `GET/POST /api/v1/mediations/` lists the caller's mediations and opens
one for a walk-in; `GET /api/v1/mediations/<id>/` shows one (parties' phones masked); each move is
`POST /api/v1/mediations/<id>/<action>/`, the service of `mediation/services.py` behind one door
(`_move_door`): fetch in scope (404 alike for missing and not yours), validate, move, answer the
mediation. A move its state does not allow answers 409, a person who may not 403."""

from django.db.models import Prefetch
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view
from rest_framework.response import Response
from rest_framework.settings import api_settings

from cases.schema import CONFLICT, NOT_FOUND, PAGE_PARAMETERS, paginated
from mediation import services
from mediation.models import Mediation, MediationEvent, Mediator, Session
from mediation.selectors import mediation_get_for, mediations_for
from mediation.serializers import (
    AgreementInputSerializer,
    MediateSerializer,
    MediationDetailSerializer,
    MediationNoteSerializer,
    MediationOptionalNoteSerializer,
    MediationSerializer,
    OpenSerializer,
    PartyPhoneSerializer,
    ReferSerializer,
    ScheduleSerializer,
    SessionInputSerializer,
    SignSerializer,
)
from routing.selectors import case_get_for

# Ids in the path are matched as text, so that anything else answers the API's 404 (not the HTML
# one of a route that does not match).
MEDIATION_ID = OpenApiParameter("mediation", OpenApiTypes.INT, OpenApiParameter.PATH, description="the mediation's id")
PARTY_ID = OpenApiParameter("party", OpenApiTypes.INT, OpenApiParameter.PATH, description="the party's id")


def _id(text) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        raise Http404(_("No such mediation."))
    return int(text)


def _detail(user, pk) -> Mediation:
    mediation = (
        mediations_for(user)
        .select_related("point", "case", "agreement", "referred_up")
        .prefetch_related(
            "parties",
            Prefetch("sessions", queryset=Session.objects.prefetch_related("mediators", "parties_present")),
            Prefetch("events", queryset=MediationEvent.objects.select_related("actor")),
        )
        .filter(pk=pk)
        .first()
    )
    if mediation is None:
        raise Http404(_("No such mediation."))
    return mediation


class StateQuerySerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=Mediation.State.choices, required=False, help_text="only in this state")


@extend_schema(request=MediateSerializer, responses={201: MediationSerializer, 404: NOT_FOUND, 409: CONFLICT})
@api_view(["POST"])
def case_mediate(request, number):
    """A dispatcher sends an open case not yet resolved, or its lead unit a case it holds, to a
    mediation point; answers the new mediation (its `id`). A resolved or closed case: 409."""
    case = case_get_for(request.user, number)
    # Who, before the body: a role that may never send a case is told so (403), not about its input.
    services.check_may_send(request.user, case)
    body = MediateSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    mediation = services.case_mediate(case=case, actor=request.user, **body.validated_data)
    return Response(MediationSerializer(mediation).data, status=status.HTTP_201_CREATED)


@extend_schema(
    operation_id="v1_mediations_list",
    parameters=[StateQuerySerializer, *PAGE_PARAMETERS],
    responses={200: paginated(MediationSerializer, "PaginatedMediationList"), 404: NOT_FOUND},
    methods=["GET"],
)
@extend_schema(
    operation_id="v1_mediations_create",
    request=OpenSerializer,
    responses={201: MediationDetailSerializer},
    methods=["POST"],
)
@api_view(["GET", "POST"])
def mediations(request):
    """GET: the caller's mediations (their points'; all of them for dispatchers and officials),
    newest first, `?state=`. POST: a walk-in at the caller's point: `point`, `kind`, `parties`
    (both sides: name, phone, address), `facts`."""
    if request.method == "POST":
        body = OpenSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        opened = services.mediation_open(actor=request.user, **body.validated_data)
        return Response(MediationDetailSerializer(_detail(request.user, opened.pk)).data, status=201)
    query = StateQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    rows = mediations_for(request.user).select_related("point", "case", "referred_up").order_by("-created_at", "-id")
    if query.validated_data.get("state"):
        rows = rows.filter(state=query.validated_data["state"])
    paginator = api_settings.DEFAULT_PAGINATION_CLASS()
    page = paginator.paginate_queryset(rows, request)
    return paginator.get_paginated_response(MediationSerializer(page, many=True).data)


@extend_schema(parameters=[MEDIATION_ID], responses={200: MediationDetailSerializer, 404: NOT_FOUND})
@api_view(["GET"])
def mediation(request, mediation):
    """One mediation: its state, point, kind, facts, parties (phones masked), sessions, agreement,
    events, and the moves its state allows."""
    return Response(MediationDetailSerializer(_detail(request.user, _id(mediation))).data)


def _mediators(mediation, ids, field="mediators") -> list[Mediator]:
    found = list(Mediator.objects.filter(point=mediation.point, pk__in=ids))
    if len(found) != len(set(ids)):
        raise serializers.ValidationError({field: [_("Name the point's own mediators by their ids.")]})
    return found


def _parties(mediation, ids) -> list:
    found = list(mediation.parties.filter(pk__in=ids))
    if len(found) != len(set(ids)):
        raise serializers.ValidationError({"present": [_("Name this mediation's parties by their ids.")]})
    return found


def _schedule(mediation, actor, data):
    return services.mediation_schedule(
        mediation=mediation,
        actor=actor,
        at=data["at"],
        place=data["place"],
        mediators=_mediators(mediation, data["mediators"]),
    )


def _session(mediation, actor, data):
    return services.mediation_session(
        mediation=mediation,
        actor=actor,
        present=_parties(mediation, data["present"]),
        mediators=_mediators(mediation, data["mediators"]),
        statements=data["statements"],
        reasoning=data["reasoning"],
        record=data["record"],
    )


def _body(request):
    """A multipart body without a single part is malformed, not an empty form."""
    if request.content_type.startswith("multipart/") and not request.data and not request.FILES:
        raise serializers.ValidationError({"non_field_errors": [_("The multipart body has no part.")]})
    return request.data


def _move_door(serializer_class, run, doc):
    """`POST /api/v1/mediations/<id>/<action>/`: `run(mediation, actor, validated data)` makes the
    move; the answer is the mediation as the caller now sees it (after a referral up, the referred
    one, with `referred_up` naming the higher point's)."""

    @extend_schema(
        request=serializer_class,
        parameters=[MEDIATION_ID],
        responses={200: MediationDetailSerializer, 404: NOT_FOUND, 409: CONFLICT},
        description=doc,
    )
    @api_view(["POST"])
    def view(request, mediation):
        found = mediation_get_for(request.user, _id(mediation))
        body = serializer_class(data=_body(request))
        body.is_valid(raise_exception=True)
        run(found, request.user, body.validated_data)
        return Response(MediationDetailSerializer(_detail(request.user, found.pk)).data)

    return view


mediation_schedule = _move_door(
    ScheduleSerializer, _schedule, "Set the 评理会: `at`, `place`, `mediators` (ids of the point's mediators)."
)
mediation_session = _move_door(
    SessionInputSerializer,
    _session,
    "Record the 评理会 held: `present` (every party's id), `mediators`, `statements`, `reasoning` "
    "(feeling, morality, law), `record`. Refused without a mediator and both sides present.",
)
mediation_agreement = _move_door(
    AgreementInputSerializer,
    lambda m, actor, data: services.mediation_agreement(mediation=m, actor=actor, **data),
    "The 调解协议 of a mediation in session: `terms`, `follow_up` dates. A mediation of a case resolves "
    "the case with the terms as its result.",
)
mediation_no_agreement = _move_door(
    MediationNoteSerializer,
    lambda m, actor, data: services.mediation_no_agreement(mediation=m, actor=actor, **data),
    "No agreement: `note`. A case stays with its lead unit, the record on its timeline.",
)
mediation_sign = _move_door(
    SignSerializer,
    lambda m, actor, data: services.mediation_sign(mediation=m, actor=actor, **data),
    "The signed agreement uploaded (multipart `scan`: a PDF or a photo); the follow-up runs.",
)
mediation_break = _move_door(
    MediationNoteSerializer,
    lambda m, actor, data: services.mediation_break(mediation=m, actor=actor, **data),
    "A party broke the agreement (`note`): the mediation is taken up again.",
)
mediation_refer = _move_door(
    ReferSerializer,
    lambda m, actor, data: services.mediation_refer(mediation=m, actor=actor, **data),
    "Up a level (`level`: street or district; the higher point opens its own mediation and the case's "
    "deadline is extended) or out (`to`: the court, a department; an outcome). Beyond the district: refused.",
)
mediation_close = _move_door(
    MediationOptionalNoteSerializer,
    lambda m, actor, data: services.mediation_close(mediation=m, actor=actor, **data),
    "Close the mediation (after the follow-up, no agreement, or a referral).",
)


@extend_schema(request=None, parameters=[MEDIATION_ID, PARTY_ID], responses={200: PartyPhoneSerializer, 404: NOT_FOUND})
@api_view(["POST"])
def party_reveal_phone(request, mediation, party):
    """A party's full phone number, for who works the mediation (or a dispatcher); logged."""
    found = mediation_get_for(request.user, _id(mediation))
    person = found.parties.filter(pk=_id(party)).first()
    if person is None:
        raise Http404(_("No such party."))
    return Response({"phone": services.party_phone_reveal(party=person, actor=request.user)})
