from django.contrib import admin

from escalation.models import EscalationPolicy, Supervision


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    """One row: when the deadline sweep warns, gives notice and supervises."""

    list_display = ["__str__", "warning_percent", "notice_after_days", "supervise_after_days", "step_up_after_days"]

    def has_add_permission(self, request):
        return not EscalationPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Supervision)
class SupervisionAdmin(admin.ModelAdmin):
    """Read-only: supervision is started by the sweep and ended when the work ends."""

    list_display = ["case", "unit", "level", "started_at", "ended_at"]
    list_filter = ["level", ("ended_at", admin.EmptyFieldListFilter)]
    list_select_related = ["case", "unit"]
    search_fields = ["case__number"]
    readonly_fields = ["case", "assignment", "unit", "level", "started_at", "ended_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
