"""任务发布: the tasks a community, a street office or a department publishes for volunteers, from
a case, from a need of its own or as a campaign across communities; signing up (never past the
number wanted), checking in and out on the day, and the publisher's confirmation, which credits
the hours and the points. See docs/volunteers.md, "Tasks".

Who sees a task (`tasks_for_volunteer`): a volunteer whose teams' service area holds the task's
place (region codes are hierarchical, so "holds" is a code prefix), unless the task is addressed to
one team or paired agency (结邻共建): then only the members of that team, or of the teams the agency
sponsors. Skills are advisory: a task lists the skills it wants, every volunteer in reach sees it.
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import Case as SqlCase
from django.db.models import DecimalField, Exists, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image

from cases import lifecycle
from cases.errors import InvalidInput, NotPermitted
from cases.models import Case
from cases.moves import rows_move
from cases.validators import PHOTO_EXTENSIONS
from grids.models import Region
from routing.selectors import cases_for
from units.models import Membership, Pairing, Unit
from units.permissions import TASK_PUBLISHER_KINDS
from units.selectors import postings_for
from volunteers.models import Campaign, Signup, Task, Team, TeamMember, Volunteer
from volunteers.moves import SIGNUP_MOVES, TASK_MOVES
from volunteers.points import points_earn_signups

MAX_WANTED = 500
# One task is one stretch of work on one day at most; a longer effort is a task per day (a
# campaign makes one per community).
MAX_LENGTH = timedelta(hours=24)
# Check-in opens this long before the start and closes at the end.
CHECK_IN_EARLY = timedelta(hours=1)
MAX_SKILLS = 10
PLACE_LEVELS = (Region.Level.STREET, Region.Level.COMMUNITY, Region.Level.GRID)
HALF_HOUR = Decimal("0.5")

S = Signup.State
LIVE_SIGNUPS = (S.SIGNED, S.CHECKED_IN, S.CHECKED_OUT, S.CONFIRMED)


# --- who acts ------------------------------------------------------------------------------------


def publishing_units_for(user) -> list[Unit]:
    """The units the user may publish tasks for (from the cached postings: no query when there are
    none; one, cached on the user, otherwise)."""
    codes = [code for code, kind, _region, _role in postings_for(user).units if kind in TASK_PUBLISHER_KINDS]
    if not codes:
        return []
    cached = getattr(user, "_suqu_publishing", None)
    if cached is None:
        cached = user._suqu_publishing = list(
            Unit.objects.filter(code__in=codes, is_active=True).select_related("region").order_by("code")
        )
    return cached


def _publisher_for(actor, publisher=None) -> Unit:
    units = publishing_units_for(actor)
    if not units:
        raise NotPermitted(_("Only the staff of a community, a street office or a department publish tasks."))
    if publisher is None:
        return units[0]
    for unit in units:
        if unit.pk == publisher.pk:
            return unit
    raise NotPermitted(_("You do not work for %(unit)s.") % {"unit": publisher.name})


def volunteer_of(user) -> Volunteer | None:
    return getattr(user, "volunteer", None) if user.is_authenticated else None


def _require_volunteer(actor) -> Volunteer:
    volunteer = volunteer_of(actor)
    if volunteer is None:
        raise NotPermitted(_("Only volunteers sign up for tasks and check in."))
    return volunteer


def _require_publisher_staff(actor, task) -> None:
    if not Membership.objects.filter(user=actor, unit_id=task.publisher_id).exists():
        raise NotPermitted(_("Only the staff of %(unit)s confirm this task.") % {"unit": task.publisher.name})


# --- publishing ----------------------------------------------------------------------------------


def _check_place(publisher, region) -> None:
    if region.level not in PLACE_LEVELS:
        raise InvalidInput(_("A task takes place in a street, a community or a grid."), "region")
    if publisher.kind in Unit.TERRITORIAL and not region.code.startswith(publisher.region.code):
        raise InvalidInput(
            _("%(place)s is outside the area of %(unit)s.") % {"place": region.name, "unit": publisher.name}, "region"
        )


def _check_terms(*, title, starts, ends, deadline, skills, wanted, now) -> None:
    if not title.strip():
        raise InvalidInput(_("Give the task a title."), "title")
    if ends <= starts:
        raise InvalidInput(_("The task must end after it starts."), "ends")
    if ends - starts > MAX_LENGTH:
        raise InvalidInput(_("A task lasts at most 24 hours; publish one task per day."), "ends")
    if deadline > starts:
        raise InvalidInput(_("Sign-up must close by the time the task starts."), "deadline")
    if deadline <= now:
        raise InvalidInput(_("The sign-up deadline must be in the future."), "deadline")
    if not 1 <= wanted <= MAX_WANTED:
        raise InvalidInput(_("Ask for 1 to %(max)d people.") % {"max": MAX_WANTED}, "wanted")
    if len(skills) > MAX_SKILLS:
        raise InvalidInput(_("List at most %(max)d skills.") % {"max": MAX_SKILLS}, "skills")


def _check_addressee(publisher, unit) -> None:
    """A task may be addressed to one volunteer team (any), or to a paired agency (结邻共建): a
    community's own, a street's communities', any for a department."""
    if Team.objects.filter(unit=unit).exists():
        return
    if unit.kind == Unit.Kind.AGENCY:
        pairings = Pairing.objects.filter(agency=unit)
        if (
            publisher.kind == Unit.Kind.DEPARTMENT
            or pairings.filter(community__code__startswith=publisher.region.code).exists()
        ):
            return
    raise InvalidInput(
        _("%(unit)s is neither a volunteer team nor an agency paired with your area.") % {"unit": unit.name},
        "addressed_to",
    )


