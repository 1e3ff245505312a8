"""Reclassifying a case (改分类, 改网格): a dispatcher corrects its category, its grid, its address or
its point, with a reason, and the case follows the rules again.

- A case no unit holds (registered, returned, resolved) only changes; the console then proposes a
  unit by the new category and grid.
- A case a unit holds (dispatched, in progress) stays with it when the rules give the same unit
  (or none). When they give another unit it is re-routed (the `reroute` move, recorded as a
  reclassification): the old unit's part and its helpers' are withdrawn (the old unit is told,
  notices/table.py), the new unit leads with the new category's SLA deadlines counted from now,
  and the case is `dispatched` again. A deadline already running is never shortened unless the
  dispatcher says so (`shorten_deadline`): each new deadline earlier than the old one keeps the
  old one.
- The case's lock is held throughout (`cases.lifecycle.moving`). The doors send what the
  dispatcher saw (`seen_category`, `seen_grid`): of two dispatchers reclassifying at once, the
  second finds the case changed and is refused (409), never silently overriding the first.
- `reclassify_preview` answers what the same input would do, writing nothing.

The metrics count the category and grid a case has now: the dashboards recompute the days the
case touches when they hear of the move (`dashboards.services.on_case_moved`)."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from cases import lifecycle
from cases.errors import InvalidInput
from cases.lifecycle import TransitionNotAllowed
from cases.models import Case, CaseEvent, Category
from cases.places import call_place
from deadlines.policies import NoDefaultSlaPolicy, deadlines_from, sla_policy_for
from deadlines.worktime import WorkCalendar
from grids.models import Region
from routing.dispatch import category_to_choose, check_can_lead, lead_assignment, lead_replace
from routing.models import Assignment
from routing.rules import RoutingDecision, decision_without, route_for
from routing.selectors import returned_by
from units.models import Unit
from units.permissions import require_dispatcher

ADDRESS_MAX = Case._meta.get_field("address").max_length
# The deadlines of a lead assignment, in the order a person reads them.
DEADLINES = ("sign_due", "contact_due", "resolve_due", "return_until", "extension_max_until")


class ReclassifiedMeanwhile(TransitionNotAllowed):
    """The case's category or grid is no longer what the dispatcher saw (a colleague has just
    reclassified it): answered like any refused move (409), nothing changed."""

    def __init__(self, case):
        super().__init__("reclassify", case.status)
        # Why it was refused, instead of the lifecycle's general "not possible while …".
        self.args = (
            _(
                "Someone has just changed this case's category or grid (now %(category)s in %(grid)s); reload "
                "the page and look again."
            )
            % {"category": case.category.name, "grid": case.grid.name},
        )


@dataclass
class Plan:
    """What a reclassification does: the case's new category and place, where the rules send it,
    and, when it is re-routed, the new lead unit and its deadlines (`kept`: those left as they
    were because the new policy would have shortened them)."""

    case: Case
    category: Category
    grid: Region
    address: str
    latitude: Decimal | None
    longitude: Decimal | None
    decision: RoutingDecision
    current: Assignment | None  # the lead assignment running now, if a unit holds the case
    unit: Unit | None = None  # the new lead when re-routed
    deadlines: dict = field(default_factory=dict)
    kept: list = field(default_factory=list)
    reason: str = ""
    proposal_from: str = ""  # the unit whose proposal is accepted

    @property
    def reroute(self) -> bool:
        return self.unit is not None

    @property
    def changes(self) -> dict:
        """The case's fields that change, as `lifecycle.moving` writes them."""
        case, changes = self.case, {}
        if self.category.pk != case.category_id:
            changes["category"] = self.category
        if self.grid.code != case.grid_id:
            changes["grid"] = self.grid
        if self.address != case.address:
            changes["address"] = self.address
        if (self.latitude, self.longitude) != (case.latitude, case.longitude):
            changes.update(latitude=self.latitude, longitude=self.longitude)
        return changes

    def data(self) -> dict:
        """What the event records: from and to, by code and by name (the timeline reads no other
        row), the reason, and the units and new deadlines of a re-route."""
        case = self.case
        data = {
            "from_category": case.category.code,
            "from_category_name": case.category.name,
            "to_category": self.category.code,
            "to_category_name": self.category.name,
            "from_grid": case.grid_id,
            "from_grid_name": case.grid.name,
            "to_grid": self.grid.code,
            "to_grid_name": self.grid.name,
            "reason": self.reason,
        }
        changes = self.changes
        if "address" in changes:
            data.update(from_address=case.address, to_address=self.address)
        if "latitude" in changes:
            data["from_point"] = _point(case.latitude, case.longitude)
            data["to_point"] = _point(self.latitude, self.longitude)
        if self.proposal_from:
            data["proposal_from"] = self.proposal_from
        if self.reroute:
            # `unit` and `from_unit`, as a re-dispatch records them: the notice table tells both.
            data.update(
                unit=self.unit.code,
                unit_name=self.unit.name,
                from_unit=self.current.unit.code,
                from_unit_name=self.current.unit.name,
                rule=self.decision.rule.pk if self.decision.rule else None,
                deadlines={name: value.isoformat() if value else None for name, value in self.deadlines.items()},
                kept=self.kept,
            )
        return data


