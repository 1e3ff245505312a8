"""The dashboards' figures over the API: `GET /api/v1/stats/summary/` (one place) and
`GET /api/v1/stats/ranking/` (the units of a level). Each answers from the functions the pages
call, so the API and the pages cannot disagree."""

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from cases.schema import NOT_FOUND
from dashboards import selectors
from dashboards.rankings import ranking
from dashboards.serializers import (
    RankingQuerySerializer,
    RankingSerializer,
    SummaryQuerySerializer,
    SummarySerializer,
    ranking_data,
    summary_data,
)
from feedback import metrics
from grids.models import Region
from units.permissions import api_gate


@extend_schema(parameters=[SummaryQuerySerializer], responses={200: SummarySerializer, 404: NOT_FOUND})
@api_view(["GET"])
def summary(request):
    """The figures of a place for a range of days (the current month by default) and its cases
    open, overdue and supervised now. A place the caller may not open (outside their street or
    community; any place for grid workers and departments) is 404, like one that does not exist."""
    query = SummaryQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    params = query.validated_data
    period = _period(params)
    if params.get("region"):
        region = Region.objects.filter(code=params["region"]).first()
        if region is None or not selectors.may_open(request.user, region):
            raise Http404
    else:
        roots = selectors.dashboard_roots_for(request.user)
        if not roots:
            raise Http404
        region = roots[0]
    result = selectors.summary(prefix=region.code, period=period)
    return Response(summary_data(region, period, result))


def _period(params) -> metrics.Period:
    first, last = params.get("from"), params.get("to")
    if first is None and last is None:
        return metrics.Period.month(timezone.localdate().strftime("%Y-%m"))
    if first is None:
        raise ValidationError({"from": [_("Give the first day of the range too.")]})
    if last is None:
        raise ValidationError({"to": [_("Give the last day of the range too.")]})
    return metrics.Period.between(first, last)


@extend_schema(parameters=[RankingQuerySerializer], responses=RankingSerializer)
@api_view(["GET"])
def ranking_view(request):
    """The month's ranking of the street offices or of the departments (and utilities) by the
    composite score, with every rate, the change from the month before, the red and black lists
    and each unit's exemptions. Dispatchers and officials only: they are the ones who judge."""
    api_gate(
        request.user, "dashboards:ranking", _("Only the district centre and the district leadership see the rankings.")
    )
    query = RankingQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    params = query.validated_data
    month = params.get("month") or timezone.localdate().strftime("%Y-%m")
    return Response(ranking_data(ranking(params["level"], month)))
