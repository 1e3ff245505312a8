"""The pickers (routing/pickers.py): a unit, place or category found by its name, its pinyin
initials or its code, among what the person may see; a typed name that means one thing is taken
by the forms without JavaScript, and one that could mean several is refused, naming them."""

import re

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from escalation.models import Supervision
from grids.models import GridPosting, Region
from routing import dispatch
from routing.models import Assignment
from routing.tasks import dispatch_case
from tests.factories import UnitFactory, open_case, routing_setup
from tests.handling.helpers import signed_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(cast, categories):
    routing_setup(cast)
    # The district's city management bureau, which everyone calls 区城管局.
    cast.urban = UnitFactory(code="D-URBAN", name="区城市管理综合行政执法局", kind="department", parent=cast.leadership)
    return cast


def options(client, kind, text, only=""):
    """The options the picker shows for `text`: (name, path, code) of each, in order."""
    response = client.get(f"/routing/pick/{kind}/", {"q": text, **({"only": only} if only else {})})
    assert response.status_code == 200
    return re.findall(
        r'data-code="([^"]*)" data-label="([^"]*)">\s*<span class="fw-semibold">([^<]*)</span>', response.text
    )


def names(found):
    return [name for _code, _label, name in found]


def test_pinyin_initials_find_a_community_first_with_its_full_path(client, world):
    client.force_login(world.dispatcher)
    found = options(client, "place", "jsq")
    assert found[0] == ("210111001015", "解放街道 › 金山社区", "金山社区")
    # Its grids match too, after it; 民主村 does not.
    assert set(names(found)) == {"金山社区", "金山社区第1网格", "金山社区第2网格"}
    # The initials of a unit, and the full pinyin.
    assert names(options(client, "unit", "qzfhcxjsj"))[0] == "区住房和城乡建设局"
    assert names(options(client, "place", "jiefang"))[0] == "解放街道"


def test_a_name_a_code_or_a_common_short_name_finds_the_thing(client, world):
    client.force_login(world.dispatcher)
    assert names(options(client, "place", "金山"))[0] == "金山社区"
    assert options(client, "place", "210111003201001") == [
        ("210111003201001", "民主街道 › 民主村 › 民主村第1网格", "民主村第1网格")
    ]
    assert names(options(client, "unit", "D-HOUSING")) == ["区住房和城乡建设局"]
    assert names(options(client, "unit", "区城管局")) == ["区城市管理综合行政执法局"]
    # A committee shows the street it is in.
    assert ("C210111001015", "解放街道 › 金山社区居委会", "金山社区居委会") in options(client, "unit", "金山")
    assert names(options(client, "category", "违章"))[0] == "违章建筑"
    assert options(client, "category", "0101")[0][1] == "城乡建设 › 违章建筑"


def test_a_picker_offers_only_what_it_is_asked_for(client, world):
    client.force_login(world.dispatcher)
    assert set(names(options(client, "place", "jsq", only="grid"))) == {"金山社区第1网格", "金山社区第2网格"}
    # The centre and the leadership lead no case.
    assert names(options(client, "unit", "区"))[:10] and "区领导" in names(options(client, "unit", "区领导"))
    assert options(client, "unit", "区领导", only="lead") == []
    # Kinds only: the class 城乡建设 is not something a case is given.
    assert "城乡建设" not in names(options(client, "category", "城乡", only="kind"))
    assert "城乡建设" in names(options(client, "category", "城乡"))


def test_nobody_finds_what_they_may_not_see(client, world):
    # The grid worker of grid B sees 金山社区 and 解放街道, not 民主街道's places or committees.
    client.force_login(world.outsider)
    assert options(client, "place", "民主") == []
    assert options(client, "place", "210111003") == []
    assert "民主村村委会" not in names(options(client, "unit", "民主"))
    assert names(options(client, "place", "jsq"))[0] == "金山社区"
    # Departments are for everyone to call in.
    assert names(options(client, "unit", "区城管局")) == ["区城市管理综合行政执法局"]
    client.force_login(world.dispatcher)
    assert set(names(options(client, "unit", "民主"))) == {"民主街道办事处", "民主村村委会"}


