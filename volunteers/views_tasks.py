"""The tasks' pages: the publishers' list, form and task page with its confirmation (任务发布), and
the volunteer's own phone page (`/volunteers/me/`) with sign-up, check-in and check-out."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from cases.errors import InvalidInput, NotPermitted
from cases.http import form_errors_as_messages, safe_next, shows_domain_errors
from units.models import Unit
from units.permissions import may_open, page_gate
from volunteers import tasks as services
from volunteers.forms_tasks import CampaignForm, ConfirmForm, PhotoForm, PublishForm
from volunteers.models import Signup, Task, TeamMember
from volunteers.tasks import CHECK_IN_EARLY

PAGE_SIZE = 50
OPEN_ON_ME_PAGE = 30
TABS = {
    "open": (gettext_lazy("Open"), {"state": Task.State.OPEN}),
    "done": (gettext_lazy("Confirmed"), {"state": Task.State.DONE}),
    "all": (gettext_lazy("All"), {}),
}


def task_get_for(user, pk) -> Task:
    """The task if the user may read it; 404 alike for "no such task" and "not yours"."""
    task = services.tasks_for(user).filter(pk=pk).first()
    if task is None:
        raise Http404
    return task


def _publisher_unit(request, units):
    code = request.GET.get("unit") or request.POST.get("unit")
    return next((unit for unit in units if unit.code == code), units[0])


@login_required
def task_list(request):
    """A publishing unit's tasks with their sign-up counts, by tab (open, confirmed, all)."""
    page_gate(request.user, "volunteers:tasks")
    units = services.publishing_units_for(request.user)
    unit = _publisher_unit(request, units)
    tab = request.GET.get("tab") if request.GET.get("tab") in TABS else "open"
    rows = services.tasks_for_publisher(unit).filter(**TABS[tab][1])
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "unit": unit,
        "units": units,
        "tab": tab,
        "tabs": [(key, label) for key, (label, _filter) in TABS.items()],
        "page": page,
        "runs_campaigns": unit.kind != Unit.Kind.COMMITTEE and may_open(request.user, "volunteers:campaign-new"),
    }
    return render(request, "volunteers/tasks_list.html", context)


@login_required
def task_new(request):
    """The publish form; `?case=<number>` fills in the case a task is published from."""
    page_gate(request.user, "volunteers:task-new")
    units = services.publishing_units_for(request.user)
    unit = _publisher_unit(request, units)
    if request.method == "POST":
        form = PublishForm(request.POST, publisher=unit)
        if form.is_valid():
            data = form.cleaned_data
            try:
                task = services.task_publish(actor=request.user, publisher=unit, **data)
            except (InvalidInput, NotPermitted) as error:
                field = getattr(error, "field", None)
                form.add_error(field if field in form.fields else None, str(error))
            else:
                messages.success(request, _("Task published: %(title)s.") % {"title": task.title})
                return redirect("volunteers:task", pk=task.pk)
    else:
        form = PublishForm(publisher=unit, initial={"case": request.GET.get("case", "")[:30]})
    return render(request, "volunteers/tasks_form.html", {"form": form, "unit": unit, "units": units})


@login_required
def campaign_new(request):
    """A campaign across communities (创城、创卫、防汛…): one task per community, for a street
    office across its communities or a department across any."""
    page_gate(request.user, "volunteers:campaign-new")
    units = [unit for unit in services.publishing_units_for(request.user) if unit.kind != Unit.Kind.COMMITTEE]
    unit = _publisher_unit(request, units)
    if request.method == "POST":
        form = CampaignForm(request.POST, publisher=unit)
        if form.is_valid():
            try:
                campaign = services.campaign_publish(actor=request.user, publisher=unit, **form.cleaned_data)
            except (InvalidInput, NotPermitted) as error:
                field = getattr(error, "field", None)
                form.add_error(field if field in form.fields else None, str(error))
            else:
                count = campaign.tasks.count()
                messages.success(
                    request,
                    _("Campaign published: %(title)s, a task in each of %(count)d communities.")
                    % {"title": campaign.title, "count": count},
                )
                return redirect(f"{reverse('volunteers:tasks')}?unit={unit.code}")
    else:
        form = CampaignForm(publisher=unit)
    return render(request, "volunteers/tasks_campaign.html", {"form": form, "unit": unit, "units": units})


