"""A unit's queue: which case is on which tab, in what order, with which colour and deadline
(`handling/selectors.py`), and the page `/handling/queue/` that shows it."""

import html
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext

from handling import services
from handling.selectors import TABS, Clock, deadline_state, queue_counts, queue_for, queue_tab
from routing import dispatch
from routing.models import Assignment
from routing.tasks import dispatch_case
from tests.factories import UnitFactory, UserFactory, member, open_case, routing_setup

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Tuesday morning with no holiday near it. Office hours are 08:30–12:00 and 13:00–17:00, so four
# working hours from now end at 15:00 today: anything due before then is "due soon".
NOW = datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)
SOON = datetime(2026, 3, 10, 15, 0, tzinfo=SHANGHAI)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
WEDNESDAY_9 = datetime(2026, 3, 11, 9, 0, tzinfo=SHANGHAI)


@dataclass
class Row:
    """One of 区住房和城乡建设局's assignments, set up in `state` with these deadlines, and where the
    queue must show it."""

    state: str  # waiting, signed, contacted, assist, done, done_long_ago, returned, withdrawn
    deadlines: dict
    tabs: set
    mark: str | None = None
    due: datetime | None = None  # the deadline to meet next
    grid: str = "grid_a"
    category: str = "0103"
    description: str = "楼道灯坏了物业不修"
    case: object = field(default=None, repr=False)


def rows_spec():
    return {
        # Waiting for sign-for: the sign-for deadline counts, whatever the others say.
        "waiting_late": Row("waiting", {"sign_due": NOW - HOUR}, {"to_sign", "overdue"}, "red", NOW - HOUR),
        "waiting_soon": Row(
            "waiting", {"sign_due": NOW + 2 * HOUR}, {"to_sign", "due_soon"}, "yellow", NOW + 2 * HOUR, "grid_b"
        ),
        "waiting_later": Row(
            "waiting",
            {"sign_due": NOW + DAY, "contact_due": NOW - HOUR, "resolve_due": NOW - HOUR},
            {"to_sign"},
            "green",
            NOW + DAY,
            "grid_c",
        ),
        # Called in by the street office to help: the unit's own sign-for deadline.
        "assisting": Row("assist", {"sign_due": NOW + HOUR / 2}, {"to_sign", "due_soon"}, "yellow", NOW + HOUR / 2),
        # Signed for, the resident not contacted yet: the earlier of first contact and resolution.
        "contact_missed_long_ago": Row(
            "signed",
            {"contact_due": NOW - 2 * DAY, "resolve_due": NOW + 3 * DAY},
            {"in_progress", "overdue"},
            "red",
            NOW - 2 * DAY,
        ),
        "contact_missed": Row(
            "signed",
            {"contact_due": NOW - 3 * HOUR, "resolve_due": NOW + 5 * DAY},
            {"in_progress", "overdue"},
            "red",
            NOW - 3 * HOUR,
            "grid_b",
        ),
        "resolution_first": Row(
            "signed",
            {"contact_due": NOW + 2 * DAY, "resolve_due": NOW + HOUR},
            {"in_progress", "due_soon"},
            "yellow",
            NOW + HOUR,
            "grid_c",
            "1301",
            "咨询居住证办理需要的材料",
        ),
        # Contacted: only the resolution counts, a missed contact deadline no longer does.
        "contacted_at_the_edge": Row(
            "contacted",
            {"contact_due": NOW - DAY, "resolve_due": SOON},
            {"in_progress"},
            "green",
            SOON,
            "grid_a",
            "1301",
            "咨询居住证续签",
        ),
        # 23 hours away, but only six working hours: not due soon.
        "contacted": Row(
            "contacted", {"contact_due": NOW - DAY, "resolve_due": WEDNESDAY_9}, {"in_progress"}, "green", WEDNESDAY_9
        ),
        "resolved": Row("done", {}, {"resolved"}, grid="grid_c"),
        "resolved_long_ago": Row("done_long_ago", {}, set()),
        "returned": Row("returned", {}, set()),
        "withdrawn": Row("withdrawn", {}, set()),
    }


