from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases import lifecycle
from cases.errors import InvalidInput, NotPermitted
from cases.http import form_errors_as_messages, safe_next, shows_domain_errors
from cases.lifecycle import TransitionNotAllowed
from cases.models import Case, CaseEvent
from escalation import services as escalation
from grids.filters import RegionFilterSet
from grids.models import GridPosting, Region
from routing import dispatch
from routing.doors import case_page_action
from routing.forms import ConsoleBulkForm, ConsoleDispatchForm, DeadlineForm, ReassignForm, UrgeForm
from routing.models import ReturnReason
from routing.pickers import PICKERS, picker, scope_pickers
from routing.reclassify import waiting_proposal
from routing.rules import decision_without, routes_for_many
from routing.selectors import (
    can_browse_region,
    case_get_for,
    cases_for,
    pending_extensions,
    region_children_with_counts,
    region_totals,
    regions_for,
    returned_by,
    supervisions_for,
)
from suggestions.selectors import suggest_many
from units.models import Pairing, Unit
from units.permissions import is_dispatcher, page_gate
from units.selectors import postings_for, region_prefixes_for

SEARCH_LIMIT = 50


@login_required
def pick(request, kind):
    """A picker's options for the text typed (`q`, or the box's own `<name>_text` that htmx
    sends), among what the person may see: a fragment of the page (routing/pickers.py)."""
    if kind not in PICKERS:
        raise Http404
    text = request.GET.get("q") or next((v for k, v in request.GET.items() if k.endswith("_text")), "")
    options = picker(kind, request.GET.get("only", "")).search(request.user, text)
    return render(request, "routing/_picker_options.html", {"options": options, "text": text.strip()})


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


CONSOLE_TABS = {
    "waiting": (Case.Status.REGISTERED,),
    "returned": (Case.Status.RETURNED,),
}
CONSOLE_PAGE = 50


