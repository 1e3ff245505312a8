"""units_load_sujiatun: the district's units, an office per street, a committee per community, 结邻共建."""

from collections import Counter

import pytest

from grids.models import Region
from routing.services import RegionsNotLoaded, committee_name, paired_agency_codes, units_load_sujiatun
from tests.factories import region
from units.models import Pairing, Unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def sujiatun(db):
    from grids.services import regions_load_sujiatun

    regions_load_sujiatun()
    return units_load_sujiatun()


# The full district


def test_the_first_load_reports_what_it_created(sujiatun):
    assert sujiatun["street_offices"] == 12
    assert sujiatun["committees"] == 186
    assert sujiatun["pairings"] == 186
    assert sujiatun["district_units"] == Unit.objects.exclude(kind__in=Unit.TERRITORIAL).count()


def test_every_street_has_one_office_that_escalates_to_the_leadership(sujiatun):
    offices = Unit.objects.filter(kind=Unit.Kind.STREET_OFFICE).select_related("region", "parent")
    assert offices.count() == 12
    for office in offices:
        assert office.region.level == Region.Level.STREET
        assert office.code == f"S{office.region.code}"
        assert office.name == f"{office.region.name}办事处"
        assert office.parent.code == "LEADERSHIP"


def test_every_community_has_one_committee_under_its_street_office(sujiatun):
    committees = Unit.objects.filter(kind=Unit.Kind.COMMITTEE).select_related("region", "parent__region")
    assert committees.count() == 186
    assert {c.region.code for c in committees} == set(
        Region.objects.filter(level=Region.Level.COMMUNITY).values_list("code", flat=True)
    )
    for committee in committees:
        assert committee.code == f"C{committee.region.code}"
        assert committee.parent.kind == Unit.Kind.STREET_OFFICE
        assert committee.parent.region_id == committee.region.parent_id


def test_committees_are_named_after_their_kind(sujiatun):
    names = dict(Unit.objects.filter(kind=Unit.Kind.COMMITTEE).values_list("region__code", "name"))
    assert names["210111001015"] == "金山社区居委会"
    assert names["210111001200"] == "高楼子社区村委会"
    kinds = Counter(name[-3:] for name in names.values())
    assert kinds == {"居委会": 64, "村委会": 122}


def test_the_centre_and_the_leadership_serve_the_district(sujiatun):
    centre = Unit.objects.get(code="CENTRE")
    leadership = Unit.objects.get(code="LEADERSHIP")
    assert (centre.name, centre.kind, centre.region.code) == ("区民呼我应中心", "centre", "210111")
    assert (leadership.kind, leadership.region.code) == ("leadership", "210111")


def test_about_forty_departments_and_utilities_escalate_to_the_leadership(sujiatun):
    units = Unit.objects.filter(kind__in=[Unit.Kind.DEPARTMENT, Unit.Kind.UTILITY])
    assert 35 <= units.count() <= 45
    assert set(units.values_list("parent__code", flat=True)) == {"LEADERSHIP"}
    assert {"区住房和城乡建设局", "区教育局", "区民政局", "区城市管理综合行政执法局"} <= set(
        units.values_list("name", flat=True)
    )
    assert units.filter(kind=Unit.Kind.UTILITY).count() >= 5


def test_the_social_forces_of_the_source_are_there(sujiatun):
    names = set(Unit.objects.filter(kind=Unit.Kind.SOCIAL).values_list("name", flat=True))
    assert {"辉洒人间爱心公益协会", "葵花社区向阳先锋志愿服务队", "苏家屯区志愿者协会"} <= names


def test_exactly_86_agencies_are_paired_each_with_two_or_three_communities(sujiatun):
    per_agency = Counter(Pairing.objects.values_list("agency__code", flat=True))
    assert len(per_agency) == 86
    assert set(per_agency) == set(paired_agency_codes())
    assert set(per_agency.values()) == {2, 3}
    kinds = set(Unit.objects.filter(code__in=per_agency).values_list("kind", flat=True))
    assert kinds == {"department", "utility", "agency"}


def test_every_community_is_paired_with_exactly_one_agency(sujiatun):
    per_community = Counter(Pairing.objects.values_list("community__code", flat=True))
    assert len(per_community) == 186
    assert set(per_community.values()) == {1}
    assert not Pairing.objects.exclude(community__level=Region.Level.COMMUNITY).exists()