def _case_for(actor, number) -> Case:
    case = cases_for(actor).filter(number=number).first()
    if case is None:
        raise InvalidInput(_("Unknown case %(number)s.") % {"number": number}, "case")
    if not lifecycle.is_allowed("task_publish", case.status):
        raise InvalidInput(_("Case %(number)s is closed.") % {"number": number}, "case")
    return case


def task_publish(
    *,
    actor,
    title,
    region,
    starts,
    ends,
    wanted,
    description="",
    address="",
    deadline=None,
    skills=(),
    emergency=False,
    addressed_to=None,
    case=None,
    publisher=None,
    on_behalf_of=None,
) -> Task:
    """Publish a task for the actor's unit (`publisher`: which one, when they work for several).
    From a case (`case`: its number, one the actor may read, still open) the task is recorded on
    the case's timeline (`task_publish`), in the same transaction; the case's status stays, and
    its lead unit still resolves it. `deadline` (sign up by) defaults to the start.
    `on_behalf_of`: the unit whose task it is when the caller has already decided that the actor
    acts for it without working there (a council's decision, published for the council's host
    unit by one of its members: mediation/councils.py); it must be a unit that publishes tasks."""
    if on_behalf_of is not None:
        if on_behalf_of.kind not in TASK_PUBLISHER_KINDS or not on_behalf_of.is_active:
            raise NotPermitted(_("%(unit)s does not publish volunteer tasks.") % {"unit": on_behalf_of.name})
        publisher = on_behalf_of
    else:
        publisher = _publisher_for(actor, publisher)
    now = timezone.now()
    deadline = deadline or starts
    skills = [skill.strip() for skill in skills if skill.strip()]
    _check_terms(title=title, starts=starts, ends=ends, deadline=deadline, skills=skills, wanted=wanted, now=now)
    _check_place(publisher, region)
    if addressed_to is not None:
        _check_addressee(publisher, addressed_to)
    fields = {
        "title": title.strip(),
        "description": description.strip(),
        "publisher": publisher,
        "created_by": actor,
        "region": region,
        "address": address.strip(),
        "starts": starts,
        "ends": ends,
        "deadline": deadline,
        "skills": skills,
        "wanted": wanted,
        "emergency": emergency,
        "addressed_to": addressed_to,
    }
    if not case:
        return Task.objects.create(source=Task.Source.OWN, **fields)
    found = _case_for(actor, case)
    with lifecycle.moving(found, "task_publish", actor, note=fields["title"]) as move:
        task = Task.objects.create(source=Task.Source.CASE, case=move.case, **fields)
        move.data.update(task=task.pk, unit=publisher.code, wanted=wanted)
    return task


