"""A generated month: eighty cases with random fates, pushed through the real services, and every
dashboard figure checked against a plain count over the raw cases, assignments and events."""

import datetime
import random

import pytest
import time_machine
from django.db import transaction

from cases.models import Case, CaseEvent
from dashboards import selectors
from dashboards.services import rollups_refresh
from feedback import metrics, services
from handling.services import case_contact, case_resolve
from routing import dispatch
from routing.filters import CaseFilterSet
from routing.models import Assignment
from routing.tasks import dispatch_case
from tests.factories import UserFactory, member, open_case, routing_setup
from tests.handling.helpers import SHANGHAI

pytestmark = pytest.mark.django_db
MARCH = metrics.Period.month("2026-03")
START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def month(django_db_setup, django_db_blocker):
    """Eighty cases, one every eight hours from 2 March, each living its life within hours.

    Built once for the module (it takes seconds: every case goes through the real services),
    inside a transaction rolled back when the module is done; each test runs in a savepoint of
    its own within it, so none sees another's writes."""
    from cases.services import categories_load
    from tests.factories import make_cast

    with django_db_blocker.unblock(), transaction.atomic():
        categories_load()
        cast = make_cast()
        routing_setup(cast)
        village_clerk = member(UserFactory(username="t_village", real_name="冯村委"), cast.other_committee)
        clerks = {
            cast.committee.pk: cast.community_clerk,
            cast.department.pk: cast.dept_clerk,
            cast.other_committee.pk: village_clerk,
        }
        rng = random.Random(20260301)
        with time_machine.travel(START, tick=False) as clock:
            for number in range(80):
                clock.move_to(START + datetime.timedelta(hours=8 * number))
                grid = rng.choice([cast.grid_a, cast.grid_b, cast.grid_c])
                category = "0103" if grid != cast.grid_c and rng.random() < 0.3 else "0201"
                case = open_case(cast, grid=grid, category_code=category)
                dispatch_case(case.pk)
                _live(case, clerks, cast, rng, clock)
            clock.move_to(datetime.datetime(2026, 3, 31, 18, 0, tzinfo=SHANGHAI))
            rollups_refresh(first=MARCH.first, last=MARCH.last)
        yield cast
        transaction.set_rollback(True)


def _live(case, clerks, cast, rng, clock):
    fate = rng.random()
    if fate < 0.1:
        return  # left waiting for sign-for
    lead = Assignment.objects.filter(case=case).latest("id")
    clerk = clerks[lead.unit_id]
    clock.shift(datetime.timedelta(minutes=rng.choice([20, 90, 200])))
    case = Case.objects.get(pk=case.pk)
    dispatch.case_sign(case=case, actor=clerk)
    if fate < 0.15:
        dispatch.case_return(case=case, actor=clerk, reason="not_our_area", note="不属本辖区")
        return
    if rng.random() < 0.8:
        clock.shift(datetime.timedelta(minutes=30))
        case_contact(case=case, actor=clerk, method="phone", agreed="约定处理")
    if fate < 0.25:
        return  # still in progress
    clock.shift(datetime.timedelta(hours=rng.choice([1, 3, 5])))
    case_resolve(case=case, actor=clerk, result_kind="solved", result="已处理")
    clock.shift(datetime.timedelta(minutes=40))
    verdict = rng.random()
    answer = {"case": case, "actor": cast.dispatcher, "reached": True}
    if verdict < 0.1:
        services.case_callback(**{**answer, "reached": False})
    elif verdict < 0.6:
        services.case_callback(**answer, resolved=True, satisfaction="satisfied")
    elif verdict < 0.8:
        services.case_callback(**answer, resolved=True, satisfaction="basically")
    elif verdict < 0.9:
        services.case_callback(**answer, resolved=False, satisfaction="unsatisfied")
    else:
        services.case_callback(
            case=case,
            actor=cast.dispatcher,
            reached=True,
            resolved=False,
            satisfaction="unsatisfied",
            exemption="unreasonable",
            note="诉求不合理",
        )


