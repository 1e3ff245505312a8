import re

import pytest
from django.utils import timezone, translation
from django.utils.translation import pgettext
from playwright.sync_api import expect

from cases.models import Case
from routing.dispatch import case_dispatch
from routing.models import Assignment
from routing.tasks import dispatch_case
from tests.browser.helpers import log_in, no_horizontal_scroll, zh
from tests.factories import open_case, routing_setup

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUEUE_SCREENSHOT = "/tmp/suqu-queue-phone.png"
WORKSPACE_SCREENSHOT = "/tmp/suqu-workspace.png"


def zh_event(text):
    """The Chinese name of a timeline event (told apart from statuses by its context)."""
    with translation.override("zh-hans"):
        return str(pgettext("case event", text))


def when(moment):
    """A deadline as the workspace writes it."""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


@pytest.fixture
def world(cast, categories):
    routing_setup(cast)
    return cast


def housing_case(world, description="小区电梯坏了一个星期，物业一直不修"):
    """A 物业管理 case, dispatched by the rules to 区住房和城乡建设局 and waiting for sign-for."""
    case = open_case(world, category_code="0103", description=description)
    assert dispatch_case(case.pk) == world.department.code
    return case


def test_a_department_signs_contacts_and_resolves_a_case_on_a_phone(phone_page, world):
    page = phone_page
    case = housing_case(world)
    assignment = Assignment.objects.get(case=case)

    log_in(page, "t_dept")
    # On a phone the menu folds behind a button.
    page.get_by_role("button", name=zh("Menu")).click()
    page.locator("#nav-main").get_by_role("link", name=zh("My queue"), exact=True).click()
    expect(page).to_have_url(re.compile(r"/handling/queue/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("My queue"))

    # The case waits under "to sign for", with its sign-for deadline.
    expect(page.locator("#queue-tabs a[aria-current=page]")).to_have_attribute("data-tab", "to_sign")
    expect(page.locator("#queue-tabs a[aria-current=page]")).to_contain_text(zh("To sign for"))
    expect(page.locator("[data-count=to_sign]")).to_have_text("1")
    row = page.locator(f"#queue-rows li[data-case='{case.number}']")
    expect(row).to_be_visible()
    expect(page.locator("#queue-rows li[data-case]")).to_have_count(1)
    expect(row).to_contain_text(case.title)
    due = timezone.localtime(assignment.sign_due).strftime("%m-%d %H:%M")
    deadline = row.locator("[data-mark]")
    expect(deadline).to_contain_text(f"{zh('due')} {due}")
    expect(deadline).to_contain_text(re.compile(r"\d"))
    row_mark = deadline.get_attribute("data-mark")
    assert no_horizontal_scroll(page)
    page.screenshot(path=QUEUE_SCREENSHOT, full_page=True)

    row.get_by_role("link", name=case.number).click()
    expect(page).to_have_url(re.compile(rf"/handling/cases/{case.number}/$"))
    expect(page.locator("#case-number")).to_have_text(case.number)
    expect(page.locator("#case-status")).to_have_text(zh("dispatched"))
    # The workspace shows the deadline the unit must meet next, the same one as the queue.
    lead_deadline = page.locator(f"#assignments li[data-unit={world.department.code}] [data-mark]")
    expect(lead_deadline).to_contain_text(f"{zh('due')} {when(assignment.sign_due)}")
    expect(lead_deadline).to_have_attribute("data-mark", row_mark)

    # 签收
    page.get_by_role("button", name=zh("Sign for this case (签收)")).click()
    # The message says what comes next, and by when.
    expect(page.locator(".alert-success")).to_have_text(
        zh("Signed for. Next: contact the resident by %(time)s.") % {"time": when(assignment.contact_due)}
    )
    expect(page.locator("#case-status")).to_have_text(zh("in progress"))
    expect(page.locator("#sign-form")).to_have_count(0)
    # Signed: next comes the first contact with the resident (unless the resolution is due first).
    expect(lead_deadline).to_contain_text(f"{zh('due')} {when(min(assignment.contact_due, assignment.resolve_due))}")
    assert no_horizontal_scroll(page)
    page.screenshot(path=WORKSPACE_SCREENSHOT, full_page=True)

    # Contact the resident by phone.
    contact = page.locator("#contact-panel")
    contact.get_by_label(zh("How")).select_option(label=zh("phone call"))
    contact.get_by_label(zh("What was agreed")).fill("已电话联系张三，约定明天上午物业派人维修电梯")
    contact.get_by_role("button", name=zh("Record contact")).click()
    expect(page.locator(".alert-success")).to_have_text(
        zh("Contact recorded. Next: resolve the case by %(time)s.") % {"time": when(assignment.resolve_due)}
    )
    # What was agreed is shown; the contact form folds away and the resolution's opens.
    expect(page.locator("#contact-done")).to_contain_text("约定明天上午物业派人维修电梯")
    expect(page.locator("#contact-panel")).not_to_have_attribute("open", "")
    expect(lead_deadline).to_contain_text(f"{zh('due')} {when(assignment.resolve_due)}")

    # 办结: solved, with what was done.
    resolve = page.locator("#resolve-panel")
    expect(resolve).to_have_attribute("open", "")
    resolve.get_by_label(zh("Outcome")).select_option(label=zh("solved"))
    resolve.get_by_label(zh("Result (for cannot be solved: the reason)")).fill("电梯已由物业修复，经回访运行正常")
    resolve.get_by_role("button", name=zh("Resolve"), exact=True).click()

    # Their part is over: they land on the case page, where they can follow it.
    expect(page).to_have_url(re.compile(rf"://[^/]+/cases/{case.number}/$"))
    expect(page.locator(".alert-success")).to_have_text(zh("Resolved; the case waits for the resident's verdict."))
    expect(page.locator("#case-status")).to_have_text(zh("resolved"))
    expect(page.locator("#open-workspace")).to_have_count(0)
    timeline = page.locator("#timeline")
    for action in ("sign", "contact", "resolve"):
        expect(timeline.locator(f"li[data-action={action}]")).to_have_count(1)
    expect(timeline.locator("li[data-action=sign]")).to_contain_text(zh_event("signed for"))
    expect(timeline.locator("li[data-action=contact]")).to_contain_text(zh_event("resident contacted"))
    expect(timeline.locator("li[data-action=contact]")).to_contain_text("约定明天上午物业派人维修电梯")
    expect(timeline.locator("li[data-action=resolve]")).to_contain_text(zh_event("resolved"))
    expect(timeline.locator("li[data-action=resolve]")).to_contain_text("电梯已由物业修复")
    assert [item.get_attribute("data-action") for item in timeline.locator("li").all()] == [
        "open",
        "dispatch",
        "sign",
        "contact",
        "resolve",
    ]
    assert no_horizontal_scroll(page)

    # The queue is clear; the case is listed under resolved, and opens from there.
    page.get_by_role("button", name=zh("Menu")).click()
    page.locator("#nav-main").get_by_role("link", name=zh("My queue"), exact=True).click()
    expect(page.locator("#queue-empty")).to_be_visible()
    for tab, count in (("to_sign", "0"), ("in_progress", "0"), ("resolved", "1")):
        expect(page.locator(f"[data-count={tab}]")).to_have_text(count)
    page.locator("#queue-tabs [data-tab=resolved]").click()
    row = page.locator(f"#queue-rows li[data-case='{case.number}']")
    expect(row).to_contain_text(zh("finished"))
    row.get_by_role("link", name=case.number).click()
    expect(page).to_have_url(re.compile(rf"://[^/]+/cases/{case.number}/$"))
    expect(page.locator("#case-status")).to_have_text(zh("resolved"))

    case.refresh_from_db()
    assignment.refresh_from_db()
    assert case.status == Case.Status.RESOLVED
    assert assignment.state == Assignment.State.DONE
    assert assignment.signed_at is not None
    assert assignment.contacted_at is not None
    assert assignment.finished_at is not None
    resolved = case.events.get(action="resolve")
    assert (resolved.actor, resolved.data["result_kind"]) == (world.dept_clerk, "solved")
    assert case.events.get(action="contact").data["method"] == "phone"


def test_the_queue_keeps_its_filter_and_scroll_when_it_refreshes_in_place(page, world):
    # Enough 物业管理 cases to scroll, and one 老旧小区改造 case a dispatcher gave the same unit.
    housing = [housing_case(world, description=f"{n}号楼电梯故障，物业不修") for n in range(1, 9)]
    other = open_case(world, category_code="0104", description="老旧小区外墙保温脱落")
    case_dispatch(case=other, unit=world.department, actor=world.dispatcher)
    page.set_viewport_size({"width": 1280, "height": 600})

    log_in(page, "t_dept")
    page.goto("/handling/queue/?tab=to_sign")
    rows = page.locator("#queue-rows li[data-case]")
    expect(rows).to_have_count(len(housing) + 1)
    expect(page.locator(f"#queue-rows li[data-case='{other.number}']")).to_be_visible()

    # The category is picked by name (its pinyin initials here); the URL carries its code.
    category = page.get_by_label(zh("Category"), exact=True)
    category.fill("wygl")
    page.locator("#queue-filters [data-picker-option][data-code='0103']").click()
    expect(category).to_have_value("城乡建设 › 物业管理")
    page.locator("#queue-filters").get_by_role("button", name=zh("Filter")).click()
    expect(page).to_have_url(re.compile(r"[?&]category=0103(&|$)"))
    expect(rows).to_have_count(len(housing))
    expect(page.locator(f"#queue-rows li[data-case='{other.number}']")).to_have_count(0)
    url = page.url

    page.evaluate("window.scrollTo(0, 200)")
    page.wait_for_function("window.scrollY === 200")

    # A new 物业管理 case arrives while the page is open; the refresh brings it in, filtered.
    new = housing_case(world, description="地下车库漏水，物业推诿")
    with page.expect_response(lambda response: "partial=1" in response.url) as refresh:
        page.evaluate("document.body.dispatchEvent(new Event('queue-refresh'))")
    assert refresh.value.ok
    assert "category=0103" in refresh.value.url
    expect(page.locator(f"#queue-rows li[data-case='{new.number}']")).to_be_visible()
    expect(rows).to_have_count(len(housing) + 1)
    expect(page.locator(f"#queue-rows li[data-case='{other.number}']")).to_have_count(0)
    expect(category).to_have_value("城乡建设 › 物业管理")
    assert page.url == url
    assert page.evaluate("window.scrollY") == 200
    # The refreshed list is not a second page inside the page.
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("#queue-filters")).to_have_count(1)
