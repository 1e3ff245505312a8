"""How a change from last month reads: a signed difference, in points for a score and in
percentage points for a rate, and "—" where either month had nothing to compare."""

from django import template

register = template.Library()

NOTHING = "—"


@register.filter
def signed_points(change):
    """A composite score's change: +3.5, −1.0, ±0.0."""
    return NOTHING if change is None else _signed(change)


@register.filter
def signed_percent_points(change):
    """A rate's change in percentage points: +5.0, −12.5."""
    return NOTHING if change is None else _signed(change * 100)


@register.filter
def trend_class(change, lower_is_better=False):
    """A Bootstrap text colour: green for better, red for worse (up is better, except for the
    return and redo rates), grey for no change or nothing to compare."""
    if change is None or round(change, 9) == 0:
        return "text-body-secondary"
    return "text-success" if (change > 0) != bool(lower_is_better) else "text-danger"


@register.filter
def get_item(mapping, key):
    return mapping.get(key)


def _signed(value):
    value = round(value, 1)
    if value == 0:
        return "±0.0"
    return f"+{value:.1f}" if value > 0 else f"−{-value:.1f}"
