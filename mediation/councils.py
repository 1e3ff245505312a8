"""议事会: the residents' deliberation councils (docs/mediation.md, "Deliberation"). Services (keyword-only,
`actor` passed, one transaction each) and the scoped reads the pages and the API share.

Who: a council's members with an account and the staff of its host unit propose items, record
meetings and act on decisions; the staff of a case's lead unit and the dispatchers propose an item
from a case; dispatchers and officials read every council, street and committee staff the councils
of their area. A council the reader may not read answers 404 as a missing one.

The rules of a meeting: the quorum — the members present are at least `quorum_percent` of the
council's active members — else every item is recorded as no decision with the reason; an item is
carried when the votes for are more than `majority_percent` of the votes cast (for, against and
abstain: everyone present who voted); the votes of an item cannot exceed the members present. An
item carried on a case is recorded on that case (`council_settled`: "settled by the council").
"""

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from cases import lifecycle
from cases.errors import InvalidInput, NotPermitted
from cases.models import Case, Category
from grids.models import Region
from intake.services import case_open_proactive
from mediation.models import AgendaItem, Council, CouncilMember, Meeting
from routing.models import Assignment
from routing.selectors import case_get_for
from units.permissions import is_dispatcher
from units.selectors import postings_for, region_q_for

TITLE_MAX = 100
DESCRIPTION_MAX = 2000
DECISION_MAX = 2000
PLACE_MAX = 200
MAX_OPTIONS = 10
MAX_ITEMS = 30  # items of one meeting
HOTSPOT_DAYS = 30


# --- reads -----------------------------------------------------------------------------------------


def _seat(user):
    return CouncilMember.objects.filter(council=OuterRef("pk"), user=user, is_active=True)


def councils_for(user) -> QuerySet[Council]:
    """The councils a user may read: every one for the district-wide roles; otherwise those of
    their area (street and committee staff), of their units (the host), and those they sit on."""
    if not user.is_authenticated:
        return Council.objects.none()
    area = region_q_for(user, field="region__code")
    if area is None:
        return Council.objects.all()
    own = [code for code, *_rest in postings_for(user).units]
    return Council.objects.filter(area | Q(unit__code__in=own) | Q(Exists(_seat(user))))


def council_get_for(user, pk) -> Council:
    """The council if the user may read it; 404 alike for "no such council" and "not yours"."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    if not 0 < pk < 2**31:
        raise Http404
    council = councils_for(user).select_related("region", "unit").filter(pk=pk).first()
    if council is None:
        raise Http404
    return council


def may_record(user, council) -> bool:
    """Members with an account and the host unit's staff record meetings and propose items."""
    if not user.is_authenticated:
        return False
    if any(code == council.unit.code for code, *_rest in postings_for(user).units):
        return True
    return council.members.filter(user=user, is_active=True).exists()


def _require_recorder(actor, council):
    if not may_record(actor, council):
        raise NotPermitted(_("Only the council's members and its host unit's staff may do this."))


def meetings_of(council) -> QuerySet[Meeting]:
    """A council's meetings, newest first, each with its items and the members present (three
    queries whatever their number)."""
    return council.meetings.prefetch_related(
        Prefetch(
            "items",
            queryset=AgendaItem.objects.select_related("case", "opened_case", "opened_task").order_by("id"),
        ),
        "present",
    ).select_related("council__region")


def published_meetings(region_code=None) -> QuerySet[Meeting]:
    """Meetings published to the residents, newest first; `region_code`: the councils in it and below."""
    meetings = Meeting.objects.filter(published=True).select_related("council__region")
    if region_code:
        meetings = meetings.filter(council__region__code__startswith=region_code)
    return meetings.prefetch_related(Prefetch("items", queryset=AgendaItem.objects.order_by("id"))).annotate(
        present_count=Count("present", distinct=True)
    )


# --- proposing an item -----------------------------------------------------------------------------


def _clean_text(value, field, limit, *, required=False):
    value = (value or "").strip()
    if "\x00" in value:
        raise InvalidInput(_("This text holds a character that cannot be stored."), field)
    if required and not value:
        raise InvalidInput(_("This field is required."), field)
    if len(value) > limit:
        raise InvalidInput(_("At most %(limit)s characters.") % {"limit": limit}, field)
    return value


