from django.contrib import admin
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from cases.admin import CategoryClassFilter
from deadlines.models import LimitUnit, SlaPolicy, WorkCalendarDay, WorkPeriod


@admin.register(WorkPeriod)
class WorkPeriodAdmin(admin.ModelAdmin):
    list_display = ["start", "end"]


@admin.register(WorkCalendarDay)
class WorkCalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "is_workday", "note"]
    date_hierarchy = "date"
    list_filter = ["is_workday"]
    search_fields = ["note"]


def _limit(policy, kind):
    value, unit = policy.limit(kind)
    # 2.00 → 2, 0.50 → 0.5; normalize() alone would write 10 as 1E+1.
    return f"{value.normalize():f} {LimitUnit(unit).label}"


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ["applies_to", "for_priority", "sign", "contact", "resolve", "callback"]
    list_filter = ["priority", CategoryClassFilter]
    search_fields = ["category__name", "^category__code"]
    list_select_related = ["category"]
    autocomplete_fields = ["category"]
    ordering = [F("category__code").asc(nulls_first=True), "priority"]
    fieldsets = [
        (None, {"fields": ["category", "priority"]}),
        (
            _("time limits"),
            {
                "fields": [
                    ("sign_value", "sign_unit"),
                    ("contact_value", "contact_unit"),
                    ("resolve_value", "resolve_unit"),
                    ("callback_value", "callback_unit"),
                    ("return_window_value", "return_window_unit"),
                    "extension_max_days",
                ]
            },
        ),
    ]

    @admin.display(description=_("category"), ordering="category__code")
    def applies_to(self, obj):
        return obj.category or _("all categories")

    @admin.display(description=_("priority"), ordering="priority")
    def for_priority(self, obj):
        return obj.get_priority_display() or _("any priority")

    @admin.display(description=_("sign-for within"))
    def sign(self, obj):
        return _limit(obj, "sign")

    @admin.display(description=_("first contact within"))
    def contact(self, obj):
        return _limit(obj, "contact")

    @admin.display(description=_("resolution within"))
    def resolve(self, obj):
        return _limit(obj, "resolve")

    @admin.display(description=_("callback within"))
    def callback(self, obj):
        return _limit(obj, "callback")
