from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from outbox.models import Message, SentSms


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """Read-only: a message is written by the event that causes it and changed only by delivery."""

    list_display = [
        "created_at",
        "channel",
        "to",
        "template",
        "state",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "provider_id",
        "gateway_code",
        "reported_at",
    ]
    list_filter = ["state", "channel", "emergency", "template"]
    # The gateway's id: what the vendor's console and its support ask for about one SMS.
    search_fields = ["to", "key", "provider_id"]
    readonly_fields = [field.name for field in Message._meta.fields]
    fieldsets = [
        (None, {"fields": ["channel", "to", "user", "template", "params", "text", "emergency", "key", "created_at"]}),
        (
            _("Delivery"),
            {"fields": ["state", "attempts", "next_attempt_at", "quiet_from", "quiet_until", "last_error"]},
        ),
        (
            _("At the gateway"),
            {"fields": ["claimed_at", "sent_at", "provider_id", "gateway_code", "reported_at"]},
        ),
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SentSms)
class SentSmsAdmin(admin.ModelAdmin):
    list_display = ["sent_at", "to", "text"]
    search_fields = ["to"]
    readonly_fields = ["message_id", "to", "text", "sent_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
