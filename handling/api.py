from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.settings import api_settings

from cases.models import Case
from cases.schema import NOT_FOUND, PAGE_PARAMETERS, paginated
from handling.filters import QueueFilterSet
from handling.selectors import TABS, Clock, deadline_state, queue_counts, queue_tab
from routing.models import Assignment
from units.selectors import member_units_for


class QueueRowSerializer(serializers.Serializer):
    number = serializers.CharField(source="case.number")
    status = serializers.ChoiceField(choices=Case.Status.choices, source="case.status")
    title = serializers.CharField(source="case.title")
    category = serializers.CharField(source="case.category.code")
    grid = serializers.CharField(source="case.grid_id")
    role = serializers.ChoiceField(choices=Assignment.Role.choices)
    state = serializers.ChoiceField(choices=Assignment.State.choices)
    # null on the resolved tab: a part that is done has no next deadline.
    next_due = serializers.DateTimeField(source="deadline.due", allow_null=True)
    mark = serializers.ChoiceField(choices=["green", "yellow", "red"], source="deadline.mark", allow_null=True)
    working_seconds_left = serializers.FloatField(
        source="deadline.seconds_left", allow_null=True, help_text="negative when overdue"
    )


QueuePage = paginated(
    QueueRowSerializer,
    "PaginatedQueueRowList",
    unit=serializers.CharField(help_text="the unit whose queue this is"),
    counts=type("QueueCounts", (serializers.Serializer,), {tab: serializers.IntegerField() for tab in TABS})(
        help_text="the rows on every tab"
    ),
)


@extend_schema(
    operation_id="v1_queue_list",
    parameters=[
        OpenApiParameter("unit", description="a unit code of the caller's; default: their first unit"),
        OpenApiParameter("tab", enum=list(TABS), description="default: to_sign"),
        # QueueFilterSet's filters, the same as on the queue page.
        OpenApiParameter("category", description="a category code: that category and the kinds under it"),
        OpenApiParameter("region", description="a street, community or grid code: the cases under it"),
        OpenApiParameter("due_by", OpenApiTypes.DATE, description="the next deadline falls on this day or before"),
        OpenApiParameter("q", description="a case number (SJT-…) or words of the description or the address"),
        *PAGE_PARAMETERS,
    ],
    responses={200: QueuePage, 404: NOT_FOUND},
)
@api_view(["GET"])
def queue(request):
    """A unit's queue, most urgent first, filtered like the queue page; `counts` has every tab's."""
    units = list(member_units_for(request.user))
    code = request.query_params.get("unit")
    unit = next((u for u in units if u.code == code), None) if code else (units[0] if units else None)
    if unit is None:
        raise ValidationError({"unit": [_("Not one of your units.") if code else _("You work in no unit.")]})
    tab = request.query_params.get("tab", "to_sign")
    if tab not in TABS:
        raise ValidationError({"tab": [_("One of: %(tabs)s.") % {"tabs": ", ".join(TABS)}]})
    clock = Clock.start()
    filterset = QueueFilterSet(request.query_params, queryset=queue_tab(unit, tab, clock), request=request)
    if not filterset.is_valid():
        raise ValidationError(filterset.errors)
    paginator = api_settings.DEFAULT_PAGINATION_CLASS()
    rows = paginator.paginate_queryset(filterset.qs, request)
    for row in rows:
        row.deadline = deadline_state(row, clock)
    response = paginator.get_paginated_response(QueueRowSerializer(rows, many=True).data)
    response.data["unit"] = unit.code
    response.data["counts"] = queue_counts(unit, clock)
    return response
