"""Working time: office hours on China's working days, and deadline arithmetic over them.

A working day is Monday–Friday unless a `WorkCalendarDay` row says otherwise (a statutory holiday
on a weekday, or a weekend day worked instead, 调休). Office hours are the `WorkPeriod` rows, read
as Asia/Shanghai wall-clock times. `WorkCalendar.load()` reads both tables once; the arithmetic
after that never touches the database, and it walks over days, never minutes.

Internally every moment is a local date plus microseconds since local midnight, and every amount
is an integer number of microseconds, so that adding in two steps gives exactly the same moment as
adding the sum, and no float rounding moves a deadline.
"""

import bisect
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_CEILING, Decimal
from zoneinfo import ZoneInfo

import chinese_calendar
from django.db import connection, transaction
from django.utils.translation import gettext as _

from deadlines.models import LimitUnit, WorkCalendarDay, WorkPeriod

# Office hours and holidays are Chinese wall-clock time whatever the server's zone is. Shanghai has
# had no daylight saving time since 1991, so local wall-clock arithmetic is exact.
TZ = ZoneInfo("Asia/Shanghai")

# Used when no WorkPeriod rows exist: the usual government office hours.
DEFAULT_PERIODS = ((time(8, 30), time(12)), (time(13), time(17)))

SECOND = 1_000_000  # microseconds
HOUR = 3600 * SECOND

# chinese_calendar names holidays in English; the rows show what people here call them.
HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    # 2015-09-03/04: the one-off holiday for the 70th anniversary of victory in the war.
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}
MAKE_UP_NOTE = "调休上班"


class YearNotCovered(ValueError):
    """A year outside what the chinese-calendar package knows: its exceptions must be entered by
    hand (the State Council publishes each year's arrangement in November)."""


def _micros(value: time) -> int:
    return ((value.hour * 60 + value.minute) * 60 + value.second) * SECOND + value.microsecond


