from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view
from rest_framework.response import Response

from cases.schema import CONFLICT, IDEMPOTENCY_KEY_REUSED
from cases.services import CallDetails
from intake import services
from intake.serializers import CallCreateSerializer, CallSerializer
from routing.selectors import cases_for


@extend_schema(
    request=CallCreateSerializer,
    # 409: `attach_to` names a closed case; 422: an `Idempotency-Key` already used for another call.
    responses={201: CallSerializer, 409: CONFLICT, 422: IDEMPOTENCY_KEY_REUSED},
    parameters=[
        OpenApiParameter(
            "Idempotency-Key",
            location=OpenApiParameter.HEADER,
            required=False,
            description=(
                "A retry with the same key and the same call returns the first answer (header "
                "`Idempotent-Replayed: true`) and creates nothing; the same key with a different call "
                "answers 422. At most 100 characters."
            ),
        ),
        OpenApiParameter(
            "Idempotent-Replayed",
            location=OpenApiParameter.HEADER,
            response=[201],
            enum=["true"],
            description="On the answer to a retry: the first call's answer; nothing was created.",
        ),
    ],
)
@api_view(["POST"])
def calls(request):
    """Register a call: a new case, a call attached to `attach_to`, or a case answered directly."""
    serializer = CallCreateSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = dict(serializer.validated_data)
    attach_number = data.pop("attach_to")
    attach_to = None
    if attach_number:
        attach_to = cases_for(request.user).filter(number=attach_number).first()
        if attach_to is None:
            raise serializers.ValidationError(
                {"attach_to": [_("Unknown case %(number)s.") % {"number": attach_number}]}
            )
    call, created = services.call_register(
        actor=request.user,
        details=CallDetails.from_data(data),
        attach_to=attach_to,
        answer=data.get("answer"),
        idempotency_key=_idempotency_key(request),
        follow=data.get("follow", False),
        suggester_version=data.get("suggester_version"),
    )
    response = Response(CallSerializer(call).data, status=status.HTTP_201_CREATED)
    if not created:
        response["Idempotent-Replayed"] = "true"
    return response


def _idempotency_key(request):
    key = request.headers.get("Idempotency-Key", "")
    if len(key) > services.IDEMPOTENCY_KEY_MAX:
        raise serializers.ValidationError(
            {
                "Idempotency-Key": [
                    _("At most %(max)d characters; a longer key is refused, not cut.")
                    % {"max": services.IDEMPOTENCY_KEY_MAX}
                ]
            }
        )
    return key
