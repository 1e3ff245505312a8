"""A grid worker's "my grids" (我的网格): their grids on a map with the open cases in them as
points, and the same cases as a list beside the map (below it on a phone)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from cases.models import Case
from cases.replica import reads_replica
from dashboards import selectors
from grids.models import Region
from units.permissions import page_gate
from units.selectors import postings_for


@login_required
@reads_replica
def my_grids(request):
    """The grids the user is posted to and their open cases, the most recent first; 404 for
    anyone not posted to a grid. The cases come from `routing.selectors.cases_for`, so a grid
    worker never sees a case outside their grids."""
    page_gate(request.user, "dashboards:my-grids")
    codes = postings_for(request.user).grids
    grids = list(Region.objects.filter(code__in=codes).order_by("code").values("code", "name"))
    # The points drawn are capped (selectors.MAP_POINTS); the counts per grid are not.
    cases, counts = selectors.open_cases_in_grids(user=request.user, grids=codes)
    total = sum(counts.values())
    for case in cases:
        case["url"] = reverse("cases:detail", args=[case["number"]])
    for grid in grids:
        grid["open"] = counts.get(grid["code"], 0)
    still_open = "&".join(f"status={status}" for status in Case.OPEN_STATUSES)
    data = {
        "grids": [grid["code"] for grid in grids],
        "cases": cases,
        "labels": {
            "overdue": _("Overdue"),
            "at_grid": _("No point of its own: shown at its grid's centre."),
            "failed": _("The map could not be loaded."),
        },
    }
    context = {
        "grids": grids,
        "cases": cases,
        "total": total,
        "all_url": f"{reverse('cases:list')}?{still_open}",
        "data": data,
    }
    return render(request, "dashboards/my_grids.html", context)