def _clean_options(options):
    cleaned = [_clean_text(option, "options", 100) for option in options or ()]
    cleaned = [option for option in cleaned if option]
    if len(cleaned) > MAX_OPTIONS:
        raise InvalidInput(_("At most %(count)s options.") % {"count": MAX_OPTIONS}, "options")
    return cleaned


def item_propose(*, actor, council, title, description="", options=()) -> AgendaItem:
    """A member's item (or the host unit's): a title, what it is about, the options to vote on."""
    _require_recorder(actor, council)
    return AgendaItem.objects.create(
        council=council,
        source=AgendaItem.Source.MEMBER,
        title=_clean_text(title, "title", TITLE_MAX, required=True),
        description=_clean_text(description, "description", DESCRIPTION_MAX),
        options=_clean_options(options),
        created_by=actor,
    )


@dataclass(frozen=True)
class HotspotChoice:
    place_code: str
    place_name: str
    category: Category
    count: int

    @property
    def key(self):
        return f"{self.place_code}|{self.category.code}"


def council_hotspots(council, *, days=HOTSPOT_DAYS) -> list[HotspotChoice]:
    """The hotspots (未呼先应) inside the council's community or street, grids and communities."""
    from dashboards.hotspots import hotspots

    found = []
    for level in ("community", "grid"):
        for spot in hotspots(level=level, days=days, prefixes=[council.region.code], trend=False):
            found.append(HotspotChoice(spot.code, spot.name, spot.category, spot.count))
    return found


def item_propose_from_hotspot(*, actor, council, place_code, category_code, days=HOTSPOT_DAYS) -> AgendaItem:
    """An item from a hotspot of the council's area: the same category received again and again in
    one grid or community. The item keeps what recurred as its title and description."""
    _require_recorder(actor, council)
    spot = next(
        (
            s
            for s in council_hotspots(council, days=days)
            if s.place_code == place_code and s.category.code == category_code
        ),
        None,
    )
    if spot is None:
        raise InvalidInput(_("Choose one of the hotspots of the council's area."), "hotspot")
    return AgendaItem.objects.create(
        council=council,
        source=AgendaItem.Source.HOTSPOT,
        title=_clean_text(f"{spot.place_name}：{spot.category.name}", "title", TITLE_MAX),
        description=_("%(count)s requests of “%(category)s” were received in %(place)s in the last %(days)s days.")
        % {"count": spot.count, "category": spot.category.name, "place": spot.place_name, "days": days},
        created_by=actor,
    )


def _leads(actor, case) -> bool:
    mine = [code for code, *_rest in postings_for(actor).units]
    return Assignment.objects.filter(
        case=case, role=Assignment.Role.LEAD, state__in=Assignment.ACTIVE_STATES, unit__code__in=mine
    ).exists()


def item_propose_from_case(*, actor, council, number, title="", description="", options=()) -> AgendaItem:
    """ "The residents must decide": the staff of the case's lead unit or a dispatcher send a case
    (one they may read: 404 otherwise) to the council of its place. Recorded on the case's
    timeline (`council`), in the same transaction; the case's status stays."""
    case = case_get_for(actor, number)
    if not (is_dispatcher(actor) or _leads(actor, case)):
        raise NotPermitted(_("Only the case's lead unit or a dispatcher may send it to a council."))
    if not case.grid.code.startswith(council.region.code):
        raise InvalidInput(_("The case is not in the council's community or street."), "council")
    if case.status not in lifecycle.TRANSITIONS["council"].sources:
        raise InvalidInput(_("The case is closed."), "case")
    title = _clean_text(title, "title", TITLE_MAX) or _clean_text(case.title, "title", TITLE_MAX)
    with lifecycle.moving(case, "council", actor, note=title) as move:
        item = AgendaItem.objects.create(
            council=council,
            source=AgendaItem.Source.CASE,
            case=move.case,
            title=title,
            description=_clean_text(description, "description", DESCRIPTION_MAX) or move.case.description[:2000],
            options=_clean_options(options),
            created_by=actor,
        )
        move.data.update(council=council.pk, item=item.pk)
    return item


# --- a meeting -------------------------------------------------------------------------------------


def _count(value, field):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(_("A vote count is a whole number, 0 or more."), field)
    return value


def quorate(council, present_count, active_count) -> bool:
    return active_count > 0 and present_count * 100 >= council.quorum_percent * active_count


