"""The figures of 评理说事 and 议事会 (`mediation.figures`): every figure for the district, each
street and a community, by level, street and kind, against an independent count made here in plain
Python over every row, with rows at the period's edges; the page, its fixed number of queries and
who sees which place; the export's rows equal to the page's; the ranking's detail."""

import csv
import datetime
import io
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from cases.models import Case
from cases.services import categories_load
from feedback import services as feedback_services
from feedback.metrics import Period
from mediation.figures import COUNTS, DELIBERATION_FIGURES, figures
from mediation.models import AgendaItem, Council, Kind, Mediation, MediationEvent, Meeting, Point
from mediation.services import mediation_move
from tests.factories import Cast, make_cast, open_case

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
FIRST, LAST = datetime.date(2026, 3, 1), datetime.date(2026, 3, 31)
PERIOD = {"period": "custom", "from": FIRST.isoformat(), "to": LAST.isoformat()}


def moment(month, day, hour=10, minute=0):
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


# The edges of the period: the last half hour of February and the first of April are outside.
BEFORE = moment(2, 28, 23, 30)
OPENING = moment(3, 1, 0, 10)
INSIDE = moment(3, 10)
LATE = moment(3, 31, 23, 30)
AFTER = moment(4, 1, 0, 10)


@dataclass
class World:
    cast: Cast
    points: dict  # name → Point


def _point(code, name, level, region, unit):
    return Point.objects.create(code=code, name=name, level=level, region=region, unit=unit, kinds=Kind.values)


def _mediation(point, kind, created, actor, events=()):
    """A mediation accepted at `created`, and its historical events [(action, at, data)]."""
    with time_machine.travel(created, tick=False):
        mediation = Mediation.objects.create(point=point, kind=kind, facts="地界纠纷", created_by=actor)
    for action, at, data in events:
        with time_machine.travel(at, tick=False):
            MediationEvent.objects.create(mediation=mediation, action=action, actor=actor, data=data)
    return mediation


def build() -> World:
    cast = make_cast()
    categories_load()
    actor = cast.community_clerk
    L = Point.Level
    points = {
        "district": _point("P-D", "区评理说事中心", L.DISTRICT, cast.district, cast.department),
        "street": _point("P-S", "解放街道评理说事点", L.STREET, cast.street, cast.street_office),
        "community": _point("P-C", "金山社区评理说事点", L.COMMUNITY, cast.community, cast.committee),
        "village": _point("P-V", "民主村评理说事点", L.COMMUNITY, cast.other_community, cast.other_committee),
    }
    # Moved through the table of moves, as the pages move them: session and agreement in March,
    # broken in its last half hour.
    moved = _mediation(points["community"], Kind.FAMILY, INSIDE, actor)
    for action, at in (("schedule", INSIDE), ("session", INSIDE), ("agreement", INSIDE), ("break", LATE)):
        with time_machine.travel(at, tick=False), mediation_move(moved, action, actor=actor):
            pass
    # Accepted in February: its February session is outside; its no agreement and its referral up
    # are inside, at the community's point; the street's point accepts it in March.
    lower = _mediation(
        points["community"],
        Kind.FARMING,
        BEFORE,
        actor,
        [("session", BEFORE, {}), ("no_agreement", OPENING, {}), ("refer", INSIDE, {"point": "P-S"})],
    )
    _mediation(points["street"], Kind.FARMING, INSIDE, actor, [("session", LATE, {}), ("agreement", AFTER, {})])
    Mediation.objects.filter(point=points["street"]).update(referred_from=lower)
    # Referred out (to the court) in March, after a no agreement; a reveal is no figure.
    _mediation(
        points["village"],
        Kind.PUBLIC,
        LATE,
        actor,
        [("no_agreement", INSIDE, {}), ("refer", LATE, {"to": "区人民法院"}), ("reveal_phone", INSIDE, {})],
    )
    _mediation(points["district"], Kind.FAMILY, OPENING, actor, [("session", INSIDE, {}), ("agreement", INSIDE, {})])
    _mediation(points["village"], Kind.FAMILY, AFTER, actor, [("session", AFTER, {})])
    _mediation(points["street"], Kind.PUBLIC, BEFORE, actor, [("break", BEFORE, {}), ("agreement", OPENING, {})])

    # Councils of a community, a village and a street; meetings at the edges of March.
    councils = {
        name: Council.objects.create(name=f"{region.name}议事会", kind=Council.Kind.RESIDENTS, region=region, unit=unit)
        for name, region, unit in (
            ("community", cast.community, cast.committee),
            ("village", cast.other_community, cast.other_committee),
            ("street", cast.street, cast.street_office),
        )
    }
    closed, still_open, other = (open_case(cast) for _ in range(3))
    feedback_services.case_close_invalid(case=closed, actor=cast.dispatcher, reason="out_of_scope", note="不属受理范围")

    def meeting(council, day, items):
        held = Meeting.objects.create(council=councils[council], held_on=day, created_by=actor)
        for decided, opened in items:
            AgendaItem.objects.create(
                council=councils[council],
                source=AgendaItem.Source.MEMBER,
                title="停车位划分",
                meeting=held,
                decided=decided,
                opened_case=opened,
                created_by=actor,
            )

    meeting("community", FIRST, [(True, closed), (True, still_open), (True, None), (False, None), (None, None)])
    meeting("community", FIRST - datetime.timedelta(days=1), [(True, None)])
    meeting("village", LAST, [(True, other)])
    meeting("street", LAST + datetime.timedelta(days=1), [(True, None)])
    meeting("street", datetime.date(2026, 3, 15), [])
    return World(cast=cast, points=points)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        yield build()
        transaction.set_rollback(True)


