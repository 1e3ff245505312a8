from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.models import phone_validator
from cases.errors import InvalidInput
from cases.models import Case, Category, Channel, Priority
from cases.serializers import PhotosField
from cases.validators import MAX_DESCRIPTION
from grids.models import Region
from intake.models import Call
from intake.services import PlaceMismatch, call_place
from suggestions.models import SuggesterVersion

# Patrol reports and proactive cases may have no caller; every other channel has one.
CHANNELS_WITHOUT_CALLER = {Channel.PATROL, Channel.PROACTIVE}

# Where coordinates come from: GPS and international maps give WGS-84; 高德 and 腾讯 maps give
# GCJ-02, converted to WGS-84 before saving (the stored point is always WGS-84).
COORDINATE_SYSTEMS = [("wgs84", _("WGS-84 (GPS)")), ("gcj02", _("GCJ-02 (高德, 腾讯 maps)"))]


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
    grid = CodeField(
        slug_field="code",
        # Without its outline: a call never reads it, and it is the row's largest field.
        queryset=Region.objects.filter(level=Region.Level.GRID).defer("boundary"),
        required=False,
        allow_null=True,
        default=None,
        help_text=_("the grid's code; may be left out when latitude and longitude are given"),
    )
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    priority = serializers.ChoiceField(choices=Priority.choices, required=False, allow_null=True, default=None)
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=3, max_value=54, required=False, allow_null=True, default=None
    )
    longitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=73, max_value=136, required=False, allow_null=True, default=None
    )
    crs = serializers.ChoiceField(
        choices=COORDINATE_SYSTEMS,
        required=False,
        default="wgs84",
        help_text=_("gcj02 for a point copied from 高德 or 腾讯 maps: converted to WGS-84 before saving"),
    )
    confirm_place = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_("keep the grid given when the point lies in another grid (otherwise a 400 on `grid`)"),
    )
    attach_to = serializers.CharField(required=False, allow_blank=True, default="", help_text=_("case number"))
    answer = serializers.CharField(required=False, allow_blank=True, default="", max_length=MAX_DESCRIPTION)
    follow = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_("tell me when the case is dispatched, resolved and closed"),
    )
    photos = PhotosField()
    suggester_version = serializers.SlugRelatedField(
        slug_field="number",
        queryset=SuggesterVersion.objects.defer("model"),
        required=False,
        allow_null=True,
        default=None,
        help_text=_(
            "the number of the suggester version (`X-Suggester-Version` of /api/v1/suggestions/) whose "
            "suggestion gave the category, if one did"
        ),
    )

    def validate(self, data):
        if data["channel"] not in CHANNELS_WITHOUT_CALLER:
            missing = {
                field: _("Required for a call from a resident.")
                for field in ("caller_name", "caller_phone")
                if not data[field].strip()
            }
            if missing:
                raise serializers.ValidationError(missing)
        try:
            place = call_place(
                grid=data["grid"],
                latitude=data["latitude"],
                longitude=data["longitude"],
                crs=data["crs"],
                confirm_place=data["confirm_place"],
            )
        except PlaceMismatch as mismatch:
            hint = _("Send that grid, or confirm_place: true to keep the grid given.")
            raise serializers.ValidationError({"grid": [f"{mismatch} {hint}"]}) from mismatch
        except InvalidInput as error:
            raise serializers.ValidationError({error.field: [str(error)]}) from error
        return {**data, "grid": place.grid, "latitude": place.latitude, "longitude": place.longitude}


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
