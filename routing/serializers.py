from rest_framework import serializers

from cases.models import Case
from grids.models import Region
from routing.models import Unit


class RegionSerializer(serializers.ModelSerializer):
    parent = serializers.CharField(source="parent.code", default=None, read_only=True)

    class Meta:
        model = Region
        fields = ["code", "name", "level", "parent", "community_kind"]


class UnitSerializer(serializers.ModelSerializer):
    region = serializers.CharField(source="region.code", default=None, read_only=True)
    parent = serializers.CharField(source="parent.code", default=None, read_only=True)

    class Meta:
        model = Unit
        fields = ["code", "name", "kind", "region", "parent"]


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    real_name = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    units = serializers.ListField(child=serializers.CharField(), help_text="codes of the units the user works in")
    grids = serializers.ListField(child=serializers.CharField(), help_text="codes of the grids the user is posted to")


class CaseSerializer(serializers.ModelSerializer):
    """A case as the API shows it. The caller's phone is always masked here; revealing it is an
    action of its own that is recorded (`POST /cases/<number>/reveal_phone/`)."""

    category = serializers.CharField(source="category.code", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True)
    grid = serializers.CharField(source="grid_id", read_only=True)
    grid_name = serializers.CharField(source="grid.name", read_only=True)
    caller_name = serializers.SerializerMethodField()
    caller_phone = serializers.SerializerMethodField()
    lead_unit = serializers.SerializerMethodField()
    deadlines = serializers.SerializerMethodField()
    merged_into = serializers.CharField(source="merged_into.number", default=None, read_only=True)

    class Meta:
        model = Case
        fields = [
            "number",
            "status",
            "channel",
            "priority",
            "category",
            "category_name",
            "grid",
            "grid_name",
            "address",
            "title",
            "description",
            "caller_name",
            "caller_phone",
            "caller_confidential",
            "call_count",
            "lead_unit",
            "deadlines",
            "closure_reason",
            "merged_into",
            "created_at",
            "closed_at",
        ]
        read_only_fields = fields

    def get_caller_name(self, case) -> str:
        return "***" if case.caller_confidential and case.caller_name else case.caller_name

    def get_caller_phone(self, case) -> str:
        return case.caller_phone_masked

    def get_lead_unit(self, case) -> str | None:
        # Assignments arrive with dispatch; until then no case has a lead unit.
        return None

    def get_deadlines(self, case) -> dict:
        return {}


class CaseEventSerializer(serializers.Serializer):
    action = serializers.CharField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    actor = serializers.CharField(source="actor.username", default=None)
    at = serializers.DateTimeField()
    note = serializers.CharField()
    data = serializers.JSONField()
