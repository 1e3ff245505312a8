import django_filters
from django.utils.translation import gettext_lazy as _

from routing.models import Unit


class UnitFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=Unit.Kind.choices, label=_("kind"))
    region = django_filters.CharFilter(field_name="region__code", lookup_expr="startswith", label=_("region code"))
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label=_("name"))

    class Meta:
        model = Unit
        fields = ["kind", "region", "q"]
