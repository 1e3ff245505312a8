from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.models import phone_validator
from cases.models import Case, Category, Channel, Priority
from cases.serializers import PhotosField
from cases.validators import MAX_DESCRIPTION
from grids.models import Region
from intake.models import Call

# Patrol reports and proactive cases may have no caller; every other channel has one.
CHANNELS_WITHOUT_CALLER = {Channel.PATROL, Channel.PROACTIVE}


class CodeField(serializers.SlugRelatedField):
    """A related row named by its code, with a message that repeats the unknown code."""

    default_error_messages = {
        "does_not_exist": _("Unknown code {value}."),
        "invalid": _("Give a code as text."),
    }


class CallCreateSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    caller_name = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    caller_phone = serializers.CharField(
        max_length=20, required=False, allow_blank=True, default="", validators=[phone_validator]
    )
    caller_confidential = serializers.BooleanField(required=False, default=False)
    description = serializers.CharField(
        max_length=MAX_DESCRIPTION,
        error_messages={"max_length": _("Keep the description under {max_length} characters.")},
    )
    category = CodeField(slug_field="code", queryset=Category.objects.filter(is_active=True))
    grid = CodeField(slug_field="code", queryset=Region.objects.filter(level=Region.Level.GRID))
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    priority = serializers.ChoiceField(choices=Priority.choices, required=False, allow_null=True, default=None)
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=3, max_value=54, required=False, allow_null=True, default=None
    )
    longitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=73, max_value=136, required=False, allow_null=True, default=None
    )
    attach_to = serializers.CharField(required=False, allow_blank=True, default="", help_text=_("case number"))
    answer = serializers.CharField(required=False, allow_blank=True, default="", max_length=MAX_DESCRIPTION)
    follow = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_("tell me when the case is dispatched, resolved and closed"),
    )
    photos = PhotosField()

    def validate(self, data):
        if data["channel"] not in CHANNELS_WITHOUT_CALLER:
            missing = {
                field: _("Required for a call from a resident.")
                for field in ("caller_name", "caller_phone")
                if not data[field].strip()
            }
            if missing:
                raise serializers.ValidationError(missing)
        return data


class CaseBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Case
        fields = ["number", "status"]


class CallSerializer(serializers.ModelSerializer):
    case = CaseBriefSerializer(read_only=True)
    category = serializers.CharField(source="category.code")
    grid = serializers.CharField(source="grid_id")

    class Meta:
        model = Call
        fields = ["id", "channel", "outcome", "category", "grid", "created_at", "case"]


class MergeSerializer(serializers.Serializer):
    into = serializers.CharField(help_text="the number of the case this one repeats")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class PhoneSerializer(serializers.Serializer):
    caller_phone = serializers.CharField()
