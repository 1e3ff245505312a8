"""Every main page of every role, as the demo's people open them (README's logins), at 1366 px and
at 390 px, in normal and care mode, in Chinese and in English (issue 23): no page scrolls
sideways, the header is one line or folds behind its menu button and never breaks a label inside
a word, nothing fails to load or logs an error, a phone gets cards for the long tables and 44 px
buttons, and axe-core finds nothing critical or serious.

One server, one world, a browser context for each screen and language, signed in as each role in
turn with a session made on the server: the pages are looped inside the test and every problem is
collected, so one run names all of them. Each page is opened once a context (so twice a screen)
and measured in both modes, the second switched as its button does. A page two roles share is opened as the first role
that has it (the order puts the roles with the most pages first); each role's home page, where
its own header shows, is opened for every role."""

import time
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from accounts.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = settings.BASE_DIR / "node_modules/axe-core/axe.min.js"
ROLES = [
    "community",
    "dispatcher",
    "official",
    "street",
    "gridworker",
    "dept",
    "volunteer",
    "mediator",
    "council",
    "admin",
]
SCREENS = {
    "desktop": {"viewport": {"width": 1366, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
LANGUAGES = ["zh-hans", "en"]
MODES = ["normal", "care"]
# axe runs on every page in both modes, once each: normal on the desktop (the header's links in
# view), care on the phone (the larger type where it is tightest); both in Chinese.
AXE_RUNS = {("zh-hans", "desktop", "normal"), ("zh-hans", "phone", "care")}
# A closed header of one line is about 56 px (70 px in care mode); two lines of an English brand
# beside the menu button about 85 px. The broken header of issue 23 was 140 px.
HEADER_MAX = 100
# A card on a phone shows a case in a few lines; a row of one-character columns was thousands of
# pixels tall.
CARD_MAX_SHARE = 0.5

MEASURE = """() => {
  const visible = (el) => el.offsetParent !== null || getComputedStyle(el).position === "fixed";
  const lines = (el) => {
    const range = document.createRange();
    range.selectNodeContents(el);
    return new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top))).size;
  };
  const header = document.getElementById("site-header");
  const words = (el) => el.textContent.trim().split(/\\s+/).length;
  const phone = window.innerWidth < 768;
  const cards = [...document.querySelectorAll("table.table-cards")].filter(visible).map((table) => {
    const rows = [...table.querySelectorAll(":scope > tbody > tr")];
    return {
      id: table.id,
      rows: rows.length,
      display: rows.length ? getComputedStyle(rows[0]).display : "",
      tallest: Math.max(0, ...rows.map((row) => row.getBoundingClientRect().height)),
    };
  });
  return {
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
    header: header ? Math.round(header.getBoundingClientRect().height) : null,
    user: (document.getElementById("current-user") || {}).textContent || "",
    broken: header ? [...header.querySelectorAll(".navbar-brand, .nav-link")].filter(visible)
      .filter((el) => lines(el) > words(el)).map((el) => el.textContent.trim()) : [],
    small: phone ? [...document.querySelectorAll(".btn, .page-link")].filter(visible)
      .filter((el) => el.getBoundingClientRect().height < 43.5)
      .map((el) => `${el.textContent.trim().slice(0, 20)} (${Math.round(el.getBoundingClientRect().height)} px)`) : [],
    cards: cards,
    phone: phone,
    innerHeight: window.innerHeight,
  };
}"""

# The care-mode button's remembered choice (static/js/suqu.js).
CARE_KEY = "suqu-care-mode"
ON = {"care": "on", "normal": "off"}
FRAMES = "new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"
SETTLED = f"""async () => {{ await {FRAMES}; return !document.querySelector(".htmx-request"); }}"""

AXE_RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.filter((v) => v.impact === "critical" || v.impact === "serious")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
}"""
# One round trip for a page in one mode: care mode switched first as its button switches it (the
# class on <html>; the header measures itself again on the next frame), if asked; the measures;
# and axe if asked (null if axe-core is not in the page).
CHECK = f"""async ({{ care, axe: runAxe }}) => {{
  if (care !== null) {{
    document.documentElement.classList.toggle("care-mode", care);
    await {FRAMES};
  }}
  const seen = ({MEASURE})();
  seen.care = document.documentElement.classList.contains("care-mode");
  seen.axe = runAxe ? (typeof axe === "undefined" ? null : await ({AXE_RUN})()) : [];
  return seen;
}}"""
MENU = f"""async (runAxe) => {{
  const seen = ({MEASURE})();
  seen.short = [...document.querySelectorAll("#nav-main .nav-link")]
    .filter((a) => a.getBoundingClientRect().height < 43.5).map((a) => a.textContent.trim());
  seen.axe = runAxe ? await ({AXE_RUN})() : [];
  return seen;
}}"""


@pytest.fixture
def demo_with_history(settings):
    """The demo district and its people, with a month of generated cases so that the lists, the
    callbacks and the figures have rows to lay out."""
    settings.DEBUG = True
    call_command("load_demo", stdout=StringIO())
    call_command("generate_cases", "--size=300", "--workers=1", stdout=StringIO())
    settings.DEBUG = False
    settings.DEMO_PASSWORD_ALLOWED = True


class Visit:
    """One browser context (a screen, and a language if given), signed in as one person after
    another with a session made on the server, recording what goes wrong on the page it shows.
    With `axe`, axe-core is in every page before the page's own scripts (injected by the browser,
    as an extension would be, not served)."""

    def __init__(self, browser, base_url, screen, *, language=None, mode="normal", axe=False):
        self.context = browser.new_context(
            base_url=base_url,
            reduced_motion="reduce",
            # The care mode the pages open in, remembered before the first of them.
            storage_state={"origins": [{"origin": base_url, "localStorage": [{"name": CARE_KEY, "value": ON[mode]}]}]},
            **SCREENS[screen],
        )
        if language:
            self.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base_url}])
        if axe:
            self.context.add_init_script(path=AXE)
        self.base_url = base_url
        self.mode = mode
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.errors = []
        self.page.on("console", lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"script error: {e}"))
        # A request cut off by leaving the page (the next page opened) is not a failure.
        self.page.on(
            "requestfailed",
            lambda r: None if r.failure == "net::ERR_ABORTED" else self.errors.append(f"{r.failure}: {r.url}"),
        )
        self.page.on("response", lambda r: self.errors.append(f"{r.status}: {r.url}") if r.status >= 400 else None)
        # The requests in flight, to hear every one a page makes before moving on (settle()).
        self.requests = 0
        self.in_flight = set()
        self.page.on("request", self._started)
        self.page.on("requestfinished", self._ended)
        self.page.on("requestfailed", self._ended)

    def _started(self, request):
        self.requests += 1
        self.in_flight.add(request)

    def _ended(self, request):
        self.in_flight.discard(request)

    def sign_in(self, username):
        """The person's session in place of the last one's: the sign-in form is the browser tests'
        that use log_in (and tests/accounts'), not one more page for each role and screen here."""
        client = Client()
        self.user = User.objects.get(username=username)
        client.force_login(self.user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        self.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": self.base_url}])

    def open(self, path, mode=None):
        """Open `path` as a fresh page in `mode` (as a remembered choice applies it, before the
        first paint; None keeps the last page's). Returns once the page has settled."""
        if mode and mode != self.mode:
            self.page.evaluate("([key, on]) => localStorage.setItem(key, on)", [CARE_KEY, ON[mode]])
            self.mode = mode
        self.errors.clear()
        self.page.goto(path, wait_until="load")
        self.settle()

    def settle(self):
        """Wait until the page has loaded and no request it made is in flight, htmx's included,
        two frames after the last one ended (a response's handler may start the next: a map's
        shapes, then their markers): every request the page makes is heard, and it has laid out
        what they brought."""
        deadline = time.monotonic() + 15
        while True:
            started = self.requests
            htmx_idle = self.page.evaluate(SETTLED)
            if htmx_idle and not self.in_flight and self.requests == started:
                return
            assert time.monotonic() < deadline, f"{self.page.url}: still loading {[r.url for r in self.in_flight]}"


def check(visit, where, problems, *, axe, switch=None):
    """Measure the page as it shows (in `switch` mode first, switched as its button does, if
    given), and run axe on it if `axe`; what is wrong goes to `problems`."""
    seen = visit.page.evaluate(CHECK, {"care": None if switch is None else switch == "care", "axe": axe})
    if seen["scrollWidth"] > seen["clientWidth"]:
        problems.append(f"{where}: scrolls sideways ({seen['scrollWidth']} px in {seen['clientWidth']})")
    if seen["header"] is None or seen["header"] > HEADER_MAX:
        problems.append(f"{where}: header {seen['header']} px tall")
    if seen["broken"]:
        problems.append(f"{where}: header labels broken inside a word: {seen['broken']}")
    if seen["small"]:
        problems.append(f"{where}: buttons under 44 px on a phone: {seen['small'][:5]}")
    for table in seen["cards"]:
        if seen["phone"] and table["rows"]:
            if table["display"] != "block":
                problems.append(f"{where}: #{table['id']} is a table, not cards, on a phone")
            elif table["tallest"] > CARD_MAX_SHARE * seen["innerHeight"]:
                problems.append(f"{where}: a card of #{table['id']} is {table['tallest']:.0f} px tall")
    if visit.errors:
        problems.append(f"{where}: {visit.errors[:5]}")
        visit.errors.clear()
    assert seen["axe"] is not None, f"{where}: axe-core is not in the page"
    if seen["axe"]:
        problems.append(f"{where}: axe: {seen['axe']}")
    return seen


def open_menu(visit, where, problems, *, axe):
    """On a phone the menu opens on a tap, and what it shows fits too."""
    toggler = visit.page.locator("#site-header .navbar-toggler")
    if not toggler.is_visible():
        return
    toggler.click()
    visit.page.wait_for_selector("#nav-main.collapse.show")
    seen = visit.page.evaluate(MENU, axe)
    if seen["scrollWidth"] > seen["clientWidth"]:
        problems.append(f"{where} (menu open): scrolls sideways ({seen['scrollWidth']} px)")
    if seen["broken"]:
        problems.append(f"{where} (menu open): labels broken inside a word: {seen['broken']}")
    if seen["small"]:
        problems.append(f"{where} (menu open): buttons under 44 px: {seen['small'][:5]}")
    if seen["short"]:
        problems.append(f"{where} (menu open): menu links under 44 px: {seen['short']}")
    if seen["axe"]:
        problems.append(f"{where} (menu open): axe: {seen['axe']}")
    toggler.click()
    visit.page.wait_for_selector("#nav-main.collapse:not(.show)", state="attached")


def test_every_main_page_fits_both_screens_in_both_languages_and_modes_with_axe_clean(
    browser, live_server, demo_with_history
):
    problems = []
    opened = set()
    carded = set()
    # A browser context for each screen and language, signed in as each role in turn. Chinese
    # opens each page in normal mode and switches care mode on; English opens it in care mode (as a
    # remembered choice applies it, before the first paint) and switches it off. axe-core is in the
    # contexts whose pages it runs on.
    visits = {
        (language, screen): Visit(
            browser,
            live_server.url,
            screen,
            language=language,
            mode=MODES[0] if language == LANGUAGES[0] else MODES[1],
            axe=any((language, screen, mode) in AXE_RUNS for mode in MODES),
        )
        for language in LANGUAGES
        for screen in SCREENS
    }

    def measure(username, path, language, screen):
        """Open `path` once and measure it in both modes, the context's first and then the other,
        switched."""
        visit = visits[language, screen]
        modes = [visit.mode, *(mode for mode in MODES if mode != visit.mode)]
        visit.open(path)
        for mode in modes:
            where = f"{username} {path} {screen} {language} {mode}"
            axe = (language, screen, mode) in AXE_RUNS
            seen = check(visit, where, problems, axe=axe, switch=None if mode == modes[0] else mode)
            assert seen["user"].strip() == visit.user.display_name, f"{where}: signed in as {seen['user']!r}"
            carded.update(table["id"] for table in seen["cards"] if table["rows"] and screen == "phone")
            if path == "/" and screen == "phone":
                open_menu(visit, where, problems, axe=axe)

    for username in ROLES:
        for visit in visits.values():
            visit.sign_in(username)
        # The home page in Chinese on the desktop first: its header names the role's pages.
        measure(username, "/", LANGUAGES[0], "desktop")
        page = visits[LANGUAGES[0], "desktop"].page
        links = page.eval_on_selector_all("#nav-main .nav-link", "els => els.map(e => e.getAttribute('href'))")
        assert "/" in links, f"{username}: no navigation after signing in"
        # The site's icon is linked and served (browsers asked for /favicon.ico: a 404 each time).
        icons = page.eval_on_selector_all("link[rel~=icon]", "els => els.map(e => e.href)")
        assert icons and all(page.request.get(icon).ok for icon in icons), icons
        pages = ["/"] + [
            path for path in links if path not in opened and path != "/" and not path.startswith("/admin/")
        ]
        opened.update(pages)
        for language in LANGUAGES:
            for screen in SCREENS:
                for path in pages:
                    if (path, language, screen) != ("/", LANGUAGES[0], "desktop"):
                        measure(username, path, language, screen)
    for visit in visits.values():
        visit.context.close()

    assert not problems, "\n".join(problems)
    # The walk reached the pages issue 23 found broken, and the phone saw rows in their tables.
    assert {"/intake/new/", "/cases/", "/feedback/callbacks/", "/feedback/metrics/", "/handling/queue/"} <= opened
    assert {"case-table", "callback-queue"} <= carded