@transaction.atomic
def campaign_publish(
    *,
    actor,
    title,
    kind,
    communities,
    starts,
    ends,
    wanted_each,
    deadline=None,
    description="",
    skills=(),
    emergency=False,
    publisher=None,
) -> Campaign:
    """A campaign (创城、创卫、防汛...) across communities: one task per community, each wanting
    `wanted_each` people, published together. A street office runs one across its own
    communities, a department across any."""
    publisher = _publisher_for(actor, publisher)
    if publisher.kind == Unit.Kind.COMMITTEE:
        raise NotPermitted(_("A campaign across communities is run by a street office or a department."))
    if kind not in Campaign.Kind.values:
        raise InvalidInput(_("Choose the kind of campaign."), "kind")
    now = timezone.now()
    deadline = deadline or starts
    skills = [skill.strip() for skill in skills if skill.strip()]
    _check_terms(title=title, starts=starts, ends=ends, deadline=deadline, skills=skills, wanted=wanted_each, now=now)
    communities = list({community.pk: community for community in communities}.values())
    if not communities:
        raise InvalidInput(_("Choose at least one community."), "communities")
    for community in communities:
        if community.level != Region.Level.COMMUNITY:
            raise InvalidInput(_("%(place)s is not a community.") % {"place": community.name}, "communities")
        _check_place(publisher, community)
    campaign = Campaign.objects.create(title=title.strip(), kind=kind, publisher=publisher, created_by=actor)
    Task.objects.bulk_create(
        [
            Task(
                title=title.strip(),
                description=description.strip(),
                source=Task.Source.CAMPAIGN,
                campaign=campaign,
                publisher=publisher,
                created_by=actor,
                region=community,
                starts=starts,
                ends=ends,
                deadline=deadline,
                skills=skills,
                wanted=wanted_each,
                emergency=emergency,
            )
            for community in sorted(communities, key=lambda c: c.code)
        ]
    )
    return campaign


# --- what a volunteer may see --------------------------------------------------------------------


@dataclass(frozen=True)
class Reach:
    """Where a volunteer's teams serve, as the ids of the places their areas hold (None: the whole
    district), and the units a task may be addressed to for them (their teams' own units and the
    teams' sponsors: a paired agency's volunteers)."""

    places: tuple | None
    units: tuple


def reach_for(volunteer) -> Reach:
    """Two small queries, cached on the volunteer: their teams, then the places under the teams'
    areas (a code prefix, answered by the places' pattern index; a street holds a few hundred, and
    a team of the whole district needs no list). The task lists then filter `region_id IN (…)`,
    which the open tasks' (region, starts) index answers, rather than joining the places and
    matching each task's code."""
    cached = getattr(volunteer, "_suqu_reach", None)
    if cached is None:
        rows = TeamMember.objects.filter(volunteer=volunteer).values_list(
            "team__area__code", "team__unit_id", "team__sponsor_id"
        )
        areas, units = set(), set()
        for area, unit, sponsor in rows:
            areas.add(area)
            units.update(u for u in (unit, sponsor) if u is not None)
        cached = volunteer._suqu_reach = Reach(places=_places_in(areas), units=tuple(sorted(units)))
    return cached


def _places_in(areas) -> tuple | None:
    """The ids of the places the areas (codes) hold; None for the whole district."""
    # An area inside another one adds nothing.
    areas = sorted(a for a in areas if not any(a != b and a.startswith(b) for b in areas))
    if any(Region.level_for_code(area) == Region.Level.DISTRICT for area in areas):
        return None
    if not areas:
        return ()
    under = Q(pk__in=[])
    for area in areas:
        under |= Q(code__startswith=area)
    return tuple(Region.objects.filter(under).values_list("pk", flat=True))


def _reach_q(reach) -> Q:
    """Tasks in reach: open to every team of a place the areas hold, or addressed to one of the
    units."""
    everyone = Q(addressed_to__isnull=True)
    if reach.places is not None:
        everyone &= Q(region_id__in=reach.places)
    return everyone | Q(addressed_to_id__in=list(reach.units))


