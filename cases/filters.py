from datetime import datetime, time, timedelta

import django_filters
from django import forms
from django.core.validators import RegexValidator
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import Case, Channel

REGION_CODE = RegexValidator(
    r"^[0-9]{6}([0-9]{3}){0,3}$", _("A region code has 6, 9, 12 or 15 digits."), code="invalid"
)


class CaseFilterSet(django_filters.FilterSet):
    """The case list's filters, the same in the page's URL and in `GET /api/v1/cases/`."""

    status = django_filters.MultipleChoiceFilter(choices=Case.Status.choices, label=_("status"))
    category = django_filters.CharFilter(method="filter_category", label=_("category code"))
    region = django_filters.CharFilter(
        method="filter_region",
        label=_("street, community or grid code"),
        validators=[REGION_CODE],
    )
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("channel"))
    created_from = django_filters.DateFilter(
        method="filter_from", label=_("from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    created_to = django_filters.DateFilter(
        method="filter_to", label=_("to"), widget=forms.DateInput(attrs={"type": "date"})
    )
    closed_from = django_filters.DateFilter(
        method="filter_closed_from", label=_("closed from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    closed_to = django_filters.DateFilter(
        method="filter_closed_to", label=_("closed to"), widget=forms.DateInput(attrs={"type": "date"})
    )
    closure_reason = django_filters.ChoiceFilter(choices=Case.ClosureReason.choices, label=_("closure reason"))
    q = django_filters.CharFilter(method="search", label=_("number or text"))
    ordering = django_filters.OrderingFilter(
        fields=(("created_at", "created"), ("number", "number"), ("status", "status"), ("call_count", "calls")),
        label=_("order by"),
    )

    class Meta:
        model = Case
        fields = [
            "status",
            "category",
            "region",
            "channel",
            "created_from",
            "created_to",
            "closed_from",
            "closed_to",
            "closure_reason",
            "q",
        ]

    def filter_category(self, queryset, name, value):
        # A class code (two digits) covers all its kinds: category codes share their parent's prefix.
        return queryset.filter(category__code__startswith=value.strip())

    def filter_region(self, queryset, name, value):
        # The grid column holds the 15-digit code, so any area is a prefix of it.
        return queryset.filter(grid__code__startswith=value)

    # Days are Shanghai days; comparing timestamps (not their dates) keeps the index usable.
    def filter_from(self, queryset, name, value):
        return queryset.filter(created_at__gte=_start_of(value))

    def filter_to(self, queryset, name, value):
        return queryset.filter(created_at__lt=_start_of(value + timedelta(days=1)))

    def filter_closed_from(self, queryset, name, value):
        return queryset.filter(closed_at__gte=_start_of(value))

    def filter_closed_to(self, queryset, name, value):
        return queryset.filter(closed_at__lt=_start_of(value + timedelta(days=1)))

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        if value.upper().startswith("SJT-"):
            return queryset.filter(number__startswith=value.upper())
        return queryset.filter(Q(description__icontains=value) | Q(address__icontains=value))


def _start_of(day):
    return timezone.make_aware(datetime.combine(day, time.min))