ORDER = {
    "to_sign": ["waiting_late", "assisting", "waiting_soon", "waiting_later"],
    "in_progress": [
        "contact_missed_long_ago",
        "contact_missed",
        "resolution_first",
        "contacted_at_the_edge",
        "contacted",
    ],
    "due_soon": ["assisting", "resolution_first", "waiting_soon"],
    "overdue": ["contact_missed_long_ago", "contact_missed", "waiting_late"],
    "resolved": ["resolved"],
}


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def to_housing(world, row):
    """Open a case and give it to 区住房和城乡建设局: by the rules for 物业管理 (0103), by a
    dispatcher otherwise."""
    case = open_case(world, grid=getattr(world, row.grid), category_code=row.category, description=row.description)
    if row.category == "0103":
        dispatch_case(case.pk)
    else:
        dispatch.case_dispatch(case=case, unit=world.department, actor=world.dispatcher)
    return case


def set_up(world, row):
    housing, clerk = world.department, world.dept_clerk
    if row.state == "assist":
        case = open_case(world, category_code="0101", description="违章搭建阻塞消防通道")
        dispatch_case(case.pk)  # the street office leads
        dispatch.case_sign(case=case, actor=world.street_clerk)
        dispatch.case_assist(case=case, unit=housing, actor=world.street_clerk, note="联合执法", due=NOW + 3 * DAY)
    else:
        case = to_housing(world, row)
    if row.state in ("signed", "contacted", "done", "done_long_ago"):
        dispatch.case_sign(case=case, actor=clerk)
    if row.state == "contacted":
        services.case_contact(case=case, actor=clerk, method="phone", agreed="下周上门")
    if row.state in ("done", "done_long_ago"):
        services.case_resolve(case=case, actor=clerk, result_kind="solved", result="已修复")
        ago = 2 * DAY if row.state == "done" else 31 * DAY
        Assignment.objects.filter(case=case, unit=housing).update(finished_at=NOW - ago)
    if row.state == "returned":
        dispatch.case_return(case=case, actor=clerk, reason="not_our_duty", note="不属本局")
    if row.state == "withdrawn":
        dispatch.case_dispatch(case=case, unit=world.committee, actor=world.dispatcher, redispatch=True)
    if row.deadlines:
        Assignment.objects.filter(case=case, unit=housing).update(**row.deadlines)
    row.case = case
    return row


@pytest.fixture
def world(cast, categories, clock):
    routing_setup(cast)
    cast.rows = {name: set_up(cast, row) for name, row in rows_spec().items()}
    # Another unit's overdue case is never in the housing bureau's queue.
    elsewhere = open_case(cast)
    dispatch_case(elsewhere.pk)
    Assignment.objects.filter(case=elsewhere).update(sign_due=NOW - DAY)
    cast.elsewhere = elsewhere
    return cast


def numbers(world, *names):
    return [world.rows[name].case.number for name in names]


def listed(rows):
    return [assignment.case.number for assignment in rows]


# --- the selectors -------------------------------------------------------------------------------


def test_due_soon_means_within_four_working_hours(world):
    assert Clock.start().soon == SOON


def test_each_tab_holds_exactly_its_cases_overdue_first_then_the_nearest_deadline(world):
    clock = Clock.start()
    for tab, names in ORDER.items():
        assert listed(queue_tab(world.department, tab, clock)) == numbers(world, *names), tab


def test_the_counts_equal_a_count_of_the_rows_on_each_tab(world):
    clock = Clock.start()
    # Counted from the table above, not from the selectors.
    expected = {tab: sum(tab in row.tabs for row in world.rows.values()) for tab in TABS}
    assert expected == {"to_sign": 4, "in_progress": 5, "due_soon": 3, "overdue": 3, "resolved": 1}
    assert queue_counts(world.department, clock) == expected
    assert {tab: len(queue_tab(world.department, tab, clock)) for tab in TABS} == expected


