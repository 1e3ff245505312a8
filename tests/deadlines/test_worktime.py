"""Working time: China's calendar (holidays and 调休) and deadline arithmetic over office hours.

The hand-checked examples use the real 2025/2026 arrangements from the chinese-calendar package;
each comment spells out the arithmetic with the default office hours 08:30–12:00 and 13:00–17:00
(7.5 hours a working day)."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from io import StringIO

import chinese_calendar
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from deadlines.models import LimitUnit, WorkCalendarDay, WorkPeriod
from deadlines.worktime import DEFAULT_PERIODS, TZ, WorkCalendar, YearNotCovered, calendar_seed, office_hours_seed

HOURS = LimitUnit.WORKING_HOURS
DAYS = LimitUnit.WORKING_DAYS
CALENDAR_HOURS = LimitUnit.CALENDAR_HOURS


def china_exceptions():
    """What calendar_seed writes: weekday holidays off, worked weekend days on."""
    off = {day: False for day in chinese_calendar.holidays if day.weekday() < 5}
    on = {day: True for day in chinese_calendar.workdays if day.weekday() >= 5}
    return off | on


CHINA = WorkCalendar(periods=DEFAULT_PERIODS, exceptions=china_exceptions())


def at(*args):
    return datetime(*args, tzinfo=TZ)


# The calendar itself


@pytest.mark.parametrize(
    ("day", "worked"),
    [
        (date(2026, 9, 30), True),  # Wednesday before National Day
        (date(2026, 10, 1), False),  # National Day, Thursday
        (date(2026, 10, 5), False),  # Monday inside the Golden Week
        (date(2026, 10, 7), False),  # last day of the holiday, Wednesday
        (date(2026, 10, 8), True),
        (date(2026, 9, 20), True),  # Sunday worked for National Day
        (date(2026, 10, 10), True),  # Saturday worked for National Day
        (date(2026, 10, 11), False),  # an ordinary Sunday
        (date(2026, 2, 14), True),  # Saturday worked for Spring Festival
        (date(2026, 2, 16), False),  # Spring Festival, Monday
        (date(2026, 2, 23), False),  # last day of Spring Festival, Monday
        (date(2026, 2, 24), True),
        (date(2026, 2, 28), True),  # Saturday worked for Spring Festival
        (date(2026, 1, 4), True),  # Sunday worked for New Year's Day
        (date(2025, 10, 8), False),  # National Day 2025 ran to Wednesday 8 October
        (date(2025, 10, 11), True),  # ... with Saturday 11 October worked
    ],
)
def test_working_days_follow_the_state_council_arrangement(day, worked):
    assert CHINA.is_workday(day) is worked


def test_a_year_without_exceptions_follows_the_weekday_rule():
    # 2027 is past the package: 1 October 2027 is a Friday and counts as worked until an admin
    # enters that year's arrangement.
    assert CHINA.is_workday(date(2027, 10, 1))
    assert not CHINA.is_workday(date(2027, 10, 2))


def test_is_workday_reads_an_aware_datetime_in_shanghai():
    # 16:30 UTC on 30 September is 00:30 on 1 October in Shanghai: a holiday.
    assert not CHINA.is_workday(datetime(2026, 9, 30, 16, 30, tzinfo=UTC))


def test_workdays_between_counts_the_holiday_weeks():
    # 24 September – 11 October 2026: 24 (Thu), 28–30, 8, 9, 10 (Sat) → 7; the 25th is Mid-autumn.
    assert CHINA.workdays_between(date(2026, 9, 24), date(2026, 10, 12)) == 7


# Hand-checked deadlines


def test_two_working_days_from_the_eve_of_national_day_land_on_october_9():
    # Need 15 h. Wed 30 Sep 15:00–17:00 = 2 h (13 left); 1–7 Oct holiday; Thu 8 Oct 7.5 h
    # (5.5 left); Fri 9 Oct 08:30–12:00 3.5 h + 13:00–15:00 2 h.
    assert CHINA.add(at(2026, 9, 30, 15), 2, DAYS) == at(2026, 10, 9, 15)


def test_the_saturday_after_national_day_is_a_working_day():
    # One more working day after the previous example lands on the worked Saturday.
    assert CHINA.add(at(2026, 9, 30, 15), 3, DAYS) == at(2026, 10, 10, 15)


def test_the_sunday_before_national_day_is_worked():
    # Fri 18 Sep 16:00–17:00 = 1 h; Sun 20 Sep is worked: 08:30 + 1 h.
    assert CHINA.add(at(2026, 9, 18, 16), 2, HOURS) == at(2026, 9, 20, 9, 30)


def test_two_working_days_across_spring_festival_2026():
    # Need 15 h. Fri 13 Feb 10:00–17:00 = 6 h (9 left); Sat 14 Feb is worked, 7.5 h (1.5 left);
    # 15–23 Feb holiday; Tue 24 Feb 08:30 + 1.5 h.
    assert CHINA.add(at(2026, 2, 13, 10), 2, DAYS) == at(2026, 2, 24, 10)


def test_resolution_in_seven_working_days_across_spring_festival_2026():
    # From Thu 12 Feb 09:00 the working days are 13, 14 (Sat), 24, 25, 26, 27, 28 (Sat) Feb.
    assert CHINA.add(at(2026, 2, 12, 9), 7, DAYS) == at(2026, 2, 28, 9)


def test_a_day_ends_at_the_end_of_the_office_day_not_the_next_morning():
    # Fri 27 Feb 16:00 + 1 working day: 1 h on Friday, 6.5 h on the worked Saturday 28 Feb.
    assert CHINA.add(at(2026, 2, 27, 16), 1, DAYS) == at(2026, 2, 28, 16)
    assert CHINA.add(at(2026, 3, 9, 8, 30), 1, DAYS) == at(2026, 3, 9, 17)
    assert CHINA.add(at(2026, 3, 9, 8, 30), Decimal("3.5"), HOURS) == at(2026, 3, 9, 12)


def test_one_working_day_from_monday_morning_is_tuesday_morning():
    assert CHINA.add(at(2026, 3, 9, 10), 1, DAYS) == at(2026, 3, 10, 10)


def test_one_working_day_from_friday_afternoon_is_monday_afternoon():
    assert CHINA.add(at(2026, 3, 13, 16), 1, DAYS) == at(2026, 3, 16, 16)


def test_the_lunch_break_is_skipped():
    # 11:00–12:00 = 1 h, 13:00–15:00 = 2 h.
    assert CHINA.add(at(2026, 3, 9, 11), 3, HOURS) == at(2026, 3, 9, 15)


def test_a_start_during_lunch_counts_from_one_oclock():
    assert CHINA.add(at(2026, 3, 9, 12, 20), 1, HOURS) == at(2026, 3, 9, 14)


def test_a_start_on_a_sunday_evening_counts_from_monday_morning():
    # Sun 8 Mar 2026 20:00 → Mon 9 Mar 08:30 + 2 h.
    assert CHINA.add(at(2026, 3, 8, 20), 2, HOURS) == at(2026, 3, 9, 10, 30)


def test_a_start_after_hours_on_friday_counts_from_monday():
    assert CHINA.add(at(2026, 3, 13, 18), 1, DAYS) == at(2026, 3, 16, 17)


def test_calendar_hours_ignore_office_hours_weekends_and_holidays():
    assert CHINA.add(at(2026, 9, 30, 15), 24, CALENDAR_HOURS) == at(2026, 10, 1, 15)
    assert CHINA.add(at(2026, 10, 3, 23), 2, CALENDAR_HOURS) == at(2026, 10, 4, 1)
    assert CHINA.add(at(2026, 10, 3, 23), Decimal("0.25"), CALENDAR_HOURS) == at(2026, 10, 3, 23, 15)


def test_utc_input_comes_back_in_shanghai_time():
    # 02:00 UTC is 10:00 in Shanghai.
    result = CHINA.add(datetime(2026, 3, 9, 2, tzinfo=UTC), 1, HOURS)
    assert result == at(2026, 3, 9, 11)
    assert result.tzinfo == TZ
    assert result.hour == 11
    assert CHINA.add(datetime(2026, 3, 9, 2, tzinfo=UTC), 2, CALENDAR_HOURS).hour == 12


@pytest.mark.parametrize("unit", LimitUnit.values)
def test_a_zero_amount_returns_the_start(unit):
    sunday_night = at(2026, 3, 8, 23, 59)
    assert CHINA.add(sunday_night, 0, unit) == sunday_night
    assert CHINA.add(sunday_night, Decimal("0.00"), unit) == sunday_night


def test_fractional_amounts():
    assert CHINA.add(at(2026, 3, 9, 11, 45), 0.5, HOURS) == at(2026, 3, 9, 13, 15)
    assert CHINA.add(at(2026, 3, 9, 11, 45), Decimal("0.25"), HOURS) == at(2026, 3, 9, 12)
    # Half a working day is 3 h 45 min: 08:30–12:00 and 13:00–13:15.
    assert CHINA.add(at(2026, 3, 9, 8, 30), Decimal("0.5"), DAYS) == at(2026, 3, 9, 13, 15)
    # One and a half from Monday 10:00: Tuesday 10:00, then 3 h 45 min more.
    assert CHINA.add(at(2026, 3, 9, 10), 1.5, DAYS) == at(2026, 3, 10, 14, 45)


@pytest.mark.parametrize("unit", LimitUnit.values)
def test_a_negative_amount_is_refused(unit):
    with pytest.raises(ValueError):
        CHINA.add(at(2026, 3, 9, 10), -1, unit)


def test_an_unknown_unit_or_a_naive_datetime_is_refused():
    with pytest.raises(ValueError):
        CHINA.add(at(2026, 3, 9, 10), 1, "fortnights")
    with pytest.raises(ValueError):
        CHINA.add(datetime(2026, 3, 9, 10), 1, HOURS)


def test_long_deadlines_jump_weeks():
    # 15 working days from Mon 5 Jan 2026 10:00: three plain weeks.
    assert CHINA.add(at(2026, 1, 5, 10), 15, DAYS) == at(2026, 1, 26, 10)
    # 240 h = 32 working days: 19 more in January, 10 in 2–13 Feb, Sat 14 Feb, then 24 and 25 Feb.
    assert CHINA.add(at(2026, 1, 5, 10), 240, HOURS) == at(2026, 2, 25, 10)


def test_overlapping_periods_are_counted_once():
    calendar = WorkCalendar(periods=[(time(9), time(12)), (time(11), time(13)), (time(13), time(14))])
    assert calendar.day_length == 5 * 3600 * 1_000_000
    assert calendar.add(at(2026, 3, 9, 9), 5, HOURS) == at(2026, 3, 9, 14)


# Working time between two moments


def test_working_time_between_skips_the_national_day_holiday():
    # 2 h on 30 Sep, 7.5 h on 8 Oct, 5.5 h on 9 Oct.
    assert CHINA.working_seconds_between(at(2026, 9, 30, 15), at(2026, 10, 9, 15)) == 15 * 3600


def test_working_time_between_skips_the_weekend():
    # Fri 16:00–17:00, then Mon 08:30–09:30.
    assert CHINA.working_seconds_between(at(2026, 3, 13, 16), at(2026, 3, 16, 9, 30)) == 2 * 3600


def test_working_time_between_is_negative_backwards_and_zero_at_lunch():
    assert CHINA.working_seconds_between(at(2026, 3, 16, 9, 30), at(2026, 3, 13, 16)) == -2 * 3600
    assert CHINA.working_seconds_between(at(2026, 3, 9, 12), at(2026, 3, 9, 13)) == 0
    assert CHINA.working_seconds_between(at(2026, 3, 9, 12), at(2026, 3, 9, 12)) == 0
    assert CHINA.working_seconds_between(at(2026, 2, 15), at(2026, 2, 24)) == 0


@pytest.mark.parametrize(
    ("start", "hours"),
    [
        (at(2026, 9, 30, 15), 13),
        (at(2026, 2, 13, 11, 59), Decimal("0.25")),
        (at(2026, 3, 9, 8, 30), Decimal("7.5")),
        (at(2026, 12, 31, 16), 300),
    ],
)
def test_working_time_between_undoes_add(start, hours):
    assert CHINA.working_seconds_between(start, CHINA.add(start, hours, HOURS)) == float(hours) * 3600


# Properties over 2025–2026

BOUNDARIES = [time(0), time(8, 30), time(12), time(13), time(17), time(23, 59, 59, 999_999)]
starts = st.builds(
    lambda day, clock: datetime.combine(day, clock, tzinfo=TZ),
    st.dates(date(2025, 1, 1), date(2026, 12, 31)),
    st.one_of(st.sampled_from(BOUNDARIES), st.times()),
)
hours = st.integers(0, 1200).map(lambda quarters: Decimal(quarters) / 4)
days = st.integers(0, 80).map(lambda quarters: Decimal(quarters) / 4)
amounts = st.one_of(st.tuples(hours, st.just(HOURS)), st.tuples(days, st.just(DAYS)))


def in_office_time(moment):
    local = moment.astimezone(TZ)
    # A positive amount ends inside a period or exactly at its end, never exactly at its start
    # (that moment is the previous period's end, which comes earlier).
    return CHINA.is_workday(local.date()) and any(start < local.time() <= end for start, end in DEFAULT_PERIODS)


def reference_seconds(start, end):
    """Office time in [start, end) summed day by day, period by period: slow and obvious."""
    total = timedelta()
    day = start.date()
    while day <= end.date():
        if CHINA.is_workday(day):
            for period_start, period_end in DEFAULT_PERIODS:
                low = max(start, datetime.combine(day, period_start, tzinfo=TZ))
                high = min(end, datetime.combine(day, period_end, tzinfo=TZ))
                total += max(high - low, timedelta())
        day += timedelta(days=1)
    return total.total_seconds()


@settings(max_examples=200, deadline=None)
@given(start=starts, amount=amounts, more=hours)
def test_add_is_monotonic_in_the_amount(start, amount, more):
    value, unit = amount
    assert CHINA.add(start, value, unit) <= CHINA.add(start, value + more, unit)


@settings(max_examples=200, deadline=None)
@given(first=starts, second=starts, amount=amounts)
def test_add_is_monotonic_in_the_start(first, second, amount):
    first, second = sorted([first, second])
    value, unit = amount
    assert CHINA.add(first, value, unit) <= CHINA.add(second, value, unit)


@settings(max_examples=200, deadline=None)
@given(start=starts, first=hours, second=hours)
def test_working_hours_add_up(start, first, second):
    assert CHINA.add(CHINA.add(start, first, HOURS), second, HOURS) == CHINA.add(start, first + second, HOURS)


@settings(max_examples=200, deadline=None)
@given(start=starts, first=days, second=days)
def test_working_days_add_up(start, first, second):
    assert CHINA.add(CHINA.add(start, first, DAYS), second, DAYS) == CHINA.add(start, first + second, DAYS)


@settings(max_examples=200, deadline=None)
@given(start=starts, amount=amounts)
def test_a_positive_amount_ends_in_office_time(start, amount):
    value, unit = amount
    if value > 0:
        assert in_office_time(CHINA.add(start, value, unit))


@settings(max_examples=200, deadline=None)
@given(start=starts, amount=amounts)
def test_the_working_time_to_the_result_is_the_amount(start, amount):
    # Holds from any start: one outside office hours counts from the next period.
    value, unit = amount
    per_unit = 3600 if unit == HOURS else 7.5 * 3600
    result = CHINA.add(start, value, unit)
    assert CHINA.working_seconds_between(start, result) == pytest.approx(float(value) * per_unit, abs=1e-6)


@settings(max_examples=200, deadline=None)
@given(first=starts, second=starts)
def test_working_time_between_matches_a_day_by_day_count(first, second):
    expected = reference_seconds(*sorted([first, second]))
    if second < first:
        expected = -expected
    assert CHINA.working_seconds_between(first, second) == pytest.approx(expected, abs=1e-6)


@settings(max_examples=200, deadline=None)
@given(a=starts, b=starts, c=starts)
def test_working_time_between_adds_up_over_consecutive_stretches(a, b, c):
    total = CHINA.working_seconds_between(a, b) + CHINA.working_seconds_between(b, c)
    assert total == pytest.approx(CHINA.working_seconds_between(a, c), abs=1e-6)


# From the database


@pytest.mark.django_db
def test_load_reads_the_calendar_in_two_queries_and_never_again(django_assert_num_queries):
    calendar_seed(years=[2026])
    with django_assert_num_queries(2):
        calendar = WorkCalendar.load()
    with django_assert_num_queries(0):
        assert calendar.add(at(2026, 9, 30, 15), 2, DAYS) == at(2026, 10, 9, 15)
        assert calendar.working_seconds_between(at(2026, 2, 13, 10), at(2026, 2, 24, 10)) == 15 * 3600


@pytest.mark.django_db
def test_load_uses_the_default_office_hours_when_none_are_set():
    assert WorkCalendar.load().periods == WorkCalendar(periods=DEFAULT_PERIODS).periods


@pytest.mark.django_db
def test_load_uses_the_office_hours_in_the_database():
    WorkPeriod.objects.create(start=time(9), end=time(17))
    calendar = WorkCalendar.load()
    assert calendar.add(at(2026, 3, 9, 11), 3, HOURS) == at(2026, 3, 9, 14)
    assert calendar.add(at(2026, 3, 9, 9), 1, DAYS) == at(2026, 3, 9, 17)


@pytest.mark.django_db
def test_calendar_seed_writes_the_2026_arrangement():
    counts = calendar_seed(years=[2026])
    # 19 weekday holidays (1–2 Jan, 16–20 and 23 Feb, 6 Apr, 1, 4, 5 May, 19 Jun, 25 Sep,
    # 1, 2, 5, 6, 7 Oct) and 6 worked weekend days (4 Jan, 14 and 28 Feb, 9 May, 20 Sep, 10 Oct).
    assert counts == {"created": 25, "kept": 0}
    rows = {row.date: row for row in WorkCalendarDay.objects.all()}
    assert len(rows) == 25
    assert (rows[date(2026, 10, 1)].is_workday, rows[date(2026, 10, 1)].note) == (False, "国庆节")
    assert (rows[date(2026, 10, 10)].is_workday, rows[date(2026, 10, 10)].note) == (True, "调休上班（国庆节）")
    assert (rows[date(2026, 2, 14)].is_workday, rows[date(2026, 2, 14)].note) == (True, "调休上班（春节）")
    assert rows[date(2026, 9, 25)].note == "中秋节"
    # Holidays on a weekend need no row: the weekday rule already leaves them unworked.
    assert date(2026, 10, 3) not in rows


@pytest.mark.django_db
def test_calendar_seed_twice_creates_nothing_the_second_time():
    calendar_seed(years=[2025, 2026])
    count = WorkCalendarDay.objects.count()
    assert calendar_seed(years=[2025, 2026]) == {"created": 0, "kept": count}
    assert WorkCalendarDay.objects.count() == count


@pytest.mark.django_db
def test_calendar_seed_keeps_a_day_an_admin_changed():
    calendar_seed(years=[2026])
    WorkCalendarDay.objects.filter(date=date(2026, 10, 10)).update(is_workday=False, note="区里统一放假")
    WorkCalendarDay.objects.filter(date=date(2026, 10, 1)).delete()
    assert calendar_seed(years=[2026]) == {"created": 1, "kept": 24}
    kept = WorkCalendarDay.objects.get(date=date(2026, 10, 10))
    assert (kept.is_workday, kept.note) == (False, "区里统一放假")
    assert not WorkCalendarDay.objects.get(date=date(2026, 10, 1)).is_workday


@pytest.mark.django_db
def test_calendar_seed_without_years_covers_the_whole_package():
    counts = calendar_seed()
    assert counts["kept"] == 0
    assert counts["created"] == WorkCalendarDay.objects.count()
    assert WorkCalendarDay.objects.get(date=date(2004, 1, 1)).note == "元旦"
    assert WorkCalendarDay.objects.get(date=date(2015, 9, 3)).note == "抗战胜利70周年纪念日"
    assert WorkCalendarDay.objects.filter(date__year=2026).count() == 25
    assert calendar_seed()["created"] == 0


@pytest.mark.django_db
def test_calendar_seed_refuses_a_year_the_package_does_not_cover():
    with pytest.raises(YearNotCovered):
        calendar_seed(years=[2026, 2099])
    assert not WorkCalendarDay.objects.exists()


@pytest.mark.django_db
def test_office_hours_seed_creates_the_defaults_once():
    assert office_hours_seed() == 2
    assert list(WorkPeriod.objects.values_list("start", "end")) == list(DEFAULT_PERIODS)
    assert office_hours_seed() == 0
    assert WorkPeriod.objects.count() == 2


@pytest.mark.django_db
def test_office_hours_seed_leaves_existing_hours_alone():
    WorkPeriod.objects.create(start=time(9), end=time(17))
    assert office_hours_seed() == 0
    assert WorkPeriod.objects.count() == 1


@pytest.mark.django_db
def test_seed_calendar_command_prints_counts_and_can_run_twice():
    out = StringIO()
    with translation.override("en"):
        call_command("seed_calendar", "--year", "2026", stdout=out)
        call_command("seed_calendar", "--year", "2026", stdout=out)
    assert out.getvalue().splitlines() == [
        "calendar exceptions: 25 created, 0 kept as they were",
        "office hours: 2 periods created",
        "calendar exceptions: 0 created, 25 kept as they were",
        "office hours: already set, kept as they were",
    ]


@pytest.mark.django_db
def test_seed_calendar_command_fails_on_an_uncovered_year():
    with pytest.raises(CommandError, match="2099"):
        call_command("seed_calendar", "--year", "2099", stdout=StringIO())


@pytest.mark.django_db
def test_the_admin_lists_office_hours_and_calendar_exceptions(admin_client):
    calendar_seed(years=[2026])
    office_hours_seed()
    response = admin_client.get(
        reverse("admin:deadlines_workcalendarday_changelist"), {"date__year": "2026", "q": "国庆"}
    )
    assert response.status_code == 200
    assert "调休上班（国庆节）" in response.content.decode()
    assert admin_client.get(reverse("admin:deadlines_workperiod_changelist")).status_code == 200
