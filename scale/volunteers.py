"""`manage.py generate_tasks` (`make bench`): volunteer tasks (任务发布) at scale, over the demo's
teams and volunteers (`load_demo`: 261 teams, 10,000 volunteers), loaded with COPY.

Each task has a publisher (a community committee seven times in ten, a street office or a
department otherwise), a place in the publisher's area (the community, or one of its grids), a
time window of two to four hours on a day of the span (a year before the end moment and a month
after it), skills, the people wanted (2 to 20, mostly few) and its sign-ups, drawn from the members
of the teams that serve the place. Tasks that ended more than two days before the end are
confirmed (nine in ten: the sign-ups confirmed with their hours and points lines, or absent) or
cancelled (the sign-ups withdrawn); those of the last two days await the publisher's confirmation
(checked out); the later ones are open (signed up), one in ten addressed to the community's own
team. `taken` counts the live sign-ups, as the sign-up service keeps it.

Bookings (预约服务) of the teams' standing services (the demo's four: 200 places a day) over the
same span, up to the booking window ahead: at 100,000 tasks a day's places are 55% to 95% taken
(fewer the further ahead), fewer tasks fewer in proportion. Past days' bookings were served (nine
in ten, by a member of the service's team, with the booking rule's points line at that moment) or
cancelled; today's are booked, confirmed or served; later ones booked or confirmed. Each day
booked has its `ServiceDay` with the places taken. Days a service already has (the demo's
bookings of tomorrow) are left alone.

What the scale bench (`scale/bench.py`, the scenarios volunteer_tasks, publisher_tasks, tasks_api,
teams_api, points_ranking, my_points, team_bookings and social_dashboard) reads: the task list a
volunteer sees, a publisher's list, the teams, the points ledger and rankings, a team's bookings
of a day, the social-forces dashboard.
"""

import datetime
import random
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from grids.models import Region
from units.models import Membership, Unit
from volunteers.bookings import BOOKING_WINDOW_DAYS
from volunteers.models import Booking, Service, ServiceDay, Task, Team, TeamMember, Volunteer
from volunteers.points import DEFAULT_RULES
from volunteers.teams_demo import SKILLS

LARGEST = 10_000_000
SPAN_DAYS = 365
AHEAD_DAYS = 30
AWAITING_DAYS = 2  # tasks that ended this recently still wait for the publisher's confirmation
CHUNK = 10_000
TITLES = (
    "楼道杂物清理",
    "垃圾分类宣传",
    "独居老人探访",
    "爱心午餐送餐",
    "文明交通劝导",
    "汛期河道巡查",
    "小广告清理",
    "反诈骗宣传",
    "义诊进社区",
    "绿化补植",
    "冬季清雪",
    "政策宣讲",
    "消防安全检查",
    "环境卫生整治",
)
WANTED = (2, 2, 3, 3, 4, 5, 6, 8, 10, 15, 20)
PER_HOUR = DEFAULT_RULES["task_hour"]
EMERGENCY_PER_HOUR = DEFAULT_RULES["emergency"]
TASK_COLUMNS = [
    "id",
    "title",
    "description",
    "source",
    "publisher_id",
    "created_by_id",
    "region_id",
    "address",
    "starts",
    "ends",
    "deadline",
    "skills",
    "wanted",
    "taken",
    "emergency",
    "addressed_to_id",
    "state",
    "created_at",
    "confirmed_at",
]
SIGNUP_COLUMNS = [
    "id",
    "task_id",
    "volunteer_id",
    "state",
    "signed_at",
    "checked_in_at",
    "checked_out_at",
    "photo",
    "hours",
    "confirmed_at",
]
POINT_COLUMNS = ["volunteer_id", "kind", "points", "reason", "signup_id", "created_by_id", "created_at", "place_code"]
BOOKING_POINT_COLUMNS = [
    "volunteer_id", "kind", "points", "reason", "booking_id", "created_by_id", "created_at", "place_code"
]  # fmt: skip
SERVICE_DAY_COLUMNS = ["id", "service_id", "day", "capacity", "booked"]
BOOKING_COLUMNS = [
    "id",
    "day_id",
    "resident_name",
    "resident_phone",
    "address",
    "booked_by_id",
    "served_by_id",
    "state",
    "created_at",
    "done_at",
]
PER_BOOKING = DEFAULT_RULES["booking"]
BOOKINGS_FULL_AT = 100_000  # tasks: at this size (and above) a day's places are BOOKING_FILL taken
BOOKING_FILL = (0.55, 0.95)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
GIVEN = ("淑芬", "德胜", "桂兰", "玉珍", "国华", "秀英", "志强", "凤兰", "建军", "文明", "丽华", "永生")


