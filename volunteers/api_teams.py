"""`GET /api/v1/volunteer-teams/`: the volunteer teams, for the volunteers' phone app and for the
units that publish work to them. Paginated like every list; one query for the page, whatever its
size (the member count is a subquery per row of the page)."""

import django_filters
from django.core.validators import RegexValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import PermissionDenied

from volunteers.models import Team
from volunteers.teams import may_read_teams, teams_list


class TeamFilterSet(django_filters.FilterSet):
    """`level`, `region` (the teams whose home is this place or inside it: 210111001 gives 解放街道's
    team and its communities' teams; 210111 every team), `q` (part of the name)."""

    level = django_filters.ChoiceFilter(choices=Team.Level.choices, label=gettext_lazy("level"))
    region = django_filters.CharFilter(
        field_name="home__code",
        lookup_expr="startswith",
        label=gettext_lazy("region code"),
        validators=[RegexValidator(r"^[0-9]{6,15}$", gettext_lazy("A region code: 6 to 15 digits."))],
    )
    q = django_filters.CharFilter(field_name="unit__name", lookup_expr="icontains", label=gettext_lazy("name"))

    class Meta:
        model = Team
        fields = ["level", "region", "q"]


class TeamPlaceSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class TeamSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="unit.code", help_text="the team's unit code (a task may be addressed to it)")
    name = serializers.CharField(source="unit.name")
    home = TeamPlaceSerializer(help_text="the district, street or community the team belongs to")
    area = TeamPlaceSerializer(help_text="where it serves: its home, or wider")
    leader = serializers.CharField(source="leader.name", default=None, allow_null=True, help_text="the leader's name")
    skills = serializers.ListField(child=serializers.CharField())
    members_count = serializers.IntegerField(help_text="volunteers in the team")

    class Meta:
        model = Team
        fields = ["id", "code", "name", "level", "home", "area", "leader", "skills", "members_count"]


class TeamViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The volunteer teams: `?level=district|street|community|special&region=<code>&q=`, district
    teams first, then streets', communities' and the special squads. For everyone at work in the
    district and for the volunteers; 403 for anyone else."""

    serializer_class = TeamSerializer
    filterset_class = TeamFilterSet

    def get_queryset(self):
        return teams_list()

    def list(self, request, *args, **kwargs):
        if not may_read_teams(request.user):
            raise PermissionDenied(_("The volunteer teams are for the district's staff and its volunteers."))
        return super().list(request, *args, **kwargs)
