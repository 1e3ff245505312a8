"""The overview dashboards: a place's figures for a period, its children beside them, and links
from every figure the case list can filter by to the cases behind it.

Every figure is read from the rollups (`dashboards.selectors`), except open, overdue and
supervised, which are the state of now; a page costs the same few queries whatever the number of
cases or places.
"""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.models import Case
from cases.replica import reads_replica
from dashboards import hotspots as hotspot_rules
from dashboards import selectors
from dashboards.forms import PeriodForm
from dashboards.models import RollupRun
from grids.models import Region

# (key, label, kind): the figures of a place, in the order of the cards and the table's columns.
FIGURES = (
    ("calls", gettext_lazy("Calls"), "count"),
    ("received", gettext_lazy("Received"), "count"),
    ("answered", gettext_lazy("Answered directly"), "count"),
    ("dispatched", gettext_lazy("Dispatched"), "count"),
    ("open", gettext_lazy("Open now"), "count"),
    ("overdue", gettext_lazy("Overdue now"), "count"),
    ("supervised", gettext_lazy("Supervised now"), "count"),
    ("closed", gettext_lazy("Closed"), "count"),
    ("response_rate", gettext_lazy("Response rate"), "rate"),
    ("resolution_rate", gettext_lazy("Resolution rate"), "rate"),
    ("satisfaction_rate", gettext_lazy("Satisfaction rate"), "rate"),
    ("on_time_rate", gettext_lazy("On-time rate"), "rate"),
)
FIGURE_NAMES = {
    "answered",
    "closed",
    "dispatched",
    "received",
    "response_rate",
    "resolution_rate",
    "satisfaction_rate",
    "on_time_rate",
}
# What the children table lists below a place, and the treemap's two levels under the district.
CHILD_LEVEL = {"district": "street", "street": "community", "community": "grid"}
TREEMAP_LEVELS = ("street", "community")
# The figures the map colours the children by (the first is the default), and how finely each
# level's places are drawn (grids.boundaries.SIMPLIFY: 3 for the whole district, finer below).
MAP_FIGURES = ("calls", "open", "overdue", "resolution_rate", "satisfaction_rate")
MAP_SIMPLIFY = {"district": 3, "street": 2, "community": 1, "grid": 1}


@login_required
@reads_replica
def index(request):
    """The user's own dashboard: the district, or their street or community; 404 without one."""
    roots = selectors.dashboard_roots_for(request.user)
    if not roots:
        raise Http404
    url = reverse("dashboards:overview", args=[roots[0].code])
    query = request.GET.urlencode()
    return redirect(f"{url}?{query}" if query else url)


@login_required
@reads_replica
def overview(request, code):
    """One place's figures for a period, its children's beside them (district, street and
    community), and for the district a treemap of its streets and communities."""
    region = Region.objects.filter(code=code).first()
    if region is None or not selectors.may_open(request.user, region):
        raise Http404
    roots = selectors.dashboard_roots_for(request.user)
    form = PeriodForm(request.GET)
    context = {
        "region": region,
        "crumbs": _crumbs(region, roots),
        "form": form,
        "selected": form.data.get("period") or "month",
        "as_of": RollupRun.objects.order_by("-finished_at").values_list("finished_at", flat=True).first(),
    }
    if form.is_valid():
        context.update(_figures_context(region, form))
        figure = request.GET.get("figure")
        context["map"] = _map(request.user, region, form.chosen, context.get("children") or [], figure)
    return render(request, "dashboards/overview.html", context)


def _crumbs(region, roots):
    """District → … → this place; a place above the user's own roots is named, not linked."""
    above = Region.objects.filter(code__in=region.ancestor_codes()).order_by("code")
    return [(place, any(place.code.startswith(root.code) for root in roots)) for place in [*above, region]]


def _figures_context(region, form):
    period = form.chosen
    query = form.query()
    child_level = CHILD_LEVEL.get(region.level)
    levels = ()
    if region.level == Region.Level.DISTRICT:
        levels = TREEMAP_LEVELS
    elif child_level:
        levels = (child_level,)
    seen = selectors.overview(region=region, period=period, levels=levels)
    summary, trend = seen.summary, seen.trend
    calls = sum(day[1] for day in trend)
    context = {
        "period": period,
        "period_query": urlencode(query),
        "cards": _cells(
            _values(
                summary.figures, calls=calls, open=summary.open, overdue=summary.overdue, supervised=summary.supervised
            ),
            _case_links(region.code, period),
        ),
        "columns": FIGURES,
    }
    charts = {
        "labels": {"calls": _("Calls"), "received": _("Received"), "closed": _("Closed"), "overdue": _("Overdue now")},
        "trend": {
            "days": [day.strftime("%m-%d") for day, *_counts in trend],
            "calls": [day[1] for day in trend],
            "received": [day[2] for day in trend],
            "closed": [day[3] for day in trend],
        },
        "categories": [{"name": name, "value": n} for name, n in seen.categories],
        "channels": [{"name": str(name), "value": n} for name, n in seen.channels],
    }
    if child_level:
        places = seen.places
        children = places[child_level]
        context["children"] = [
            {
                "place": child,
                "url": _dashboard_url(child.code, query),
                "cells": _cells(_place_values(child), _case_links(child.code, period)),
            }
            for child in children
        ]
        context["child_level"] = dict(Region.Level.choices)[child_level]
        charts["children"] = [
            {
                "name": child.name,
                "received": child.figures.received,
                "closed": child.figures.closed,
                "overdue": child.overdue,
            }
            for child in children
        ]
        if region.level == Region.Level.DISTRICT:
            charts["treemap"] = _treemap(children, places["community"], query)
            charts["labels"]["overdue_rate"] = _("Overdue rate (overdue now ÷ open now)")
    context["charts"] = charts
    return context


