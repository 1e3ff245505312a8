"""The dispatchers' page of requests from integrating systems that wait for them: a work order or an
Open311 request whose category or place was not known. Each is placed (a category and a grid:
its case opens) or refused with a reason, which its sender hears."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases.http import form_errors_as_messages, shows_domain_errors
from cases.models import Category
from grids.models import Region
from integrations.forms import PlaceForm, RefuseForm
from integrations.models import CategoryMapping, Inbound
from integrations.services import inbound_place, inbound_refuse
from routing.pickers import scope_pickers
from units.permissions import page_gate

HELD_PAGE = 100


@login_required
def held(request):
    """The held requests, the oldest first, each with why it waits and what it said."""
    page_gate(request.user, "integrations:held")
    held_rows = Inbound.objects.filter(state=Inbound.State.HELD)
    rows = list(held_rows.select_related("system").order_by("received_at", "id")[:HELD_PAGE])
    # Their category code, where the system's table maps it: offered as the category to give.
    wanted = Q(pk__in=[])
    for row in rows:
        if row.payload.get("category"):
            wanted |= Q(system_id=row.system_id, code=str(row.payload["category"]))
    mapped = {
        (mapping.system_id, mapping.code): mapping.category.code
        for mapping in CategoryMapping.objects.filter(wanted).select_related("category")
    }
    for row in rows:
        payload = row.payload
        row.text = payload.get("description", "")
        row.address = payload.get("address", "")
        row.their_category = str(payload.get("category") or payload.get("service_code") or "")
        # An Open311 request names one of our categories; a work order its own code.
        row.category_given = payload.get("service_code") or mapped.get((row.system_id, row.their_category), "")
        row.grid_given = str(payload.get("grid") or "")
    # What the pickers show for the codes given: the category's and the grid's names.
    given = {row.category_given for row in rows} | {row.grid_given for row in rows}
    names = dict(Category.objects.filter(code__in=given).values_list("code", "name"))
    names.update(Region.objects.filter(code__in=given, level=Region.Level.GRID).values_list("code", "name"))
    for row in rows:
        row.category_text = names.get(row.category_given, row.category_given)
        row.grid_text = names.get(row.grid_given, row.grid_given)
    return render(
        request,
        "integrations/held.html",
        {
            "rows": rows,
            "total": held_rows.count() if len(rows) == HELD_PAGE else len(rows),
        },
    )


@login_required
@require_POST
@shows_domain_errors
def held_place(request, pk):
    """Give a held request its category and grid: its case opens."""
    page_gate(request.user, "integrations:held")
    inbound = get_object_or_404(Inbound, pk=pk)
    form = scope_pickers(PlaceForm(request.POST), request.user)
    if not form.is_valid():
        form_errors_as_messages(request, form)
        return redirect("integrations:held")
    placed = inbound_place(
        inbound=inbound, actor=request.user, category=form.cleaned_data["category"], grid=form.cleaned_data["grid"]
    )
    messages.success(
        request,
        _("%(id)s is case %(number)s now.") % {"id": placed.external_id or placed.token, "number": placed.case.number},
    )
    return redirect("integrations:held")


@login_required
@require_POST
@shows_domain_errors
def held_refuse(request, pk):
    """Refuse a held request with the reason its sender is told."""
    page_gate(request.user, "integrations:held")
    inbound = get_object_or_404(Inbound, pk=pk)
    form = RefuseForm(request.POST)
    if not form.is_valid():
        form_errors_as_messages(request, form)
        return redirect("integrations:held")
    refused = inbound_refuse(inbound=inbound, actor=request.user, reason=form.cleaned_data["reason"])
    messages.success(request, _("%(id)s was refused.") % {"id": refused.external_id or refused.token})
    return redirect("integrations:held")
