from django.contrib import admin

from feedback.models import FeedbackSettings


@admin.register(FeedbackSettings)
class FeedbackSettingsAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "callback_attempts",
        "weight_response",
        "weight_resolution",
        "weight_satisfaction",
        "basically_value",
    ]

    def has_add_permission(self, request):
        return not FeedbackSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
