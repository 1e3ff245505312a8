from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from notices.kinds import Kind
from notices.models import Notification


class InboxQuerySerializer(serializers.Serializer):
    unread = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="true: unread only; false: read only"
    )
    kind = serializers.ChoiceField(choices=Kind.choices, required=False, allow_blank=True, default="")


class NotificationSerializer(serializers.ModelSerializer):
    case = serializers.CharField(source="case.number", allow_null=True, default=None, help_text="the case's number")
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "text", "case", "url", "created_at", "read"]

    def get_read(self, row) -> bool:
        return row.read_at is not None


class InboxReadSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=500, help_text="notices to mark read"
    )
    all = serializers.BooleanField(required=False, default=False, help_text="mark every unread notice read")

    def validate(self, attrs):
        if not attrs.get("all") and not attrs.get("ids"):
            raise serializers.ValidationError({"ids": [_("Give the ids of the notices to mark read, or all: true.")]})
        if attrs.get("all") and attrs.get("ids"):
            raise serializers.ValidationError({"all": [_("Give either ids or all, not both.")]})
        return attrs


class InboxReadResultSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="notices that were unread and are now read")
    unread_count = serializers.IntegerField()
