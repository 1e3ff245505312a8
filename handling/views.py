from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases import lifecycle
from cases.errors import InvalidInput, NotPermitted
from cases.http import safe_next
from handling import services
from handling.filters import QueueFilterSet
from handling.forms import (
    AssistForm,
    ContactForm,
    DecideForm,
    EmptyForm,
    ExtendForm,
    NoteForm,
    PassDownForm,
    ReportForm,
    ResolveForm,
    ReturnForm,
)
from handling.selectors import TABS, Clock, deadline_state, next_due, queue_counts, queue_tab
from routing import dispatch
from routing.doors import case_page_action
from routing.models import Assignment, ExtensionRequest
from routing.selectors import case_get_for, pending_extensions, phone_visible_to
from units.models import Unit
from units.permissions import is_dispatcher, page_gate
from units.selectors import member_units_for

QUEUE_PAGE = 50


def _unit_for(request):
    """The queue's unit: `?unit=` among the user's units, else their first one."""
    units = list(member_units_for(request.user))
    if not units:
        raise Http404
    code = request.GET.get("unit") or request.POST.get("unit")
    unit = next((u for u in units if u.code == code), units[0])
    return unit, units


@login_required
def queue(request):
    """A unit's queue, most urgent first, with tabs and their counts. `?partial=1` answers only
    the list, for the htmx refresh every 30 seconds (the filters ride along in the URL)."""
    page_gate(request.user, "handling:queue")
    unit, units = _unit_for(request)
    tab = request.GET.get("tab", "to_sign")
    if tab not in TABS:
        tab = "to_sign"
    clock = Clock.start()
    filterset = QueueFilterSet(request.GET or None, queryset=queue_tab(unit, tab, clock), request=request)
    page = Paginator(filterset.qs, QUEUE_PAGE).get_page(request.GET.get("page"))
    rows = list(page)
    for assignment in rows:
        assignment.deadline = deadline_state(assignment, clock)
    context = {
        "unit": unit,
        "units": units,
        "tab": tab,
        "tabs": [(key, label, count) for (key, label), count in zip(TABS.items(), _counts(unit, clock), strict=True)],
        "filterset": filterset,
        "page": page,
        "rows": rows,
    }
    template = "handling/_queue_list.html" if request.GET.get("partial") else "handling/queue.html"
    return render(request, template, context)


def _counts(unit, clock):
    counts = queue_counts(unit, clock)
    return [counts[key] for key in TABS]


@login_required
@require_POST
def queue_sign(request):
    """Bulk sign-for: each ticked case is signed in its own transaction, and each refusal is
    reported (someone else may have acted on it meanwhile)."""
    _unit_for(request)  # 404 for someone with no unit
    signed, problems = 0, []
    for number in request.POST.getlist("cases"):
        try:
            dispatch.case_sign(case=case_get_for(request.user, number), actor=request.user)
            signed += 1
        except (lifecycle.TransitionNotAllowed, NotPermitted, InvalidInput, Http404) as error:
            problems.append(f"{number}: {error or _('not found')}")
    if signed:
        messages.success(request, _("%(count)s cases signed for.") % {"count": signed})
    for problem in problems:
        messages.error(request, problem)
    return redirect(safe_next(request, "handling:queue"))


