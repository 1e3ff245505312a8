import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.filters import REGION_CODE
from cases.filters import CaseFilterSet as CaseFileFilterSet
from cases.models import CaseEvent
from escalation.models import Supervision
from routing.models import Assignment
from routing.pickers import PickerFilter, ScopedPickers
from units.models import Unit


class UnitFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=Unit.Kind.choices, label=_("kind"))
    region = django_filters.CharFilter(field_name="region__code", lookup_expr="startswith", label=_("region code"))
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label=_("name"))

    class Meta:
        model = Unit
        fields = ["kind", "region", "q"]


class YesNoSelect(forms.NullBooleanSelect):
    """Hands the value on as sent: NullBooleanSelect turns anything it does not know into "any"."""

    def value_from_datadict(self, data, files, name):
        return data.get(name)


class YesNoField(forms.NullBooleanField):
    """Yes, no or any; anything else is an error naming the field (`supervised=是` once listed
    every case as if nothing had been asked)."""

    widget = YesNoSelect

    def to_python(self, value):
        if value in (None, "") or value in ("2", "3", True, False):
            return super().to_python(value)
        if str(value).lower() in ("true", "1", "false", "0"):
            return super().to_python(value)
        raise forms.ValidationError(_("Choose yes, no or any."), code="invalid")


class YesNoFilter(django_filters.BooleanFilter):
    field_class = YesNoField


class CaseFilterSet(ScopedPickers, CaseFileFilterSet):
    """The case list's filters with the ones that need assignments: `unit` (a unit that has or had
    a part in the case) and `overdue` (the lead unit has missed a deadline). The category, the
    place and the unit are picked by name on the page (routing/pickers.py); the API's parameters
    stay codes."""

    category = PickerFilter("category", method="filter_category", label=_("Category"))
    region = PickerFilter(
        "place",
        method="filter_region",
        label=_("Street, community or grid"),
        validators=[REGION_CODE],
    )
    unit = PickerFilter("unit", method="filter_unit", label=_("Unit"))
    overdue = YesNoFilter(method="filter_overdue", label=_("overdue"))
    supervised = YesNoFilter(method="filter_supervised", label=_("supervised"))
    reopened = YesNoFilter(method="filter_reopened", label=_("reopened (redo)"))

    class Meta(CaseFileFilterSet.Meta):
        fields = [*CaseFileFilterSet.Meta.fields, "unit", "overdue", "supervised", "reopened"]

    def filter_unit(self, queryset, name, value):
        return queryset.filter(Exists(Assignment.objects.filter(case=OuterRef("pk"), unit__code=value.strip())))

    def filter_overdue(self, queryset, name, value):
        now = timezone.now()
        late = Assignment.objects.filter(
            case=OuterRef("pk"), role=Assignment.Role.LEAD, state__in=Assignment.ACTIVE_STATES
        ).filter(
            Q(state=Assignment.State.WAITING, sign_due__lt=now)
            | Q(contacted_at__isnull=True, contact_due__lt=now)
            | Q(resolve_due__lt=now)
        )
        return queryset.filter(Exists(late)) if value else queryset.exclude(Exists(late))

    def filter_supervised(self, queryset, name, value):
        # Supervised now: a supervision in force over an assignment still being worked on (督办).
        current = Supervision.objects.filter(
            case=OuterRef("pk"), ended_at__isnull=True, assignment__state__in=Assignment.ACTIVE_STATES
        )
        return queryset.filter(Exists(current)) if value else queryset.exclude(Exists(current))

    def filter_reopened(self, queryset, name, value):
        # Sent back to a unit to be done again (重办) at least once: the home page's "returned to
        # your unit" links here with the unit and the open statuses.
        redo = CaseEvent.objects.filter(case=OuterRef("pk"), action="reopen")
        return queryset.filter(Exists(redo)) if value else queryset.exclude(Exists(redo))
