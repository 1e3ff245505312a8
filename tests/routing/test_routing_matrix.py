"""route_for and routes_for_many against the district's real seeds: categories × grids → units."""

import pytest
from django.db import transaction
from django.utils import translation

from cases.models import Case, Category
from cases.services import CallDetails, case_open
from grids.models import Region
from routing.models import RoutingRule
from routing.rules import route_for, routes_for_many, rules_active
from tests.factories import UserFactory, english
from units.models import Unit

# Grids in four streets: 解放 (two communities), 民主 (a residents' and a villagers' committee),
# 沈水 (the street with the local exception for 环境卫生) and 白清姚千 (villages).
JINSHAN = "210111001015001"  # 解放街道 金山社区第1网格
GUANGCHANG = "210111001002001"  # 解放街道 广场社区第1网格
RENZILU = "210111003001001"  # 民主街道 人字路社区第1网格
HONGXING = "210111003200001"  # 民主街道 红星社区 (villagers) 第1网格
FUMIN = "210111020007001"  # 沈水街道 富民社区第1网格
QIANMO = "210111020204001"  # 沈水街道 前谟家堡社区 (villagers) 第1网格
HESHUNBAO = "210111021200001"  # 白清姚千街道 和顺堡社区 (villagers) 第1网格


@pytest.fixture(scope="module")
def seeds(django_db_setup, django_db_blocker):
    """The real seeds, loaded once for the module inside a transaction rolled back at its end;
    each test runs in a savepoint inside it, so a test that deactivates a rule changes nothing for
    the next one."""
    from cases.services import categories_load
    from grids.services import regions_load_sujiatun
    from routing.services import rules_load_sujiatun, units_load_sujiatun

    with django_db_blocker.unblock(), transaction.atomic():
        regions_load_sujiatun()
        categories_load()
        units_load_sujiatun()
        rules_load_sujiatun()
        yield
        transaction.set_rollback(True)


@pytest.fixture
def world(seeds, db):
    return None


def route(category_code, grid_code, **kwargs):
    return route_for(
        category=Category.objects.get(code=category_code), grid=Region.objects.get(code=grid_code), **kwargs
    )


def unit_code(decision):
    return decision.unit.code if decision.unit else None


MATRIX = [
    # community level: the grid's own committee, in every street
    ("0201", JINSHAN, "C210111001015", "环境卫生 → 金山社区's committee"),
    ("0201", RENZILU, "C210111003001", "环境卫生 → 人字路社区's committee, another street"),
    ("0103", GUANGCHANG, "C210111001002", "物业管理 → 广场社区's committee"),
    ("0103", HONGXING, "C210111003200", "物业管理 → a villagers' committee"),
    ("1104", HESHUNBAO, "C210111021200", "矛盾纠纷 → the village's committee"),
    ("1104", FUMIN, "C210111020007", "矛盾纠纷 in 沈水街道: the exception is for 环境卫生 only"),
    # street level: the office of the grid's street
    ("0101", JINSHAN, "S210111001", "违章建筑 → 解放街道办事处"),
    ("0101", HESHUNBAO, "S210111021", "违章建筑 → 白清姚千街道办事处"),
    ("1202", QIANMO, "S210111020", "土地承包 → 沈水街道办事处"),
    ("1203", HONGXING, "S210111003", "村务管理 → 民主街道办事处"),
    # a named unit, whatever the street
    ("0301", JINSHAN, "U-WATER", "供水 → the water company"),
    ("0301", HESHUNBAO, "U-WATER", "供水 → the water company, in a village too"),
    ("0202", RENZILU, "D-URBAN", "市容秩序 → 城管执法局"),
    ("0304", FUMIN, "U-HEAT", "供暖 → the heating company"),
    ("0701", GUANGCHANG, "D-HRSS", "拖欠工资 → 人社局"),
    ("0803", HESHUNBAO, "D-CIVIL", "残疾人服务 → 民政局"),
    ("1102", RENZILU, "D-FIRE", "消防安全 → the fire brigade"),
    ("1003", JINSHAN, "D-MEDINS", "医疗保障 → 医保局"),
    # the catch-all: no rule, the centre's dispatchers decide
    ("1301", JINSHAN, None, "政策咨询 has no rule"),
    ("1302", HESHUNBAO, None, "办事服务 has no rule"),
    ("1304", RENZILU, None, "意见建议 has no rule"),
    ("9901", FUMIN, None, "其他诉求 has no rule"),
    ("03", JINSHAN, None, "the class 公共事业 itself has no rule: each utility is a kind"),
    # the local exception wins inside its region
    ("0201", FUMIN, "S210111020", "环境卫生 in 沈水街道 → its street office"),
    ("0201", QIANMO, "S210111020", "环境卫生 in a 沈水街道 village → its street office"),
    # a kind without a rule takes its class's rule
    ("0208", RENZILU, "D-URBAN", "停车管理 inherits 城市管理's rule"),
    ("02", JINSHAN, "D-URBAN", "a case filed under the class 城市管理 itself"),
]


