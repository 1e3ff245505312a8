"""The inbox over the API, for phone apps and integrations: the same notices as the page."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response
from rest_framework.settings import api_settings

from cases.schema import paginated
from notices.selectors import inbox_for, unread_count
from notices.serializers import (
    InboxQuerySerializer,
    InboxReadResultSerializer,
    InboxReadSerializer,
    NotificationSerializer,
)
from notices.services import notifications_read


@extend_schema(
    operation_id="v1_inbox_list",
    parameters=[InboxQuerySerializer],
    responses=paginated(NotificationSerializer, "PaginatedNotificationList", unread_count=serializers.IntegerField()),
)
@api_view(["GET"])
def inbox(request):
    """The caller's notices, newest first; `unread_count` counts all their unread notices."""
    query = InboxQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    rows = inbox_for(request.user, unread=query.validated_data["unread"], kind=query.validated_data["kind"])
    paginator = api_settings.DEFAULT_PAGINATION_CLASS()
    page = paginator.paginate_queryset(rows, request)
    response = paginator.get_paginated_response(NotificationSerializer(page, many=True).data)
    response.data["unread_count"] = unread_count(request.user)
    return response


@extend_schema(request=InboxReadSerializer, responses=InboxReadResultSerializer)
@api_view(["POST"])
def inbox_read(request):
    """Mark the caller's notices read: `ids`, or `all: true`. Ids that are not the caller's, or
    already read, change nothing."""
    body = InboxReadSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    ids = None if body.validated_data.get("all") else body.validated_data["ids"]
    marked = notifications_read(user=request.user, ids=ids)
    return Response({"marked": marked, "unread_count": unread_count(request.user)})
