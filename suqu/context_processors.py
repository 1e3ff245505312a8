"""What every page's layout needs: the navigation this user may use."""

from django.urls import get_script_prefix, reverse
from django.utils.translation import gettext_lazy as _

from notices.selectors import unread_count
from units.permissions import may_open

# (label, url name). A page is listed only for the users who may open it
# (`units.permissions.PAGES`), so nobody is shown a link that answers 404.
NAVIGATION = [
    (_("Home"), "home"),
    # A grid worker's patrol starts from their grids and what is open in them.
    (_("My grids"), "dashboards:my-grids"),
    (_("Log a call"), "intake:new"),
    (_("Cases"), "cases:list"),
    (_("Dispatch"), "routing:console"),
    # Work orders and Open311 requests whose category or place was not known.
    (_("Held requests"), "integrations:held"),
    (_("My queue"), "handling:queue"),
    (_("Supervision"), "routing:supervision"),
    (_("Callbacks"), "feedback:callbacks"),
    (_("On-site checks"), "feedback:verifications"),
    (_("Assessment"), "feedback:metrics"),
    (_("Dashboard"), "dashboards:index"),
    (_("Rankings"), "dashboards:ranking"),
    (_("Hotspots"), "dashboards:hotspots"),
    # 需求对接: a community's needs; the departments' and paired agencies' open needs.
    (_("Needs"), "volunteers:needs"),
    (_("Open needs"), "volunteers:needs-open"),
    # 结邻共建: the community's monthly joint meetings with its paired agencies.
    (_("Joint meetings"), "volunteers:meetings"),
    (_("Social forces"), "dashboards:social"),
    # 评理说事 and 议事会: the figures of the mediations and the councils.
    (_("Mediation figures"), "dashboards:mediation"),
    (_("Places"), "places:index"),
    # 任务发布: the tasks a community, street office or department publishes for volunteers.
    (_("Volunteer tasks"), "volunteers:tasks"),
    # A volunteer's own phone page: tasks to sign up for, check-in and check-out.
    (_("My volunteering"), "volunteers:me"),
    # 预约服务: the committee books places for residents; the team serves them.
    (_("Bookings"), "volunteers:bookings"),
    (_("Team bookings"), "volunteers:bookings-team"),
    # 志愿活动积分: the month's rankings (corrections and rewards are linked from there).
    (_("Volunteer points"), "volunteers:points-ranking"),
    # 评理说事: the mediations of the points one mediates at or hosts.
    (_("Mediation"), "mediation:list"),
    # 议事会: the deliberation councils one sits on or hosts, their items and meetings.
    (_("Councils"), "mediation:councils"),
    (_("Administration"), "admin:index"),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"navigation": [], "unread": 0}
    current = request.path
    items = []
    for label, name in NAVIGATION:
        if may_open(user, name):
            url = _url(name)
            matches = current == url if name == "home" else current.startswith(url)
            items.append({"label": label, "url": url, "active": False, "matches": matches})
    # One entry is active: the most specific (/dashboards/ranking/ rather than /dashboards/).
    matching = [item for item in items if item.pop("matches")]
    if matching:
        max(matching, key=lambda item: len(item["url"]))["active"] = True
    return {"navigation": items, "unread": unread_count(user)}


_urls: dict = {}


def _url(name) -> str:
    """`reverse(name)`, kept per process: every page lists up to thirty of these, and reversing
    them cost about a millisecond of each page. The URLs of the navigation take no arguments, so
    they change only with the prefix the site is served under."""
    key = (get_script_prefix(), name)
    url = _urls.get(key)
    if url is None:
        url = _urls[key] = reverse(name)
    return url
