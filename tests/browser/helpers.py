"""What the browser tests share: signing in as a person does, and reading the page as it shows."""

from django.utils import translation
from django.utils.translation import gettext

from accounts.services import DEMO_PASSWORD


def log_in(page, username, password=DEMO_PASSWORD):
    page.goto("/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def zh(text):
    """What the page shows for `text` in Chinese (English while the catalogue lacks it)."""
    with translation.override("zh-hans"):
        return gettext(text)


def no_horizontal_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
