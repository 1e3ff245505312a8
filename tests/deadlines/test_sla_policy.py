"""sla_policy_for: the most specific policy wins; sla_policies_load: the published limits."""

import csv
from decimal import Decimal

import pytest

from cases.models import Category
from deadlines.models import LimitUnit, SlaPolicy
from deadlines.policies import NoDefaultSlaPolicy, sla_policy_for
from routing.services import SLA_POLICIES_CSV, CategoriesNotLoaded, sla_policies_load
from tests.factories import english

pytestmark = pytest.mark.django_db

# From the most specific to the least: (category, priority) as named for 供水 (0301, class 03).
LADDER = [
    ("0301", "urgent"),
    ("0301", ""),
    ("03", "urgent"),
    ("03", ""),
    (None, "urgent"),
    (None, ""),
]


def make_policy(category_code, priority, resolve_days):
    category = Category.objects.get(code=category_code) if category_code else None
    return SlaPolicy.objects.create(
        category=category,
        priority=priority,
        sign_value=2,
        sign_unit=LimitUnit.WORKING_HOURS,
        contact_value=1,
        contact_unit=LimitUnit.WORKING_DAYS,
        resolve_value=resolve_days,
        resolve_unit=LimitUnit.WORKING_DAYS,
        callback_value=1,
        callback_unit=LimitUnit.WORKING_DAYS,
    )


@pytest.fixture
def ladder(categories):
    """Every rung of the ladder, told apart by its resolution limit (1 = most specific)."""
    return {rung: make_policy(*rung, resolve_days=index + 1) for index, rung in enumerate(LADDER)}


@pytest.mark.parametrize("removed", range(len(LADDER)), ids=[f"{c or 'none'}/{p or 'any'}" for c, p in LADDER])
def test_the_most_specific_policy_left_wins(ladder, categories, removed):
    # Remove the rungs above `removed`: the rung itself must then answer.
    for rung in LADDER[:removed]:
        ladder[rung].delete()
    policy = sla_policy_for(category=categories["0301"], priority="urgent")
    assert policy == ladder[LADDER[removed]]


@pytest.mark.parametrize("rung", LADDER, ids=[f"{c or 'none'}/{p or 'any'}" for c, p in LADDER])
def test_each_level_alone_applies(categories, rung):
    make_policy(*rung, resolve_days=5)
    assert sla_policy_for(category=categories["0301"], priority="urgent").resolve_value == 5


def test_a_policy_for_another_priority_does_not_apply(categories):
    default = make_policy(None, "", resolve_days=7)
    make_policy("0301", "emergency", resolve_days=1)
    make_policy("03", "normal", resolve_days=2)
    assert sla_policy_for(category=categories["0301"], priority="urgent") == default


def test_a_policy_for_another_category_or_class_does_not_apply(categories):
    default = make_policy(None, "", resolve_days=7)
    make_policy("0302", "", resolve_days=1)
    make_policy("02", "", resolve_days=2)
    assert sla_policy_for(category=categories["0301"], priority="normal") == default


def test_the_class_policy_serves_a_case_filed_under_the_class_itself(categories):
    make_policy(None, "", resolve_days=7)
    make_policy("03", "", resolve_days=1)
    assert sla_policy_for(category=categories["03"], priority="normal").resolve_value == 1


def test_no_category_gets_the_default(categories):
    default = make_policy(None, "", resolve_days=7)
    assert sla_policy_for(category=None, priority="") == default


def test_a_missing_default_raises(categories):
    make_policy("0302", "", resolve_days=1)
    with pytest.raises(NoDefaultSlaPolicy):
        sla_policy_for(category=categories["0301"], priority="urgent")


def test_no_policy_at_all_raises(categories):
    with pytest.raises(NoDefaultSlaPolicy):
        sla_policy_for(category=categories["0201"], priority="normal")


def test_the_answer_takes_one_query(ladder, categories, django_assert_num_queries):
    with django_assert_num_queries(1):
        sla_policy_for(category=categories["0301"], priority="urgent")


# The seeded policies


@pytest.fixture
def seeded(categories):
    return sla_policies_load()


def limits(category_code, priority, categories):
    policy = sla_policy_for(category=categories[category_code] if category_code else None, priority=priority)
    return policy.resolve_value, policy.resolve_unit


