import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases import lifecycle
from cases.errors import IdempotencyKeyReused, InvalidInput, NotPermitted
from cases.http import shows_domain_errors
from cases.lifecycle import TransitionNotAllowed
from cases.models import Case
from cases.services import categories_suggested
from feedback import services as feedback_services
from feedback.forms import CloseForm, ExemptCloseForm, ReopenForm
from grids.models import Region
from intake import services
from intake.forms import CallForm, MergeForm
from intake.models import Call
from intake.selectors import cases_of_caller, duplicates_for
from routing.filters import CaseFilterSet
from routing.permissions import page_gate
from routing.selectors import (
    Role,
    case_get_for,
    cases_for,
    is_supervised,
    open_supervisions,
    phone_visible_to,
    postings_for,
    regions_for,
    roles_for,
)

CASES_PER_PAGE = 25


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
                    channel=data["channel"],
                    description=data["description"],
                    category=data["category"],
                    grid=data["grid"],
                    priority=data["priority"] or None,
                    address=data["address"],
                    latitude=data["latitude"],
                    longitude=data["longitude"],
                    caller_name=data["caller_name"],
                    caller_phone=data["caller_phone"],
                    caller_confidential=data["caller_confidential"],
                    photos=data["photos"],
                    attach_to=attach_to,
                    answer=data["answer"] if data["answered"] else None,
                    idempotency_key=data["submission"],
                )
            except (NotPermitted, InvalidInput, TransitionNotAllowed, IdempotencyKeyReused) as error:
                form.add_error(_visible_field(form, getattr(error, "field", None)), str(error))
            else:
                messages.success(request, _call_message(call, created))
                return redirect("cases:detail", number=call.case.number)
    else:
        form = CallForm(initial=_initial(request.user), user=request.user)
    return render(request, "intake/call_form.html", {"form": form, "places": _place_choices(request.user, form)})


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
    if not created:
        return _("This call was already saved as case %(number)s.") % {"number": call.case.number}
    if call.outcome == Call.Outcome.ATTACHED:
        return _("The call was added to case %(number)s.") % {"number": call.case.number}
    if call.outcome == Call.Outcome.ANSWERED:
        return _("Case %(number)s was answered directly and closed.") % {"number": call.case.number}
    return _("Case %(number)s was registered.") % {"number": call.case.number}


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
    grid_code = form["grid"].value() or ""
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
        places = visible.filter(level=Region.Level.GRID)
        places = places.filter(code__startswith=query) if query.isdigit() else places.filter(name__icontains=query)
        places = places.order_by("code")[:50]
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
def category_suggestions(request):
    """htmx: categories whose keywords appear in what has been typed."""
    return render(
        request,
        "intake/_category_suggestions.html",
        {"categories": categories_suggested(request.GET.get("description", ""))},
    )


@login_required
def case_list(request):
    filterset = CaseFilterSet(
        request.GET or None,
        queryset=cases_for(request.user)
        .select_related("category", "grid")
        .annotate(supervised=is_supervised())
        .order_by("-created_at"),
    )
    page = Paginator(filterset.qs, CASES_PER_PAGE).get_page(request.GET.get("page"))
    # Pagination keeps the sort order; the sort links replace it.
    paging = request.GET.copy()
    paging.pop("page", None)
    sorting = paging.copy()
    sorting.pop("ordering", None)
    return render(
        request,
        "intake/case_list.html",
        {"filterset": filterset, "page": page, "paging": paging.urlencode(), "sorting": sorting.urlencode()},
    )


@login_required
def case_detail(request, number):
    case = case_get_for(request.user, number)
    assignments = list(case.assignments.select_related("unit", "requested_by").order_by("dispatched_at", "id"))
    roles = roles_for(request.user)
    is_dispatcher = Role.DISPATCHER in roles
    allowed = set(lifecycle.allowed_actions(case.status))
    context = {
        "case": case,
        "calls": case.calls.select_related("created_by").order_by("created_at"),
        "photos": case.photos.order_by("uploaded_at"),
        "events": lifecycle.timeline(case),
        "assignments": assignments,
        "works_on_it": _works_on_it(request.user, assignments),
        "may_reveal_phone": bool(case.caller_phone) and phone_visible_to(request.user, case),
        "supervisions": open_supervisions().filter(case=case).select_related("unit").order_by("level"),
        "close_form": CloseForm() if is_dispatcher and "close_invalid" in allowed else None,
        "merge_form": MergeForm() if is_dispatcher and "merge" in allowed else None,
        # The end of the loop (feedback): a dispatcher reopens a resolved or closed case (重办),
        # or closes a resolved one the resident is not content with, giving an exemption (免责).
        "reopen_form": ReopenForm()
        if is_dispatcher and "reopen" in allowed and case.closure_reason != Case.ClosureReason.DUPLICATE
        else None,
        "exempt_form": ExemptCloseForm() if is_dispatcher and "exempt" in allowed else None,
    }
    return render(request, "intake/case_detail.html", context)


def _works_on_it(user, assignments):
    """Whether one of the user's units has an active part in the case (then the workspace opens)."""
    mine = {code for code, *_rest in postings_for(user).units}
    return any(a.unit.code in mine and a.state in ("waiting", "signed") for a in assignments)


@login_required
def case_photo(request, number, photo_id):
    """A case's photo, only for those who may read the case (photos show people and homes)."""
    case = case_get_for(request.user, number)
    photo = case.photos.filter(pk=photo_id).first()
    if photo is None:
        raise Http404
    extension = photo.image.name.rsplit(".", 1)[-1].lower()
    response = FileResponse(photo.image.open("rb"), content_type=PHOTO_TYPES.get(extension, "application/octet-stream"))
    # Even a file that slipped through must not run as a page here.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


PHOTO_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif"}


@login_required
@require_POST
@shows_domain_errors
def case_close(request, number):
    case = case_get_for(request.user, number)
    form = CloseForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
        return redirect("cases:detail", number=number)
    feedback_services.case_close_invalid(case=case, actor=request.user, **form.cleaned_data)
    messages.success(request, _("Case %(number)s was closed.") % {"number": number})
    return redirect("cases:detail", number=number)


@login_required
@require_POST
@shows_domain_errors
def case_merge(request, number):
    case = case_get_for(request.user, number)
    form = MergeForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
        return redirect("cases:detail", number=number)
    into = cases_for(request.user).filter(number=form.cleaned_data["into"]).first()
    if into is None:
        messages.error(request, _("Unknown case %(number)s.") % {"number": form.cleaned_data["into"]})
        return redirect("cases:detail", number=number)
    survivor = services.case_merge(case=case, into=into, actor=request.user, note=form.cleaned_data["note"])
    messages.success(
        request, _("Case %(number)s was merged into %(into)s.") % {"number": number, "into": survivor.number}
    )
    return redirect("cases:detail", number=survivor.number)


@login_required
@require_POST
@shows_domain_errors
def case_reveal_phone(request, number):
    """htmx: swap the masked number for the full one; the reveal is recorded on the timeline."""
    case = case_get_for(request.user, number)
    phone = services.caller_phone_reveal(case=case, actor=request.user)
    return render(request, "intake/_phone.html", {"phone": phone})
