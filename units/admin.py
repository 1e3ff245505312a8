from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from units.models import Membership, Pairing, Unit


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "region", "parent", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name"]
    list_select_related = ["region", "parent"]
    # A picker over 3,000 regions or 300 units must search, not list them all in a <select>.
    autocomplete_fields = ["region", "parent"]
    inlines = [MembershipInline]


class KindFilter(admin.ChoicesFieldListFilter):
    """A unit's kind, seen through a relation; the title says whose kind it is."""

    label = _("unit kind")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = self.label


class AgencyKindFilter(KindFilter):
    label = _("agency kind")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "unit", "role"]
    list_filter = ["role", ("unit__kind", KindFilter)]
    search_fields = ["user__username", "user__real_name", "unit__code", "unit__name"]
    list_select_related = ["user", "unit"]
    autocomplete_fields = ["user", "unit"]


@admin.register(Pairing)
class PairingAdmin(admin.ModelAdmin):
    list_display = ["agency", "community", "community_code"]
    list_filter = [("agency__kind", AgencyKindFilter)]
    search_fields = ["agency__code", "agency__name", "community__code", "community__name"]
    list_select_related = ["agency", "community"]
    autocomplete_fields = ["agency", "community"]
    ordering = ["community__code"]

    @admin.display(description=_("community code"), ordering="community__code")
    def community_code(self, obj):
        return obj.community.code


# --- Routing rules and SLA policies -------------------------------------------------------------
