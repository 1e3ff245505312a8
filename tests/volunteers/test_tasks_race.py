"""Races on a task, each side on a real connection of its own: two volunteers taking the last place
at once (one place, one sign-up, `taken == wanted`), and two staff confirming at once (one
confirmation, the points credited once)."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection

from cases.errors import InvalidInput
from tests.factories import UserFactory, member
from tests.volunteers.tasks_world import ENDS, STARTS, TUESDAY, build_tasks, publish
from volunteers import tasks as services
from volunteers.models import PointEntry, Signup, Task

pytestmark = pytest.mark.django_db(transaction=True)


def at_once(*calls):
    """Run each call on its own thread (its own connection), released together; what each
    answered: "ok" or the refusal."""
    barrier = threading.Barrier(len(calls))
    outcomes = []

    def run(call):
        try:
            barrier.wait(timeout=10)
            call()
            outcomes.append("ok")
        except InvalidInput as refusal:
            outcomes.append(str(refusal))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


def test_two_volunteers_taking_the_last_place_at_once_get_one_place():
    world = build_tasks()
    with time_machine.travel(TUESDAY, tick=False):
        task = publish(world, wanted=2)
        services.task_signup(task=task, actor=world.dan)
        outcomes = at_once(
            lambda: services.task_signup(task=task, actor=world.alice),
            lambda: services.task_signup(task=task, actor=world.bob),
        )
    assert len(outcomes) == 2 and outcomes.count("ok") == 1, outcomes
    task.refresh_from_db()
    assert task.taken == task.wanted == 2
    assert Signup.objects.filter(task=task).count() == 2


def test_two_staff_confirming_at_once_confirm_once():
    world = build_tasks()
    colleague = member(UserFactory(username="t_community2", real_name="钱社区"), world.cast.committee)
    with time_machine.travel(TUESDAY, tick=False):
        task = publish(world)
        services.task_signup(task=task, actor=world.alice)
    with time_machine.travel(STARTS, tick=False):
        services.task_check_in(task=task, actor=world.alice)
    with time_machine.travel(ENDS + timedelta(minutes=5), tick=False):
        outcomes = at_once(
            lambda: services.task_confirm(task=task, actor=world.cast.community_clerk),
            lambda: services.task_confirm(task=task, actor=colleague),
        )
    assert outcomes.count("ok") == 1, outcomes
    assert Task.objects.get(pk=task.pk).state == "done"
    assert list(PointEntry.objects.values_list("volunteer__user", "points")) == [(world.alice.pk, 30)]


def test_a_team_signing_up_two_and_a_volunteer_taking_one_of_the_last_two_places_at_once():
    # The team takes both places or none: never three sign-ups for two places, never one of two.
    world = build_tasks()
    world.team.leader = world.alice.volunteer
    world.team.save()
    with time_machine.travel(TUESDAY, tick=False):
        task = publish(world, wanted=3)
        services.task_signup(task=task, actor=world.dan)
        outcomes = at_once(
            lambda: services.task_signup_team(
                task=task,
                team=world.team,
                volunteer_ids=[world.alice.volunteer.pk, world.bob.volunteer.pk],
                actor=world.alice,
            ),
            lambda: services.task_signup(task=task, actor=world.erin),
        )
    assert outcomes.count("ok") == 1, outcomes
    task.refresh_from_db()
    assert task.taken == Signup.objects.filter(task=task).count() in (2, 3)
