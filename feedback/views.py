"""The pages of the end of the loop: the centre's callback queue and form, the grid workers'
on-site checks, reopening and exempting from the case page, the resident's own page behind their
link, and the figures every place and unit is judged by."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from cases import lifecycle
from cases.errors import InvalidInput, NotPermitted
from cases.lifecycle import TransitionNotAllowed
from cases.models import Case, CaseEvent, CasePhoto
from cases.replica import reads_replica
from feedback import metrics, selectors, services
from feedback.forms import (
    CallbackForm,
    ExemptCloseForm,
    MetricsForm,
    ReopenForm,
    ResidentAnswerForm,
    VerifyForm,
)
from feedback.models import Exemption, FeedbackSettings
from routing.doors import case_page_action
from routing.models import Assignment
from routing.selectors import case_get_for, phone_visible_to
from units.models import Unit
from units.permissions import page_gate
from units.selectors import postings_for, region_prefixes_for

QUEUE_PAGE = 50
DOMAIN_ERRORS = (InvalidInput, NotPermitted, TransitionNotAllowed)


def _error_field(form, error):
    """The form field a refusal names, if the form has it; otherwise the error heads the form."""
    name = getattr(error, "field", None)
    return name if name in form.fields else None


def _last_resolve(case) -> CaseEvent | None:
    return case.events.filter(action="resolve").select_related("actor").order_by("-at", "-id").first()


def _current_lead(case) -> Assignment:
    return Assignment.objects.filter(case=case, role=Assignment.Role.LEAD).select_related("unit").latest("id")


# --- the callback queue and form -------------------------------------------------------------


@login_required
def callbacks(request):
    """Resolved cases waiting for the centre to call the resident back, the most overdue first."""
    page_gate(request.user, "feedback:callbacks")
    page = Paginator(selectors.callback_queue(), QUEUE_PAGE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = list(page)
    for assignment in rows:
        assignment.overdue = assignment.callback_due <= now
        assignment.failed_attempts = assignment.failed_attempts or 0
    context = {"page": page, "rows": rows, "attempts": FeedbackSettings.load().callback_attempts}
    return render(request, "feedback/callbacks.html", context)


@login_required
def callback(request, number):
    """One callback: what the unit did, who to call, and the resident's verdict."""
    page_gate(request.user, "feedback:callbacks")
    case = case_get_for(request.user, number)
    if request.method == "POST":
        form = CallbackForm(request.POST)
        if form.is_valid():
            answer = form.answer()
            try:
                case = services.case_callback(case=case, actor=request.user, **answer)
            except DOMAIN_ERRORS as error:
                form.add_error(_error_field(form, error), str(error))
            else:
                messages.success(request, _callback_message(case, reached=answer["reached"]))
                return redirect("feedback:callbacks")
    else:
        form = CallbackForm()
    return render(request, "feedback/callback.html", _callback_context(request, case, form))


def _result_context(case):
    """What the lead unit reported: the last `resolve` event, its unit, and the evidence photos
    uploaded with it (earlier rounds' photos are not this result's)."""
    resolve = _last_resolve(case)
    photos = (
        case.photos.filter(stage=CasePhoto.Stage.EVIDENCE, uploaded_at__gte=resolve.at).order_by("uploaded_at", "id")
        if resolve
        else []
    )
    return {"resolve": resolve, "lead": services.last_lead(case), "photos": photos}


def _callback_context(request, case, form):
    events = services.round_events(case)
    return {
        "case": case,
        "form": form,
        **_result_context(case),
        "round": events,
        "failed_attempts": sum(1 for e in events if e.action == "callback" and not e.data.get("reached")),
        "attempts": FeedbackSettings.load().callback_attempts,
        "verification": services.verification_state(case, events),
        "verdict_recorded": any(e.action == "callback" and e.data.get("positive") for e in events),
        "waiting": lifecycle.is_allowed("callback", case.status),
        "may_reveal_phone": bool(case.caller_phone) and phone_visible_to(request.user, case),
    }


def _callback_message(case, *, reached):
    number = case.number
    if case.status == Case.Status.CLOSED:
        if case.closure_reason == Case.ClosureReason.EXEMPTED:
            return _("Case %(number)s is closed as exempted.") % {"number": number}
        if case.closure_reason == Case.ClosureReason.UNREACHABLE:
            return _("The resident could not be reached: case %(number)s is closed as unreachable.") % {
                "number": number
            }
        return _("Case %(number)s is closed: the resident is content.") % {"number": number}
    if case.status == Case.Status.IN_PROGRESS:
        return _reopened_message(case)
    if not reached:
        last = case.events.filter(action="callback").order_by("-at", "-id").first()
        text = _("Not reached (attempt %(attempt)s of %(attempts)s); case %(number)s will be called again.")
        return text % {
            "attempt": last.data.get("attempt", 1) if last else 1,
            "attempts": FeedbackSettings.load().callback_attempts,
            "number": number,
        }
    return _("The verdict is recorded; case %(number)s closes once the grid worker confirms the result on site.") % {
        "number": number
    }


def _reopened_message(case):
    unit = _current_lead(case).unit.name
    return _("Case %(number)s is reopened to %(unit)s.") % {"number": case.number, "unit": unit}


# --- on-site verification (核查) -------------------------------------------------------------


@login_required
def verifications(request):
    """The resolved cases in the grid worker's grids whose result they still have to check."""
    page_gate(request.user, "feedback:verifications")
    page = Paginator(selectors.verification_queue_for(request.user), QUEUE_PAGE).get_page(request.GET.get("page"))
    return render(request, "feedback/verifications.html", {"page": page, "rows": list(page)})


