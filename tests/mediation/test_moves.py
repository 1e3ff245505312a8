"""The mediation's table of states, every move from every state through its service: a move the
table allows writes one event and lands in its state; a move it refuses raises MoveNotAllowed
(409 through the API) and changes nothing."""

import datetime
import itertools

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from mediation import services
from mediation.models import Mediation, MediationEvent
from mediation.moves import MEDIATION_MOVES
from mediation.services import MoveNotAllowed
from tests.mediation.world import TERMS, mediators_of, module_world, to_state, walk_in

pytestmark = pytest.mark.django_db

world = pytest.fixture(scope="module", name="world")(module_world)

STATES = list(Mediation.State.values)


def attempt(world, mediation, action):
    """The move through its service, with input that is valid whatever the state."""
    actor, mediators = world.mediator, mediators_of(world, world.point)
    if action == "schedule":
        at = timezone.now() + datetime.timedelta(days=1)
        return services.mediation_schedule(mediation=mediation, actor=actor, at=at, place="调解室", mediators=mediators)
    if action == "session":
        return services.mediation_session(
            mediation=mediation,
            actor=actor,
            present=list(mediation.parties.all()),
            mediators=mediators,
            statements="各自陈述",
            reasoning=["morality"],
        )
    if action == "agreement":
        return services.mediation_agreement(mediation=mediation, actor=actor, terms=TERMS, follow_up=[])
    if action == "no_agreement":
        return services.mediation_no_agreement(mediation=mediation, actor=actor, note="未达成一致")
    if action == "sign":
        scan = SimpleUploadedFile("signed.pdf", b"%PDF-1.4 signed", content_type="application/pdf")
        return services.mediation_sign(mediation=mediation, actor=actor, scan=scan)
    if action == "break":
        return services.mediation_break(mediation=mediation, actor=actor, note="刘家没有按期拆除")
    if action == "refer":
        return services.mediation_refer(mediation=mediation, actor=actor, to="区人民法院")
    if action == "close":
        return services.mediation_close(mediation=mediation, actor=actor)
    raise AssertionError(action)


def test_the_table_names_every_state_and_only_states():
    used = {state for move in MEDIATION_MOVES.values() for state in (*move.sources, move.target)}
    assert used == set(STATES)


@pytest.mark.parametrize(("action", "state"), list(itertools.product(MEDIATION_MOVES, STATES)))
def test_every_move_from_every_state(world, action, state):
    mediation = to_state(world, walk_in(world), state)
    events = list(MediationEvent.objects.filter(mediation=mediation).values_list("pk", flat=True))
    move = MEDIATION_MOVES[action]
    if state in move.sources:
        attempt(world, mediation, action)
        mediation.refresh_from_db()
        assert mediation.state == move.target
        new = MediationEvent.objects.filter(mediation=mediation).exclude(pk__in=events)
        assert [(e.action, e.from_state, e.to_state, e.actor) for e in new] == [
            (action, state, move.target, world.mediator)
        ]
    else:
        with pytest.raises(MoveNotAllowed):
            attempt(world, mediation, action)
        mediation.refresh_from_db()
        assert mediation.state == state
        assert list(MediationEvent.objects.filter(mediation=mediation).values_list("pk", flat=True)) == events
