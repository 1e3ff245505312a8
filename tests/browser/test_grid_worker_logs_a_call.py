import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from cases.models import Case
from tests.browser.helpers import no_horizontal_scroll, zh

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = "/tmp/suqu-grid-worker-{}.png"


def test_a_grid_worker_logs_a_patrol_finding_with_a_photo_on_a_phone(phone_page, cast, categories, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    photo = tmp_path / "rubbish.jpg"
    Image.new("RGB", (320, 240), (90, 140, 60)).save(photo, "JPEG")
    page = phone_page

    page.goto("/")
    page.get_by_label("用户名").fill("t_gridworker")
    page.get_by_label("密码").fill("suqu-demo")
    page.get_by_role("button", name="登录").click()

    # On a phone the menu folds behind a button.
    page.get_by_role("button", name="菜单").click()
    page.get_by_role("link", name=zh("Log a call")).click()
    expect(page).to_have_url(re.compile(r"/intake/new/$"))
    # The suggestions come from htmx, which listens once the page's scripts have run.
    page.wait_for_load_state("load")
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Log a call"))
    assert no_horizontal_scroll(page)

    # Their only grid is already chosen, and a grid worker's report is a patrol finding.
    expect(page.locator("#id_grid")).to_have_value(cast.grid_a.code)
    expect(page.locator("#id_channel")).to_have_value("patrol")

    page.locator("#id_description").fill("金山社区3号楼门口垃圾堆放多日无人清理，气味很大")
    chip = page.locator("#suggested-categories").get_by_role("button", name="环境卫生")
    expect(chip).to_be_visible()
    chip.click()
    expect(page.locator("#id_category")).to_have_value("0201")
    page.locator("#id_photos").set_input_files(photo)
    assert no_horizontal_scroll(page)
    page.screenshot(path=SCREENSHOTS.format("form"), full_page=True)

    page.locator("#submit-call").click()
    expect(page).to_have_url(re.compile(r"/cases/SJT-\d{8}-\d{5}/$"))
    expect(page.locator("#case-number")).to_have_text(re.compile(r"^SJT-\d{8}-\d{5}$"))
    case = Case.objects.get()
    assert (case.status, case.grid_id, case.category.code, case.channel) == (
        "registered",
        cast.grid_a.code,
        "0201",
        "patrol",
    )
    expect(page.locator("#case-number")).to_have_text(case.number)
    expect(page.locator("#case-status")).to_have_text(zh("registered"))
    expect(page.locator(".alert-success")).to_contain_text(case.number)

    thumbnail = page.locator("#case-photos img")
    expect(thumbnail).to_have_count(1)
    expect(thumbnail).to_be_visible()
    thumbnail.scroll_into_view_if_needed()
    page.wait_for_function("document.querySelector('#case-photos img').complete")
    assert thumbnail.evaluate("img => img.naturalWidth") == 320

    expect(page.locator("#timeline li[data-action=open]")).to_have_count(1)
    expect(page.locator("#timeline li")).to_have_count(1)
    assert no_horizontal_scroll(page)
    page.screenshot(path=SCREENSHOTS.format("case"), full_page=True)