def _workspace_context(request, case):
    clock = Clock.start()
    # `next_due`, as in the queue: the deadline shown is the one to meet next (sign-for, contact, resolution).
    assignments = list(
        case.assignments.select_related("unit", "requested_by")
        .annotate(next_due=next_due())
        .order_by("dispatched_at", "id")
    )
    my_codes = {u.code for u in member_units_for(request.user)}
    lead = next((a for a in assignments if a.role == "lead" and a.state in Assignment.ACTIVE_STATES), None)
    mine = [a for a in assignments if a.unit.code in my_codes and a.state in Assignment.ACTIVE_STATES]
    may_decide = lead is not None and dispatch.may_decide(request.user, lead)
    if not mine and not may_decide:
        # Not working on it now: the case page (read-only) is where they can follow it.
        raise Http404
    for assignment in assignments:
        assignment.deadline = deadline_state(assignment, clock)
    is_lead = lead is not None and lead.unit.code in my_codes
    # The lead's latest extension request: waiting for a decision, or the decision made on it.
    latest = (
        lead.extension_requests.select_related("decided_by").order_by("-requested_at", "-id").first() if lead else None
    )
    pending = latest if latest is not None and latest.decision == ExtensionRequest.Decision.PENDING else None
    allowed = set(lifecycle.allowed_actions(case.status))
    events = lifecycle.timeline(case)
    return {
        "case": case,
        "assignments": assignments,
        "lead": lead,
        "is_lead": is_lead,
        "is_assisting": any(a.role == "assist" for a in mine),
        "may_reveal_phone": bool(case.caller_phone) and phone_visible_to(request.user, case),
        # 分级办理: a street office may pass its case down to one of its communities.
        "communities": (
            Unit.objects.filter(parent=lead.unit, kind=Unit.Kind.COMMITTEE, is_active=True)
            .select_related("region")
            .order_by("code")
            if is_lead and lead.unit.kind == Unit.Kind.STREET_OFFICE
            else []
        ),
        "pending_extension": pending,
        "decided_extension": latest if latest is not None and pending is None else None,
        "may_decide": pending is not None and may_decide,
        # Someone who only decides the extensions (not working on the case): after a decision,
        # where the next one waits.
        "decider_only": not mine and may_decide,
        "next_step": _decider_next_step(request.user) if not mine and may_decide else None,
        "last_contact": next((event for event in reversed(events) if event.action == "contact"), None),
        "return_open": lead is not None and lead.return_until and clock.now <= lead.return_until,
        "allowed": allowed,
        "events": events,
        "photos": case.photos.order_by("uploaded_at"),
        "forms": {
            "contact": ContactForm(),
            "note": NoteForm(),
            "resolve": ResolveForm(),
            "return": ReturnForm(),
            "assist": AssistForm(),
            "extend": ExtendForm(),
            "decide": DecideForm(),
            "report": ReportForm(),
        },
    }


def _decider_next_step(user):
    """Where a decider goes next: the dispatchers to the extension requests still waiting (with
    their number), a street office to its queue."""
    if is_dispatcher(user):
        return {
            "url": reverse("routing:console-extensions"),
            "label": _("Extension requests waiting: %(count)s") % {"count": pending_extensions().count()},
        }
    return {"url": reverse("handling:queue"), "label": _("Back to your queue")}


@login_required
def workspace(request, number):
    """The case as a unit works on it: deadlines, the actions open to this person now, the timeline."""
    case = case_get_for(request.user, number)
    try:
        context = _workspace_context(request, case)
    except Http404:
        if case.assignments.filter(unit__in=member_units_for(request.user)).exists():
            # Their unit's part is over (a refused form comes back here after a colleague
            # resolved the case): the case page follows it and shows the message saying why.
            return redirect("cases:detail", number=number)
        raise
    return render(request, "handling/workspace.html", context)


def _post_action(form_class, run, done_message):
    """A workspace action; afterwards the workspace again, or the case page once the person's
    part is over (resolved, returned, reported). `done_message(result)` says what the action did
    from what the service returned: the new state, the new deadline, the next step."""

    def act(request, case, data):
        return done_message(run(request, case, data))

    return case_page_action(form_class, act, back=_workspace_or_case_page)


def _workspace_or_case_page(request, case):
    if _opens_workspace(request.user, case):
        return reverse("handling:workspace", args=[case.number])
    return reverse("cases:detail", args=[case.number])


def _opens_workspace(user, case):
    """Whether `workspace` still opens for the user: one of their units works on the case now,
    or they decide its lead's extensions (the same test `_workspace_context` makes)."""
    active = list(case.assignments.filter(state__in=Assignment.ACTIVE_STATES).select_related("unit", "unit__parent"))
    my_codes = {u.code for u in member_units_for(user)}
    lead = next((a for a in active if a.role == "lead"), None)
    return any(a.unit.code in my_codes for a in active) or (lead is not None and dispatch.may_decide(user, lead))


