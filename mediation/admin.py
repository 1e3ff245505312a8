"""评理说事 and 议事会's configuration screens. Each part of issue 21 registers its own models here."""

from django.contrib import admin

from mediation.models import (
    AgendaItem,
    Council,
    CouncilMember,
    Mediation,
    MediationEvent,
    Mediator,
    Meeting,
    Party,
    Point,
)

# --- 评理说事: points and their mediators; mediations read-only (they move through the services) --


class MediatorInline(admin.TabularInline):
    model = Mediator
    extra = 0
    fields = ("name", "role", "phone", "user", "is_active")
    autocomplete_fields = ("user",)


@admin.register(Point)
class PointAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "unit", "is_active")
    list_filter = ("level", "is_active")
    search_fields = ("code", "name")
    list_select_related = ("unit",)
    raw_id_fields = ("region", "unit")
    inlines = [MediatorInline]


class PartyInline(admin.TabularInline):
    model = Party
    extra = 0
    fields = ("name", "phone_masked", "address")
    readonly_fields = fields  # a party's phone is shown masked here too; the reveal is the page's

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MediationEventInline(admin.TabularInline):
    model = MediationEvent
    extra = 0
    fields = ("at", "action", "from_state", "to_state", "actor", "note")
    readonly_fields = fields
    ordering = ("at", "id")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Mediation)
class MediationAdmin(admin.ModelAdmin):
    """Read-only: a mediation's state moves only through `mediation.services.mediation_move`."""

    list_display = ("__str__", "point", "kind", "state", "case", "created_at")
    list_filter = ("state", "kind", "point__level")
    search_fields = ("point__code", "point__name", "case__number", "facts")
    list_select_related = ("point", "case")
    inlines = [PartyInline, MediationEventInline]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- 议事会: councils with their members and quorum rule; meetings and items read-only -----------


class CouncilMemberInline(admin.TabularInline):
    model = CouncilMember
    extra = 0
    fields = ("name", "role", "user", "is_active")
    autocomplete_fields = ("user",)


@admin.register(Council)
class CouncilAdmin(admin.ModelAdmin):
    """The quorum and the majority are kept here (docs/mediation.md, "Deliberation")."""

    list_display = ("name", "kind", "region", "unit", "quorum_percent", "majority_percent")
    list_filter = ("kind",)
    search_fields = ("name", "region__code", "region__name")
    list_select_related = ("region", "unit")
    raw_id_fields = ("region", "unit")
    inlines = [CouncilMemberInline]


class AgendaItemInline(admin.TabularInline):
    model = AgendaItem
    extra = 0
    fields = ("title", "source", "case", "votes_for", "votes_against", "votes_abstain", "decided", "decision")
    readonly_fields = fields
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    """Read-only: a meeting and its votes are recorded through `mediation.councils.meeting_record`."""

    list_display = ("council", "held_on", "place", "published")
    list_filter = ("published",)
    search_fields = ("council__name", "place")
    list_select_related = ("council",)
    inlines = [AgendaItemInline]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields] + ["present"]

    def has_add_permission(self, request):
        return False
