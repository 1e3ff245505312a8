"""A working day of each role, from its home page (issue 23's "done when"): the grid worker sees
the open cases of the grid, logs a call and sees where it went; the community signs for the case,
contacts the resident and resolves it; the dispatcher sends a returned case to a unit picked by
its pinyin initials and approves an extension (the new deadline shown, then the requests left:
none); the official reads the month on the home page and opens the lowest-scoring street.

Each role walks once, on its own screen (the grid worker and the community on a phone in care
mode, as they work in the street; the dispatcher and the official at a desk). Every page the walk
lands on is then measured the three other ways, 1366 px and 390 px, normal and care mode: the other
mode switched as its button does, the other screen by reloading the page there in the other mode
(as a remembered choice applies it, before the first paint) and switching back: none may scroll
sideways, log an error or fail a request, and in the walk's own way
and the opposite one (the other screen in the other mode) none may hold a critical or serious
axe-core violation (the measuring is test_every_page_fits.py's). One browser, one live
server, one small world: the cast of tests/factories.py."""

import datetime
import re
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases.models import Case
from dashboards.services import rollups_refresh
from routing import dispatch
from routing.models import Assignment
from routing.tasks import dispatch_case
from tests.browser.helpers import zh
from tests.browser.test_every_page_fits import CARE_KEY, ON, SCREENS, Visit, check
from tests.dashboards.helpers import judged_case
from tests.factories import open_case, routing_setup

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OTHER = {"phone": "desktop", "desktop": "phone", "normal": "care", "care": "normal"}


@pytest.fixture
def day(cast, categories):
    """The morning's world: the rules, a month so far in which 解放街道's resident was unhappy and
    民主村's satisfied (so 解放街道 scores lowest), a case 金山社区's committee gave back as not
    its business, and 住建局 asking for more time on another."""
    routing_setup(cast)
    judged_case(cast, cast.department, cast.dept_clerk, "unsatisfied", grid=cast.grid_b, description="楼顶漏水没修好")
    judged_case(cast, cast.department, cast.dept_clerk, "satisfied", grid=cast.grid_c, description="村口路面塌陷")

    cast.returned = open_case(cast, grid=cast.grid_b, description="小区物业不管楼道垃圾，物业费照收")
    assert dispatch_case(cast.returned.pk) == cast.committee.code
    dispatch.case_return(case=cast.returned, actor=cast.community_clerk, reason="wrong_category", note="是物业管理问题")

    cast.extended = open_case(cast, category_code="0103", description="小区电梯坏了，配件要从厂家订")
    assert dispatch_case(cast.extended.pk) == cast.department.code
    dispatch.case_sign(case=cast.extended, actor=cast.dept_clerk)
    cast.until = Assignment.objects.get(case=cast.extended).resolve_due + datetime.timedelta(days=2)
    dispatch.extension_request(
        case=cast.extended, actor=cast.dept_clerk, until=cast.until, reason="电梯配件需等厂家发货"
    )
    return cast


class Walk:
    """One role's browser (test_every_page_fits.Visit: signed in, listening for errors), on the
    role's own screen and mode, checking every page it lands on all four ways."""

    def __init__(self, browser, base_url, username, screen, mode, problems):
        self.visit = Visit(browser, base_url, screen, axe=True)
        self.visit.sign_in(username)
        self.visit.open("/")
        self.page = self.visit.page
        self.screen, self.mode, self.problems = screen, mode, problems
        self.username = username
        if mode == "care":
            self.press_care_mode()

    def press_care_mode(self):
        """Care mode as a person turns it on: its button, behind the menu when the header folds."""
        toggler = self.page.locator("#site-header .navbar-toggler")
        folded = toggler.is_visible()
        if folded:
            toggler.click()
        self.page.locator("#care-mode-toggle").click()
        expect(self.page.locator("html")).to_have_class(re.compile(r"\bcare-mode\b"))
        expect(self.page.locator("#care-mode-toggle")).to_have_attribute("aria-pressed", "true")
        if toggler.is_visible() and toggler.get_attribute("aria-expanded") == "true":
            toggler.click()

    def landed(self, what):
        """Check the page the walk is on as it is and in the other mode (switched as its button
        does), then reloaded on the other screen in the other mode (as a remembered choice applies
        it, before the first paint) and switched back; leave it on the walk's own screen and mode."""
        visit, page = self.visit, self.page
        page.wait_for_load_state("load")
        visit.settle()
        ways = [
            (self.screen, self.mode),
            (self.screen, OTHER[self.mode]),
            (OTHER[self.screen], OTHER[self.mode]),
            (OTHER[self.screen], self.mode),
        ]
        for number, (screen, mode) in enumerate(ways):
            if number == 2:
                page.set_viewport_size(SCREENS[screen]["viewport"])
                page.evaluate("([key, on]) => localStorage.setItem(key, on)", [CARE_KEY, ON[mode]])
                page.reload(wait_until="load")
                visit.settle()
            url = urlsplit(page.url)
            where = f"{self.username} {what} ({url.path}{'?' if url.query else ''}{url.query}) {screen} {mode}"
            # axe on the walk's own way and on the opposite screen in the opposite mode, the pair
            # test_every_page_fits.py runs it on: each screen and each mode once. The other two
            # ways repeat a screen's layout and a mode's colours; their layout is still measured.
            seen = check(visit, where, self.problems, axe=number in (0, 2), switch=mode if number in (1, 3) else None)
            assert seen["care"] == (mode == "care"), where
        page.evaluate("([key, on]) => localStorage.setItem(key, on)", [CARE_KEY, ON[self.mode]])
        page.set_viewport_size(SCREENS[self.screen]["viewport"])

    def home(self):
        self.page.locator("#site-header .navbar-brand").click()
        expect(self.page).to_have_url(re.compile(r"://[^/]+/$"))

    def close(self):
        self.visit.context.close()


