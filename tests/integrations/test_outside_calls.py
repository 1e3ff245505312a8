"""Calls from doors without staff (the residents' page, integrating systems): registered under the
door's own account, routed like any other, once per submission."""

import pytest
from django.utils import translation

from accounts.services import system_user_ensure
from cases.lifecycle import TransitionNotAllowed
from cases.models import Case, Category
from cases.services import CallDetails
from intake.models import Call
from intake.selectors import duplicates_for, duplicates_near
from intake.services import call_register, call_register_outside
from tests.factories import open_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def door(db):
    return system_user_ensure(username="door:residents", real_name="居民自助")


def details(cast, text="小区门口垃圾堆放多日无人清理", **extra):
    return CallDetails(
        channel="online",
        description=text,
        category=Category.objects.get(code="0201"),
        grid=cast.grid_a,
        caller_phone="13900139000",
        **extra,
    )


def test_a_door_registers_a_call_where_its_account_could_not_as_staff(
    cast, categories, door, django_capture_on_commit_callbacks
):
    with pytest.raises(Exception, match="take calls"), translation.override("en"):
        call_register(actor=door, details=details(cast))
    with django_capture_on_commit_callbacks() as queued:
        call, created = call_register_outside(actor=door, details=details(cast))
    assert created and call.case.status == Case.Status.REGISTERED
    assert call.case.channel == "online" and call.case.created_by == door
    assert queued  # the dispatch is asked for after the commit, as for staff calls


def test_the_same_submission_twice_is_one_case(cast, categories, door):
    first, created = call_register_outside(actor=door, details=details(cast), idempotency_key="form-1")
    again, created_again = call_register_outside(actor=door, details=details(cast), idempotency_key="form-1")
    assert created and not created_again and again.pk == first.pk
    assert Case.objects.count() == 1


def test_adding_a_voice_counts_a_call_on_an_open_case_and_a_closed_one_is_refused(cast, categories, door):
    case = open_case(cast)
    call, _ = call_register_outside(actor=door, details=details(cast), attach_to=case)
    case.refresh_from_db()
    assert call.outcome == Call.Outcome.ATTACHED and case.call_count == 2
    Case.objects.filter(pk=case.pk).update(status="closed", closure_reason="invalid", closed_at=case.created_at)
    case.refresh_from_db()
    with pytest.raises(TransitionNotAllowed):
        call_register_outside(actor=door, details=details(cast), attach_to=case)
    assert Call.objects.filter(case=case).count() == 1


def test_duplicates_near_sees_every_open_case_of_the_community_whoever_logged_it(cast, categories, door):
    case = open_case(cast, actor=cast.gridworker)
    open_case(cast, grid=cast.grid_c)  # another community
    found = duplicates_near(grid=cast.grid_b, text="小区门口垃圾好几天没人清理")
    assert [c.pk for c in found] == [case.pk]
    # The staff's version stays within their scope: grid B's worker does not see grid A's case.
    assert duplicates_for(cast.outsider, grid=cast.grid_b, text="小区门口垃圾好几天没人清理") == []
