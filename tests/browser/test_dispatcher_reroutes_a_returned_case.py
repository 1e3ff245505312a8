import re

import pytest
from playwright.sync_api import expect

from cases.models import Case
from routing.dispatch import case_return
from routing.models import Assignment
from routing.tasks import dispatch_case
from tests.browser.helpers import log_in, zh
from tests.factories import open_case, routing_setup

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def returned_case(cast, categories):
    """A 环境卫生 case in grid A, dispatched by the rules to 金山社区's committee, which returned it
    as wrongly classified."""
    routing_setup(cast)
    case = open_case(cast, grid=cast.grid_a, category_code="0201", description="小区物业不管楼道垃圾，物业费照收")
    assert dispatch_case(case.pk) == cast.committee.code
    case_return(case=case, actor=cast.community_clerk, reason="wrong_category", note="是物业管理问题")
    case.refresh_from_db()
    assert case.status == Case.Status.RETURNED
    return case


def test_a_dispatcher_reroutes_a_case_a_community_returned(page, cast, returned_case):
    case = returned_case
    log_in(page, "t_dispatcher")
    page.locator("#nav-main").get_by_role("link", name=zh("Dispatch"), exact=True).click()
    expect(page).to_have_url(re.compile(r"/routing/console/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Dispatch"))
    # With a case returned, the console opens on the returned tab.
    expect(page.locator(".nav-tabs .nav-link.active")).to_contain_text(zh("Returned by units"))

    # The returned tab counts the one case and shows why it came back.
    expect(page.locator("[data-count=returned]")).to_have_text("1")
    page.get_by_role("link", name=zh("Returned by units")).click()
    expect(page).to_have_url(re.compile(r"/routing/console/\?tab=returned$"))
    card = page.locator(f"#console-cases article[data-case='{case.number}']")
    expect(card).to_be_visible()
    expect(page.locator("#console-cases article")).to_have_count(1)
    expect(card.locator("[data-return]")).to_contain_text("是物业管理问题")
    expect(card.locator("[data-return]")).to_contain_text(zh("wrongly classified"))
    expect(card.locator("[data-return]")).to_contain_text(cast.community_clerk.display_name)

    # The rules would send it back to the committee, which returned it: the console proposes no
    # unit and says why; the dispatcher sends it to 住建局.
    unit = card.get_by_label(zh("Unit"), exact=True)
    expect(unit).to_have_value("")
    not_again = zh("%(unit)s returned this case, so it is not proposed again: choose a unit.")
    expect(card.locator("[data-suggestion]")).to_contain_text(not_again % {"unit": cast.committee.name})
    unit.fill("D-HOUSING")
    card.get_by_label(zh("Reason"), exact=True).fill("物业管理问题，由住建局督促物业")
    card.get_by_role("button", name=zh("Dispatch"), exact=True).click()

    success = zh("Case %(number)s went to %(unit)s.") % {"number": case.number, "unit": cast.department.name}
    expect(page.locator(".alert-success")).to_have_text(success)
    expect(page).to_have_url(re.compile(r"/routing/console/\?tab=returned$"))
    expect(page.locator("[data-count=returned]")).to_have_text("0")
    expect(page.locator("#console-cases article")).to_have_count(0)
    expect(page.locator("#console-empty")).to_have_text(zh("Nothing waiting here."))

    case.refresh_from_db()
    assert case.status == Case.Status.DISPATCHED
    assignments = list(Assignment.objects.filter(case=case).select_related("unit").order_by("dispatched_at", "id"))
    assert [(a.unit.code, a.role, a.state) for a in assignments] == [
        (cast.committee.code, Assignment.Role.LEAD, Assignment.State.RETURNED),
        (cast.department.code, Assignment.Role.LEAD, Assignment.State.WAITING),
    ]
    old, new = assignments
    assert old.finished_at is not None
    assert new.dispatched_by == cast.dispatcher
    assert new.note == "物业管理问题，由住建局督促物业"
    event = case.events.order_by("at", "id").last()
    assert (event.action, event.actor, event.data["unit"]) == ("dispatch", cast.dispatcher, "D-HOUSING")
