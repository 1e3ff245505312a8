import re

import pytest
from playwright.sync_api import expect

from cases.models import Case
from intake.models import Call
from suggestions.selectors import model_cache_clear
from suggestions.services import suggester_train
from tests.browser.helpers import log_in, no_horizontal_scroll, zh
from tests.factories import routing_setup
from tests.suggestions.history import UNSEEN, closed_cases, history

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT = "/tmp/suqu-suggestions-{}.png"


@pytest.fixture
def trained(cast, categories, settings):
    """The rules of `routing_setup`, and a suggester trained on a small fixed history."""
    routing_setup(cast)
    settings.SUGGESTER_MIN_CASES = 30
    closed_cases(cast, history())
    model_cache_clear()
    version = suggester_train(trigger="command").version
    yield version
    model_cache_clear()


def test_a_grid_worker_types_a_complaint_and_picks_the_suggested_category(phone_page, cast, trained):
    page = phone_page
    log_in(page, "t_gridworker")
    page.goto("/intake/new/")
    # The suggestions come from htmx, which listens once the page's scripts have run.
    page.wait_for_load_state("load")
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Log a call"))
    expect(page.locator("#id_grid")).to_have_value(cast.grid_a.code)

    page.locator("#id_description").fill(UNSEEN["0101"])
    buttons = page.locator("#suggested-categories button")
    expect(buttons).to_have_count(3)
    first = buttons.first
    # The most likely first, with its confidence and the unit the rules give in the grid.
    expect(first).to_have_text(re.compile(r"^违章建筑 · \d{1,3}% → 解放街道办事处$"))
    expect(page.locator("#suggestions-fallback")).to_have_count(0)
    assert no_horizontal_scroll(page)
    page.screenshot(path=SCREENSHOT.format("form"), full_page=True)

    first.click()
    expect(page.locator("#id_category")).to_have_value("0101")
    expect(page.locator("[name=suggester_version]")).to_have_value(str(trained.number))

    page.locator("#submit-call").click()
    expect(page).to_have_url(re.compile(r"/cases/SJT-\d{8}-\d{5}/$"))
    case = Case.objects.exclude(status=Case.Status.CLOSED).get()
    assert (case.category.code, case.grid_id, case.channel) == ("0101", cast.grid_a.code, "patrol")
    assert Call.objects.get(case=case).suggester_version == trained
