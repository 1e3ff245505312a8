"""Points spent at the same moment on two real connections: two redemptions that together exceed
the balance (one succeeds), and the last unit of a reward taken by two volunteers (one gets it).
Neither the balance nor the stock ever goes below zero."""

import threading

import pytest
from django.db import connection

from tests.volunteers.points_world import build_points, earned
from volunteers import points
from volunteers.models import PointEntry, Reward


def at_once(*calls):
    """Run each call on its own thread (its own database connection), released together; returns
    what each returned, or the refusal it raised."""
    start = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            start.wait(timeout=10)
            outcomes[index] = call()
        except Exception as refusal:  # noqa: BLE001 - the test names what it expects
            outcomes[index] = refusal
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_two_redemptions_at_once_that_together_exceed_the_balance_one_succeeds_and_the_last_unit_goes_once():
    world = build_points()
    # alice holds 150: rice (100) twice would be 200.
    earned(world, world.alice, 150)
    redeem = lambda person, reward: lambda: points.points_redeem(volunteer=person, reward=reward, actor=person.user)  # noqa: E731
    outcomes = at_once(redeem(world.alice, world.rice), redeem(world.alice, world.rice))
    assert sorted(type(o).__name__ for o in outcomes) == ["NotEnoughPoints", "PointEntry"]
    assert points.balance(world.alice) == 50
    assert Reward.objects.get(pk=world.rice.pk).stock == 4
    assert PointEntry.objects.filter(volunteer=world.alice, kind="redemption").count() == 1

    # The last unit of soap (20 points, 1 in stock), wanted by alice and bob, each with enough.
    earned(world, world.bob, 20)
    outcomes = at_once(redeem(world.alice, world.soap), redeem(world.bob, world.soap))
    assert sorted(type(o).__name__ for o in outcomes) == ["NotEnoughPoints", "PointEntry"]
    assert Reward.objects.get(pk=world.soap.pk).stock == 0
    assert PointEntry.objects.filter(reward=world.soap).count() == 1
    assert points.balance(world.alice) + points.balance(world.bob) == 50 + 20 - 20