@login_required
def console(request):
    """The dispatcher's console: cases waiting for dispatch and cases returned by units, each with
    the rules' suggestion, to dispatch one by one or in bulk."""
    page_gate(request.user, "routing:console")
    counts = dict(
        cases_for(request.user)
        .filter(status__in=[s for statuses in CONSOLE_TABS.values() for s in statuses])
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    # Returned cases first: a unit has sent them back, often with the right category proposed.
    tab = request.GET.get("tab") or ("returned" if counts.get(Case.Status.RETURNED) else "waiting")
    if tab not in CONSOLE_TABS:
        tab = "waiting"
    cases = list(
        cases_for(request.user)
        .filter(status__in=CONSOLE_TABS[tab])
        .select_related("category", "category__parent", "grid")
        .order_by("created_at")[:CONSOLE_PAGE]
    )
    suggestions = routes_for_many(cases)
    returns, returned = _last_returns(cases) if tab == "returned" else ({}, {})
    for case in cases:
        # A unit that returned the case is never proposed for it again.
        case.suggestion = decision_without(suggestions[case.pk], returned.get(case.pk, set()))
        case.last_return = returns.get(case.pk)
        case.proposal = case.last_return if case.last_return and waiting_proposal(case, case.last_return) else None
    if tab == "waiting":
        # The categories suggested for each case's text (suggestions.selectors), all in one pass.
        learned = suggest_many([("", case.description) for case in cases], grids=[case.grid for case in cases], k=2)
        for case, suggested in zip(cases, learned, strict=True):
            case.learned = suggested
    return render(
        request,
        "routing/console.html",
        {
            "tab": tab,
            "cases": cases,
            "counts": {
                **{name: sum(counts.get(s, 0) for s in statuses) for name, statuses in CONSOLE_TABS.items()},
                "extensions": pending_extensions().count(),
            },
        },
    )


@login_required
def console_extensions(request):
    """Extension requests waiting for a dispatcher's decision, the oldest first."""
    page_gate(request.user, "routing:console")
    requests = (
        pending_extensions()
        .select_related("assignment__case", "assignment__unit", "requested_by")
        .order_by("requested_at")[:CONSOLE_PAGE]
    )
    return render(
        request,
        "routing/console_extensions.html",
        {"requests": requests, "tab": "extensions", "counts": None},
    )


def _last_returns(cases):
    """The latest return event of each case, and the units that returned each (every return), in
    one query."""
    latest, returned = {}, {}
    events = CaseEvent.objects.filter(case__in=cases, action="return").select_related("actor").order_by("at", "id")
    labels = dict(ReturnReason.choices)
    for event in events:
        event.reason_label = labels.get(event.data.get("reason"), "")
        latest[event.case_id] = event
        if event.data.get("unit"):
            returned.setdefault(event.case_id, set()).add(event.data["unit"])
    return latest, returned


@login_required
@require_POST
@shows_domain_errors
def console_dispatch(request):
    """Dispatch one case (or re-dispatch it) to the unit chosen in the console."""
    page_gate(request.user, "routing:console")
    case = case_get_for(request.user, request.POST.get("case", ""))
    form = scope_pickers(ConsoleDispatchForm(request.POST), request.user)
    if not form.is_valid():
        form_errors_as_messages(request, form)
        return redirect(safe_next(request, "routing:console"))
    unit = Unit.objects.get(code=form.cleaned_data["unit"])
    dispatch.case_dispatch(
        case=case,
        unit=unit,
        actor=request.user,
        reason=form.cleaned_data["reason"],
        redispatch=lifecycle.is_allowed("redispatch", case.status),
    )
    messages.success(request, _("Case %(number)s went to %(unit)s.") % {"number": case.number, "unit": unit.name})
    return redirect(safe_next(request, "routing:console"))


@login_required
@require_POST
def console_bulk(request):
    """Dispatch the ticked cases, each to its suggested unit or all to one chosen unit. Each case
    is its own transaction: one refusal does not undo the others, and each is reported."""
    page_gate(request.user, "routing:console")
    numbers = request.POST.getlist("cases")
    form = scope_pickers(ConsoleBulkForm(request.POST), request.user)
    if not form.is_valid():
        form_errors_as_messages(request, form)
        return redirect(safe_next(request, "routing:console"))
    unit = Unit.objects.get(code=form.cleaned_data["unit"]) if form.cleaned_data["unit"] else None
    cases = list(cases_for(request.user).filter(number__in=numbers).select_related("category", "grid"))
    suggestions = {}
    if unit is None:
        # As in the console: a unit that returned a case is not its suggestion.
        returned = returned_by(case.pk for case in cases if case.status == Case.Status.RETURNED)
        suggestions = {
            case_id: decision_without(decision, returned.get(case_id, set()))
            for case_id, decision in routes_for_many(cases).items()
        }
    done, problems = 0, []
    for case in cases:
        target = unit or (suggestions.get(case.pk).unit if suggestions.get(case.pk) else None)
        if target is None:
            problems.append(_("%(number)s: no suggestion; choose a unit.") % {"number": case.number})
            continue
        try:
            dispatch.case_dispatch(case=case, unit=target, actor=request.user, reason=form.cleaned_data["reason"])
            done += 1
        except (TransitionNotAllowed, NotPermitted, InvalidInput) as error:
            problems.append(f"{case.number}: {error}")
    if done:
        messages.success(request, _("%(count)s cases dispatched.") % {"count": done})
    for problem in problems:
        messages.error(request, problem)
    return redirect(safe_next(request, "routing:console"))


SUPERVISION_PAGE = 100


@login_required
def supervision(request):
    """督办: the cases the user's units supervise, most recently supervised first, with the
    actions (urge, reassign, new deadline) for those who may act on them."""
    page_gate(request.user, "routing:supervision")
    rows = list(
        supervisions_for(request.user)
        .select_related("case", "case__category", "case__grid", "assignment__unit", "unit")
        .order_by("-started_at", "-id")[:SUPERVISION_PAGE]
    )
    # Who acts for which supervision, by the rule of routing.selectors.supervision_acting_for,
    # without a query per row.
    postings = postings_for(request.user)
    acting = {code for code, kind, *_rest in postings.units if kind != Unit.Kind.LEADERSHIP}
    dispatcher = is_dispatcher(request.user)
    for row in rows:
        row.may_act = row.unit.code in acting or (dispatcher and row.unit.kind == Unit.Kind.LEADERSHIP)
    return render(
        request,
        "routing/supervision.html",
        {
            "rows": rows,
            "urge_form": UrgeForm(),
            "reassign_form": ReassignForm(),
            "deadline_form": DeadlineForm(),
        },
    )


def _supervision_action(form_class, run, done_message):
    """A supervisor's action on one case; afterwards the supervision page again, with a message
    saying what it did (`done_message(case, result)`: the unit, the new deadline)."""

    def act(request, case, data):
        return done_message(case, run(request, case, data))

    return case_page_action(form_class, act, back=lambda request, case: reverse("routing:supervision"))


def _reassign(request, case, data):
    unit = Unit.objects.filter(code=data["unit"].strip(), is_active=True).first()
    if unit is None:
        raise InvalidInput(_("Choose a unit from the list."), "unit")
    return dispatch.case_dispatch(case=case, unit=unit, actor=request.user, reason=data["reason"], redispatch=True)


def _at(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


supervision_urge = _supervision_action(
    UrgeForm,
    lambda request, case, data: escalation.case_urge(case=case, actor=request.user, note=data["note"]),
    lambda case, result: _("Case %(number)s urged; the unit has your note.") % {"number": case.number},
)
supervision_reassign = _supervision_action(
    ReassignForm,
    _reassign,
    lambda case, part: (
        _("Case %(number)s went to %(unit)s; it signs for it by %(time)s.")
        % {"number": case.number, "unit": part.unit.name, "time": _at(part.sign_due)}
    ),
)
supervision_deadline = _supervision_action(
    DeadlineForm,
    lambda request, case, data: escalation.case_set_deadline(
        case=case, actor=request.user, until=data["until"], reason=data["reason"]
    ),
    lambda case, lead: (
        _("Case %(number)s must now be resolved by %(time)s.") % {"number": case.number, "time": _at(lead.resolve_due)}
    ),
)
