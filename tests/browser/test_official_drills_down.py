import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_official_drills_from_the_district_to_a_grid(page, cast):
    page.goto("/")
    page.get_by_label("用户名").fill("t_official")
    page.get_by_label("密码").fill("suqu-demo")
    page.get_by_role("button", name="登录").click()

    page.get_by_role("link", name="地点").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("苏家屯区")
    expect(page.locator("[data-total=grids]")).to_have_text("3")

    page.get_by_role("link", name="解放街道").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("解放街道")
    page.get_by_role("link", name="金山社区").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("金山社区")
    page.get_by_role("link", name="金山社区第1网格").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("金山社区第1网格")
    expect(page.locator("#grid-workers")).to_contain_text("王网格")

    # The breadcrumbs lead back up, and search finds a place by its Chinese name.
    page.get_by_label("面包屑导航").get_by_role("link", name="苏家屯区").click()
    page.get_by_role("searchbox").fill("民主村")
    page.get_by_role("button", name="搜索").click()
    page.locator("#search-results").get_by_role("link", name="民主村", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("民主村")
