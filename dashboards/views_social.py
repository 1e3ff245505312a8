"""The social-forces dashboard (一呼百应): a place's tasks, volunteer hours, bookings, points and
needs for a period, by its streets or communities (each linking to its own page), and each paired
agency's contributions (结邻共建). Who sees which place follows the other dashboards
(`selectors.dashboard_roots_for`): dispatchers and officials the district, a street office's staff
their street, a committee's staff their community; everyone else 404."""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy

from cases.replica import reads_replica
from dashboards import selectors
from dashboards.forms import PeriodForm
from dashboards.social import social
from grids.models import Region
from units.permissions import page_gate

# (key, label): the figures of a place, in the order of the cards and the table's columns.
FIGURES = (
    ("tasks_published", gettext_lazy("Tasks published")),
    ("tasks_done", gettext_lazy("Tasks done")),
    ("hours", gettext_lazy("Volunteer hours")),
    ("bookings_served", gettext_lazy("Bookings served")),
    ("points", gettext_lazy("Points awarded")),
    ("needs_matched", gettext_lazy("Needs matched")),
)
AGENCY_FIGURES = (
    ("needs", gettext_lazy("Needs taken up")),
    ("problems", gettext_lazy("Problems taken up at meetings")),
    ("meetings", gettext_lazy("Meetings attended")),
    ("tasks_done", gettext_lazy("Tasks for it done")),
)


@login_required
@reads_replica
def social_index(request):
    """The user's own place: the district, or their street or community."""
    page_gate(request.user, "dashboards:social")
    roots = selectors.dashboard_roots_for(request.user)
    if not roots:
        raise Http404
    url = reverse("dashboards:social-place", args=[roots[0].code])
    query = request.GET.urlencode()
    return redirect(f"{url}?{query}" if query else url)


@login_required
@reads_replica
def social_page(request, code):
    page_gate(request.user, "dashboards:social")
    region = Region.objects.filter(code=code).exclude(level=Region.Level.GRID).first()
    roots = selectors.dashboard_roots_for(request.user)
    if region is None or not any(region.code.startswith(root.code) for root in roots):
        raise Http404
    form = PeriodForm(request.GET)
    above = Region.objects.filter(code__in=region.ancestor_codes()).order_by("code")
    context = {
        "region": region,
        "crumbs": [(place, any(place.code.startswith(r.code) for r in roots)) for place in [*above, region]],
        "form": form,
        "selected": form.data.get("period") or "month",
        "columns": FIGURES,
        "agency_columns": AGENCY_FIGURES,
    }
    if form.is_valid():
        query = urlencode(form.query())
        seen = social(region=region, period=form.chosen)
        context.update(
            period=form.chosen,
            period_query=query,
            cards=[{"key": key, "label": label, "value": seen.total[key]} for key, label in FIGURES],
            child_level=dict(Region.Level.choices)[seen.child_level] if seen.child_level else None,
            children=[
                {
                    "place": child,
                    "url": f"{reverse('dashboards:social-place', args=[child.code])}?{query}",
                    "cells": [{"key": key, "value": child.figures[key]} for key, _label in FIGURES],
                }
                for child in seen.children
            ],
            agencies=[
                {"agency": agency, "cells": [{"key": key, "value": agency.figures[key]} for key, _l in AGENCY_FIGURES]}
                for agency in seen.agencies
            ],
        )
    return render(request, "dashboards/social.html", context)
