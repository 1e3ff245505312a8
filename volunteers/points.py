"""The points ledger (志愿活动积分): lines are only ever added. Earning follows the rules kept in the
admin (`PointRule`); spending and corrections lock the volunteer's row, so two redemptions at once
cannot spend the same points, and a balance never goes below zero (docs/volunteers.md).

Who may do what here:
- a volunteer redeems their own points, for a reward of their own community;
- a correction is made by a dispatcher of the district centre (any volunteer) or by the staff of
  the volunteer's community committee, on the staff's page (the admin shows the ledger read-only);
- rewards are kept by the staff of the community's committee (and in the admin).

All of it follows from the postings (units.selectors), never from `is_staff`.

"The volunteer's community": the community they live in (`Volunteer.home`) and the home of every
community-level team they are a member of."""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.errors import InvalidInput, NotPermitted
from grids.models import Region
from units.models import Unit
from units.selectors import Role, postings_for, roles_for
from volunteers.models import PointEntry, PointRule, Reward, Service, Signup, Team, TeamMember, Volunteer

# Used when the admin has not set a rule yet (the demo and a new installation start with these).
DEFAULT_RULES = {PointRule.Kind.TASK_HOUR: 10, PointRule.Kind.BOOKING: 5, PointRule.Kind.EMERGENCY_HOUR: 5}
# A correction is a fix of a mistake, not a bulk grant: larger ones are refused (and it keeps the
# value far from the column's limit).
MAX_CORRECTION = 10_000
MAX_REASON = 200
# The lines that count as earned in a month (the rankings): everything but spending, so a
# correction of a wrong earning counts, and a volunteer who spends is not ranked lower for it.
EARNED_KINDS = (PointEntry.Kind.TASK, PointEntry.Kind.BOOKING, PointEntry.Kind.CORRECTION)
RANKING_SIZE = 20


class NotEnoughPoints(InvalidInput):
    """Spending more than the balance, or a reward out of stock: nothing is written."""


class BalanceChanged(InvalidInput):
    """The balance is no longer the one the page showed (the same form sent twice, or points
    earned or spent meanwhile): nothing is written, the page shows the ledger again."""


# --- who --------------------------------------------------------------------------------------------


def volunteer_of(user) -> Volunteer | None:
    """The user's own volunteer record, or None. Read through the reverse accessor, which caches
    on the user (a row or its absence), so the navigation's `is_volunteer` and the page share one
    query."""
    if not user.is_authenticated:
        return None
    try:
        return user.volunteer
    except Volunteer.DoesNotExist:
        return None


def volunteer_communities(volunteer) -> list[str]:
    """The codes of the volunteer's communities: where they live (a grid of it counts), and the
    home of each community-level team they are in. One query."""
    teams = Team.objects.filter(members__volunteer=volunteer, level=Team.Level.COMMUNITY).values("home_id")
    codes = Region.objects.filter(Q(pk=volunteer.home_id) | Q(pk__in=teams)).values_list("code", flat=True)
    return sorted({code[:12] for code in codes if len(code) >= 12})


def staff_communities(user) -> list[str]:
    """The codes of the communities whose committee the user works in (no query: the postings)."""
    return sorted(
        {region for _code, kind, region, _role in postings_for(user).units if kind == Unit.Kind.COMMITTEE and region}
    )


def corrects_anyone(user) -> bool:
    """Dispatchers of the district centre correct any volunteer's points."""
    return Role.DISPATCHER in roles_for(user)


def may_correct(actor, volunteer) -> bool:
    return corrects_anyone(actor) or bool(set(staff_communities(actor)) & set(volunteer_communities(volunteer)))


def volunteers_correctable_by(user):
    """The volunteers whose points the user may correct (a queryset, no rows read)."""
    if corrects_anyone(user):
        return Volunteer.objects.all()
    communities = staff_communities(user)
    if not communities:
        return Volunteer.objects.none()
    lives = Q()
    for code in communities:
        lives |= Q(home__code__startswith=code)
    in_team = TeamMember.objects.filter(team__level=Team.Level.COMMUNITY, team__home__code__in=communities)
    return Volunteer.objects.filter(lives | Q(pk__in=in_team.values("volunteer_id")))


# --- reading --------------------------------------------------------------------------------------


def rules() -> dict:
    """{kind: points}, the admin's rules over the defaults."""
    return {**DEFAULT_RULES, **dict(PointRule.objects.values_list("kind", "points"))}


