"""The social-forces dashboard (一呼百应): its figures by street and community, and each paired
agency's contributions, against an independent count made here in plain Python over every row; the
same queries whatever the number of places; who sees which place."""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from cases.moves import rows_move
from tests.factories import Cast, UnitFactory, UserFactory, make_cast, region
from units.models import Pairing, Unit
from volunteers import points
from volunteers.models import (
    Booking,
    Meeting,
    MeetingProblem,
    Need,
    PointEntry,
    Service,
    ServiceDay,
    Signup,
    Task,
    Team,
    Volunteer,
)
from volunteers.moves import BOOKING_MOVES, NEED_MOVES, SIGNUP_MOVES, TASK_MOVES

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
FIRST, LAST = datetime.date(2026, 3, 1), datetime.date(2026, 3, 31)
PERIOD = {"period": "custom", "from": FIRST.isoformat(), "to": LAST.isoformat()}
FIGURES = ("tasks_published", "tasks_done", "hours", "bookings_served", "points", "needs_matched")


def moment(month, day, hour=10, minute=0):
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


# The edges of the period: the last half hour of February is outside, of March inside.
BEFORE = moment(2, 28, 23, 30)
INSIDE = moment(3, 10)
LATE = moment(3, 31, 23, 30)


@dataclass
class World:
    cast: Cast
    court: Unit  # paired with 金山社区
    tax: Unit  # paired with 民主村
    third: object  # a third community, of 解放街道, with nothing in it


def _team(cast, code, home, n):
    unit = UnitFactory(code=code, name=f"志愿服务队{code}", kind=Unit.Kind.SOCIAL, region=home)
    team = Team.objects.create(unit=unit, level="community", home=home, area=home)
    people = [
        Volunteer.objects.create(user=UserFactory(username=f"t_v_{code}_{i}"), name=f"志愿者{i}", phone="13800000000")
        for i in range(n)
    ]
    return team, people


def _task(cast, place, *, created, confirmed=None, addressed_to=None, volunteers=(), hours=()):
    with time_machine.travel(created, tick=False):
        task = Task.objects.create(
            title=f"任务{place.code}",
            publisher=cast.committee,
            created_by=cast.community_clerk,
            region=place,
            starts=created + datetime.timedelta(days=1),
            ends=created + datetime.timedelta(days=1, hours=3),
            deadline=created + datetime.timedelta(days=1),
            wanted=5,
            addressed_to=addressed_to,
        )
    signups = [Signup.objects.create(task=task, volunteer=person) for person in volunteers]
    if confirmed is not None:
        for signup, worked in zip(signups, hours, strict=True):
            rows = Signup.objects.filter(pk=signup.pk)
            rows_move(rows, SIGNUP_MOVES, "check_in", now=confirmed)
            rows_move(rows, SIGNUP_MOVES, "check_out", now=confirmed)
            rows_move(rows, SIGNUP_MOVES, "confirm", now=confirmed, hours=worked)
        rows_move(Task.objects.filter(pk=task.pk), TASK_MOVES, "confirm", now=confirmed)
        with time_machine.travel(confirmed, tick=False):
            points.points_earn_signups(
                signups=Signup.objects.filter(task=task, state="confirmed").select_related("task"),
                actor=cast.community_clerk,
            )
    return task


def _booking(cast, team, server, *, served):
    service = Service.objects.get_or_create(team=team, name="爱心食堂", defaults={"capacity": 10})[0]
    day = ServiceDay.objects.get_or_create(service=service, day=served.date(), defaults={"capacity": 10})[0]
    booking = Booking.objects.create(day=day, resident_name="王大爷", resident_phone="13900000000", served_by=server)
    rows_move(Booking.objects.filter(pk=booking.pk), BOOKING_MOVES, "done", now=served)
    booking.refresh_from_db()
    with time_machine.travel(served, tick=False):
        points.points_earn_booking(booking=booking, actor=cast.community_clerk)


