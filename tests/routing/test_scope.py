"""Who sees what: the scope functions of routing/selectors.py for every person of the cast."""

import pytest
from django.contrib.auth.models import AnonymousUser

from routing.selectors import can_browse_region, regions_for
from tests.factories import UnitFactory, UserFactory, member, posted
from units.selectors import region_prefixes_for, roles_for, units_for

pytestmark = pytest.mark.django_db


def region_codes(user):
    return set(regions_for(user).values_list("code", flat=True))


def unit_codes(user):
    return set(units_for(user).values_list("code", flat=True))


def codes(*objs):
    return {obj.code for obj in objs}


def everything(cast):
    return codes(
        cast.district,
        cast.street,
        cast.community,
        cast.grid_a,
        cast.grid_b,
        cast.other_street,
        cast.other_community,
        cast.grid_c,
    )


# regions_for


def test_a_grid_worker_sees_their_grid_and_the_places_above_it(cast):
    assert region_codes(cast.gridworker) == codes(cast.district, cast.street, cast.community, cast.grid_a)


def test_a_grid_worker_does_not_see_the_neighbouring_grid_or_another_street(cast):
    seen = region_codes(cast.gridworker)
    assert cast.grid_b.code not in seen
    assert cast.grid_c.code not in seen
    assert cast.other_street.code not in seen


def test_the_outsider_sees_grid_b_but_not_grid_a(cast):
    assert region_codes(cast.outsider) == codes(cast.district, cast.street, cast.community, cast.grid_b)


def test_a_community_clerk_sees_the_community_its_grids_and_the_places_above(cast):
    assert region_codes(cast.community_clerk) == codes(
        cast.district, cast.street, cast.community, cast.grid_a, cast.grid_b
    )


def test_a_street_clerk_sees_the_whole_street_but_not_the_other_one(cast):
    assert region_codes(cast.street_clerk) == codes(
        cast.district, cast.street, cast.community, cast.grid_a, cast.grid_b
    )


def test_dispatchers_and_officials_see_every_place(cast):
    assert region_codes(cast.dispatcher) == everything(cast)
    assert region_codes(cast.official) == everything(cast)


def test_a_department_clerk_has_no_area(cast):
    assert region_codes(cast.dept_clerk) == set()


def test_a_visitor_who_has_not_signed_in_sees_no_place(cast):
    assert region_codes(AnonymousUser()) == set()


def test_a_person_with_two_grids_in_two_streets_sees_both(cast):
    worker = posted(UserFactory(username="t_two_grids"), cast.grid_a, cast.grid_c)
    assert region_codes(worker) == codes(
        cast.district,
        cast.street,
        cast.community,
        cast.grid_a,
        cast.other_street,
        cast.other_community,
        cast.grid_c,
    )


def test_membership_of_an_inactive_committee_gives_no_area(cast):
    cast.committee.is_active = False
    cast.committee.save()
    assert region_codes(cast.community_clerk) == set()


# region_prefixes_for


def test_area_prefixes_follow_each_persons_posting(cast):
    assert region_prefixes_for(cast.gridworker) == ["210111001015001"]
    assert region_prefixes_for(cast.community_clerk) == ["210111001015"]
    assert region_prefixes_for(cast.street_clerk) == ["210111001"]
    assert region_prefixes_for(cast.dept_clerk) == []


def test_dispatchers_and_officials_have_no_prefix_limit(cast):
    assert region_prefixes_for(cast.dispatcher) is None
    assert region_prefixes_for(cast.official) is None


def test_a_prefix_inside_another_one_is_dropped(cast):
    clerk = member(UserFactory(username="t_street_and_grid"), cast.street_office)
    posted(clerk, cast.grid_a, cast.grid_c)
    assert region_prefixes_for(clerk) == ["210111001", "210111003201001"]


# can_browse_region


def test_a_grid_worker_may_browse_their_grid_and_the_places_above_it_only(cast):
    user = cast.gridworker
    assert all(can_browse_region(user, r) for r in (cast.district, cast.street, cast.community, cast.grid_a))
    assert not any(can_browse_region(user, r) for r in (cast.grid_b, cast.other_street, cast.grid_c))


