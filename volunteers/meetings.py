"""结邻共建 at work: the monthly joint meeting (联席会议) of a community with the agencies paired with
it, recorded by the community committee's staff (the date, which paired agencies came, the notes,
the problems taken up and the agency that took each), and each problem turned into a case or a
task (docs/volunteers.md, "结邻共建 at work").

- Only the agencies paired with the community (`units.models.Pairing`) may be ticked as present or
  named as taking a problem up.
- One meeting per community and day: the committee's row is locked while recording, so a double
  submit records one meeting and refuses the other.
- A problem becomes a case opened as the district opens one nobody called about (channel
  "proactive", `cases.services.case_open`) in a grid of the community, and routed at once by the
  routing rules (`routing.dispatch.case_route_auto`; without a rule it waits for the dispatchers
  like any case); or a task addressed to the agency that took it. Once, either way: the problem's
  row is locked and a problem that already became one is refused.
"""

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.errors import InvalidInput, NotPermitted
from cases.models import Case, Channel
from cases.services import CallDetails, case_open
from grids.models import Region
from routing.dispatch import case_route_auto
from units.models import Unit
from volunteers.models import Meeting, MeetingProblem, Need, Task
from volunteers.needs import OFFERING_KINDS, TEXT_MAX, TITLE_MAX, committees_of
from volunteers.tasks import task_publish

PROBLEMS_MAX = 20


def paired_agencies(community) -> QuerySet[Unit]:
    """The active units paired with `community` (a Region), by code."""
    return Unit.objects.filter(is_active=True, pairings__community=community).order_by("code")


def _committee_for(actor, committee=None) -> Unit:
    mine = committees_of(actor)
    if committee is not None:
        mine = mine.filter(pk=committee.pk)
    found = mine.select_related("region").first()
    if found is None:
        raise NotPermitted(_("Only the staff of a community or village committee may record its joint meetings."))
    return found


def _require_convener(actor, meeting) -> None:
    if not committees_of(actor).filter(region_id=meeting.community_id).exists():
        raise NotPermitted(_("Only the staff of the community's committee may do this."))


@transaction.atomic
def meeting_record(*, actor, held_on, attendees=(), notes="", problems=(), committee=None) -> Meeting:
    """Record a joint meeting of the actor's community. `attendees`: the paired agencies present;
    `problems`: (text, agency or None) pairs, the agency one of the paired agencies. Refused with
    nothing written on an agency that is not paired with the community, a date to come, or a
    second meeting of the community on the same day."""
    committee = _committee_for(actor, committee)
    community = committee.region
    if held_on is None:
        raise InvalidInput(_("Say when the meeting was held."), "held_on")
    if held_on > timezone.localdate():
        raise InvalidInput(_("A meeting is recorded once it has been held."), "held_on")
    paired = {unit.pk: unit for unit in paired_agencies(community)}
    strangers = [unit.name for unit in attendees if unit.pk not in paired]
    if strangers:
        raise InvalidInput(
            _("Only the agencies paired with %(community)s may be ticked: %(units)s is not.")
            % {"community": community.name, "units": "、".join(strangers)},
            "attendees",
        )
    if len(notes or "") > TEXT_MAX:
        raise InvalidInput(_("At most %(n)d characters.") % {"n": TEXT_MAX}, "notes")
    rows = []
    for text, agency in problems:
        text = (text or "").strip()
        if not text:
            continue
        if len(text) > TEXT_MAX:
            raise InvalidInput(_("At most %(n)d characters.") % {"n": TEXT_MAX}, "problems")
        if agency is not None and agency.pk not in paired:
            raise InvalidInput(
                _("%(unit)s is not paired with %(community)s.") % {"unit": agency.name, "community": community.name},
                "problems",
            )
        rows.append((text, agency))
    if len(rows) > PROBLEMS_MAX:
        raise InvalidInput(_("At most %(n)d problems a meeting.") % {"n": PROBLEMS_MAX}, "problems")
    # Two records of the same meeting at once (a double submit, two clerks) take turns here.
    Unit.objects.select_for_update().filter(pk=committee.pk).first()
    if Meeting.objects.filter(community=community, held_on=held_on).exists():
        raise InvalidInput(
            _("The joint meeting of %(community)s on %(day)s is already recorded.")
            % {"community": community.name, "day": held_on.isoformat()},
            "held_on",
        )
    meeting = Meeting.objects.create(
        community=community, held_on=held_on, convened_by=committee, notes=(notes or "").strip(), created_by=actor
    )
    meeting.attendees.set([paired[unit.pk] for unit in attendees])
    MeetingProblem.objects.bulk_create(MeetingProblem(meeting=meeting, text=t, agency=a) for t, a in rows)
    return meeting


def _locked_problem(problem, actor) -> MeetingProblem:
    locked = (
        MeetingProblem.objects.select_for_update(of=("self",))
        .select_related("meeting", "meeting__community", "meeting__convened_by", "agency")
        .get(pk=problem.pk)
    )
    _require_convener(actor, locked.meeting)
    if locked.case_id is not None or locked.task_id is not None:
        raise InvalidInput(_("This problem is already a case or a task."), "problem")
    return locked


