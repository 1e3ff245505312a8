"""A generated quarter read by the checks that need a large history: the fates in their shares,
the real sweep finding nothing left to do, every alert on its own case, the dashboards agreeing
with plain counts, the pages showing the work. Generated once for the module (see `generated`)."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.fields.json import KT
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, CaseEvent
from dashboards import selectors
from dashboards.models import COUNTS, DailyRollup
from dashboards.services import rollups_refresh
from escalation.models import Alert, Supervision
from escalation.services import assignment_check, deadlines_sweep
from feedback import metrics
from routing.models import Assignment, AutoRouteAttempt
from tests.scale.test_generator import END_MOMENT, SIZE, generate

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def generated(django_db_setup, django_db_blocker):
    """A quarter, so that late cases have had the time to reach supervision; three chunks computed
    by two worker processes, so that the ids of each chunk are shifted into place.

    Generated once for the module's tests that only read it (or write in their own savepoint),
    inside a transaction rolled back when the module is done."""
    with django_db_blocker.unblock(), transaction.atomic(), override_settings(DEBUG=True):
        call_command("load_demo", stdout=StringIO())
        output = generate("--days=90", "--chunk=1000", "--workers=2")
        yield output
        transaction.set_rollback(True)


def test_every_fate_is_there_in_the_shares_asked_for(generated):
    cases = Case.objects.all()
    total = cases.count()
    assert total == SIZE

    def share(condition):
        return cases.filter(condition).count() / total

    # Late: of the first parts whose deadline has passed, those resolved after it or still open.
    due = Assignment.objects.filter(role="lead", is_redo=False, resolve_due__lt=END_MOMENT)
    still_open = Q(finished_at__isnull=True, state__in=["waiting", "signed"])
    late = due.filter(Q(finished_at__gt=F("resolve_due")) | still_open)
    assert 0.08 <= late.count() / due.count() <= 0.18
    events = CaseEvent.objects.filter(case=OuterRef("pk"))
    assert 0.02 <= share(Exists(events.filter(action="return"))) <= 0.045
    assert 0.03 <= share(Exists(events.filter(action="reopen"))) <= 0.07
    # Supervision comes weeks after a late case came in: count the cases of the first two months.
    old = cases.filter(created_at__lt=END_MOMENT - datetime.timedelta(days=30))
    supervised = old.filter(Exists(Supervision.objects.filter(case=OuterRef("pk")))).count()
    assert 0.01 <= supervised / old.count() <= 0.045
    reasons = set(cases.exclude(closure_reason="").values_list("closure_reason", flat=True))
    assert reasons == {"satisfied", "answered_directly", "exempted", "unreachable"}
    statuses = set(cases.values_list("status", flat=True))
    assert {"closed", "dispatched", "in_progress", "resolved"} <= statuses
    # A working day in the middle of the span has traffic; most of it in office hours.
    day = cases.filter(created_at__date="2026-03-18")
    hours = [moment.hour for moment in day.values_list("created_at", flat=True)]
    assert hours and sum(8 <= (hour + 8) % 24 < 18 for hour in hours) / len(hours) > 0.6
    assert set(cases.values_list("channel", flat=True)) == {"hotline", "online", "patrol", "walk_in"}
    # Every callback and closure names its unit, as the services write them.
    assert not CaseEvent.objects.filter(action__in=["callback", "close", "resolve"], data__unit__isnull=True).exists()


def test_the_real_sweep_finds_the_escalations_already_done(generated):
    """Alerts, notices and supervision were written at the moments the sweep would have fired
    them: the sweep at the end moment has nothing to do, and checking every open assignment again
    fires nothing and computes the same next check."""
    assert Alert.objects.filter(stage="supervise_1").exists()
    assert deadlines_sweep(now=END_MOMENT)["checked"] == 0
    active = Assignment.objects.filter(state__in=Assignment.ACTIVE_STATES)
    before = dict(active.values_list("pk", "next_check_at"))
    assert before and all(moment is None or moment > END_MOMENT for moment in before.values())
    for pk in before:
        assert assignment_check(assignment_id=pk, now=END_MOMENT) == []
    assert dict(active.values_list("pk", "next_check_at")) == before
    # A week later the open cases have stages due: the sweep fires them at that moment, for open
    # assignments only, and a second sweep at the same moment has nothing left.
    later = END_MOMENT + datetime.timedelta(days=7)
    assert deadlines_sweep(now=later)["fired"] > 0
    new = Alert.objects.filter(at=later)
    assert new.exists() and not new.exclude(assignment__pk__in=list(before)).exists()
    assert not Alert.objects.filter(at__gt=END_MOMENT, at__lt=later).exists()
    assert deadlines_sweep(now=later) == {"checked": 0, "fired": 0, "ended": 0}


def test_every_alert_and_supervision_belongs_to_its_own_case(generated):
    """The chunks' ids were shifted correctly: an alert's or a supervision's assignment is one of
    the case the stage's event was written for."""
    assert not Supervision.objects.exclude(case_id=F("assignment__case_id")).exists()
    staged = Alert.objects.exclude(stage__startswith="supervise")
    events = CaseEvent.objects.annotate(limit=KT("data__limit"), stage=KT("data__stage")).filter(
        case_id=OuterRef("assignment__case_id"), limit=OuterRef("limit"), stage=OuterRef("stage")
    )
    assert staged.count() > 100
    assert not staged.filter(~Exists(events)).exists()
    routed = Case.objects.exclude(closure_reason="answered_directly")
    assert routed.count() == AutoRouteAttempt.objects.count()