# --- the independent count: every row, one at a time ------------------------------------------------


def inside(value):
    day = timezone.localtime(value, SHANGHAI).date() if isinstance(value, datetime.datetime) else value
    return FIRST <= day <= LAST


def expected(prefix):
    """{"total" | ("level", l) | ("kind", k) | ("street", code): {figure: n}} and the councils'."""
    groups = {}

    def count(keys, figure):
        for key in keys:
            group = groups.setdefault(key, dict.fromkeys(COUNTS, 0))
            group[figure] += 1

    def keys(mediation):
        code = mediation.point.region.code
        return ("total", ("level", mediation.point.level), ("kind", mediation.kind), ("street", code[:9]))

    for mediation in Mediation.objects.select_related("point__region"):
        if mediation.point.region.code.startswith(prefix) and inside(mediation.created_at):
            count(keys(mediation), "accepted")
    names = {"session": "sessions", "agreement": "agreements", "no_agreement": "no_agreements", "break": "broken"}
    for event in MediationEvent.objects.select_related("mediation__point__region"):
        if not event.mediation.point.region.code.startswith(prefix) or not inside(event.at):
            continue
        if event.action == "refer":
            count(keys(event.mediation), "referred_out" if event.data.get("to") else "referred_up")
        elif event.action in names:
            count(keys(event.mediation), names[event.action])
    councils = {}
    for meeting in Meeting.objects.select_related("council__region"):
        code = meeting.council.region.code
        if not code.startswith(prefix) or not inside(meeting.held_on):
            continue
        for key in ("total", code[:9]):
            group = councils.setdefault(key, dict.fromkeys(DELIBERATION_FIGURES, 0))
            group["meetings"] += 1
            for item in meeting.items.select_related("opened_case"):
                if item.decided is True:
                    group["items_decided"] += 1
                    if item.opened_case is not None:
                        group["cases_opened"] += 1
                        group["cases_closed"] += item.opened_case.status == Case.Status.CLOSED
    return groups, councils


def counts(figures_):
    return {name: getattr(figures_, name) for name in COUNTS}


ZERO = dict.fromkeys(COUNTS, 0)


@pytest.mark.parametrize("place", ["district", "street", "other_street", "community"])
def test_every_figure_equals_an_independent_count(world, place):
    region = getattr(world.cast, place)
    seen = figures(region=region, period=Period(FIRST, LAST))
    groups, councils = expected(region.code)
    assert counts(seen.total) == groups.get("total", ZERO)
    for level in Point.Level.values:
        assert counts(seen.by_level[level]) == groups.get(("level", level), ZERO), level
    for kind in Kind.values:
        assert counts(seen.by_kind[kind]) == groups.get(("kind", kind), ZERO), kind
    assert {key: counts(value) for key, value in seen.by_street.items()} == {
        key[1]: value for key, value in groups.items() if key[0] == "street"
    }
    assert seen.deliberation.as_dict() == councils.get("total", dict.fromkeys(DELIBERATION_FIGURES, 0))
    assert {key: value.as_dict() for key, value in seen.deliberation_by_street.items()} == {
        key: value for key, value in councils.items() if key != "total"
    }


