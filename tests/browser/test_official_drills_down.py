import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import zh
from tests.dashboards.conftest import clock, example, media, world  # noqa: F401  (the fixtures `march` needs)
from tests.dashboards.test_overview import march  # noqa: F401  (the worked example, read on 30 March)

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


# --- the dashboards: district → street → community → grid → the overdue cases → a file --------


def test_official_drills_down_the_dashboards_to_a_grids_overdue_cases_and_exports_them(page, march, world):  # noqa: F811
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.goto("/")
    page.get_by_label("用户名").fill("t_official")
    page.get_by_label("密码").fill("suqu-demo")
    page.get_by_role("button", name="登录").click()

    page.locator("#nav-main").get_by_role("link", name=zh("Dashboard"), exact=True).click()
    expect(page).to_have_url(re.compile(r"/dashboards/210111/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("苏家屯区")
    expect(page.locator("[data-kpi=received]")).to_have_text("8")
    # The charts are drawn (ECharts puts a canvas in each), the treemap among them.
    expect(page.locator("#chart-treemap canvas")).to_have_count(1)
    expect(page.locator("#chart-trend canvas")).to_have_count(1)

    # The children sort by any figure: the most received first, then the fewest.
    table = page.locator("#children-table")
    names = table.locator("tbody tr th a")
    expect(names).to_have_text(["解放街道", "民主街道"])  # code order
    table.locator("thead").get_by_role("button", name=zh("Received")).click()
    expect(names).to_have_text(["解放街道", "民主街道"])  # 6, 2
    table.locator("thead").get_by_role("button", name=zh("Received")).click()
    expect(names).to_have_text(["民主街道", "解放街道"])
    table.get_by_role("link", name="解放街道").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("解放街道")
    table.get_by_role("link", name="金山社区").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("金山社区")
    table.get_by_role("link", name="金山社区第1网格").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("金山社区第1网格")
    expect(page.get_by_label(zh("Breadcrumb")).get_by_role("link", name="苏家屯区")).to_be_visible()

    overdue = page.locator("[data-kpi=overdue] a")
    expect(overdue).to_have_text("1")
    overdue.click()
    expect(page).to_have_url(re.compile(r"/cases/\?overdue=true&region=210111001015001$"))
    expect(page.locator("#case-table tbody tr")).to_have_count(1)
    expect(page.locator("#case-table tbody")).to_contain_text(march["A3"].number)

    with page.expect_download() as download:
        page.locator("#case-export").get_by_role("link", name=re.compile("Excel")).click()
    assert download.value.suggested_filename.endswith(".xlsx")
    assert problems == []
