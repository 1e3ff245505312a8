"""Who may see what. Every list, page, export and API answer starts from a function here.

Scope follows from posting rows (grid postings, unit memberships), never from `is_staff`:
- dispatchers (members of the district centre) and officials (members of the district
  leadership) see the whole district;
- a street office's staff see their street, a committee's staff their community or village;
- a grid worker sees the grids they are posted to;
- staff of departments, utilities, social forces and agencies have no area: they see what is
  assigned to their unit (cases arrive with the routing work).
"""

from django.db.models import Case as SqlCase
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, When
from django.db.models.functions import Least, Substr
from django.http import Http404

from cases.models import Case, CaseEvent
from escalation.models import Supervision
from grids.models import GridPosting, Region
from routing.models import Assignment, ExtensionRequest
from units.models import Unit
from units.selectors import (
    Role,
    ancestor_codes,
    can_log_call_in,
    postings_for,
    region_prefixes_for,
    region_q_for,
    roles_for,
)


def regions_for(user) -> QuerySet[Region]:
    """The places a user may see: their areas and everything below, and the places above them
    (so that a street → community → grid picker and breadcrumbs still work)."""
    prefixes = region_prefixes_for(user)
    regions = Region.objects.all()
    if prefixes is None:
        return regions
    return regions.filter(region_q_for(user) | Q(code__in=ancestor_codes(prefixes)))


def can_browse_region(user, region) -> bool:
    """Whether the user may open a region's page (its area is theirs, or it is above their area)."""
    prefixes = region_prefixes_for(user)
    if prefixes is None:
        return True
    return any(region.code.startswith(p) or p.startswith(region.code) for p in prefixes)


def region_children_with_counts(user, region) -> list[Region]:
    """The places directly under `region` that the user may see, each with `grid_count`,
    `worker_count` and `unit_count` for its whole subtree.

    Four queries whatever the number of children: each count is one GROUP BY over a code-prefix
    (the child's code is the first N characters of every code below it).
    """
    children = list(regions_for(user).filter(parent=region).order_by("code"))
    if not children:
        return children
    width = len(children[0].code)
    grid_counts = dict(
        Region.objects.filter(level=Region.Level.GRID, code__startswith=region.code)
        .annotate(prefix=Substr("code", 1, width))
        .values("prefix")
        .annotate(n=Count("id"))
        .values_list("prefix", "n")
    )
    worker_counts = dict(
        GridPosting.objects.filter(grid__code__startswith=region.code)
        .annotate(prefix=Substr("grid__code", 1, width))
        .values("prefix")
        .annotate(n=Count("user", distinct=True))
        .values_list("prefix", "n")
    )
    unit_counts = dict(
        Unit.objects.filter(is_active=True, region__code__startswith=region.code)
        .exclude(region__level=Region.Level.DISTRICT)
        .annotate(prefix=Substr("region__code", 1, width))
        .values("prefix")
        .annotate(n=Count("id"))
        .values_list("prefix", "n")
    )
    for child in children:
        child.grid_count = 1 if child.level == Region.Level.GRID else grid_counts.get(child.code, 0)
        child.worker_count = worker_counts.get(child.code, 0)
        child.unit_count = unit_counts.get(child.code, 0)
    return children


def region_totals(region) -> dict:
    """Grids, grid workers and units in the whole subtree of `region`."""
    return {
        "grids": Region.objects.filter(level=Region.Level.GRID, code__startswith=region.code).count(),
        "workers": GridPosting.objects.filter(grid__code__startswith=region.code).values("user").distinct().count(),
        "units": Unit.objects.filter(is_active=True, region__code__startswith=region.code).count(),
    }


def cases_for(user) -> QuerySet[Case]:
    """The cases a user may read. Every case list, page, export and API answer starts here.

    Dispatchers and officials: all. Street and committee staff: the cases in their area. Grid
    workers: the cases in their grids. Every unit: the cases it has been given, as lead or as an
    assisting unit, now or before.
    """
    if not user.is_authenticated:
        return Case.objects.none()
    area = region_q_for(user, field="grid__code")
    if area is None:
        return Case.objects.all()
    unit_codes = [code for code, *_rest in postings_for(user).units]
    if unit_codes:
        assigned = Assignment.objects.filter(
            case=OuterRef("pk"), unit_id__in=Unit.objects.filter(code__in=unit_codes).values("id")
        )
        area |= Q(Exists(assigned))
    return Case.objects.filter(area)


