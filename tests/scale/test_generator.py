"""The generator: bad input refused before anything is written; the data it writes is the data the
services would have written (the real sweep finds nothing left to do, the dashboards agree with
plain counts), with the fates in the shares the issue asks for, the same for the same seed."""

import datetime
import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.fields.json import KT
from django.urls import reverse

from cases.models import Case, CaseEvent
from dashboards import selectors
from escalation.models import Alert, Supervision
from escalation.services import assignment_check, deadlines_sweep
from feedback import metrics
from intake.models import Call
from routing.models import Assignment, AutoRouteAttempt
from scale.generator import BYTES_PER_CASE, HEADROOM, GenerationRefused, _free_bytes, check_room
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
    # A quarter, so that late cases have had the time to reach supervision; three chunks computed
    # by two worker processes, so that the ids of each chunk are shifted into place.
    return generate("--days=90", "--chunk=1000", "--workers=2")


@pytest.mark.parametrize(
    ("size", "message"),
    [
        ("abc", "whole number"),
        ("1.5", "whole number"),
        ("0", "between 1 and"),
        ("-3", "between 1 and"),
        ("100000001", "between 1 and 100,000,000"),
    ],
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
    free = _free_bytes()
    assert free is not None, "the test database must be on this machine to know its free disk"
    with pytest.raises(GenerationRefused, match=r"100,000,000 cases need about 560\.8 GiB of disk .* only 1\.0 GiB"):
        check_room(100_000_000, free_bytes=1024**3)
    # The command asks the real disk; --check writes nothing either way.
    largest = 100_000_000
    if largest * BYTES_PER_CASE + HEADROOM > free:
        with pytest.raises(CommandError, match=r"need about .* GiB of disk .* free"):
            generate("--check", size=largest)
    else:
        assert "can be generated here" in generate("--check", size=largest)
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


def test_make_runs_demo_history_is_generated_once(sujiatun):
    """`make run` asks for a month of demo cases with --if-empty: the second start keeps the first's."""
    generate("--if-empty", size=200)
    numbers = set(Case.objects.values_list("number", flat=True))
    output = generate("--if-empty", size=200)
    assert "already holds cases: none generated" in output
    assert set(Case.objects.values_list("number", flat=True)) == numbers


def test_a_history_ending_just_after_midnight_is_generated(sujiatun):
    """Before 01:00 no hour of the last day has ended yet: that day gets no arrivals."""
    call_command("generate_cases", "--size=200", "--end=2026-03-31T00:30+08:00", stdout=StringIO())
    assert Case.objects.count() == 200
    assert not Case.objects.filter(created_at__gte=datetime.datetime.fromisoformat("2026-03-31T00:00+08:00")).exists()


@pytest.mark.parametrize(
    ("option", "message"), [("--chunk=0", "--chunk: must be at least 1"), ("--workers=0", "--workers")]
)
def test_a_bad_chunk_or_worker_count_is_refused(sujiatun, option, message):
    with pytest.raises(CommandError, match=message):
        generate(option, size=10)
    assert not Case.objects.exists()