def _need(cast, community, committee, *, matched, taken_by):
    need = Need.objects.create(
        community=community, posted_by=committee, created_by=cast.community_clerk, kind="service", title="需求"
    )
    rows_move(Need.objects.filter(pk=need.pk), NEED_MOVES, "match", now=matched, taken_by=taken_by)
    return need


def _meeting(cast, community, committee, held_on, attendees, problems):
    meeting = Meeting.objects.create(
        community=community, held_on=held_on, convened_by=committee, created_by=cast.community_clerk
    )
    meeting.attendees.set(attendees)
    for agency in problems:
        MeetingProblem.objects.create(meeting=meeting, text="问题", agency=agency)


def build() -> World:
    cast = make_cast()
    third = region("210111001016", "雪松社区", cast.street)
    court = UnitFactory(code="A-COURT", name="区人民法院", kind=Unit.Kind.AGENCY, region=cast.district)
    tax = UnitFactory(code="A-TAX", name="区税务局", kind=Unit.Kind.AGENCY, region=cast.district)
    Pairing.objects.create(agency=court, community=cast.community)
    Pairing.objects.create(agency=tax, community=cast.other_community)
    jinshan, ours = _team(cast, "T-JS", cast.community, 3)
    village, theirs = _team(cast, "T-MZ", cast.other_community, 2)

    # Tasks in a grid of 金山社区, in 民主村, and at 解放街道 itself (a street's, in no community).
    _task(cast, cast.grid_a, created=INSIDE, confirmed=moment(3, 12), volunteers=ours, hours=["2.5", "3", "1"])
    _task(cast, cast.grid_a, created=BEFORE, confirmed=moment(3, 1, 0, 10), volunteers=ours[:1], hours=["4"])
    _task(cast, cast.grid_b, created=LATE)
    _task(cast, cast.community, created=moment(2, 10), confirmed=BEFORE, volunteers=ours[1:], hours=["2", "2"])
    _task(
        cast,
        cast.other_community,
        created=INSIDE,
        confirmed=LATE,
        addressed_to=tax,
        volunteers=theirs,
        hours=["1.5", "6"],
    )
    _task(
        cast,
        cast.street,
        created=INSIDE,
        confirmed=moment(3, 20),
        addressed_to=court,
        volunteers=ours[:2],
        hours=["3", "3"],
    )
    _task(
        cast,
        cast.other_community,
        created=moment(3, 5),
        confirmed=moment(4, 1, 0, 5),
        volunteers=theirs[:1],
        hours=["2"],
    )

    # Bookings served by the teams of 金山社区 and 民主村.
    for served, team, server in (
        (INSIDE, jinshan, ours[0]),
        (LATE, jinshan, ours[1]),
        (BEFORE, jinshan, ours[2]),
        (moment(3, 15), village, theirs[0]),
    ):
        _booking(cast, team, server, served=served)

    # Lines that are not points awarded: a redemption and a correction.
    with time_machine.travel(INSIDE, tick=False):
        PointEntry.objects.create(volunteer=ours[0], kind="correction", points=50, reason="补录")
        PointEntry.objects.create(volunteer=ours[0], kind="redemption", points=-5, reason="兑换")

    # Needs matched, and one still open.
    _need(cast, cast.community, cast.committee, matched=INSIDE, taken_by=court)
    _need(cast, cast.community, cast.committee, matched=BEFORE, taken_by=court)
    _need(cast, cast.other_community, cast.other_committee, matched=LATE, taken_by=tax)
    _need(cast, cast.other_community, cast.other_committee, matched=moment(3, 2), taken_by=cast.department)
    Need.objects.create(
        community=cast.community, posted_by=cast.committee, created_by=cast.community_clerk, kind="resource", title="x"
    )

    # Joint meetings: February's is outside the period.
    _meeting(cast, cast.community, cast.committee, datetime.date(2026, 3, 5), [court], [court, court, None])
    _meeting(cast, cast.community, cast.committee, datetime.date(2026, 2, 5), [court], [court])
    _meeting(cast, cast.other_community, cast.other_committee, datetime.date(2026, 3, 31), [tax], [tax])
    _meeting(cast, cast.other_community, cast.other_committee, datetime.date(2026, 3, 6), [], [])
    return World(cast=cast, court=court, tax=tax, third=third)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        yield build()
        transaction.set_rollback(True)