def test_an_unknown_picker_is_404_and_an_empty_text_offers_nothing(client, world):
    client.force_login(world.dispatcher)
    assert client.get("/routing/pick/people/", {"q": "王"}).status_code == 404
    assert options(client, "unit", "  ") == []
    client.logout()
    assert client.get("/routing/pick/unit/", {"q": "区"}).status_code == 302


# --- 吹哨 and the console take a name -----------------------------------------------------------


def street_case(world):
    """A 违章建筑 case led by 解放街道's office (the rules), signed for: a street office may call a
    district department in."""
    case = open_case(world, category_code="0101")
    assert dispatch_case(case.pk) == world.street_office.code
    dispatch.case_sign(case=case, actor=world.street_clerk)
    return case


def messages_of(response):
    return [(message.level_tag, str(message)) for message in get_messages(response.wsgi_request)]


def test_whistle_takes_a_unit_by_its_common_name_without_javascript(client, world):
    case = street_case(world)
    client.force_login(world.street_clerk)
    # Without JavaScript the hidden code stays empty and the box holds what was typed.
    response = client.post(
        f"/handling/cases/{case.number}/assist/",
        {"unit": "", "unit_text": "区城管局", "note": "占道经营需要城管到场", "due": ""},
        follow=True,
    )
    assert [level for level, _text in messages_of(response)] == ["success"], messages_of(response)
    helper = Assignment.objects.get(case=case, role="assist")
    assert helper.unit == world.urban


def test_whistle_refuses_an_ambiguous_name_and_says_what_it_could_mean(client, world):
    case = street_case(world)
    client.force_login(world.street_clerk)
    response = client.post(
        f"/handling/cases/{case.number}/assist/",
        {"unit": "", "unit_text": "区城", "note": "请协助", "due": ""},
        follow=True,
    )
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert text.startswith("吹哨单位: “区城”可能是：")
    assert "区城市管理综合行政执法局（D-URBAN）" in text
    assert "区住房和城乡建设局（D-HOUSING）" in text
    assert text.endswith("请从列表中选择一个。")
    assert not Assignment.objects.filter(case=case, role="assist").exists()


def test_whistle_refuses_an_unknown_name_in_chinese(client, world):
    case = street_case(world)
    client.force_login(world.street_clerk)
    response = client.post(
        f"/handling/cases/{case.number}/assist/", {"unit_text": "区气象局", "note": "请协助", "due": ""}, follow=True
    )
    assert messages_of(response) == [("error", "吹哨单位: 找不到与“区气象局”相符的单位。")]
    assert not Assignment.objects.filter(case=case, role="assist").exists()


def test_a_picked_option_posts_its_code_and_the_box_shows_its_path(client, world):
    case = street_case(world)
    client.force_login(world.street_clerk)
    client.post(
        f"/handling/cases/{case.number}/assist/",
        {"unit": "D-URBAN", "unit_text": "区城市管理综合行政执法局", "note": "请协助", "due": ""},
    )
    assert Assignment.objects.get(case=case, role="assist").unit == world.urban


def test_the_console_dispatches_to_a_unit_typed_by_name(client, world):
    case = open_case(world, category_code="1301")
    client.force_login(world.dispatcher)
    client.post("/routing/console/dispatch/", {"case": case.number, "unit": "", "unit_text": "区城管局"})
    assert Assignment.objects.get(case=case).unit == world.urban


def test_the_console_proposes_the_rules_unit_by_name_never_the_unit_that_returned_the_case(client, world):
    # 物业管理 (0103) goes to 住建局 by the rules; sent by hand to the committee, which returns it.
    by_hand = open_case(world, category_code="0103")
    dispatch.case_dispatch(case=by_hand, unit=world.committee, actor=world.dispatcher)
    dispatch.case_return(case=by_hand, actor=world.community_clerk, reason="not_our_duty", note="物业归住建局管")
    # 环境卫生 (0201) goes to the committee by the rules, and the committee returned it.
    by_rule = open_case(world, category_code="0201")
    dispatch_case(by_rule.pk)
    dispatch.case_return(case=by_rule, actor=world.community_clerk, reason="not_our_duty", note="不归我们")
    client.force_login(world.dispatcher)
    page = client.get("/routing/console/", {"tab": "returned"}).text

    def box(case):
        card = page[page.index(f'data-case="{case.number}"') :]
        hidden = re.search(r'name="unit" value="([^"]*)"', card).group(1)
        shown = re.search(r'name="unit_text" value="([^"]*)"', card).group(1)
        return hidden, shown

    assert box(by_hand) == ("D-HOUSING", "区住房和城乡建设局")
    assert box(by_rule) == ("", "")
    assert "C210111001015" not in re.search(r'name="unit_text" value="([^"]*)"', page).group(0)


