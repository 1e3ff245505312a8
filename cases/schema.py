"""How the OpenAPI schema (`/api/schema/`) describes what every operation may answer besides its
success: the error answers, all shaped by `suqu.api.exception_handler` (and by the input guard of
`suqu.middleware`, which answers in the same shape before a view runs).

Integrators generate clients from the schema, and `tests/reliability/test_api_schema.py` holds
every answer to it, so an answer the schema does not list is a bug on one side or the other.
"""

from drf_spectacular import openapi
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from cases.pagination import Pagination


class ErrorSerializer(serializers.Serializer):
    """Every error answer of the API."""

    code = serializers.CharField(
        help_text="what went wrong, for a program: invalid, not_found, permission_denied, not_authenticated, "
        "authentication_failed, transition_not_allowed, too_large, unavailable, …"
    )
    detail = serializers.CharField(help_text="what went wrong, for a person (in the caller's language)")
    errors = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text="only when the input was refused (400): the messages of each field by name, a list of "
        "texts (a list field or a nested field has them by position or by sub-field)",
    )


# A view answers the errors its own logic gives (a lifecycle conflict, 409; a place outside the
# caller's area, 404) by listing them in its `@extend_schema(responses=…)` with these.
CONFLICT = OpenApiResponse(ErrorSerializer, description="The case's state does not allow this action now.")
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such object, or not one the caller may see.")
IDEMPOTENCY_KEY_REUSED = OpenApiResponse(
    ErrorSerializer, description="The Idempotency-Key was already used for a different request."
)

# What any operation may answer whatever its own logic, added by `AutoSchema` below.
INVALID = OpenApiResponse(
    ErrorSerializer,
    description="Input refused: a bad field or query parameter (named in `errors`), or text that cannot be "
    "stored (a NUL character, an unpaired surrogate).",
)
FORBIDDEN = OpenApiResponse(
    ErrorSerializer,
    description="Not signed in, a bad token, or the caller's role may not do this.",
)
TOO_LARGE = OpenApiResponse(ErrorSerializer, description="The request body is larger than the server accepts.")
UNAVAILABLE = OpenApiResponse(
    ErrorSerializer, description="The database cannot be reached for a moment; try again after Retry-After seconds."
)


# A view that pages by hand (a function view has no `pagination_class` for drf-spectacular to
# read) lists these parameters and answers `paginated(...)`.
PAGE_PARAMETERS = [
    OpenApiParameter("page", OpenApiTypes.INT, description="the page, from 1"),
    OpenApiParameter(
        Pagination.page_size_query_param,
        OpenApiTypes.INT,
        description=f"rows a page: {Pagination.page_size} by default, at most {Pagination.max_page_size}",
    ),
]


def paginated(serializer_class, name, **extra_fields):
    """A page of `Pagination` of `serializer_class` rows, as the schema component `name`,
    with `extra_fields` beside `count`, `next`, `previous` and `results`."""
    fields = {
        "count": serializers.IntegerField(help_text="rows on every page together"),
        "next": serializers.URLField(allow_null=True, help_text="the next page; null on the last"),
        "previous": serializers.URLField(allow_null=True, help_text="the page before; null on the first"),
        "results": serializer_class(many=True),
        **extra_fields,
    }
    return type(name, (serializers.Serializer,), fields)


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's AutoSchema (REST_FRAMEWORK's DEFAULT_SCHEMA_CLASS), with the error answers
    every operation may give listed in one place rather than on each view:

    - 400 for any operation: the input guard refuses a query string with a NUL before any view;
    - 403 for any operation: no session or token (session authentication comes first, so DRF
      answers 403, never 401), a bad token, or a role that may not act;
    - 404 when the path names an object (`{number}`, `{code}`) or the list is paginated (a page
      past the end);
    - 413 when the operation takes a body;
    - 503 for any operation: the database could not be reached (`DatabaseUnavailableMiddleware`).
    """

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        errors = {400: INVALID, 403: FORBIDDEN, 503: UNAVAILABLE}
        if "{" in self.path or (self._is_list_view() and self._get_paginator()):
            errors[404] = NOT_FOUND
        if self.method in {"POST", "PUT", "PATCH"}:
            errors[413] = TOO_LARGE
        for status, response in errors.items():
            if str(status) not in responses:
                responses[str(status)] = self._get_response_for_code(response, str(status), direction=direction)
        return dict(sorted(responses.items()))
