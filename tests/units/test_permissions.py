"""One answer per situation, from units/permissions.py: the navigation shows a page exactly to
those the page opens for, and a page that is not for the person answers 404."""

import pytest
from django.urls import reverse

from suqu.context_processors import NAVIGATION
from tests.factories import UserFactory, routing_setup
from units.permissions import PAGES, may_open

pytestmark = pytest.mark.django_db

PEOPLE = ("gridworker", "community_clerk", "street_clerk", "dept_clerk", "dispatcher", "official", "nobody")


@pytest.fixture
def world(cast, categories):
    routing_setup(cast)
    cast.nobody = UserFactory(username="t_nobody", real_name="无岗位")
    return cast


def shown(client, user):
    client.force_login(user)
    return {item["url"] for item in client.get("/").context["navigation"]}


@pytest.mark.parametrize("person", PEOPLE)
def test_the_navigation_shows_a_page_exactly_to_those_it_opens_for(client, world, person):
    user = getattr(world, person)
    links = shown(client, user)
    for _label, name in NAVIGATION:
        if name in ("home", "admin:index"):
            continue
        url = reverse(name)
        status = client.get(url).status_code
        assert (url in links) == may_open(user, name), name
        # Shown: the page opens (a redirect to a default tab counts); not shown: 404, as if absent.
        assert (status in (200, 302)) if url in links else status == 404, (name, status)


def test_every_navigation_entry_and_page_rule_names_a_real_page():
    for name in [name for _label, name in NAVIGATION] + list(PAGES):
        reverse(name)  # NoReverseMatch for a page that does not exist


def test_a_move_inside_the_scope_without_the_role_is_403_and_outside_the_scope_404(world):
    """Inside the scope without the role: 403; outside the scope: 404, alike for a missing case."""
    from rest_framework.test import APIClient

    from tests.factories import open_case

    case = open_case(world)
    api_client = APIClient()
    api_client.force_authenticate(world.official)  # reads the whole district, takes no action
    assert api_client.post(f"/api/v1/cases/{case.number}/sign/").status_code == 403
    api_client.force_authenticate(world.dept_clerk)  # the department was given nothing
    assert api_client.post(f"/api/v1/cases/{case.number}/sign/").status_code == 404
    assert api_client.post("/api/v1/cases/SJT-20260101-99999/sign/").status_code == 404
