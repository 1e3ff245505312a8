"""预约服务: the standing services teams offer (爱心食堂 meals, meal delivery, health checks, errands),
the places residents book on a day, and the team's confirmation and record of the service done.

Capacity: a service's day (`ServiceDay`) is created on its first booking with the service's
capacity of the moment; a booking takes a place by a conditional UPDATE (`booked < capacity`) in
its transaction, so two people booking the last place at once get one booking and one refusal,
and a cancellation gives the place back (`booked > 0`). A booking moves only through
`BOOKING_MOVES` (`cases.moves.rows_move`).

Who may do what:
- the staff of a community committee book for the residents of their community, any service
  whose team serves it (its area holds the community), and cancel what their committee booked;
- a resident books for themselves on the residents' page (their mobile confirmed by SMS), and
  cancels their own bookings there;
- a team's staff (the members of the team's unit) keep its services, confirm its bookings,
  record them served (naming the volunteer of the team who served, who earns the points of the
  booking rule in the same transaction) and may cancel them (the canteen closed that day)."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import phone_validator
from cases.errors import InvalidInput, NotPermitted
from cases.moves import rows_move
from units.models import Membership, Unit
from units.selectors import postings_for
from volunteers.models import Booking, Service, ServiceDay, Team, TeamMember, Volunteer
from volunteers.moves import BOOKING_MOVES
from volunteers.points import points_earn_bookings, staff_communities

# How far ahead a place may be booked.
BOOKING_WINDOW_DAYS = 14
MAX_CAPACITY = 10_000
LIVE = (Booking.State.BOOKED, Booking.State.CONFIRMED)


# --- who --------------------------------------------------------------------------------------------


def team_unit_codes(user) -> set[str]:
    """The codes of the social units the user works in (no query: the postings)."""
    return {code for code, kind, _region, _role in postings_for(user).units if kind == Unit.Kind.SOCIAL}


def teams_kept_by(user):
    """The teams whose staff the user is: a member of the team's unit."""
    return Team.objects.filter(unit__code__in=team_unit_codes(user), unit__is_active=True).select_related("unit")


def _require_team_staff(actor, team):
    if team.unit.code not in team_unit_codes(actor):
        raise NotPermitted(_("Only the team's own staff may do this."))


def _covering(community_code: str) -> list[str]:
    """The codes of the places whose teams serve a community: the district, its street, itself."""
    return [community_code[:n] for n in (6, 9, 12)]


def _covering_any(community_codes) -> set[str]:
    return {code for community in community_codes for code in _covering(community)}


def services_for_communities(codes):
    """The active services whose team serves one of these communities."""
    areas = _covering_any(codes)
    return (
        Service.objects.filter(is_active=True, team__area__code__in=areas)
        .select_related("team__unit")
        .order_by("team__unit__name", "name", "id")
    )


def services_bookable_by(user):
    """What a community clerk may book: the services serving their committee's community."""
    return services_for_communities(staff_communities(user))


def services_for_residents():
    """What a resident may book on their own page: every active service."""
    return (
        Service.objects.filter(is_active=True)
        .select_related("team__unit", "team__area")
        .order_by("team__unit__name", "name", "id")
    )


# --- reading --------------------------------------------------------------------------------------


def _dressed(rows):
    return rows.select_related("day__service__team__unit", "served_by").order_by("-day__day", "-created_at", "-id")


def bookings_of_committees(user):
    """The bookings made by the staff of the committees the user works in, the latest day first."""
    committees = [code for code, kind, _region, _role in postings_for(user).units if kind == Unit.Kind.COMMITTEE]
    same_committee = Membership.objects.filter(user=OuterRef("booked_by"), unit__code__in=committees)
    return _dressed(Booking.objects.filter(Exists(same_committee)))


def bookings_of_phone(phone: str):
    """A resident's own bookings, the latest day first."""
    return _dressed(Booking.objects.filter(resident_phone=phone))


def team_day(user, day: datetime.date) -> list[dict]:
    """The day's work of the teams the user keeps: each service with its places taken, its
    bookings (cancelled ones last) and the team's volunteers who may be named as having served.
    Four queries whatever the number of services and bookings."""
    services = list(
        Service.objects.filter(team__in=teams_kept_by(user)).select_related("team__unit").order_by("team", "name")
    )
    ids = [service.pk for service in services]
    days = {row.service_id: row for row in ServiceDay.objects.filter(service_id__in=ids, day=day)}
    bookings = {}
    for booking in (
        Booking.objects.filter(day__service_id__in=ids, day__day=day)
        .select_related("served_by", "day")
        .order_by(F("state").asc(), "created_at", "id")
    ):
        bookings.setdefault(booking.day.service_id, []).append(booking)
    people = {}
    for member in (
        TeamMember.objects.filter(team_id__in={service.team_id for service in services})
        .select_related("volunteer")
        .order_by("volunteer__name", "volunteer_id")
    ):
        people.setdefault(member.team_id, []).append(member.volunteer)
    return [
        {
            "service": service,
            "day": days.get(service.pk),
            "bookings": sorted(bookings.get(service.pk, []), key=lambda b: b.state == Booking.State.CANCELLED),
            "volunteers": people.get(service.team_id, []),
        }
        for service in services
    ]


