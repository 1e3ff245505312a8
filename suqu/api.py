"""What every API answer shares: errors carry `code` and `detail`, and name each bad field (what
every door accepts is in suqu/parsers.py)."""

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

from cases.errors import IdempotencyKeyReused, InvalidInput, NotPermitted
from cases.lifecycle import TransitionNotAllowed


class Conflict(exceptions.APIException):
    status_code = 409
    default_code = "transition_not_allowed"


class Unprocessable(exceptions.APIException):
    status_code = 422
    default_code = "idempotency_key_reused"


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "too_large"


def exception_handler(exc, context):
    """DRF's handler, with every error body shaped as {"code", "detail"[, "errors"]}.

    Domain errors map here, once for the whole API: a move the lifecycle forbids is 409, an
    action the actor's postings do not allow is 403, input the service refuses is 400 naming the
    field. A validation error keeps DRF's per-field messages under `errors` and sums them up in
    `detail`, so a client can show one line or mark each field.
    """
    if isinstance(exc, RequestDataTooBig | TooManyFieldsSent):
        # Raised by Django as the body is read; without this it would be Django's HTML 400 page.
        exc = PayloadTooLarge(
            _("The request body is larger than %(limit)d bytes.") % {"limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
        )
    elif isinstance(exc, TransitionNotAllowed):
        exc = Conflict(str(exc))
    elif isinstance(exc, IdempotencyKeyReused):
        exc = Unprocessable(str(exc))
    elif isinstance(exc, NotPermitted):
        exc = exceptions.PermissionDenied(str(exc))
    elif isinstance(exc, InvalidInput):
        exc = exceptions.ValidationError({exc.field or "non_field_errors": [str(exc)]})
    elif isinstance(exc, Http404):
        # Django's own (a selector's "no such case, or not yours"): DRF answers it, but without a code.
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = {"code": "invalid", "detail": _summary(errors), "errors": errors}
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        response.data = {"code": codes if isinstance(codes, str) else exc.default_code, "detail": str(exc.detail)}
    return response


def _summary(errors):
    parts = []
    for field, messages in errors.items():
        if isinstance(messages, dict):
            # A nested field's messages (a list each): "caller: phone: <message>".
            messages = [
                f"{key}: {' '.join(str(m) for m in value) if isinstance(value, list) else value}"
                for key, value in messages.items()
            ]
        elif not isinstance(messages, list):
            messages = [messages]
        text = " ".join(str(m) for m in messages)
        parts.append(text if field == "non_field_errors" else f"{field}: {text}")
    return "; ".join(parts)