def carried(council, votes_for, votes_against, votes_abstain) -> bool:
    cast = votes_for + votes_against + votes_abstain
    return cast > 0 and votes_for * 100 > council.majority_percent * cast


def meeting_record(*, actor, council, held_on, place="", present=(), items=(), published=False) -> Meeting:
    """Record a meeting: when, where, the members present (ids of the council's active members),
    and the items discussed, each an open item of the council (`item`: its id) or a new one
    (`title`, `description`) with its vote (`votes_for`, `votes_against`, `votes_abstain`) and
    `decision`. Keeps: the votes of an item never exceed the members present; an item is decided
    at one meeting only (its row is locked, so two recordings of the same item make one); without
    the quorum every item is recorded as no decision, with the reason; a carried item needs its
    decision's text; a carried item from a case is recorded on that case (`council_settled`)."""
    _require_recorder(actor, council)
    if not isinstance(held_on, datetime.date):
        raise InvalidInput(_("Enter the date of the meeting."), "held_on")
    place = _clean_text(place, "place", PLACE_MAX)
    present_ids = set()
    for value in present or ():
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(_("Choose the members present."), "present")
        present_ids.add(value)
    if not items:
        raise InvalidInput(_("A meeting discusses at least one item."), "items")
    if len(items) > MAX_ITEMS:
        raise InvalidInput(_("At most %(count)s items.") % {"count": MAX_ITEMS}, "items")
    with transaction.atomic():
        # The council's row is locked so that two meetings recorded at once count the same members.
        council = Council.objects.select_for_update().select_related("region", "unit").get(pk=council.pk)
        active = {member.pk: member for member in council.members.filter(is_active=True)}
        if present_ids - set(active):
            raise InvalidInput(_("Choose the members present among the council's members."), "present")
        has_quorum = quorate(council, len(present_ids), len(active))
        wanted = [entry.get("item") for entry in items if entry.get("item") is not None]
        open_items = (
            AgendaItem.objects.select_for_update()
            .filter(
                council=council,
                pk__in=[pk for pk in wanted if isinstance(pk, int) and not isinstance(pk, bool)],
                meeting__isnull=True,
            )
            .in_bulk()
        )
        meeting = Meeting.objects.create(
            council=council, held_on=held_on, place=place, published=bool(published), created_by=actor
        )
        meeting.present.set(present_ids)
        seen, settled = set(), []
        for entry in items:
            item = _item_for(entry, council, open_items, seen, actor)
            counts = [_count(entry.get(name, 0), "items") for name in ("votes_for", "votes_against", "votes_abstain")]
            if sum(counts) > len(present_ids):
                raise InvalidInput(
                    _("“%(title)s”: %(votes)s votes, but only %(present)s members were present.")
                    % {"title": item.title, "votes": sum(counts), "present": len(present_ids)},
                    "items",
                )
            decision = _clean_text(entry.get("decision"), "items", DECISION_MAX)
            item.votes_for, item.votes_against, item.votes_abstain = counts
            item.meeting = meeting
            if not has_quorum:
                item.decided = False
                item.decision = _(
                    "No decision: %(present)s of %(active)s members present, the quorum is %(quorum)s%%."
                ) % {"present": len(present_ids), "active": len(active), "quorum": council.quorum_percent}
            elif carried(council, *counts):
                if not decision:
                    raise InvalidInput(
                        _("“%(title)s” was carried: write the decision.") % {"title": item.title}, "items"
                    )
                item.decided, item.decision = True, decision
                if item.case_id:
                    settled.append(item)
            else:
                item.decided = False
                item.decision = _("Not carried: %(for)s for of %(cast)s votes cast.") % {
                    "for": counts[0],
                    "cast": sum(counts),
                }
            item.save()
        for item in settled:
            if item.case.status in lifecycle.TRANSITIONS["council_settled"].sources:
                lifecycle.apply(
                    case=item.case,
                    action="council_settled",
                    actor=actor,
                    note=item.decision,
                    data={"council": council.pk, "meeting": meeting.pk, "item": item.pk},
                )
    return meeting


