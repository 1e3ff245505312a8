"""The tables of moves of the social half's stateful rows (`cases.moves`' pattern): each move, the
states it starts from, the state it leads to and the moments it stamps. Services move a row only
through `rows_move(rows, TABLE, action)`, a conditional UPDATE whose row count says whether it
moved; tests/architecture/test_state_writes.py holds that nothing else writes a `state`."""

from cases.moves import RowMove, stamp_now
from volunteers.models import Booking, Need, Offer, Signup, Task

T, S, N, OF, B = Task.State, Signup.State, Need.State, Offer.State, Booking.State

TASK_MOVES = {
    # The publisher confirms the work done (the sign-ups' hours credited in the same transaction).
    "confirm": RowMove(frozenset({T.OPEN}), T.DONE, (("confirmed_at", stamp_now),)),
    "cancel": RowMove(frozenset({T.OPEN}), T.CANCELLED),
}

SIGNUP_MOVES = {
    "check_in": RowMove(frozenset({S.SIGNED}), S.CHECKED_IN, (("checked_in_at", stamp_now),)),
    "check_out": RowMove(frozenset({S.CHECKED_IN}), S.CHECKED_OUT, (("checked_out_at", stamp_now),)),
    "confirm": RowMove(frozenset({S.CHECKED_OUT}), S.CONFIRMED, (("confirmed_at", stamp_now),)),
    # Signed up and never came: the publisher's confirmation marks them so.
    "absent": RowMove(frozenset({S.SIGNED}), S.ABSENT),
    "withdraw": RowMove(frozenset({S.SIGNED}), S.WITHDRAWN),
}

NEED_MOVES = {
    "match": RowMove(frozenset({N.OPEN}), N.MATCHED, (("matched_at", stamp_now),)),
    "done": RowMove(frozenset({N.MATCHED}), N.DONE, (("done_at", stamp_now),)),
    "withdraw": RowMove(frozenset({N.OPEN}), N.WITHDRAWN),
}

OFFER_MOVES = {
    "accept": RowMove(frozenset({OF.OFFERED}), OF.ACCEPTED),
    "decline": RowMove(frozenset({OF.OFFERED}), OF.DECLINED),
}

BOOKING_MOVES = {
    "confirm": RowMove(frozenset({B.BOOKED}), B.CONFIRMED),
    "done": RowMove(frozenset({B.BOOKED, B.CONFIRMED}), B.DONE, (("done_at", stamp_now),)),
    "cancel": RowMove(frozenset({B.BOOKED, B.CONFIRMED}), B.CANCELLED),
}