def _taking_signups(now) -> Q:
    return Q(state=Task.State.OPEN, deadline__gt=now)


def tasks_for_volunteer(volunteer, open_only=True, *, not_signed=False) -> QuerySet[Task]:
    """The tasks a volunteer may see and sign up for, soonest first, each with `my_state`: the
    state of their own sign-up, or None (`not_signed`: only those they have not signed up for).
    One query (after the volunteer's reach, `reach_for`)."""
    rows = Task.objects.filter(_reach_q(reach_for(volunteer)))
    if open_only:
        rows = rows.filter(_taking_signups(timezone.now()))
    mine = Signup.objects.filter(task=OuterRef("pk"), volunteer=volunteer)
    if not_signed:
        rows = rows.filter(~Exists(mine))
    return (
        rows.select_related("region", "publisher")
        # A place's outline (GeoJSON, kilobytes) is not shown with a task: carried through the
        # sort of thousands of rows it doubled the phone page's time (docs/performance.md).
        .defer("region__boundary")
        .annotate(my_state=Subquery(mine.values("state")[:1]))
        .order_by("starts", "id")
    )


def tasks_for_publisher(unit) -> QuerySet[Task]:
    """A unit's published tasks, the latest start first. One query."""
    return (
        Task.objects.filter(publisher=unit)
        .select_related("region", "publisher", "case", "addressed_to")
        .defer("region__boundary")
        .order_by("-starts", "-id")
    )


def tasks_for(user, *, open_only=False) -> QuerySet[Task]:
    """Every task the user may read: the staff of a publishing unit its tasks; a volunteer those
    in reach and (unless `open_only`: only those still taking sign-ups) those they signed up for.
    Each part is a list of ids known beforehand (the units, the reach, the sign-ups: read once per
    request), so the one query over the tasks is an OR of index scans."""
    if not user.is_authenticated:
        return Task.objects.none()
    visible = Q(pk__in=[])
    units = [unit.pk for unit in publishing_units_for(user)]
    if units:
        visible |= Q(publisher_id__in=units)
    volunteer = volunteer_of(user)
    rows = Task.objects.all()
    if volunteer is not None:
        visible |= _reach_q(reach_for(volunteer))
        if not open_only:
            visible |= Q(pk__in=list(Signup.objects.filter(volunteer=volunteer).values_list("task_id", flat=True)))
        mine = Signup.objects.filter(task=OuterRef("pk"), volunteer=volunteer)
        rows = rows.annotate(my_state=Subquery(mine.values("state")[:1]))
    rows = rows.filter(visible)
    if open_only:
        rows = rows.filter(_taking_signups(timezone.now()))
    return rows.select_related("region", "publisher", "case", "addressed_to").defer("region__boundary")


def may_read_tasks(user) -> bool:
    """Tasks are for the publishing units' staff and for volunteers."""
    return bool(publishing_units_for(user)) or volunteer_of(user) is not None


def signups_for_volunteer(volunteer, *, active=True) -> QuerySet[Signup]:
    """A volunteer's sign-ups, soonest task first: those still under way (`active`), or the
    confirmed and missed ones, latest first."""
    rows = Signup.objects.filter(volunteer=volunteer).select_related("task", "task__region")
    if active:
        return rows.filter(state__in=(S.SIGNED, S.CHECKED_IN, S.CHECKED_OUT)).order_by("task__starts", "id")
    return rows.filter(state__in=(S.CONFIRMED, S.ABSENT)).order_by("-task__starts", "-id")


def signups_of(task) -> QuerySet[Signup]:
    """The sign-ups of a task, for its publisher's page."""
    return task.signups.select_related("volunteer").order_by("signed_at", "id")


# --- signing up, checking in and out -------------------------------------------------------------


def _why_full(task, now) -> InvalidInput:
    task.refresh_from_db(fields=["state", "deadline", "taken", "wanted"])
    if task.state != Task.State.OPEN:
        return InvalidInput(_("This task no longer takes sign-ups (%(state)s).") % {"state": task.get_state_display()})
    if task.deadline <= now:
        return InvalidInput(_("Sign-up for this task closed at %(time)s.") % {"time": _local(task.deadline)})
    return InvalidInput(_("This task is full: all %(wanted)d places are taken.") % {"wanted": task.wanted})


