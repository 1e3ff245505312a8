"""议事会 over the API: `GET /api/v1/councils/` (the councils the caller may read, `?region=`),
`GET/POST /api/v1/councils/<id>/meetings/` (a council's meetings; record one with its items'
votes and decisions). The same services as the pages (mediation/councils.py); a council the caller
may not read answers 404 as a missing one."""

from django.db.models import Count, Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view
from rest_framework.response import Response
from rest_framework.settings import api_settings

from cases.schema import NOT_FOUND, PAGE_PARAMETERS, paginated
from mediation import councils as services
from mediation.models import AgendaItem, Council, Meeting

# --- shapes ----------------------------------------------------------------------------------------


class CouncilSerializer(serializers.ModelSerializer):
    region = serializers.CharField(source="region.code", read_only=True, help_text="the community's or street's code")
    region_name = serializers.CharField(source="region.name", read_only=True)
    unit = serializers.CharField(source="unit.code", read_only=True, help_text="the host unit's code")
    members = serializers.IntegerField(source="member_count", read_only=True, help_text="active members")

    class Meta:
        model = Council
        fields = [
            "id",
            "name",
            "kind",
            "region",
            "region_name",
            "unit",
            "quorum_percent",
            "majority_percent",
            "members",
        ]
        read_only_fields = fields


class ItemSerializer(serializers.ModelSerializer):
    case = serializers.CharField(
        source="case.number", default=None, allow_null=True, read_only=True, help_text="the case it came from"
    )
    opened_case = serializers.CharField(
        source="opened_case.number", default=None, allow_null=True, read_only=True, help_text="the case it opened"
    )
    opened_task = serializers.IntegerField(
        source="opened_task_id", allow_null=True, read_only=True, help_text="the volunteer task it was published as"
    )

    class Meta:
        model = AgendaItem
        fields = [
            "id",
            "title",
            "description",
            "source",
            "case",
            "options",
            "votes_for",
            "votes_against",
            "votes_abstain",
            "decided",
            "decision",
            "opened_case",
            "opened_task",
        ]
        read_only_fields = fields


class MeetingSerializer(serializers.ModelSerializer):
    present = serializers.SerializerMethodField(help_text="the ids of the members present")
    items = ItemSerializer(many=True, read_only=True)

    class Meta:
        model = Meeting
        fields = ["id", "council", "held_on", "place", "present", "published", "items"]
        read_only_fields = fields

    def get_present(self, meeting) -> list[int]:
        return sorted(member.pk for member in meeting.present.all())


class CouncilQuerySerializer(serializers.Serializer):
    region = serializers.RegexField(
        r"^[0-9]{6,15}$", max_length=15, required=False, help_text="a place's code: the councils in it and below it"
    )


class MeetingItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(
        required=False, min_value=1, max_value=2**31 - 1, help_text="an open item of the council"
    )
    title = serializers.CharField(required=False, max_length=services.TITLE_MAX, help_text="a new item (without id)")
    description = serializers.CharField(required=False, allow_blank=True, max_length=services.DESCRIPTION_MAX)
    votes_for = serializers.IntegerField(min_value=0, max_value=10000)
    votes_against = serializers.IntegerField(min_value=0, max_value=10000)
    votes_abstain = serializers.IntegerField(min_value=0, max_value=10000, required=False, default=0)
    decision = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=services.DECISION_MAX, help_text="needed if carried"
    )

    def validate(self, data):
        if data.get("id") is None and not data.get("title"):
            raise serializers.ValidationError({"title": ["Give a new item a title, or the id of an open item."]})
        return data


class MeetingCreateSerializer(serializers.Serializer):
    held_on = serializers.DateField()
    place = serializers.CharField(required=False, allow_blank=True, default="", max_length=services.PLACE_MAX)
    present = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**31 - 1),
        max_length=500,
        help_text="the ids of the council's members present",
    )
    items = MeetingItemSerializer(many=True, min_length=1, max_length=services.MAX_ITEMS)
    published = serializers.BooleanField(required=False, default=False, help_text="publish to the residents")


COUNCIL_ID = OpenApiParameter("council", OpenApiTypes.INT, OpenApiParameter.PATH, description="the council's id")

# --- views -----------------------------------------------------------------------------------------


def _paginate(request, rows, serializer):
    paginator = api_settings.DEFAULT_PAGINATION_CLASS()
    page = paginator.paginate_queryset(rows, request)
    return paginator.get_paginated_response(serializer(page, many=True).data)


@extend_schema(
    parameters=[CouncilQuerySerializer, *PAGE_PARAMETERS],
    responses={200: paginated(CouncilSerializer, "PaginatedCouncilList"), 404: NOT_FOUND},
    description="The deliberation councils (议事会) the caller may read, by place.",
)
@api_view(["GET"])
def councils(request):
    query = CouncilQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    rows = services.councils_for(request.user).select_related("region", "unit")
    if region := query.validated_data.get("region"):
        rows = rows.filter(region__code__startswith=region)
    rows = rows.annotate(member_count=Count("members", filter=Q(members__is_active=True))).order_by(
        "region__code", "id"
    )
    return _paginate(request, rows, CouncilSerializer)


@extend_schema(
    methods=["GET"],
    parameters=[COUNCIL_ID, *PAGE_PARAMETERS],
    responses={200: paginated(MeetingSerializer, "PaginatedCouncilMeetingList"), 404: NOT_FOUND},
    description="A council's meetings, newest first, each with its items, votes and decisions.",
)
@extend_schema(
    methods=["POST"],
    parameters=[COUNCIL_ID],
    request=MeetingCreateSerializer,
    responses={201: MeetingSerializer, 404: NOT_FOUND},
    description="Record a meeting: the members present and each item's vote and decision. Without the "
    "quorum every item is recorded as no decision; votes beyond the members present are refused (400).",
)
@api_view(["GET", "POST"])
def council_meetings(request, council):
    found = services.council_get_for(request.user, council)
    if request.method == "GET":
        return _paginate(request, services.meetings_of(found), MeetingSerializer)
    body = MeetingCreateSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    data = body.validated_data
    meeting = services.meeting_record(
        actor=request.user,
        council=found,
        held_on=data["held_on"],
        place=data["place"],
        present=data["present"],
        items=[
            {
                "item": row.get("id"),
                "title": row.get("title", ""),
                "description": row.get("description", ""),
                "votes_for": row["votes_for"],
                "votes_against": row["votes_against"],
                "votes_abstain": row["votes_abstain"],
                "decision": row["decision"],
            }
            for row in data["items"]
        ],
        published=data["published"],
    )
    meeting = services.meetings_of(found).get(pk=meeting.pk)
    return Response(MeetingSerializer(meeting).data, status=status.HTTP_201_CREATED)