@pytest.mark.parametrize(
    ("category_code", "grid_code", "expected"),
    [row[:3] for row in MATRIX],
    ids=[row[3] for row in MATRIX],
)
def test_a_case_goes_to_the_unit_of_the_most_specific_rule(world, category_code, grid_code, expected):
    decision = route(category_code, grid_code)
    assert unit_code(decision) == expected
    assert decision.is_catch_all == (expected is None)
    assert decision.explanation


def test_a_district_wide_decision_explains_rule_level_and_scope(world):
    rule = RoutingRule.objects.get(category__code="0201", region=None)
    with translation.override("en"):
        decision = route("0201", JINSHAN)
    assert decision.rule == rule
    assert decision.level == RoutingRule.Level.COMMUNITY
    assert decision.explanation == (
        f"环境卫生 in 金山社区第1网格 goes to 金山社区居委会 because of rule #{rule.pk} "
        "(community level, whole district)."
    )


def test_a_local_exception_says_where_it_applies(world):
    with translation.override("en"):
        decision = route("0201", FUMIN)
    assert decision.rule.region.code == "210111020"
    assert "local exception for 沈水街道" in decision.explanation
    assert "沈水街道办事处" in decision.explanation


def test_an_inherited_decision_names_the_class(world):
    with translation.override("en"):
        decision = route("0208", RENZILU)
    assert decision.rule.category.code == "02"
    assert "for its class 城市管理" in decision.explanation


def test_the_catch_all_says_the_dispatchers_decide(world):
    with translation.override("en"):
        decision = route("1301", JINSHAN)
    assert (decision.unit, decision.rule, decision.level) == (None, None, "")
    assert decision.explanation == (
        "No rule for 政策咨询 in 金山社区第1网格: it stays with the district centre's dispatchers."
    )


def test_an_inactive_rule_is_ignored(world):
    RoutingRule.objects.filter(category__code="0101", region=None).update(is_active=False)
    # 违章建筑 then falls to its class's rule, 城乡建设 → 区住建局.
    assert unit_code(route("0101", JINSHAN)) == "D-HOUSING"


def test_an_inactive_local_exception_gives_way_to_the_district_rule(world):
    RoutingRule.objects.filter(category__code="0201", region__code="210111020").update(is_active=False)
    assert unit_code(route("0201", FUMIN)) == "C210111020007"


def test_a_rule_naming_an_inactive_unit_falls_to_the_catch_all(world):
    Unit.objects.filter(code="U-WATER").update(is_active=False)
    with translation.override("en"):
        decision = route("0301", JINSHAN)
    assert decision.unit is None
    assert decision.rule.category.code == "0301"
    assert "苏家屯区供水公司" in decision.explanation
    assert "inactive" in decision.explanation


def test_an_inactive_committee_falls_to_the_catch_all(world):
    Unit.objects.filter(code="C210111001015").update(is_active=False)
    decision = route("0201", JINSHAN)
    assert decision.unit is None
    assert decision.rule is not None


def test_a_community_without_a_committee_falls_to_the_catch_all_and_says_which(world):
    Unit.objects.filter(code="C210111001015").delete()
    with translation.override("en"):
        decision = route("0201", JINSHAN)
    assert decision.unit is None
    assert "the committee of 金山社区" in decision.explanation


def test_a_local_exception_for_a_class_beats_the_district_rule_for_the_kind(world):
    # The place is more specific than the category: an admin who writes an exception for a whole
    # class in one street means all of it.
    RoutingRule.objects.create(
        category=Category.objects.get(code="02"), region=Region.objects.get(code="210111001"), level="street"
    )
    assert unit_code(route("0201", JINSHAN)) == "S210111001"
    assert unit_code(route("0201", RENZILU)) == "C210111003001"


