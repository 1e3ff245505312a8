"""The overview pages: every figure shown equals an independent count over the raw cases and
events (`feedback.metrics.rows_for`, and plain counts of the live cases), the children add up to
their parent, each person sees their own places only, and a page costs the same few queries
whatever the number of streets."""

import datetime
import html
import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.translation import gettext

from cases.models import Case, Category
from cases.services import CallDetails
from dashboards.services import rollups_refresh
from escalation.models import Supervision
from escalation.services import deadlines_sweep
from feedback import metrics
from feedback.templatetags.feedback_figures import percent
from intake.models import Call
from intake.services import call_register
from routing.models import Assignment
from routing.tasks import dispatch_case
from tests.factories import UserFactory, member, open_case, region
from tests.handling.helpers import SHANGHAI

pytestmark = pytest.mark.django_db

DISTRICT = "210111"
MARCH = metrics.Period.month("2026-03")
# The figures are read on Monday 30 March: A3 (reopened to 区住建局) is then past its deadline.
READ_AT = datetime.datetime(2026, 3, 30, 10, 0, tzinfo=SHANGHAI)
# The month so far, as the page's default "this month" reads it.
MONTH_SO_FAR = metrics.Period(datetime.date(2026, 3, 1), datetime.date(2026, 3, 30))
COUNTS = ("received", "answered", "dispatched", "closed")
RATES = ("response_rate", "resolution_rate", "satisfaction_rate", "on_time_rate")


def page(code=DISTRICT):
    return f"/dashboards/{code}/"


def zh(text):
    with translation.override("zh-hans"):
        return gettext(text)


def cards(response):
    """{figure: shown text} from the page's key figures."""
    return dict(re.findall(r'data-kpi="(\w+)">(?:<a [^>]*>)?([^<]*)<', response.text))


def children(response):
    """{child code: {figure: shown text}} from the children table."""
    table = {}
    for code, cells in re.findall(r'<tr data-code="([^"]+)">(.*?)</tr>', response.text, re.S):
        table[code] = dict(re.findall(r'data-(?:count|rate)="(\w+)" data-value="[^"]*">(?:<a [^>]*>)?([^<]*)<', cells))
    return table


def links(response):
    """{figure: case list URL} of the key figures that link to their cases."""
    found = re.findall(r'<a href="([^"]+)" class="stretched-link text-reset" data-link="(\w+)"', response.text)
    return {key: html.unescape(url) for url, key in found}


def call(world, grid, **fields):
    """A call taken by the dispatcher through intake (the calls figure counts these)."""
    registration = {key: fields.pop(key) for key in ("attach_to", "answer") if key in fields}
    details = CallDetails(
        channel=fields.pop("channel", "wechat"),
        description="路灯不亮",
        category=Category.objects.get(code="0201"),
        grid=grid,
        caller_name="李四",
        caller_phone="13900139000",
        **fields,
    )
    return call_register(actor=world.dispatcher, details=details, **registration)[0]


@pytest.fixture
def march(example, world, clock):
    """docs/metrics.md's worked example, two more calls (one answered on the spot, one more case
    in 民主村), then the clock moved to Monday 30 March, the deadline sweep run (A3 is overdue and
    supervised) and the month rolled up."""
    return play_march(example, world, clock)


def play_march(example, world, clock):
    """`march`'s story after the worked example, with `clock` (a stopped traveller)."""
    call(world, world.grid_b, answer="已电话答复：本周内维修")
    extra = call(world, world.grid_c, channel="app").case
    dispatch_case(extra.pk)
    clock.move_to(READ_AT)
    for _ in range(3):
        deadlines_sweep()
    rollups_refresh(first=MARCH.first, last=MARCH.last)
    return example


# --- the figures are the raw counts ------------------------------------------------------------


