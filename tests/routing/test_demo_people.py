"""demo_people_load: the named demo accounts at their posts, a worker per grid, a head per unit."""

import pytest
from django.db.models import Exists, OuterRef

from accounts.models import User
from accounts.services import DemoDataRefused
from grids.models import GridPosting, Region
from routing.services import UnitsNotLoaded, demo_people_load, units_load_sujiatun
from tests.factories import region
from units.models import Membership, Unit
from units.selectors import roles_for

pytestmark = pytest.mark.django_db

NAMED = ["dispatcher", "official", "gridworker", "community", "street", "dept"]


@pytest.fixture
def world(cast, settings):
    """The cast's small district with every unit loaded, and DEBUG on as in `make run`."""
    settings.DEBUG = True
    units_load_sujiatun()
    return cast


def unit_of(username):
    return Membership.objects.select_related("unit", "unit__region").get(user__username=username).unit


def test_each_named_account_works_where_the_demo_says(world):
    demo_people_load()
    assert unit_of("dispatcher").code == "CENTRE"
    assert unit_of("official").code == "LEADERSHIP"
    assert (unit_of("community").kind, unit_of("community").region.code) == ("committee", "210111001015")
    assert (unit_of("street").kind, unit_of("street").region.code) == ("street_office", "210111001")
    assert unit_of("dept").code == "D-HOUSING"
    gridworker = User.objects.get(username="gridworker")
    assert list(gridworker.grid_postings.values_list("grid__code", flat=True)) == ["210111001015001"]
    assert not gridworker.memberships.exists()


def test_each_named_account_holds_the_role_its_name_says(world):
    demo_people_load()
    roles = {name: roles_for(User.objects.get(username=name)) for name in NAMED}
    assert roles == {
        "dispatcher": {"dispatcher"},
        "official": {"official"},
        "gridworker": {"grid_worker"},
        "community": {"community_staff"},
        "street": {"street_staff"},
        "dept": {"department_staff"},
    }


def test_each_named_account_has_a_chinese_name(world):
    demo_people_load()
    for user in User.objects.filter(username__in=NAMED):
        assert user.real_name
        assert all("\u4e00" <= char <= "\u9fff" for char in user.real_name)


def test_each_named_account_can_log_in_with_the_demo_password(world, client):
    demo_people_load()
    for username in NAMED:
        response = client.post("/accounts/login/", {"username": username, "password": "suqu-demo"})
        assert response.status_code == 302, username
        client.logout()


def test_generated_workers_and_heads_cannot_log_in(world):
    demo_people_load()
    generated = User.objects.filter(username__regex=r"^(gw|head_)")
    assert generated.exists()
    assert not any(user.has_usable_password() for user in generated)


def test_every_grid_gets_a_worker_and_staffed_grids_keep_theirs(world):
    result = demo_people_load()
    # Grid A has the cast's worker and the demo gridworker, grid B the outsider; grid C had nobody.
    assert result["grid_workers"] == 1
    assert list(GridPosting.objects.filter(grid=world.grid_c).values_list("user__username", flat=True)) == [
        "gw210111003201001"
    ]
    assert not User.objects.filter(username__in=["gw210111001015001", "gw210111001015002"]).exists()


def test_the_generated_worker_has_a_chinese_name_that_comes_from_the_grid_code(world):
    demo_people_load()
    name = User.objects.get(username="gw210111003201001").real_name
    User.objects.filter(username="gw210111003201001").delete()
    demo_people_load()
    assert User.objects.get(username="gw210111003201001").real_name == name
    assert 2 <= len(name) <= 3


def test_every_active_unit_gets_a_head(world):
    demo_people_load()
    headless = Unit.objects.filter(is_active=True).exclude(
        Exists(Membership.objects.filter(unit=OuterRef("pk"), role=Membership.Role.HEAD))
    )
    assert not headless.exists()
    head = Membership.objects.get(unit__code="S210111001", role=Membership.Role.HEAD).user
    assert head.username == "head_s210111001"
    assert "unit_head" in roles_for(head)


def test_a_unit_that_has_a_head_gets_no_other(world):
    Membership.objects.filter(user=world.community_clerk).update(role=Membership.Role.HEAD)
    demo_people_load()
    assert list(
        Membership.objects.filter(unit=world.committee, role=Membership.Role.HEAD).values_list(
            "user__username", flat=True
        )
    ) == ["t_community"]


def test_a_second_run_creates_nothing(world):
    demo_people_load()
    before = (User.objects.count(), Membership.objects.count(), GridPosting.objects.count())
    assert demo_people_load() == {
        "accounts": 0,
        "grid_workers": 0,
        "heads": 0,
        "grid_postings": 0,
        "memberships": 0,
    }
    assert (User.objects.count(), Membership.objects.count(), GridPosting.objects.count()) == before


def test_a_second_run_keeps_a_renamed_demo_account(world):
    demo_people_load()
    User.objects.filter(username="dept").update(real_name="改过的名字")
    demo_people_load()
    assert User.objects.get(username="dept").real_name == "改过的名字"


def test_it_refuses_when_debug_is_off(cast, settings):
    settings.DEBUG = False
    units_load_sujiatun()
    users = User.objects.count()
    with pytest.raises(DemoDataRefused):
        demo_people_load()
    assert User.objects.count() == users
    assert not User.objects.filter(username__in=NAMED).exists()


def test_it_refuses_before_the_units_are_loaded(settings, db):
    settings.DEBUG = True
    region(
        "210111001015001",
        "金山社区第1网格",
        region("210111001015", "金山社区", region("210111001", "解放街道", region("210111", "苏家屯区"))),
    )
    with pytest.raises(UnitsNotLoaded, match="dispatcher"):
        demo_people_load()
    assert not User.objects.exists()


def test_on_the_full_district_every_grid_has_a_worker(settings, db):
    from grids.services import regions_load_sujiatun

    settings.DEBUG = True
    regions_load_sujiatun()
    units_load_sujiatun()
    result = demo_people_load()
    grids = Region.objects.filter(level=Region.Level.GRID)
    assert grids.count() == 2939
    assert result["grid_workers"] == 2938  # grid 210111001015001 has the demo gridworker
    assert not grids.exclude(Exists(GridPosting.objects.filter(grid=OuterRef("pk")))).exists()
    assert Membership.objects.filter(role=Membership.Role.HEAD).count() == Unit.objects.count()
    assert demo_people_load()["grid_workers"] == 0
