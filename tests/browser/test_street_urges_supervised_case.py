import re

import pytest
import time_machine
from django.utils import translation
from django.utils.translation import gettext, pgettext
from playwright.sync_api import expect

from escalation.services import deadlines_sweep
from notices.models import Notification
from tests.browser.helpers import log_in
from tests.escalation.test_escalation import at, handled_promptly, with_heads

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def zh(text, context=None):
    """What the page shows for `text` in Chinese (English while the catalogue lacks it)."""
    with translation.override("zh-hans"):
        return pgettext(context, text) if context else gettext(text)


@pytest.fixture
def supervised(cast, categories):
    """金山社区's case, left unresolved seven working days past its deadline: 解放街道's office
    supervises it."""
    with_heads(cast)
    case = handled_promptly(cast, "0201", cast.community_clerk)
    with time_machine.travel(at(30, 3, 10), tick=False):
        deadlines_sweep()
    return case


def test_the_street_office_sees_the_supervised_case_and_urges_the_community(page, cast, supervised):
    log_in(page, "t_street")
    page.locator("#nav-main").get_by_role("link", name=zh("Supervision"), exact=True).click()
    expect(page).to_have_url(re.compile(r"/routing/supervision/$"))
    row = page.locator(f"#supervised-cases article[data-case='{supervised.number}']")
    expect(row).to_be_visible()
    expect(row.locator("[data-supervised]")).to_have_text(zh("supervised", "badge"))
    expect(row.locator("[data-unit]")).to_have_text(cast.committee.name)

    row.get_by_label(zh("What you ask of the unit")).fill("请今天下班前清运完毕，并上传照片")
    row.get_by_role("button", name=zh("Urge"), exact=True).click()
    expect(page.locator(".alert-success")).to_contain_text(supervised.number)

    # The case page carries the mark and the urge is on its timeline.
    row.get_by_role("link", name=supervised.number).click()
    expect(page.locator("[data-supervised]").first).to_be_visible()
    urge = page.locator("#timeline li[data-action=urge]")
    expect(urge).to_contain_text("请今天下班前清运完毕，并上传照片")
    with translation.override("zh-hans"):
        expect(urge).to_contain_text(str(pgettext("case event", "urged by the supervisor")))

    # The committee has the note in its inbox.
    assert Notification.objects.filter(user=cast.community_clerk, kind="urge", case=supervised).count() == 1
