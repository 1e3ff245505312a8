"""The points ledger (志愿活动积分): lines are only ever added. Earning follows the rules kept in the
admin (`PointRule`); spending and corrections lock the volunteer's row, so two redemptions at once
cannot spend the same points, and a balance never goes below zero (docs/volunteers.md)."""

from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import F, Sum
from django.utils.translation import gettext as _

from cases.errors import InvalidInput
from volunteers.models import PointEntry, PointRule, Reward, Volunteer

# Used when the admin has not set a rule yet (the demo and a new installation start with these).
DEFAULT_RULES = {PointRule.Kind.TASK_HOUR: 10, PointRule.Kind.BOOKING: 5, PointRule.Kind.EMERGENCY_HOUR: 5}


class NotEnoughPoints(InvalidInput):
    """Spending more than the balance, or a reward out of stock: nothing is written."""


def rules() -> dict:
    """{kind: points}, the admin's rules over the defaults."""
    return {**DEFAULT_RULES, **dict(PointRule.objects.values_list("kind", "points"))}


def balance(volunteer) -> int:
    return PointEntry.objects.filter(volunteer=volunteer).aggregate(total=Sum("points"))["total"] or 0


def points_for_hours(hours, *, emergency, table=None) -> int:
    """The points `hours` of task work earn: per hour, plus the emergency bonus per hour; halves
    round up."""
    table = table or rules()
    per_hour = table[PointRule.Kind.TASK_HOUR] + (table[PointRule.Kind.EMERGENCY_HOUR] if emergency else 0)
    return int((Decimal(hours) * per_hour).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def points_earn_signups(*, signups, actor) -> list[PointEntry]:
    """One line per confirmed sign-up (its hours by the rules), in the caller's transaction.
    Once per sign-up: the line is unique on it, so a confirmation repeated writes nothing more."""
    table = rules()
    entries = [
        PointEntry(
            volunteer_id=signup.volunteer_id,
            kind=PointEntry.Kind.TASK,
            points=points_for_hours(signup.hours or 0, emergency=signup.task.emergency, table=table),
            reason=signup.task.title[:200],
            signup=signup,
            created_by=actor,
        )
        for signup in signups
    ]
    return PointEntry.objects.bulk_create(entries, ignore_conflicts=True)


def points_earn_booking(*, booking, actor) -> PointEntry | None:
    """The line for a booking served, to the volunteer who served it (none if nobody is named)."""
    if booking.served_by_id is None:
        return None
    entry, _created = PointEntry.objects.get_or_create(
        booking=booking,
        defaults={
            "volunteer_id": booking.served_by_id,
            "kind": PointEntry.Kind.BOOKING,
            "points": rules()[PointRule.Kind.BOOKING],
            "reason": str(booking.day.service)[:200],
            "created_by": actor,
        },
    )
    return entry


@transaction.atomic
def points_correct(*, volunteer, points: int, reason: str, actor) -> PointEntry:
    """A correction: a new line with its reason (the ledger is never edited). A negative one may
    not take the balance below zero."""
    if not reason.strip():
        raise InvalidInput(_("Say why the points are corrected."), "reason")
    if points == 0:
        raise InvalidInput(_("A correction of 0 points changes nothing."), "points")
    Volunteer.objects.select_for_update().get(pk=volunteer.pk)
    if points < 0 and balance(volunteer) + points < 0:
        raise NotEnoughPoints(_("The balance would go below zero."), "points")
    return PointEntry.objects.create(
        volunteer=volunteer, kind=PointEntry.Kind.CORRECTION, points=points, reason=reason[:200], created_by=actor
    )


@transaction.atomic
def points_redeem(*, volunteer, reward, actor) -> PointEntry:
    """Spend points on a reward: the volunteer's row is locked and the balance checked, and the
    stock taken by a conditional UPDATE (`stock >= 1`), so neither goes below zero, whoever
    redeems at the same moment. Refused (NotEnoughPoints) with nothing written otherwise."""
    Volunteer.objects.select_for_update().get(pk=volunteer.pk)
    if not reward.is_active:
        raise InvalidInput(_("This reward is no longer offered."), "reward")
    if balance(volunteer) < reward.cost:
        raise NotEnoughPoints(
            _("%(name)s costs %(cost)d points; the balance is %(balance)d.")
            % {"name": reward.name, "cost": reward.cost, "balance": balance(volunteer)},
            "reward",
        )

    if not Reward.objects.filter(pk=reward.pk, stock__gte=1).update(stock=F("stock") - 1):
        raise NotEnoughPoints(_("%(name)s is out of stock.") % {"name": reward.name}, "reward")
    return PointEntry.objects.create(
        volunteer=volunteer,
        kind=PointEntry.Kind.REDEMPTION,
        points=-reward.cost,
        reason=reward.name[:200],
        reward=reward,
        created_by=actor,
    )