def _case_description(problem) -> str:
    meeting = problem.meeting
    if problem.agency is not None:
        where = _("Taken up at the joint meeting of %(community)s on %(day)s by %(agency)s.") % {
            "community": meeting.community.name,
            "day": meeting.held_on.isoformat(),
            "agency": problem.agency.name,
        }
    else:
        where = _("Taken up at the joint meeting of %(community)s on %(day)s.") % {
            "community": meeting.community.name,
            "day": meeting.held_on.isoformat(),
        }
    return f"{problem.text}\n\n{where}"


@transaction.atomic
def problem_to_case(*, problem, actor, category, grid) -> Case:
    """Open a case for a problem taken up at a meeting, in a grid of the meeting's community, and
    route it by the rules in the same transaction (the page then names the unit it went to)."""
    problem = _locked_problem(problem, actor)
    if category is None or not category.is_active or category.parent_id is None:
        raise InvalidInput(_("Choose a category from the list."), "category")
    community = problem.meeting.community
    if grid is None or grid.level != Region.Level.GRID or not grid.code.startswith(community.code):
        raise InvalidInput(_("Choose a grid of %(community)s.") % {"community": community.name}, "grid")
    description = _case_description(problem)
    details = CallDetails(channel=Channel.PROACTIVE, category=category, grid=grid, description=description)
    case = case_open(actor=actor, details=details)
    MeetingProblem.objects.filter(pk=problem.pk).update(case=case)
    case_route_auto(case_id=case.pk)
    case.refresh_from_db()
    return case


@transaction.atomic
def problem_to_task(*, problem, actor, title, starts, ends, wanted) -> Task:
    """Publish a task for a problem taken up at a meeting, addressed to the agency that took it,
    in the meeting's community. The problem must name its agency."""
    problem = _locked_problem(problem, actor)
    if problem.agency is None:
        raise InvalidInput(_("Name the agency that took the problem up before making it its task."), "problem")
    title = (title or "").strip() or problem.text[:TITLE_MAX]
    if len(title) > TITLE_MAX:
        raise InvalidInput(_("At most %(n)d characters.") % {"n": TITLE_MAX}, "title")
    if starts is None or ends is None:
        raise InvalidInput(_("Say when the work starts and ends."), "starts" if starts is None else "ends")
    # The tasks' own publishing (任务发布) checks the terms and the addressee, as for any task.
    task = task_publish(
        actor=actor,
        publisher=problem.meeting.convened_by,
        title=title,
        description=_case_description(problem),
        region=problem.meeting.community,
        starts=starts,
        ends=ends,
        wanted=wanted or 0,
        addressed_to=problem.agency,
    )
    MeetingProblem.objects.filter(pk=problem.pk).update(task=task)
    return task


# --- reads ---------------------------------------------------------------------------------------


def meetings_of_community(user) -> QuerySet[Meeting]:
    """The joint meetings of the user's communities, newest first, with their counts."""
    return (
        Meeting.objects.filter(community__in=committees_of(user).values("region"))
        .select_related("community")
        .annotate(present=Count("attendees", distinct=True), taken=Count("problems", distinct=True))
        .order_by("-held_on", "-id")
    )


def meeting_of_community_get(user, pk) -> Meeting | None:
    return meetings_of_community(user).filter(pk=pk).first()


def contributing_units_of(user) -> QuerySet[Unit]:
    """The units the user works in whose contributions the page shows: the paired agencies, and
    the departments and utilities (which take needs up too)."""
    return (
        Unit.objects.filter(memberships__user=user, is_active=True)
        .filter(Q(kind__in=OFFERING_KINDS) | Q(pairings__isnull=False))
        .distinct()
        .order_by("code")
    )


RECENT = 50


def contributions_of(unit) -> dict:
    """What one unit has done for the communities: the communities it is paired with, the joint
    meetings it attended, the problems it took up there (and what they became), the needs it took
    up. The lists are the latest `RECENT`; the counts are all-time."""
    meetings = Meeting.objects.filter(attendees=unit).select_related("community").order_by("-held_on", "-id")
    problems = (
        MeetingProblem.objects.filter(agency=unit)
        .select_related("meeting__community", "case", "task")
        .order_by("-meeting__held_on", "-id")
    )
    needs = Need.objects.filter(taken_by=unit).select_related("community").order_by("-matched_at", "-id")
    tasks = Task.objects.filter(addressed_to=unit)
    return {
        "unit": unit,
        "communities": list(
            Region.objects.filter(pairings__agency=unit).order_by("code").values_list("name", flat=True)
        ),
        "meetings": list(meetings[:RECENT]),
        "meetings_count": meetings.count(),
        "problems": list(problems[:RECENT]),
        "problems_count": problems.count(),
        "needs": list(needs[:RECENT]),
        "needs_count": needs.count(),
        "tasks_done": tasks.filter(state=Task.State.DONE).count(),
        "tasks_count": tasks.count(),
    }
