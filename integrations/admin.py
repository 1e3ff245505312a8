from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from integrations.models import ApiCall, ApiKey, CategoryMapping, Inbound, System
from integrations.services import key_issue, key_revoke, system_ensure


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    fields = ["prefix", "scopes", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # keys are issued by the action, which shows the key once


class CategoryMappingInline(admin.TabularInline):
    model = CategoryMapping
    extra = 1
    autocomplete_fields = ["category"]


@admin.register(System)
class SystemAdmin(admin.ModelAdmin):
    list_display = ["name", "title", "channel", "is_active", "webhook_url"]
    search_fields = ["name", "title"]
    inlines = [ApiKeyInline, CategoryMappingInline]
    actions = ["issue_open311_key", "issue_orders_key"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # A new system gets its own account through the service.
        created = system_ensure(name=obj.name, title=obj.title, channel=obj.channel)
        for field in ["jurisdiction_id", "is_active", "webhook_url", "webhook_secret"]:
            setattr(created, field, getattr(obj, field))
        created.save()
        obj.pk, obj.user = created.pk, created.user

    def _issue(self, request, queryset, scopes):
        for system in queryset:
            _key, raw = key_issue(system=system, scopes=scopes)
            messages.warning(
                request,
                _("New key for %(system)s (copy it now, it is not shown again): %(key)s")
                % {"system": system.name, "key": raw},
            )

    @admin.action(description=_("Issue an Open311 key (create, read its own)"))
    def issue_open311_key(self, request, queryset):
        self._issue(request, queryset, [ApiKey.Scope.CREATE, ApiKey.Scope.READ_OWN])

    @admin.action(description=_("Issue a work-order key"))
    def issue_orders_key(self, request, queryset):
        self._issue(request, queryset, [ApiKey.Scope.ORDERS])


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["prefix", "system", "scopes", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["system", ("revoked_at", admin.EmptyFieldListFilter)]
    readonly_fields = ["system", "prefix", "scopes", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request, queryset):
        for key in queryset:
            key_revoke(key=key.prefix)
        messages.success(request, _("%(count)d keys revoked.") % {"count": len(queryset)})


@admin.register(ApiCall)
class ApiCallAdmin(admin.ModelAdmin):
    list_display = ["at", "system", "key", "method", "path", "status", "duration_ms", "remote_addr"]
    list_filter = ["system", "status", "method"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Inbound)
class InboundAdmin(admin.ModelAdmin):
    list_display = ["received_at", "system", "kind", "external_id", "state", "case", "reason"]
    list_filter = ["system", "kind", "state"]
    search_fields = ["external_id", "token", "case__number"]
    readonly_fields = [f.name for f in Inbound._meta.fields]

    def has_add_permission(self, request):
        return False