def test_a_community_clerk_may_browse_both_grids_of_the_community_but_not_grid_c(cast):
    assert can_browse_region(cast.community_clerk, cast.grid_a)
    assert can_browse_region(cast.community_clerk, cast.grid_b)
    assert not can_browse_region(cast.community_clerk, cast.grid_c)
    assert not can_browse_region(cast.community_clerk, cast.other_community)


def test_a_street_clerk_may_browse_the_street_subtree_only(cast):
    assert can_browse_region(cast.street_clerk, cast.grid_b)
    assert not can_browse_region(cast.street_clerk, cast.other_street)
    assert not can_browse_region(cast.street_clerk, cast.grid_c)


def test_dispatchers_and_officials_may_browse_everywhere(cast):
    for user in (cast.dispatcher, cast.official):
        assert all(can_browse_region(user, r) for r in (cast.district, cast.grid_a, cast.grid_c))


def test_a_department_clerk_may_browse_no_place(cast):
    assert not can_browse_region(cast.dept_clerk, cast.district)
    assert not can_browse_region(cast.dept_clerk, cast.grid_a)


# units_for


def test_a_grid_worker_sees_the_district_units_and_the_offices_above_their_grid(cast):
    assert unit_codes(cast.gridworker) == codes(
        cast.centre, cast.leadership, cast.department, cast.street_office, cast.committee
    )


def test_the_community_and_street_clerks_do_not_see_the_other_streets_offices(cast):
    for user in (cast.community_clerk, cast.street_clerk):
        seen = unit_codes(user)
        assert codes(cast.street_office, cast.committee) <= seen
        assert not codes(cast.other_street_office, cast.other_committee) & seen


def test_a_department_clerk_sees_the_district_units_but_no_territorial_unit(cast):
    assert unit_codes(cast.dept_clerk) == codes(cast.centre, cast.leadership, cast.department)


def test_every_department_social_force_and_agency_is_visible_to_everyone_signed_in(cast):
    extra = [
        UnitFactory(code="U-TEST", kind="utility"),
        UnitFactory(code="N-TEST", kind="social"),
        UnitFactory(code="A-TEST", kind="agency"),
    ]
    for user in (cast.gridworker, cast.outsider, cast.community_clerk, cast.dept_clerk, cast.dispatcher):
        assert codes(*extra) <= unit_codes(user)


def test_dispatchers_and_officials_see_every_active_unit(cast):
    cast.other_committee.is_active = False
    cast.other_committee.save()
    expected = codes(
        cast.centre,
        cast.leadership,
        cast.street_office,
        cast.committee,
        cast.other_street_office,
        cast.department,
    )
    assert unit_codes(cast.dispatcher) == expected
    assert unit_codes(cast.official) == expected


def test_a_visitor_who_has_not_signed_in_sees_no_unit(cast):
    assert unit_codes(AnonymousUser()) == set()


# roles_for


def test_each_person_of_the_cast_has_the_role_their_posting_gives(cast):
    assert roles_for(cast.dispatcher) == {"dispatcher"}
    assert roles_for(cast.official) == {"official"}
    assert roles_for(cast.gridworker) == {"grid_worker"}
    assert roles_for(cast.outsider) == {"grid_worker"}
    assert roles_for(cast.community_clerk) == {"community_staff"}
    assert roles_for(cast.street_clerk) == {"street_staff"}
    assert roles_for(cast.dept_clerk) == {"department_staff"}


def test_the_head_of_a_unit_also_holds_the_unit_head_role(cast):
    head = member(UserFactory(username="t_head"), cast.committee, role="head")
    assert roles_for(head) == {"community_staff", "unit_head"}


def test_staff_of_utilities_social_forces_and_agencies_count_as_department_staff(cast):
    for kind in ("utility", "social", "agency"):
        user = member(UserFactory(username=f"t_{kind}"), UnitFactory(code=f"X-{kind}", kind=kind))
        assert roles_for(user) == {"department_staff"}


def test_is_staff_alone_gives_no_role_and_no_area(cast):
    staff = UserFactory(username="t_staff", is_staff=True, is_superuser=True)
    assert roles_for(staff) == set()
    assert region_codes(staff) == set()


def test_a_visitor_who_has_not_signed_in_has_no_role():
    assert roles_for(AnonymousUser()) == set()