@login_required
def verify(request, number):
    """The check of one case on site, from a phone: photos, confirmed or not, a note."""
    page_gate(request.user, "feedback:verifications")
    case = case_get_for(request.user, number)
    if case.grid_id not in postings_for(request.user).grids:
        raise Http404
    if request.method == "POST":
        form = VerifyForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                case = services.case_verify(
                    case=case, actor=request.user, confirmed=data["confirmed"], note=data["note"], photos=data["photos"]
                )
            except DOMAIN_ERRORS as error:
                form.add_error(_error_field(form, error), str(error))
            else:
                messages.success(request, _verified_message(case))
                return redirect("feedback:verifications")
    else:
        form = VerifyForm()
    context = {
        "case": case,
        "form": form,
        **_result_context(case),
        "pending": lifecycle.is_allowed("verify", case.status) and services.verification_state(case) == "pending",
    }
    return render(request, "feedback/verify.html", context)


def _verified_message(case):
    if case.status == Case.Status.CLOSED:
        return _("Confirmed on site: case %(number)s is closed.") % {"number": case.number}
    if case.status == Case.Status.IN_PROGRESS:
        return _("Case %(number)s is sent back to %(unit)s for rework.") % {
            "number": case.number,
            "unit": _current_lead(case).unit.name,
        }
    return _("Confirmed on site: case %(number)s closes after the resident's verdict.") % {"number": case.number}


# --- from the case page: reopen (重办) and close with an exemption (免责) ------------------------


def _reopen(request, case, data):
    case = services.case_reopen(case=case, actor=request.user, reason=data["reason"])
    return _reopened_message(case)


def _exempt(request, case, data):
    case = services.case_exempt(case=case, actor=request.user, reason=data["reason"], note=data["note"])
    return _("Case %(number)s is closed as exempted.") % {"number": case.number}


reopen = case_page_action(ReopenForm, _reopen)
close_exempted = case_page_action(ExemptCloseForm, _exempt)


# --- the resident's page behind their single-use link --------------------------------------


@login_not_required
@never_cache
def resident(request, token):
    """The resident's verdict, without an account: the link is the key. An unknown, expired or
    spent link answers 410 Gone with a page saying so, never an error page."""
    try:
        case = services.resident_link_case(token)
    except services.LinkInvalid as error:
        return _link_gone(request, error)
    if request.method == "POST":
        form = ResidentAnswerForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.resident_answer(
                    token=token, resolved=data["resolved"], satisfaction=data["satisfaction"], comment=data["comment"]
                )
            except services.LinkInvalid as error:
                return _link_gone(request, error)
            except DOMAIN_ERRORS as error:
                form.add_error(_error_field(form, error), str(error))
            else:
                return redirect("resident-thanks")
    else:
        form = ResidentAnswerForm()
    lead = services.last_lead(case)
    context = {"case": case, "form": form, "resolve": _last_resolve(case), "unit": lead.unit if lead else None}
    return render(request, "feedback/resident.html", context)


def _link_gone(request, error):
    return render(request, "feedback/resident_gone.html", {"message": str(error)}, status=410)


@login_not_required
def resident_thanks(request):
    return render(request, "feedback/resident_thanks.html")


# --- the figures (考核) ------------------------------------------------------------------------

LEVEL_OF_PREFIX = {length: level for level, length in metrics.REGION_LEVELS.items()}


@login_required
@reads_replica
def metrics_page(request):
    """The month's figures of every street, community, grid or unit the person may judge, and the
    month's exemptions beside them. District-wide people see every row; street and community
    staff the rows of their own area, or their own units."""
    user = request.user
    page_gate(user, "feedback:metrics")
    postings = postings_for(user)
    prefixes = None if postings.district_wide else region_prefixes_for(user)
    own_units = [code for code, *_rest in postings.units]
    # Always bound: an empty query string is the default table, not an unsubmitted form.
    form = MetricsForm(request.GET, default_level=_default_level(prefixes))
    period = None
    if form.is_valid():
        try:
            period = form.period()
        except InvalidInput as error:
            form.add_error("month", str(error))
    rows, exempted = [], []
    if period is not None:
        level = form.cleaned_data["level"]
        rows = metrics.rows_for(level, period=period, codes=selectors.metric_codes_for(user, level))
        exempted = [
            event
            for event in metrics.exemptions(period=period)
            if _exemption_in_scope(event, level, prefixes, own_units)
        ]
        names = dict(Unit.objects.filter(code__in={e.data.get("unit") for e in exempted}).values_list("code", "name"))
        labels = dict(Exemption.choices)
        for event in exempted:
            event.unit_name = names.get(event.data.get("unit"), event.data.get("unit", ""))
            event.reason_label = labels.get(event.data.get("exemption"), event.data.get("exemption", ""))
    context = {
        "form": form,
        "period": period,
        "level": form.cleaned_data.get("level") or form.default_level,
        "rows": rows,
        "exempted": exempted,
    }
    return render(request, "feedback/metrics.html", context)


def _default_level(prefixes):
    """The street table for district-wide people; for the others, the level of their own area
    (a community's staff would see an empty street table)."""
    if not prefixes:
        return "street"
    return LEVEL_OF_PREFIX.get(min(len(p) for p in prefixes), "street")


def _exemption_in_scope(event, level, prefixes, own_units):
    if prefixes is None:
        return True
    if level == "unit":
        return event.data.get("unit") in own_units
    return any(event.case.grid_id.startswith(prefix) for prefix in prefixes)
