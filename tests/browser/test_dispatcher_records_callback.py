import re

import pytest
from playwright.sync_api import expect

from cases.models import Case
from tests.browser.helpers import log_in, no_horizontal_scroll, zh
from tests.factories import routing_setup
from tests.feedback.helpers import resolved_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CALLBACK_SCREENSHOT = "/tmp/suqu-callback.png"
METRICS_SCREENSHOT = "/tmp/suqu-metrics.png"
RESIDENT_SCREENSHOT = "/tmp/suqu-resident-phone.png"


@pytest.fixture
def case(cast, categories, settings, tmp_path):
    """A rubbish case in grid A (解放街道), resolved by 金山社区's committee this month."""
    settings.MEDIA_ROOT = tmp_path
    routing_setup(cast)
    return resolved_case(cast)


def test_a_dispatcher_records_a_callback_and_the_official_sees_the_rates(page, browser, live_server, cast, case):
    # The official watches this month's figures of the streets: nothing called back yet.
    official = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url).new_page()
    official.set_default_timeout(10_000)
    log_in(official, "t_official")
    official.locator("#nav-main").get_by_role("link", name=zh("Assessment"), exact=True).click()
    expect(official).to_have_url(re.compile(r"/feedback/metrics/$"))
    street = official.locator(f"#metrics-table tr[data-code='{cast.street.code}']")
    expect(street.locator("[data-count=received]")).to_have_text("1")
    expect(street.locator("[data-rate=satisfaction_rate]")).to_have_text("—")
    expect(street.locator("[data-rate=resolution_rate]")).to_have_text("—")

    # The dispatcher opens the callback queue and the case waiting in it.
    log_in(page, "t_dispatcher")
    page.locator("#nav-main").get_by_role("link", name=zh("Callbacks"), exact=True).click()
    expect(page).to_have_url(re.compile(r"/feedback/callbacks/$"))
    row = page.locator(f"#callback-queue tr[data-case='{case.number}']")
    expect(row).to_contain_text(cast.committee.name)
    row.get_by_role("link", name=case.number).click()
    expect(page.locator("#result-note")).to_have_text("已清理完毕")
    expect(page.locator("#caller-phone")).to_have_text("138****8000")

    # Only the questions that count show: the verdict once reached, the outcome for a bad one.
    expect(page.locator("#callback-resolved")).to_be_hidden()
    page.locator("#callback-reached-1").check()
    expect(page.locator("#callback-resolved")).to_be_visible()
    page.locator("#callback-resolved-0").check()
    expect(page.locator("#callback-outcome")).to_be_visible()
    expect(page.locator("#callback-exemption")).to_be_hidden()
    page.locator("#callback-resolved-1").check()
    page.locator("#callback-satisfaction-satisfied").check()
    expect(page.locator("#callback-outcome")).to_be_hidden()
    page.locator("#callback-comment").fill("已经清理干净了，很满意")
    page.screenshot(path=CALLBACK_SCREENSHOT, full_page=True)
    page.locator("#callback-submit").click()

    expect(page).to_have_url(re.compile(r"/feedback/callbacks/$"))
    closed = zh("Case %(number)s is closed: the resident is content.") % {"number": case.number}
    expect(page.locator(".alert-success")).to_have_text(closed)
    expect(page.locator("#callbacks-empty")).to_be_visible()
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED and case.closure_reason == Case.ClosureReason.SATISFIED

    # The official's figures now count the verdict.
    official.reload()
    expect(street.locator("[data-rate=satisfaction_rate]")).to_have_text("100.0%")
    expect(street.locator("[data-rate=resolution_rate]")).to_have_text("100.0%")
    official.screenshot(path=METRICS_SCREENSHOT, full_page=True)
    official.context.close()


def test_the_resident_answers_on_a_phone_once(phone_page, case):
    from cases.services import resident_link_issue

    page = phone_page
    url = f"/r/{resident_link_issue(case=case)}/"
    page.goto(url)
    expect(page.locator("#case-number")).to_have_text(case.number)
    expect(page.locator("#result-note")).to_have_text("已清理完毕")
    expect(page.locator("#nav-main")).to_have_count(0)
    assert no_horizontal_scroll(page)
    page.screenshot(path=RESIDENT_SCREENSHOT, full_page=True)
    page.get_by_label(zh("yes")).check()
    page.get_by_label(zh("basically satisfied")).check()
    page.locator("#resident-submit").click()
    expect(page).to_have_url(re.compile(r"/r/thanks/$"))
    expect(page.locator("#thanks")).to_be_visible()
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED
    assert page.goto(url).status == 410
    expect(page.locator("#link-gone")).to_be_visible()