def balance(volunteer) -> int:
    return PointEntry.objects.filter(volunteer=volunteer).aggregate(total=Sum("points"))["total"] or 0


def balances(volunteer_ids) -> dict:
    """{volunteer id: balance} for many volunteers in one query (0 for those with no line)."""
    found = dict(
        PointEntry.objects.filter(volunteer_id__in=list(volunteer_ids))
        .values("volunteer_id")
        .annotate(total=Sum("points"))
        .values_list("volunteer_id", "total")
    )
    return {pk: found.get(pk, 0) for pk in volunteer_ids}


def ledger(volunteer):
    """The volunteer's lines, newest first (a queryset for a paginator)."""
    return (
        PointEntry.objects.filter(volunteer=volunteer)
        .select_related("reward")
        .only("id", "kind", "points", "reason", "created_at", "reward__name")
        .order_by("-created_at", "-id")
    )


def rewards_for(volunteer):
    """The rewards the volunteer's communities offer now, cheapest first."""
    return (
        Reward.objects.filter(community__code__in=volunteer_communities(volunteer), is_active=True)
        .select_related("community")
        .order_by("cost", "name", "id")
    )


@dataclass(frozen=True)
class Month:
    """A calendar month in Asia/Shanghai: [start, end)."""

    first: datetime.date

    @classmethod
    def parse(cls, text: str) -> "Month":
        try:
            year, month = (int(part) for part in text.split("-"))
            return cls(datetime.date(year, month, 1))
        except ValueError:
            raise InvalidInput(_("Write the month as YYYY-MM, for example 2026-03."), "month") from None

    @classmethod
    def current(cls) -> "Month":
        return cls(timezone.localdate().replace(day=1))

    @property
    def start(self):
        return datetime.datetime.combine(self.first, datetime.time(), tzinfo=timezone.get_default_timezone())

    @property
    def end(self):
        following = (self.first + datetime.timedelta(days=32)).replace(day=1)
        return datetime.datetime.combine(following, datetime.time(), tzinfo=timezone.get_default_timezone())

    def __str__(self):
        return self.first.strftime("%Y-%m")


def _earned_in(month: Month, prefix=""):
    return {
        f"{prefix}created_at__gte": month.start,
        f"{prefix}created_at__lt": month.end,
        f"{prefix}kind__in": EARNED_KINDS,
    }


def ranking_volunteers(*, month: Month, limit=RANKING_SIZE, region: str = "") -> list[dict]:
    """The volunteers who earned the most points in `month` (EARNED_KINDS), most first; only
    those living in `region` (a code prefix) when given. One query.
    Rows: {volunteer_id, name, points}."""
    rows = PointEntry.objects.filter(**_earned_in(month))
    if region:
        rows = rows.filter(volunteer__home__code__startswith=region)
    return list(
        rows.values("volunteer_id", name=F("volunteer__name"))
        .annotate(points=Sum("points"))
        .filter(points__gt=0)
        .order_by("-points", "volunteer_id")[:limit]
    )


def ranking_teams(*, month: Month, limit=RANKING_SIZE, region: str = "") -> list[dict]:
    """The teams whose members earned the most points in `month`: a team's figure is the sum of
    what each of its members earned that month, wherever they earned it (a volunteer in two teams
    counts for both). Only teams whose home is in `region` when given. One query.
    Rows: {team_id, name, level, points}."""
    rows = TeamMember.objects.filter(**_earned_in(month, prefix="volunteer__points__"))
    if region:
        rows = rows.filter(team__home__code__startswith=region)
    return list(
        rows.values("team_id", name=F("team__unit__name"), level=F("team__level"))
        .annotate(points=Sum("volunteer__points__points"))
        .filter(points__gt=0)
        .order_by("-points", "team_id")[:limit]
    )


# --- earning --------------------------------------------------------------------------------------


