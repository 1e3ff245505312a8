from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view
from rest_framework.response import Response

from cases.schema import CONFLICT, IDEMPOTENCY_KEY_REUSED
from intake import services
from intake.serializers import CallCreateSerializer, CallSerializer
from routing.selectors import case_get_for, cases_for
from routing.serializers import CaseSerializer


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
        attach_to=attach_to,
        idempotency_key=_idempotency_key(request),
        **data,
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


class MergeSerializer(serializers.Serializer):
    into = serializers.CharField(help_text="the number of the case this one repeats")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


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
    survivor = services.case_merge(case=case, into=into, actor=request.user, note=serializer.validated_data["note"])
    return Response(CaseSerializer(survivor).data)


class PhoneSerializer(serializers.Serializer):
    caller_phone = serializers.CharField()


@extend_schema(request=None, responses=PhoneSerializer)
@api_view(["POST"])
def case_reveal_phone(request, number):
    """The caller's full phone number, for a role that needs it; the reveal is recorded."""
    case = case_get_for(request.user, number)
    return Response({"caller_phone": services.caller_phone_reveal(case=case, actor=request.user)})
