import threading

import pytest
from django.db import connection, transaction

from cases import lifecycle
from cases.lifecycle import TRANSITIONS, TransitionNotAllowed
from cases.models import Case, CaseEvent
from cases.services import categories_load
from tests.factories import make_cast, open_case

pytestmark = pytest.mark.django_db

STATUSES = [status for status, _label in Case.Status.choices]
PAIRS = [(action, status) for action in TRANSITIONS if action != "open" for status in STATUSES]


def case_in(cast, status):
    case = open_case(cast)
    # Test set-up only: put the row straight into the status under test.
    Case.objects.filter(pk=case.pk).update(
        status=status,
        closure_reason="invalid" if status == "closed" else "",
        closed_at=case.created_at if status == "closed" else None,
    )
    case.refresh_from_db()
    return case


@pytest.fixture(scope="class")
def shared_cast(django_db_setup, django_db_blocker):
    """The cast and the seeded categories, built once for the class that asks for them, in a
    transaction rolled back after its last test."""
    with django_db_blocker.unblock(), transaction.atomic():
        cast = make_cast()
        categories_load()
        yield cast
        transaction.set_rollback(True)


class TestTheTable:
    """Every (move, status) pair of the table: some two hundred tests that each open one case in
    the same small world, so the world (the cast and the seeded categories) is built once for the
    class, in a transaction rolled back after its last test, and each test runs in a savepoint
    rolled back after it. A class rather than the module: the module's transactional test must not
    run inside that transaction."""

    @pytest.mark.parametrize(("action", "status"), PAIRS)
    def test_every_move_outside_the_table_is_refused_and_every_listed_one_writes_one_event(
        self, shared_cast, action, status
    ):
        check_move(shared_cast, action, status)


def check_move(cast, action, status):
    case = case_in(cast, status)
    events_before = CaseEvent.objects.filter(case=case).count()
    move = TRANSITIONS[action]
    changes = {"closure_reason": "invalid"} if move.target == "closed" else {}
    if status in move.sources:
        moved, event = lifecycle.apply(case=case, action=action, actor=cast.dispatcher, changes=changes)
        assert CaseEvent.objects.filter(case=case).count() == events_before + 1
        assert (event.action, event.from_status, event.to_status) == (move.event or action, status, moved.status)
        assert moved.status == (move.target or status)
        case.refresh_from_db()
        assert case.status == moved.status
    else:
        with pytest.raises(TransitionNotAllowed):
            lifecycle.apply(case=case, action=action, actor=cast.dispatcher, changes=changes)
        case.refresh_from_db()
        assert case.status == status
        assert CaseEvent.objects.filter(case=case).count() == events_before


def test_an_unknown_action_is_refused(cast, categories):
    case = open_case(cast)
    with pytest.raises(TransitionNotAllowed):
        lifecycle.apply(case=case, action="teleport", actor=cast.dispatcher)


def test_closing_sets_the_time_and_reopening_clears_it(cast, categories):
    case = case_in(cast, "resolved")
    closed, _ = lifecycle.apply(case=case, action="close", actor=cast.dispatcher, changes={"closure_reason": "invalid"})
    assert closed.closed_at is not None
    reopened, _ = lifecycle.apply(case=closed, action="reopen", actor=cast.dispatcher, note="居民反映未解决")
    assert (reopened.status, reopened.closed_at, reopened.closure_reason) == ("in_progress", None, "")


def test_the_database_refuses_a_status_outside_the_list(cast, categories):
    from django.db import IntegrityError

    case = open_case(cast)
    with pytest.raises(IntegrityError):
        Case.objects.filter(pk=case.pk).update(status="lost")


def test_only_the_lifecycle_module_assigns_a_status():
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    sources = subprocess.run(["git", "ls-files", "*.py"], cwd=root, capture_output=True, text=True).stdout.split()
    found = subprocess.run(
        ["grep", "-nE", r"\.status = |update\([^)]*\bstatus=|setattr\([^,]+, \"status\"", *sources],
        cwd=root,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    assert [line for line in found if not line.startswith(("cases/lifecycle.py", "tests/"))] == []


@pytest.mark.django_db(transaction=True)
def test_two_people_closing_at_once_one_wins_and_the_other_is_refused(cast, categories):
    case = open_case(cast)
    barrier = threading.Barrier(2)
    results = []

    def close():
        try:
            barrier.wait()
            lifecycle.apply(
                case=case, action="close_invalid", actor=cast.dispatcher, changes={"closure_reason": "invalid"}
            )
            results.append("closed")
        except TransitionNotAllowed:
            results.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=close) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["closed", "refused"]
    assert CaseEvent.objects.filter(case=case, action="close").count() == 1


def test_the_three_ways_to_close_are_moves_of_their_own_recorded_as_one_closure(cast, categories):
    """Closing as no real request is offered only before a unit has the case, an exemption and
    the verdict's close only once it is resolved; each is recorded as a `close` event."""
    assert lifecycle.allowed_actions("registered").count("close_invalid") == 1
    assert {"exempt", "close"}.isdisjoint(lifecycle.allowed_actions("registered"))
    assert "close_invalid" not in lifecycle.allowed_actions("resolved")
    assert {"exempt", "close"} <= set(lifecycle.allowed_actions("resolved"))
    case = case_in(cast, "resolved")
    with pytest.raises(TransitionNotAllowed):
        lifecycle.apply(case=case, action="close_invalid", actor=cast.dispatcher, changes={"closure_reason": "invalid"})
    closed, event = lifecycle.apply(
        case=case, action="exempt", actor=cast.dispatcher, changes={"closure_reason": "exempted"}
    )
    assert (closed.status, event.action) == ("closed", "close")


def test_a_move_whose_block_fails_or_is_refused_leaves_nothing_behind(cast, categories):
    case = case_in(cast, "resolved")
    events = CaseEvent.objects.filter(case=case).count()
    with pytest.raises(TransitionNotAllowed), lifecycle.moving(case, "sign", cast.dispatcher) as move:
        # The block writes before the table is checked at its end; the refusal rolls it back.
        Case.objects.filter(pk=move.case.pk).update(title="changed inside a refused move")
    case.refresh_from_db()
    assert case.title != "changed inside a refused move"
    assert CaseEvent.objects.filter(case=case).count() == events


def test_a_move_locks_only_the_case_row(cast, categories):
    """One FOR UPDATE per move, on the case alone: its category and grid, read with it, are
    shared by every case of their kind and place and must not be locked."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    case = open_case(cast)
    with CaptureQueriesContext(connection) as queries:
        lifecycle.apply(case=case, action="note", actor=cast.dispatcher, note="记录")
    locks = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
    assert len(locks) == 1 and locks[0].rstrip().endswith('FOR UPDATE OF "cases_case"')
