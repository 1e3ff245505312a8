"""load_demo on the whole district: regions, units, pairings, demo people; twice changes nothing."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from grids.models import GridPosting, Region
from units.models import Membership, Pairing, Unit

pytestmark = pytest.mark.django_db

NAMED = ["admin", "dispatcher", "official", "gridworker", "community", "street", "dept"]


def load_demo():
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def counts():
    return {model.__name__: model.objects.count() for model in (Region, Unit, Pairing, User, Membership, GridPosting)}


def test_the_demo_holds_the_whole_district(settings):
    settings.DEBUG = True
    load_demo()
    levels = {level: Region.objects.filter(level=level).count() for level in Region.Level.values}
    assert levels == {"district": 1, "street": 12, "community": 186, "grid": 2939}
    assert Unit.objects.filter(kind=Unit.Kind.STREET_OFFICE).count() == 12
    assert Unit.objects.filter(kind=Unit.Kind.COMMITTEE).count() == 186
    assert Pairing.objects.values("agency").distinct().count() == 86
    assert Pairing.objects.values("community").distinct().count() == 186


def test_every_named_demo_account_can_sign_in(settings, client):
    settings.DEBUG = True
    load_demo()
    for username in NAMED:
        assert User.objects.get(username=username).check_password("suqu-demo")
    response = client.post("/accounts/login/", {"username": "dept", "password": "suqu-demo"})
    assert response.status_code == 302


def test_running_it_twice_leaves_every_count_unchanged(settings):
    settings.DEBUG = True
    load_demo()
    first = counts()
    load_demo()
    assert counts() == first


def test_it_prints_a_line_per_step_with_counts(settings):
    settings.DEBUG = True
    output = load_demo()
    assert "regions:" in output
    assert "units and pairings:" in output
    assert "committees 186" in output
    assert "demo people:" in output
    assert "suqu-demo" in output


def test_without_debug_it_loads_nothing(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        load_demo()
    assert counts() == dict.fromkeys(counts(), 0)