def test_the_figures_by_hand_for_the_district(world):
    """The count above, worked by hand once, so that both cannot be wrong the same way."""
    seen = figures(region=world.cast.district, period=Period(FIRST, LAST))
    assert seen.total.as_dict() == {
        "accepted": 4,  # moved, the referred-up one at the street, the village's LATE one, the district's
        "sessions": 3,  # moved, the street's LATE, the district's; not February's nor April's
        "agreements": 3,  # moved, the district's, the street's of 1 March; not April's
        "no_agreements": 2,  # 1 March 00:10 and the village's
        "success_rate": 3 / 5,
        "referred_up": 1,
        "referred_out": 1,
        "broken": 1,  # LATE; not February's
    }
    assert seen.by_level["street"].accepted == 1 and seen.by_level["community"].referred_up == 1
    assert seen.by_kind["farming"].no_agreements == 1 and seen.by_kind["public"].referred_out == 1
    assert seen.deliberation.as_dict() == {"meetings": 3, "items_decided": 4, "cases_opened": 3, "cases_closed": 1}
    # 1 April alone: the village's walk-in, its session, the street's late agreement.
    april = figures(region=world.cast.district, period=Period(AFTER.date(), AFTER.date())).total
    assert april.as_dict() == {
        **dict.fromkeys(COUNTS, 0), "accepted": 1, "sessions": 1, "agreements": 1, "success_rate": 1.0,
    }  # fmt: skip


def page_figures(answer):
    """{table id: {row key: {figure: text}}} and the cards, read from the HTML."""
    html = answer.content.decode()
    cards = dict(re.findall(r'data-kpi="(\w+)">([^<]*)<', html))
    tables = {}
    for table_id, body in re.findall(r'<table[^>]*id="((?:mediation|council)-by-\w+)"(.*?)</table>', html, re.S):
        tables[table_id] = {
            key: dict(re.findall(r'data-figure="(\w+)">([^<]*)<', row))
            for key, row in re.findall(r'<tr data-key="(\w+)">(.*?)</tr>', body, re.S)
        }
    return cards, tables


def test_the_page_shows_the_figures_for_the_same_queries_whatever_the_place(client, world, django_assert_num_queries):
    cast = world.cast
    client.force_login(cast.official)
    answer = client.get(f"/dashboards/mediation/{cast.district.code}/", PERIOD)
    assert answer.status_code == 200
    cards, tables = page_figures(answer)
    assert cards["accepted"] == "4" and cards["success_rate"] == "60.0%" and cards["cases_closed"] == "1"
    assert tables["mediation-by-street"][cast.street.code]["accepted"] == "2"
    assert tables["mediation-by-street"][cast.district.code]["agreements"] == "1"
    assert tables["mediation-by-kind"]["farming"]["referred_up"] == "1"
    assert tables["mediation-by-level"]["community"]["no_agreements"] == "2"
    assert tables["council-by-street"][cast.other_street.code]["cases_opened"] == "1"
    # A street's page: its own figures, no table of streets.
    street = page_figures(client.get(f"/dashboards/mediation/{cast.street.code}/", PERIOD))
    assert street[0]["accepted"] == "2" and "mediation-by-street" not in street[1]
    # Session, user, postings, the place, the roots, the two mediation queries, the two councils'
    # queries, the unread badge; the district's page adds its streets. The same for 2 streets or 20.
    for code, queries in ((cast.district.code, 11), (cast.street.code, 10)):
        with django_assert_num_queries(queries):
            assert client.get(f"/dashboards/mediation/{code}/", PERIOD).status_code == 200