def _local(moment: datetime) -> tuple[date, int]:
    """(local date, microseconds since local midnight) of an aware datetime."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a time zone-aware datetime is required, got {moment}")
    local = moment.astimezone(TZ)
    return local.date(), _micros(local.timetz())


def _moment(day: date, micros: int) -> datetime:
    return datetime.combine(day, time(), tzinfo=TZ) + timedelta(microseconds=micros)


def _amount(amount) -> Decimal:
    """A non-negative, finite amount as an exact Decimal (a float through its shortest repr, so
    0.1 means 0.1)."""
    if isinstance(amount, bool) or not isinstance(amount, int | float | Decimal):
        raise TypeError(f"an amount must be a number, got {amount!r}")
    value = Decimal(str(amount)) if isinstance(amount, float) else Decimal(amount)
    if not value.is_finite() or value < 0:
        raise ValueError(f"an amount must be zero or more, got {amount}")
    return value


def _whole_micros(value: Decimal) -> int:
    # Rounded up: the deadline is the earliest moment at which *at least* the amount has elapsed.
    return int(value.to_integral_value(rounding=ROUND_CEILING))


class WorkCalendar:
    """Office hours and working days, and the arithmetic of working time over them.

    Built by `load()` from the database, or directly for tests:
    `WorkCalendar(periods=DEFAULT_PERIODS, exceptions={date(2026, 10, 1): False})`.
    """

    def __init__(self, *, periods=DEFAULT_PERIODS, exceptions=None):
        spans = sorted((_micros(start), _micros(end)) for start, end in periods)
        if not spans:
            raise ValueError("office hours need at least one period")
        # Overlapping or touching periods (two admins adding the same hours) are merged, so that
        # no minute is counted twice.
        merged = []
        for start, end in spans:
            if end <= start:
                raise ValueError("an office period must end after it starts")
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self.periods = [(start, end) for start, end in merged]
        # Working microseconds elapsed on a working day at the start of each period.
        self._before = []
        elapsed = 0
        for start, end in self.periods:
            self._before.append(elapsed)
            elapsed += end - start
        self.day_length = elapsed
        self.exceptions = dict(exceptions or {})
        self._exception_dates = sorted(self.exceptions)

    @classmethod
    def load(cls) -> "WorkCalendar":
        """The calendar in the database, in two queries."""
        periods = list(WorkPeriod.objects.values_list("start", "end"))
        exceptions = dict(WorkCalendarDay.objects.values_list("date", "is_workday"))
        return cls(periods=periods or DEFAULT_PERIODS, exceptions=exceptions)

    def __repr__(self):
        def clock(micros):
            return f"{micros // HOUR:02d}:{micros % HOUR // (60 * SECOND):02d}"

        hours = ", ".join(f"{clock(start)}–{clock(end)}" for start, end in self.periods)
        return f"<WorkCalendar {hours}; {len(self.exceptions)} exceptions>"

    # Days

    def is_workday(self, day: date) -> bool:
        """Whether office hours apply on `day` (a date, or an aware datetime's Shanghai date)."""
        if isinstance(day, datetime):
            day = _local(day)[0]
        return self.exceptions.get(day, day.weekday() < 5)

    def workdays_between(self, first: date, last: date) -> int:
        """The number of working days in [first, last): weekdays counted by arithmetic, then
        corrected by the exceptions in the range (found by bisection, never a loop over days)."""
        if last <= first:
            return 0
        weeks, rest = divmod((last - first).days, 7)
        count = weeks * 5 + sum((first.weekday() + i) % 7 < 5 for i in range(rest))
        lo = bisect.bisect_left(self._exception_dates, first)
        hi = bisect.bisect_left(self._exception_dates, last)
        for day in self._exception_dates[lo:hi]:
            count += self.exceptions[day] - (day.weekday() < 5)
        return count

    # Within one day

    def _elapsed(self, micros: int) -> int:
        """Working microseconds of a working day elapsed at `micros` after midnight."""
        elapsed = 0
        for start, end in self.periods:
            if micros <= start:
                break
            elapsed += min(micros, end) - start
        return elapsed

    def _at(self, elapsed: int) -> int:
        """The earliest time of day (microseconds after midnight) at which `elapsed` > 0 working
        microseconds have gone by: a period's end, not the next one's start, when it falls between
        them."""
        for (start, end), before in zip(self.periods, self._before, strict=True):
            if elapsed <= before + end - start:
                return start + elapsed - before
        raise AssertionError("elapsed beyond the working day")

    # Arithmetic

    def add(self, start: datetime, amount, unit: str) -> datetime:
        """The moment `amount` of `unit` (a `LimitUnit` value) after `start`, in Asia/Shanghai.

        Calendar hours are plain elapsed time. Working hours count only office time: the result is
        the earliest moment at which that much office time has elapsed since `start` (a start
        outside office hours counts from the next period). A working day is one working day's
        office time, so 1 working day from Monday 10:00 is Tuesday 10:00.
        """
        unit = LimitUnit(unit)
        value = _amount(amount)
        _local(start)  # refuses a naive datetime
        if unit == LimitUnit.CALENDAR_HOURS:
            moment = start.astimezone(UTC) + timedelta(microseconds=_whole_micros(value * HOUR))
            return moment.astimezone(TZ)
        if value == 0:
            return start.astimezone(TZ)
        per = HOUR if unit == LimitUnit.WORKING_HOURS else self.day_length
        return self._add_working(start, _whole_micros(value * per))

    def _add_working(self, start: datetime, needed: int) -> datetime:
        day, micros = _local(start)
        if self.is_workday(day):
            elapsed = self._elapsed(micros)
            if needed <= self.day_length - elapsed:
                return _moment(day, self._at(elapsed + needed))
            needed -= self.day_length - elapsed
        # A week that the remaining time outlasts is jumped whole (its working days are counted
        # by arithmetic), so 15 working days or an 8-day Spring Festival cost a few steps.
        day += timedelta(days=1)
        while True:
            week = self.workdays_between(day, day + timedelta(days=7)) * self.day_length
            if needed > week:
                needed -= week
                day += timedelta(days=7)
                continue
            if self.is_workday(day):
                if needed <= self.day_length:
                    return _moment(day, self._at(needed))
                needed -= self.day_length
            day += timedelta(days=1)

    def working_seconds_between(self, start: datetime, end: datetime) -> float:
        """Office-time seconds in [start, end); negative when `end` is before `start`."""
        return self._working_micros(start, end) / SECOND

    def _working_micros(self, start: datetime, end: datetime) -> int:
        first, first_micros = _local(start)
        last, last_micros = _local(end)
        if (last, last_micros) < (first, first_micros):
            return -self._working_micros(end, start)
        done_first = self._elapsed(first_micros) if self.is_workday(first) else 0
        done_last = self._elapsed(last_micros) if self.is_workday(last) else 0
        return self.workdays_between(first, last) * self.day_length - done_first + done_last


def _take_turns(name: str) -> None:
    # Two seeds at once would both see a row missing and both insert it (the calendar) or both see
    # no office hours and create them twice. A transaction-scoped advisory lock makes them take
    # turns; the second then finds the first one's rows. (Same lock as routing.services' loads.)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [name])


def _covered_years() -> list[int]:
    return sorted({day.year for day in chinese_calendar.holidays} | {day.year for day in chinese_calendar.workdays})


def calendar_seed(*, years=None) -> dict:
    """Add the calendar exceptions chinese-calendar knows for `years` (default: every year it
    covers): weekday holidays as non-working days, worked weekend days (调休) as working days.

    Keeps: a date that already has a row is never changed, because an admin may have corrected it;
    running twice creates nothing the second time. Returns {"created": n, "kept": n}.
    """
    covered = _covered_years()
    years = covered if years is None else sorted(set(years))
    missing = [year for year in years if year not in covered]
    if missing:
        raise YearNotCovered(
            _(
                "the chinese-calendar package covers %(first)d–%(last)d, not %(years)s; "
                "enter that year's holidays and worked weekends in the admin"
            )
            % {"first": covered[0], "last": covered[-1], "years": ", ".join(map(str, missing))}
        )
    wanted = {}
    for day, name in chinese_calendar.holidays.items():
        if day.year in years and day.weekday() < 5:
            wanted[day] = WorkCalendarDay(date=day, is_workday=False, note=HOLIDAY_NAMES.get(name, name)[:50])
    for day, name in chinese_calendar.workdays.items():
        if day.year in years and day.weekday() >= 5:
            note = f"{MAKE_UP_NOTE}（{HOLIDAY_NAMES.get(name, name)}）" if name else MAKE_UP_NOTE
            wanted[day] = WorkCalendarDay(date=day, is_workday=True, note=note[:50])
    with transaction.atomic():
        _take_turns("routing.calendar_seed")
        existing = set(WorkCalendarDay.objects.filter(date__in=wanted).values_list("date", flat=True))
        rows = [row for day, row in sorted(wanted.items()) if day not in existing]
        WorkCalendarDay.objects.bulk_create(rows)
    return {"created": len(rows), "kept": len(existing)}


def office_hours_seed() -> int:
    """Create the default office hours (08:30–12:00, 13:00–17:00) when there are none; returns how
    many periods were created. Existing office hours are never touched."""
    with transaction.atomic():
        _take_turns("routing.office_hours_seed")
        if WorkPeriod.objects.exists():
            return 0
        WorkPeriod.objects.bulk_create(WorkPeriod(start=start, end=end) for start, end in DEFAULT_PERIODS)
    return len(DEFAULT_PERIODS)