def raw(level, code, period=MONTH_SO_FAR):
    """The independent count: feedback.metrics over the raw cases and events, and plain counts of
    the live cases and calls."""
    (row,) = metrics.rows_for(level, period=period, codes=[code])
    cases = Case.objects.filter(grid__code__startswith=code, status__in=Case.OPEN_STATUSES)
    overdue = [case for case in cases if _late(case)]
    supervised = Supervision.objects.filter(
        case__in=cases, ended_at__isnull=True, assignment__state__in=Assignment.ACTIVE_STATES
    )
    shown = {name: str(getattr(row.figures, name)) for name in COUNTS}
    shown.update({name: percent(getattr(row.figures, name)) for name in RATES})
    shown["calls"] = str(
        Call.objects.filter(
            grid__code__startswith=code, created_at__gte=period.start, created_at__lt=period.end
        ).count()
    )
    shown["open"] = str(cases.count())
    shown["overdue"] = str(len(overdue))
    shown["supervised"] = str(supervised.values("case").distinct().count())
    return shown


def _late(case):
    now = datetime.datetime.now(tz=SHANGHAI)
    for lead in case.assignments.filter(role=Assignment.Role.LEAD, state__in=Assignment.ACTIVE_STATES):
        if (lead.state == Assignment.State.WAITING and lead.sign_due < now) or lead.resolve_due < now:
            return True
        if lead.contacted_at is None and lead.contact_due and lead.contact_due < now:
            return True
    return False


@pytest.mark.parametrize(
    ("level", "code"),
    [
        ("district", DISTRICT),
        ("street", "210111001"),
        ("street", "210111003"),
        ("community", "210111001015"),
        ("grid", "210111001015001"),
        ("grid", "210111001015002"),
    ],
)
def test_every_figure_of_a_place_equals_the_count_over_the_raw_rows(client, march, world, level, code):
    client.force_login(world.official)
    response = client.get(page(code))
    assert response.status_code == 200
    assert 'data-first="2026-03-01" data-last="2026-03-30"' in response.text
    assert cards(response) == raw(level, code)


def test_the_example_shows_what_the_story_says(client, march, world):
    client.force_login(world.official)
    shown = cards(client.get(page()))
    # Six cases of the example, the call answered on the spot and the case in 民主村.
    assert (shown["calls"], shown["received"], shown["answered"]) == ("2", "8", "1")
    assert (shown["open"], shown["overdue"], shown["supervised"]) == ("3", "2", "2")
    assert shown["closed"] == "5"  # A1, A2, A5, C1 and the call answered on the spot
    assert shown["resolution_rate"] == "75.0%"


def test_every_child_row_equals_the_count_over_the_raw_rows(client, march, world):
    client.force_login(world.official)
    for code, level in ((DISTRICT, "street"), ("210111001", "community"), ("210111001015", "grid")):
        table = children(client.get(page(code)))
        assert list(table) == [row.code for row in metrics.rows_for(level, period=MONTH_SO_FAR, parent=code)]
        for child, shown in table.items():
            assert shown == raw(level, child), child


def test_the_children_add_up_to_their_parent(client, march, world):
    client.force_login(world.official)
    for code in (DISTRICT, "210111001", "210111001015"):
        response = client.get(page(code))
        parent, table = cards(response), children(response)
        for name in ("calls", *COUNTS, "open", "overdue", "supervised"):
            assert sum(int(row[name]) for row in table.values()) == int(parent[name]), (code, name)


def test_a_custom_range_and_the_presets_choose_their_days(client, march, world):
    client.force_login(world.official)
    response = client.get(page(), {"period": "custom", "from": "2026-03-10", "to": "2026-03-10"})
    assert 'data-first="2026-03-10" data-last="2026-03-10"' in response.text
    tenth = datetime.date(2026, 3, 10)
    assert cards(response) == raw("district", DISTRICT, metrics.Period(tenth, tenth))
    # Monday 30 March: the week is that Monday alone; today is today.
    assert 'data-first="2026-03-30" data-last="2026-03-30"' in client.get(page(), {"period": "week"}).text
    assert 'data-first="2026-03-30" data-last="2026-03-30"' in client.get(page(), {"period": "today"}).text