def _already(existing) -> InvalidInput:
    if existing.state == S.WITHDRAWN:
        return InvalidInput(_("You withdrew from this task; it cannot be taken again."))
    return InvalidInput(_("You have already signed up for this task."))


def task_signup(*, task, actor) -> Signup:
    """The actor, a volunteer in reach of the task, takes a place: `taken + 1` by a conditional
    UPDATE (`taken < wanted`, still open, before the deadline) and their sign-up row, in one
    transaction. Of two volunteers taking the last place at once the second waits for the
    first's row lock and is then refused; the same volunteer twice is refused by the unique
    sign-up, and their extra place is rolled back with it."""
    volunteer = _require_volunteer(actor)
    existing = Signup.objects.filter(task=task, volunteer=volunteer).first()
    if existing is not None:
        raise _already(existing)
    if not Task.objects.filter(_reach_q(reach_for(volunteer)), pk=task.pk).exists():
        raise NotPermitted(_("This task is for other teams."))
    now = timezone.now()
    try:
        with transaction.atomic():
            taken = Task.objects.filter(_taking_signups(now), pk=task.pk, taken__lt=F("wanted")).update(
                taken=F("taken") + 1
            )
            if not taken:
                raise _why_full(task, now)
            return Signup.objects.create(task=task, volunteer=volunteer)
    except IntegrityError:
        # The same volunteer's second request at the same moment: the first one's row stands.
        raise _already(Signup.objects.get(task=task, volunteer=volunteer)) from None


def teams_signing_up_for(user) -> QuerySet[Team]:
    """The teams a person signs members of up for a task: those they lead (their volunteer
    account) and those whose unit they work in."""
    if not user.is_authenticated:
        return Team.objects.none()
    return Team.objects.filter(Q(leader__user=user) | Q(unit__memberships__user=user)).distinct()


def _team_reach(team) -> Reach:
    """Where a team serves, as `reach_for` gives it for one of its members alone."""
    units = tuple(u for u in (team.unit_id, team.sponsor_id) if u is not None)
    return Reach(places=_places_in([team.area.code]), units=units)


def task_in_team_reach(task, team) -> bool:
    """Whether the task is open to the team (its area, or addressed to its unit or sponsor)."""
    return Task.objects.filter(_reach_q(_team_reach(team)), pk=task.pk).exists()


def task_signup_team(*, task, team, volunteer_ids, actor) -> list[Signup]:
    """A team signs up for a task (its leader or its unit's staff, for members of the team): all
    the members chosen take a place each, or none do. The places are taken by one conditional
    UPDATE (`taken + n <= wanted`, still open, before the deadline), the sign-ups written in the
    same transaction with the team on them; a member already signed up (or who withdrew) is named
    in the refusal and nothing is written."""
    if not teams_signing_up_for(actor).filter(pk=team.pk).exists():
        raise NotPermitted(_("Only the team's leader or its staff sign the team up."))
    chosen = sorted({int(pk) for pk in volunteer_ids})
    if not chosen:
        raise InvalidInput(_("Choose at least one member of the team."), "volunteers")
    members = dict(
        TeamMember.objects.filter(team=team, volunteer_id__in=chosen).values_list("volunteer_id", "volunteer__name")
    )
    strangers = [pk for pk in chosen if pk not in members]
    if strangers:
        raise InvalidInput(
            _("Not members of %(team)s: %(ids)s.") % {"team": team, "ids": ", ".join(map(str, strangers))},
            "volunteers",
        )
    if not task_in_team_reach(task, team):
        raise NotPermitted(_("This task is for other teams."))
    now = timezone.now()
    try:
        with transaction.atomic():
            have = list(
                Signup.objects.filter(task=task, volunteer_id__in=chosen).values_list("volunteer_id", flat=True)
            )
            if have:
                raise InvalidInput(
                    _("Already signed up for this task (or withdrew from it): %(names)s.")
                    % {"names": "、".join(members[pk] for pk in sorted(have))},
                    "volunteers",
                )
            taken = Task.objects.filter(_taking_signups(now), pk=task.pk, taken__lte=F("wanted") - len(chosen)).update(
                taken=F("taken") + len(chosen)
            )
            if not taken:
                task.refresh_from_db(fields=["state", "deadline", "taken", "wanted"])
                if task.state == Task.State.OPEN and task.deadline > now and task.taken < task.wanted:
                    raise InvalidInput(
                        _("Only %(left)d of the task's places are left: choose at most %(left)d members.")
                        % {"left": task.wanted - task.taken},
                        "volunteers",
                    )
                raise _why_full(task, now)
            return Signup.objects.bulk_create([Signup(task=task, volunteer_id=pk, team=team) for pk in chosen])
    except IntegrityError:
        # A member signed up on their own at the same moment: their row stands, the team's none.
        raise InvalidInput(_("A member signed up meanwhile; choose again."), "volunteers") from None