def test_every_paired_agency_kind_unit_is_paired(sujiatun):
    agencies = set(Unit.objects.filter(kind=Unit.Kind.AGENCY).values_list("code", flat=True))
    assert agencies <= set(Pairing.objects.values_list("agency__code", flat=True))


def test_a_second_run_creates_nothing(sujiatun):
    before = (Unit.objects.count(), Pairing.objects.count())
    assert units_load_sujiatun() == {"district_units": 0, "street_offices": 0, "committees": 0, "pairings": 0}
    assert (Unit.objects.count(), Pairing.objects.count()) == before


# A small world


@pytest.fixture
def small_world(db):
    district = region("210111", "苏家屯区")
    street = region("210111001", "解放街道", district)
    return {
        "district": district,
        "street": street,
        "jinshan": region("210111001015", "金山社区", street),
        "village": region(
            "210111001200", "高楼子社区村民委员会", street, community_kind=Region.CommunityKind.VILLAGERS
        ),
    }


def test_the_loader_refuses_without_regions(db):
    with pytest.raises(RegionsNotLoaded, match="regions_load_sujiatun"):
        units_load_sujiatun()
    assert not Unit.objects.exists()


def test_the_loader_refuses_when_the_district_has_no_communities(db):
    region("210111001", "解放街道", region("210111", "苏家屯区"))
    with pytest.raises(RegionsNotLoaded):
        units_load_sujiatun()


def test_a_renamed_unit_keeps_its_name(small_world):
    units_load_sujiatun()
    Unit.objects.filter(code="D-HOUSING").update(name="区住建局")
    Unit.objects.filter(code="S210111001").update(name="解放街道党工委")
    units_load_sujiatun()
    assert Unit.objects.get(code="D-HOUSING").name == "区住建局"
    assert Unit.objects.get(code="S210111001").name == "解放街道党工委"


def test_a_community_that_already_has_a_committee_under_another_code_keeps_it(small_world):
    Unit.objects.create(code="JS-COMMITTEE", name="金山居委", kind=Unit.Kind.COMMITTEE, region=small_world["jinshan"])
    result = units_load_sujiatun()
    assert result["committees"] == 1
    assert list(Unit.objects.filter(region=small_world["jinshan"]).values_list("code", flat=True)) == ["JS-COMMITTEE"]


def test_a_pairing_edited_by_an_admin_is_kept(small_world):
    units_load_sujiatun()
    Pairing.objects.filter(community=small_world["jinshan"]).update(agency=Unit.objects.get(code="A-COURT"))
    Pairing.objects.filter(community=small_world["village"]).delete()
    assert units_load_sujiatun()["pairings"] == 1
    assert Pairing.objects.get(community=small_world["jinshan"]).agency.code == "A-COURT"
    assert Pairing.objects.filter(community=small_world["village"]).count() == 1


def test_pairings_are_the_same_on_every_fresh_load(small_world):
    units_load_sujiatun()
    first = dict(Pairing.objects.values_list("community__code", "agency__code"))
    Pairing.objects.all().delete()
    units_load_sujiatun()
    assert dict(Pairing.objects.values_list("community__code", "agency__code")) == first
    agencies = paired_agency_codes()
    assert first == {"210111001015": agencies[0], "210111001200": agencies[1]}


def test_the_loader_takes_the_units_of_the_cast_as_they_are(cast):
    result = units_load_sujiatun()
    assert result["street_offices"] == 0
    assert result["committees"] == 0
    assert Unit.objects.get(code="LEADERSHIP").name == "区领导"
    assert Unit.objects.filter(code="D-HOUSING").count() == 1


@pytest.mark.parametrize(
    ("name", "kind", "expected"),
    [
        ("金山社区", "residents", "金山社区居委会"),
        ("民主村", "villagers", "民主村村委会"),
        ("高楼子社区村民委员会", "villagers", "高楼子社区村委会"),
        ("广场社区居民委员会", "residents", "广场社区居委会"),
        ("民主村", "", "民主村村委会"),
        ("高楼子社区村民委员会", "", "高楼子社区村委会"),
        ("金山社区", "", "金山社区居委会"),
    ],
)
def test_a_committee_is_named_after_its_community_and_kind(name, kind, expected):
    assert committee_name(Region(code="210111001015", name=name, community_kind=kind)) == expected
