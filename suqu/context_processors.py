"""What every page's layout needs: the navigation this user may use."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from routing.selectors import Role, region_prefixes_for, roles_for, takes_calls

# (label, url name, who sees it). Later apps add their pages here; a page is listed only for
# the users who may open it, so nobody is shown a link that answers 403.
NAVIGATION = [
    (_("Home"), "home", lambda user: True),
    (_("Log a call"), "intake:new", takes_calls),
    (_("Cases"), "cases:list", lambda user: bool(roles_for(user))),
    (_("Dispatch"), "routing:console", lambda user: Role.DISPATCHER in roles_for(user)),
    # Anyone with an area (or the whole district) can browse the places in it.
    (_("Places"), "places:index", lambda user: region_prefixes_for(user) != []),
    (_("Administration"), "admin:index", lambda user: user.is_staff),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"navigation": []}
    current = request.path
    items = []
    for label, name, allowed in NAVIGATION:
        if allowed(user):
            url = reverse(name)
            active = current == url if name == "home" else current.startswith(url)
            items.append({"label": label, "url": url, "active": active})
    return {"navigation": items}
