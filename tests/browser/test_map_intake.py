"""A grid worker sets a call's place on the map of the call page, on a phone (issue 18), and the
case page shows where it is."""

import re

import pytest
from playwright.sync_api import expect

from cases.models import Case
from grids.boundaries import grid_code_at
from tests.browser.helpers import no_horizontal_scroll, zh
from tests.factories import posted

# The fixture `mapped` (the cast with boundaries), named here so this module can use it.
from tests.maps.conftest import mapped as mapped

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = "/tmp/suqu-map-intake-{}.png"
GENERATED = "The boundaries of streets, communities and grids are generated, not surveyed."


def log_in(page, username):
    page.goto("/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("suqu-demo")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("button", name="菜单")).to_be_visible()


def on_the_map(page, selector, latitude, longitude):
    """Where a point is drawn on a page's Leaflet map, in pixels from the map's corner."""
    return page.locator(selector).evaluate(
        "(el, point) => { const p = el.suquMap.latLngToContainerPoint(point); return {x: p.x, y: p.y}; }",
        [float(latitude), float(longitude)],
    )


def test_a_grid_worker_sets_the_place_by_tapping_the_map_and_the_case_lands_in_that_grid(
    phone_page, mapped, categories
):
    page = phone_page
    # Posted to two grids, so neither is chosen before the map chooses one.
    posted(mapped.gridworker, mapped.grid_b)
    log_in(page, "t_gridworker")
    page.goto("/intake/new/")
    expect(page.locator("#id_grid")).to_have_value("")

    page.locator("#id_description").fill("金山社区3号楼门口垃圾堆放多日无人清理，气味很大")
    page.locator("#id_category").select_option("0201")

    area = page.locator("#call-map")
    area.scroll_into_view_if_needed()
    # Their two grids are drawn, and nothing else of the district.
    expect(area.locator("path.leaflet-interactive")).to_have_count(2)
    # The boundaries drawn are generated, and the map says so just below it (static/js/maps.js).
    expect(page.locator("#call-map + .map-generated")).to_be_visible()
    expect(page.locator("#call-map + .map-generated")).to_have_text(zh(GENERATED))
    box = area.bounding_box()
    # As wide as the fieldset on a 390 px phone, and tall enough to aim a finger.
    assert box["width"] >= 320 and 260 <= box["height"] <= 320
    assert no_horizontal_scroll(page)

    # Typed coordinates in a grid outside their area: the pin moves there and the map says why
    # the grid is not filled in.
    page.locator("#id_latitude").fill(f"{mapped.grid_c.latitude:.6f}")
    page.locator("#id_longitude").fill(f"{mapped.grid_c.longitude:.6f}")
    page.locator("#id_longitude").dispatch_event("change")
    expect(page.locator("#map-message")).to_be_visible()
    expect(page.locator("#map-message")).not_to_be_empty()
    expect(area.locator(".leaflet-marker-icon")).to_have_count(1)
    expect(page.locator("#id_grid")).to_have_value("")

    # The operator pans back to their grids (the map had followed the pin), and taps inside grid B:
    # the point is located, the lists follow, the grid is outlined.
    area.evaluate(
        "(el, point) => el.suquMap.panTo(point, {animate: false})",
        [float(mapped.grid_b.latitude), float(mapped.grid_b.longitude)],
    )
    spot = on_the_map(page, "#call-map", mapped.grid_b.latitude, mapped.grid_b.longitude)
    assert 0 < spot["x"] < box["width"] and 0 < spot["y"] < box["height"]
    area.tap(position=spot)
    expect(page.locator("#id_grid")).to_have_value(mapped.grid_b.code)
    expect(page.locator("#place-community")).to_have_value(mapped.community.code)
    expect(page.locator("#id_grid option:checked")).to_have_text(mapped.grid_b.name)
    expect(page.locator("#map-message")).to_be_hidden()
    expect(page.locator("#id_latitude")).to_have_value(re.compile(r"^41\.\d{6}$"))
    expect(page.locator("#id_crs")).to_have_value("wgs84")
    # The two grids of the area and the outline of the chosen one.
    expect(area.locator("path")).to_have_count(3)
    page.screenshot(path=SCREENSHOTS.format("form"), full_page=True)

    tapped = (float(page.locator("#id_latitude").input_value()), float(page.locator("#id_longitude").input_value()))
    page.locator("#submit-call").click()
    expect(page).to_have_url(re.compile(r"/cases/SJT-\d{8}-\d{5}/$"))
    case = Case.objects.get()
    assert case.grid_id == mapped.grid_b.code
    assert (float(case.latitude), float(case.longitude)) == pytest.approx(tapped, abs=1e-6)
    # The case lands in the grid under the tap.
    assert grid_code_at(float(case.longitude), float(case.latitude)) == mapped.grid_b.code

    # The case page shows the point and the grid's outline.
    place = page.locator("#case-map")
    place.scroll_into_view_if_needed()
    expect(place.locator(".leaflet-marker-icon")).to_have_count(1)
    expect(place.locator(".leaflet-marker-icon")).to_be_visible()
    expect(place.locator("path")).to_have_count(1)
    # The grid's outline comes with the page, not from the API, and is said to be generated too.
    expect(page.locator("#case-map + .map-generated")).to_be_visible()
    expect(page.locator("#case-map + .map-generated")).to_have_text(zh(GENERATED))
    assert no_horizontal_scroll(page)
    page.screenshot(path=SCREENSHOTS.format("case"), full_page=True)


def test_a_dragged_pin_moves_the_place_and_use_my_location_moves_the_pin(page, mapped, categories):
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation(
        {"latitude": float(mapped.grid_c.latitude), "longitude": float(mapped.grid_c.longitude)}
    )
    log_in_desktop(page, "t_dispatcher")
    page.goto("/intake/new/")
    area = page.locator("#call-map")
    expect(area.locator("path.leaflet-interactive")).to_have_count(2)  # the two streets

    page.locator("#use-location").click()
    expect(page.locator("#id_grid")).to_have_value(mapped.grid_c.code)
    expect(area.locator(".leaflet-marker-icon")).to_have_count(1)

    # Drag the pin into grid A.
    pin = area.locator(".leaflet-marker-icon")
    start = pin.bounding_box()
    target = on_the_map(page, "#call-map", mapped.grid_a.latitude, mapped.grid_a.longitude)
    box = area.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] - 2)
    page.mouse.down()
    page.mouse.move(box["x"] + target["x"], box["y"] + target["y"], steps=10)
    page.mouse.up()
    expect(page.locator("#id_grid")).to_have_value(mapped.grid_a.code)
    expect(page.locator("#place-street")).to_have_value(mapped.street.code)


def log_in_desktop(page, username):
    page.goto("/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("suqu-demo")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
