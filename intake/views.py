import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases.errors import IdempotencyKeyReused, InvalidInput, NotPermitted
from cases.lifecycle import TransitionNotAllowed
from cases.services import CallDetails
from deadlines.policies import NoDefaultSlaPolicy, deadlines_for
from grids.boundaries import DISTRICT_CODE as DISTRICT
from grids.models import Region
from intake import services
from intake.forms import CallForm
from intake.models import Call
from intake.selectors import cases_of_caller, duplicates_for
from routing.pickers import picker
from routing.rules import route_for
from routing.selectors import cases_for, phone_visible_to, regions_for
from suggestions.selectors import suggest
from units.permissions import page_gate
from units.selectors import postings_for, region_prefixes_for


@login_required
def call_new(request):
    """The call-logging page: one form, usable on a phone."""
    page_gate(request.user, "intake:new")
    if request.method == "POST":
        form = CallForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                attach_to = _attach_target(request.user, data["attach_to"])
                call, created = services.call_register(
                    actor=request.user,
                    details=CallDetails.from_data(data),
                    attach_to=attach_to,
                    answer=data["answer"] if data["answered"] else None,
                    idempotency_key=data["submission"],
                    follow=data["follow"],
                    suggester_version=data["suggester_version"],
                )
            except (NotPermitted, InvalidInput, TransitionNotAllowed, IdempotencyKeyReused) as error:
                form.add_error(_visible_field(form, getattr(error, "field", None)), str(error))
            else:
                messages.success(request, _call_message(call, created))
                return redirect("cases:detail", number=call.case.number)
    else:
        form = CallForm(initial=_initial(request.user), user=request.user)
    context = {"form": form, "places": _place_choices(request.user, form), "map_area": _map_area(request.user)}
    return render(request, "intake/call_form.html", context)


def _map_area(user):
    """What the page's map draws (suquMaps.places): the places under `parent` at `level`. The
    whole district's operators see its streets; a street its communities; a committee its grids;
    a grid worker their grids (under the narrowest place holding them all)."""
    prefixes = region_prefixes_for(user)
    if prefixes is None:
        return {"parent": DISTRICT, "level": Region.Level.STREET}
    if not prefixes:
        return None
    # One level below the broadest area; a grid worker's grids are drawn themselves.
    depth = min(min(len(p) for p in prefixes) + 3, 15)
    parent = next(n for n in (12, 9, 6) if n < depth and len({p[:n] for p in prefixes}) == 1)
    return {"parent": prefixes[0][:parent], "level": Region.level_for_code("0" * depth)}


def _visible_field(form, name):
    """Where the page can show an error: under the field, or at the top for hidden ones."""
    if name in form.fields and not form.fields[name].widget.is_hidden:
        return name
    return None


def _attach_target(user, number):
    """The case a call is added to. An unknown number, or one not the user's to see, is refused
    (as the API does) rather than silently becoming a new case."""
    if not number:
        return None
    case = cases_for(user).filter(number=number).first()
    if case is None:
        raise InvalidInput(_("Unknown case %(number)s.") % {"number": number})
    return case


def _call_message(call, created):
    """What the call became, where a new case goes (the routing rules' unit and its deadlines, a
    preview: the dispatch itself runs in the background a moment later) and a link to log the
    next call."""
    number = call.case.number
    if not created:
        said = _("This call was already saved as case %(number)s.") % {"number": number}
    elif call.outcome == Call.Outcome.ATTACHED:
        said = _("The call was added to case %(number)s.") % {"number": number}
    elif call.outcome == Call.Outcome.ANSWERED:
        said = _("Case %(number)s was answered directly and closed.") % {"number": number}
    else:
        said = f"{_('Case %(number)s was registered.') % {'number': number}} {_routing_preview(call.case)}"
    return format_html(
        '{} <a class="alert-link" href="{}" id="log-another">{}</a>', said, reverse("intake:new"), _("Log another call")
    )


def _routing_preview(case) -> str:
    """Which unit the routing rules give the case, and by when it must be signed for and resolved
    if dispatched now; or that the dispatchers will choose. (The dispatch itself is queued after
    the call's transaction commits: the case page shows the unit once it has run.)"""
    decision = route_for(category=case.category, grid=case.grid)
    if decision.unit is None:
        return _("No routing rule covers it: a dispatcher of the district centre will choose the unit.")
    try:
        due = deadlines_for(case=case, at=timezone.now())
    except NoDefaultSlaPolicy:
        return _("By the routing rules it goes to %(unit)s.") % {"unit": decision.unit.name}
    return _("By the routing rules it goes to %(unit)s: to be signed for by %(sign)s and resolved by %(resolve)s.") % {
        "unit": decision.unit.name,
        "sign": _at(due["sign_due"]),
        "resolve": _at(due["resolve_due"]),
    }


