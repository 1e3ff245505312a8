"""The joint meetings' pages (结邻共建 联席会议): the community's meetings, the record form, one
meeting with its problems (each made a case or a task), and a unit's own contributions. A page
that is not for the person answers 404 (`units.permissions.PAGES`)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases.errors import InvalidInput, NotPermitted
from cases.http import form_errors_as_messages, shows_domain_errors
from routing.models import Assignment
from units.permissions import page_gate
from volunteers import meetings
from volunteers.forms_meetings import MeetingForm, ProblemCaseForm, ProblemFormSet, ProblemTaskForm
from volunteers.models import MeetingProblem
from volunteers.needs import committees_of

PAGE_SIZE = 30


@login_required
def meetings_page(request):
    page_gate(request.user, "volunteers:meetings")
    page = Paginator(meetings.meetings_of_community(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "volunteers/meetings_list.html", {"page": page, "rows": list(page)})


@login_required
def meeting_new(request):
    """The record of a meeting: the date, the paired agencies present, the notes, the problems."""
    page_gate(request.user, "volunteers:meetings")
    committee = committees_of(request.user).select_related("region").first()
    if committee is None:
        raise Http404
    agencies = meetings.paired_agencies(committee.region)
    data = request.POST if request.method == "POST" else None
    form = MeetingForm(data, agencies=agencies, initial={"held_on": timezone.localdate()})
    problems = ProblemFormSet(data, prefix="problems", form_kwargs={"agencies": agencies})
    if data is not None and form.is_valid() and problems.is_valid():
        try:
            meeting = meetings.meeting_record(
                actor=request.user,
                committee=committee,
                held_on=form.cleaned_data["held_on"],
                attendees=list(form.cleaned_data["attendees"]),
                notes=form.cleaned_data["notes"],
                problems=[(row.get("text", ""), row.get("agency")) for row in problems.cleaned_data],
            )
        except (InvalidInput, NotPermitted) as error:
            field = error.field if error.field in form.fields else None
            form.add_error(field, str(error))
        else:
            messages.success(request, _("The joint meeting of %(day)s is recorded.") % {"day": meeting.held_on})
            return redirect("volunteers:meeting", meeting.pk)
    context = {"form": form, "problems": problems, "committee": committee, "agencies": agencies}
    return render(request, "volunteers/meetings_form.html", context)


@login_required
def meeting_page(request, pk):
    """One meeting: who came, the notes, the problems and what each became (or the forms to make
    it a case or a task)."""
    page_gate(request.user, "volunteers:meetings")
    meeting = meetings.meeting_of_community_get(request.user, pk)
    if meeting is None:
        raise Http404
    problems = list(meeting.problems.select_related("agency", "case", "task").order_by("id"))
    leads = dict(
        Assignment.objects.filter(
            case__in=[p.case_id for p in problems if p.case_id],
            role=Assignment.Role.LEAD,
            state__in=Assignment.ACTIVE_STATES,
        ).values_list("case_id", "unit__name")
    )
    for problem in problems:
        problem.lead = leads.get(problem.case_id)
    context = {
        "meeting": meeting,
        "attendees": list(meeting.attendees.order_by("code")),
        "problems": problems,
        "task_form": ProblemTaskForm(),
    }
    if any(problem.case_id is None and problem.task_id is None for problem in problems):
        # The choices once for every problem's form, not a query per problem.
        case_form = ProblemCaseForm(community=meeting.community)
        context["case_form"] = case_form
        context["categories"] = list(case_form.fields["category"].queryset.order_by("code"))
        context["grids"] = list(case_form.fields["grid"].queryset)
    return render(request, "volunteers/meetings_detail.html", context)


def _problem(request, pk) -> MeetingProblem:
    page_gate(request.user, "volunteers:meetings")
    problem = (
        MeetingProblem.objects.filter(pk=pk, meeting__in=meetings.meetings_of_community(request.user).values("pk"))
        .select_related("meeting", "meeting__community")
        .first()
    )
    if problem is None:
        raise Http404
    return problem


@login_required
@require_POST
@shows_domain_errors
def problem_case(request, pk):
    problem = _problem(request, pk)
    form = ProblemCaseForm(request.POST, community=problem.meeting.community)
    if not form.is_valid():
        form_errors_as_messages(request, form)
        return redirect("volunteers:meeting", problem.meeting_id)
    case = meetings.problem_to_case(problem=problem, actor=request.user, **form.cleaned_data)
    messages.success(request, _("Case %(number)s is opened for the problem.") % {"number": case.number})
    return redirect("volunteers:meeting", problem.meeting_id)


@login_required
@require_POST
@shows_domain_errors
def problem_task(request, pk):
    problem = _problem(request, pk)
    form = ProblemTaskForm(request.POST)
    if not form.is_valid():
        form_errors_as_messages(request, form)
        return redirect("volunteers:meeting", problem.meeting_id)
    task = meetings.problem_to_task(problem=problem, actor=request.user, **form.cleaned_data)
    words = {"title": task.title, "unit": task.addressed_to.name}
    messages.success(request, _("The task “%(title)s” is published to %(unit)s.") % words)
    return redirect("volunteers:meeting", problem.meeting_id)


@login_required
def contributions_page(request):
    """结邻共建: what each of the user's units has done for the communities."""
    page_gate(request.user, "volunteers:contributions")
    units = [meetings.contributions_of(unit) for unit in meetings.contributing_units_of(request.user)]
    return render(request, "volunteers/meetings_contributions.html", {"units": units})
