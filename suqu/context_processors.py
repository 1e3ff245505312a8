"""What every page's layout needs: the navigation this user may use."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from dashboards.selectors import has_dashboard
from routing.models import Notification
from routing.selectors import Role, postings_for, region_prefixes_for, roles_for, supervises_anything, takes_calls

METRICS_ROLES = frozenset({Role.DISPATCHER, Role.OFFICIAL, Role.STREET_STAFF, Role.COMMUNITY_STAFF})


def is_overseer(user):
    """Dispatchers and officials oversee work; they have no queue of their own."""
    return bool(roles_for(user) & {Role.DISPATCHER, Role.OFFICIAL})


# (label, url name, who sees it). Later apps add their pages here; a page is listed only for
# the users who may open it, so nobody is shown a link that answers 403.
NAVIGATION = [
    (_("Home"), "home", lambda user: True),
    (_("Log a call"), "intake:new", takes_calls),
    (_("Cases"), "cases:list", lambda user: bool(roles_for(user))),
    (_("Dispatch"), "routing:console", lambda user: Role.DISPATCHER in roles_for(user)),
    (_("My queue"), "handling:queue", lambda user: bool(postings_for(user).units) and not is_overseer(user)),
    # 督办: street offices, the leadership, and the dispatchers who work the leadership's cases.
    (_("Supervision"), "routing:supervision", supervises_anything),
    (_("Callbacks"), "feedback:callbacks", lambda user: Role.DISPATCHER in roles_for(user)),
    (_("On-site checks"), "feedback:verifications", lambda user: bool(postings_for(user).grids)),
    # The figures: those who judge the work, and the streets and communities judged by them.
    (_("Assessment"), "feedback:metrics", lambda user: bool(roles_for(user) & METRICS_ROLES)),
    (_("Dashboard"), "dashboards:index", has_dashboard),
    # 排行 for those who judge the units; 热点 (未呼先应) also for the street and community staff.
    (_("Rankings"), "dashboards:ranking", lambda user: bool(roles_for(user) & {Role.DISPATCHER, Role.OFFICIAL})),
    (_("Hotspots"), "dashboards:hotspots", has_dashboard),
    # Anyone with an area (or the whole district) can browse the places in it.
    (_("Places"), "places:index", lambda user: region_prefixes_for(user) != []),
    (_("Administration"), "admin:index", lambda user: user.is_staff),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"navigation": [], "unread": 0}
    current = request.path
    items = []
    for label, name, allowed in NAVIGATION:
        if allowed(user):
            url = reverse(name)
            matches = current == url if name == "home" else current.startswith(url)
            items.append({"label": label, "url": url, "active": False, "matches": matches})
    # One entry is active: the most specific (/dashboards/ranking/ rather than /dashboards/).
    matching = [item for item in items if item.pop("matches")]
    if matching:
        max(matching, key=lambda item: len(item["url"]))["active"] = True
    # One indexed count (a partial index on unread rows) for the header's badge.
    unread = Notification.objects.filter(user=user, read_at__isnull=True).count()
    return {"navigation": items, "unread": unread}
