from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render

from grids.filters import RegionFilterSet
from grids.models import GridPosting, Region
from routing.models import Pairing, Unit
from routing.selectors import (
    can_browse_region,
    region_children_with_counts,
    region_prefixes_for,
    region_totals,
    regions_for,
)

SEARCH_LIMIT = 50


@login_required
def places_index(request):
    """The top of the places the user covers, or search results for `?q=`."""
    prefixes = region_prefixes_for(request.user)
    if prefixes == []:
        raise Http404
    if request.GET.get("q", "").strip():
        filterset = RegionFilterSet(request.GET, queryset=regions_for(request.user).select_related("parent"))
        results = list(filterset.qs.order_by("code")[: SEARCH_LIMIT + 1])
        return render(
            request,
            "routing/places_search.html",
            {
                "filterset": filterset,
                "results": results[:SEARCH_LIMIT],
                "more": len(results) > SEARCH_LIMIT,
                "limit": SEARCH_LIMIT,
            },
        )
    # The district for district-wide roles; otherwise the one area, or the level above several.
    top = "210111" if prefixes is None else _common_prefix(prefixes)
    region = Region.objects.filter(code=top).first() or regions_for(request.user).order_by("code").first()
    if region is None:
        raise Http404
    return redirect("places:region", code=region.code)


def _common_prefix(prefixes):
    if len(prefixes) == 1:
        return prefixes[0]
    common = prefixes[0]
    for prefix in prefixes[1:]:
        while not prefix.startswith(common):
            common = common[:-3]
    return common


@login_required
def region_detail(request, code):
    """One place: its breadcrumbs, its totals, and its children with their counts (or, for a grid,
    its workers). A place outside the user's areas answers 404, like one that does not exist."""
    region = Region.objects.filter(code=code).select_related("parent").first()
    if region is None or not can_browse_region(request.user, region):
        raise Http404
    ancestors = list(Region.objects.filter(code__in=region.ancestor_codes()).order_by("code"))
    context = {
        "region": region,
        "ancestors": ancestors,
        "children": region_children_with_counts(request.user, region),
        "totals": region_totals(region),
        "units": Unit.objects.filter(region=region, is_active=True).order_by("code"),
        "search": RegionFilterSet(),
    }
    if region.level == Region.Level.GRID:
        context["postings"] = GridPosting.objects.filter(grid=region).select_related("user").order_by("user__username")
    if region.level == Region.Level.COMMUNITY:
        context["pairings"] = Pairing.objects.filter(community=region).select_related("agency").order_by("agency__code")
    return render(request, "routing/region_detail.html", context)