def test_supervision_reassigns_to_a_unit_typed_by_name(client, world):
    case = signed_case(world)
    Supervision.objects.create(
        case=case,
        assignment=Assignment.objects.get(case=case),
        unit=world.street_office,
        level=1,
        started_at=timezone.now(),
    )
    client.force_login(world.street_clerk)
    response = client.post(
        f"/routing/supervision/{case.number}/reassign/",
        {"unit": "", "unit_text": "区城管局", "reason": "占道问题归城管"},
        follow=True,
    )
    assert [level for level, _text in messages_of(response)] == ["success"], messages_of(response)
    assert Assignment.objects.filter(case=case, state="waiting").get().unit == world.urban


# --- the filters -----------------------------------------------------------------------------------


def listed(response):
    return {case.number for case in response.context["page"]}


def test_the_case_list_filters_by_a_place_typed_by_name_or_picked(client, world, django_assert_max_num_queries):
    in_a = open_case(world, grid=world.grid_a)
    in_c = open_case(world, grid=world.grid_c)
    client.force_login(world.dispatcher)
    # Picked: the code, and the box showing its path.
    picked = client.get("/cases/", {"region": "210111001015", "region_text": "解放街道 › 金山社区"})
    assert listed(picked) == {in_a.number}
    # Typed and not picked (no JavaScript): the name is enough when it means one place.
    assert listed(client.get("/cases/", {"region": "", "region_text": "民主村"})) == {in_c.number}
    # A link with the code alone (a home page's) shows the place's path in the box.
    linked = client.get("/cases/", {"region": "210111001015"})
    assert listed(linked) == {in_a.number}
    assert 'name="region_text" value="解放街道 › 金山社区"' in linked.text
    # A category by its name, a unit by its common name.
    assert listed(client.get("/cases/", {"category_text": "环境卫生"})) == {in_a.number, in_c.number}
    assert listed(client.get("/cases/", {"category_text": "违章建筑"})) == set()
    with django_assert_max_num_queries(12):
        client.get("/cases/", {"region": "210111001015", "region_text": "解放街道 › 金山社区"})


def test_an_ambiguous_place_in_a_filter_is_an_error_naming_each_meaning(client, world):
    Region.objects.create(code="210111003202", name="金山社区", level="community", parent=world.other_street)
    client.force_login(world.dispatcher)
    response = client.get("/cases/", {"region": "", "region_text": "金山社区"})
    assert response.status_code == 200
    error = response.context["filterset"].form.errors["region"][0]
    assert error == (
        "“金山社区”可能是：解放街道 › 金山社区（210111001015）；"
        "民主街道 › 金山社区（210111003202）。请从列表中选择一个。"
    )
    assert error in response.text


def test_supervised_is_a_yes_no_any_select_that_filters(client, world):
    watched = signed_case(world)
    Supervision.objects.create(
        case=watched,
        assignment=Assignment.objects.get(case=watched),
        unit=world.street_office,
        level=1,
        started_at=timezone.now(),
    )
    calm = open_case(world)
    client.force_login(world.dispatcher)
    page = client.get("/cases/").text
    select = re.search(r'<select[^>]*name="supervised".*?</select>', page, re.S).group(0)
    assert re.findall(r'<option value="([^"]*)"', select) == ["", "true", "false"]
    assert "仅督办中" in select and "未督办" in select
    assert listed(client.get("/cases/", {"supervised": "true"})) == {watched.number}
    assert listed(client.get("/cases/", {"supervised": "false"})) == {calm.number}
    # 是 typed into an old link is an error on the field, not every case as if nothing was asked.
    response = client.get("/cases/", {"supervised": "是"})
    assert response.context["filterset"].form.errors["supervised"] == ["请选择是、否或全部。"]
    assert "请选择是、否或全部。" in response.text
    api = client.get("/api/v1/cases/", {"supervised": "是"})
    assert api.status_code == 400
    assert "supervised" in api.json()["errors"]