class TasksRefused(Exception):
    """The tasks cannot be generated here: the message says why."""


def check_size(text) -> int:
    try:
        size = int(str(text).replace("_", ""))
    except ValueError:
        raise TasksRefused(f"size must be a whole number of tasks, like 100000; got {text!r}") from None
    if not 1 <= size <= LARGEST:
        raise TasksRefused(f"size must be between 1 and {LARGEST:,}; got {size:,}")
    return size


def tasks_reset():
    """Delete every task, its sign-ups, every booking and their points lines."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM volunteers_pointentry WHERE signup_id IS NOT NULL OR booking_id IS NOT NULL")
        cursor.execute("DELETE FROM volunteers_booking")
        cursor.execute("DELETE FROM volunteers_serviceday")
        cursor.execute("UPDATE volunteers_meetingproblem SET task_id = NULL WHERE task_id IS NOT NULL")
        cursor.execute("DELETE FROM volunteers_signup")
        cursor.execute("DELETE FROM volunteers_task")
        cursor.execute("DELETE FROM volunteers_campaign")


class _World:
    """What the tasks are drawn from, read once."""

    def __init__(self, rng):
        communities = list(
            Region.objects.filter(level=Region.Level.COMMUNITY).order_by("code").values_list("pk", "code", "name")
        )
        if not communities:
            raise TasksRefused("no communities: load the demo first (manage.py load_demo)")
        self.community_ids = {code: pk for pk, code, _name in communities}
        self.community_names = {code: name for _pk, code, name in communities}
        self.codes = {pk: code for pk, code, _name in communities}
        self.grids = defaultdict(list)
        for pk, code in Region.objects.filter(level=Region.Level.GRID).values_list("pk", "code"):
            self.grids[code[:12]].append(pk)
            self.codes[pk] = code
        people = defaultdict(list)
        for unit_id, user_id in Membership.objects.filter(unit__is_active=True).values_list("unit_id", "user_id"):
            people[unit_id].append(user_id)
        fallback = User.objects.filter(is_superuser=True).values_list("pk", flat=True).first()
        units = Unit.objects.filter(is_active=True).values_list("pk", "kind", "region__code")
        self.committees, self.offices, self.departments = [], [], []
        for pk, kind, region in units:
            if kind == Unit.Kind.COMMITTEE and region in self.community_ids:
                self.committees.append((pk, region))
            elif kind == Unit.Kind.STREET_OFFICE and region:
                self.offices.append((pk, region))
            elif kind == Unit.Kind.DEPARTMENT:
                self.departments.append((pk, None))
        self.people = {
            pk: people.get(pk) or [fallback] for pk, *_r in self.committees + self.offices + self.departments
        }
        if not self.committees or not any(self.people.values()) or None in {p[0] for p in self.people.values()}:
            raise TasksRefused("the units have no people: load the demo first (manage.py load_demo)")
        self.in_street = defaultdict(list)
        for code in self.community_ids:
            self.in_street[code[:9]].append(code)
        # Who may sign up where: the members of the teams serving a community, its street, the district.
        serving = defaultdict(set)
        for area, volunteer in TeamMember.objects.values_list("team__area__code", "volunteer_id"):
            serving[area].add(volunteer)
        if not serving:
            raise TasksRefused("no volunteers: load the demo first (manage.py load_demo)")
        district = sorted(set().union(*(serving[code] for code in serving if len(code) == 6)))
        self.pool = {}
        for code in self.community_ids:
            near = serving.get(code, set()) | serving.get(code[:9], set())
            self.pool[code] = sorted(near) or district or sorted(set().union(*serving.values()))
        self.team_units = dict(Team.objects.filter(level=Team.Level.COMMUNITY).values_list("home__code", "unit_id"))
        self.rng = rng

    def publisher(self):
        roll, rng = self.rng.random(), self.rng
        if roll < 0.7 or not (self.offices or self.departments):
            unit, community = rng.choice(self.committees)
        elif roll < 0.85 and self.offices:
            unit, street = rng.choice(self.offices)
            community = rng.choice(self.in_street.get(street) or list(self.community_ids))
        else:
            unit, _none = rng.choice(self.departments or self.committees)
            community = rng.choice(list(self.community_ids))
        return unit, community


def _hours(start, end) -> Decimal:
    return (Decimal((end - start).total_seconds()) / 3600).quantize(Decimal("0.5"), rounding=ROUND_HALF_UP)


def _next_ids(cursor, table, count) -> int:
    """The first of `count` ids taken from `table`'s sequence, so that COPY can name its rows."""
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
        f"(SELECT coalesce(max(id), 0) FROM {table}) + %s) - %s + 1",
        [count, count],
    )
    return cursor.fetchone()[0]


