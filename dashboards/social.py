"""The social-forces dashboard's figures (一呼百应): for a place and a period, by its streets or
communities, the tasks published and done, the volunteer hours, the bookings served, the points
awarded and the needs matched; and each paired agency's contributions (结邻共建).

Read straight from the social tables, each figure one grouped query over the period's rows (the
place's children are a prefix of the place's code), so a page costs the same dozen queries
whatever the number of streets, communities or agencies. Where each row counts:

- a task: at its place (a street, a community or a grid), published when created, done when its
  publisher confirmed it; the hours are those credited to its confirmed sign-ups, on the day of
  the confirmation;
- a booking served: at the home of the team offering the service, on the day it was served;
- points awarded: the ledger's positive task and booking lines (never redemptions or
  corrections), at the task's place or the serving team's home (the line's `place_code`, written
  with it), on the day they were written;
- a need matched: at its community, on the day an offer was accepted (matched or done since);
- an agency's contributions in the place: needs it took up, problems it took up at joint meetings,
  meetings it attended, and tasks addressed to it that were confirmed done.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import Substr

from feedback import metrics
from grids.models import Region
from units.models import Unit
from volunteers.models import Booking, Meeting, MeetingProblem, Need, PointEntry, Signup, Task

CHILD_LEVEL = {"district": "street", "street": "community"}
FIGURES = ("tasks_published", "tasks_done", "hours", "bookings_served", "points", "needs_matched")
AGENCY_FIGURES = ("needs", "problems", "meetings", "tasks_done")


def _zero():
    return {name: Decimal(0) if name == "hours" else 0 for name in FIGURES}


@dataclass
class PlaceFigures:
    code: str
    name: str
    figures: dict = field(default_factory=_zero)


@dataclass
class AgencyFigures:
    code: str
    name: str
    figures: dict = field(default_factory=lambda: dict.fromkeys(AGENCY_FIGURES, 0))


@dataclass
class Social:
    total: dict
    children: list  # PlaceFigures, in code order; empty for a community
    child_level: str | None
    agencies: list  # AgencyFigures, by code


def _between(name, period):
    return {f"{name}__gte": period.start, f"{name}__lt": period.end}


def _grouped(rows, code, key_length, **aggregates) -> list[dict]:
    return list(rows.annotate(key=Substr(code, 1, key_length)).values("key").annotate(**aggregates).order_by())


def social(*, region, period) -> Social:
    """Everything the page shows for `region` (district, street or community) and `period`."""
    prefix = region.code
    child_level = CHILD_LEVEL.get(region.level)
    length = metrics.REGION_LEVELS[child_level] if child_level else len(prefix)
    done = Q(state=Task.State.DONE, **_between("confirmed_at", period))
    published = Q(**_between("created_at", period))
    groups = {}

    def add(rows, figure, value):
        for row in rows:
            groups.setdefault(row["key"], _zero())[figure] += row[value] or 0

    tasks = _grouped(
        Task.objects.filter(region__code__startswith=prefix).filter(published | done),
        "region__code",
        length,
        published=Count("id", filter=published),
        done=Count("id", filter=done),
    )
    add(tasks, "tasks_published", "published")
    add(tasks, "tasks_done", "done")
    hours = Signup.objects.filter(
        state=Signup.State.CONFIRMED, task__region__code__startswith=prefix, **_between("confirmed_at", period)
    )
    add(_grouped(hours, "task__region__code", length, n=Sum("hours")), "hours", "n")
    home = "day__service__team__home__code"
    served = Booking.objects.filter(state=Booking.State.DONE, **{f"{home}__startswith": prefix}).filter(
        **_between("done_at", period)
    )
    add(_grouped(served, home, length, n=Count("id")), "bookings_served", "n")
    points = PointEntry.objects.filter(
        kind__in=(PointEntry.Kind.TASK, PointEntry.Kind.BOOKING),
        points__gt=0,
        place_code__startswith=prefix,
        **_between("created_at", period),
    )
    add(_grouped(points, "place_code", length, n=Sum("points")), "points", "n")
    matched = Need.objects.filter(community__code__startswith=prefix, **_between("matched_at", period))
    add(_grouped(matched, "community__code", length, n=Count("id")), "needs_matched", "n")

    total = _zero()
    for figures in groups.values():
        for name, value in figures.items():
            total[name] += value
    children = []
    if child_level:
        children = [
            PlaceFigures(code, name, groups.get(code, _zero()))
            for code, name in Region.objects.filter(parent=region).order_by("code").values_list("code", "name")
        ]
    return Social(total=total, children=children, child_level=child_level, agencies=_agencies(prefix, period))


def _agencies(prefix, period) -> list[AgencyFigures]:
    """The agencies paired with a community of the place, and what each did there in the period."""
    agencies = {
        pk: AgencyFigures(code, name)
        for pk, code, name in Unit.objects.filter(kind=Unit.Kind.AGENCY, pairings__community__code__startswith=prefix)
        .distinct()
        .order_by("code")
        .values_list("pk", "code", "name")
    }
    if not agencies:
        return []
    ids = list(agencies)
    days = {"meeting__held_on__gte": period.first, "meeting__held_on__lte": period.last}
    counts = (
        (
            "needs",
            Need.objects.filter(taken_by__in=ids, community__code__startswith=prefix, **_between("matched_at", period)),
            "taken_by",
        ),
        (
            "problems",
            MeetingProblem.objects.filter(agency__in=ids, meeting__community__code__startswith=prefix, **days),
            "agency",
        ),
        (
            "meetings",
            Meeting.attendees.through.objects.filter(unit__in=ids, meeting__community__code__startswith=prefix, **days),
            "unit",
        ),
        (
            "tasks_done",
            Task.objects.filter(
                addressed_to__in=ids,
                region__code__startswith=prefix,
                state=Task.State.DONE,
                **_between("confirmed_at", period),
            ),
            "addressed_to",
        ),
    )
    for figure, rows, unit in counts:
        for pk, n in rows.values_list(unit).annotate(n=Count("pk")).order_by():
            agencies[pk].figures[figure] = n
    return list(agencies.values())
