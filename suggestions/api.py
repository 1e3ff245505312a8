from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import api_view
from rest_framework.response import Response

from suggestions.selectors import suggest
from suggestions.serializers import SuggestionSerializer, SuggestQuerySerializer
from units.permissions import api_gate


@extend_schema(
    request=SuggestQuerySerializer,
    responses={200: SuggestionSerializer(many=True)},
    parameters=[
        OpenApiParameter(
            "X-Suggester-Version",
            location=OpenApiParameter.HEADER,
            response=[200],
            description="The number of the suggester version that answered, or `keywords` when none did.",
        ),
        OpenApiParameter(
            "X-Suggester-Fallback",
            location=OpenApiParameter.HEADER,
            response=[200],
            enum=["1"],
            description="Present when the suggestions come from the categories' keywords alone (too little history).",
        ),
    ],
)
@api_view(["POST"])
def suggestions(request):
    """The three categories most likely for what a caller said, the most likely first, each with
    the unit the rules give in `grid`: learned from the district's closed cases, with the
    categories' keywords as one more signal (keywords alone while there is too little history)."""
    api_gate(request.user, "intake:new", _("Only those who take calls or dispatch get category suggestions."))
    query = SuggestQuerySerializer(data=request.data)
    query.is_valid(raise_exception=True)
    data = query.validated_data
    result = suggest(data["description"], subject=data["subject"], grid=data["grid"])
    response = Response(SuggestionSerializer(result.items, many=True).data)
    response["X-Suggester-Version"] = str(result.version) if result.version is not None else "keywords"
    if result.fallback:
        response["X-Suggester-Fallback"] = "1"
    return response
