from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases.models import Case
from grids.models import Region
from routing.models import Assignment, ReturnReason
from units.models import Unit


class RegionSerializer(serializers.ModelSerializer):
    parent = serializers.CharField(source="parent.code", default=None, allow_null=True, read_only=True)

    class Meta:
        model = Region
        fields = ["code", "name", "level", "parent", "community_kind"]


class UnitSerializer(serializers.ModelSerializer):
    region = serializers.CharField(source="region.code", default=None, allow_null=True, read_only=True)
    parent = serializers.CharField(source="parent.code", default=None, allow_null=True, read_only=True)

    class Meta:
        model = Unit
        fields = ["code", "name", "kind", "region", "parent"]


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    real_name = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    units = serializers.ListField(child=serializers.CharField(), help_text="codes of the units the user works in")
    grids = serializers.ListField(child=serializers.CharField(), help_text="codes of the grids the user is posted to")


class DeadlinesSerializer(serializers.Serializer):
    """The deadlines of a case's lead unit: no keys until it is dispatched, then all four
    (`contact` and `return_until` null where the SLA policy sets no such limit)."""

    sign = serializers.DateTimeField(required=False)
    contact = serializers.DateTimeField(required=False, allow_null=True)
    resolve = serializers.DateTimeField(required=False)
    return_until = serializers.DateTimeField(required=False, allow_null=True)


def active_leads(assignments):
    return assignments.filter(role=Assignment.Role.LEAD, state__in=Assignment.ACTIVE_STATES).select_related("unit")


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
    # DRF drops `allow_blank` from a read-only model field, and the schema would leave "" (an open
    # case) out of the enum; declared here with it.
    closure_reason = serializers.ChoiceField(
        choices=Case.ClosureReason.choices,
        allow_blank=True,
        read_only=True,
        label=Case._meta.get_field("closure_reason").verbose_name,
        help_text='"" while the case is open',
    )
    merged_into = serializers.CharField(source="merged_into.number", default=None, allow_null=True, read_only=True)

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

    def _lead(self, case):
        # Lists prefetch the active lead into `active_leads` (one query for the page).
        leads = getattr(case, "active_leads", None)
        if leads is None:
            leads = list(active_leads(Assignment.objects.filter(case=case)))
        return leads[0] if leads else None

    def get_lead_unit(self, case) -> str | None:
        lead = self._lead(case)
        return lead.unit.code if lead else None

    @extend_schema_field(DeadlinesSerializer)
    def get_deadlines(self, case):
        """The lead unit's deadlines (ISO 8601), empty until the case is dispatched."""
        lead = self._lead(case)
        if lead is None:
            return {}
        return {
            key: (value.isoformat() if value else None)
            for key, value in {
                "sign": lead.sign_due,
                "contact": lead.contact_due,
                "resolve": lead.resolve_due,
                "return_until": lead.return_until,
            }.items()
        }


class CaseEventSerializer(serializers.Serializer):
    action = serializers.CharField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    actor = serializers.CharField(source="actor.username", allow_null=True, help_text="null: the system's own move")
    at = serializers.DateTimeField()
    note = serializers.CharField()
    data = serializers.JSONField()


# --- the input of the case actions routing makes (/api/v1/cases/<number>/<action>/) ---


class UnitCodeField(serializers.SlugRelatedField):
    default_error_messages = {"does_not_exist": _("Unknown unit {value}."), "invalid": _("Give a unit code as text.")}

    def __init__(self, **kwargs):
        super().__init__(slug_field="code", queryset=Unit.objects.filter(is_active=True), **kwargs)


class DispatchSerializer(serializers.Serializer):
    unit = UnitCodeField()
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ReturnSerializer(serializers.Serializer):
    """`reason` is one of the listed codes with a `note`; a free-text `reason` alone (the
    integration contract's form) is taken as reason `other` with that text."""

    reason = serializers.CharField(max_length=2000)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    proposed_category = serializers.CharField(
        max_length=10,
        required=False,
        allow_blank=True,
        default="",
        help_text="with reason wrong_category: the category the unit proposes (a kind's code)",
    )

    def validate(self, data):
        if data["reason"] not in ReturnReason.values:
            data["note"] = data["note"] or data["reason"]
            data["reason"] = ReturnReason.OTHER
        if not data["note"].strip():
            raise serializers.ValidationError({"note": [_("Say why the case is returned.")]})
        return data