def test_the_next_deadline_and_its_mark_follow_the_state_of_the_work(world):
    clock = Clock.start()
    for assignment in queue_for(world.department).select_related("case"):
        name = next(name for name, row in world.rows.items() if row.case == assignment.case)
        row = world.rows[name]
        state = deadline_state(assignment, clock)
        if row.due is None:
            assert state is None, name
            continue
        assert (assignment.next_due, state.due, state.mark) == (row.due, row.due, row.mark), name
        assert (state.seconds_left < 0) == (row.mark == "red"), name


def test_at_the_end_of_the_day_due_soon_reaches_into_tomorrow_morning(world, clock):
    # 16:00: one working hour today and three tomorrow, so due soon runs to Wednesday 11:30.
    clock.move_to(datetime(2026, 3, 10, 16, 0, tzinfo=SHANGHAI))
    clock_now = Clock.start()
    assert clock_now.soon == datetime(2026, 3, 11, 11, 30, tzinfo=SHANGHAI)
    due_soon = listed(queue_tab(world.department, "due_soon", clock_now))
    assert numbers(world, "contacted")[0] in due_soon
    contacted = queue_for(world.department).get(case=world.rows["contacted"].case)
    state = deadline_state(contacted, clock_now)
    assert (state.mark, state.seconds_left) == ("yellow", 1.5 * 3600)


# --- the page ------------------------------------------------------------------------------------


def page_rows(response):
    return [html.unescape(number) for number in re.findall(r'data-case="([^"]+)"', response.text)]


def counts_on(response):
    return {tab: int(count) for tab, count in re.findall(r'data-count="(\w+)">(\d+)<', response.text)}


def test_a_department_clerk_sees_their_units_queue_with_counts_and_marks(client, world):
    client.force_login(world.dept_clerk)
    response = client.get("/handling/queue/")
    assert response.status_code == 200
    assert response.context["tab"] == "to_sign"
    assert page_rows(response) == numbers(world, *ORDER["to_sign"])
    assert world.elsewhere.number not in response.text
    assert counts_on(response) == {"to_sign": 4, "in_progress": 5, "due_soon": 3, "overdue": 3, "resolved": 1}
    marks = {number: mark for mark, number in re.findall(r'deadline-(\w+)" data-case="([^"]+)"', response.text)}
    assert marks == {world.rows[name].case.number: world.rows[name].mark for name in ORDER["to_sign"]}
    overdue = client.get("/handling/queue/", {"tab": "overdue"})
    assert page_rows(overdue) == numbers(world, *ORDER["overdue"])
    assert re.findall(r'aria-current="page" data-tab="(\w+)"', overdue.text) == ["overdue"]


def test_every_tab_lists_what_the_selectors_list(client, world):
    client.force_login(world.dept_clerk)
    for tab, names in ORDER.items():
        assert page_rows(client.get("/handling/queue/", {"tab": tab})) == numbers(world, *names), tab


def test_an_unknown_tab_shows_the_first_one(client, world):
    client.force_login(world.dept_clerk)
    response = client.get("/handling/queue/", {"tab": "everything"})
    assert response.context["tab"] == "to_sign"


def test_the_filters_narrow_the_list_and_keep_the_tab(client, world):
    client.force_login(world.dept_clerk)

    def shown(**query):
        response = client.get("/handling/queue/", {"tab": "in_progress", **query})
        assert response.context["tab"] == "in_progress"
        # The filter form sends the tab along, so filtering again stays on it.
        form = response.text.split('id="queue-filters"', 1)[1].split("</form>", 1)[0]
        assert '<input type="hidden" name="tab" value="in_progress">' in form
        return set(page_rows(response))

    assert shown(category="13") == set(numbers(world, "resolution_first", "contacted_at_the_edge"))
    assert shown(category="0103") == set(numbers(world, "contact_missed_long_ago", "contact_missed", "contacted"))
    assert shown(region=world.grid_c.code) == set(numbers(world, "resolution_first"))
    assert shown(region="210111001") == set(
        numbers(world, "contact_missed_long_ago", "contact_missed", "contacted_at_the_edge", "contacted")
    )
    assert shown(q="居住证") == set(numbers(world, "resolution_first", "contacted_at_the_edge"))
    number = world.rows["contacted"].case.number
    assert shown(q=number.lower()) == {number}
    # Due by the end of today (Shanghai): everything but the case due tomorrow morning.
    assert shown(due_by="2026-03-10") == set(
        numbers(world, "contact_missed_long_ago", "contact_missed", "resolution_first", "contacted_at_the_edge")
    )
    assert shown(due_by="2026-03-09") == set(numbers(world, "contact_missed_long_ago"))
    assert shown(category="13", due_by="2026-03-10", q="续签") == set(numbers(world, "contacted_at_the_edge"))


