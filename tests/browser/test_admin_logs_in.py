import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser.helpers import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_admin(settings):
    settings.DEBUG = True
    call_command("load_demo")
    settings.DEBUG = False


def test_admin_logs_in_switches_to_english_and_toggles_care_mode(page, demo_admin):
    log_in(page, "admin")
    expect(page.get_by_role("heading", level=1)).to_contain_text("欢迎")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("link", name="系统管理")).to_be_visible()

    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
    expect(page.get_by_role("link", name="Administration")).to_be_visible()

    body_size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    page.get_by_role("button", name="Care mode").click()
    expect(page.locator("html")).to_have_class("care-mode")
    expect(page.get_by_role("button", name="Care mode")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") > body_size

    # Remembered by this browser across pages.
    page.reload()
    expect(page.locator("html")).to_have_class("care-mode")
    page.get_by_role("button", name="Care mode").click()
    page.reload()
    expect(page.locator("html")).not_to_have_class("care-mode")


def test_the_layout_fits_a_phone(phone_page, demo_admin):
    log_in(phone_page, "admin")
    expect(phone_page.get_by_role("heading", level=1)).to_contain_text("欢迎")
    # The menu folds behind a button on a phone and opens on a tap.
    menu = phone_page.get_by_role("button", name="菜单")
    expect(menu).to_be_visible()
    menu.click()
    expect(phone_page.get_by_role("link", name="系统管理")).to_be_visible()
    assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