def test_an_empty_period_shows_dashes_not_zero_percent(client, march, world):
    client.force_login(world.official)
    shown = cards(client.get(page(), {"period": "custom", "from": "2026-02-01", "to": "2026-02-28"}))
    assert {name: shown[name] for name in RATES} == dict.fromkeys(RATES, "—")
    assert (shown["received"], shown["calls"]) == ("0", "0")
    assert shown["open"] == "3"  # the state of now, whatever the period


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"period": "custom", "from": "2026-03-10", "to": "2026-03-01"}, "to"),
        ({"period": "custom", "from": "2025-01-01", "to": "2026-03-01"}, "to"),
        ({"period": "custom", "from": "2026-02-30", "to": "2026-03-01"}, "from"),
        ({"period": "custom", "from": "yesterday", "to": "2026-03-01"}, "from"),
        ({"period": "custom", "to": "2026-03-01"}, "from"),
        ({"period": "decade"}, "period"),
    ],
)
def test_a_bad_range_is_an_error_on_its_field_not_a_crash(client, world, query, field):
    client.force_login(world.official)
    response = client.get(page(), query)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert f'data-error-for="{field}"' in response.text and 'id="kpis"' not in response.text


def test_an_inverted_range_says_so_in_chinese(client, world):
    client.force_login(world.official)
    response = client.get(page(), {"period": "custom", "from": "2026-03-10", "to": "2026-03-01"})
    with translation.override("zh-hans"):
        assert response.context["form"].errors["to"] == [gettext("The end date is before the start date.")]


# --- the figures link to their cases ----------------------------------------------------------


def listed(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return [case.number for case in response.context["page"]], response.context["page"].paginator.count


def test_the_counted_figures_link_to_exactly_their_cases(client, march, world):
    client.force_login(world.official)
    for code in (DISTRICT, "210111001", "210111001015001"):
        response = client.get(page(code))
        shown, urls = cards(response), links(response)
        assert set(urls) == {"received", "answered", "open", "overdue", "supervised"}
        for name, url in urls.items():
            assert urlsplit(url).path == "/cases/"
            assert listed(client, url)[1] == int(shown[name]), (code, name)
    overdue = dict(parse_qsl(urlsplit(links(client.get(page("210111001015001")))["overdue"]).query))
    assert overdue == {"overdue": "true", "region": "210111001015001"}
    assert listed(client, "/cases/?" + "overdue=true&region=210111001015001")[0] == [march["A3"].number]


def test_each_child_links_to_its_own_dashboard_keeping_the_period(client, march, world):
    client.force_login(world.official)
    response = client.get(page(), {"period": "custom", "from": "2026-03-01", "to": "2026-03-15"})
    assert 'href="/dashboards/210111001/?period=custom&amp;from=2026-03-01&amp;to=2026-03-15"' in response.text
    assert response.context["charts"]["treemap"][0]["children"][0]["name"] == "金山社区"


def test_the_treemap_holds_the_streets_and_their_communities(client, march, world):
    client.force_login(world.official)
    charts = client.get(page()).context["charts"]
    # 解放街道: A1–A5 and the call answered in grid B; 民主街道: C1 and the case opened on the 11th.
    assert [(street["name"], street["value"]) for street in charts["treemap"]] == [("解放街道", 6), ("民主街道", 2)]
    jinshan = charts["treemap"][0]["children"][0]
    # Open: A3 (overdue) and A4 (returned, waiting for the dispatchers: no deadline runs).
    assert (jinshan["name"], jinshan["value"], jinshan["overdue"], jinshan["open"]) == ("金山社区", 6, 1, 2)
    assert jinshan["rate"] == 0.5
    village = charts["treemap"][1]["children"][0]
    assert (village["name"], village["value"], village["rate"]) == ("民主村", 2, 1.0)  # never signed for
    assert "treemap" not in client.get(page("210111001")).context["charts"]


# --- who sees what ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("person", "root"),
    [
        ("official", DISTRICT),
        ("dispatcher", DISTRICT),
        ("street_clerk", "210111001"),
        ("community_clerk", "210111001015"),
    ],
)
def test_the_dashboard_opens_at_the_persons_own_place(client, world, person, root):
    client.force_login(getattr(world, person))
    response = client.get("/dashboards/", {"period": "week"})
    assert response.status_code == 302 and response.url == f"/dashboards/{root}/?period=week"
    assert client.get(response.url).status_code == 200
    assert zh("Dashboard") in client.get("/").text


