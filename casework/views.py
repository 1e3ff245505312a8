"""The case pages: the list of the cases a person may read, the case page (its file, timeline,
photos and the actions the lifecycle allows the person now), and the actions posted from it.
They sit above the stages and show each stage's part of the case; the stages' own pages (the
call form, the workspace, the callback and verification pages) live with their stage."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases import lifecycle
from cases.errors import InvalidInput, NotPermitted
from cases.http import safe_next, shows_domain_errors
from cases.lifecycle import TransitionNotAllowed
from cases.models import Case, CasePhoto
from cases.replica import reads_replica
from feedback import services as feedback_services
from feedback.forms import CloseForm, ExemptCloseForm, ReopenForm
from grids.boundaries import feature
from grids.models import BoundarySet
from intake import services as intake_services
from intake.forms import MergeForm
from mediation.forms import SendForm
from mediation.selectors import may_send_to_mediation
from routing import reclassify
from routing.doors import case_page_action
from routing.filters import CaseFilterSet
from routing.forms import ReclassifyForm
from routing.models import Assignment
from routing.pickers import scope_pickers
from routing.reclassify import waiting_proposal
from routing.selectors import case_get_for, cases_for, is_supervised, open_supervisions, phone_visible_to
from units import permissions
from units.selectors import postings_for
from volunteers.models import Task

CASES_PER_PAGE = 25


@login_required
@reads_replica
def case_list(request):
    permissions.page_gate(request.user, "cases:list")
    filterset = CaseFilterSet(
        request.GET or None,
        queryset=cases_for(request.user)
        .select_related("category", "grid")
        .annotate(supervised=is_supervised())
        .order_by("-created_at"),
        request=request,
    )
    page = Paginator(filterset.qs, CASES_PER_PAGE).get_page(request.GET.get("page"))
    # Pagination keeps the sort order; the sort links replace it.
    paging = request.GET.copy()
    paging.pop("page", None)
    sorting = paging.copy()
    sorting.pop("ordering", None)
    return render(
        request,
        "casework/case_list.html",
        {"filterset": filterset, "page": page, "paging": paging.urlencode(), "sorting": sorting.urlencode()},
    )


@login_required
def case_detail(request, number):
    # Most cases have no photos, no volunteer tasks and no supervision in force: read with the
    # case, these spare the page a query each.
    case = case_get_for(
        request.user,
        number,
        has_photos=Exists(CasePhoto.objects.filter(case=OuterRef("pk"))),
        has_tasks=Exists(Task.objects.filter(case=OuterRef("pk"))),
        supervised=is_supervised(),
    )
    stamp = BoundarySet.stamp()
    assignments = list(case.assignments.select_related("unit", "requested_by").order_by("dispatched_at", "id"))
    is_dispatcher = permissions.is_dispatcher(request.user)
    allowed = set(lifecycle.allowed_actions(case.status))
    context = {
        "case": case,
        "calls": case.calls.select_related("created_by").order_by("created_at"),
        "photos": case.photos.order_by("uploaded_at") if case.has_photos else (),
        "events": lifecycle.timeline(case),
        "assignments": assignments,
        "works_on_it": _works_on_it(request.user, assignments),
        "may_reveal_phone": bool(case.caller_phone) and phone_visible_to(request.user, case),
        "supervisions": open_supervisions().filter(case=case).select_related("unit").order_by("level")
        if case.supervised
        else (),
        "close_form": CloseForm() if is_dispatcher and "close_invalid" in allowed else None,
        "merge_form": MergeForm() if is_dispatcher and "merge" in allowed else None,
        # The end of the loop (feedback): a dispatcher reopens a resolved or closed case (重办),
        # or closes a resolved one the resident is not content with, giving an exemption (免责).
        "reopen_form": ReopenForm()
        if is_dispatcher and "reopen" in allowed and case.closure_reason != Case.ClosureReason.DUPLICATE
        else None,
        "exempt_form": ExemptCloseForm() if is_dispatcher and "exempt" in allowed else None,
        "place_map": _place_map(case, stamp),
        # Read once for the map's outline and its assets (`grids.templatetags.maps.map_config`).
        "boundary_version": stamp[0],
        # 评理说事: the lead unit's staff or a dispatcher sends a dispute to a point near it.
        "mediate_form": SendForm(case=case) if may_send_to_mediation(request.user, case) else None,
        # 任务发布 from the case (clear the stairwell, carry sandbags): its volunteer tasks, and the
        # link to publish one for those who publish tasks while the case is open.
        "tasks": case.tasks.select_related("publisher").order_by("starts", "id") if case.has_tasks else (),
        "may_publish_task": lifecycle.is_allowed("task_publish", case.status)
        and permissions.may_open(request.user, "volunteers:task-new"),
    }
    if is_dispatcher and "reclassify" in allowed:
        # 改分类, 改网格, and the category the unit that returned the case proposes (its last return).
        form = scope_pickers(ReclassifyForm(initial=_reclassify_initial(case)), request.user)
        context.update(_reclassify_context(case, form))
        returns = [event for event in context["events"] if event.action == "return"]
        if returns and waiting_proposal(case, returns[-1]):
            context["proposal"] = returns[-1]
    return render(request, "casework/case_detail.html", context)


def _reclassify_initial(case):
    return {
        "category": case.category.code,
        "grid": case.grid_id,
        "address": case.address,
        "seen_category": case.category.code,
        "seen_grid": case.grid_id,
    }


def _reclassify_context(case, form, preview=None):
    # The grid is picked by name, initials or code among every grid (routing/pickers.py).
    return {"reclassify_form": form, "preview": preview}


@login_required
def case_reclassify(request, number):
    """改分类, 改网格 (dispatchers; anyone else: no such page). GET: the form. POST with `preview`:
    what it would do, as a fragment for htmx (the whole page without it). POST: the move, then the
    case page (or the console it came from); refused input is shown on the form, as typed."""
    case = case_get_for(request.user, number)
    if not permissions.is_dispatcher(request.user):
        raise Http404
    previewing = bool(request.POST.get("preview"))
    form = ReclassifyForm(request.POST or None, initial=_reclassify_initial(case), preview=previewing)
    scope_pickers(form, request.user)
    preview = None
    if request.method == "POST" and form.is_valid():
        arguments = {"case": case, "actor": request.user, **form.service_arguments()}
        try:
            if previewing:
                preview = reclassify.reclassify_preview(**arguments)
            else:
                moved = reclassify.case_reclassify(**arguments)
                messages.success(
                    request,
                    _("Case %(number)s is now %(category)s in %(grid)s.")
                    % {"number": moved.number, "category": moved.category.name, "grid": moved.grid.name},
                )
                return redirect(safe_next(request, reverse("cases:detail", args=[case.number])))
        except InvalidInput as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        except (TransitionNotAllowed, NotPermitted) as error:
            form.add_error(None, str(error))
    # Where to go afterwards (the console it came from), carried by the form; checked on redirect.
    back = request.POST.get("next") or request.GET.get("next") or ""
    context = {"case": case, "next": back if back.startswith("/") else "", **_reclassify_context(case, form, preview)}
    if previewing and request.htmx:
        return render(request, "casework/_reclassify_preview.html", context)
    return render(request, "casework/case_reclassify.html", context)


def _place_map(case, stamp):
    """What the case page's map draws: the case's point (WGS-84) and its grid's outline, given in
    the page (whoever may read the case may see where it is, even without the grid's area: a
    department's clerk). None when there is neither. `stamp`: `BoundarySet.stamp()`."""
    point = [float(case.latitude), float(case.longitude)] if case.latitude is not None else None
    if point is None and case.grid.boundary is None:
        return None
    return {
        "point": point,
        "grid": feature(case.grid, level=1, stamp=stamp) if case.grid.boundary is not None else None,
    }


def _works_on_it(user, assignments):
    """Whether one of the user's units has an active part in the case (then the workspace opens)."""
    mine = {code for code, *_rest in postings_for(user).units}
    return any(a.unit.code in mine and a.state in Assignment.ACTIVE_STATES for a in assignments)


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


def _close(request, case, data):
    feedback_services.case_close_invalid(case=case, actor=request.user, **data)
    return _("Case %(number)s was closed.") % {"number": case.number}


def _merge(request, case, data):
    into = cases_for(request.user).filter(number=data["into"]).first()
    if into is None:
        raise InvalidInput(_("Unknown case %(number)s.") % {"number": data["into"]}, "into")
    survivor = intake_services.case_merge(case=case, into=into, actor=request.user, note=data["note"])
    message = _("Case %(number)s was merged into %(into)s.") % {"number": case.number, "into": survivor.number}
    return message, reverse("cases:detail", args=[survivor.number])


case_close = case_page_action(CloseForm, _close)
case_merge = case_page_action(MergeForm, _merge)


@login_required
@require_POST
@shows_domain_errors
def case_reveal_phone(request, number):
    """htmx: swap the masked number for the full one; the reveal is recorded on the timeline."""
    case = case_get_for(request.user, number)
    phone = intake_services.caller_phone_reveal(case=case, actor=request.user)
    return render(request, "casework/_phone.html", {"phone": phone})