def _own_signup(task, actor) -> Signup:
    volunteer = _require_volunteer(actor)
    signup = (
        Signup.objects.select_for_update(of=("self",))
        .select_related("task")
        .filter(task=task, volunteer=volunteer)
        .first()
    )
    if signup is None:
        raise InvalidInput(_("You have not signed up for this task."))
    return signup


@transaction.atomic
def signup_withdraw(*, task, actor) -> Signup:
    """The volunteer gives their place back, before the task starts; it is free again."""
    signup = _own_signup(task, actor)
    now = timezone.now()
    if signup.state != S.SIGNED:
        raise InvalidInput(_("Only a sign-up not yet checked in can be withdrawn."))
    if signup.task.starts <= now or signup.task.state != Task.State.OPEN:
        raise InvalidInput(_("The task has started; tell the publisher instead."))
    rows_move(Signup.objects.filter(pk=signup.pk), SIGNUP_MOVES, "withdraw", now=now)
    Task.objects.filter(pk=signup.task_id).update(taken=F("taken") - 1)
    signup.refresh_from_db()
    return signup


def _photo_store(photo, now) -> str:
    """Store an already-validated photo under a random name whose extension comes from the
    format Pillow reads, never from the uploaded name (as `cases.services.case_photos_add`)."""
    photo.seek(0)
    with Image.open(photo) as opened:
        extension = PHOTO_EXTENSIONS[opened.format]
    photo.seek(0)
    field = Signup._meta.get_field("photo")
    return field.storage.save(f"tasks/{now:%Y/%m}/{uuid.uuid4().hex}.{extension}", photo)


@transaction.atomic
def task_check_in(*, task, actor, photo=None) -> Signup:
    """The volunteer checks in on the day, from an hour before the start to the end, with an
    optional photo (checked for its content by the form or the serializer)."""
    signup = _own_signup(task, actor)
    task, now = signup.task, timezone.now()
    if signup.state == S.WITHDRAWN:
        raise InvalidInput(_("You withdrew from this task."))
    if signup.state != S.SIGNED:
        raise InvalidInput(
            _("You have already checked in.") if signup.state in LIVE_SIGNUPS else _("This task is over.")
        )
    if task.state != Task.State.OPEN:
        raise InvalidInput(_("This task is over."))
    if now < task.starts - CHECK_IN_EARLY:
        raise InvalidInput(
            _("Check-in opens an hour before the start, at %(time)s.") % {"time": _local(task.starts - CHECK_IN_EARLY)}
        )
    if now > task.ends:
        raise InvalidInput(_("The task ended at %(time)s.") % {"time": _local(task.ends)})
    changes = {"photo": _photo_store(photo, now)} if photo else {}
    rows_move(Signup.objects.filter(pk=signup.pk), SIGNUP_MOVES, "check_in", now=now, **changes)
    signup.refresh_from_db()
    return signup