def _point(latitude, longitude):
    return None if latitude is None else [str(latitude), str(longitude)]


def case_reclassify(
    *,
    case,
    actor,
    category: str | None = None,
    grid: str | None = None,
    address: str | None = None,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    reason: str = "",
    shorten_deadline: bool = False,
    seen_category: str | None = None,
    seen_grid: str | None = None,
    accept_proposal: bool = False,
) -> Case:
    """Give the case another category (a code), grid (a code), address or point, with a reason;
    re-route it when a unit holds it and the rules now give another unit. Only dispatchers.

    `None` (or "") leaves a value as it is; a point given without a grid sets the grid that holds
    it. `accept_proposal`: the category the unit that returned the case proposed, and, without a
    reason, "accepting the proposal of <unit>". Refused: a closed case (409), a case changed since
    `seen_category`/`seen_grid` (409), an unknown or inactive category or grid, an empty reason,
    nothing to change (400 on the field). Returns the moved case."""
    require_dispatcher(actor)
    with lifecycle.moving(case, "reclassify", actor) as move:
        # A closed case is refused before its input is read.
        move.check()
        now = timezone.now()
        plan = _plan(
            move.case,
            category=category,
            grid=grid,
            address=address,
            latitude=latitude,
            longitude=longitude,
            reason=reason,
            shorten_deadline=shorten_deadline,
            seen_category=seen_category,
            seen_grid=seen_grid,
            accept_proposal=accept_proposal,
            now=now,
        )
        move.note = plan.reason
        move.data.update(plan.data())
        move.changes.update(plan.changes)
        if plan.reroute:
            move.action = "reroute"
            move.check()
            lead_replace(
                case=move.case,
                unit=plan.unit,
                actor=actor,
                rule=plan.decision.rule,
                reason=plan.reason,
                now=now,
                deadlines=plan.deadlines,
            )
    return move.case


def reclassify_preview(*, case, actor, **changes) -> Plan:
    """What `case_reclassify` would do with the same input (`changes`: its keyword arguments),
    writing nothing: the same refusals (except an empty reason, which the preview does not need)."""
    require_dispatcher(actor)
    case = Case.objects.select_related("category", "grid").get(pk=case.pk)
    if not lifecycle.is_allowed("reclassify", case.status):
        raise TransitionNotAllowed("reclassify", case.status)
    return _plan(case, **changes, now=timezone.now(), preview=True)


def proposal_for(case) -> CaseEvent | None:
    """The return event whose proposed category waits for a dispatcher: the case's last return,
    while the case is still returned and the proposal is not its category already."""
    event = CaseEvent.objects.filter(case=case, action="return").order_by("-at", "-id").first()
    return event if event is not None and waiting_proposal(case, event) else None


