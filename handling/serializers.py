"""The input of the handling actions over the API (/api/v1/cases/<number>/<action>/)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework import serializers

from cases.validators import validate_photos
from handling.models import ContactMethod, ResultKind


class ContactSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=ContactMethod.choices)
    contacted_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    agreed = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    # The integration contract names this field `note`; it is taken as `agreed`.
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="", write_only=True)

    def validate(self, data):
        data["agreed"] = data["agreed"] or data.pop("note", "")
        data.pop("note", None)
        if not data["agreed"].strip():
            raise serializers.ValidationError({"agreed": [_("Write down what was agreed with the resident.")]})
        return data


class NoteSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=2000)
    photos = serializers.ListField(child=serializers.ImageField(), required=False, default=list)


class ResolveSerializer(serializers.Serializer):
    # The integration contract sends only `result`: solved unless said otherwise.
    result_kind = serializers.ChoiceField(choices=ResultKind.choices, required=False, default=ResultKind.SOLVED)
    result = serializers.CharField(max_length=5000)
    photos = serializers.ListField(child=serializers.ImageField(), required=False, default=list)


class ReportSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=2000)


def photos_checked(serializer_class):
    """The serializer with the shared photo checks (size, real image content)."""

    class Checked(serializer_class):
        def validate_photos(self, photos):
            try:
                validate_photos(photos)
            except DjangoValidationError as error:
                raise serializers.ValidationError(error.messages) from None
            return photos

    Checked.__name__ = serializer_class.__name__
    return Checked