def _plain(prefix):
    """The independent count: plain filters over the raw rows, no shared code with the rollups."""
    cases = Case.objects.filter(grid__code__startswith=prefix)
    events = CaseEvent.objects.filter(case__grid__code__startswith=prefix, at__gte=MARCH.start, at__lt=MARCH.end)
    reached = events.filter(action="callback", data__reached=True)
    leads = Assignment.objects.filter(case__grid__code__startswith=prefix, role="lead")
    return {
        "received": cases.filter(created_at__gte=MARCH.start, created_at__lt=MARCH.end).count(),
        "dispatched": leads.filter(is_redo=False).count(),
        "resolved": leads.filter(state="done").count(),
        "callbacks": reached.count(),
        "callbacks_solved": reached.filter(data__resolved=True).count(),
        "satisfied": reached.filter(data__satisfaction="satisfied").count(),
        "basically": reached.filter(data__satisfaction="basically").count(),
        "unsatisfied": reached.filter(data__satisfaction="unsatisfied").count(),
        "unreachable_attempts": events.filter(action="callback", data__reached=False).count(),
        "returns": events.filter(action="return").count(),
        "redos": events.filter(action="reopen").count(),
        "exempted": cases.filter(closure_reason="exempted").count(),
        "closed": events.filter(to_status="closed").count(),
        "open": cases.filter(status__in=Case.OPEN_STATUSES).count(),
        "overdue": CaseFilterSet({"overdue": "true"}, queryset=cases).qs.count(),
    }


@pytest.mark.parametrize("prefix", ["210111", "210111001", "210111003", "210111001015", "210111001015002"])
def test_every_dashboard_figure_equals_a_plain_count_of_the_raw_rows(month, prefix):
    with time_machine.travel(datetime.datetime(2026, 3, 31, 18, 0, tzinfo=SHANGHAI), tick=False):
        shown = selectors.summary(prefix=prefix, period=MARCH)
        plain = _plain(prefix)
    figures = shown.figures
    for name, value in plain.items():
        got = getattr(shown, name) if name in ("open", "overdue") else getattr(figures, name)
        assert got == value, (prefix, name)
    if plain["callbacks"]:
        assert figures.resolution_rate == plain["callbacks_solved"] / plain["callbacks"]
        assert figures.satisfaction_rate == pytest.approx(
            (plain["satisfied"] + 0.8 * plain["basically"]) / plain["callbacks"]
        )
    assert plain["received"] > 0  # the generator really put work here


def test_the_month_has_every_kind_of_fate(month):
    reasons = set(Case.objects.exclude(closure_reason="").values_list("closure_reason", flat=True))
    assert {"satisfied", "exempted"} <= reasons
    assert Case.objects.filter(status="returned").exists() and Case.objects.filter(status="in_progress").exists()
    assert CaseEvent.objects.filter(action="reopen").exists()


def test_the_streets_add_up_to_the_district_and_the_communities_to_their_street(month):
    with time_machine.travel(datetime.datetime(2026, 3, 31, 18, 0, tzinfo=SHANGHAI), tick=False):
        district = selectors.summary(prefix="210111", period=MARCH)
        streets = selectors.children(region=month.district, period=MARCH)
        communities = selectors.children(region=month.street, period=MARCH)
        street = selectors.summary(prefix=month.street.code, period=MARCH)
    for name in ("received", "dispatched", "resolved", "callbacks", "returns", "redos", "closed", "exempted"):
        assert sum(getattr(child.figures, name) for child in streets) == getattr(district.figures, name), name
        assert sum(getattr(child.figures, name) for child in communities) == getattr(street.figures, name), name
    assert sum(child.open for child in streets) == district.open
    assert sum(child.overdue for child in streets) == district.overdue
