"""A working day starts on the home page: each figure opens the list behind it, and an action
ends on a page that shows its result (issue 23)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from routing import dispatch
from tests.browser.helpers import log_in, no_horizontal_scroll, zh
from tests.factories import routing_setup
from tests.handling.helpers import lead, signed_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(cast, categories):
    routing_setup(cast)
    return cast


def when(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def test_a_dispatcher_goes_from_the_home_page_to_an_extension_and_sees_the_new_deadline(page, world):
    case = signed_case(world)
    until = (lead(case).resolve_due + timedelta(days=2)).replace(second=0, microsecond=0)
    dispatch.extension_request(case=case, actor=world.community_clerk, until=until, reason="需等待维修材料")

    log_in(page, "t_dispatcher")
    extensions = page.locator("[data-item=extensions]")
    expect(extensions.locator("[data-count]")).to_have_text("1")
    assert no_horizontal_scroll(page)
    extensions.click()
    expect(page).to_have_url(re.compile(r"/routing/console/extensions/$"))

    request = page.locator(f"article[data-case='{case.number}']")
    request.get_by_role("button", name=zh("approve")).click()

    # The result: the new deadline, said and shown, the decision named on the timeline.
    expect(page).to_have_url(re.compile(rf"/handling/cases/{case.number}/$"))
    expect(page.locator("#extension-decided")).to_contain_text(when(until))
    expect(page.locator("#timeline li").last).to_contain_text(
        zh("new resolution deadline %(time)s") % {"time": when(until)}
    )
    # The next step: the requests still waiting (none now).
    page.locator("#next-step").get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/routing/console/extensions/$"))
    expect(page.locator("#extension-requests article")).to_have_count(0)


def test_a_grid_worker_on_a_phone_sees_their_grids_and_logs_a_call_from_home(phone_page, world):
    signed_case(world)
    log_in(phone_page, "t_gridworker")
    grid = phone_page.locator(f"[data-item='grid-{world.grid_a.code}']")
    expect(grid.locator("[data-count]")).to_have_text("1")
    assert no_horizontal_scroll(phone_page)
    phone_page.get_by_role("link", name=zh("Log a new call")).click()
    expect(phone_page).to_have_url(re.compile(r"/intake/new/$"))