class AssistSerializer(serializers.Serializer):
    unit = UnitCodeField()
    note = serializers.CharField(max_length=2000)
    due = serializers.DateTimeField(required=False, allow_null=True, default=None)


class ExtendSerializer(serializers.Serializer):
    until = serializers.DateTimeField()
    reason = serializers.CharField(max_length=2000)


class ExtensionDecisionSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class EmptySerializer(serializers.Serializer):
    pass


class UrgeSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000)


class SetDeadlineSerializer(serializers.Serializer):
    until = serializers.DateTimeField()
    reason = serializers.CharField(max_length=2000)


class ReclassifySerializer(serializers.Serializer):
    """改分类, 改网格 (`routing.reclassify.case_reclassify`). Codes are checked by the service, after
    it has checked who asks, so that a role that may not reclassify is told so (403) whatever it
    sent."""

    category = serializers.CharField(
        max_length=10, required=False, allow_blank=True, default="", help_text="the new category's code (a kind)"
    )
    grid = serializers.CharField(
        max_length=15, required=False, allow_blank=True, default="", help_text="the new grid's code"
    )
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    address = serializers.CharField(
        max_length=200, required=False, allow_blank=True, allow_null=True, default=None, help_text="null: unchanged"
    )
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=3, max_value=54, required=False, allow_null=True, default=None
    )
    longitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=73, max_value=136, required=False, allow_null=True, default=None
    )
    shorten_deadline = serializers.BooleanField(
        required=False,
        default=False,
        help_text="when re-routed: the new category's deadlines even where they come before the running ones",
    )
    seen_category = serializers.CharField(
        max_length=10,
        required=False,
        allow_blank=True,
        default="",
        help_text="the category the caller saw: if the case has another one now, 409",
    )
    seen_grid = serializers.CharField(
        max_length=15,
        required=False,
        allow_blank=True,
        default="",
        help_text="the grid the caller saw: if the case has another one now, 409",
    )
    accept_proposal = serializers.BooleanField(
        required=False,
        default=False,
        help_text="take the category the unit that returned the case proposed (`category` may be left out)",
    )
    preview = serializers.BooleanField(
        required=False, default=False, help_text="answer what would happen (ReclassifyPreview), changing nothing"
    )


class ReclassifyPreviewSerializer(serializers.Serializer):
    """What a reclassification would do (`preview: true`): nothing is changed."""

    category = serializers.CharField(source="category.code")
    category_name = serializers.CharField(source="category.name")
    grid = serializers.CharField(source="grid.code")
    grid_name = serializers.CharField(source="grid.name")
    address = serializers.CharField()
    unit = serializers.CharField(
        source="decision.unit.code",
        default=None,
        allow_null=True,
        help_text="the unit the rules give for the new category and grid; null: none (the dispatchers choose)",
    )
    unit_name = serializers.CharField(source="decision.unit.name", default=None, allow_null=True)
    explanation = serializers.CharField(source="decision.explanation")
    current_unit = serializers.CharField(
        source="current.unit.code", default=None, allow_null=True, help_text="the unit holding the case now"
    )
    reroute = serializers.BooleanField(help_text="true: the case leaves the current unit for `unit`")
    deadlines = serializers.SerializerMethodField()
    kept = serializers.ListField(
        child=serializers.CharField(),
        help_text="the running deadlines kept because the new ones would come earlier (without shorten_deadline)",
    )

    @extend_schema_field(DeadlinesSerializer)
    def get_deadlines(self, plan):
        """The new lead's deadlines when re-routed; empty otherwise (the current ones stay)."""
        if not plan.reroute:
            return {}
        return {
            key: (plan.deadlines[name].isoformat() if plan.deadlines[name] else None)
            for key, name in (
                ("sign", "sign_due"),
                ("contact", "contact_due"),
                ("resolve", "resolve_due"),
                ("return_until", "return_until"),
            )
        }