def test_the_partial_answer_is_only_the_list(client, world):
    client.force_login(world.dept_clerk)
    response = client.get("/handling/queue/", {"tab": "overdue", "partial": "1", "region": "210111001"})
    assert response.status_code == 200
    assert "<html" not in response.text
    # The tabs come along, so their counts stay true; the filters (and what is typed) stay put.
    assert 'id="queue-tabs"' in response.text and 'id="queue-filters"' not in response.text
    assert 'id="queue-rows"' in response.text
    assert page_rows(response) == numbers(world, "contact_missed_long_ago", "contact_missed", "waiting_late")


def test_a_person_in_two_units_switches_between_their_queues(client, world):
    water = UnitFactory(code="D-WATER", name="区水务局", kind="department")
    member(world.dept_clerk, water)
    leak = open_case(world, category_code="1301", description="自来水管道漏水")
    dispatch.case_dispatch(case=leak, unit=water, actor=world.dispatcher)
    client.force_login(world.dept_clerk)
    housing = client.get("/handling/queue/")
    assert housing.context["unit"] == world.department  # the first by code
    assert 'id="unit-select"' in housing.text
    assert leak.number not in page_rows(housing)
    response = client.get("/handling/queue/", {"unit": "D-WATER"})
    assert response.context["unit"] == water
    assert page_rows(response) == [leak.number]
    # Dispatched just now: two working hours to sign for, so it is due soon too.
    assert counts_on(response) == {"to_sign": 1, "in_progress": 0, "due_soon": 1, "overdue": 0, "resolved": 0}
    # The tabs and the filters stay in that unit.
    assert 'href="?unit=D-WATER&amp;tab=in_progress"' in response.text
    assert '<input type="hidden" name="unit" value="D-WATER">' in response.text
    # A unit that is not theirs shows their own first unit, never another unit's cases.
    assert client.get("/handling/queue/", {"unit": "C210111001015"}).context["unit"] == world.department


def test_someone_without_a_unit_gets_404(client, world):
    for person in (world.gridworker, world.outsider):
        client.force_login(person)
        assert client.get("/handling/queue/").status_code == 404
        assert client.post("/handling/queue/sign/", {"cases": numbers(world, "waiting_late")}).status_code == 404
    assert world.rows["waiting_late"].case.events.filter(action="sign").count() == 0


def test_the_page_makes_the_same_number_of_queries_for_3_rows_or_40(
    client, cast, categories, clock, django_assert_num_queries
):
    routing_setup(cast)
    grids = (cast.grid_a, cast.grid_b, cast.grid_c)

    def add(count):
        for index in range(count):
            case = open_case(cast, grid=grids[index % 3], category_code="0103", description=f"物业问题{index}")
            dispatch_case(case.pk)

    add(3)
    client.force_login(cast.dept_clerk)
    client.get("/handling/queue/")  # the first request of a session may warm caches
    with CaptureQueriesContext(connection) as three:
        assert len(page_rows(client.get("/handling/queue/"))) == 3
    # The session, the user, their postings (memberships, grid postings), the inbox's unread count,
    # their units, the office hours and calendar days, one page of rows with its count, the tab counts.
    assert len(three.captured_queries) == 10, [q["sql"] for q in three.captured_queries]
    add(37)
    with django_assert_num_queries(len(three.captured_queries)):
        assert len(page_rows(client.get("/handling/queue/"))) == 40