def booking_get(pk) -> Booking:
    booking = Booking.objects.select_related("day__service__team__unit").filter(pk=pk).first()
    if booking is None:
        raise InvalidInput(_("No such booking."), "booking")
    return booking


# --- services -------------------------------------------------------------------------------------


def _check_capacity(capacity):
    if not 1 <= capacity <= MAX_CAPACITY:
        raise InvalidInput(_("A day's capacity is between 1 and %(limit)d.") % {"limit": MAX_CAPACITY}, "capacity")


@transaction.atomic
def service_add(*, team, name: str, capacity: int, description: str = "", actor) -> Service:
    """A new standing service of a team. The team's row is locked (NO KEY UPDATE) so the same form
    sent twice adds one service: a second active service of the same name is refused."""
    _require_team_staff(actor, team)
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_("Name the service."), "name")
    _check_capacity(capacity)
    Team.objects.select_for_update(no_key=True).filter(pk=team.pk).values_list("pk").get()
    if Service.objects.filter(team=team, name=name, is_active=True).exists():
        raise InvalidInput(_("The team already offers %(name)s.") % {"name": name}, "name")
    return Service.objects.create(team=team, name=name, description=description, capacity=capacity)


@transaction.atomic
def service_change(*, service, capacity: int, is_active: bool, actor) -> Service:
    """A service's capacity a day (for the days not booked yet: a day keeps the capacity it was
    opened with) and whether it takes bookings."""
    _require_team_staff(actor, service.team)
    _check_capacity(capacity)
    Service.objects.filter(pk=service.pk).update(capacity=capacity, is_active=is_active)
    service.refresh_from_db()
    return service


# --- booking --------------------------------------------------------------------------------------


@transaction.atomic
def booking_book(
    *, service, day: datetime.date, resident_name: str, resident_phone: str, address: str = "", actor=None
) -> Booking:
    """A resident's place on a day of a service. `actor` is the community clerk booking for them;
    None when the resident books on their own page (their `resident_phone` confirmed by SMS).

    The place is taken by a conditional UPDATE of the day's row (`booked < capacity`), which also
    holds that row until the booking commits: two bookings of the last place at once get one
    booking and one refusal, and the same resident booked twice for the day (a double submit) is
    seen by the second and refused. Refused (InvalidInput), nothing written, when full."""
    if actor is not None and service.team.area.code not in _covering_any(staff_communities(actor)):
        raise NotPermitted(_("Only the staff of a community the team serves may book this service."))
    if not service.is_active:
        raise InvalidInput(_("%(name)s takes no bookings now.") % {"name": service.name}, "service")
    today = timezone.localdate()
    if day < today:
        raise InvalidInput(_("Choose today or a later day."), "day")
    if day > today + datetime.timedelta(days=BOOKING_WINDOW_DAYS):
        raise InvalidInput(
            _("Bookings open %(days)d days ahead: choose an earlier day.") % {"days": BOOKING_WINDOW_DAYS}, "day"
        )
    resident_name = (resident_name or "").strip()
    if not resident_name:
        raise InvalidInput(_("Give the resident's name."), "resident_name")
    try:
        phone_validator(resident_phone)
    except ValidationError as error:
        raise InvalidInput(" ".join(error.messages), "resident_phone") from None

    service_day, _created = ServiceDay.objects.get_or_create(
        service=service, day=day, defaults={"capacity": service.capacity}
    )
    taken = ServiceDay.objects.filter(pk=service_day.pk, booked__lt=F("capacity")).update(booked=F("booked") + 1)
    if not taken:
        raise InvalidInput(
            _("%(name)s is full on %(day)s (%(capacity)d places). Choose another day.")
            % {"name": service.name, "day": day.isoformat(), "capacity": service_day.capacity},
            "day",
        )
    if Booking.objects.filter(day=service_day, resident_phone=resident_phone, state__in=LIVE).exists():
        # Raising rolls the place taken above back with everything else.
        raise InvalidInput(
            _("%(phone)s already has a place on %(day)s.") % {"phone": resident_phone, "day": day.isoformat()},
            "resident_phone",
        )
    return Booking.objects.create(
        day=service_day, resident_name=resident_name, resident_phone=resident_phone, address=address, booked_by=actor
    )


