"""A resident reports a problem from their phone (issue 19): confirms their mobile number with the
code from the SMS, sets the place by tapping the map, sends, sees the case number at once, and
finds the case under "my requests". The large type (关怀版) is one visible button away."""

import re

import pytest
from playwright.sync_api import expect

from cases.models import Case
from outbox.models import Message
from tests.browser.helpers import no_horizontal_scroll
from tests.factories import routing_setup

# The fixture `mapped` (the cast with boundaries), named here so this module can use it.
from tests.maps.conftest import mapped as mapped
from tests.residents.helpers import PHONE, sent_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = "/tmp/suqu-resident-{}.png"


def test_a_resident_reports_a_problem_from_a_phone_and_finds_it_in_my_requests(phone_page, mapped, categories):
    routing_setup(mapped)
    page = phone_page
    page.goto("/resident/")
    assert no_horizontal_scroll(page)

    # 关怀版: one visible button, and the large type stays on for the next pages.
    care = page.locator("#care-mode-toggle")
    expect(care).to_be_visible()
    care.tap()
    expect(page.locator("html")).to_have_class(re.compile(r"\bcare-mode\b"))
    expect(care).to_have_attribute("aria-pressed", "true")

    page.locator("#id_phone").fill(PHONE)
    page.locator("#send-code").tap()
    expect(page).to_have_url(re.compile(r"/resident/code/$"))
    # The resident reads the code in their SMS.
    page.locator("#id_code").fill(sent_code())
    page.locator("#check-code").tap()
    expect(page).to_have_url(re.compile(r"/resident/new/$"))
    expect(page.locator("html")).to_have_class(re.compile(r"\bcare-mode\b"))

    page.locator("#id_description").fill("小区门口垃圾堆放多日无人清理，气味很大")
    page.locator("#id_category").select_option("0201")
    area = page.locator("#resident-map")
    area.scroll_into_view_if_needed()
    expect(area.locator("path.leaflet-interactive")).to_have_count(2)  # the cast's two streets
    spot = area.evaluate(
        "(el, point) => { el.suquMap.setView(point, 15, {animate: false});"
        " const p = el.suquMap.latLngToContainerPoint(point); return {x: p.x, y: p.y}; }",
        [float(mapped.grid_b.latitude), float(mapped.grid_b.longitude)],
    )
    area.tap(position=spot)
    expect(page.locator("#map-place")).to_have_text(f"{mapped.street.name} · {mapped.community.name}")
    expect(page.locator("#id_community")).to_have_value(mapped.community.code)
    page.locator("#id_address").fill("金山社区3号楼东侧")
    assert no_horizontal_scroll(page)
    page.screenshot(path=SCREENSHOTS.format("form"), full_page=True)

    page.locator("#submit-request").tap()
    expect(page).to_have_url(re.compile(r"/resident/cases/SJT-\d{8}-\d{5}/\?new=1$"))
    case = Case.objects.get()
    expect(page.locator("#new-case-number")).to_have_text(case.number)
    assert (case.channel, case.caller_phone, case.grid_id) == ("online", PHONE, mapped.grid_b.code)
    # The number comes by SMS too.
    assert case.number in Message.objects.get(template="case_ack", to=PHONE).text
    assert no_horizontal_scroll(page)

    page.locator("#my-requests-link").tap()
    expect(page).to_have_url(re.compile(r"/resident/mine/$"))
    expect(page.locator(f"#my-requests [data-case='{case.number}']")).to_be_visible()
    assert no_horizontal_scroll(page)
    page.screenshot(path=SCREENSHOTS.format("mine"), full_page=True)
