from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from cases.services import categories_suggested
from intake.selectors import cases_of_caller, duplicates_for
from tests.factories import open_case

pytestmark = pytest.mark.django_db


def test_similar_chinese_text_in_the_same_community_is_suggested(cast, categories):
    same = open_case(cast, category_code="0205", description="金山路小区门口垃圾堆放多日无人清理，臭味很大")
    open_case(cast, category_code="0205", description="路灯坏了好几天，晚上很黑")
    found = duplicates_for(cast.dispatcher, grid=cast.grid_b, text="小区门口的垃圾好几天没人清理了")
    assert found == [same]


def test_the_same_category_in_the_same_community_is_suggested(cast, categories, settings):
    lamp = open_case(cast, category_code="0205", description="路灯坏了好几天")
    found = duplicates_for(cast.dispatcher, grid=cast.grid_a, category=lamp.category, text="晚上没有照明")
    assert found == [lamp]


def test_other_communities_old_and_closed_cases_are_not_suggested(cast, categories):
    open_case(cast, grid=cast.grid_c)  # another street
    with time_machine.travel(timezone.now() - timedelta(days=31)):
        open_case(cast)  # too old
    closed = open_case(cast)
    from feedback.services import case_close_invalid

    case_close_invalid(case=closed, actor=cast.dispatcher, reason="invalid", note="测试")
    assert duplicates_for(cast.dispatcher, grid=cast.grid_a, text="小区门口垃圾堆放多日无人清理") == []


def test_suggestions_stay_within_what_the_operator_may_see(cast, categories):
    open_case(cast, grid=cast.grid_b)
    assert duplicates_for(cast.gridworker, grid=cast.grid_a, text="小区门口垃圾堆放多日无人清理") == []


def test_a_callers_earlier_cases_are_found_by_phone_within_scope(cast, categories):
    mine = open_case(cast, caller_phone="13700137000")
    open_case(cast, grid=cast.grid_c, caller_phone="13700137000")
    assert cases_of_caller(cast.community_clerk, "13700137000") == [mine]
    assert len(cases_of_caller(cast.dispatcher, "13700137000")) == 2


def test_keywords_suggest_categories(categories):
    codes = [c.code for c in categories_suggested("楼下燃气泄漏，有很大的气味")]
    assert codes[0] == "0303"
    assert categories_suggested("") == []