def at(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def test_each_role_works_through_its_day_from_its_home_page_on_every_screen_and_mode(browser, live_server, day):
    problems = []

    def walk(username, screen, mode):
        return Walk(browser, live_server.url, username, screen, mode, problems)

    # --- the grid worker, on a phone in care mode: logs a call and sees where it went ----------
    grid_worker = walk("t_gridworker", "phone", "care")
    page = grid_worker.page
    expect(page.locator("#part-grid_worker [data-item=verifications]")).to_be_visible()
    # The open cases of the worker's grid, counted on the home page (住建局's lift, in grid A).
    expect(page.locator(f"[data-item='grid-{day.grid_a.code}'] [data-count]")).to_have_text("1")
    grid_worker.landed("home")
    page.get_by_role("link", name=zh("Log a new call")).click()
    expect(page).to_have_url(re.compile(r"/intake/new/$"))
    expect(page.locator("#id_grid")).to_have_value(day.grid_a.code)
    grid_worker.landed("call form")
    page.locator("#id_description").fill("金山社区5号楼前绿化带里堆满建筑垃圾，一个星期没人清")
    page.locator("#id_category").select_option("0201")
    page.locator("#submit-call").click()
    expect(page).to_have_url(re.compile(r"/cases/SJT-\d{8}-\d{5}/$"))
    case = Case.objects.get(number=urlsplit(page.url).path.split("/")[2])
    assert (case.grid_id, case.category.code, case.status) == (day.grid_a.code, "0201", Case.Status.REGISTERED)
    said = page.locator(".alert-success")
    # Where it goes and by when, before the dispatch has run; and the next call one tap away.
    expect(said).to_contain_text(case.number)
    expect(said).to_contain_text(day.committee.name)
    expect(said).to_contain_text(re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}.+\d{4}-\d{2}-\d{2} \d{2}:\d{2}"))
    expect(said.locator("#log-another")).to_have_attribute("href", "/intake/new/")
    grid_worker.landed("the call's case")
    # The dispatch worker's moment later (no Celery worker runs here): the case page names the
    # unit and its deadlines.
    assert dispatch_case(case.pk) == day.committee.code
    page.reload()
    unit = page.locator(f"#assignments li[data-unit={day.committee.code}]")
    part = Assignment.objects.get(case=case)
    expect(unit).to_contain_text(day.committee.name)
    expect(unit).to_contain_text(at(part.sign_due))
    expect(unit).to_contain_text(at(part.resolve_due))
    grid_worker.landed("the case, dispatched")
    grid_worker.close()

    # --- the community, on a phone in care mode: signs, contacts, resolves ------------------------
    community = walk("t_community", "phone", "care")
    page = community.page
    mine = page.locator(f"#part-unit-{day.committee.code}")
    expect(mine.locator("[data-item=to_sign] [data-count]")).to_have_text("1")
    expect(mine.locator("[data-next-due] a")).to_have_text(case.number)
    community.landed("home")
    mine.locator("[data-item=to_sign]").click()
    expect(page).to_have_url(re.compile(r"/handling/queue/\?"))
    row = page.locator(f"#queue-rows li[data-case='{case.number}']")
    expect(page.locator("#queue-rows li[data-case]")).to_have_count(1)
    community.landed("queue")
    row.get_by_role("link", name=case.number).click()
    expect(page).to_have_url(re.compile(rf"/handling/cases/{case.number}/$"))
    community.landed("workspace")
    page.get_by_role("button", name=zh("Sign for this case (签收)")).click()
    expect(page.locator(".alert-success")).to_have_text(
        zh("Signed for. Next: contact the resident by %(time)s.") % {"time": at(part.contact_due)}
    )
    expect(page.locator("#case-status")).to_have_text(zh("in progress"))
    community.landed("workspace, signed for")
    contact = page.locator("#contact-panel")
    contact.get_by_label(zh("How")).select_option(label=zh("phone call"))
    contact.get_by_label(zh("What was agreed")).fill("已电话联系，约定今天下午清运")
    contact.get_by_role("button", name=zh("Record contact")).click()
    expect(page.locator(".alert-success")).to_have_text(
        zh("Contact recorded. Next: resolve the case by %(time)s.") % {"time": at(part.resolve_due)}
    )
    expect(page.locator("#contact-done")).to_contain_text("约定今天下午清运")
    community.landed("workspace, contacted")
    resolve = page.locator("#resolve-panel")
    expect(resolve).to_have_attribute("open", "")
    resolve.get_by_label(zh("Outcome")).select_option(label=zh("solved"))
    resolve.get_by_label(zh("Result (for cannot be solved: the reason)")).fill("建筑垃圾已全部清运，绿化带恢复")
    resolve.get_by_role("button", name=zh("Resolve"), exact=True).click()
    expect(page).to_have_url(re.compile(rf"://[^/]+/cases/{case.number}/$"))
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("#case-status")).to_have_text(zh("resolved"))
    community.landed("the case, resolved")
    community.close()

    # --- the dispatcher, at a desk: a returned case to a unit picked by name; an extension --------
    dispatcher = walk("t_dispatcher", "desktop", "normal")
    page = dispatcher.page
    centre = page.locator("#part-dispatcher")
    expect(centre.locator("[data-item=returned] [data-count]")).to_have_text("1")
    expect(centre.locator("[data-item=extensions] [data-count]")).to_have_text("1")
    dispatcher.landed("home")
    centre.locator("[data-item=returned]").click()
    expect(page).to_have_url(re.compile(r"/routing/console/\?tab=returned$"))
    card = page.locator(f"#console-cases article[data-case='{day.returned.number}']")
    expect(card.locator("[data-return]")).to_contain_text("是物业管理问题")
    dispatcher.landed("returned cases")
    # The committee that gave it back is not proposed; 住房和城乡 by its initials finds 住建局.
    unit = card.get_by_label(zh("Unit"), exact=True)
    expect(unit).to_have_value("")
    unit.fill("zfhcx")
    option = card.locator("[data-picker-option]").filter(has_text=day.department.name)
    expect(option).to_have_count(1)
    option.click()
    expect(unit).to_have_value(re.compile(re.escape(day.department.name)))
    card.get_by_label(zh("Reason"), exact=True).fill("物业管理问题，由住建局督促物业")
    card.get_by_role("button", name=zh("Dispatch"), exact=True).click()
    expect(page.locator(".alert-success")).to_have_text(
        zh("Case %(number)s went to %(unit)s.") % {"number": day.returned.number, "unit": day.department.name}
    )
    expect(page.locator("[data-count=returned]")).to_have_text("0")
    dispatcher.landed("returned cases, dispatched")
    assert [(part.unit.code, part.state) for part in Assignment.objects.filter(case=day.returned).order_by("id")] == [
        (day.committee.code, Assignment.State.RETURNED),
        (day.department.code, Assignment.State.WAITING),
    ]

    dispatcher.home()
    page.locator("#part-dispatcher [data-item=extensions]").click()
    expect(page).to_have_url(re.compile(r"/routing/console/extensions/$"))
    request = page.locator(f"#extension-requests article[data-case='{day.extended.number}']")
    expect(request).to_contain_text("电梯配件需等厂家发货")
    dispatcher.landed("extension requests")
    request.get_by_label(zh("Note")).fill("同意，配件到货后尽快修复")
    request.get_by_role("button", name=zh("approve"), exact=True).click()
    expect(page).to_have_url(re.compile(rf"/handling/cases/{day.extended.number}/$"))
    expect(page.locator(".alert-success")).to_have_text(
        zh("Extension approved: %(number)s must now be resolved by %(time)s.")
        % {"number": day.extended.number, "time": at(day.until)}
    )
    # The new deadline shown, and the decision named on the timeline.
    expect(page.locator("#extension-decided")).to_contain_text(at(day.until))
    expect(page.locator("#timeline li").last).to_contain_text(
        zh("new resolution deadline %(time)s") % {"time": at(day.until)}
    )
    dispatcher.landed("the extended case")
    assert Assignment.objects.get(case=day.extended).resolve_due == day.until
    # The next step: the requests still waiting (none now).
    page.locator("#next-step").get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/routing/console/extensions/$"))
    expect(page.locator("#extension-requests article")).to_have_count(0)
    dispatcher.close()

    # --- the official, at a desk: the month on the home page, the lowest-scoring street ----------
    # The rollups as beat refreshes them every five minutes.
    today = timezone.localdate()
    rollups_refresh(first=today.replace(day=1), last=today)
    official = walk("t_official", "desktop", "normal")
    page = official.page
    district = page.locator("#part-official")
    expect(district.locator("[data-rate] [data-value]")).to_have_count(3)
    worst = district.locator("#worst-streets a")
    # 解放街道's unhappy resident puts it first; 民主村's satisfied one puts 民主街道 after it.
    expect(worst).to_have_text([re.compile(rf"^{day.street.name}"), re.compile(rf"^{day.other_street.name}")])
    official.landed("home")
    worst.first.click()
    expect(page).to_have_url(re.compile(rf"/dashboards/{day.street.code}/\?period=month$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(day.street.name)
    official.landed("the lowest-scoring street")
    official.close()

    assert not problems, "\n".join(problems)