# --- the independent count: every row, one at a time ------------------------------------------------


def inside(moment_or_day):
    if moment_or_day is None:
        return False
    day = moment_or_day
    if isinstance(moment_or_day, datetime.datetime):
        day = timezone.localtime(moment_or_day, SHANGHAI).date()
    return FIRST <= day <= LAST


def expected_places(prefix, length):
    """{child code (or a shorter code for a row above every child): {figure: value}}."""
    counts = defaultdict(lambda: {name: Decimal(0) if name == "hours" else 0 for name in FIGURES})

    def add(code, figure, value=1):
        if code.startswith(prefix):
            counts[code[:length]][figure] += value

    for task in Task.objects.select_related("region"):
        if inside(task.created_at):
            add(task.region.code, "tasks_published")
        if task.state == "done" and inside(task.confirmed_at):
            add(task.region.code, "tasks_done")
    for signup in Signup.objects.select_related("task__region"):
        if signup.state == "confirmed" and inside(signup.confirmed_at):
            add(signup.task.region.code, "hours", signup.hours)
    for booking in Booking.objects.select_related("day__service__team__home"):
        if booking.state == "done" and inside(booking.done_at):
            add(booking.day.service.team.home.code, "bookings_served")
    for entry in PointEntry.objects.select_related("signup__task__region", "booking__day__service__team__home"):
        if entry.kind in ("task", "booking") and entry.points > 0 and inside(entry.created_at):
            place = entry.signup.task.region if entry.signup else entry.booking.day.service.team.home
            add(place.code, "points", entry.points)
    for need in Need.objects.select_related("community"):
        if inside(need.matched_at):
            add(need.community.code, "needs_matched")
    return counts


def expected_agencies(prefix):
    agencies = {}
    for pairing in Pairing.objects.select_related("agency", "community"):
        if pairing.community.code.startswith(prefix) and pairing.agency.kind == "agency":
            agencies[pairing.agency.code] = {"needs": 0, "problems": 0, "meetings": 0, "tasks_done": 0}
    for need in Need.objects.select_related("taken_by", "community"):
        if need.taken_by and need.taken_by.code in agencies and need.community.code.startswith(prefix):
            agencies[need.taken_by.code]["needs"] += inside(need.matched_at)
    for meeting in Meeting.objects.select_related("community").prefetch_related("attendees", "problems__agency"):
        if not (meeting.community.code.startswith(prefix) and inside(meeting.held_on)):
            continue
        for unit in meeting.attendees.all():
            agencies[unit.code]["meetings"] += 1
        for problem in meeting.problems.all():
            if problem.agency:
                agencies[problem.agency.code]["problems"] += 1
    for task in Task.objects.select_related("addressed_to", "region"):
        if task.addressed_to and task.addressed_to.code in agencies and task.region.code.startswith(prefix):
            agencies[task.addressed_to.code]["tasks_done"] += task.state == "done" and inside(task.confirmed_at)
    return agencies


def shown(answer):
    context = answer.context
    cards = {card["key"]: card["value"] for card in context["cards"]}
    children = {row["place"].code: {cell["key"]: cell["value"] for cell in row["cells"]} for row in context["children"]}
    agencies = {
        row["agency"].code: {cell["key"]: cell["value"] for cell in row["cells"]} for row in context["agencies"]
    }
    return cards, children, agencies


def check_place(client, code, length, child_codes):
    answer = client.get(f"/dashboards/social/{code}/", PERIOD)
    assert answer.status_code == 200
    cards, children, agencies = shown(answer)
    counts = expected_places(code, length)
    total = {name: sum(values[name] for values in counts.values()) for name in FIGURES}
    assert cards == total
    assert sorted(children) == child_codes
    for child, figures in children.items():
        assert figures == counts.get(child, dict.fromkeys(FIGURES, 0)), child
    assert agencies == expected_agencies(code)
    return answer, total


