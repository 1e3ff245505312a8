from collections import Counter

import pytest
from django.db.models import Count

from grids.models import Region
from grids.services import TOTAL_GRIDS, grids_apportion, regions_load_sujiatun


@pytest.fixture
def loaded(db):
    return regions_load_sujiatun()


def levels():
    return dict(Region.objects.values_list("level").annotate(Count("id")).order_by())


def snapshot():
    return list(
        Region.objects.order_by("code").values_list(
            "code", "name", "level", "parent__code", "community_kind", "latitude", "longitude", "boundary"
        )
    )


def test_the_loader_makes_1_district_12_streets_186_communities_and_2939_grids(loaded):
    assert loaded == {"district": 1, "street": 12, "community": 186, "grid": 2939}
    assert levels() == {"district": 1, "street": 12, "community": 186, "grid": 2939}
    assert TOTAL_GRIDS == 2939


def test_a_second_run_creates_nothing_and_changes_nothing(loaded):
    grid = Region.objects.get(code="210111001015003")
    grid.name = "金山社区花园网格"
    grid.save()
    before = snapshot()
    assert regions_load_sujiatun() == {"district": 0, "street": 0, "community": 0, "grid": 0}
    assert snapshot() == before
    grid.refresh_from_db()
    assert grid.name == "金山社区花园网格"


def test_every_code_starts_with_its_parents_code_and_has_its_levels_length(loaded):
    for code, level, parent_code in Region.objects.values_list("code", "level", "parent__code"):
        assert len(code) == Region.CODE_LENGTHS[level]
        assert code.isdigit()
        if level == Region.Level.DISTRICT:
            assert parent_code is None
        else:
            assert code.startswith(parent_code)
            assert len(parent_code) == len(code) - 3


def test_each_communitys_grids_are_numbered_from_001_without_gaps(loaded):
    numbers = {}
    for code, name, community_name in Region.objects.filter(level=Region.Level.GRID).values_list(
        "code", "name", "parent__name"
    ):
        numbers.setdefault(code[:12], []).append(int(code[12:]))
        assert name == f"{community_name}第{int(code[12:])}网格"
    assert len(numbers) == 186
    for grid_numbers in numbers.values():
        assert sorted(grid_numbers) == list(range(1, len(grid_numbers) + 1))


def test_jinshan_community_is_under_jiefang_street(loaded):
    jinshan = Region.objects.get(name="金山社区")
    assert jinshan.code == "210111001015"
    assert jinshan.parent.name == "解放街道"
    assert jinshan.parent.parent.name == "苏家屯区"
    assert Region.objects.get(code="210111001015003").name == "金山社区第3网格"


def test_there_are_64_residents_committees_and_122_villagers_committees(loaded):
    kinds = Counter(Region.objects.filter(level=Region.Level.COMMUNITY).values_list("community_kind", flat=True))
    assert kinds == {"residents": 64, "villagers": 122}


def test_a_residents_committee_gets_25_grids_and_a_village_11_but_the_last_three_residents_committees_24(loaded):
    sizes = Counter(
        (kind, count)
        for kind, count in Region.objects.filter(level=Region.Level.COMMUNITY)
        .annotate(grids=Count("children"))
        .values_list("community_kind", "grids")
    )
    assert sizes == {("residents", 25): 61, ("residents", 24): 3, ("villagers", 11): 122}
    smaller = Region.objects.filter(level=Region.Level.COMMUNITY).annotate(grids=Count("children")).filter(grids=24)
    assert sorted(smaller.values_list("code", flat=True)) == ["210111020013", "210111020014", "210111021001"]


def test_the_largest_remainders_get_the_seats_left_and_a_tie_goes_to_the_lower_code():
    assert grids_apportion(weights={"b": 1, "a": 1, "c": 1}, total=10) == {"a": 4, "b": 3, "c": 3}
    assert grids_apportion(weights={"a": 3, "b": 1}, total=6) == {"a": 5, "b": 1}  # 4.5 / 1.5: tie, a wins


def test_a_community_that_has_grids_of_its_own_gets_no_generated_ones(cast):
    created = regions_load_sujiatun()
    assert created["district"] == 0
    assert created["street"] == 10
    assert created["community"] == 184
    assert list(cast.community.children.values_list("code", flat=True)) == ["210111001015001", "210111001015002"]
    # 金山社区 (25 by the rule) and the village coded 210111003201 (11), which the cast calls
    # 民主村, keep their own 2 and 1 grids, and keep the cast's names.
    assert created["grid"] == TOTAL_GRIDS - 25 - 11
    assert levels()["grid"] == TOTAL_GRIDS - 25 - 11 + 2 + 1
    assert Region.objects.get(code="210111003201").name == "民主村"


def test_the_loader_reports_progress_for_every_level(db):
    seen = []
    regions_load_sujiatun(progress=lambda stage, done, total: seen.append((stage, done, total)))
    assert [stage for stage, _done, _total in seen][:3] == ["district", "street", "community"]
    assert seen[-1] == ("grid", 2939, 2939)
