"""The home page: the day's work of each role a person holds, each figure linking to the list
that shows the same rows.

Every count is read through the selector or the filter set of the page it links to (the unit's
queue, the case list's filters, the console's tabs, the callback and verification queues, the
dashboards' summaries), so the number on the home page is the number of rows the link opens.
A person with several roles sees one part per role, in a fixed order; a volunteer, a mediator
or a council member is led to their own pages.
"""

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import Case
from dashboards import selectors as dashboards
from feedback.selectors import callback_queue, verification_queue_for
from grids.models import Region
from handling.selectors import Clock, deadline_state, queue_counts, queue_for
from routing.filters import CaseFilterSet
from routing.models import Assignment
from routing.selectors import cases_for, pending_extensions, supervisions_for
from units.permissions import is_dispatcher, is_grid_worker, works_in_a_unit
from units.selectors import Role, member_units_for, postings_for, roles_for

# The worst units shown on an official's home page (the ranking's black list holds as many).
WORST = 3
OPEN = [str(status) for status in Case.OPEN_STATUSES]


@dataclass
class Item:
    """One figure of the day's work: what it counts, how many, and the list that shows them."""

    key: str
    label: str
    count: int
    url: str
    note: str = ""
    # Drawn in red or amber when there is something (overdue, due soon).
    tone: str = ""


@dataclass
class Part:
    """One role's part of the home page."""

    key: str
    title: str
    items: list = field(default_factory=list)
    # The next deadline of a unit's work: (case number, what, when, working time left, mark).
    next_due: dict | None = None
    extra: dict = field(default_factory=dict)


def _url(name, *args, **query) -> str:
    url = reverse(name, args=args)
    return f"{url}?{urlencode(query, doseq=True)}" if query else url


def _case_count(user, query) -> int:
    """How many rows the case list shows for `query`: the list's own filter set on the user's scope."""
    return CaseFilterSet(query, queryset=cases_for(user)).qs.count()


def parts_for(user) -> list[Part]:
    parts = []
    roles = roles_for(user)
    if is_dispatcher(user):
        parts.append(_dispatcher_part(user))
    if Role.OFFICIAL in roles:
        parts.append(_official_part(user))
    if works_in_a_unit(user):
        clock = Clock.start()
        for unit in member_units_for(user):
            parts.append(_unit_part(user, unit, clock))
        if Role.STREET_STAFF in roles:
            parts.append(_supervising_part(user))
    if is_grid_worker(user):
        parts.append(_grid_worker_part(user))
    own = _own_pages_part(user)
    if own is not None:
        parts.append(own)
    return parts


def _unit_part(user, unit, clock) -> Part:
    """A unit's day: to sign for, due soon, overdue (the queue's tabs, counted by the queue's own
    query), supervised and sent back to it to redo (the case list's filters), the next deadline."""
    counts = queue_counts(unit, clock)
    queue = reverse("handling:queue")

    def tab(name):
        return f"{queue}?{urlencode({'unit': unit.code, 'tab': name})}"

    supervised = {"unit": unit.code, "supervised": "true"}
    reopened = {"unit": unit.code, "reopened": "true", "status": [Case.Status.DISPATCHED, Case.Status.IN_PROGRESS]}
    part = Part(
        key=f"unit-{unit.code}",
        title=unit.name,
        items=[
            Item("to_sign", _("Waiting to be signed for"), counts["to_sign"], tab("to_sign")),
            Item("in_progress", _("In progress"), counts["in_progress"], tab("in_progress")),
            Item("due_soon", _("Due soon"), counts["due_soon"], tab("due_soon"), tone="warning"),
            Item("overdue", _("Overdue"), counts["overdue"], tab("overdue"), tone="danger"),
            Item(
                "supervised",
                _("Supervised (督办)"),
                _case_count(user, supervised),
                _url("cases:list", **supervised),
                tone="danger",
            ),
            Item(
                "reopened",
                _("Sent back to redo (重办)"),
                _case_count(user, reopened),
                _url("cases:list", **reopened),
                tone="warning",
            ),
        ],
    )
    upcoming = (
        queue_for(unit)
        .filter(state__in=Assignment.ACTIVE_STATES)
        .select_related("case")
        .order_by("next_due", "id")
        .first()
    )
    if upcoming is not None:
        state = deadline_state(upcoming, clock)
        part.next_due = {
            "number": upcoming.case.number,
            "url": reverse("handling:workspace", args=[upcoming.case.number]),
            "label": state.label,
            "due": state.due,
            "text": state.text,
            "mark": state.mark,
        }
    return part


def _supervising_part(user) -> Part:
    """A street office's supervision (督办) of its communities' cases: the supervision page's rows."""
    return Part(
        key="supervising",
        title=_("Supervision"),
        items=[
            Item(
                "supervising",
                _("Cases you supervise"),
                supervisions_for(user).count(),
                reverse("routing:supervision"),
            )
        ],
    )


