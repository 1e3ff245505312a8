"""The input of the handling actions over the API (/api/v1/cases/<number>/<action>/)."""

from django.utils.translation import gettext as _
from rest_framework import serializers

from cases.serializers import PhotosField
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
    photos = PhotosField()


class ResolveSerializer(serializers.Serializer):
    # The integration contract sends only `result`: solved unless said otherwise.
    result_kind = serializers.ChoiceField(choices=ResultKind.choices, required=False, default=ResultKind.SOLVED)
    result = serializers.CharField(max_length=5000)
    photos = PhotosField()


class ReportSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=2000)