def _values(figures, **live) -> dict:
    values = {name: getattr(figures, name) for name in FIGURE_NAMES}
    return {**values, **live}


def _place_values(place) -> dict:
    return _values(
        place.figures, calls=place.calls, open=place.open, overdue=place.overdue, supervised=place.supervised
    )


def _cells(values, links) -> list[dict]:
    return [
        {"key": key, "label": label, "kind": kind, "value": values[key], "link": links.get(key)}
        for key, label, kind in FIGURES
    ]


def _case_links(code, period) -> dict:
    """The case list behind a figure, for the figures its filters can express exactly: the cases
    received (created in the period), answered directly in it, open, overdue and supervised now,
    under the place's code."""
    cases = reverse("cases:list")
    received = {"region": code, "created_from": period.first.isoformat(), "created_to": period.last.isoformat()}
    still_open = [("region", code), *(("status", status) for status in Case.OPEN_STATUSES)]
    closed = {"region": code, "closed_from": period.first.isoformat(), "closed_to": period.last.isoformat()}
    return {
        "received": f"{cases}?{urlencode(received)}",
        "open": f"{cases}?{urlencode(still_open)}",
        "overdue": f"{cases}?{urlencode({'overdue': 'true', 'region': code})}",
        "supervised": f"{cases}?{urlencode({'supervised': 'true', 'region': code})}",
        # Answered on the spot: closed at intake, the moment they were registered.
        "answered": f"{cases}?{urlencode({**closed, 'closure_reason': Case.ClosureReason.ANSWERED_DIRECTLY})}",
    }


def _dashboard_url(code, query):
    return f"{reverse('dashboards:overview', args=[code])}?{urlencode(query)}"


def _treemap(streets, communities, query) -> list[dict]:
    """Streets holding their communities, sized by cases received, coloured by overdue rate."""

    def node(place):
        rate = place.overdue_rate
        return {
            "name": place.name,
            "value": place.figures.received,
            "rate": None if rate is None else round(rate, 4),
            "overdue": place.overdue,
            "open": place.open,
            "url": _dashboard_url(place.code, query),
        }

    return [
        {**node(street), "children": [node(c) for c in communities if c.code.startswith(street.code)]}
        for street in streets
    ]


def _map(user, region, period, children, figure) -> dict:
    """What the page's map draws, beside the boundaries it fetches from the regions' API: each
    child's figures (the very numbers of the children table: no query of its own), the hotspots
    (grids with the same problem received at least the default number of times in the page's
    days, or in their last `hotspots.MAX_DAYS` when the page's are more: over a longer span almost
    any problem becomes one) and the cases supervised now, as points. Two to five queries whatever
    the number of places: the hotspots (one when there are none) and the supervised cases."""
    figures = [(key, label, kind) for key, label, kind in FIGURES if key in MAP_FIGURES]
    places = {}
    for row in children:
        values = {cell["key"]: cell["value"] for cell in row["cells"] if cell["key"] in MAP_FIGURES}
        for key, _label, kind in figures:
            if kind == "rate" and values[key] is not None:
                values[key] = round(values[key], 4)
        places[row["place"].code] = {"name": row["place"].name, "url": row["url"], **values}
    days = (period.last - period.first).days + 1
    spots_days = min(days, hotspot_rules.MAX_DAYS)
    spots_period = hotspot_rules.window(spots_days, period.last)
    # One more than is drawn, to say when the list was cut; no daily trend, which the map never shows.
    found = hotspot_rules.hotspots(
        days=spots_days, today=period.last, prefixes=[region.code], limit=hotspot_rules.LIMIT + 1, trend=False
    )
    supervised, supervised_total = selectors.supervised_points(user=user, prefix=region.code)
    for case in supervised:
        case["url"] = reverse("cases:detail", args=[case["number"]])
    return {
        "code": region.code,
        "name": region.name,
        "level": region.level,
        "child_level": CHILD_LEVEL.get(region.level),
        "simplify": MAP_SIMPLIFY[region.level],
        "figure": figure if figure in MAP_FIGURES else MAP_FIGURES[0],
        "figures": [{"key": key, "label": str(label), "kind": kind} for key, label, kind in figures],
        "places": places,
        "hotspots": [_hotspot_point(hotspot, spots_period) for hotspot in found[: hotspot_rules.LIMIT]],
        "hotspots_cut": len(found) > hotspot_rules.LIMIT,
        "hotspot_days": {
            "first": spots_period.first.isoformat(),
            "last": spots_period.last.isoformat(),
            "days": spots_days,
            "clamped": spots_days < days,
        },
        "threshold": hotspot_rules.DEFAULT_THRESHOLD["grid"],
        "supervised": supervised,
        "supervised_total": supervised_total,
        "labels": {
            "no_value": _("No figure (nothing to divide by)"),
            "hotspot": _("Hotspot"),
            "received": _("cases received"),
            "supervised": _("Supervised"),
            "overdue": _("Overdue"),
            "at_grid": _("No point of its own: shown at its grid's centre."),
            "failed": _("The map could not be loaded."),
            "open_cases": _("Open the cases"),
        },
    }


def _hotspot_point(hotspot, period) -> dict:
    query = {
        "region": hotspot.code,
        "category": hotspot.category.code,
        "created_from": period.first.isoformat(),
        "created_to": period.last.isoformat(),
    }
    return {
        "code": hotspot.code,
        "name": hotspot.name,
        "category": hotspot.category.name,
        "count": hotspot.count,
        "lat": hotspot.latitude,
        "long": hotspot.longitude,
        "url": f"{reverse('cases:list')}?{urlencode(query)}",
    }
