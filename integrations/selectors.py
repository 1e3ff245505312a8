"""Reads for the doors to outside systems: what an Open311 client may see (docs/integrations.md).

What a key may read follows from its scopes, as what a person may read follows from their
postings (`routing.selectors.cases_for`): `read_all` every case (the district's requests are
public, without the caller's name or phone), `read_own` only the cases its system registered.
"""

from django.db.models import CharField, Exists, F, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Length

from cases.models import Case, CaseEvent, Category
from grids.models import Region
from intake.models import Call
from integrations.models import ApiKey, Inbound
from routing.models import Assignment


def services_open311() -> QuerySet[Category]:
    """The services an Open311 client may ask for: the active leaf categories, with their class."""
    return (
        Category.objects.filter(is_active=True, parent__isnull=False, parent__is_active=True)
        .select_related("parent")
        .order_by("code")
    )


def cases_for_key(key) -> QuerySet[Case]:
    """The cases `key` may read: every case with `read_all`; with `read_own` those its system sent
    (a request it sent became the case, placed at once or by a dispatcher) and those holding a
    call taken under its account (its request merged into the case it repeated)."""
    if ApiKey.Scope.READ_ALL in key.scopes:
        return Case.objects.all()
    if ApiKey.Scope.READ_OWN in key.scopes:
        sent = Inbound.objects.filter(case=OuterRef("pk"), system=key.system_id)
        called = Call.objects.filter(case=OuterRef("pk"), created_by=key.system.user_id)
        return Case.objects.filter(Exists(sent) | Exists(called))
    return Case.objects.none()


def open311_requests(cases) -> QuerySet[Case]:
    """`cases` with what an Open311 answer shows of each, in one query whatever their number:

    - `lead_unit`, `lead_due`: the unit that has the case now or had it when it was resolved (not
      one that returned it or had it taken away), and its resolution deadline;
    - `result`: the result the lead unit reported last (办结), or the answer given at intake: the
      public outcome;
    - `sent_media_url`, `sent_address_id`: what an Open311 client sent with the request.
    """
    lead = Assignment.objects.filter(
        case=OuterRef("pk"),
        role=Assignment.Role.LEAD,
        state__in=[*Assignment.ACTIVE_STATES, Assignment.State.DONE],
    ).order_by("-dispatched_at", "-id")
    # An answer given on the spot (直接办结) is the result of a case closed at intake.
    result = CaseEvent.objects.filter(case=OuterRef("pk"), action__in=("resolve", "answer")).order_by("-at", "-id")
    sent = Inbound.objects.filter(case=OuterRef("pk"), kind=Inbound.Kind.OPEN311).order_by("received_at", "id")
    return cases.select_related("category", "category__parent", "merged_into").annotate(
        lead_unit=Subquery(lead.values("unit__name")[:1]),
        lead_due=Subquery(lead.values("resolve_due")[:1]),
        result=Subquery(result.values("note")[:1]),
        sent_media_url=Subquery(sent.values("payload__media_url")[:1]),
        sent_address_id=Subquery(sent.values("payload__address_id")[:1]),
    )


def inbound_for_key(key, token) -> Inbound | None:
    """The Open311 request known by `token`, if `key` may read it: its own system's, or any with
    `read_all`."""
    found = Inbound.objects.filter(token=token, kind=Inbound.Kind.OPEN311).select_related("case")
    if ApiKey.Scope.READ_ALL not in key.scopes:
        found = found.filter(system=key.system)
    return found.first()


# A grid's name shorter than this is not looked for in an address: it could be part of any word.
GRID_NAME_MIN = 4


def grids_named_in(text, *, limit=10) -> list[Region]:
    """The grids whose name occurs in `text`, leaving out a name that is part of another one found
    (金山社区第1网格 inside 金山社区第11网格). One query over the grids' names."""
    if not text.strip():
        return []
    found = list(
        Region.objects.filter(level=Region.Level.GRID)
        .alias(text=Value(text, output_field=CharField()), name_length=Length("name"))
        .filter(text__contains=F("name"), name_length__gte=GRID_NAME_MIN)
        .order_by("code")[:limit]
    )
    return [grid for grid in found if not any(grid.name in other.name and grid != other for other in found)]
