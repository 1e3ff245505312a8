"""A dispatcher picks places and units by name: `jsq` in the case list's place filter finds
金山社区, and the console proposes the routing rule's unit, by name, for a case returned by the
unit it had been sent to by hand."""

import re

import pytest
from playwright.sync_api import expect

from routing import dispatch
from routing.models import Assignment
from tests.browser.helpers import log_in, no_horizontal_scroll, zh
from tests.factories import open_case, routing_setup

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(cast, categories):
    routing_setup(cast)
    return cast


def test_a_dispatcher_filters_the_cases_by_a_community_typed_as_its_initials(page, world):
    here = open_case(world, grid=world.grid_b, description="金山社区楼道堆放杂物")
    elsewhere = open_case(world, grid=world.grid_c, description="民主村路灯不亮")
    log_in(page, "t_dispatcher")
    page.goto("/cases/")
    rows = page.locator("#case-table tbody tr")
    expect(rows).to_have_count(2)

    place = page.get_by_label(zh("Street, community or grid"), exact=True)
    place.fill("jsq")
    first = page.locator("#case-filters [data-picker-option]").first
    expect(first).to_contain_text("金山社区")
    expect(first).to_contain_text("解放街道 › 金山社区")
    expect(place).to_have_attribute("aria-expanded", "true")
    first.click()
    expect(place).to_have_value("解放街道 › 金山社区")
    page.locator("#case-filters").get_by_role("button", name=zh("Filter")).click()

    expect(page).to_have_url(re.compile(r"[?&]region=210111001015(&|$)"))
    expect(rows).to_have_count(1)
    expect(page.get_by_role("link", name=here.number)).to_be_visible()
    expect(page.get_by_role("link", name=elsewhere.number)).to_have_count(0)
    # The box keeps showing the place by name, not its code.
    expect(page.get_by_label(zh("Street, community or grid"), exact=True)).to_have_value("解放街道 › 金山社区")


def test_the_console_proposes_the_rules_unit_for_a_returned_case_by_name(page, world):
    # 物业管理 goes to 住建局 by the rules; sent by hand to the committee, which gave it back.
    case = open_case(world, category_code="0103", description="物业不修电梯")
    dispatch.case_dispatch(case=case, unit=world.committee, actor=world.dispatcher)
    dispatch.case_return(case=case, actor=world.community_clerk, reason="not_our_duty", note="物业归住建局管")

    log_in(page, "t_dispatcher")
    page.goto("/routing/console/?tab=returned")
    card = page.locator(f"#console-cases article[data-case='{case.number}']")
    unit = card.get_by_label(zh("Unit"), exact=True)
    expect(unit).to_have_value(world.department.name)
    card.get_by_label(zh("Reason"), exact=True).fill("物业管理归住建局")
    card.get_by_role("button", name=zh("Dispatch"), exact=True).click()

    success = zh("Case %(number)s went to %(unit)s.") % {"number": case.number, "unit": world.department.name}
    expect(page.locator(".alert-success")).to_have_text(success)
    parts = Assignment.objects.filter(case=case).order_by("dispatched_at", "id")
    assert [(part.unit.code, part.state) for part in parts] == [
        (world.committee.code, Assignment.State.RETURNED),
        (world.department.code, Assignment.State.WAITING),
    ]


def test_the_options_fit_a_phone(phone_page, world):
    open_case(world, grid=world.grid_b)
    log_in(phone_page, "t_dispatcher")
    phone_page.goto("/cases/")
    # On a phone the filters are folded behind a button until one is set.
    expect(phone_page.locator("#case-filters")).to_be_hidden()
    phone_page.get_by_role("button", name=zh("Filters")).click()
    for label in ("Category", "Street, community or grid", "Unit"):
        box = phone_page.get_by_label(zh(label), exact=True)
        box.fill("jsq" if label != "Category" else "hjws")
        expect(phone_page.locator("#case-filters [data-picker-option]").first).to_be_visible()
        assert no_horizontal_scroll(phone_page), label
        box.press("Escape")
