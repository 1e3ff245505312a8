"""The generator: bad input refused before anything is written; the data it writes is the data the
services would have written (the real sweep finds nothing left to do, the dashboards agree with
plain counts), with the fates in the shares the issue asks for, the same for the same seed."""

import datetime
import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse

from cases.models import Case, CaseEvent
from dashboards import selectors
from feedback import metrics
from intake.models import Call
from routing.escalation import assignment_check, deadlines_sweep
from routing.models import Alert, Assignment, Supervision
from scale.generator import _free_bytes
from tests.factories import open_case, routing_setup

END = "2026-03-31T18:00+08:00"
END_MOMENT = datetime.datetime.fromisoformat(END)
SIZE = 3000


def generate(*args, size=SIZE, **options):
    out = StringIO()
    call_command("generate_cases", f"--size={size}", f"--end={END}", *args, stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def sujiatun(db, settings):
    settings.DEBUG = True  # the demo people are the generated cases' staff
    call_command("load_demo", stdout=StringIO())


@pytest.fixture
def generated(sujiatun):
    return generate()


@pytest.mark.parametrize(
    ("size", "message"),
    [("abc", "whole number"), ("1.5", "whole number"), ("0", "between 1 and"), ("-3", "between 1 and")],
)
def test_a_size_that_is_not_a_count_is_refused_before_anything_is_written(sujiatun, size, message):
    with pytest.raises(CommandError, match=message):
        generate(size=size)
    assert not Case.objects.exists()


def test_a_database_with_cases_is_refused_unless_reset(sujiatun, cast, categories):
    routing_setup(cast)
    existing = open_case(cast, grid=cast.grid_a, category_code="0201")
    with pytest.raises(CommandError, match=r"already holds 1 cases.*--reset"):
        generate(size=50)
    assert list(Case.objects.values_list("pk", flat=True)) == [existing.pk]
    generate("--reset", size=50)
    assert Case.objects.count() == 50 and not Case.objects.filter(pk=existing.pk, number=existing.number).exists()


def test_too_little_disk_is_refused_before_anything_is_written(sujiatun):
    assert _free_bytes() is not None, "the test database must be on this machine to know its free disk"
    with pytest.raises(CommandError, match=r"need about .* GiB of disk .* free"):
        generate(size=1_000_000_000)
    assert not Case.objects.exists() and not CaseEvent.objects.exists()


def test_the_progress_is_shown_and_counts_are_reported(sujiatun):
    output = generate(size=400)
    assert "100% 400/400" in output and "rollups" in output
    assert "generated: cases_case 400" in output
    assert Case.objects.count() == Call.objects.count() == 400


def test_the_same_seed_gives_the_same_data_however_many_workers_and_another_seed_other_data(sujiatun):
    def digest():
        rows = Case.objects.order_by("pk").values_list("number", "status", "grid_id", "category_id", "created_at")
        events = CaseEvent.objects.order_by("pk").values_list("case_id", "action", "at")
        return hashlib.sha256(repr((list(rows), list(events))).encode()).hexdigest()

    generate("--seed=7", "--workers=1", "--chunk=100", size=300)
    first = digest()
    generate("--seed=7", "--reset", "--workers=2", "--chunk=100", size=300)
    assert digest() == first
    generate("--seed=8", "--reset", "--workers=2", "--chunk=100", size=300)
    assert digest() != first


def test_every_fate_is_there_in_the_shares_asked_for(generated):
    cases = Case.objects.all()
    total = cases.count()
    assert total == SIZE

    def share(condition):
        return cases.filter(condition).count() / total

    leads = Assignment.objects.filter(case=OuterRef("pk"), role="lead")
    late = leads.filter(Q(finished_at__gt=F("resolve_due")) | Q(finished_at__isnull=True, resolve_due__lt=END_MOMENT))
    events = CaseEvent.objects.filter(case=OuterRef("pk"))
    assert 0.07 <= share(Exists(late)) <= 0.14
    assert 0.02 <= share(Exists(events.filter(action="return"))) <= 0.045
    assert 0.03 <= share(Exists(events.filter(action="reopen"))) <= 0.07
    assert 0.01 <= share(Exists(Supervision.objects.filter(case=OuterRef("pk")))) <= 0.035
    reasons = set(cases.exclude(closure_reason="").values_list("closure_reason", flat=True))
    assert reasons == {"satisfied", "answered_directly", "exempted", "unreachable"}
    statuses = set(cases.values_list("status", flat=True))
    assert {"closed", "dispatched", "in_progress", "resolved"} <= statuses
    # A working day in the middle of the span has traffic; most of it in office hours.
    hours = [moment.hour for moment in cases.filter(created_at__date="2026-03-18").values_list("created_at", flat=True)]
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
    # A week later the open cases have stages due, and the sweep fires them.
    assert deadlines_sweep(now=END_MOMENT + datetime.timedelta(days=7))["fired"] > 0


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
    callbacks = client.get(reverse("feedback:callbacks"))
    waiting = Case.objects.filter(status="resolved", assignments__callback_due__isnull=False).distinct().count()
    assert callbacks.status_code == 200 and waiting > 0
    assert Case.objects.filter(status="resolved").first().number in callbacks.content.decode()


def test_make_runs_demo_history_is_generated_once(sujiatun):
    """`make run` asks for a month of demo cases with --if-empty: the second start keeps the first's."""
    generate("--if-empty", size=200)
    numbers = set(Case.objects.values_list("number", flat=True))
    output = generate("--if-empty", size=200)
    assert "already holds cases: none generated" in output
    assert set(Case.objects.values_list("number", flat=True)) == numbers
