from django.contrib import admin, messages
from django.db.models import BigIntegerField, F, Func, OuterRef, Subquery, Value
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from integrations.models import ApiCall, ApiKey, CategoryMapping, Inbound, System, WebhookDelivery
from integrations.services import key_issue, key_revoke, system_ensure
from outbox.services import messages_resend


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


class DeliverySystemFilter(admin.SimpleListFilter):
    """The delivery log of one system: its events are grouped `webhook:<system id>:<order>`."""

    title = _("system")
    parameter_name = "system"

    def lookups(self, request, model_admin):
        return [(str(system.pk), str(system)) for system in System.objects.exclude(webhook_url="")]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(group__startswith=f"webhook:{self.value()}:")
        return queryset


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """Each system's webhook events: whether its receiver took them, how often they were tried, the
    last error. A failed event can be sent again once the receiver is fixed; nothing else changes
    here (the outbox writes and moves every row)."""

    list_display = ["created_at", "system_name", "key", "state", "attempts", "next_attempt_at", "sent_at", "error"]
    list_filter = [DeliverySystemFilter, "state"]
    search_fields = ["key", "group", "text"]
    readonly_fields = ["key", "group", "to", "text", "state", "attempts", "next_attempt_at", "created_at"]
    readonly_fields += ["claimed_at", "sent_at", "gateway_code", "last_error"]
    fields = readonly_fields
    actions = ["resend"]

    def get_queryset(self, request):
        system_id = Cast(Func(F("group"), Value(":"), Value(2), function="split_part"), BigIntegerField())
        name = System.objects.filter(pk=OuterRef("system_id")).values("name")[:1]
        # The group's system id, read in SQL: a number only for the rows the webhooks wrote.
        return (
            super()
            .get_queryset(request)
            .filter(group__regex=r"^webhook:[0-9]+:")
            .annotate(system_id=system_id)
            .annotate(system_name=Subquery(name))
        )

    @admin.display(description=_("system"), ordering="system_name")
    def system_name(self, obj):
        return obj.system_name

    @admin.display(description=_("last error"))
    def error(self, obj):
        return obj.last_error[:120]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the log is the record of what a partner was told

    @admin.action(description=_("Send the selected failed events again"))
    def resend(self, request, queryset):
        ids = list(queryset.filter(state=WebhookDelivery.State.FAILED).values_list("pk", flat=True))
        count = messages_resend(ids=ids)
        messages.success(request, _("%(count)d events will be sent again.") % {"count": count})
