"""How the figures read: a rate as a percentage with one decimal, and "—" where there is nothing
to divide by (an empty month is not 0%)."""

from django import template

register = template.Library()

NOTHING = "—"


@register.filter
def percent(rate):
    return NOTHING if rate is None else f"{rate * 100:.1f}%"


@register.filter
def one_decimal(value):
    return NOTHING if value is None else f"{value:.1f}"
