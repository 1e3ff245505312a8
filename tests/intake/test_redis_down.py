"""Intake keeps working when Redis is down: the call is saved and the sweep dispatches it later."""

import logging
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from cases.models import Category
from cases.services import CallDetails
from intake.services import call_register
from routing.tasks import sweep_registered
from tests.factories import routing_setup

pytestmark = pytest.mark.django_db


def test_a_call_is_saved_while_redis_is_down_and_the_sweep_dispatches_it(
    cast, categories, redis_down, django_capture_on_commit_callbacks, caplog
):
    routing_setup(cast)
    # A Celery worker started earlier in this process (tests/outbox) leaves the root logger at
    # ERROR; the warning is what this test reads.
    caplog.set_level(logging.WARNING, logger="intake.services")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        call, created = call_register(
            actor=cast.dispatcher,
            details=CallDetails(
                channel="hotline",
                description="小区门口垃圾没人清理",
                category=Category.objects.get(code="0201"),
                grid=cast.grid_a,
                caller_name="张三",
                caller_phone="13800138000",
            ),
        )
    # The dispatch and the acknowledgement SMS: both requests are lost, both wait in PostgreSQL.
    assert created and len(callbacks) == 2
    # The dispatch was attempted against the dead Redis, failed, and left the saved call alone.
    assert "could not queue the dispatch" in caplog.text
    case = call.case
    case.refresh_from_db()
    assert case.status == "registered"
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert sweep_registered()["dispatched"] == 1
    case.refresh_from_db()
    assert case.status == "dispatched"