def points_for_hours(hours, *, emergency, table=None) -> int:
    """The points `hours` of task work earn: per hour, plus the emergency bonus per hour; halves
    round up."""
    table = table or rules()
    per_hour = table[PointRule.Kind.TASK_HOUR] + (table[PointRule.Kind.EMERGENCY_HOUR] if emergency else 0)
    return int((Decimal(str(hours)) * per_hour).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@transaction.atomic
def points_earn_signups(*, signups, actor) -> list[PointEntry]:
    """One line per confirmed sign-up (its hours by the rules at this moment), in the caller's
    transaction; returns the lines written. The sign-ups are read again: only those confirmed
    earn, with the hours stored on them. Once per sign-up: one that already has its line is
    skipped, and the line is unique on the sign-up, so a confirmation repeated writes nothing
    more. A sign-up whose hours earn 0 points writes no line."""
    ids = [getattr(signup, "pk", signup) for signup in signups]
    confirmed = (
        Signup.objects.filter(pk__in=ids, state=Signup.State.CONFIRMED, points_entry__isnull=True)
        .select_related("task__region")
        .order_by("id")
    )
    table = rules()
    entries = []
    for signup in confirmed:
        points = points_for_hours(signup.hours or 0, emergency=signup.task.emergency, table=table)
        if points > 0:
            entries.append(
                PointEntry(
                    volunteer_id=signup.volunteer_id,
                    kind=PointEntry.Kind.TASK,
                    points=points,
                    reason=signup.task.title[:MAX_REASON],
                    signup=signup,
                    place_code=signup.task.region.code,
                    created_by=actor,
                )
            )
    PointEntry.objects.bulk_create(entries, ignore_conflicts=True)
    return entries


@transaction.atomic
def points_earn_bookings(*, bookings, actor) -> list[PointEntry]:
    """One line per booking served, to the volunteer who served it (none if nobody is named), by
    the booking rule at this moment; returns the lines written. Called by the move that records
    them served, in its transaction (the bookings with their `day` and its `service` loaded);
    once per booking: one that has its line already is skipped, and the line is unique on it."""
    served = [b for b in bookings if b.served_by_id is not None and b.state == b.State.DONE]
    have = set(PointEntry.objects.filter(booking__in=served).values_list("booking_id", flat=True))
    per_booking = rules()[PointRule.Kind.BOOKING]
    homes = dict(
        Service.objects.filter(pk__in={booking.day.service_id for booking in served}).values_list(
            "pk", "team__home__code"
        )
    )
    entries = [
        PointEntry(
            volunteer_id=booking.served_by_id,
            kind=PointEntry.Kind.BOOKING,
            points=per_booking,
            reason=f"{booking.day.service.name} {booking.day.day.isoformat()}"[:MAX_REASON],
            booking=booking,
            place_code=homes[booking.day.service_id],
            created_by=actor,
        )
        for booking in served
        if booking.pk not in have and per_booking > 0
    ]
    PointEntry.objects.bulk_create(entries, ignore_conflicts=True)
    return entries


def points_earn_booking(*, booking, actor) -> PointEntry | None:
    """The line for one booking served (see `points_earn_bookings`), or None."""
    written = points_earn_bookings(bookings=[booking], actor=actor)
    return written[0] if written else None


# --- corrections and spending ---------------------------------------------------------------------


def _lock_and_check(volunteer, expected_balance) -> int:
    """Lock the volunteer's row (NO KEY UPDATE: two spends wait for each other; new earned lines,
    whose foreign key only needs KEY SHARE, do not) and read the balance after the lock, which
    under READ COMMITTED sees every line committed before it."""
    Volunteer.objects.select_for_update(no_key=True).filter(pk=volunteer.pk).values_list("pk").get()
    held = balance(volunteer)
    if expected_balance is not None and held != expected_balance:
        raise BalanceChanged(
            _(
                "The balance changed since the page was shown (it is %(balance)d now), so nothing was done this "
                "time. If you tapped twice, the first tap counted: see the ledger."
            )
            % {"balance": held},
            "balance",
        )
    return held


@transaction.atomic
def points_correct(*, volunteer, points: int, reason: str, actor, expected_balance: int | None = None) -> PointEntry:
    """A correction: a new line with its reason (the ledger is never edited). A negative one may
    not take the balance below zero. `expected_balance`, the balance the form showed, makes the
    same form sent twice one correction."""
    if not may_correct(actor, volunteer):
        raise NotPermitted(_("Only the volunteer's community committee or the district centre may correct points."))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Say why the points are corrected."), "reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput(_("Say why in at most %(limit)d characters.") % {"limit": MAX_REASON}, "reason")
    if points == 0:
        raise InvalidInput(_("A correction of 0 points changes nothing."), "points")
    if abs(points) > MAX_CORRECTION:
        raise InvalidInput(_("A correction is at most %(limit)d points.") % {"limit": MAX_CORRECTION}, "points")
    held = _lock_and_check(volunteer, expected_balance)
    if held + points < 0:
        raise NotEnoughPoints(
            _("The balance is %(balance)d: a correction may not take it below zero.") % {"balance": held}, "points"
        )
    return PointEntry.objects.create(
        volunteer=volunteer, kind=PointEntry.Kind.CORRECTION, points=points, reason=reason, created_by=actor
    )


@transaction.atomic
def points_redeem(*, volunteer, reward, actor, expected_balance: int | None = None) -> PointEntry:
    """Spend points on a reward of the volunteer's community, by the volunteer themselves: the
    volunteer's row is locked and the balance checked, and the stock taken by a conditional UPDATE
    (`stock >= 1`), so neither goes below zero, whoever redeems at the same moment. Refused
    (NotEnoughPoints, InvalidInput) with nothing written otherwise. `expected_balance`, the
    balance the page showed, makes a double tap one redemption."""
    if actor.pk != volunteer.user_id:
        raise NotPermitted(_("Only the volunteer may spend their own points."))
    held = _lock_and_check(volunteer, expected_balance)
    # Read after the lock: the reward's cost and state as they are now, not as the page saw them.
    reward = Reward.objects.select_related("community").filter(pk=reward.pk).first()
    if reward is None or not reward.is_active or reward.community.code not in volunteer_communities(volunteer):
        raise InvalidInput(_("This reward is not offered to you."), "reward")
    if held < reward.cost:
        raise NotEnoughPoints(
            _("%(name)s costs %(cost)d points; your balance is %(balance)d.")
            % {"name": reward.name, "cost": reward.cost, "balance": held},
            "reward",
        )
    if not Reward.objects.filter(pk=reward.pk, stock__gte=1).update(stock=F("stock") - 1):
        raise NotEnoughPoints(_("%(name)s is out of stock.") % {"name": reward.name}, "reward")
    return PointEntry.objects.create(
        volunteer=volunteer,
        kind=PointEntry.Kind.REDEMPTION,
        points=-reward.cost,
        reason=reward.name[:MAX_REASON],
        reward=reward,
        created_by=actor,
    )


# --- rewards --------------------------------------------------------------------------------------


def _require_community_staff(actor, community_code):
    if community_code not in staff_communities(actor):
        raise NotPermitted(_("Only the community committee's staff keep its rewards."))


def rewards_kept_by(user):
    """The rewards of the communities whose committee the user works in, newest first."""
    return (
        Reward.objects.filter(community__code__in=staff_communities(user))
        .select_related("community")
        .order_by("-is_active", "cost", "name", "id")
    )


@transaction.atomic
def reward_add(*, community, name: str, cost: int, stock: int, actor) -> Reward:
    """A new reward of a community. The community's row is locked (NO KEY UPDATE: other rows
    pointing at it are not held up) so the same form sent twice adds one reward: a second active
    reward of the same name is refused."""
    _require_community_staff(actor, community.code)
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_("Name the reward."), "name")
    if cost < 1:
        raise InvalidInput(_("A reward costs at least 1 point."), "cost")
    Region.objects.select_for_update(no_key=True).filter(pk=community.pk).values_list("pk").get()
    if Reward.objects.filter(community=community, name=name, is_active=True).exists():
        raise InvalidInput(_("%(name)s is already offered: change its stock instead.") % {"name": name}, "name")
    return Reward.objects.create(community=community, name=name, cost=cost, stock=stock)


@transaction.atomic
def reward_restock(*, reward, stock: int, was: int, is_active: bool, actor) -> Reward:
    """Set a reward's stock to `stock` (and whether it is offered), only if it still holds `was`,
    the figure the clerk saw: a redemption meanwhile, or the same form sent twice, is never
    overwritten (refused, nothing changed)."""
    _require_community_staff(actor, reward.community.code)
    if stock < 0:
        raise InvalidInput(_("The stock cannot be below zero."), "stock")
    if not Reward.objects.filter(pk=reward.pk, stock=was).update(stock=stock, is_active=is_active):
        raise InvalidInput(
            _("The stock of %(name)s changed since the page was shown; nothing was changed. Look again.")
            % {"name": reward.name},
            "stock",
        )
    reward.refresh_from_db()
    return reward


def redemptions_kept_by(user, *, limit=50):
    """The newest redemptions of the rewards the user keeps: who to hand what to."""
    return list(
        PointEntry.objects.filter(kind=PointEntry.Kind.REDEMPTION, reward__community__code__in=staff_communities(user))
        .select_related("volunteer", "reward")
        .order_by("-created_at", "-id")[:limit]
    )
