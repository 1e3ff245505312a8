"""Each figure's definition where the figure is shown (issue 23): the pages that show the same
figure name the same definition, in the words of docs/metrics.md, so a reader comparing 排行,
考核 and 看板 sees what each counts (by place or by handling unit, which days) without leaving
the page.

    {% load figure_definitions %}
    {% figure_definitions "received dispatched response_rate" basis="place" compare=True %}

renders a "指标口径" section (`id="definitions"`, each figure `id="def-<key>"`) that the page's
own notes link to. No query.
"""

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

# What a figure counts, one sentence each; the labels are the pages' own column headings.
DEFINITIONS = {
    "calls": (_("Calls"), _("Calls taken in the period, repeats of an open case included.")),
    "received": (
        _("Received"),
        _(
            "Cases registered in the period. For a unit: the lead assignments dispatched to it "
            "in the period (the same as dispatched)."
        ),
    ),
    "answered": (_("Answered directly"), _("Cases closed at intake in the period, answered on the spot.")),
    "dispatched": (
        _("Dispatched"),
        _(
            "Lead assignments dispatched in the period: first dispatches and re-dispatches after a "
            "return or a change of unit, cases received earlier included. It can therefore be more "
            "than the cases received."
        ),
    ),
    "open": (_("Open now"), _("Cases not closed, now, whatever the period.")),
    "overdue": (_("Overdue now"), _("Open cases whose lead unit has missed a deadline, now.")),
    "supervised": (_("Supervised now"), _("Open cases under supervision (督办), now.")),
    "closed": (_("Closed"), _("Cases closed in the period, however they closed.")),
    "response_rate": (
        _("Response rate"),
        _(
            "Lead assignments signed for and first contact made, both within their limits, divided by "
            "those whose outcome is known; returned or re-dispatched ones are left out, those still "
            "inside their limits are not counted yet."
        ),
    ),
    "resolution_rate": (
        _("Resolution rate"),
        _(
            "Callbacks in which the resident says the problem is solved, divided by the callbacks "
            "that reached the resident."
        ),
    ),
    "satisfaction_rate": (
        _("Satisfaction rate"),
        _(
            "(Satisfied + v × basically satisfied) divided by the callbacks that reached the "
            "resident; v is set in the admin, 0.8 by default."
        ),
    ),
    "on_time_rate": (
        _("On-time rate"),
        _(
            "Lead assignments resolved by their deadline, divided by those resolved plus those still "
            "open past a deadline that fell in the period."
        ),
    ),
    "return_rate": (_("Return rate"), _("Returns in the period divided by the dispatched.")),
    "redo_rate": (_("Redo rate"), _("Cases reopened in the period (redo) divided by the lead assignments resolved.")),
    "composite": (
        _("Composite score"),
        _(
            "The weighted mean of the response, resolution and satisfaction rates, out of 100 "
            "(weights from the admin, 30/35/35 by default); none while one of them has no value."
        ),
    ),
    "exempted": (_("Exempted"), _("Cases closed with an exemption in the period; the rates are not changed by it.")),
}

BASES = {
    "place": _(
        "By place (属地): everything that happened to the cases registered in the place, whichever "
        "unit led them. A street's figures are the same on the dashboard, the assessment and the "
        "ranking."
    ),
    "unit": _(
        "By handling unit (承办单位): the unit's own lead assignments, wherever the case is; "
        "assisting units are not scored."
    ),
}


@register.inclusion_tag("dashboards/_definitions.html")
def figure_definitions(keys, basis="", compare=False, live=False):
    """The definitions of `keys` (space-separated), the basis ("place", "unit", or "both" for a
    page that shows either), whether the page compares with an earlier period, and whether it
    reads daily totals with live figures beside them."""
    bases = ["place", "unit"] if basis == "both" else [basis] if basis else []
    return {
        "bases": [(name, BASES[name]) for name in bases],
        "figures": [(key, *DEFINITIONS[key]) for key in keys.split()],
        "compare": compare,
        "live": live,
    }