def test_the_district_streets_and_communities_match_an_independent_count(client, world):
    client.force_login(world.cast.official)
    streets = sorted([world.cast.street.code, world.cast.other_street.code])
    answer, total = check_place(client, world.cast.district.code, 9, streets)
    # The world is not empty where it matters: every figure has something to count.
    assert all(total[name] for name in FIGURES), total
    assert f'data-kpi="hours">{total["hours"].normalize():f}<' in answer.text
    assert f"/dashboards/social/{world.cast.street.code}/?period=custom" in answer.text
    communities = sorted([world.cast.community.code, world.third.code])
    check_place(client, world.cast.street.code, 12, communities)
    check_place(client, world.cast.other_street.code, 12, [world.cast.other_community.code])
    answer, _total = check_place(client, world.cast.community.code, 12, [])
    assert answer.context["child_level"] is None


def test_the_figures_by_hand_for_the_district(client, world):
    """The count above, worked by hand once, so that both cannot be wrong the same way."""
    client.force_login(world.cast.dispatcher)
    cards, children, agencies = shown(client.get(f"/dashboards/social/{world.cast.district.code}/", PERIOD))
    assert cards == {
        "tasks_published": 5,  # INSIDE ×3, LATE, 3 March; not the two of February
        "tasks_done": 4,  # 12 March, 1 March 00:10, LATE, 20 March; not BEFORE nor 1 April
        "hours": Decimal("24"),  # 2.5+3+1, 4, 1.5+6, 3+3
        "bookings_served": 3,
        "points": 240 + 15,  # 24 hours × 10, three bookings × 5; not the correction
        "needs_matched": 3,
    }
    assert children[world.cast.street.code]["tasks_done"] == 3
    assert agencies == {
        "A-COURT": {"needs": 1, "problems": 2, "meetings": 1, "tasks_done": 1},
        "A-TAX": {"needs": 1, "problems": 1, "meetings": 1, "tasks_done": 1},
    }


def test_the_page_costs_the_same_queries_for_the_district_and_a_street(client, world, django_assert_num_queries):
    client.force_login(world.cast.official)
    client.get(f"/dashboards/social/{world.cast.district.code}/", PERIOD)
    # Session, user, postings, the place, the roots, five grouped figures (the tasks published
    # and done in one), the children, the agencies and their four counts, the unread badge; and
    # below the district, the places above for the crumbs. The same for two streets or twenty.
    for code, queries in ((world.cast.district.code, 17), (world.cast.street.code, 18)):
        with django_assert_num_queries(queries):
            assert client.get(f"/dashboards/social/{code}/", PERIOD).status_code == 200


def test_who_sees_which_place(client, world):
    cast = world.cast
    client.force_login(cast.street_clerk)
    assert client.get("/dashboards/social/").url == f"/dashboards/social/{cast.street.code}/"
    assert client.get(f"/dashboards/social/{cast.community.code}/").status_code == 200
    for code in (cast.district.code, cast.other_street.code, cast.other_community.code, "999999"):
        assert client.get(f"/dashboards/social/{code}/").status_code == 404
    client.force_login(cast.community_clerk)
    assert client.get("/dashboards/social/").url == f"/dashboards/social/{cast.community.code}/"
    assert client.get(f"/dashboards/social/{cast.street.code}/").status_code == 404
    for person in (cast.dept_clerk, cast.gridworker):
        client.force_login(person)
        assert client.get("/dashboards/social/").status_code == 404
        assert client.get(f"/dashboards/social/{cast.district.code}/").status_code == 404
    # A bad range is an error on the page, not a crash.
    client.force_login(cast.official)
    answer = client.get(f"/dashboards/social/{cast.district.code}/", {"period": "custom", "from": "2026-04-01"})
    assert answer.status_code == 200 and 'data-error-for="to"' in answer.text