def _dispatcher_part(user) -> Part:
    """The centre's day: the console's two tabs (one grouped count, as the console reads them),
    the extension requests waiting, and the callbacks (the callback queue; those already due)."""
    by_status = dict(
        cases_for(user)
        .filter(status__in=[Case.Status.REGISTERED, Case.Status.RETURNED])
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    now = timezone.now()
    callbacks = callback_queue().aggregate(all=Count("id"), due=Count("id", filter=Q(callback_due__lte=now)))
    console = reverse("routing:console")
    return Part(
        key="dispatcher",
        title=_("Dispatch centre"),
        items=[
            Item(
                "waiting",
                _("Waiting for dispatch"),
                by_status.get(Case.Status.REGISTERED, 0),
                f"{console}?tab=waiting",
            ),
            Item(
                "returned",
                _("Returned by units"),
                by_status.get(Case.Status.RETURNED, 0),
                f"{console}?tab=returned",
                tone="warning",
            ),
            Item(
                "extensions",
                _("Extension requests"),
                pending_extensions().count(),
                reverse("routing:console-extensions"),
                tone="warning",
            ),
            Item(
                "callbacks",
                _("Callbacks waiting"),
                callbacks["all"],
                reverse("feedback:callbacks"),
                note=_("%(n)s due now") % {"n": callbacks["due"]},
                tone="danger" if callbacks["due"] else "",
            ),
        ],
    )


def _grid_worker_part(user) -> Part:
    """A grid worker's day: the open cases of each of their grids (one grouped count, each grid
    linking to the case list of that grid and the open statuses), the results to verify on site."""
    grids = postings_for(user).grids
    counts = dict(
        cases_for(user)
        .filter(status__in=OPEN, grid_id__in=list(grids))
        .order_by()
        .values("grid_id")
        .annotate(n=Count("id"))
        .values_list("grid_id", "n")
    )
    names = dict(Region.objects.filter(code__in=list(grids)).values_list("code", "name"))
    items = [
        Item(
            f"grid-{code}",
            _("Open cases in %(grid)s") % {"grid": names.get(code, code)},
            counts.get(code, 0),
            _url("cases:list", region=code, status=OPEN),
        )
        for code in grids
    ]
    items.append(
        Item(
            "verifications",
            _("Results to verify on site"),
            verification_queue_for(user).count(),
            reverse("feedback:verifications"),
            tone="warning",
        )
    )
    return Part(
        key="grid_worker",
        title=_("Your grids"),
        items=items,
        extra={"log_call": reverse("intake:new")},
    )


RATES = (
    ("response_rate", _("Response rate")),
    ("resolution_rate", _("Resolution rate")),
    ("satisfaction_rate", _("Satisfaction rate")),
)


def _official_part(user) -> Part:
    """The district's month so far: the three rates (三率) against the same days of last month
    (`dashboards.selectors.month_comparison`, the overview's figures), the lowest-scoring streets
    and departments by the ranking's own figures (`ranked_figures`: streets by place, departments
    by handling unit) over the same days, the cases supervised and overdue now (the case list's
    filters)."""
    district = Region.objects.filter(level=Region.Level.DISTRICT).order_by("code").first()
    compared = dashboards.month_comparison(prefix=district.code if district else "")
    rates = [
        {
            "name": name,
            "label": label,
            "value": getattr(compared.figures, name),
            "previous": getattr(compared.previous, name),
            "change": compared.change(name),
        }
        for name, label in RATES
    ]
    supervised = {"supervised": "true", "status": OPEN}
    overdue = {"overdue": "true", "status": OPEN}
    month = f"{compared.period.first:%Y-%m}"
    return Part(
        key="official",
        title=_("The district this month"),
        items=[
            Item(
                "supervised",
                _("Supervised now (督办)"),
                _case_count(user, supervised),
                _url("cases:list", **supervised),
                tone="danger",
            ),
            Item("overdue", _("Overdue now"), _case_count(user, overdue), _url("cases:list", **overdue), tone="danger"),
        ],
        extra={
            "period": compared.period,
            "before": compared.previous_period,
            "rates": rates,
            "dashboard": _url("dashboards:index", period="month"),
            "worst_streets": [
                {**row, "url": _url("dashboards:overview", row["unit"].region.code, period="month")}
                for row in _worst("street", compared.period)
            ],
            "worst_departments": [
                {**row, "url": _url("dashboards:ranking", level="department", month=month)}
                for row in _worst("department", compared.period)
            ],
        },
    )


def _worst(level, period) -> list[dict]:
    """The units of a ranked level with the lowest composite score over `period`, by the ranking's
    own figures (those without a score are left out: nothing to judge them by yet)."""
    scored = [
        (unit, figures)
        for unit, figures in dashboards.ranked_figures(level=level, period=period)
        if figures.composite is not None
    ]
    scored.sort(key=lambda row: (row[1].composite, row[0].code))
    return [{"unit": unit, "composite": figures.composite, "figures": figures} for unit, figures in scored[:WORST]]


def _own_pages_part(user) -> Part | None:
    """Volunteers, mediators and council members have pages of their own: the home page leads
    there (their work is counted on those pages)."""
    postings = postings_for(user)
    links = []
    if postings.volunteer:
        links.append((_("Volunteer tasks and points"), reverse("volunteers:me")))
    if postings.mediator:
        links.append((_("Mediations at my points"), reverse("mediation:list")))
    if postings.council:
        links.append((_("The councils I sit on"), reverse("mediation:councils")))
    if not links:
        return None
    return Part(key="own_pages", title=_("Your pages"), extra={"links": links})
