from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from grids.models import Region


class GridCodeField(serializers.SlugRelatedField):
    default_error_messages = {"does_not_exist": _("Unknown grid {value}."), "invalid": _("Give a grid code as text.")}


class SuggestQuerySerializer(serializers.Serializer):
    description = serializers.CharField(
        help_text=_("what the caller said; only its first 2,000 characters are read"),
        error_messages={"blank": _("Describe what happened to get suggestions.")},
    )
    subject = serializers.CharField(
        required=False, allow_blank=True, default="", help_text=_("a summary, if any (default: the first line)")
    )
    grid = GridCodeField(
        slug_field="code",
        queryset=Region.objects.filter(level=Region.Level.GRID),
        required=False,
        allow_null=True,
        default=None,
        help_text=_("the grid's code: each suggestion then names the unit the rules give there"),
    )


class SuggestedUnitSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class SuggestionSerializer(serializers.Serializer):
    category = serializers.CharField(source="category.code", help_text=_("the category's code"))
    name = serializers.CharField(source="category.name", help_text=_("the category's name"))
    score = serializers.FloatField(help_text=_("how likely, 0 to 1"))
    unit = SuggestedUnitSerializer(
        allow_null=True,
        help_text=_(
            "the unit the rules give for this category in the grid; null without a grid, or when the "
            "rules leave it to the centre's dispatchers"
        ),
    )
