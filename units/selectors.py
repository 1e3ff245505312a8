"""Who a person is at work, from their postings (unit memberships, grid postings), never from
`is_staff`: their roles, their units, the areas they cover, which units they may see, where they
take calls. Read once per request (`postings_for` caches on the user); the case scope built on
these is `routing.selectors.cases_for`."""

import functools
import json
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import JSONArray

from grids.models import GridPosting
from units.models import Membership, Unit

DISTRICT_WIDE_KINDS = (Unit.Kind.CENTRE, Unit.Kind.LEADERSHIP)


class Role:
    """The roles a person holds; derived from their postings, never stored."""

    DISPATCHER = "dispatcher"
    OFFICIAL = "official"
    GRID_WORKER = "grid_worker"
    STREET_STAFF = "street_staff"
    COMMUNITY_STAFF = "community_staff"
    DEPARTMENT_STAFF = "department_staff"
    UNIT_HEAD = "unit_head"


ROLE_BY_UNIT_KIND = {
    Unit.Kind.CENTRE: Role.DISPATCHER,
    Unit.Kind.LEADERSHIP: Role.OFFICIAL,
    Unit.Kind.STREET_OFFICE: Role.STREET_STAFF,
    Unit.Kind.COMMITTEE: Role.COMMUNITY_STAFF,
    Unit.Kind.DEPARTMENT: Role.DEPARTMENT_STAFF,
    Unit.Kind.UTILITY: Role.DEPARTMENT_STAFF,
    Unit.Kind.SOCIAL: Role.DEPARTMENT_STAFF,
    Unit.Kind.AGENCY: Role.DEPARTMENT_STAFF,
}


@dataclass(frozen=True)
class Postings:
    """What one user's rows say about them, read once per request."""

    units: tuple  # (unit code, unit kind, region code or None, role)
    grids: tuple  # grid codes
    volunteer: bool = False  # has a volunteer's profile (volunteers.Volunteer)
    mediator: bool = False  # mediates at an active mediation point (mediation.Mediator)
    council: bool = False  # sits on a deliberation council (mediation.CouncilMember, 议事会)

    @property
    def district_wide(self):
        return any(kind in DISTRICT_WIDE_KINDS for _code, kind, _region, _role in self.units)


def postings_for(user) -> Postings:
    """The user's memberships, grid postings and whether they volunteer or mediate, in one small
    query (cached on the user)."""
    if not user.is_authenticated:
        return Postings(units=(), grids=())
    cached = getattr(user, "_suqu_postings", None)
    if cached is None:
        sql, params = _postings_sql()
        with connection.cursor() as cursor:
            cursor.execute(sql, [user.pk if param == _USER else param for param in params])
            units, grids, volunteer, mediator, council = cursor.fetchone()
        cached = user._suqu_postings = Postings(
            # Each membership comes as a JSON array (unit code, kind, region code, role).
            units=tuple(tuple(json.loads(unit)) for unit in units),
            grids=tuple(grids),
            volunteer=volunteer,
            mediator=mediator,
            council=council,
        )
    return cached


# Stands for the user's id in the query `_postings_sql` builds: no row has it.
_USER = -7_319_842_001


@functools.cache
def _postings_sql() -> tuple[str, tuple]:
    """The SQL of `postings_for` and its parameters (`_USER` where the user's id goes), built by
    the ORM once per process. Every page and API call runs it, and building this query of five
    subqueries cost about 6 ms of CPU each time, many times what PostgreSQL takes to answer it."""
    memberships = (
        Membership.objects.filter(user=OuterRef("pk"), unit__is_active=True)
        .order_by("unit__code")
        .values(posting=JSONArray("unit__code", "unit__kind", "unit__region__code", "role"))
    )
    # The profile and the mediator's posts are named through the user's reverse relations: this
    # layer imports neither the volunteers nor the mediation.
    people = get_user_model()
    volunteers = people._meta.get_field("volunteer").related_model.objects.filter(user=OuterRef("pk"))
    mediators = people._meta.get_field("mediator_posts").related_model.objects.filter(
        user=OuterRef("pk"), is_active=True, point__is_active=True
    )
    seats = people._meta.get_field("council_seats").related_model.objects.filter(user=OuterRef("pk"), is_active=True)
    query = people.objects.filter(pk=_USER).values_list(
        ArraySubquery(memberships),
        ArraySubquery(GridPosting.objects.filter(user=OuterRef("pk")).order_by("grid__code").values("grid__code")),
        Exists(volunteers),
        Exists(mediators),
        Exists(seats),
    )
    sql, params = query.query.sql_with_params()
    # The other parameters are constants, like the 1 of `LIMIT 1`.
    if sum(param == _USER for param in params) != 1:
        raise ImproperlyConfigured(f"postings_for: the user's id is not one parameter of its query: {params!r}")
    return sql, params


def roles_for(user) -> set[str]:
    postings = postings_for(user)
    roles = {ROLE_BY_UNIT_KIND[kind] for _code, kind, _region, _role in postings.units}
    if any(role == Membership.Role.HEAD for *_rest, role in postings.units):
        roles.add(Role.UNIT_HEAD)
    if postings.grids:
        roles.add(Role.GRID_WORKER)
    return roles


def region_prefixes_for(user) -> list[str] | None:
    """The code prefixes of the areas a user covers; None means the whole district."""
    postings = postings_for(user)
    if postings.district_wide:
        return None
    prefixes = {region for _code, kind, region, _role in postings.units if kind in Unit.TERRITORIAL and region}
    prefixes.update(postings.grids)
    # A prefix inside another one adds nothing.
    return sorted(p for p in prefixes if not any(p != q and p.startswith(q) for q in prefixes))


def region_q_for(user, field="code") -> Q | None:
    """A filter on a region-code field for the user's areas; None means no restriction."""
    prefixes = region_prefixes_for(user)
    if prefixes is None:
        return None
    q = Q(pk__in=[])
    for prefix in prefixes:
        q |= Q(**{f"{field}__startswith": prefix})
    return q


def ancestor_codes(prefixes) -> set[str]:
    """The codes of the places above each of `prefixes` (district, street, community)."""
    return {prefix[:n] for prefix in prefixes for n in (6, 9, 12) if n < len(prefix)}


def units_for(user) -> QuerySet[Unit]:
    """The units a user may see: every non-territorial unit (anyone may need to call one in), and
    the street offices and committees of their areas and above them; dispatchers and officials
    see all."""
    units = Unit.objects.filter(is_active=True)
    if not user.is_authenticated:
        return units.none()
    prefixes = region_prefixes_for(user)
    if prefixes is None:
        return units
    area = region_q_for(user, field="region__code") | Q(region__code__in=ancestor_codes(prefixes))
    own = [code for code, *_rest in postings_for(user).units]
    return units.filter(~Q(kind__in=Unit.TERRITORIAL) | area | Q(code__in=own))


def member_units_for(user) -> QuerySet[Unit]:
    """The units the user works in."""
    return Unit.objects.filter(memberships__user=user, is_active=True).order_by("code")


CALL_TAKER_ROLES = frozenset({Role.DISPATCHER, Role.GRID_WORKER, Role.COMMUNITY_STAFF, Role.STREET_STAFF})


def can_log_call_in(user, grid) -> bool:
    """Whether the user takes calls for this grid: dispatchers (the hotline) anywhere, street and
    committee staff and grid workers in their areas. Departments do not take calls."""
    prefixes = region_prefixes_for(user)
    if prefixes is None:
        return True
    return any(grid.code.startswith(prefix) for prefix in prefixes)
