"""The end of the loop over the API: callback, on-site check, reopen and close under
`/api/v1/cases/<number>/`, the centre's callback queue, and the metrics of a level."""

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings

from cases.schema import NOT_FOUND, PAGE_PARAMETERS, paginated
from feedback import metrics
from feedback.models import FeedbackSettings
from feedback.selectors import callback_queue, metric_codes_for
from feedback.serializers import (
    CallbackQueueRowSerializer,
    MetricsQuerySerializer,
    MetricsSerializer,
)
from units.permissions import api_gate


@extend_schema(
    operation_id="v1_callbacks_list",
    parameters=PAGE_PARAMETERS,
    responses={200: paginated(CallbackQueueRowSerializer, "PaginatedCallbackQueueRowList"), 404: NOT_FOUND},
)
@api_view(["GET"])
def callbacks(request):
    """The centre's callback queue: resolved cases waiting for the resident's verdict, the
    longest-waiting first. Dispatchers only: they are the ones who call."""
    api_gate(
        request.user, "feedback:callbacks", _("Only a dispatcher of the district centre works the callback queue.")
    )
    paginator = api_settings.DEFAULT_PAGINATION_CLASS()
    rows = paginator.paginate_queryset(callback_queue(), request)
    now = timezone.now()
    for row in rows:
        row.failed_attempts = row.failed_attempts or 0
        row.due = row.callback_due <= now
    return paginator.get_paginated_response(CallbackQueueRowSerializer(rows, many=True).data)


@extend_schema(parameters=[MetricsQuerySerializer], responses=MetricsSerializer)
@api_view(["GET"])
def metrics_view(request):
    """The figures of every row of a level for a month or a range of days, as far as the caller
    may see: the district for dispatchers and officials, their area for street and community
    staff (their own office or committee at level=unit), their grids for grid workers."""
    query = MetricsQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    params = query.validated_data
    level, parent = params["level"], params["parent"]
    if parent and level == "unit":
        raise ValidationError({"parent": [_("A parent region applies to the region levels only.")]})
    period = _period(params)
    policy = FeedbackSettings.load()
    rows = metrics.rows_for(level, period=period, codes=metric_codes_for(request.user, level), parent=parent)
    return Response(
        {
            "level": level,
            "from": period.first.isoformat(),
            "to": period.last.isoformat(),
            "weights": {
                "response": policy.weight_response,
                "resolution": policy.weight_resolution,
                "satisfaction": policy.weight_satisfaction,
            },
            "basically_value": float(policy.basically_value),
            "results": [{"code": row.code, "name": row.name, **row.figures.as_dict()} for row in rows],
        }
    )


def _period(params) -> metrics.Period:
    first, last, month = params.get("from"), params.get("to"), params.get("month")
    if month and (first or last):
        raise ValidationError({"month": [_("Give either a month or a range of days, not both.")]})
    if first or last:
        if first is None:
            raise ValidationError({"from": [_("Give the first day of the range too.")]})
        if last is None:
            raise ValidationError({"to": [_("Give the last day of the range too.")]})
        return metrics.Period.between(first, last)
    return metrics.Period.month(month or timezone.localdate().strftime("%Y-%m"))