def _at(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _initial(user):
    initial = {"submission": uuid.uuid4().hex, "channel": "hotline"}
    grids = postings_for(user).grids
    if grids:
        initial["channel"] = "patrol"
    if len(grids) == 1:
        initial["grid"] = grids[0]
    return initial


def _place_choices(user, form):
    """The street → community → grid choices the page starts with, following the chosen grid."""
    grid_code = form["grid"].value() or (form.located_grid.code if form.located_grid else "")
    visible = regions_for(user)
    streets = list(visible.filter(level=Region.Level.STREET).order_by("code"))
    street_code = grid_code[:9] if grid_code else (streets[0].code if len(streets) == 1 else "")
    community_code = grid_code[:12] if grid_code else ""
    communities = list(visible.filter(parent__code=street_code).order_by("code")) if street_code else []
    if not community_code and len(communities) == 1:
        community_code = communities[0].code
    grids = list(visible.filter(parent__code=community_code).order_by("code")) if community_code else []
    return {
        "streets": streets,
        "street": street_code,
        "communities": communities,
        "community": community_code,
        "grids": grids,
        "grid": grid_code,
    }


@login_required
def place_options(request):
    """htmx: the <option>s of the places under `parent`, or the grids matching `q`."""
    visible = regions_for(request.user)
    query = request.GET.get("q", "").strip()
    if query:
        # By name, pinyin initials or code, as every picker (routing/pickers.py).
        places = picker("place", only=Region.Level.GRID).search(request.user, query, limit=50)
    else:
        places = visible.filter(parent__code=request.GET.get("parent", "")).order_by("code")
    return render(request, "intake/_place_options.html", {"places": places})


@login_required
def caller_history(request):
    """htmx: the caller's earlier cases, as the phone number is typed. Only for people who take
    calls, and rate-limited: a number must not be found by trying numbers."""
    page_gate(request.user, "intake:caller-history")
    phone = request.GET.get("caller_phone", "").strip()
    cases = []
    if _lookups_allowed(request.user):
        cases = [c for c in cases_of_caller(request.user, phone) if phone_visible_to(request.user, c)]
    return render(request, "intake/_caller_history.html", {"cases": cases})


CALLER_LOOKUPS_PER_MINUTE = 30


def _lookups_allowed(user):
    """At most CALLER_LOOKUPS_PER_MINUTE phone lookups a minute per person (counted in Redis)."""
    key = f"caller-lookups:{user.pk}:{timezone.now():%Y%m%d%H%M}"
    try:
        cache.add(key, 0, timeout=90)
        return cache.incr(key) <= CALLER_LOOKUPS_PER_MINUTE
    except Exception:  # noqa: BLE001 - without Redis, no history rather than no intake
        return False


@login_required
def duplicate_candidates(request):
    """htmx: open cases nearby that this call may repeat."""
    grid = Region.objects.filter(level=Region.Level.GRID, code=request.GET.get("grid", "")).first()
    found = []
    if grid is not None:
        category = None
        code = request.GET.get("category", "")
        if code:
            from cases.models import Category

            category = Category.objects.filter(code=code).first()
        found = duplicates_for(request.user, grid=grid, category=category, text=request.GET.get("description", ""))
    return render(request, "intake/_duplicates.html", {"cases": found})


@login_required
@require_POST
def category_suggestions(request):
    """htmx, as the call is typed: the categories suggested for it (`suggestions.selectors`), each
    with the unit the rules give in the grid chosen. A POST: what has been typed can be longer
    than a URL may be."""
    page_gate(request.user, "intake:new")
    description = request.POST.get("description", "")
    if not description.strip():
        return render(request, "intake/_category_suggestions.html", {"suggestions": None})
    code = request.POST.get("grid", "")
    grid = Region.objects.filter(level=Region.Level.GRID, code=code).first() if code else None
    return render(request, "intake/_category_suggestions.html", {"suggestions": suggest(description, grid=grid)})