def _item_for(entry, council, open_items, seen, actor) -> AgendaItem:
    if not isinstance(entry, dict):
        raise InvalidInput(_("Each item is an object."), "items")
    pk = entry.get("item")
    if pk is not None:
        item = open_items.get(pk) if isinstance(pk, int) and not isinstance(pk, bool) else None
        if item is None or pk in seen:
            raise InvalidInput(_("Item %(id)s is not an open item of this council.") % {"id": pk}, "items")
        seen.add(pk)
        return item
    return AgendaItem(
        council=council,
        source=AgendaItem.Source.MEMBER,
        title=_clean_text(entry.get("title"), "items", TITLE_MAX, required=True),
        description=_clean_text(entry.get("description"), "items", DESCRIPTION_MAX),
        created_by=actor,
    )


def meeting_publish(*, actor, meeting) -> Meeting:
    """Publish a meeting's agenda and decisions to the residents' page (and its printable notice)."""
    _require_recorder(actor, meeting.council)
    Meeting.objects.filter(pk=meeting.pk).update(published=True)
    meeting.published = True
    return meeting


# --- what a decision leads to ----------------------------------------------------------------------


def decision_open_case(*, actor, item, category, grid=None, description="") -> Case:
    """A carried decision opens a case (channel "proactive", dispatched by the routing rules after
    the commit, like a hotspot's), in the grid of the case it came from, the given grid of the
    council's area, or the area's first grid. Once per item (its row is locked)."""
    _require_recorder(actor, item.council)
    if category is None or category.parent_id is None:
        raise InvalidInput(_("Choose a category kind."), "category")
    area = item.council.region.code
    if grid is not None and (grid.level != Region.Level.GRID or not grid.code.startswith(area)):
        raise InvalidInput(_("Choose a grid of the council's community or street."), "grid")
    with transaction.atomic():
        locked = (
            AgendaItem.objects.select_for_update(of=("self",)).select_related("case__grid", "council").get(pk=item.pk)
        )
        if not locked.decided:
            raise InvalidInput(_("Only a decision the council carried can open a case."), "item")
        if locked.opened_case_id:
            raise InvalidInput(_("This decision has already opened a case."), "item")
        if grid is None and locked.case_id:
            grid = locked.case.grid
        if grid is None:
            grid = Region.objects.filter(level=Region.Level.GRID, code__startswith=area).order_by("code").first()
        if grid is None:
            raise InvalidInput(_("The council's area has no grid."), "grid")
        text = _("Decision of %(council)s: %(decision)s") % {
            "council": locked.council.name,
            "decision": locked.decision,
        }
        extra = _clean_text(description, "description", DESCRIPTION_MAX)
        case = case_open_proactive(actor=actor, category=category, grid=grid, description=f"{text}\n{extra}".strip())
        AgendaItem.objects.filter(pk=locked.pk).update(opened_case=case)
        item.opened_case = case
    return case


def decision_publish_task(
    *,
    actor,
    item,
    title,
    starts,
    ends,
    wanted,
    description="",
    region=None,
    address="",
    deadline=None,
    skills=(),
    emergency=False,
    addressed_to=None,
) -> object:
    """A carried decision published as a volunteer task (任务发布, `volunteers.tasks.task_publish`,
    which checks the terms) of the council's host unit, in the council's place or a place inside
    it (`region`). Who: as for opening a case, the council's members with an account and the host
    unit's staff (a member publishes for the host unit, whose staff later confirm the work). Once
    per decision: the item's row is locked and keeps the task (`opened_task`); a second publish is
    refused."""
    from volunteers.tasks import task_publish

    _require_recorder(actor, item.council)
    area = item.council.region
    if region is not None and not region.code.startswith(area.code):
        raise InvalidInput(_("Choose a place of the council's community or street."), "region")
    with transaction.atomic():
        locked = (
            AgendaItem.objects.select_for_update(of=("self",))
            .select_related("council__region", "council__unit__region")
            .get(pk=item.pk)
        )
        if not locked.decided:
            raise InvalidInput(_("Only a decision the council carried can become a task."), "item")
        if locked.opened_task_id:
            raise InvalidInput(_("This decision has already been published as a task."), "item")
        task = task_publish(
            actor=actor,
            title=title,
            region=region or area,
            starts=starts,
            ends=ends,
            wanted=wanted,
            description=description or locked.decision,
            address=address,
            deadline=deadline,
            skills=skills,
            emergency=emergency,
            addressed_to=addressed_to,
            on_behalf_of=locked.council.unit,
        )
        AgendaItem.objects.filter(pk=locked.pk).update(opened_task=task)
        item.opened_task = task
    return task
