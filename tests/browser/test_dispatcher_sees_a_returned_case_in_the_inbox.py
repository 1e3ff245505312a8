import re

import pytest
from playwright.sync_api import expect

from notices.models import Notification
from routing.dispatch import case_return, case_sign
from routing.models import ReturnReason
from routing.tasks import dispatch_case
from tests.browser.helpers import log_in, zh
from tests.factories import open_case, routing_setup

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def signed_case(cast, categories):
    """A 环境卫生 case in grid A, dispatched by the rules to 金山社区's committee, which signed for it."""
    routing_setup(cast)
    case = open_case(cast, grid=cast.grid_a, category_code="0201", description="小区物业不管楼道垃圾，物业费照收")
    assert dispatch_case(case.pk) == cast.committee.code
    case_sign(case=case, actor=cast.community_clerk)
    # Whatever the dispatcher was told so far is read: the page starts with no unread notice.
    Notification.objects.filter(user=cast.dispatcher).update(read_at=case.created_at)
    return case


def test_the_dispatcher_sees_a_returned_case_in_the_inbox(page, cast, signed_case):
    case = signed_case
    # A controllable clock, so the badge's 30-second htmx poll can be run at once.
    page.clock.install()
    log_in(page, "t_dispatcher")
    page.goto("/cases/")
    expect(page.locator("#inbox-link")).to_be_visible()
    expect(page.locator("#unread-count")).to_have_count(0)

    # Meanwhile the committee's clerk returns the case.
    case_return(case=case, actor=cast.community_clerk, reason=ReturnReason.WRONG_CATEGORY, note="是物业管理问题")

    # Without a reload, the next poll shows one unread notice.
    page.clock.fast_forward(31_000)
    expect(page.locator("#inbox-link #unread-count")).to_have_text("1")
    expect(page).to_have_url(re.compile(r"/cases/$"))

    page.locator("#inbox-link").click()
    expect(page).to_have_url(re.compile(r"/inbox/$"))
    notice = page.locator("#inbox li[data-kind=returned]")
    expect(notice).to_have_count(1)
    expect(notice).to_have_attribute("data-unread", "1")
    expect(notice).to_contain_text(case.number)
    expect(notice).to_contain_text("是物业管理问题")

    # Its link leads to the dispatch console's returned cases, where the case waits.
    notice.get_by_role("link", name=re.compile(re.escape(case.number))).click()
    expect(page).to_have_url(re.compile(r"/routing/console/\?tab=returned$"))
    expect(page.locator("[data-count=returned]")).to_have_text("1")
    expect(page.locator(f"#console-cases article[data-case='{case.number}']")).to_be_visible()

    # Back in the inbox, the notice is marked read and the badge goes.
    page.locator("#inbox-link").click()
    expect(page).to_have_url(re.compile(r"/inbox/$"))
    notice.get_by_role("button", name=zh("Mark as read")).click()
    expect(notice).to_have_attribute("data-unread", "0")
    expect(page.locator("#unread-count")).to_have_count(0)
    assert not Notification.objects.filter(user=cast.dispatcher, read_at__isnull=True).exists()
