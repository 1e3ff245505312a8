"""A unit's part in a case moves only through `routing.assignments`: one table, one conditional
UPDATE that checks how many rows it moved."""

import pytest

from cases.lifecycle import TransitionNotAllowed
from routing.assignments import ASSIGNMENT_MOVES, AssignmentMoveRefused, assignment_move, assignments_move
from routing.models import Assignment
from tests.handling.helpers import dispatched_case, helping, lead, with_volunteers

pytestmark = pytest.mark.django_db
STATES = [state for state, _label in Assignment.State.choices]


@pytest.fixture
def world(cast, categories):
    return with_volunteers(cast)


@pytest.mark.parametrize(("action", "state"), [(action, state) for action in ASSIGNMENT_MOVES for state in STATES])
def test_every_move_outside_the_table_is_refused_and_every_listed_one_moves_the_part(world, action, state):
    part = lead(dispatched_case(world))
    # Test set-up only: put the row straight into the state under test.
    Assignment.objects.filter(pk=part.pk).update(state=state)
    move = ASSIGNMENT_MOVES[action]
    if state in move.sources:
        moved = assignment_move(part, action)
        assert moved.state == move.target
        stamped = moved.signed_at if move.target == "signed" else moved.finished_at
        assert stamped is not None
    else:
        with pytest.raises(AssignmentMoveRefused):
            assignment_move(part, action)
        part.refresh_from_db()
        assert part.state == state


def test_a_part_moved_by_someone_else_first_is_refused_like_a_refused_case_move(world):
    """The second of two moves of the same part (a stale copy) moves nothing and answers like
    any move the lifecycle refuses (409 at both doors)."""
    part = lead(dispatched_case(world))
    stale = Assignment.objects.get(pk=part.pk)
    assignment_move(part, "sign")
    signed_at = part.signed_at
    with pytest.raises(TransitionNotAllowed):
        assignment_move(stale, "sign")
    part.refresh_from_db()
    assert part.state == "signed" and part.signed_at == signed_at


def test_moving_many_parts_moves_only_those_the_move_applies_to(world):
    case = dispatched_case(world)
    from routing import dispatch

    dispatch.case_sign(case=case, actor=world.community_clerk)
    helper = helping(world, case)
    assignment_move(helper, "report")
    moved = assignments_move(Assignment.objects.filter(case=case), "withdraw")
    states = dict(Assignment.objects.filter(case=case).values_list("unit__code", "state"))
    assert moved == 1
    assert states == {lead(case).unit.code: "withdrawn", world.volunteers.code: "done"}


def test_an_assisting_unit_reporting_without_signing_counts_as_signed_when_it_reported(world):
    case = dispatched_case(world)
    from routing import dispatch

    dispatch.case_sign(case=case, actor=world.community_clerk)
    helper = assignment_move(helping(world, case), "report")
    assert helper.state == "done" and helper.signed_at == helper.finished_at
