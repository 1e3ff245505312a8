"""One definition per figure (issue 23): in a generated month, every street's figures read the
same on the three pages that show them (看板 the dashboard, 考核 the assessment, 排行 the
ranking), and equal an independent count over the raw rows in SQL. Each page says which basis it
counts on and links to the definitions it shows."""

import datetime
import re
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, transaction
from django.test import override_settings

from accounts.models import User
from grids.models import Region
from tests.scale.test_generator import END_MOMENT, generate

pytestmark = pytest.mark.django_db

MONTH = "2026-03"
FIRST = datetime.datetime(2026, 3, 1, tzinfo=END_MOMENT.tzinfo)
RATES = ("response_rate", "resolution_rate", "satisfaction_rate", "on_time_rate")


@pytest.fixture(scope="module")
def generated(django_db_setup, django_db_blocker):
    """The demo district with a month of generated cases ending 31 March 18:00 (the generator
    computes the rollups at that moment), in a transaction rolled back after the module."""
    with django_db_blocker.unblock(), transaction.atomic(), override_settings(DEBUG=True):
        call_command("load_demo", stdout=StringIO())
        generate("--days=45", "--chunk=1000", "--workers=1", size=1500)
        yield
        transaction.set_rollback(True)


@pytest.fixture
def at_the_end():
    with time_machine.travel(END_MOMENT, tick=False):
        yield


def _rows(html, attribute="data-code"):
    """{row key: {figure: text shown}} from a table's rows marked with data-rate / data-value /
    data-count on their cells (the key is the row's `attribute`)."""
    rows = {}
    for match in re.finditer(rf'<tr [^>]*{attribute}="([^"]+)"[^>]*>(.*?)</tr>', html, re.S):
        cells = {}
        for name, text in re.findall(
            r'data-(?:rate|count|value|kpi)="([a-z_]+)"[^>]*>\s*(?:<a [^>]*>)?([^<]*)', match[2]
        ):
            cells.setdefault(name, text.strip())
        rows[match[1]] = cells
    return rows


def _percent(numerator, denominator):
    return "—" if not denominator else f"{numerator / denominator * 100:.1f}%"


def _plain_sql(prefix):
    """The month's figures of a place counted in SQL over the raw rows, sharing no code with the
    selectors: lead assignments first dispatched or re-dispatched in March (not redos), their
    limits read at the end moment; callbacks that reached the resident; resolutions and what is
    still open past a deadline of March."""
    end = END_MOMENT
    params = {"prefix": prefix + "%", "first": FIRST, "end": end}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT
              count(*) FILTER (WHERE state NOT IN ('withdrawn', 'returned') AND ok),
              count(*) FILTER (WHERE state NOT IN ('withdrawn', 'returned') AND (ok OR failed))
            FROM (
              SELECT a.state,
                a.signed_at <= a.sign_due AND (a.contact_due IS NULL OR a.contacted_at <= a.contact_due) AS ok,
                (a.signed_at IS NULL AND a.sign_due <= %(end)s) OR a.signed_at > a.sign_due
                  OR (a.contact_due <= %(end)s AND a.contacted_at IS NULL) OR a.contacted_at > a.contact_due AS failed
              FROM routing_assignment a JOIN cases_case c ON c.id = a.case_id
              WHERE a.role = 'lead' AND NOT a.is_redo AND c.grid_code LIKE %(prefix)s
                AND a.dispatched_at >= %(first)s AND a.dispatched_at < %(end)s
            ) leads
            """,
            params,
        )
        responded, due = cursor.fetchone()
        cursor.execute(
            """
            SELECT count(*) FILTER (WHERE (e.data->>'resolved')::boolean),
                   count(*)
            FROM cases_caseevent e JOIN cases_case c ON c.id = e.case_id
            WHERE e.action = 'callback' AND (e.data->>'reached')::boolean
              AND c.grid_code LIKE %(prefix)s AND e.at >= %(first)s AND e.at < %(end)s
            """,
            params,
        )
        solved, callbacks = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FROM cases_case WHERE grid_code LIKE %(prefix)s"
            " AND created_at >= %(first)s AND created_at < %(end)s",
            params,
        )
        (received,) = cursor.fetchone()
    return {
        "response_rate": _percent(responded, due),
        "resolution_rate": _percent(solved, callbacks),
        "received": str(received),
    }


def test_every_streets_figures_are_the_same_on_the_dashboard_the_assessment_and_the_ranking(
    generated, at_the_end, client, django_assert_max_num_queries
):
    client.force_login(User.objects.get(username="dispatcher"))
    streets = dict(Region.objects.filter(level="street").values_list("code", "name"))
    assert len(streets) == 12
    district = Region.objects.get(level="district").code
    with django_assert_max_num_queries(40):
        dashboard = client.get(f"/dashboards/{district}/", {"period": "month"}).text
    with django_assert_max_num_queries(30):
        assessment = client.get("/feedback/metrics/", {"level": "street", "month": MONTH}).text
    with django_assert_max_num_queries(30):
        ranking = client.get("/dashboards/ranking/", {"level": "street", "month": MONTH}).text
    seen = {"dashboard": _rows(dashboard), "assessment": _rows(assessment), "ranking": _rows(ranking, "data-place")}
    for page, rows in seen.items():
        assert set(streets) <= set(rows), page
    compared = 0
    for code, name in streets.items():
        board, assess, rank = (seen[page][code] for page in ("dashboard", "assessment", "ranking"))
        for rate in RATES:
            assert board[rate] == assess[rate] == rank[rate], (name, rate)
        assert assess["composite"] == rank["composite"], name
        for count in ("received", "dispatched"):
            assert board[count] == assess[count], (name, count)
        plain = _plain_sql(code)
        assert (assess["response_rate"], assess["resolution_rate"], assess["received"]) == (
            plain["response_rate"],
            plain["resolution_rate"],
            plain["received"],
        ), name
        compared += assess["response_rate"] != "—"
    assert compared >= 10  # the generator put work in (nearly) every street
    # The ranking names the street, as the two other pages do, not its office.
    assert all(f">{name} <span" in ranking for name in streets.values())
    # Each page says what it counts and links to the definitions it shows.
    for html, basis in ((dashboard, "place"), (assessment, "place"), (ranking, "place")):
        assert f'data-basis="{basis}"' in html and 'href="#definitions"' in html
        assert 'id="definitions"' in html and 'id="def-response_rate"' in html
    assert 'id="dispatched-note"' in dashboard and 'id="def-dispatched"' in dashboard