def test_the_load_creates_every_policy_of_the_file(seeded):
    with SLA_POLICIES_CSV.open(encoding="utf-8") as source:
        rows = list(csv.DictReader(source))
    assert seeded == {"sla_policies": len(rows)}
    assert SlaPolicy.objects.count() == len(rows)


def test_a_second_load_creates_nothing_and_keeps_an_admins_change(seeded):
    SlaPolicy.objects.filter(category=None, priority="").update(resolve_value=5)
    assert sla_policies_load() == {"sla_policies": 0}
    assert SlaPolicy.objects.get(category=None, priority="").resolve_value == 5


def test_the_load_refuses_without_categories(db):
    with pytest.raises(CategoriesNotLoaded, match="categories_load"):
        sla_policies_load()
    assert not SlaPolicy.objects.exists()


@pytest.mark.parametrize(
    ("category_code", "priority", "expected"),
    [
        (None, "", (7, "working_days")),  # general
        ("0201", "normal", (7, "working_days")),  # 环境卫生: general
        ("1102", "emergency", (2, "calendar_hours")),  # 消防 emergency: 2 hours
        ("0303", "emergency", (2, "calendar_hours")),  # a gas leak: 2 hours, not the utilities' 24
        ("0301", "urgent", (24, "calendar_hours")),  # 供水
        ("0302", "normal", (24, "calendar_hours")),  # 供电, even at normal priority
        ("0304", "urgent", (24, "calendar_hours")),  # 供暖
        ("0305", "normal", (7, "working_days")),  # 通信 is not among the 24-hour utilities
        ("0305", "urgent", (24, "calendar_hours")),  # ... unless urgent (a cut fibre)
        ("0101", "normal", (15, "working_days")),  # 违章建筑: complex
        ("0101", "urgent", (7, "working_days")),  # 违章建筑 marked urgent: general
        ("0101", "emergency", (2, "calendar_hours")),  # and an emergency stays an emergency
        ("0106", "normal", (15, "working_days")),  # 房地产与拆迁
        ("1202", "normal", (15, "working_days")),  # 土地承包
        ("0701", "urgent", (7, "working_days")),  # 拖欠工资 is not complex
    ],
)
def test_the_seeded_limits_follow_published_practice(seeded, categories, category_code, priority, expected):
    assert limits(category_code, priority, categories) == (Decimal(expected[0]), expected[1])


def test_every_seeded_policy_returns_within_its_window_and_extends_at_most_ten_days(seeded):
    for policy in SlaPolicy.objects.all():
        assert policy.extension_max_days == 10
        if policy.resolve_unit == LimitUnit.WORKING_DAYS:
            assert policy.limit("return_window") == (Decimal(2), LimitUnit.WORKING_DAYS)


def test_the_emergency_default_is_half_an_hour_to_sign_and_an_hour_to_call(seeded):
    policy = SlaPolicy.objects.get(category=None, priority="emergency")
    assert policy.limit("sign") == (Decimal("0.5"), LimitUnit.CALENDAR_HOURS)
    assert policy.limit("contact") == (Decimal(1), LimitUnit.CALENDAR_HOURS)
    assert policy.limit("callback") == (Decimal(1), LimitUnit.WORKING_DAYS)


def test_the_admin_lists_the_policies_compactly(seeded, admin_client):
    response = english(admin_client).get("/admin/deadlines/slapolicy/")
    assert response.status_code == 200
    assert "0.5 " in response.text
    assert "15 " in response.text


def test_the_admin_policy_form_renders(seeded, admin_client):
    policy = SlaPolicy.objects.get(category=None, priority="")
    assert english(admin_client).get(f"/admin/deadlines/slapolicy/{policy.pk}/change/").status_code == 200
    assert english(admin_client).get("/admin/deadlines/slapolicy/", {"class": "03"}).status_code == 200


def test_an_emergency_keeps_its_emergency_limit_over_any_category_row(categories):
    make_policy(None, "", resolve_days=7)
    emergency = make_policy(None, "emergency", resolve_days=1)
    # An admin adds a slow any-priority row for 房屋安全: its emergencies must still be fast.
    make_policy("0102", "", resolve_days=15)
    assert sla_policy_for(category=categories["0102"], priority="emergency") == emergency
    assert sla_policy_for(category=categories["0102"], priority="urgent").resolve_value == 15
    # A category's own emergency row is still the most specific emergency row.
    own = make_policy("0102", "emergency", resolve_days=2)
    assert sla_policy_for(category=categories["0102"], priority="emergency") == own
