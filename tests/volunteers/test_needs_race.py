"""需求对接 under a race: two accepts at the same moment on two real connections match the need once.
(A module of its own: the other needs tests share a world in a transaction these threads could not
see.)"""

import threading

import pytest
from django.db import connection

from cases.errors import InvalidInput
from tests.volunteers.paired_world import build_paired
from volunteers import needs
from volunteers.models import Need, Offer


@pytest.mark.django_db(transaction=True)
def test_two_accepts_at_once_match_the_need_once():
    """Two clerks of the community accept different offers at the same moment, on two real
    connections: one wins, the other is refused, and only one offer is accepted."""
    from tests.factories import UserFactory, member

    world = build_paired()
    second_clerk = member(UserFactory(username="t_community2"), world.cast.committee)
    need = needs.need_post(actor=world.cast.community_clerk, kind=Need.Kind.SERVICE, title="助餐志愿者")
    offers = [
        needs.offer_make(need=need, actor=world.agency_clerk),
        needs.offer_make(need=need, actor=world.cast.dept_clerk),
    ]
    barrier = threading.Barrier(2)
    outcomes = []
    lock = threading.Lock()

    def accept(offer, clerk):
        try:
            barrier.wait(timeout=10)
            needs.offer_accept(offer=offer, actor=clerk)
            result = "accepted"
        except InvalidInput:
            result = "refused"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [
        threading.Thread(target=accept, args=(offers[0], world.cast.community_clerk)),
        threading.Thread(target=accept, args=(offers[1], second_clerk)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["accepted", "refused"]
    need.refresh_from_db()
    accepted = Offer.objects.get(need=need, state=Offer.State.ACCEPTED)
    assert need.state == Need.State.MATCHED and need.taken_by_id == accepted.unit_id
    assert Offer.objects.filter(need=need, state=Offer.State.DECLINED).count() == 1
