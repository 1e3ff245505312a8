import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from grids.models import Region


class RegionFilterSet(django_filters.FilterSet):
    """Filters for region lists: the API's `/regions/` and the places search page."""

    level = django_filters.ChoiceFilter(choices=Region.Level.choices, label=_("level"))
    parent = django_filters.CharFilter(field_name="parent__code", label=_("parent code"))
    q = django_filters.CharFilter(method="search", label=_("name or code"))

    class Meta:
        model = Region
        fields = ["level", "parent", "q"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        if value.isdigit():
            return queryset.filter(code__startswith=value)
        return queryset.filter(Q(name__icontains=value))
