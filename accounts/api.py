"""The API's sign-in: a token for a username and password, valid for API_TOKEN_DAYS."""

from django.conf import settings
from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from accounts.services import token_expires_at, token_issue


class LockedOut(exceptions.Throttled):
    """429 with Retry-After: the username is locked out (django-axes), whatever the password."""

    default_code = "locked_out"


class CredentialsSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    expires = serializers.DateTimeField(help_text=gettext_lazy("After this moment the token is refused."))


@extend_schema(request=CredentialsSerializer, responses=TokenSerializer, auth=[])
@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
def token_obtain(request):
    """A token for integrations: the same one until it expires, then a new one."""
    serializer = CredentialsSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    # The request goes along: django-axes counts failures per username and locks it out.
    user = authenticate(request=request, **serializer.validated_data)
    if user is None and getattr(request, "axes_locked_out", False):
        raise LockedOut(
            wait=settings.AXES_COOLOFF_TIME.total_seconds(),
            detail=_("Too many failed sign-ins for this username: it is locked for a while."),
        )
    if user is None:
        raise exceptions.ValidationError(
            {"non_field_errors": [_("Unable to log in with the username and password given.")]}
        )
    token = token_issue(user=user)
    return Response(TokenSerializer({"token": token.key, "expires": token_expires_at(token)}).data)