def test_channel_is_a_select_of_labels_and_closing_dates_are_date_pickers(client, world):
    hotline = open_case(world, channel="hotline")
    walk_in = open_case(world, channel="walk_in")
    client.force_login(world.dispatcher)
    page = client.get("/cases/").text
    select = re.search(r'<select[^>]*name="channel".*?</select>', page, re.S).group(0)
    assert re.search(r'<option value="hotline">([^<]*)</option>', select).group(1) == "12345热线"
    for name in ("created_from", "created_to", "closed_from", "closed_to"):
        assert re.search(rf'<input[^>]*name="{name}"[^>]*type="date"', page), name
    assert listed(client.get("/cases/", {"channel": "hotline"})) == {hotline.number}
    assert walk_in.number in listed(client.get("/cases/", {"channel": "walk_in"}))


def test_the_queue_filters_by_a_category_and_a_place_typed_by_name(client, world):
    rubbish = signed_case(world)
    client.force_login(world.community_clerk)
    assert rubbish.number in client.get("/handling/queue/", {"tab": "in_progress", "category_text": "环境卫生"}).text
    response = client.get("/handling/queue/", {"tab": "in_progress", "category_text": "违章建筑"})
    assert rubbish.number not in response.text
    response = client.get("/handling/queue/", {"tab": "in_progress", "region_text": "jsq1"})
    assert rubbish.number in response.text


def test_the_apis_keep_taking_codes(client, world):
    in_a = open_case(world, grid=world.grid_a)
    open_case(world, grid=world.grid_c)
    client.force_login(world.dispatcher)
    numbers = [row["number"] for row in client.get("/api/v1/cases/", {"region": "210111001"}).json()["results"]]
    assert numbers == [in_a.number]
    assert client.get("/api/v1/cases/", {"region": "金山"}).status_code == 400
    assert len(client.get("/api/v1/cases/", {"category": "02"}).json()["results"]) == 2


def test_reclassify_shows_the_grid_by_name_and_takes_one_typed_by_name(client, world):
    case = signed_case(world)
    client.force_login(world.dispatcher)
    page = client.get(f"/cases/{case.number}/reclassify/").text
    assert 'name="grid" value="210111001015001"' in page
    assert 'name="grid_text" value="解放街道 › 金山社区 › 金山社区第1网格"' in page
    response = client.post(
        f"/cases/{case.number}/reclassify/",
        {
            "category": "0201",
            "grid": "",
            "grid_text": "金山社区第2网格",
            "address": "",
            "reason": "在第2网格",
            "seen_category": "0201",
            "seen_grid": world.grid_a.code,
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.grid_id == world.grid_b.code


def test_the_call_forms_grid_search_takes_initials_too(client, world):
    client.force_login(world.street_clerk)
    found = client.get("/intake/places/", {"q": "jsqd2"}).context["places"]
    assert [place.code for place in found] == [world.grid_b.code]
    # Another street's grids are not the street clerk's to find.
    assert list(client.get("/intake/places/", {"q": "mzc"}).context["places"]) == []


@pytest.mark.parametrize(("kind", "text"), [("place", "jsq"), ("unit", "jsq"), ("category", "hjws")])
def test_a_pickers_queries_do_not_grow_with_what_it_searches(client, world, kind, text, django_assert_num_queries):
    client.force_login(world.gridworker)
    client.get(f"/routing/pick/{kind}/", {"q": text})  # warm the session
    with CaptureQueriesContext(connection) as small:
        options(client, kind, text)
    for n in range(3, 33):
        grid = Region.objects.create(
            code=f"210111001015{n:03d}", name=f"金山社区第{n}网格", level="grid", parent=world.community
        )
        GridPosting.objects.create(user=world.gridworker, grid=grid)
        UnitFactory(code=f"SOC-JS{n}", name=f"金山社区志愿队{n}", kind="social")
    with django_assert_num_queries(len(small.captured_queries)):
        found = options(client, kind, text)
    # At most ten options, however many match.
    assert len(found) == (1 if kind == "category" else 10)
