"""The maps in a browser (issue 18), on a phone (390 px, touch): an official colours the district
by a figure and drills down street → community → grid by tapping the places on the map, the
figure and the days kept; a grid worker finds their open case on "my grids"."""

# ruff: noqa: F811  (the fixtures of the worked example are imported from the dashboards' tests)

import re

import pytest
from playwright.sync_api import expect

from grids.boundaries import boundaries_generate
from tests.browser.helpers import no_horizontal_scroll, zh
from tests.dashboards.conftest import clock, example, media, world  # noqa: F401  (the fixtures `march` needs)
from tests.dashboards.test_overview import march  # noqa: F401  (the worked example, read on 30 March)
from tests.factories import open_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GENERATED = "The boundaries of streets, communities and grids are generated, not surveyed."

# A point of the place's shape that a tap would hit (not a case's point drawn over it), in the
# page's coordinates; null when none of a 20 × 20 sample of its box is.
INSIDE = """([map, code]) => {
  const path = document.querySelector(`#${map} path[data-code="${code}"]`);
  if (!path) return null;
  const box = path.getBoundingClientRect(), frame = document.getElementById(map).getBoundingClientRect();
  for (let i = 1; i < 20; i += 1) for (let j = 1; j < 20; j += 1) {
    const x = box.left + (box.width * i) / 20, y = box.top + (box.height * j) / 20;
    if (x <= frame.left || x >= frame.right || y <= frame.top || y >= frame.bottom) continue;
    if (document.elementFromPoint(x, y) === path) return { x, y };
  }
  return null;
}"""


def sign_in(page, username):
    page.goto("/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("suqu-demo")
    page.get_by_role("button", name="登录").click()


def tap_place(page, map_id, code):
    page.locator(f"#{map_id}").scroll_into_view_if_needed()
    expect(page.locator(f"#{map_id}[data-ready=true]")).to_have_count(1)
    point = page.evaluate(INSIDE, [map_id, code])
    assert point is not None, f"{code} is not drawn where a tap can reach it"
    page.touchscreen.tap(point["x"], point["y"])


def test_an_official_drills_down_the_map_street_community_grid_on_a_phone(phone_page, march, world):
    boundaries_generate()
    page = phone_page
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message) if message.type == "error" else None)
    sign_in(page, "t_official")
    page.goto("/dashboards/210111/")

    district = page.locator("#dashboard-map")
    expect(district.locator("path[data-code]")).to_have_count(2)  # the two streets of the cast
    # Generated boundaries, said so just below the map, once (static/js/maps.js).
    expect(page.locator("#dashboard-map + .map-generated")).to_be_visible()
    expect(page.locator("#dashboard-map + .map-generated")).to_have_text(zh(GENERATED))
    expect(page.locator(".map-generated")).to_have_count(1)
    assert district.bounding_box()["width"] <= 390
    assert no_horizontal_scroll(page)
    # The points: the hotspot of grid A (环境卫生 four times) and the two cases supervised now.
    expect(district.locator("[data-hotspot='210111001015001']")).to_have_count(1)
    expect(district.locator("[data-case]")).to_have_count(2)
    expect(page.locator("[data-map-count=supervised]")).to_have_text("2")

    # Coloured by the cases open now: 解放街道 2 (A3, A4), 民主街道 1; the legend follows.
    page.locator("#map-figure").select_option("open")
    expect(district).to_have_attribute("data-figure", "open")
    expect(district.locator(".map-value [data-code='210111001']")).to_have_text("2")
    expect(district.locator(".map-value [data-code='210111003']")).to_have_text("1")
    expect(district.locator("path[data-code='210111001']")).to_have_attribute("data-value", "2")
    expect(page.locator("#map-legend li").first).to_have_text(re.compile(r"0$"))
    top = page.locator("#map-legend li").last.get_attribute("data-colour")
    assert district.locator("path[data-code='210111001']").get_attribute("fill") == top

    tap_place(page, "dashboard-map", "210111001")
    expect(page).to_have_url(re.compile(r"/dashboards/210111001/\?period=month&figure=open$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("解放街道")
    expect(page.locator("#map-figure")).to_have_value("open")
    expect(page.locator("#dashboard-map .map-value [data-code='210111001015']")).to_have_text("2")

    tap_place(page, "dashboard-map", "210111001015")
    expect(page).to_have_url(re.compile(r"/dashboards/210111001015/\?period=month&figure=open$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("金山社区")
    expect(page.locator("#dashboard-map path[data-code]")).to_have_count(2)  # grids A and B

    tap_place(page, "dashboard-map", "210111001015001")
    expect(page.get_by_role("heading", level=1)).to_contain_text("金山社区第1网格")
    # At a grid, the grid itself and its supervised case (A3, overdue) at its centre.
    grid = page.locator("#dashboard-map")
    expect(grid.locator("path[data-code='210111001015001']")).to_have_count(1)
    expect(grid.locator(f"[data-case='{march['A3'].number}']")).to_have_count(1)
    expect(page.locator("#map-figure")).to_have_count(0)
    assert no_horizontal_scroll(page)
    # Every script ran and every fetch answered (the browser's own favicon.ico request aside).
    assert [problem for problem in problems if "favicon.ico" not in str(getattr(problem, "location", ""))] == []


def test_a_grid_worker_finds_their_open_case_on_my_grids(phone_page, cast, categories):
    boundaries_generate()
    mine = open_case(cast, description="3号楼楼道灯坏了")
    theirs = open_case(cast, grid=cast.grid_b, description="5号楼下水道堵塞")
    page = phone_page
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    sign_in(page, "t_gridworker")

    page.get_by_role("button", name="菜单").click()
    page.get_by_role("link", name=zh("My grids")).click()
    expect(page).to_have_url(re.compile(r"/dashboards/my-grids/$"))
    area = page.locator("#my-grids-map")
    expect(area).to_have_attribute("data-ready", "true")
    expect(area.locator(f"path[data-code='{cast.grid_a.code}']")).to_have_count(1)
    expect(area.locator("[data-case]")).to_have_count(1)
    expect(page.locator("#my-grids-map + .map-generated")).to_be_visible()
    expect(page.locator("#my-grids-map + .map-generated")).to_have_text(zh(GENERATED))
    expect(page.locator("#open-cases")).to_contain_text(mine.number)
    expect(page.locator("#open-cases")).not_to_contain_text(theirs.number)
    assert no_horizontal_scroll(page)

    # The list's "on the map" opens the case's popup; its link opens the case.
    page.locator(f"[data-show-case='{mine.number}']").tap()
    popup = area.locator(".leaflet-popup")
    expect(popup).to_contain_text(mine.number)
    popup.get_by_role("link", name=mine.number).tap()
    expect(page).to_have_url(re.compile(rf"/cases/{mine.number}/$"))
    expect(page.locator("#case-map + .map-generated")).to_be_visible()
    assert problems == []
