import re
from datetime import datetime, time, timedelta

import django_filters
from django import forms
from django.core.validators import RegexValidator
from django.db.models import Exists, OuterRef, Q
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
    q = django_filters.CharFilter(method="search", label=_("number, text or a caller's whole phone number"))
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
        phones = _phone_forms(value)
        if phones:
            return _by_caller_phone(queryset, phones)
        return queryset.filter(Q(description__icontains=value) | Q(address__icontains=value))


# A whole phone number as intake accepts one (accounts.models.phone_validator), spaces allowed.
WHOLE_PHONE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8}|\d{7,8})$")


def _phone_forms(value) -> list[str]:
    """The ways a whole number may have been written down (a landline with or without its dash);
    [] for anything that is not a whole number. Part of a number finds nothing: the search must
    not be a way to discover callers' numbers digit by digit."""
    phone = re.sub(r"[\s]", "", value)
    if not WHOLE_PHONE.match(phone):
        return []
    digits = phone.replace("-", "")
    forms_ = {phone, digits}
    if digits.startswith("0"):
        # 024-12345678 or 0248-1234567: every place the dash may have stood.
        forms_ |= {f"{digits[:n]}-{digits[n:]}" for n in (3, 4) if 7 <= len(digits) - n <= 8}
    return sorted(forms_)


def _by_caller_phone(queryset, phones):
    """The cases whose caller, or the caller of any call attached to them, has one of `phones`.

    Searching by a whole number finds a case in the person's own scope without showing the
    number (the list shows none, the case page masks it); a caller who asked for confidentiality
    is never found by their number (only a recorded reveal on the case page connects them)."""
    calls = Case._meta.get_field("calls").related_model.objects.filter(
        case=OuterRef("pk"), caller_phone__in=phones, caller_confidential=False
    )
    return queryset.filter(Q(caller_phone__in=phones, caller_confidential=False) | Exists(calls))


def _start_of(day):
    return timezone.make_aware(datetime.combine(day, time.min))