def test_a_grid_exception_beats_a_street_exception(world):
    RoutingRule.objects.create(
        category=Category.objects.get(code="0201"),
        region=Region.objects.get(code=QIANMO),
        level="unit",
        unit=Unit.objects.get(code="N-VOLUNTEERS"),
    )
    assert unit_code(route("0201", QIANMO)) == "N-VOLUNTEERS"
    assert unit_code(route("0201", "210111020204002")) == "S210111020"


def test_route_for_reads_at_most_three_times(world, django_assert_max_num_queries):
    category, grid = Category.objects.get(code="0201"), Region.objects.get(code=JINSHAN)
    with django_assert_max_num_queries(2):
        route_for(category=category, grid=grid)
    Unit.objects.filter(code="C210111001015").delete()
    with django_assert_max_num_queries(3):
        route_for(category=category, grid=grid)


def test_route_for_with_preloaded_rules_reads_only_the_territorial_unit(world, django_assert_num_queries):
    rules = rules_active()
    environment, water = Category.objects.get(code="0201"), Category.objects.get(code="0301")
    grid = Region.objects.get(code=JINSHAN)
    with django_assert_num_queries(1):
        assert route_for(category=environment, grid=grid, rules=rules).unit.code == "C210111001015"
    with django_assert_num_queries(0):
        assert route_for(category=water, grid=grid, rules=rules).unit.code == "U-WATER"


# Many cases at once (the dispatcher console)


@pytest.fixture
def thirty_cases(world):
    actor = UserFactory(username="t_intake")
    codes = [row[0] for row in MATRIX]
    grids = {code: Region.objects.get(code=code) for code in {row[1] for row in MATRIX}}
    categories = {code: Category.objects.get(code=code) for code in codes}
    cases = []
    for index in range(30):
        category_code, grid_code, *_rest = MATRIX[index % len(MATRIX)]
        cases.append(
            case_open(
                actor=actor,
                details=CallDetails(
                    channel="hotline",
                    category=categories[category_code],
                    grid=grids[grid_code],
                    description=f"第{index}件诉求",
                ),
            )
        )
    # One case whose committee is missing: the names of such places are read in bulk too.
    Unit.objects.filter(code="C210111003001").delete()
    return cases


def test_routes_for_many_answers_as_route_for_does(thirty_cases):
    cases = list(Case.objects.filter(pk__in=[case.pk for case in thirty_cases]))
    decisions = routes_for_many(cases)
    assert set(decisions) == {case.pk for case in cases}
    for case in cases:
        single = route_for(category=case.category, grid=case.grid)
        many = decisions[case.pk]
        assert (many.unit, many.rule, many.level, many.explanation) == (
            single.unit,
            single.rule,
            single.level,
            single.explanation,
        )


def test_routes_for_many_reads_a_constant_number_of_times(thirty_cases, django_assert_max_num_queries):
    cases = list(Case.objects.filter(pk__in=[case.pk for case in thirty_cases]))
    # categories, grids, rules, territorial units, names of places without their unit
    with django_assert_max_num_queries(5):
        decisions = routes_for_many(cases)
    assert len(decisions) == 30
    loaded = list(Case.objects.filter(pk__in=[case.pk for case in thirty_cases]).select_related("category", "grid"))
    with django_assert_max_num_queries(3):
        routes_for_many(loaded)


def test_routes_for_many_of_nothing_reads_nothing(world, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert routes_for_many([]) == {}


# The admin's preview


def test_the_admin_preview_shows_where_a_case_would_go(world, admin_client):
    category = Category.objects.get(code="0201")
    response = english(admin_client).get(
        "/admin/routing/routingrule/preview/", {"category": category.pk, "grid": JINSHAN}
    )
    assert response.status_code == 200
    assert "金山社区居委会" in response.text


def test_the_admin_preview_refuses_an_unknown_grid(world, admin_client):
    category = Category.objects.get(code="0201")
    response = english(admin_client).get(
        "/admin/routing/routingrule/preview/", {"category": category.pk, "grid": "210111"}
    )
    assert response.status_code == 200
    assert 'id="routing-preview"' not in response.text


def test_the_rule_list_links_to_the_preview(world, admin_client):
    response = english(admin_client).get("/admin/routing/routingrule/", {"class": "02"})
    assert response.status_code == 200
    assert "/admin/routing/routingrule/preview/" in response.text
    assert "区城市管理综合行政执法局" in response.text