@pytest.mark.parametrize("person", ["gridworker", "dept_clerk"])
def test_people_without_a_place_get_404_and_no_navigation_entry(client, world, person):
    client.force_login(getattr(world, person))
    assert client.get("/dashboards/").status_code == 404
    assert client.get(page()).status_code == 404
    assert client.get(page("210111001015001")).status_code == 404
    assert 'href="/dashboards/"' not in client.get("/").text


def test_officials_and_dispatchers_open_every_place(client, world):
    for person in (world.official, world.dispatcher):
        client.force_login(person)
        for code in (DISTRICT, "210111001", "210111003", "210111001015", "210111003201001"):
            assert client.get(page(code)).status_code == 200, code


def test_a_street_office_sees_its_street_and_nothing_else(client, world):
    client.force_login(world.street_clerk)
    for code in ("210111001", "210111001015", "210111001015002"):
        assert client.get(page(code)).status_code == 200, code
    for code in (DISTRICT, "210111003", "210111003201", "210111003201001", "210111009"):
        assert client.get(page(code)).status_code == 404, code
    # The district is named in the breadcrumbs, not linked.
    response = client.get(page("210111001015"))
    assert 'href="/dashboards/210111/' not in response.text and 'href="/dashboards/210111001/' in response.text


def test_a_community_clerk_sees_only_their_community(client, world):
    client.force_login(world.community_clerk)
    assert client.get(page("210111001015")).status_code == 200
    assert client.get(page("210111001")).status_code == 404


def test_an_unknown_place_gets_404(client, world):
    client.force_login(world.official)
    assert client.get(page("210111999")).status_code == 404


# --- cost ------------------------------------------------------------------------------------


def test_the_district_page_makes_the_same_number_of_queries_for_2_streets_or_14(
    client, march, world, django_assert_num_queries
):
    client.force_login(world.official)
    client.get(page())  # the first request of a session may warm caches
    with CaptureQueriesContext(connection) as two:
        assert len(children(client.get(page()))) == 2
    for index in range(12):
        street = region(f"{DISTRICT}{100 + index:03d}", f"街道{index}", world.district)
        community = region(f"{street.code}001", f"社区{index}", street)
        grid = region(f"{community.code}001", f"社区{index}第1网格", community)
        dispatch_case(open_case(world, grid=grid).pk)
    rollups_refresh(first=MARCH.first, last=MARCH.last)
    with django_assert_num_queries(len(two.captured_queries)):
        response = client.get(page())
    assert len(children(response)) == 14
    assert len(response.context["charts"]["treemap"]) == 14


def test_a_street_page_makes_the_same_number_of_queries_for_1_community_or_13(
    client, march, world, django_assert_num_queries
):
    client.force_login(world.street_clerk)
    client.get(page("210111001"))
    with CaptureQueriesContext(connection) as one:
        assert len(children(client.get(page("210111001")))) == 1
    for index in range(12):
        community = region(f"210111001{100 + index:03d}", f"社区{index}", world.street)
        grid = region(f"{community.code}001", f"社区{index}第1网格", community)
        dispatch_case(open_case(world, grid=grid).pk)
    rollups_refresh(first=MARCH.first, last=MARCH.last)
    with django_assert_num_queries(len(one.captured_queries)):
        assert len(children(client.get(page("210111001")))) == 13


def test_another_street_office_clerk_is_kept_to_their_street(client, world):
    other = member(UserFactory(username="t_street_other", real_name="孔街道"), world.other_street_office)
    client.force_login(other)
    assert client.get("/dashboards/").url == "/dashboards/210111003/"
    assert client.get(page("210111001")).status_code == 404