@transaction.atomic
def task_check_out(*, task, actor, photo=None) -> Signup:
    """The volunteer checks out after checking in (a photo of the work done, optional, takes the
    place of the check-in's)."""
    signup = _own_signup(task, actor)
    now = timezone.now()
    if signup.state != S.CHECKED_IN:
        message = _("Check in first.") if signup.state == S.SIGNED else _("You have already checked out.")
        raise InvalidInput(message)
    changes = {"photo": _photo_store(photo, now)} if photo else {}
    rows_move(Signup.objects.filter(pk=signup.pk), SIGNUP_MOVES, "check_out", now=now, **changes)
    signup.refresh_from_db()
    return signup


# --- the publisher's confirmation ----------------------------------------------------------------


def task_length_hours(task) -> Decimal:
    return (Decimal((task.ends - task.starts).total_seconds()) / 3600).quantize(Decimal("0.01"))


def default_hours(signup, task) -> Decimal:
    """Checked in to checked out, to the nearest half hour, at most the task's length."""
    if signup.checked_in_at is None or signup.checked_out_at is None:
        return Decimal(0)
    worked = Decimal(max((signup.checked_out_at - signup.checked_in_at).total_seconds(), 0)) / 3600
    halves = (worked / HALF_HOUR).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return min(halves * HALF_HOUR, task_length_hours(task))


def task_confirm(*, task, actor, hours=None) -> Task:
    """The publisher's staff confirm the work once: each volunteer who came (checked in; one who
    never checked out is checked out at the end, or now if earlier) is credited `hours[volunteer
    id]`, by default their time on site (`default_hours`), and earns the points of those hours
    (volunteers/points.py) in this transaction; each who signed up and never came is marked
    absent; the task is done. From a case, `task_done` goes on the case's timeline. A second
    confirmation is refused with nothing changed (the task's row is locked, then moved by a
    conditional UPDATE)."""
    hours = {int(key): Decimal(str(value)) for key, value in (hours or {}).items()}
    with transaction.atomic():
        locked = Task.objects.select_for_update(of=("self",)).select_related("publisher").get(pk=task.pk)
        _require_publisher_staff(actor, locked)
        now = timezone.now()
        if locked.state != Task.State.OPEN:
            raise InvalidInput(
                _("This task is already confirmed.")
                if locked.state == Task.State.DONE
                else _("This task was cancelled.")
            )
        if now < locked.starts:
            raise InvalidInput(
                _("The work has not started yet: confirm it after %(time)s.") % {"time": _local(locked.starts)}
            )
        rows_move(Signup.objects.filter(task=locked), SIGNUP_MOVES, "check_out", now=min(now, locked.ends))
        came = list(Signup.objects.filter(task=locked, state=S.CHECKED_OUT).select_related("volunteer"))
        unknown = set(hours) - {signup.volunteer_id for signup in came}
        if unknown:
            raise InvalidInput(
                _("No hours can be credited to volunteers who did not check in: %(ids)s.")
                % {"ids": ", ".join(str(i) for i in sorted(unknown))},
                "hours",
            )
        cap = task_length_hours(locked)
        for signup in came:
            credit = hours.get(signup.volunteer_id, default_hours(signup, locked))
            if not Decimal(0) <= credit <= cap:
                raise InvalidInput(
                    _("%(name)s: hours must be between 0 and the task's %(cap)s.")
                    % {"name": signup.volunteer.name, "cap": cap},
                    "hours",
                )
            signup.hours, signup.task = credit.quantize(Decimal("0.01")), locked
        if came:
            credited = SqlCase(
                *[When(pk=signup.pk, then=Value(signup.hours)) for signup in came],
                output_field=DecimalField(max_digits=5, decimal_places=2),
            )
            rows_move(
                Signup.objects.filter(pk__in=[s.pk for s in came]), SIGNUP_MOVES, "confirm", now=now, hours=credited
            )
        rows_move(Signup.objects.filter(task=locked), SIGNUP_MOVES, "absent", now=now)
        if not rows_move(Task.objects.filter(pk=locked.pk), TASK_MOVES, "confirm", now=now):
            raise InvalidInput(_("This task is already confirmed."))
        points_earn_signups(signups=came, actor=actor)
        if locked.case_id:
            total = sum((signup.hours for signup in came), Decimal(0))
            lifecycle.apply(
                case=locked.case,
                action="task_done",
                actor=actor,
                note=locked.title,
                data={"task": locked.pk, "people": len(came), "hours": float(total)},
            )
        locked.refresh_from_db()
        return locked


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


