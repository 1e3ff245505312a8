"""The work-order door: an integrating system (the city's 12345 platform) sends its work orders and
reads their state (docs/integrations.md, "Work orders"). Calls carry an API key with the
`orders` scope of the system named in the URL; every call is recorded (`integrations.doors`)."""

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from cases.models import Case, CaseEvent
from cases.schema import NOT_FOUND, ErrorSerializer
from cases.services import CallDetails
from integrations.doors import identified, recorded
from integrations.models import ApiKey, Inbound
from integrations.serializers import OrderAnswerSerializer, OrderSerializer, OrderStateSerializer, order_payload
from integrations.services import KeyRefused, inbound_receive, key_check
from routing.models import Assignment

KEY_HEADER = OpenApiParameter(
    "X-Api-Key",
    location=OpenApiParameter.HEADER,
    required=False,
    description="The system's API key with the `orders` scope; or send it as `Authorization: Bearer <key>`.",
)
REFUSED = OpenApiResponse(
    ErrorSerializer,
    description="No key, a key unknown or revoked, of another system or jurisdiction, or without the orders scope.",
)


def _key_for(request, system) -> ApiKey:
    """The request's key, if it may send work orders as `system`; 403 otherwise."""
    header = request.headers.get("Authorization", "")
    raw = header[7:].strip() if header[:7].lower() == "bearer " else request.headers.get("X-Api-Key", "").strip()
    try:
        key = key_check(raw, ApiKey.Scope.ORDERS)
    except KeyRefused as refused:
        raise exceptions.PermissionDenied(str(refused)) from refused
    identified(request, key)
    if key.system.name != system:
        raise exceptions.PermissionDenied(_("This API key is not for the system %(system)s.") % {"system": system})
    return key


def _state(inbound) -> dict:
    """What the sender reads about its order: ours once it is a case, else held or refused."""
    case = inbound.case
    answer = {
        "id": inbound.external_id,
        "number": None,
        "status": inbound.state,
        "status_text": str(inbound.get_state_display()),
        "reason": inbound.reason,
        "received_at": inbound.received_at,
        "deadline": inbound.deadline,
        "category": None,
        "grid": None,
        "unit": None,
        "due": None,
        "result": None,
        "verdict": None,
        "closed_at": None,
        "closure_reason": "",
    }
    if case is None:
        return answer
    lead = (
        Assignment.objects.filter(case=case, role=Assignment.Role.LEAD)
        .exclude(state=Assignment.State.WITHDRAWN)
        .select_related("unit")
        .order_by("-id")
        .first()
    )
    events = {
        event.action: event
        for event in CaseEvent.objects.filter(case=case, action__in=("resolve", "callback")).order_by("at", "id")
    }  # the last of each kind
    resolve, callback = events.get("resolve"), events.get("callback")
    answer.update(
        number=case.number,
        status=case.status,
        status_text=str(case.get_status_display()),
        category={"code": case.category.code, "name": case.category.name},
        grid={"code": case.grid_id, "name": case.grid.name},
        unit=lead.unit.name if lead else None,
        due=lead.resolve_due if lead else None,
        result=resolve.note if resolve and case.status in (Case.Status.RESOLVED, Case.Status.CLOSED) else None,
        verdict=(
            {name: callback.data[name] for name in ("reached", "resolved", "satisfaction") if name in callback.data}
            | {"at": callback.at}
            if callback
            else None
        ),
        closed_at=case.closed_at,
        closure_reason=case.closure_reason,
    )
    return answer


def _answer(inbound, *, duplicate):
    data = OrderAnswerSerializer({**_state(inbound), "duplicate": duplicate}).data
    return Response(data, status=status.HTTP_200_OK if duplicate else status.HTTP_201_CREATED)


def _orders(system):
    return Inbound.objects.filter(system=system, kind=Inbound.Kind.ORDER).select_related(
        "case", "case__category", "case__grid"
    )


@recorded
@extend_schema(
    request=OrderSerializer,
    responses={201: OrderAnswerSerializer, 200: OrderAnswerSerializer, 403: REFUSED},
    parameters=[KEY_HEADER],
    auth=[],
)
@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
def orders(request, system):
    """Send a work order. A new id answers 201 with our case number (or `held`, with the reason,
    when its category or place is unknown: a dispatcher places it). An id sent before answers 200
    with that order's state and changes nothing, whatever the body says."""
    key = _key_for(request, system)
    body = request.data if isinstance(request.data, dict) else {}
    earlier_id = body.get("id")
    if isinstance(earlier_id, str) and earlier_id.strip():
        earlier = _orders(key.system).filter(external_id=earlier_id.strip()).first()
        if earlier is not None:
            return _answer(earlier, duplicate=True)
    serializer = OrderSerializer(data=request.data, system=key.system)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    details = None
    if not data["reasons"]:
        caller = data.get("caller") or {}
        point = data["point"] or (None, None)
        details = CallDetails(
            channel=data.get("channel") or key.system.channel,
            description=data["text"],
            category=data["category_found"],
            grid=data["grid_found"],
            address=data["address"],
            latitude=point[0],
            longitude=point[1],
            caller_name=caller.get("name", ""),
            caller_phone=caller.get("phone", ""),
            caller_confidential=caller.get("confidential", False),
        )
    inbound, created = inbound_receive(
        system=key.system,
        kind=Inbound.Kind.ORDER,
        external_id=data["id"],
        payload=order_payload(data, key.system),
        details=details,
        reason=" ".join(data["reasons"]),
        deadline=data["deadline"],
    )
    return _answer(_orders(key.system).get(pk=inbound.pk), duplicate=not created)


@recorded
@extend_schema(responses={200: OrderStateSerializer, 403: REFUSED, 404: NOT_FOUND}, parameters=[KEY_HEADER], auth=[])
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def order(request, system, external_id):
    """A work order's state now: our case number and status, the lead unit and its deadline, the
    result once resolved, the resident's verdict, when it closed."""
    key = _key_for(request, system)
    inbound = _orders(key.system).filter(external_id=external_id).first()
    if inbound is None:
        raise Http404(_("No work order %(id)s from %(system)s.") % {"id": external_id, "system": system})
    return Response(OrderStateSerializer(_state(inbound)).data)
