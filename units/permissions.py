"""Who may do what: the one place that answers it, for the navigation, the pages and the API.

Everything follows from the roles a person's postings give them (`units.selectors.roles_for`),
never from `is_staff`. One answer per situation:

- a page (or an API list) that is not for the person's role: the navigation does not show it and
  the page answers 404 (`page_gate`), the same as for a page that does not exist; the API answers
  403 (`api_gate`), since an API client is told why;
- a case outside the person's scope: 404 alike for "no such case" and "not yours"
  (`routing.selectors.case_get_for`, which every case page and API operation starts from);
- a case inside the scope, but a move the person's role may not make: 403 (`NotPermitted`,
  raised by the services through `require_dispatcher` and the stages' own who-acts checks, so the
  page, the API and a command get the same answer).
"""

from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework.exceptions import PermissionDenied

from cases.errors import NotPermitted
from units.models import Unit
from units.selectors import CALL_TAKER_ROLES, Role, postings_for, region_prefixes_for, roles_for

# Those who judge the work (dispatchers, officials), and the streets and communities judged.
METRICS_ROLES = frozenset({Role.DISPATCHER, Role.OFFICIAL, Role.STREET_STAFF, Role.COMMUNITY_STAFF})
OVERSEER_ROLES = frozenset({Role.DISPATCHER, Role.OFFICIAL})


def is_dispatcher(user) -> bool:
    return Role.DISPATCHER in roles_for(user)


def is_overseer(user) -> bool:
    """Dispatchers and officials oversee work; they have no queue of their own."""
    return bool(roles_for(user) & OVERSEER_ROLES)


def takes_calls(user) -> bool:
    """Dispatchers (the hotline), grid workers and street and committee staff log calls."""
    return bool(roles_for(user) & CALL_TAKER_ROLES)


def works_in_a_unit(user) -> bool:
    """Staff of a unit that is not only overseeing: they have a queue."""
    return bool(postings_for(user).units) and not is_overseer(user)


def supervises_anything(user) -> bool:
    """Staff of units that supervise (street offices, the leadership) and the dispatchers who
    work the leadership's supervision (督办)."""
    return bool(roles_for(user) & {Role.STREET_STAFF, Role.DISPATCHER, Role.OFFICIAL})


def is_grid_worker(user) -> bool:
    return bool(postings_for(user).grids)


def judges_or_is_judged(user) -> bool:
    return bool(roles_for(user) & METRICS_ROLES)


def has_dashboard(user) -> bool:
    """Whether a dashboard can hold anything for the user, from the postings alone (no query):
    the district-wide roles and the staff of a street or a community."""
    postings = postings_for(user)
    return postings.district_wide or any(kind in Unit.TERRITORIAL and region for _c, kind, region, _r in postings.units)


# 任务发布: the staff of a community, a street office or a department publish volunteer tasks.
TASK_PUBLISHER_KINDS = (Unit.Kind.COMMITTEE, Unit.Kind.STREET_OFFICE, Unit.Kind.DEPARTMENT)


def publishes_tasks(user) -> bool:
    return any(kind in TASK_PUBLISHER_KINDS for _c, kind, _r, _role in postings_for(user).units)


def runs_campaigns(user) -> bool:
    """A campaign across communities (创城、创卫、防汛…) is a street office's or a department's."""
    return any(
        kind in (Unit.Kind.STREET_OFFICE, Unit.Kind.DEPARTMENT) for _c, kind, _r, _role in postings_for(user).units
    )


def is_volunteer(user) -> bool:
    """A volunteer has a profile of their own (`volunteers.Volunteer`); read with the postings, so
    the navigation asks no query of its own."""
    return postings_for(user).volunteer


# 评理说事 (docs/mediation.md): besides the mediators, the staff of the points' host units (the
# committees, the street offices, the district centre) work the mediations; officials read them.
MEDIATION_HOST_ROLES = frozenset({Role.COMMUNITY_STAFF, Role.STREET_STAFF, Role.DISPATCHER})


def works_mediations(user) -> bool:
    """A mediator (read with the postings, no query of its own), a host unit's staff, an official."""
    return postings_for(user).mediator or bool(roles_for(user) & (MEDIATION_HOST_ROLES | {Role.OFFICIAL}))


def accepts_walk_ins(user) -> bool:
    """Who may open a mediation at a point for a walk-in: its mediators and its host's staff."""
    return postings_for(user).mediator or bool(roles_for(user) & MEDIATION_HOST_ROLES)


def reads_councils(user) -> bool:
    """议事会: a council's members (read with the postings, no query of its own), the committees'
    and street offices' staff who host them, dispatchers and officials."""
    return postings_for(user).council or bool(
        roles_for(user) & {Role.COMMUNITY_STAFF, Role.STREET_STAFF, Role.DISPATCHER, Role.OFFICIAL}
    )


