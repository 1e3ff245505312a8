"""Period comparisons that compare like with like (issue 23): a month still running is compared
with the same days of the month before (每月一题, the ranking's changes, the official's month
against last month), and the pages say which days; a whole month with the whole month before.
And the rollups never keep a figure the raw rows no longer give: a case moved weeks after it
came in has its older days recomputed."""

import datetime
import re

import pytest
import time_machine

from cases.models import Case
from dashboards import selectors
from dashboards.services import rollups_refresh
from dashboards.tasks import refresh_rollups
from feedback import metrics
from handling.services import case_contact, case_resolve
from routing import dispatch
from routing.models import Assignment
from tests.dashboards.helpers import judged_case
from tests.factories import open_case
from tests.handling.helpers import SHANGHAI

pytestmark = pytest.mark.django_db

PROBLEMS = "/dashboards/monthly-problems/"
RANKING = "/dashboards/ranking/"


def at(month, day, hour=10):
    return datetime.datetime(2026, month, day, hour, tzinfo=SHANGHAI)


def period(first, last):
    return metrics.Period(datetime.date(*first), datetime.date(*last))


@pytest.mark.parametrize(
    ("days", "compared"),
    [
        # Six days of March against six days of February.
        (((2026, 3, 1), (2026, 3, 6)), ((2026, 2, 1), (2026, 2, 6))),
        # A whole month against the whole month before, whatever their lengths.
        (((2026, 3, 1), (2026, 3, 31)), ((2026, 2, 1), (2026, 2, 28))),
        (((2026, 4, 1), (2026, 4, 30)), ((2026, 3, 1), (2026, 3, 31))),
        # 1–30 March: February has no 29th or 30th, so the whole of it.
        (((2026, 3, 1), (2026, 3, 30)), ((2026, 2, 1), (2026, 2, 28))),
        # January against December of the year before.
        (((2026, 1, 1), (2026, 1, 10)), ((2025, 12, 1), (2025, 12, 10))),
        # Any other range: as many days just before it.
        (((2026, 3, 9), (2026, 3, 15)), ((2026, 3, 2), (2026, 3, 8))),
    ],
)
def test_the_days_compared_are_the_same_days_of_the_month_before(days, compared):
    assert selectors.same_days_before(period(*days)) == period(*compared)


def test_a_running_month_is_counted_to_today_and_a_past_one_whole():
    march = metrics.Period.month("2026-03")
    assert selectors.so_far(march, datetime.date(2026, 3, 6)) == period((2026, 3, 1), (2026, 3, 6))
    assert selectors.so_far(march, datetime.date(2026, 4, 2)) == march
    assert selectors.so_far(march, datetime.date(2026, 3, 31)) == march


@pytest.fixture
def six_days(world, categories):
    """0201 (环境卫生): 2 cases on 3 February and 5 on 20 February; 3 on 4 March. 0103 (物业管理):
    1 on 5 February, 2 on 5 March. Seen on 6 March, 18:00."""
    with time_machine.travel(at(2, 3), tick=False) as clock:
        for moment, count, code in (
            (at(2, 3), 2, "0201"),
            (at(2, 5), 1, "0103"),
            (at(2, 20), 5, "0201"),
            (at(3, 4), 3, "0201"),
            (at(3, 5), 2, "0103"),
        ):
            clock.move_to(moment)
            for _ in range(count):
                open_case(world, category_code=code)
        clock.move_to(at(3, 6, 18))
        rollups_refresh(first=datetime.date(2026, 2, 1), last=datetime.date(2026, 3, 6))
        yield clock


def _received(first, last, code):
    """The independent count: cases of the category registered between the two days."""
    start = datetime.datetime.combine(first, datetime.time(), tzinfo=SHANGHAI)
    end = datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time(), tzinfo=SHANGHAI)
    return Case.objects.filter(category__code=code, created_at__gte=start, created_at__lt=end).count()


def test_six_days_of_problems_are_compared_with_the_same_six_days_of_last_month(
    client, world, six_days, django_assert_max_num_queries
):
    client.force_login(world.official)
    with django_assert_max_num_queries(12):
        page = client.get(PROBLEMS).text
    assert (
        'data-first="2026-03-01" data-last="2026-03-06" data-previous-first="2026-02-01" '
        'data-previous-last="2026-02-06"' in page
    )
    assert "2026-02-01 – 2026-02-06" in page and "上月同期" in page
    rows = dict(re.findall(r'data-category="(\d+)".*?data-count="previous">(\d+)<', page, re.S))
    first, last = datetime.date(2026, 2, 1), datetime.date(2026, 2, 6)
    # 0201: the 2 cases of 3 February, not the 5 of 20 February (days March has not had yet).
    assert rows == {"0201": str(_received(first, last, "0201")), "0103": str(_received(first, last, "0103"))}
    assert rows == {"0201": "2", "0103": "1"}
    changes = dict(re.findall(r'data-category="(\d+)".*?data-count="change">([^<]+)<', page, re.S))
    assert changes == {"0201": "+1", "0103": "+1"}