def _came(signup, task, now):
    """What the confirmation would credit by default; one still checked in counts to the end
    (or now, if earlier), as the confirmation checks them out."""
    if signup.state == Signup.State.CHECKED_IN:
        signup.checked_out_at = min(now, task.ends)
    signup.default_hours = services.default_hours(signup, task)
    return signup


@login_required
def task_detail(request, pk):
    """One task: for its publisher the sign-ups and the confirmation; for a volunteer their own
    place in it."""
    task = task_get_for(request.user, pk)
    publisher = any(unit.pk == task.publisher_id for unit in services.publishing_units_for(request.user))
    now = timezone.now()
    context = {"task": task, "is_publisher": publisher, "now": now}
    if publisher:
        signups = list(services.signups_of(task))
        came = [_came(s, task, now) for s in signups if s.state in (Signup.State.CHECKED_IN, Signup.State.CHECKED_OUT)]
        context["signups"] = signups
        context["may_confirm"] = task.state == Task.State.OPEN and now >= task.starts
        context["confirm_form"] = ConfirmForm(signups=came, cap=services.task_length_hours(task))
    else:
        volunteer = services.volunteer_of(request.user)
        signup = Signup.objects.filter(task=task, volunteer=volunteer).first() if volunteer else None
        context["signup"] = _with_buttons(signup, now) if signup else None
        if task.state == Task.State.OPEN and task.deadline > now and task.taken < task.wanted:
            context["team_forms"] = _team_forms(request.user, task)
    return render(request, "volunteers/tasks_detail.html", context)


def _team_forms(user, task) -> list[dict]:
    """For a team's leader or staff: each of their teams the task is for, with the members not
    signed up yet (to tick and sign up together)."""
    forms = []
    for team in services.teams_signing_up_for(user).select_related("unit", "area"):
        if not services.task_in_team_reach(task, team):
            continue
        members = (
            TeamMember.objects.filter(team=team)
            .exclude(volunteer__signups__task=task)
            .select_related("volunteer")
            .order_by("volunteer__name", "volunteer_id")
        )
        forms.append({"team": team, "members": [member.volunteer for member in members]})
    return forms


def _ids(values) -> list[int]:
    """The values that are ids (whole numbers of at most 11 digits); anything else is left out."""
    return [int(value) for value in values if value.isascii() and value.isdigit() and len(value) < 12]


@require_POST
@login_required
@shows_domain_errors
def task_signup_team(request, pk):
    """A team's leader or staff signs the ticked members up together (all or none)."""
    task = task_get_for(request.user, pk)
    team_id = _ids([request.POST.get("team", "")])
    team = services.teams_signing_up_for(request.user).filter(pk=team_id[0]).first() if team_id else None
    if team is None:
        raise Http404
    ids = _ids(request.POST.getlist("volunteers"))
    signed = services.task_signup_team(task=task, team=team, volunteer_ids=ids, actor=request.user)
    messages.success(
        request,
        _("%(team)s signed up %(count)d members: %(title)s.")
        % {"team": team, "count": len(signed), "title": task.title},
    )
    return redirect("volunteers:task", pk=task.pk)


PHOTO_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif"}


@login_required
def task_photo(request, pk, signup):
    """A sign-up's photo, for the task's publisher and the volunteer who took it (photos show
    people and homes; media files are not served to anyone)."""
    task = task_get_for(request.user, pk)
    row = Signup.objects.filter(task=task, pk=signup).exclude(photo="").select_related("volunteer").first()
    publisher = any(unit.pk == task.publisher_id for unit in services.publishing_units_for(request.user))
    if row is None or not (publisher or row.volunteer.user_id == request.user.pk):
        raise Http404
    extension = row.photo.name.rsplit(".", 1)[-1].lower()
    response = FileResponse(row.photo.open("rb"), content_type=PHOTO_TYPES.get(extension, "application/octet-stream"))
    # Even a file that slipped through must not run as a page here.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@require_POST