def has_an_area(user) -> bool:
    """Anyone with an area (or the whole district) can browse the places in it."""
    return region_prefixes_for(user) != []


def is_community_staff(user) -> bool:
    """Staff of a community or village committee (its needs, its joint meetings)."""
    return Role.COMMUNITY_STAFF in roles_for(user)


def keeps_a_team(user) -> bool:
    """Staff of a social force's unit (a volunteer team's): its services and bookings (预约服务)."""
    return any(kind == Unit.Kind.SOCIAL for _c, kind, _r, _role in postings_for(user).units)


def corrects_points(user) -> bool:
    """Dispatchers (any volunteer) and community staff (their community's volunteers) correct points."""
    return bool(roles_for(user) & {Role.DISPATCHER, Role.COMMUNITY_STAFF})


# The kinds of unit that take up the communities' needs (需求对接): volunteers.needs.OFFERING_KINDS.
OFFERING_KINDS = frozenset({Unit.Kind.DEPARTMENT, Unit.Kind.UTILITY, Unit.Kind.AGENCY})


def takes_up_needs(user) -> bool:
    """Staff of a department, a public utility or a paired agency (结邻共建)."""
    return any(kind in OFFERING_KINDS for _c, kind, _r, _role in postings_for(user).units)


# Every page that is not for everyone signed in, by URL name: who may open it. The navigation
# lists a page only for those; the page itself answers 404 to anyone else.
PAGES = {
    "intake:new": takes_calls,
    "intake:caller-history": takes_calls,
    "cases:list": lambda user: bool(roles_for(user)),
    "routing:console": is_dispatcher,
    "integrations:held": is_dispatcher,
    "handling:queue": works_in_a_unit,
    "routing:supervision": supervises_anything,
    "feedback:callbacks": is_dispatcher,
    "feedback:verifications": is_grid_worker,
    "feedback:metrics": judges_or_is_judged,
    "dashboards:index": has_dashboard,
    "dashboards:my-grids": is_grid_worker,
    # 排行 for those who judge the units; 热点 (未呼先应) also for the street and community staff.
    "dashboards:ranking": is_overseer,
    "dashboards:hotspots": has_dashboard,
    "dashboards:monthly-problems": is_overseer,
    "dashboards:hotspot-promote": is_overseer,
    "places:index": has_an_area,
    # 需求对接 and 结邻共建 (docs/volunteers.md): the community's side and the offering units' side;
    # the social-forces dashboard for whoever has a dashboard (their own area).
    "volunteers:needs": is_community_staff,
    "volunteers:meetings": is_community_staff,
    "volunteers:needs-open": takes_up_needs,
    "volunteers:contributions": takes_up_needs,
    "dashboards:social": has_dashboard,
    # 评理说事 and 议事会's figures (docs/mediation.md): whoever has a dashboard, their own area.
    "dashboards:mediation": has_dashboard,
    # Volunteer tasks: the publishers' list and form; the volunteer's own phone page.
    "volunteers:tasks": publishes_tasks,
    "volunteers:task-new": publishes_tasks,
    "volunteers:campaign-new": runs_campaigns,
    "volunteers:me": is_volunteer,
    # 志愿活动积分 and 预约服务: the month's rankings for whoever has a dashboard; corrections,
    # rewards and the clerk's bookings for the committees; the teams' own bookings and services.
    "volunteers:points-ranking": has_dashboard,
    "volunteers:points-volunteers": corrects_points,
    "volunteers:rewards": is_community_staff,
    "volunteers:bookings": is_community_staff,
    "volunteers:bookings-team": keeps_a_team,
    "volunteers:services": keeps_a_team,
    # 评理说事: the mediations of one's points (mediators, the hosts' staff, officials read).
    "mediation:list": works_mediations,
    "mediation:new": accepts_walk_ins,
    # 议事会: the councils one sits on, hosts or oversees.
    "mediation:councils": reads_councils,
    "admin:index": lambda user: user.is_staff,
}


def may_open(user, page) -> bool:
    allowed = PAGES.get(page)
    return allowed is None or (user.is_authenticated and allowed(user))


def page_gate(user, page) -> None:
    """A page answers 404 to whoever may not open it (as if it did not exist)."""
    if not may_open(user, page):
        raise Http404


def api_gate(user, page, message) -> None:
    """The API door of a page's list answers 403 with `message` to whoever may not open it."""
    if not may_open(user, page):
        raise PermissionDenied(message)


def may_promote_hotspot(actor) -> bool:
    """Opening a proactive case from a hotspot (未呼先应) is the overseers' decision."""
    return is_overseer(actor)


def require_dispatcher(actor) -> None:
    """The services' check for the moves only the district centre makes (close, merge, callback,
    reopen): NotPermitted (403) for anyone else."""
    if not is_dispatcher(actor):
        raise NotPermitted(_("Only a dispatcher of the district centre may do this."))