def test_the_dashboards_agree_with_plain_counts_of_the_generated_month(generated):
    march = metrics.Period.month("2026-03")
    shown = selectors.summary(prefix="210111", period=march).figures
    events = CaseEvent.objects.filter(at__gte=march.start, at__lt=march.end)
    reached = events.filter(action="callback", data__reached=True)
    leads = Assignment.objects.filter(role="lead")
    assert shown.received == Case.objects.filter(created_at__gte=march.start, created_at__lt=march.end).count()
    assert (
        shown.dispatched
        == leads.filter(is_redo=False, dispatched_at__gte=march.start, dispatched_at__lt=march.end).count()
    )
    assert shown.resolved == leads.filter(state="done", finished_at__gte=march.start, finished_at__lt=march.end).count()
    assert shown.callbacks == reached.count() > 0
    assert shown.satisfied == reached.filter(data__satisfaction="satisfied").count()
    assert shown.redos == events.filter(action="reopen").count() > 0
    assert shown.returns == events.filter(action="return").count() > 0
    assert shown.closed_unreachable == events.filter(action="close", data__reason="unreachable").count()
    assert 0.5 < shown.satisfaction_rate < 1


def test_the_pages_show_the_generated_work(generated, client):
    from accounts.models import User

    client.force_login(User.objects.get(username="dispatcher"))
    supervised = Case.objects.filter(pk__in=Supervision.objects.values("case_id"), status="closed").first()
    page = client.get(reverse("cases:detail", args=[supervised.number]))
    assert page.status_code == 200
    assert "督办" in page.content.decode()
    waiting = Case.objects.filter(status="resolved", assignments__callback_due__isnull=False)
    oldest = waiting.order_by("assignments__callback_due").first()
    callbacks = client.get(reverse("feedback:callbacks"))
    assert callbacks.status_code == 200
    assert oldest.number in callbacks.content.decode()
    # Called back and waiting for the on-site check: not in the callback queue any more.
    checking = Case.objects.filter(status="resolved").exclude(assignments__callback_due__isnull=False)
    assert all(case.number not in callbacks.content.decode() for case in checking)


def test_the_generated_rollups_are_those_of_the_real_refresh_month_by_month(generated):
    """The generator sums the rollups of its whole history in one statement in PostgreSQL
    (`rollups_refresh_in_sql`); the real refresh, a month at a time as the generator once ran it,
    writes the same rows with the same counts."""
    keys = ["day", "grid", "category_id", "unit", "channel"]

    def rollups():
        rows = DailyRollup.objects.values_list(*keys, *COUNTS, "handling_seconds")
        return {tuple(row[:5]): row[5:] for row in rows}

    summed = rollups()
    first = timezone.localdate(Case.objects.order_by("created_at").values_list("created_at", flat=True)[0])
    day = first
    while day <= END_MOMENT.date():
        month_end = (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1) - datetime.timedelta(days=1)
        rollups_refresh(first=day, last=min(month_end, END_MOMENT.date()), now=END_MOMENT)
        day = month_end + datetime.timedelta(days=1)
    refreshed = rollups()
    assert len(summed) > 1000 and summed.keys() == refreshed.keys()
    for key, counts in refreshed.items():
        assert summed[key][:-1] == counts[:-1], key
        assert summed[key][-1] == pytest.approx(counts[-1], rel=1e-12), key
