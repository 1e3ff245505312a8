"""The mediation's table of states (the cases' pattern, `cases.moves`): each move, the states it may
start from, the state it leads to and the moments it stamps. `mediation.services.mediation_move`
applies one under the mediation's row lock and records a `MediationEvent`; a move from a state the
table does not list is refused (409 through the API)."""

from cases.moves import RowMove, stamp_now
from mediation.models import Mediation

M = Mediation.State

MEDIATION_MOVES = {
    # A date, a place and the mediators; again to set another session after one that adjourned.
    "schedule": RowMove(frozenset({M.ACCEPTED, M.SCHEDULED, M.IN_SESSION}), M.SCHEDULED),
    # The 评理会 is held: at least one mediator and every party present, the record kept.
    "session": RowMove(frozenset({M.SCHEDULED}), M.IN_SESSION),
    # 调解协议: drawn from the record, to be signed and followed up.
    "agreement": RowMove(frozenset({M.IN_SESSION}), M.AGREEMENT),
    "no_agreement": RowMove(frozenset({M.IN_SESSION}), M.NO_AGREEMENT),
    # The signed copy is uploaded: the follow-up dates run.
    "sign": RowMove(frozenset({M.AGREEMENT}), M.FOLLOW_UP),
    # A party broke the agreement: the mediation is taken up again.
    "break": RowMove(frozenset({M.AGREEMENT, M.FOLLOW_UP, M.CLOSED}), M.ACCEPTED, (("closed_at", lambda now: None),)),
    # Up a level (the higher point opens its own mediation) or out (the court, a department).
    "refer": RowMove(frozenset({M.ACCEPTED, M.SCHEDULED, M.IN_SESSION, M.NO_AGREEMENT}), M.REFERRED),
    "close": RowMove(
        frozenset({M.AGREEMENT, M.FOLLOW_UP, M.NO_AGREEMENT, M.REFERRED}), M.CLOSED, (("closed_at", stamp_now),)
    ),
}