@login_required
@shows_domain_errors
def task_confirm(request, pk):
    task = task_get_for(request.user, pk)
    came = Signup.objects.filter(task=task, state__in=(Signup.State.CHECKED_IN, Signup.State.CHECKED_OUT))
    form = ConfirmForm(request.POST, signups=came.select_related("volunteer"), cap=services.task_length_hours(task))
    if not form.is_valid():
        form_errors_as_messages(request, form)
        return redirect("volunteers:task", pk=task.pk)
    task = services.task_confirm(task=task, actor=request.user, hours=form.hours())
    messages.success(request, _("Confirmed: %(title)s. The hours and points are credited.") % {"title": task.title})
    return redirect("volunteers:task", pk=task.pk)


# --- the volunteer's phone page --------------------------------------------------------------------


def _with_buttons(signup, now):
    """Which of the volunteer's buttons a sign-up shows now."""
    task = signup.task
    signup.check_in_open = task.state == Task.State.OPEN and task.starts - CHECK_IN_EARLY <= now <= task.ends
    signup.check_in_from = task.starts - CHECK_IN_EARLY
    signup.may_withdraw = signup.state == Signup.State.SIGNED and now < task.starts and task.state == Task.State.OPEN
    return signup


@login_required
def me(request):
    """The volunteer's own page, for a phone: their sign-ups under way (check in, check out,
    withdraw) and the open tasks they may still sign up for."""
    page_gate(request.user, "volunteers:me")
    volunteer = request.user.volunteer
    now = timezone.now()
    mine = [_with_buttons(signup, now) for signup in services.signups_for_volunteer(volunteer)]
    open_tasks = list(services.tasks_for_volunteer(volunteer, not_signed=True)[:OPEN_ON_ME_PAGE])
    done = list(services.signups_for_volunteer(volunteer, active=False)[:5])
    context = {
        "volunteer": volunteer,
        "mine": mine,
        "open_tasks": open_tasks,
        "done": done,
        "now": now,
    }
    return render(request, "volunteers/me.html", context)


def _back(request):
    return redirect(safe_next(request, reverse("volunteers:me")))


@require_POST
@login_required
@shows_domain_errors
def task_signup(request, pk):
    task = task_get_for(request.user, pk)
    services.task_signup(task=task, actor=request.user)
    messages.success(request, _("Signed up: %(title)s.") % {"title": task.title})
    return _back(request)


@require_POST
@login_required
@shows_domain_errors
def task_withdraw(request, pk):
    task = task_get_for(request.user, pk)
    services.signup_withdraw(task=task, actor=request.user)
    messages.success(request, _("Withdrawn: %(title)s. Your place is free for someone else.") % {"title": task.title})
    return _back(request)


def _with_photo(service, done_message):
    @require_POST
    @login_required
    @shows_domain_errors
    def view(request, pk):
        task = task_get_for(request.user, pk)
        form = PhotoForm(request.POST, request.FILES)
        if not form.is_valid():
            form_errors_as_messages(request, form)
            return _back(request)
        signup = service(task=task, actor=request.user, photo=form.cleaned_data["photo"])
        moment = signup.checked_out_at or signup.checked_in_at
        messages.success(
            request, done_message % {"title": task.title, "time": timezone.localtime(moment).strftime("%H:%M")}
        )
        return _back(request)

    return view


task_checkin = _with_photo(services.task_check_in, gettext_lazy("Checked in at %(time)s: %(title)s."))
task_checkout = _with_photo(services.task_check_out, gettext_lazy("Checked out at %(time)s: %(title)s."))