def _may_cancel(booking, actor, phone) -> bool:
    if actor is None:
        return bool(phone) and phone == booking.resident_phone
    if booking.day.service.team.unit.code in team_unit_codes(actor):
        return True
    committees = [code for code, kind, _region, _role in postings_for(actor).units if kind == Unit.Kind.COMMITTEE]
    return (
        booking.booked_by_id is not None
        and Membership.objects.filter(user_id=booking.booked_by_id, unit__code__in=committees).exists()
    )


def _moved_or_refused(booking, action, **changes):
    moved = rows_move(Booking.objects.filter(pk=booking.pk), BOOKING_MOVES, action, **changes)
    if not moved:
        booking.refresh_from_db(fields=["state"])
        raise InvalidInput(
            _("This booking is %(state)s: it cannot be changed so.") % {"state": booking.get_state_display()}
        )
    booking.refresh_from_db()


@transaction.atomic
def booking_cancel(*, booking, actor=None, phone: str = "") -> Booking:
    """Cancel a booking not yet served; its place is given back to the day in the same
    transaction (conditionally: the count never goes below zero). By the team, the committee that
    booked it, or the resident (`actor` None, `phone` their confirmed number)."""
    if not _may_cancel(booking, actor, phone):
        raise NotPermitted(_("Only the team, the committee that booked it or the resident may cancel a booking."))
    _moved_or_refused(booking, "cancel")
    ServiceDay.objects.filter(pk=booking.day_id, booked__gt=0).update(booked=F("booked") - 1)
    return booking


def _locked_for(service, booking_ids, action) -> list[Booking]:
    """The service's bookings `booking_ids`, locked, each in a state `action` may start from;
    otherwise refused, naming the first that is not (all or nothing)."""
    ids = set(booking_ids)
    if not ids:
        raise InvalidInput(_("Tick the bookings first."), "booking")
    rows = list(
        Booking.objects.select_for_update(of=("self",))
        .filter(pk__in=ids, day__service=service)
        .select_related("day")
        .order_by("pk")
    )
    if len(rows) != len(ids):
        raise InvalidInput(_("Those are not all bookings of %(name)s.") % {"name": service.name}, "booking")
    sources = BOOKING_MOVES[action].sources
    for row in rows:
        if row.state not in sources:
            raise InvalidInput(
                _("%(name)s's booking is %(state)s: nothing was changed.")
                % {"name": row.resident_name, "state": row.get_state_display()},
                "booking",
            )
    return rows


@transaction.atomic
def bookings_confirm(*, service, booking_ids, actor) -> int:
    """The team confirms it will serve these bookings of a service (all or none)."""
    _require_team_staff(actor, service.team)
    rows = _locked_for(service, booking_ids, "confirm")
    return rows_move(Booking.objects.filter(pk__in=[row.pk for row in rows]), BOOKING_MOVES, "confirm")


@transaction.atomic
def bookings_cancel(*, service, booking_ids, actor) -> int:
    """The team cancels these bookings of a service (all or none: the canteen closed that day);
    each day's places are given back in the same transaction."""
    _require_team_staff(actor, service.team)
    rows = _locked_for(service, booking_ids, "cancel")
    moved = rows_move(Booking.objects.filter(pk__in=[row.pk for row in rows]), BOOKING_MOVES, "cancel")
    for day_id in {row.day_id for row in rows}:
        freed = sum(1 for row in rows if row.day_id == day_id)
        ServiceDay.objects.filter(pk=day_id, booked__gte=freed).update(booked=F("booked") - freed)
    return moved


@transaction.atomic
def bookings_done(*, service, booking_ids, served_by: Volunteer | None, actor) -> list[Booking]:
    """The team records these bookings of a service served (all or none), by one of its
    volunteers, on their day or later; the volunteer earns each booking's points in the same
    transaction (once: the rows are locked and moved once, and a line is unique on its booking).
    A canteen's day is recorded in a few taps: the bookings one volunteer served, then the next's."""
    team = service.team
    _require_team_staff(actor, team)
    if served_by is None or not TeamMember.objects.filter(team=team, volunteer=served_by).exists():
        raise InvalidInput(_("Name the volunteer of the team who served."), "served_by")
    rows = _locked_for(service, booking_ids, "done")
    if any(row.day.day > timezone.localdate() for row in rows):
        raise InvalidInput(_("A booking is recorded served on its day or later."), "booking")
    ids = [row.pk for row in rows]
    rows_move(Booking.objects.filter(pk__in=ids), BOOKING_MOVES, "done", served_by=served_by)
    served = list(Booking.objects.filter(pk__in=ids).select_related("day").order_by("pk"))
    for booking in served:
        booking.day.service = service
    points_earn_bookings(bookings=served, actor=actor)
    return served


def day_choices(today=None) -> list[datetime.date]:
    """The days a place may be booked: today and the next BOOKING_WINDOW_DAYS."""
    today = today or timezone.localdate()
    return [today + datetime.timedelta(days=n) for n in range(BOOKING_WINDOW_DAYS + 1)]
