"""预约服务: a community clerk books a place for a resident at a team's standing service; capacity a
day is never passed; a cancellation gives the place back; the team confirms and records the
booking served by one of its volunteers, who earns the booking rule's points then."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import translation

from cases.errors import InvalidInput, NotPermitted
from tests.volunteers.points_world import TUESDAY, module_world
from volunteers import bookings, points
from volunteers.models import Booking, PointEntry, PointRule, ServiceDay

pytestmark = pytest.mark.django_db
world = pytest.fixture(scope="module", name="world")(module_world)
TODAY = TUESDAY.date()


@pytest.fixture(autouse=True)
def tuesday(world):
    # A test that changes a service changes the module's objects too: each test starts from the rows.
    for service in (world.meals, world.checks):
        service.refresh_from_db()
    with time_machine.travel(TUESDAY, tick=False):
        yield


def book(world, *, service=None, day=TODAY, name="王奶奶", phone="13812345678", actor=None, address="金山社区3号楼"):
    return bookings.booking_book(
        service=service or world.meals,
        day=day,
        resident_name=name,
        resident_phone=phone,
        address=address,
        actor=actor or world.cast.community_clerk,
    )


def places(service, day=TODAY):
    return ServiceDay.objects.filter(service=service, day=day).values_list("booked", "capacity").first()


# --- booking --------------------------------------------------------------------------------------


def test_a_booking_takes_a_place_and_past_the_capacity_is_refused(world):
    first = book(world, phone="13812345671")
    book(world, phone="13812345672")
    assert places(world.meals) == (2, 2)
    with translation.override("en"), pytest.raises(InvalidInput) as refused:
        book(world, phone="13812345673")
    assert refused.value.field == "day" and "is full on 2026-03-10 (2 places)" in str(refused.value)
    assert places(world.meals) == (2, 2)
    assert Booking.objects.filter(day__service=world.meals).count() == 2
    assert (first.state, first.booked_by, first.address) == ("booked", world.cast.community_clerk, "金山社区3号楼")


def test_the_same_resident_booked_twice_for_a_day_is_one_booking(world):
    book(world)
    with pytest.raises(InvalidInput) as refused:
        book(world)
    assert refused.value.field == "resident_phone"
    assert places(world.meals) == (1, 2)
    # Another day is another place.
    book(world, day=TODAY + timedelta(days=1))


def test_a_day_keeps_the_capacity_it_was_opened_with(world):
    book(world)
    bookings.service_change(service=world.meals, capacity=5, is_active=True, actor=world.squad_clerk)
    assert places(world.meals) == (1, 2)
    book(world, day=TODAY + timedelta(days=1))
    assert places(world.meals, TODAY + timedelta(days=1)) == (1, 5)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"day": TODAY - timedelta(days=1)}, "day"),
        ({"day": TODAY + timedelta(days=15)}, "day"),
        ({"name": "  "}, "resident_name"),
        ({"phone": "12345"}, "resident_phone"),
    ],
)
def test_bad_booking_input_is_refused_with_nothing_written(world, change, field):
    with pytest.raises(InvalidInput) as refused:
        book(world, **change)
    assert refused.value.field == field
    assert not Booking.objects.exists()
    assert places(world.meals, change.get("day", TODAY)) in (None, (0, 2))


def test_a_clerk_books_only_the_services_that_serve_their_community(world):
    # 民主村's health checks serve 民主村 only; the squad's meals serve the whole district.
    with pytest.raises(NotPermitted):
        book(world, service=world.checks)
    book(world, service=world.checks, actor=world.village_clerk)
    book(world, service=world.meals, actor=world.village_clerk)
    assert set(bookings.services_bookable_by(world.cast.community_clerk)) == {world.meals}
    with pytest.raises(NotPermitted):
        book(world, actor=world.cast.street_clerk)


def test_a_service_taking_no_bookings_is_refused(world):
    bookings.service_change(service=world.meals, capacity=2, is_active=False, actor=world.squad_clerk)
    world.meals.refresh_from_db()
    with pytest.raises(InvalidInput):
        book(world)


# --- cancelling -----------------------------------------------------------------------------------


def test_a_cancellation_frees_the_place_once(world):
    first = book(world, phone="13812345671")
    book(world, phone="13812345672")
    bookings.booking_cancel(booking=first, actor=world.cast.community_clerk)
    assert places(world.meals) == (1, 2)
    with pytest.raises(InvalidInput):
        bookings.booking_cancel(booking=first, actor=world.cast.community_clerk)
    assert places(world.meals) == (1, 2)
    book(world, phone="13812345673")  # the freed place
    assert places(world.meals) == (2, 2)


def test_only_the_team_the_committee_that_booked_or_the_resident_cancel(world):
    booking = book(world)
    for outsider in (world.village_clerk, world.team_clerk):
        with pytest.raises(NotPermitted):
            bookings.booking_cancel(booking=booking, actor=outsider)
    with pytest.raises(NotPermitted):
        bookings.booking_cancel(booking=booking, phone="13800000000")
    bookings.booking_cancel(booking=booking, phone="13812345678")
    assert Booking.objects.get(pk=booking.pk).state == "cancelled"


# --- the team -------------------------------------------------------------------------------------


def test_the_team_confirms_and_records_served_and_the_volunteer_earns_the_rule(world):
    first, second = book(world, phone="13812345671"), book(world, phone="13812345672")
    ids = [first.pk, second.pk]
    assert bookings.bookings_confirm(service=world.meals, booking_ids=ids, actor=world.squad_clerk) == 2
    served = bookings.bookings_done(service=world.meals, booking_ids=ids, served_by=world.dan, actor=world.squad_clerk)
    assert {(b.state, b.served_by_id) for b in served} == {("done", world.dan.pk)}
    lines = PointEntry.objects.filter(volunteer=world.dan)
    assert sorted(lines.values_list("kind", "points", "booking_id")) == sorted(
        [("booking", 5, first.pk), ("booking", 5, second.pk)]
    )
    assert lines.first().reason == "爱心午餐 2026-03-10"
    # Recorded again (a second click): refused, nothing more earned.
    with pytest.raises(InvalidInput):
        bookings.bookings_done(service=world.meals, booking_ids=ids, served_by=world.dan, actor=world.squad_clerk)
    assert points.balance(world.dan) == 10


def test_a_rule_changed_is_used_by_the_next_booking_served(world):
    first = book(world, phone="13812345671")
    bookings.bookings_done(service=world.meals, booking_ids=[first.pk], served_by=world.bob, actor=world.squad_clerk)
    PointRule.objects.create(kind=PointRule.Kind.BOOKING, points=8)
    second = book(world, phone="13812345672")
    bookings.bookings_done(service=world.meals, booking_ids=[second.pk], served_by=world.bob, actor=world.squad_clerk)
    assert list(PointEntry.objects.filter(volunteer=world.bob).order_by("id").values_list("points", flat=True)) == [
        5,
        8,
    ]


def test_the_team_refuses_a_stranger_a_future_day_a_cancelled_booking_and_another_teams_staff(world):
    today = book(world, phone="13812345671")
    tomorrow = book(world, phone="13812345672", day=TODAY + timedelta(days=1))
    cancelled = book(world, phone="13812345673")
    bookings.booking_cancel(booking=cancelled, actor=world.squad_clerk)
    done = bookings.bookings_done
    squad = world.squad_clerk
    with pytest.raises(InvalidInput):  # alice is not in the squad
        done(service=world.meals, booking_ids=[today.pk], served_by=world.alice, actor=squad)
    with pytest.raises(InvalidInput):  # not yet
        done(service=world.meals, booking_ids=[tomorrow.pk], served_by=world.dan, actor=squad)
    with pytest.raises(InvalidInput):  # all or nothing: one of them is cancelled
        done(service=world.meals, booking_ids=[today.pk, cancelled.pk], served_by=world.dan, actor=squad)
    with pytest.raises(NotPermitted):
        done(service=world.meals, booking_ids=[today.pk], served_by=world.dan, actor=world.team_clerk)
    other = book(world, service=world.checks, actor=world.village_clerk)
    with pytest.raises(InvalidInput):  # a booking of another team's service
        done(service=world.meals, booking_ids=[today.pk, other.pk], served_by=world.dan, actor=squad)
    assert set(Booking.objects.values_list("state", flat=True)) == {"booked", "cancelled"}
    assert not PointEntry.objects.exists()


def test_the_team_cancels_the_ticked_bookings_and_the_places_come_back(world):
    ids = [book(world, phone="13812345671").pk, book(world, phone="13812345672").pk]
    assert bookings.bookings_cancel(service=world.meals, booking_ids=ids, actor=world.squad_clerk) == 2
    assert places(world.meals) == (0, 2)


# --- the pages ------------------------------------------------------------------------------------


def test_the_clerk_books_on_the_page_and_sees_the_committees_bookings(world, client):
    client.force_login(world.cast.community_clerk)
    page = client.get("/volunteers/bookings/")
    assert list(page.context["form"].fields["service"].queryset) == [world.meals]
    form = {
        "service": world.meals.pk,
        "day": TODAY.isoformat(),
        "resident_name": "王奶奶",
        "resident_phone": "138 1234 5678",
        "address": "金山社区3号楼2单元",
    }
    assert client.post("/volunteers/bookings/", form).status_code == 302
    again = client.post("/volunteers/bookings/", form)
    assert "resident_phone" in again.context["form"].errors
    listed = client.get("/volunteers/bookings/").context["rows"]
    assert [(b.resident_name, b.resident_phone, b.state) for b in listed] == [("王奶奶", "13812345678", "booked")]
    # Cancelled from the list: the place is free again.
    client.post("/volunteers/bookings/cancel/", {"booking": listed[0].pk, "next": "/volunteers/bookings/"})
    assert places(world.meals) == (0, 2)
    # 民主村's clerk sees none of it, and may not cancel it.
    client.force_login(world.village_clerk)
    assert client.get("/volunteers/bookings/").context["rows"] == []


def test_a_full_day_on_the_clerks_page_is_a_form_error(world, client):
    book(world, phone="13812345671")
    book(world, phone="13812345672")
    client.force_login(world.cast.community_clerk)
    form = {
        "service": world.meals.pk,
        "day": TODAY.isoformat(),
        "resident_name": "李爷爷",
        "resident_phone": "13812345673",
    }
    answer = client.post("/volunteers/bookings/", form)
    assert answer.status_code == 200 and "day" in answer.context["form"].errors
    assert Booking.objects.count() == 2


def test_the_teams_day_page_confirms_and_records_served(world, client, django_assert_num_queries):
    rows = [book(world, phone=f"1381234567{n}", name=f"老人{n}") for n in (1, 2)]
    book(world, service=world.checks, actor=world.village_clerk)
    client.force_login(world.squad_clerk)
    client.get("/volunteers/bookings/team/")
    # The session, the user, the postings, the teams' services, their days, the bookings, the
    # teams' volunteers; the unread notices.
    with django_assert_num_queries(8):
        page = client.get("/volunteers/bookings/team/", {"day": TODAY.isoformat()})
    (item,) = page.context["services"]
    assert (item["service"], item["day"].booked, len(item["bookings"])) == (world.meals, 2, 2)
    assert {person.pk for person in item["volunteers"]} == {world.bob.pk, world.dan.pk}
    act = {"service": world.meals.pk, "booking": [b.pk for b in rows], "day": TODAY.isoformat()}
    client.post("/volunteers/bookings/team/act/", {**act, "action": "confirm"})
    client.post("/volunteers/bookings/team/act/", {**act, "action": "done", "served_by": world.bob.pk})
    assert set(Booking.objects.filter(day__service=world.meals).values_list("state", "served_by")) == {
        ("done", world.bob.pk)
    }
    assert points.balance(world.bob) == 10
    # Another team's service: 404; 金山社区's clerk has no team page.
    assert (
        client.post(
            "/volunteers/bookings/team/act/", {**act, "service": world.checks.pk, "action": "confirm"}
        ).status_code
        == 404
    )
    client.force_login(world.cast.community_clerk)
    assert client.get("/volunteers/bookings/team/").status_code == 404


def test_the_team_adds_a_service_once_and_changes_its_capacity(world, client):
    client.force_login(world.squad_clerk)
    form = {"team": world.squad.pk, "name": "送餐上门", "description": "为行动不便的老人送餐", "capacity": "40"}
    assert client.post("/volunteers/services/", form).status_code == 302
    assert "name" in client.post("/volunteers/services/", form).context["form"].errors
    delivery = world.squad.services.get(name="送餐上门")
    client.post("/volunteers/services/change/", {"service": delivery.pk, "capacity": "45", "is_active": "on"})
    delivery.refresh_from_db()
    assert (delivery.capacity, delivery.is_active) == (45, True)
    # Another team's team in the form, or its service: refused.
    assert "team" in client.post("/volunteers/services/", {**form, "team": world.team.pk}).context["form"].errors
    assert client.post("/volunteers/services/change/", {"service": world.checks.pk, "capacity": "3"}).status_code == 404


# --- the residents' own page ----------------------------------------------------------------------


def test_a_resident_books_for_their_confirmed_number_sees_it_and_cancels_it(world, client):
    from tests.residents.helpers import confirmed

    assert client.get("/resident/book/").status_code == 302  # to confirm the number first
    confirmed(client, "13698765432")
    page = client.get("/resident/book/")
    assert set(page.context["form"].fields["service"].queryset) == {world.meals, world.checks}
    assert "resident_phone" not in page.context["form"].fields
    form = {"service": world.meals.pk, "day": TODAY.isoformat(), "resident_name": "张奶奶", "address": "金山社区5号楼"}
    assert client.post("/resident/book/", form).status_code == 302
    again = client.post("/resident/book/", form)  # the same form sent twice: one booking
    assert again.status_code == 200 and again.context["form"].errors
    (booking,) = client.get("/resident/bookings/").context["rows"]
    assert (booking.resident_phone, booking.booked_by, booking.state) == ("13698765432", None, "booked")
    # Another number's booking is not theirs to cancel.
    other = book(world, phone="13812345679")
    client.post("/resident/bookings/cancel/", {"booking": other.pk})
    client.post("/resident/bookings/cancel/", {"booking": booking.pk})
    assert dict(Booking.objects.values_list("pk", "state")) == {booking.pk: "cancelled", other.pk: "booked"}
    assert places(world.meals) == (1, 2)


def test_a_resident_holds_at_most_five_bookings_to_come(world, client):
    from residents.views_bookings import MAX_LIVE
    from tests.residents.helpers import confirmed

    confirmed(client, "13698765432")
    for n in range(MAX_LIVE + 1):
        day = (TODAY + timedelta(days=n)).isoformat()
        client.post("/resident/book/", {"service": world.meals.pk, "day": day, "resident_name": "张奶奶"})
    assert Booking.objects.filter(resident_phone="13698765432").count() == MAX_LIVE