def test_the_page_links_keep_the_unit_the_tab_and_the_filters(client, cast, categories, clock):
    routing_setup(cast)
    for index in range(52):
        case = open_case(cast, grid=cast.grid_c if index == 0 else cast.grid_a, category_code="0103")
        dispatch_case(case.pk)
    client.force_login(cast.dept_clerk)
    query = {"unit": "D-HOUSING", "tab": "to_sign", "region": "210111001"}
    for extra in ({}, {"partial": "1"}):
        response = client.get("/handling/queue/", {**query, **extra})
        assert len(page_rows(response)) == 50
        [link] = [html.unescape(href) for href in re.findall(r'class="page-link" href="([^"]*)"', response.text)]
        assert link.startswith("?")
        # The refresh's `partial` stays behind: the link opens the whole page.
        assert dict(parse_qsl(link[1:])) == {**query, "page": "2"}
    second = client.get(f"/handling/queue/{link}")
    assert len(page_rows(second)) == 1  # the 51st case of grid A, not the one in grid C
    [back] = [html.unescape(href) for href in re.findall(r'class="page-link" href="([^"]*)"', second.text)]
    assert dict(parse_qsl(back[1:])) == {**query, "page": "1"}


# --- bulk sign-for -------------------------------------------------------------------------------


def test_bulk_sign_for_signs_each_ticked_case_and_reports_the_one_a_colleague_signed(client, world):
    colleague = member(UserFactory(username="t_dept2", real_name="陈部门"), world.department)
    first, taken, last = (world.rows[name].case for name in ("waiting_late", "waiting_soon", "waiting_later"))
    dispatch.case_sign(case=taken, actor=colleague)
    client.force_login(world.dept_clerk)
    back = "/handling/queue/?unit=D-HOUSING&tab=to_sign"
    response = client.post(
        "/handling/queue/sign/",
        {"unit": "D-HOUSING", "cases": [first.number, taken.number, last.number], "next": back},
    )
    assert response.status_code == 302
    assert response["Location"] == back
    messages = [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]
    assert [level for level, _text in messages] == ["success", "error"]
    assert messages[1][1].startswith(f"{taken.number}: ")
    # Each case in its own transaction: the refusal in the middle undoes neither neighbour.
    for case, signer in ((first, world.dept_clerk), (taken, colleague), (last, world.dept_clerk)):
        case.refresh_from_db()
        assert case.status == "in_progress"
        assert [e.actor for e in case.events.filter(action="sign")] == [signer]
    assert page_rows(client.get(back)) == numbers(world, "assisting")


def test_bulk_sign_for_reports_a_case_that_is_not_theirs(client, world):
    client.force_login(world.dept_clerk)
    mine = world.rows["waiting_late"].case
    response = client.post("/handling/queue/sign/", {"cases": [world.elsewhere.number, mine.number]})
    assert response["Location"] == "/handling/queue/"
    messages = [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]
    assert [level for level, _text in messages] == ["success", "error"]
    assert messages[1][1].startswith(f"{world.elsewhere.number}: ")
    world.elsewhere.refresh_from_db()
    assert world.elsewhere.status == "dispatched"
    mine.refresh_from_db()
    assert mine.status == "in_progress"


def test_each_row_names_the_deadline_it_counts_down_to(cast, categories):
    routing_setup(cast)
    case = open_case(cast)
    dispatch_case(case.pk)
    kinds = []
    for step in (None, "sign", "contact"):
        if step == "sign":
            dispatch.case_sign(case=case, actor=cast.community_clerk)
        if step == "contact":
            services.case_contact(case=case, actor=cast.community_clerk, method="phone", agreed="明早清运")
        row = queue_for(cast.committee).get(case=case)
        kinds.append(deadline_state(row, Clock.start()).kind)
    assert kinds == ["sign", "contact", "resolve"]