def _unit_by_code(code):
    unit = Unit.objects.filter(code=code.strip(), is_active=True).first()
    if unit is None:
        raise InvalidInput(_("Unknown unit %(code)s.") % {"code": code}, "unit")
    return unit


sign = _post_action(
    EmptyForm,
    lambda request, case, data: dispatch.case_sign(case=case, actor=request.user),
    lambda part: _signed_message(part),
)
contact = _post_action(
    ContactForm,
    lambda request, case, data: services.case_contact(case=case, actor=request.user, **data),
    lambda lead: _("Contact recorded. Next: resolve the case by %(time)s.") % {"time": _at(lead.resolve_due)},
)
note = _post_action(
    NoteForm,
    lambda request, case, data: services.case_note(case=case, actor=request.user, **data),
    lambda result: _("Note added."),
)
resolve = _post_action(
    ResolveForm,
    lambda request, case, data: services.case_resolve(case=case, actor=request.user, **data),
    lambda result: _("Resolved; the case waits for the resident's verdict."),
)
pass_down = _post_action(
    PassDownForm,
    lambda request, case, data: dispatch.case_dispatch(
        case=case, unit=_unit_by_code(data["unit"]), actor=request.user, reason=data["reason"], redispatch=True
    ),
    lambda part: (
        _("Passed down to %(unit)s; it signs for the case by %(time)s.")
        % {"unit": part.unit.name, "time": _at(part.sign_due)}
    ),
)
return_case = _post_action(
    ReturnForm,
    lambda request, case, data: dispatch.case_return(case=case, actor=request.user, **data),
    lambda result: _("Returned to the dispatchers."),
)
assist = _post_action(
    AssistForm,
    lambda request, case, data: dispatch.case_assist(
        case=case, actor=request.user, unit=_unit_by_code(data["unit"]), note=data["note"], due=data["due"]
    ),
    lambda part: (
        _("%(unit)s was called in; its part is due by %(time)s.")
        % {"unit": part.unit.name, "time": _at(part.resolve_due)}
    ),
)
extend = _post_action(
    ExtendForm,
    lambda request, case, data: dispatch.extension_request(case=case, actor=request.user, **data),
    lambda asked: (
        _("Extension requested until %(time)s; the current deadline holds until it is decided.")
        % {"time": _at(asked.requested_until)}
    ),
)
decide = _post_action(
    DecideForm,
    lambda request, case, data: dispatch.extension_decide(case=case, actor=request.user, **data),
    lambda decided: _decided_message(decided),
)
report = _post_action(
    ReportForm,
    lambda request, case, data: services.assist_report(case=case, actor=request.user, **data),
    lambda result: _("Your unit's part is reported."),
)


def _at(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _signed_message(part) -> str:
    """What comes next after signing for: the lead unit contacts the resident, an assisting unit
    does its part."""
    if part.role == Assignment.Role.LEAD and part.contact_due and part.contacted_at is None:
        return _("Signed for. Next: contact the resident by %(time)s.") % {"time": _at(part.contact_due)}
    return _("Signed for. Next: resolve by %(time)s.") % {"time": _at(part.resolve_due)}


def _decided_message(request) -> str:
    """An extension's decision in words, with the deadline it leaves the lead unit."""
    case = request.assignment.case.number
    if request.decision == ExtensionRequest.Decision.APPROVED:
        return _("Extension approved: %(number)s must now be resolved by %(time)s.") % {
            "number": case,
            "time": _at(request.requested_until),
        }
    request.assignment.refresh_from_db(fields=["resolve_due"])
    return _("Extension refused: %(number)s must still be resolved by %(time)s.") % {
        "number": case,
        "time": _at(request.assignment.resolve_due),
    }
