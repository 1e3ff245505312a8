from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models.functions import Length
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from suggestions.models import SuggesterVersion
from suggestions.services import suggester_retrain_queue


@admin.register(SuggesterVersion)
class SuggesterVersionAdmin(admin.ModelAdmin):
    """The suggester's versions with their figures (the fitted model itself is not shown), and the
    button that retrains it now. Versions are written by training only: none is added, changed
    or deleted here."""

    list_display = [
        "number",
        "trained_at",
        "trained_on",
        "categories",
        "held_out",
        "top1",
        "top3",
        "seconds",
        "size",
        "model_kept",
        "trigger",
        "triggered_by",
    ]
    list_select_related = ["triggered_by"]
    exclude = ["model"]
    readonly_fields = [field.name for field in SuggesterVersion._meta.fields if field.name != "model"]
    actions = ["retrain_now"]
    change_list_template = "admin/suggestions/suggesterversion/change_list.html"

    def get_queryset(self, request):
        # The model's bytes stay in the database: only their length is read for the list.
        return super().get_queryset(request).defer("model").annotate(kept=Length("model"))

    @admin.display(description=_("model size (MB)"), ordering="model_size")
    def size(self, obj):
        return f"{obj.model_size / 1_000_000:.1f}"

    @admin.display(description=_("model kept"), boolean=True)
    def model_kept(self, obj):
        return bool(obj.kept)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # calls name the version that helped them

    def has_retrain_permission(self, request):
        return request.user.has_perm("suggestions.add_suggesterversion")

    def get_urls(self):
        return [
            path(
                "retrain/",
                self.admin_site.admin_view(require_POST(self.retrain_view)),
                name="suggestions_suggesterversion_retrain",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "has_retrain_permission": self.has_retrain_permission(request)}
        return super().changelist_view(request, extra_context=extra_context)

    def _retrain(self, request):
        suggester_retrain_queue(actor=request.user)
        messages.success(
            request, _("Retraining is queued: the new version shows here when it is done (a few minutes).")
        )

    def retrain_view(self, request):
        """The changelist's button: works with no version yet (an action needs rows to tick)."""
        if not self.has_retrain_permission(request):
            raise PermissionDenied
        self._retrain(request)
        return redirect("admin:suggestions_suggesterversion_changelist")

    @admin.action(description=_("Retrain now"), permissions=["retrain"])
    def retrain_now(self, request, queryset):
        self._retrain(request)
