"""The volunteer's own profile and points ledger over the API, for the volunteers' phone app:
`GET /api/v1/volunteers/me/` and `GET /api/v1/volunteers/me/points/`. An account that is no
volunteer answers 404 (there is no volunteer "me" to show), as the phone page does; no session or
token answers 401, as every operation of the API."""

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response
from rest_framework.settings import api_settings

from cases.schema import NOT_FOUND, PAGE_PARAMETERS, paginated
from volunteers import points
from volunteers.models import PointEntry, Team


class VolunteerTeamSerializer(serializers.Serializer):
    code = serializers.CharField(source="unit.code", help_text="the team's unit code")
    name = serializers.CharField(source="unit.name")
    level = serializers.ChoiceField(choices=Team.Level.choices)


class VolunteerMeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    phone = serializers.CharField()
    home = serializers.CharField(
        source="home.code", default=None, allow_null=True, help_text="the code of the place they live in"
    )
    teams = VolunteerTeamSerializer(many=True)
    skills = serializers.ListField(child=serializers.CharField())
    availability = serializers.CharField()
    balance = serializers.IntegerField(help_text="points held now: the sum of the ledger")


class PointEntrySerializer(serializers.ModelSerializer):
    reward = serializers.CharField(
        source="reward.name", default=None, allow_null=True, help_text="the reward bought, for a redemption"
    )

    class Meta:
        model = PointEntry
        fields = ["id", "kind", "points", "reason", "reward", "created_at"]


def _me(request):
    volunteer = points.volunteer_of(request.user)
    if volunteer is None:
        raise Http404(_("This account is not a volunteer's."))
    return volunteer


@extend_schema(operation_id="v1_volunteers_me", responses={200: VolunteerMeSerializer, 404: NOT_FOUND})
@api_view(["GET"])
def me(request):
    """The caller's volunteer profile: name, phone, teams, skills, availability and balance."""
    volunteer = _me(request)
    volunteer.teams_list = list(Team.objects.filter(members__volunteer=volunteer).select_related("unit"))
    data = {
        "id": volunteer.pk,
        "name": volunteer.name,
        "phone": volunteer.phone,
        "home": volunteer.home,
        "teams": volunteer.teams_list,
        "skills": volunteer.skills,
        "availability": volunteer.availability,
        "balance": points.balance(volunteer),
    }
    return Response(VolunteerMeSerializer(data).data)


@extend_schema(
    operation_id="v1_volunteers_me_points",
    parameters=PAGE_PARAMETERS,
    responses={
        200: paginated(PointEntrySerializer, "PaginatedPointEntryList", balance=serializers.IntegerField()),
        404: NOT_FOUND,
    },
)
@api_view(["GET"])
def my_points(request):
    """The caller's points ledger, newest first, paginated; `balance` is the sum of every line."""
    volunteer = _me(request)
    paginator = api_settings.DEFAULT_PAGINATION_CLASS()
    page = paginator.paginate_queryset(points.ledger(volunteer), request)
    response = paginator.get_paginated_response(PointEntrySerializer(page, many=True).data)
    response.data["balance"] = points.balance(volunteer)
    return response