def waiting_proposal(case, event) -> bool:
    """Whether the return `event` (the case's last) carries a proposal still to accept."""
    proposed = (event.data or {}).get("proposed_category")
    return case.status == Case.Status.RETURNED and bool(proposed) and proposed != case.category.code


def _plan(
    case,
    *,
    now,
    category=None,
    grid=None,
    address=None,
    latitude=None,
    longitude=None,
    reason="",
    shorten_deadline=False,
    seen_category=None,
    seen_grid=None,
    accept_proposal=False,
    preview=False,
) -> Plan:
    # What the dispatcher saw first: a case changed since is refused as a whole (409).
    if (seen_category and seen_category != case.category.code) or (seen_grid and seen_grid != case.grid_id):
        raise ReclassifiedMeanwhile(case)
    reason = (reason or "").strip()
    proposal_from = ""
    if accept_proposal:
        event = proposal_for(case)
        if event is None:
            raise InvalidInput(_("There is no category proposed by a unit to accept."), "category")
        category = category or event.data["proposed_category"]
        proposal_from = event.data.get("unit", "")
        if not reason:
            name = event.data.get("proposed_by_name") or proposal_from
            reason = _("Accepting the proposal of %(unit)s") % {"unit": name}
    new_category = category_to_choose(category.strip(), field="category") if category else case.category
    chosen_grid = None
    if grid:
        chosen_grid = Region.objects.filter(code=grid.strip(), level=Region.Level.GRID).first()
        if chosen_grid is None:
            raise InvalidInput(_("Unknown grid."), "grid")
    new_latitude, new_longitude = case.latitude, case.longitude
    if latitude is not None or longitude is not None:
        # A new point: its grid, or the grid chosen if the point lies in it (intake's rule; a
        # point in another grid than the one chosen is refused, naming it).
        place = call_place(grid=chosen_grid, latitude=latitude, longitude=longitude)
        chosen_grid, new_latitude, new_longitude = place.grid, place.latitude, place.longitude
    # A grid chosen without a point keeps the case's point as it was recorded.
    new_grid = chosen_grid or case.grid
    new_address = case.address if address is None else address.strip()
    if len(new_address) > ADDRESS_MAX:
        raise InvalidInput(_("An address has at most %(max)d characters.") % {"max": ADDRESS_MAX}, "address")
    if not reason and not preview:
        raise InvalidInput(_("Say why the case is reclassified."), "reason")
    plan = Plan(
        case=case,
        category=new_category,
        grid=new_grid,
        address=new_address,
        latitude=new_latitude,
        longitude=new_longitude,
        decision=route_for(category=new_category, grid=new_grid),
        current=lead_assignment(case),
        reason=reason,
        proposal_from=proposal_from,
    )
    if not plan.changes:
        raise InvalidInput(_("Nothing would change: choose another category, grid, address or point."), "category")
    if plan.current is None:
        # Nobody holds the case: the console proposes by the new category, never to a unit that
        # returned it.
        plan.decision = decision_without(plan.decision, returned_by([case.pk]).get(case.pk, set()))
        return plan
    unit = plan.decision.unit
    if unit is None or unit.pk == plan.current.unit_id:
        return plan  # the unit holding it keeps it, deadlines and all
    check_can_lead(unit, grid_code=new_grid.code, field="category")
    plan.unit = unit
    try:
        policy = sla_policy_for(category=new_category, priority=case.priority)
    except NoDefaultSlaPolicy as error:
        raise InvalidInput(str(error), "category") from error
    plan.deadlines = deadlines_from(policy, now, WorkCalendar.load())
    if not shorten_deadline:
        for name in DEADLINES:
            running = getattr(plan.current, name)
            if running is not None and (plan.deadlines[name] is None or running > plan.deadlines[name]):
                plan.deadlines[name] = running
                plan.kept.append(name)
    return plan