def case_get_for(user, number, **annotations) -> Case:
    """The case with this number if the user may read it; 404 alike for "no such case" and
    "not yours", so a number cannot be probed. With its category and the category's class (every
    case page names both), its grid, and `annotations`, read in the same query."""
    case = (
        cases_for(user).filter(number=number).select_related("category__parent", "grid").annotate(**annotations).first()
    )
    if case is None:
        raise Http404
    return case


def phone_visible_to(actor, case) -> bool:
    """Whether the actor may reveal the caller's phone: dispatchers always (they call back);
    staff of the case's area unless the caller asked for confidentiality."""
    roles = roles_for(actor)
    if Role.DISPATCHER in roles:
        return True
    if case.caller_confidential:
        return False
    if roles & {Role.COMMUNITY_STAFF, Role.STREET_STAFF, Role.GRID_WORKER} and can_log_call_in(actor, case.grid):
        return True
    # The unit leading the case must be able to call the resident it has to contact.
    mine = {code for code, *_rest in postings_for(actor).units}
    return Assignment.objects.filter(
        case=case, role=Assignment.Role.LEAD, state__in=Assignment.ACTIVE_STATES, unit__code__in=mine
    ).exists()


def next_due():
    """The deadline an assignment must meet next: sign-for while waiting; first contact (or the
    resolution, if that comes first) until the resident is contacted; then the resolution."""
    return SqlCase(
        When(state=Assignment.State.WAITING, then=F("sign_due")),
        When(
            contacted_at__isnull=True,
            contact_due__isnull=False,
            then=Least("contact_due", "resolve_due"),
        ),
        default=F("resolve_due"),
    )


def pending_extensions() -> QuerySet[ExtensionRequest]:
    """Extension requests waiting for a decision. A request whose unit no longer leads the case
    (returned, re-dispatched, resolved) is moot and left out. The console's tab and the
    dispatcher's home page count the same rows."""
    return ExtensionRequest.objects.filter(
        decision=ExtensionRequest.Decision.PENDING, assignment__state__in=Assignment.ACTIVE_STATES
    )


def open_supervisions():
    """Supervisions in force: not ended, and the supervised assignment still active (a resolved or
    re-dispatched case stops counting at once, before the sweep writes the end)."""
    return Supervision.objects.filter(ended_at__isnull=True, assignment__state__in=Assignment.ACTIVE_STATES)


def is_supervised(case_ref="pk"):
    """An `Exists` for annotating cases (or rows pointing at a case through `case_ref`) with the
    督办 mark, in the list's own query."""
    return Exists(open_supervisions().filter(case=OuterRef(case_ref)))


def supervisions_for(user) -> QuerySet[Supervision]:
    """The supervisions a user sees on the supervision page: those of the units they work in, and,
    for dispatchers, the district leadership's (the centre works them on its behalf)."""
    if not user.is_authenticated:
        return Supervision.objects.none()
    postings = postings_for(user)
    codes = [code for code, *_rest in postings.units]
    q = Q(unit__code__in=codes)
    if Role.DISPATCHER in roles_for(user):
        q |= Q(unit__kind=Unit.Kind.LEADERSHIP)
    return open_supervisions().filter(q)


def supervision_acting_for(user, case) -> Supervision | None:
    """The supervision in force through which `user` may act on `case` (urge, reassign, set a new
    deadline), or None. Staff of a supervising street office act for it; the district
    leadership's supervision is worked by the centre's dispatchers, and its members (officials)
    only read."""
    if not user.is_authenticated:
        return None
    postings = postings_for(user)
    codes = [code for code, kind, *_rest in postings.units if kind != Unit.Kind.LEADERSHIP]
    q = Q(unit__code__in=codes)
    if Role.DISPATCHER in roles_for(user):
        q |= Q(unit__kind=Unit.Kind.LEADERSHIP)
    return open_supervisions().filter(q, case=case).select_related("unit").order_by("level").first()


def returned_by(case_ids) -> dict[int, set[str]]:
    """The codes of the units that returned each case (退单), from its return events, in one query.
    The console never proposes such a unit again for that case (`routing.rules.decision_without`)."""
    returned = {}
    events = CaseEvent.objects.filter(case_id__in=list(case_ids), action="return").values_list("case_id", "data__unit")
    for case_id, unit in events:
        if unit:
            returned.setdefault(case_id, set()).add(unit)
    return returned
