from datetime import datetime, time, timedelta

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from routing.models import Assignment
from routing.pickers import PickerFilter, ScopedPickers


class QueueFilterSet(ScopedPickers, django_filters.FilterSet):
    """The queue's filters, the same on the page and in `GET /api/v1/queue/`. The category and the
    place are picked by name on the page (routing/pickers.py); the API's parameters stay codes."""

    category = PickerFilter(
        "category", field_name="case__category__code", lookup_expr="startswith", label=_("Category")
    )
    region = PickerFilter(
        "place", field_name="case__grid__code", lookup_expr="startswith", label=_("Street, community or grid")
    )
    due_by = django_filters.DateFilter(
        method="filter_due_by", label=_("due by"), widget=forms.DateInput(attrs={"type": "date"})
    )
    q = django_filters.CharFilter(method="search", label=_("number or text"))

    class Meta:
        model = Assignment
        fields = ["category", "region", "due_by", "q"]

    def filter_due_by(self, queryset, name, value):
        end = timezone.make_aware(datetime.combine(value + timedelta(days=1), time.min))
        return queryset.filter(next_due__lt=end)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        if value.upper().startswith("SJT-"):
            return queryset.filter(case__number__startswith=value.upper())
        return queryset.filter(Q(case__description__icontains=value) | Q(case__address__icontains=value))
