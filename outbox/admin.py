from django.contrib import admin

from outbox.models import Message, SentSms


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """Read-only: a message is written by the event that causes it and changed only by delivery."""

    list_display = ["created_at", "channel", "to", "state", "attempts", "next_attempt_at", "sent_at"]
    list_filter = ["state", "channel", "emergency"]
    search_fields = ["to", "key"]
    readonly_fields = [field.name for field in Message._meta.fields]

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
