"""Searching the case list by a caller's whole phone number finds their cases in the person's own
scope without showing the number; part of a number, or a confidential caller's, finds nothing."""

import pytest

from cases.models import Category
from cases.services import CallDetails
from intake.services import call_register
from tests.factories import open_case, routing_setup

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(cast, categories):
    routing_setup(cast)
    return cast


def found(client, user, q):
    client.force_login(user)
    response = client.get("/cases/", {"q": q})
    assert response.status_code == 200
    return response, {case.number for case in response.context["page"]}


def test_a_whole_number_finds_the_callers_cases_without_showing_the_number(client, world):
    mine = open_case(world, caller_phone="13912345678")
    open_case(world, caller_phone="13800138000")
    _response, numbers = found(client, world.dispatcher, "139 1234 5678")
    assert numbers == {mine.number}
    # A committee clerk finds the case of their community the same way. The page shows the number
    # only where it echoes what was typed: as often as for a number that finds nothing.
    hit, numbers = found(client, world.community_clerk, "13912345678")
    assert numbers == {mine.number}
    miss, _none = found(client, world.community_clerk, "13700000000")
    assert hit.text.count("13912345678") == miss.text.count("13700000000")


def test_part_of_a_number_finds_nothing(client, world):
    open_case(world, caller_phone="13912345678")
    for part in ("1391234", "139123456", "5678"):
        assert found(client, world.dispatcher, part)[1] == set(), part


def test_a_landline_is_found_with_or_without_its_dash(client, world):
    case = open_case(world, caller_phone="024-89123456")
    assert found(client, world.dispatcher, "02489123456")[1] == {case.number}
    assert found(client, world.dispatcher, "024-89123456")[1] == {case.number}


def test_a_later_callers_number_finds_the_case_they_called_about(client, world):
    case = open_case(world, caller_phone="13800138000")
    details = CallDetails(
        channel="hotline",
        category=Category.objects.get(code="0201"),
        grid=world.grid_a,
        description="又有人反映门口垃圾",
        caller_phone="13711112222",
    )
    call_register(actor=world.dispatcher, details=details, attach_to=case)
    assert found(client, world.dispatcher, "13711112222")[1] == {case.number}


def test_a_confidential_caller_is_not_found_by_their_number(client, world):
    open_case(world, caller_phone="13912345678", caller_confidential=True)
    assert found(client, world.dispatcher, "13912345678")[1] == set()


def test_a_number_finds_nothing_outside_the_persons_scope(client, world):
    open_case(world, grid=world.grid_c, caller_phone="13912345678")  # 民主村, not 金山社区
    assert found(client, world.community_clerk, "13912345678")[1] == set()