def test_a_past_month_is_compared_with_the_whole_month_before(client, world, six_days):
    six_days.move_to(at(4, 2))
    client.force_login(world.official)
    page = client.get(PROBLEMS, {"month": "2026-03"}).text
    assert 'data-previous-first="2026-02-01" data-previous-last="2026-02-28"' in page
    rows = dict(re.findall(r'data-category="(\d+)".*?data-count="previous">(\d+)<', page, re.S))
    assert rows == {"0201": "7", "0103": "1"}


def test_the_rankings_changes_compare_the_same_days_of_last_month(client, world, categories):
    """区住建局: satisfied on 3 February (100), unsatisfied on 20 February (30), basically
    satisfied on 4 March (93). On 6 March its change is against 1–6 February (100), not against
    the whole of February ((100 + 30) / 2 on the rates)."""
    with time_machine.travel(at(2, 3), tick=False) as clock:
        judged_case(world, world.department, world.dept_clerk, "satisfied")
        clock.move_to(at(2, 20))
        judged_case(world, world.department, world.dept_clerk, "unsatisfied")
        clock.move_to(at(3, 4))
        judged_case(world, world.department, world.dept_clerk, "basically")
        clock.move_to(at(3, 6, 18))
        rollups_refresh(first=datetime.date(2026, 2, 1), last=datetime.date(2026, 3, 6))
        client.force_login(world.official)
        page = client.get(RANKING, {"level": "department"}).text
    assert 'data-previous-first="2026-02-01" data-previous-last="2026-02-06"' in page
    assert "2026-02-01 – 2026-02-06" in page
    row = re.search(rf'<tr data-code="{world.department.code}".*?</tr>', page, re.S)[0]
    assert re.search(r'data-change="composite">([^<]+)<', row)[1] == "−7.0"
    assert re.search(r'data-change="satisfaction_rate">([^<]+)<', row)[1] == "−20.0"


def test_the_officials_month_is_compared_with_the_same_days_of_last_month(world, six_days):
    compared = selectors.month_comparison(prefix=world.district.code)
    assert compared.period == period((2026, 3, 1), (2026, 3, 6))
    assert compared.previous_period == period((2026, 2, 1), (2026, 2, 6))
    assert (compared.figures.received, compared.previous.received) == (5, 3)
    assert compared.change("received") == 2


def test_a_case_resolved_weeks_after_its_deadline_leaves_the_overdue_of_its_deadlines_day(
    world, categories, redis_down, django_capture_on_commit_callbacks
):
    """Beat recomputes only the last two weeks; the day a late case's deadline passed is older.
    Once the case is resolved, that day is recomputed too (here in the request: Redis is down), so
    the on-time rate the dashboard reads from the rollups is the one the assessment counts over
    the raw rows."""
    with time_machine.travel(at(2, 3), tick=False) as clock:
        judged_case(world, world.department, world.dept_clerk, "satisfied")  # on time
        late = open_case(world, category_code="0103")
        dispatch.case_dispatch(case=late, unit=world.department)
        dispatch.case_sign(case=late, actor=world.dept_clerk)
        case_contact(case=late, actor=world.dept_clerk, method="phone", agreed="约定上门")
        clock.move_to(at(3, 10))
        span = metrics.Period(datetime.date(2026, 2, 1), datetime.date(2026, 3, 10))
        rollups_refresh(first=span.first, last=span.last)
        assert selectors.summary(prefix=world.district.code, period=span).figures.overdue_unresolved == 1
        with django_capture_on_commit_callbacks(execute=True):
            case_resolve(
                case=Case.objects.get(pk=late.pk), actor=world.dept_clerk, result_kind="solved", result="已处理"
            )
        refresh_rollups()  # beat: the last two weeks, the day of the resolution among them
        shown = selectors.summary(prefix=world.district.code, period=span).figures
        (counted,) = metrics.rows_for("district", period=span)
    done = Assignment.objects.filter(role="lead", state="done")
    assert (shown.overdue_unresolved, shown.resolved) == (0, done.count()) == (0, 2)
    assert shown.on_time_rate == counted.figures.on_time_rate == 0.5
