"""Reads for the end of the loop: the centre's callback queue and the grid workers' checks."""

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery

from cases.models import Case, CaseEvent
from grids.models import Region
from routing.models import Assignment
from routing.selectors import cases_for
from units.selectors import postings_for, region_q_for


def _after_last_resolve():
    last_resolve = (
        CaseEvent.objects.filter(case=OuterRef("case_id"), action="resolve").order_by("-at", "-id").values("id")[:1]
    )
    return Q(id__gt=Subquery(last_resolve))


def callback_queue() -> QuerySet[Assignment]:
    """Resolved cases waiting for their callback, the longest-waiting first. Each row is the lead
    assignment that resolved the case (its `callback_due` says when the call is due), with the
    number of unanswered attempts so far in `failed_attempts`."""
    failed = (
        CaseEvent.objects.filter(case=OuterRef("case_id"), action="callback", data__reached=False)
        .filter(_after_last_resolve())
        .order_by()
        .values("case")
        .annotate(n=Count("id"))
        .values("n")
    )
    return (
        Assignment.objects.filter(callback_due__isnull=False, case__status=Case.Status.RESOLVED)
        .select_related("case", "case__category", "unit")
        .annotate(failed_attempts=Subquery(failed))
        .order_by("callback_due", "id")
    )


def verification_queue_for(user) -> QuerySet[Case]:
    """Resolved cases in the user's grids whose category is checked on site and whose result has
    not been confirmed yet in this round."""
    grids = postings_for(user).grids
    confirmed = CaseEvent.objects.filter(case=OuterRef("pk"), action="verify", data__confirmed=True).filter(
        id__gt=Subquery(
            CaseEvent.objects.filter(case=OuterRef(OuterRef("pk")), action="resolve")
            .order_by("-at", "-id")
            .values("id")[:1]
        )
    )
    return (
        cases_for(user)
        .filter(grid_id__in=grids, status=Case.Status.RESOLVED, category__requires_verification=True)
        .exclude(Exists(confirmed))
        .select_related("category", "grid")
        .order_by("updated_at")
    )


def metric_codes_for(user, level) -> list[str] | None:
    """The rows of the metrics at `level` a person may see; None: all of them (district-wide).

    Street and community staff see the places of their own area, grid workers their grids; at
    the unit level everyone sees their own units. One query at most."""
    postings = postings_for(user)
    if postings.district_wide:
        return None
    if level == "unit":
        return [code for code, *_rest in postings.units]
    area = region_q_for(user)
    if area is None:
        return []
    return list(Region.objects.filter(area, level=level).values_list("code", flat=True))
