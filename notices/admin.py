from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from notices.models import NoticeSettings, RoleDefault, SmsTemplate
from notices.templates import TEMPLATES


@admin.register(SmsTemplate)
class SmsTemplateAdmin(admin.ModelAdmin):
    """The words of each SMS, in Simplified Chinese; a variable the template does not have is
    refused on save (`SmsTemplate.clean`)."""

    list_display = ["key", "purpose", "variables", "text", "updated_at"]
    readonly_fields = ["key", "purpose", "variables", "updated_at"]
    fields = ["key", "purpose", "variables", "text", "updated_at"]

    @admin.display(description=_("for"))
    def purpose(self, row):
        return TEMPLATES[row.key][0] if row.key in TEMPLATES else "—"

    @admin.display(description=_("variables it may use"))
    def variables(self, row):
        return " ".join(f"{{{name}}}" for name in TEMPLATES.get(row.key, ("", ()))[1])

    def has_add_permission(self, request):
        # The templates are the ones the code sends; their words are what changes.
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RoleDefault)
class RoleDefaultAdmin(admin.ModelAdmin):
    list_display = ["role", "kind", "sms", "email"]
    list_filter = ["role", "kind"]
    list_editable = ["sms", "email"]


@admin.register(NoticeSettings)
class NoticeSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "quiet_from", "quiet_until", "digest_at"]
    fieldsets = [
        (_("Quiet hours"), {"fields": ["quiet_from", "quiet_until"]}),
        (
            _("Heads' daily digest"),
            {
                "fields": [
                    "digest_at",
                    "digest_overdue",
                    "digest_due_today",
                    "digest_waiting",
                    "digest_sms",
                    "digest_email",
                ]
            },
        ),
    ]

    def has_add_permission(self, request):
        return not NoticeSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
