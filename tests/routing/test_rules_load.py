"""rules_load_sujiatun: the district's routing rules from routing/data/routing_rules.csv."""

import csv
from collections import Counter

import pytest

from cases.models import Category
from grids.models import Region
from routing.models import RoutingRule
from routing.services import (
    RULES_CSV,
    CategoriesNotLoaded,
    RegionsNotLoaded,
    UnitsNotLoaded,
    rules_load_sujiatun,
)
from tests.factories import english
from units.models import Unit

pytestmark = pytest.mark.django_db


def file_rows():
    with RULES_CSV.open(encoding="utf-8") as source:
        return list(csv.DictReader(source))


@pytest.fixture
def loaded(db):
    from cases.services import categories_load
    from grids.services import regions_load_sujiatun
    from routing.services import units_load_sujiatun

    regions_load_sujiatun()
    categories_load()
    units_load_sujiatun()
    return rules_load_sujiatun()


def test_the_load_creates_one_rule_per_row(loaded):
    rows = file_rows()
    assert loaded == {"rules": len(rows)}
    assert RoutingRule.objects.count() == len(rows)
    assert RoutingRule.objects.filter(is_active=True).count() == len(rows)


def test_the_rules_cover_the_levels_the_district_uses(loaded):
    levels = Counter(RoutingRule.objects.values_list("level", flat=True))
    assert levels["community"] >= 3
    assert levels["street"] >= 3
    assert levels["unit"] >= 40


def test_there_is_one_local_exception_and_every_other_rule_is_district_wide(loaded):
    local = RoutingRule.objects.exclude(region=None).select_related("category", "region")
    assert [(rule.category.code, rule.region.code, rule.level) for rule in local] == [("0201", "210111020", "street")]


def test_the_kinds_left_to_the_dispatchers_are_exactly_these(loaded):
    ruled = set(RoutingRule.objects.values_list("category__code", flat=True))
    unruled = {
        kind.code
        for kind in Category.objects.filter(parent__isnull=False).select_related("parent")
        if kind.code not in ruled and kind.parent.code not in ruled
    }
    assert unruled == {"1301", "1302", "1304", "9901"}


def test_every_rule_names_an_existing_category(loaded):
    codes = set(Category.objects.values_list("code", flat=True))
    assert {row["category_code"] for row in file_rows()} <= codes


def test_every_unit_level_rule_names_an_active_case_handling_unit(loaded):
    rules = RoutingRule.objects.filter(level="unit").select_related("unit")
    assert rules.exists()
    for rule in rules:
        assert rule.unit is not None
        assert rule.unit.is_active
        assert rule.unit.kind in {Unit.Kind.DEPARTMENT, Unit.Kind.UTILITY, Unit.Kind.SOCIAL}


def test_community_and_street_rules_name_no_unit(loaded):
    assert not RoutingRule.objects.exclude(level="unit").exclude(unit=None).exists()


def test_every_community_and_street_has_the_unit_its_rules_lead_to(loaded):
    # A community-level rule needs a committee in every community, a street-level one an office
    # in every street; otherwise those cases would fall to the dispatchers.
    for level, kind in ((Region.Level.COMMUNITY, Unit.Kind.COMMITTEE), (Region.Level.STREET, Unit.Kind.STREET_OFFICE)):
        places = set(Region.objects.filter(level=level).values_list("pk", flat=True))
        served = set(Unit.objects.filter(kind=kind, is_active=True).values_list("region_id", flat=True))
        assert places <= served


def test_a_second_load_creates_nothing(loaded):
    before = RoutingRule.objects.count()
    assert rules_load_sujiatun() == {"rules": 0}
    assert RoutingRule.objects.count() == before


def test_an_admins_change_survives_a_second_load(loaded):
    rule = RoutingRule.objects.get(category__code="0103", region=None)
    rule.level, rule.unit, rule.is_active = "unit", Unit.objects.get(code="D-HOUSING"), False
    rule.save()
    RoutingRule.objects.filter(category__code="1104", region=None).delete()
    assert rules_load_sujiatun() == {"rules": 1}
    rule.refresh_from_db()
    assert (rule.level, rule.unit.code, rule.is_active) == ("unit", "D-HOUSING", False)
    assert RoutingRule.objects.get(category__code="1104", region=None).level == "community"


def test_the_load_refuses_without_categories(db):
    with pytest.raises(CategoriesNotLoaded, match="categories_load"):
        rules_load_sujiatun()
    assert not RoutingRule.objects.exists()


def test_the_load_refuses_without_regions(categories):
    with pytest.raises(RegionsNotLoaded, match="210111020"):
        rules_load_sujiatun()
    assert not RoutingRule.objects.exists()


def test_the_load_refuses_when_a_unit_is_missing(loaded):
    RoutingRule.objects.filter(unit__code="U-GAS").delete()
    Unit.objects.filter(code="U-GAS").delete()
    with pytest.raises(UnitsNotLoaded, match="U-GAS"):
        rules_load_sujiatun()
    assert not RoutingRule.objects.filter(category__code="0303").exists()


# The admin form


def test_the_admin_refuses_a_unit_level_rule_without_a_unit(loaded, admin_client):
    category = Category.objects.get(code="1301")
    response = english(admin_client).post(
        "/admin/routing/routingrule/add/",
        {"category": category.pk, "level": "unit", "note": "", "is_active": "on"},
    )
    assert response.status_code == 200
    assert "Name the unit" in response.text
    assert not RoutingRule.objects.filter(category=category).exists()


def test_the_admin_refuses_a_community_rule_with_a_unit(loaded, admin_client):
    category = Category.objects.get(code="1301")
    unit = Unit.objects.get(code="D-CIVIL")
    response = english(admin_client).post(
        "/admin/routing/routingrule/add/",
        {"category": category.pk, "level": "community", "unit": unit.pk, "note": "", "is_active": "on"},
    )
    assert response.status_code == 200
    assert not RoutingRule.objects.filter(category=category).exists()


def test_the_admin_adds_a_valid_rule(loaded, admin_client):
    category = Category.objects.get(code="1301")
    response = english(admin_client).post(
        "/admin/routing/routingrule/add/",
        {"category": category.pk, "level": "street", "note": "试点", "is_active": "on"},
    )
    assert response.status_code == 302
    assert RoutingRule.objects.get(category=category).level == "street"


def test_the_admin_add_form_renders(loaded, admin_client):
    assert english(admin_client).get("/admin/routing/routingrule/add/").status_code == 200
