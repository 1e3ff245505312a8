"""Many moves recorded at once (`lifecycle.apply_many`, the deadline sweep's): whoever hears of
one move hears of many, and the table is kept."""

import pytest

from cases import lifecycle
from cases.models import CaseEvent
from tests.factories import open_case

pytestmark = pytest.mark.django_db


def receivers(signal):
    return sorted(key[0] for key, _receiver, *_rest in signal.receivers)


def test_every_receiver_of_one_move_receives_many_moves_too():
    one, many = receivers(lifecycle.case_moved), receivers(lifecycle.cases_moved)
    assert len(one) == len(many) >= 3
    assert [uid.removesuffix("on_case_moved") for uid in one] == [uid.removesuffix("on_cases_moved") for uid in many]


def test_a_move_the_table_refuses_writes_none_of_the_batch(cast, categories):
    case = open_case(cast)
    with pytest.raises(lifecycle.TransitionNotAllowed):
        lifecycle.apply_many([(case, "overdue", {}), (case, "set_deadline", {})])
    # A move that changes the status is not for apply_many either.
    with pytest.raises(lifecycle.TransitionNotAllowed):
        lifecycle.apply_many([(case, "dispatch", {})])
    assert list(CaseEvent.objects.filter(case=case).values_list("action", flat=True)) == ["open"]
    (event,) = lifecycle.apply_many([(case, "note", {"text": "x"})])
    assert (event.action, event.from_status, event.to_status, event.actor_id) == (
        "note",
        "registered",
        "registered",
        None,
    )
    assert event.at is not None and CaseEvent.objects.filter(pk=event.pk).exists()
