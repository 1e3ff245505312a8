"""Two clerks book the last place of a day at the same moment, on two real connections: one
booking, one refusal, and the day is never overbooked. A cancellation and a booking of the freed
place at once leave the count right."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from cases.errors import InvalidInput
from tests.volunteers.points_world import build_points
from volunteers import bookings
from volunteers.models import Booking, ServiceDay


def at_once(*calls):
    """Run each call on its own thread (its own database connection), released together; returns
    what each returned, or the exception it raised."""
    start = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            start.wait(timeout=10)
            outcomes[index] = call()
        except Exception as error:  # noqa: BLE001 - the test names what it expects
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_two_bookings_of_the_last_place_at_once_one_is_refused():
    world = build_points()
    # Tomorrow (the real clock: a travelling clock is the whole process's, not a thread's).
    day = timezone.localdate() + timedelta(days=1)

    def book(clerk, phone):
        return lambda: bookings.booking_book(
            service=world.meals, day=day, resident_name="王奶奶", resident_phone=phone, actor=clerk
        )

    first = book(world.cast.community_clerk, "13812345670")()  # one of the two places
    # The last place, by 金山社区's clerk and 民主村's at once (the squad serves both).
    outcomes = at_once(book(world.cast.community_clerk, "13812345671"), book(world.village_clerk, "13812345672"))
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["Booking", "InvalidInput"]
    refusal = next(outcome for outcome in outcomes if isinstance(outcome, InvalidInput))
    assert refusal.field == "day"
    assert ServiceDay.objects.get(service=world.meals, day=day).booked == 2
    assert Booking.objects.filter(day__day=day).count() == 2

    # A cancellation and a booking of the place it frees, at once: whichever comes first, the
    # count is the number of live bookings.
    outcomes = at_once(
        lambda: bookings.booking_cancel(booking=first, actor=world.cast.community_clerk),
        book(world.village_clerk, "13812345673"),
    )
    live = Booking.objects.filter(day__day=day, state__in=["booked", "confirmed"]).count()
    assert ServiceDay.objects.get(service=world.meals, day=day).booked == live
    assert live == (2 if isinstance(outcomes[1], Booking) else 1)