# --- the demo ------------------------------------------------------------------------------------

DEMO_COMMUNITY = "210111001015"  # 金山社区
DEMO_PUBLISHER_LOGIN = "community"  # the demo clerk of 金山社区居委会
DEMO_VOLUNTEER_LOGIN = "volunteer"  # a member of 金山社区's team (volunteers/teams_demo.py)
# (title, description, address, day from today, start hour or None for "in half an hour", hours,
# wanted, skills, emergency, for the community's own team only)
DEMO_TASKS = [
    (
        "清理12号楼楼道杂物",
        "楼道堆放杂物堵塞消防通道，需要人手搬运清理。",
        "金山社区12号楼",
        0,
        None,
        3,
        6,
        ["环境整治"],
        False,
        False,
    ),
    (
        "助老探访：为独居老人送餐",
        "为社区独居老人送午餐，陪伴聊天。",
        "金山社区老年活动中心",
        1,
        10,
        2,
        4,
        ["助老助残"],
        False,
        False,
    ),
    (
        "创城环境整治：社区主干道",
        "清理主干道两侧垃圾、小广告。",
        "金山社区主干道",
        2,
        8,
        3,
        15,
        ["环境整治"],
        False,
        False,
    ),
    ("防汛沙袋搬运", "汛期来临，为低洼小区搬运沙袋。", "金山社区南门", 3, 14, 3, 20, ["体力"], True, False),
    ("社区义诊志愿引导", "协助社区卫生服务站义诊，引导居民排队。", "金山社区服务中心", 5, 9, 3, 3, [], False, True),
]


def demo_tasks_load(*, progress=None) -> dict:
    """A handful of tasks of 金山社区's committee, published by its demo clerk around today, so
    that the `volunteer` demo login has tasks to sign up for and the `community` login tasks to
    confirm; the volunteer is signed up for the first, which starts within the hour (check-in is
    open). Keeps what exists: a task of the same title is not published twice (a demo loaded long
    ago keeps its old dates)."""
    from accounts.models import User
    from routing.services import UnitsNotLoaded

    committee = Unit.objects.filter(kind=Unit.Kind.COMMITTEE, region__code=DEMO_COMMUNITY).first()
    clerk = User.objects.filter(username=DEMO_PUBLISHER_LOGIN).first()
    if committee is None or clerk is None:
        raise UnitsNotLoaded("the demo tasks need 金山社区's committee and its demo clerk: load the demo people first")
    existing = set(Task.objects.filter(publisher=committee).values_list("title", flat=True))
    team = Team.objects.filter(unit__region__code=DEMO_COMMUNITY, level=Team.Level.COMMUNITY).first()
    now = timezone.localtime()
    created = signed = 0
    for title, description, address, day, hour, hours, wanted, skills, emergency, own_team in DEMO_TASKS:
        if title in existing or (own_team and team is None):
            continue
        if hour is None:
            starts = now + timedelta(minutes=30)
        else:
            starts = (now + timedelta(days=day)).replace(hour=hour, minute=0, second=0, microsecond=0)
        task = task_publish(
            actor=clerk,
            publisher=committee,
            title=title,
            description=description,
            address=address,
            region=Region.objects.get(code=DEMO_COMMUNITY),
            starts=starts,
            ends=starts + timedelta(hours=hours),
            wanted=wanted,
            skills=skills,
            emergency=emergency,
            addressed_to=team.unit if own_team else None,
        )
        created += 1
        volunteer = User.objects.filter(username=DEMO_VOLUNTEER_LOGIN).first()
        if hour is None and volunteer is not None and volunteer_of(volunteer) is not None:
            try:
                task_signup(task=task, actor=volunteer)
                signed += 1
            except (InvalidInput, NotPermitted):
                pass  # the demo volunteer is not in 金山社区's team (an administrator moved them)
    if progress:
        progress("tasks", created, created)
    return {"tasks": created, "sign-ups": signed}