@transaction.atomic
def tasks_generate(*, size: int, seed: int = 1, end: datetime.datetime | None = None, reset=False, say=print) -> dict:
    """Add `size` tasks with their sign-ups and points lines (see the module's docstring), beside
    the tasks already there (the demo's own), or instead of them with `reset`; answers the rows
    written per table. The bookings follow the tasks, drawn from the same generator, so a seed
    gives the same tasks with or without them."""
    if reset:
        tasks_reset()
    rng = random.Random(seed)
    world = _World(rng)
    end = end or timezone.now()
    local = timezone.get_current_timezone()
    first_day = (end - datetime.timedelta(days=SPAN_DAYS)).astimezone(local).date()
    days = SPAN_DAYS + AHEAD_DAYS
    awaiting_from = end - datetime.timedelta(days=AWAITING_DAYS)
    counts = {"tasks": 0, "signups": 0, "points": 0}
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        task_id = _next_ids(cursor, "volunteers_task", size)
        for start in range(0, size, CHUNK):
            chunk = min(CHUNK, size - start)
            tasks, signups, points = [], [], []
            signup_budget = chunk * max(WANTED)
            signup_id = _next_ids(cursor, "volunteers_signup", signup_budget)
            for _i in range(chunk):
                unit, community = world.publisher()
                actor = rng.choice(world.people[unit])
                grids = world.grids.get(community)
                region = rng.choice(grids) if grids and rng.random() < 0.5 else world.community_ids[community]
                day = first_day + datetime.timedelta(days=rng.randrange(days))
                starts = datetime.datetime.combine(day, datetime.time(rng.randrange(8, 18), rng.choice((0, 30))), local)
                ends = starts + datetime.timedelta(hours=rng.choice((2, 2, 3, 4)))
                created = min(starts - datetime.timedelta(days=rng.randrange(2, 10)), end)
                wanted = rng.choice(WANTED)
                emergency = rng.random() < 0.03
                addressed = world.team_units.get(community) if rng.random() < 0.1 else None
                title = f"{world.community_names[community]}{rng.choice(TITLES)}"
                if ends < awaiting_from:
                    state = Task.State.DONE if rng.random() < 0.9 else Task.State.CANCELLED
                else:
                    state = Task.State.OPEN
                confirmed_at = ends + datetime.timedelta(hours=rng.randrange(1, 30)) if state == "done" else None
                confirmed_at = min(confirmed_at, end) if confirmed_at else None
                pool = world.pool[community]
                if state == Task.State.OPEN and starts > end:
                    count = rng.randrange(0, wanted + 1) if created < end else 0
                else:
                    count = rng.randrange(max(1, wanted // 2), wanted + 1)
                chosen = rng.sample(pool, min(count, len(pool)))
                taken = 0
                for volunteer in chosen:
                    signed_at = created + datetime.timedelta(minutes=rng.randrange(10, 60 * 24))
                    signed_at = min(signed_at, starts, end)
                    checked_in = checked_out = hours = confirmed = None
                    if state == Task.State.CANCELLED:
                        signup_state = "withdrawn"
                    elif state == Task.State.DONE:
                        if rng.random() < 0.92:
                            signup_state = "confirmed"
                            checked_in = starts + datetime.timedelta(minutes=rng.randrange(-20, 15))
                            checked_out = ends + datetime.timedelta(minutes=rng.randrange(-15, 30))
                            hours, confirmed = _hours(checked_in, checked_out), confirmed_at
                        else:
                            signup_state = "absent"
                    elif starts <= end:
                        signup_state = "checked_out" if ends <= end else "checked_in"
                        checked_in = starts + datetime.timedelta(minutes=rng.randrange(-20, 15))
                        checked_out = ends if ends <= end else None
                    else:
                        signup_state = "signed"
                    taken += signup_state in ("signed", "checked_in", "checked_out", "confirmed")
                    signups.append(
                        (signup_id, task_id, volunteer, signup_state, signed_at, checked_in, checked_out, "", hours,
                         confirmed)
                    )  # fmt: skip
                    if signup_state == "confirmed":
                        per_hour = PER_HOUR + (EMERGENCY_PER_HOUR if emergency else 0)
                        earned = int((hours * per_hour).quantize(Decimal(1), rounding=ROUND_HALF_UP))
                        points.append(
                            (volunteer, "task", earned, title[:200], signup_id, actor, confirmed, world.codes[region])
                        )
                    signup_id += 1
                tasks.append(
                    (task_id, title, "", Task.Source.OWN, unit, actor, region, "", starts, ends,
                     starts - datetime.timedelta(hours=rng.choice((2, 12, 24))), rng.sample(SKILLS, rng.choice((1, 2))),
                     wanted, taken, emergency, addressed, state, created, confirmed_at)
                )  # fmt: skip
                task_id += 1
            for table, columns, rows in (
                ("volunteers_task", TASK_COLUMNS, tasks),
                ("volunteers_signup", SIGNUP_COLUMNS, signups),
                ("volunteers_pointentry", POINT_COLUMNS, points),
            ):
                names = ", ".join(f'"{column}"' for column in columns)
                with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            counts["tasks"] += len(tasks)
            counts["signups"] += len(signups)
            counts["points"] += len(points)
            say(f"tasks {start + chunk:,}/{size:,}, sign-ups {counts['signups']:,}")
        for name, count in _bookings_generate(cursor, world, size=size, first_day=first_day, end=end).items():
            counts[name] = counts.get(name, 0) + count
        say(f"bookings {counts['bookings']:,} on {counts['service_days']:,} service days")
        written = ("volunteers_task", "volunteers_signup", "volunteers_pointentry", "volunteers_serviceday",
                   "volunteers_booking")  # fmt: skip
        # And the demo's tables the social pages join them to, written just before by load_demo:
        # without their statistics (autovacuum may not have run yet, or be off) PostgreSQL takes
        # every place code prefix for a handful of places and walks all tasks place by place.
        read = (Region, Unit, Membership, Team, TeamMember, Volunteer, Service, User)
        for table in (*written, *(model._meta.db_table for model in read)):
            cursor.execute(f"ANALYZE {table}")
    return counts


def _copy(cursor, table, columns, rows):
    names = ", ".join(f'"{column}"' for column in columns)
    with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _bookings_generate(cursor, world, *, size, first_day, end) -> dict:
    """The bookings of every active service from `first_day` to the booking window after `end`
    (the module's docstring), with their service days and points lines, by COPY."""
    rng, local = world.rng, timezone.get_current_timezone()
    today = end.astimezone(local).date()
    scale = min(1.0, size / BOOKINGS_FULL_AT)
    services = list(Service.objects.filter(is_active=True).select_related("team__area", "team__home").order_by("pk"))
    taken_days = set(ServiceDay.objects.values_list("service_id", "day"))
    staff = defaultdict(list)
    for unit_id, user_id in Membership.objects.filter(unit__in=[s.team.unit_id for s in services]).values_list(
        "unit_id", "user_id"
    ):
        staff[unit_id].append(user_id)
    members = defaultdict(list)
    for team_id, volunteer_id in TeamMember.objects.filter(team__in=[s.team_id for s in services]).values_list(
        "team_id", "volunteer_id"
    ):
        members[team_id].append(volunteer_id)
    days, bookings, points = [], [], []
    for service in services:
        area = service.team.area.code if service.team.area_id else ""
        clerks = [(unit, code) for unit, code in world.committees if code.startswith(area)] or world.committees
        recorders = staff.get(service.team.unit_id) or [world.people[clerks[0][0]][0]]
        serving = sorted(members.get(service.team_id, []))
        day = first_day
        while day <= today + datetime.timedelta(days=BOOKING_WINDOW_DAYS):
            ahead = (day - today).days
            fill = rng.uniform(*BOOKING_FILL) * scale * (1 - max(ahead, 0) / (BOOKING_WINDOW_DAYS + 1))
            wanted = service.capacity * fill
            count = min(service.capacity, int(wanted) + (rng.random() < wanted % 1))
            if count and (service.pk, day) not in taken_days:
                live = 0
                for _i in range(count):
                    unit, community = rng.choice(clerks)
                    booked_at = datetime.datetime.combine(
                        day - datetime.timedelta(days=rng.randrange(0, BOOKING_WINDOW_DAYS)),
                        datetime.time(rng.randrange(8, 18), rng.randrange(60)),
                        local,
                    )
                    booked_at = min(booked_at, end)
                    served_at = datetime.datetime.combine(
                        day, datetime.time(rng.randrange(10, 15), rng.randrange(60)), local
                    )
                    roll = rng.random()
                    if ahead < 0 or (ahead == 0 and served_at <= end and roll < 0.5):
                        state = Booking.State.DONE if roll < 0.9 and serving else Booking.State.CANCELLED
                    else:
                        state = Booking.State.CONFIRMED if roll < 0.7 else Booking.State.BOOKED
                    served_by = rng.choice(serving) if state == Booking.State.DONE else None
                    done_at = max(served_at, booked_at) if state == Booking.State.DONE else None
                    live += state != Booking.State.CANCELLED
                    name = rng.choice(SURNAMES) + rng.choice(GIVEN)
                    phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
                    address = f"{world.community_names[community]}{rng.randrange(1, 40)}号楼{rng.randrange(1, 7)}单元"
                    bookings.append(
                        [len(days), name, phone, address, rng.choice(world.people[unit]), served_by, state, booked_at,
                         done_at]
                    )  # fmt: skip
                    if state == Booking.State.DONE:
                        points.append(
                            (served_by, "booking", PER_BOOKING, f"{service.name} {day.isoformat()}"[:200],
                             len(bookings) - 1,
                             rng.choice(recorders), done_at, service.team.home.code)
                        )  # fmt: skip
                days.append((service.pk, day, service.capacity, live))
            day += datetime.timedelta(days=1)
    if not bookings:
        return {"service_days": 0, "bookings": 0, "points": 0}
    day_id = _next_ids(cursor, "volunteers_serviceday", len(days))
    booking_id = _next_ids(cursor, "volunteers_booking", len(bookings))
    _copy(cursor, "volunteers_serviceday", SERVICE_DAY_COLUMNS, ((day_id + i, *row) for i, row in enumerate(days)))
    _copy(
        cursor,
        "volunteers_booking",
        BOOKING_COLUMNS,
        ((booking_id + i, day_id + row[0], *row[1:]) for i, row in enumerate(bookings)),
    )
    _copy(
        cursor,
        "volunteers_pointentry",
        BOOKING_POINT_COLUMNS,
        ((*row[:4], booking_id + row[4], *row[5:]) for row in points),
    )
    return {"service_days": len(days), "bookings": len(bookings), "points": len(points)}