def test_who_sees_which_place(client, world):
    cast = world.cast
    client.force_login(cast.street_clerk)
    assert client.get("/dashboards/mediation/").url == f"/dashboards/mediation/{cast.street.code}/"
    assert client.get(f"/dashboards/mediation/{cast.community.code}/").status_code == 200
    for code in (cast.district.code, cast.other_street.code, cast.other_community.code, "999999", cast.grid_a.code):
        assert client.get(f"/dashboards/mediation/{code}/").status_code == 404
        assert (
            client.get(
                "/dashboards/export/", {"table": "mediation", "format": "csv", "region": code, **PERIOD}
            ).status_code
            == 404
        )
    client.force_login(cast.community_clerk)
    assert client.get("/dashboards/mediation/").url == f"/dashboards/mediation/{cast.community.code}/"
    assert client.get(f"/dashboards/mediation/{cast.street.code}/").status_code == 404
    for person in (cast.dept_clerk, cast.gridworker):
        client.force_login(person)
        assert client.get("/dashboards/mediation/").status_code == 404
        assert client.get(f"/dashboards/mediation/{cast.district.code}/").status_code == 404
        assert "/dashboards/mediation/" not in client.get("/").text
    client.force_login(cast.official)
    assert "/dashboards/mediation/" in client.get("/").text
    overview = client.get(f"/dashboards/{cast.district.code}/", PERIOD).text
    assert f"/dashboards/mediation/{cast.district.code}/?period=custom" in overview
    # A bad range is an error on the page, not a crash.
    answer = client.get(f"/dashboards/mediation/{cast.district.code}/", {"period": "custom", "from": "2026-04-01"})
    assert answer.status_code == 200 and 'data-error-for="to"' in answer.text


def test_the_exports_rows_equal_the_pages_figures(client, world):
    cast = world.cast
    client.force_login(cast.dispatcher)
    _cards, tables = page_figures(client.get(f"/dashboards/mediation/{cast.district.code}/", PERIOD))
    answer = client.get(
        "/dashboards/export/", {"table": "mediation", "format": "csv", "region": cast.district.code, **PERIOD}
    )
    assert answer.status_code == 200
    rows = list(
        csv.reader(
            io.StringIO(
                b"".join(answer.streaming_content if answer.streaming else [answer.content]).decode("utf-8-sig")
            )
        )
    )
    header, rows = rows[0], rows[1:]
    seen = figures(region=cast.district, period=Period(FIRST, LAST))
    keys = [
        "accepted",
        "sessions",
        "agreements",
        "no_agreements",
        "success_rate",
        "referred_up",
        "referred_out",
        "broken",
    ]
    total = rows[0]
    assert total[1] == cast.district.code
    assert [int(total[3 + i]) for i in (0, 1, 2, 3, 5, 6, 7)] == [
        getattr(seen.total, keys[i]) for i in (0, 1, 2, 3, 5, 6, 7)
    ]
    assert total[-4:] == [str(value) for value in seen.deliberation.as_dict().values()]
    by_key = {(row[0], row[1]): row for row in rows[1:]}
    assert len(rows) == 1 + len(Point.Level.values) + len(Kind.values) + 3  # the district's own point and two streets
    for table_id in ("mediation-by-level", "mediation-by-kind", "mediation-by-street"):
        for key, cells in tables[table_id].items():
            row = next(row for (_group, code), row in by_key.items() if code == key)
            for i, figure in enumerate(keys):
                if figure != "success_rate":
                    assert row[3 + i] == cells[figure], (table_id, key, figure)
    for key, cells in tables["council-by-street"].items():
        row = next(row for (_g, code), row in by_key.items() if code == key and len(code) >= 6 and code.isdigit())
        assert row[-4:] == [cells[name] for name in DELIBERATION_FIGURES]
    assert len(header) == 3 + 8 + 4


def test_the_rankings_detail_shows_each_street_offices_street_and_each_units_points(client, world):
    cast = world.cast
    client.force_login(cast.official)
    html = client.get("/dashboards/ranking/", {"level": "street", "month": "2026-03"}).text
    shown = dict(re.findall(r'data-mediation="(\w+)" data-accepted="(\d+)"', html))
    street = figures(region=cast.street, period=Period(FIRST, LAST)).total
    other = figures(region=cast.other_street, period=Period(FIRST, LAST)).total
    assert shown == {cast.street_office.code: str(street.accepted), cast.other_street_office.code: str(other.accepted)}
    assert street.accepted == 2
    detail = html.split(f'data-mediation="{cast.street_office.code}"')[1].split("</td>")[0]
    assert 'data-figure="items_decided">3<' in detail and 'data-figure="referred_up">1<' in detail
    # A department: the points it hosts (here the district's own), not a place.
    html = client.get("/dashboards/ranking/", {"level": "department", "month": "2026-03"}).text
    assert f'data-mediation="{cast.department.code}" data-accepted="1" data-agreements="1"' in html
