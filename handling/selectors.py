"""Reads for the people clearing cases: a unit's queue, its tabs and their counts, and how much
working time is left on each deadline."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from deadlines.models import LimitUnit
from deadlines.worktime import WorkCalendar
from routing.models import Assignment
from routing.selectors import is_supervised, next_due

# A deadline within this much working time is "due soon" (即将超期, yellow).
DUE_SOON_WORKING_HOURS = 4
RESOLVED_TAB_DAYS = 30

TABS = {
    "to_sign": gettext_lazy("To sign for"),
    "in_progress": gettext_lazy("In progress"),
    "due_soon": gettext_lazy("Due soon"),
    "overdue": gettext_lazy("Overdue"),
    "resolved": gettext_lazy("Resolved"),
}


@dataclass(frozen=True)
class Clock:
    """`now` and the moment after which a deadline is no longer "due soon", computed once."""

    now: datetime
    soon: datetime
    calendar: WorkCalendar

    @classmethod
    def start(cls, now=None):
        calendar = WorkCalendar.load()
        now = now or timezone.now()
        return cls(now=now, soon=calendar.add(now, DUE_SOON_WORKING_HOURS, LimitUnit.WORKING_HOURS), calendar=calendar)


def _tab_filters(clock) -> dict[str, Q]:
    active = Q(state__in=Assignment.ACTIVE_STATES)
    return {
        "to_sign": Q(state=Assignment.State.WAITING),
        "in_progress": Q(state=Assignment.State.SIGNED),
        "due_soon": active & Q(next_due__gte=clock.now, next_due__lt=clock.soon),
        "overdue": active & Q(next_due__lt=clock.now),
        "resolved": Q(state=Assignment.State.DONE, finished_at__gte=clock.now - timedelta(days=RESOLVED_TAB_DAYS)),
    }


def queue_for(unit) -> QuerySet[Assignment]:
    """Every assignment of the unit, with `next_due` annotated."""
    return Assignment.objects.filter(unit=unit).annotate(next_due=next_due())


def queue_tab(unit, tab, clock) -> QuerySet[Assignment]:
    """One tab of the queue, most urgent first: overdue (the oldest deadline first), then the
    nearest deadline. Resolved work lists the latest first."""
    rows = (
        queue_for(unit)
        .filter(_tab_filters(clock)[tab])
        .select_related("case", "case__category", "case__grid", "requested_by")
        .annotate(supervised=is_supervised("case"))
    )
    if tab == "resolved":
        return rows.order_by("-finished_at", "-id")
    return rows.order_by("next_due", "id")


def queue_counts(unit, clock) -> dict[str, int]:
    """The count on every tab, in one query. Only the rows a tab can show are read (the active
    ones and the recently resolved, through two indexes), not the years of a unit's done work."""
    filters = _tab_filters(clock)
    shown = Q(state__in=Assignment.ACTIVE_STATES) | filters["resolved"]
    return queue_for(unit).filter(shown).aggregate(**{tab: Count("id", filter=q) for tab, q in filters.items()})


@dataclass(frozen=True)
class DeadlineState:
    due: datetime
    mark: str  # green, yellow, red
    seconds_left: float  # working seconds; negative when overdue
    day_seconds: float = 7.5 * 3600  # the length of a working day, for "2 working days 3 h"
    kind: str = "resolve"  # sign, contact or resolve

    @property
    def label(self):
        return DEADLINE_KINDS[self.kind]

    @property
    def text(self):
        return format_working_time(self.seconds_left, day_seconds=self.day_seconds)


def deadline_state(assignment, clock) -> DeadlineState | None:
    """The next deadline of an active assignment, its colour, and the working time left."""
    if assignment.state not in Assignment.ACTIVE_STATES:
        return None
    due = getattr(assignment, "next_due", None) or assignment.resolve_due
    left = clock.calendar.working_seconds_between(clock.now, due)
    if due < clock.now:
        mark = "red"
    elif due < clock.soon:
        mark = "yellow"
    else:
        mark = "green"
    return DeadlineState(
        due=due,
        mark=mark,
        seconds_left=left,
        day_seconds=clock.calendar.day_length / 1_000_000,
        kind=_deadline_kind(assignment, due),
    )


DEADLINE_KINDS = {
    "sign": gettext_lazy("sign-for"),
    "contact": gettext_lazy("first contact"),
    "resolve": gettext_lazy("resolution"),
}


def _deadline_kind(assignment, due):
    """Which deadline `due` is, by the same rule as `next_due()`."""
    if assignment.state == Assignment.State.WAITING:
        return "sign"
    if assignment.contacted_at is None and assignment.contact_due is not None and due == assignment.contact_due:
        return "contact"
    return "resolve"


def format_working_time(seconds, *, day_seconds=7.5 * 3600) -> str:
    """'3 h 20 min of working time left', 'overdue by 2 working days 3 h': days beyond one
    working day, otherwise hours and minutes."""
    remaining = abs(seconds)
    days = int(remaining // day_seconds) if day_seconds else 0
    minutes = int((remaining - days * day_seconds) // 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        amount = _("%(d)s working days %(h)s h") % {"d": days, "h": hours}
    elif hours:
        amount = _("%(h)s h %(m)s min") % {"h": hours, "m": minutes}
    else:
        amount = _("%(m)s min") % {"m": minutes}
    if seconds < 0:
        return _("overdue by %(amount)s of working time") % {"amount": amount}
    return _("%(amount)s of working time left") % {"amount": amount}
