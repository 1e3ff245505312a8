"""Where a resident's request is without a point on the map (issue 19): a street alone is a case
in that street left to the dispatchers; an address naming a grid or a community is placed there
and routed; an address that places nothing is a form error in Chinese, nothing created."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from cases.models import Case, CaseEvent
from intake.models import Call
from residents.models import Attempt
from routing.models import Assignment, AutoRouteAttempt
from routing.tasks import dispatch_case, sweep_registered
from tests.factories import english
from tests.residents.helpers import confirmed

pytestmark = pytest.mark.django_db

TEXT = "小区门口垃圾堆放多日无人清理"


def form(**fields):
    return {
        "description": TEXT,
        "category": "0201",  # 环境卫生: the rules send it to the grid's committee
        "street": "",
        "community": "",
        "address": "",
        "caller_name": "",
        "submission": "form-1",
        **fields,
    }


@pytest.fixture
def resident(client):
    return confirmed(english(client))


@pytest.fixture
def dispatches(monkeypatch):
    """The cases whose dispatch by the routing rules was asked for after the commit."""
    asked = []
    monkeypatch.setattr(dispatch_case, "delay", asked.append)
    return asked


def test_a_street_alone_opens_a_case_in_that_street_left_to_the_dispatchers(
    world, resident, dispatches, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = resident.post("/resident/new/", form(street=world.street.code, address="3号楼东侧"))
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/resident/cases/{case.number}/?new=1"
    # The street's first grid stands in for the place; the address is kept as typed.
    assert case.grid == world.grid_a and case.address == "3号楼东侧"
    # Not routed: the rules would give it to that grid's committee as if the grid were right.
    assert dispatches == [] and case.status == Case.Status.REGISTERED
    assert AutoRouteAttempt.objects.get(case=case).outcome.startswith("held: ")
    note = CaseEvent.objects.get(case=case, action="note").note
    assert world.street.name in note and world.grid_a.name in note
    # Nor does the sweep of stranded cases route it later.
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        assert sweep_registered() == {"checked": 0, "dispatched": 0}
    assert not Assignment.objects.filter(case=case).exists()


def test_a_street_named_in_the_address_alone_is_that_street(world, resident, dispatches):
    response = resident.post("/resident/new/", form(address="民主街道沙河路12号"))
    case = Case.objects.get()
    assert response.status_code == 302 and case.grid == world.grid_c
    assert AutoRouteAttempt.objects.filter(case=case).exists()


def test_an_address_naming_a_community_or_a_grid_is_placed_there_and_routed(
    world, resident, dispatches, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        community = resident.post("/resident/new/", form(address="金山社区3号楼东侧"))
        grid = resident.post(
            "/resident/new/", form(address="金山社区第2网格 5号楼", submission="form-2", duplicate_choice="new")
        )
    in_community = Case.objects.get(number=community["Location"].split("/")[3])
    in_grid = Case.objects.get(number=grid["Location"].split("/")[3])
    # A community is not a grid: its first grid, as when it is chosen from the list.
    assert in_community.grid == world.grid_a and in_grid.grid == world.grid_b
    assert sorted(dispatches) == sorted([in_community.pk, in_grid.pk])
    assert not AutoRouteAttempt.objects.exists() and not CaseEvent.objects.filter(action="note").exists()


def test_a_community_named_in_the_address_places_a_case_inside_the_street_chosen(world, resident, dispatches):
    resident.post("/resident/new/", form(street=world.street.code, address="金山社区第2网格 5号楼"))
    assert Case.objects.get().grid == world.grid_b and not AutoRouteAttempt.objects.exists()


def test_an_address_that_places_nothing_is_a_form_error_in_chinese_and_nothing_is_created(world, client):
    resident = confirmed(client)  # the page's first language
    response = resident.post("/resident/new/", form(address="沙河路12号", caller_name="刘女士"))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-error-for="street"' in page
    assert "未能根据地址“沙河路12号”确定在苏家屯区的位置" in page and "请选择所在街道" in page
    # What was typed is still there.
    assert TEXT in page and 'value="沙河路12号"' in page and 'value="刘女士"' in page
    assert not Case.objects.exists() and not Call.objects.exists()
    assert not Attempt.objects.filter(kind=Attempt.Kind.SUBMISSION).exists()
