"""A volunteer on their phone (issue 20): signs in, opens "my volunteering" from the folded menu,
turns on the large type (关怀版), sees the task 金山社区's committee published for this afternoon,
signs up, and checks in with a photo; the page shows them checked in. No horizontal scroll at
390 px on any step."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from tests.browser.helpers import log_in, no_horizontal_scroll, zh
from tests.volunteers.tasks_world import build_tasks, publish
from volunteers.models import Signup

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = "/tmp/suqu-volunteer-{}.png"


def test_a_volunteer_signs_up_and_checks_in_on_a_phone(phone_page, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    picture = tmp_path / "stairwell.jpg"
    Image.new("RGB", (320, 240), (90, 140, 60)).save(picture, "JPEG")
    world = build_tasks()
    # Starting in half an hour: check-in is open (from an hour before the start).
    starts = timezone.now() + timedelta(minutes=30)
    task = publish(world, starts=starts, ends=starts + timedelta(hours=3), wanted=3)
    page = phone_page

    log_in(page, "t_alice")
    page.get_by_role("button", name="菜单").click()
    page.get_by_role("link", name=zh("My volunteering")).click()
    expect(page).to_have_url(re.compile(r"/volunteers/me/$"))
    # The button works once the page's script has run (it comes last in the page).
    page.wait_for_load_state("load")
    # 关怀版: one visible button on the page, though the menu is folded.
    care = page.locator("#volunteer-care")
    care.tap()
    expect(page.locator("html")).to_have_class(re.compile(r"\bcare-mode\b"))
    expect(care).to_have_attribute("aria-pressed", "true")
    assert no_horizontal_scroll(page)

    card = page.locator(f"#open-tasks [data-task='{task.pk}']")
    expect(card).to_contain_text(task.title)
    expect(card).to_contain_text("金山社区")
    card.locator("[data-action='signup']").tap()
    expect(page).to_have_url(re.compile(r"/volunteers/me/$"))
    mine = page.locator(f"#my-signups [data-task='{task.pk}']")
    expect(mine).to_have_attribute("data-state", "signed")
    expect(page.locator(f"#open-tasks [data-task='{task.pk}']")).to_have_count(0)
    expect(page.locator("html")).to_have_class(re.compile(r"\bcare-mode\b"))
    assert no_horizontal_scroll(page)
    page.screenshot(path=SCREENSHOTS.format("signed"), full_page=True)

    mine.locator("input[type='file']").set_input_files(picture)
    mine.locator("[data-action='checkin']").tap()
    mine = page.locator(f"#my-signups [data-task='{task.pk}']")
    expect(mine).to_have_attribute("data-state", "checked_in")
    expect(mine.locator("[data-checked-in]")).to_be_visible()
    expect(mine.locator("[data-action='checkout']")).to_be_visible()
    assert no_horizontal_scroll(page)
    page.screenshot(path=SCREENSHOTS.format("checked-in"), full_page=True)

    signup = Signup.objects.get(task=task)
    assert (signup.volunteer.user_id, signup.state) == (world.alice.pk, "checked_in")
    assert signup.photo.name.endswith(".jpg") and (settings.MEDIA_ROOT / signup.photo.name).exists()
