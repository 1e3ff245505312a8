from django.contrib import admin
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.models import ArchivedPartition, Case, CaseEvent, Category


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "parent", "default_priority", "is_active"]
    list_filter = ["default_priority", "is_active", "parent"]
    search_fields = ["code", "name", "keywords"]
    list_select_related = ["parent"]
    raw_id_fields = ["parent"]


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    fields = ["at", "action", "from_status", "to_status", "actor", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["at", "id"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    """Read-only: cases change only through the lifecycle, never by editing a row here."""

    list_display = ["number", "status", "channel", "category", "grid", "created_at"]
    list_filter = ["status", "channel", "priority"]
    search_fields = ["number", "title"]
    list_select_related = ["category", "grid"]
    inlines = [CaseEventInline]
    show_full_result_count = False

    # Callers' names and phones are revealed only on the case page, where each reveal is recorded.
    exclude = ["caller_name", "caller_phone"]

    def has_view_permission(self, request, obj=None):
        # What a person may read follows from their postings (the case pages), not from is_staff.
        return request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ArchivedPartition)
class ArchivedPartitionAdmin(admin.ModelAdmin):
    """The months `manage.py archive` took out, and where to: read only (the command writes them)."""

    list_display = ["table", "month", "rows", "place", "archived_at"]
    list_filter = ["table"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CategoryClassFilter(admin.SimpleListFilter):
    """A class (2-digit code) and its kinds: the rules of 城市管理 are the class rule and its kinds'."""

    title = _("category class")
    parameter_name = "class"

    def lookups(self, request, model_admin):
        return list(Category.objects.filter(parent__isnull=True).order_by("code").values_list("code", "name"))

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(Q(category__code=self.value()) | Q(category__parent__code=self.value()))
        return queryset
