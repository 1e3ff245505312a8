"""Reads that help the person taking a call: earlier cases of this caller, likely duplicates."""

from datetime import timedelta

from django.contrib.postgres.search import TrigramSimilarity
from django.db.models import Q
from django.utils import timezone

from cases.models import Case
from routing.selectors import cases_for

DUPLICATE_WINDOW = timedelta(days=30)
# Chinese has no spaces, so pg_trgm sees a clause as one long word and two wordings of the same
# problem share few trigrams: measured 0.08–0.19 for such pairs ("小区门口垃圾堆放多日无人清理" /
# "小区门口的垃圾好几天没人清理了"), 0.0 for unrelated ones. These are suggestions within one
# community and 30 days, not automatic merges, so a low threshold costs little.
SIMILARITY_THRESHOLD = 0.08
SUGGESTIONS = 5


def cases_of_caller(user, phone, *, limit=10) -> list[Case]:
    """The caller's earlier cases that the user may see, newest first."""
    if len(phone) < 7:
        return []
    return list(
        cases_for(user).filter(caller_phone=phone).select_related("category", "grid").order_by("-created_at")[:limit]
    )


def duplicates_for(user, *, grid, category=None, text="") -> list[Case]:
    """Open cases of the last 30 days in the same community as `grid` that share the category or
    read alike, most similar first; only cases the user may see."""
    return _duplicates(cases_for(user), grid=grid, category=category, text=text)


def duplicates_near(*, grid, category=None, text="") -> list[Case]:
    """`duplicates_for` for a door without staff (the resident's own page): every open case of the
    community, whoever logged it. What the door shows of them is the door's care."""
    return _duplicates(Case.objects.all(), grid=grid, category=category, text=text)


def _duplicates(cases, *, grid, category, text) -> list[Case]:
    # The community prefix and the date bound the candidates through indexes; the similarity is
    # computed only on them.
    candidates = cases.filter(
        grid__code__startswith=grid.code[:12],
        status__in=Case.OPEN_STATUSES,
        created_at__gte=timezone.now() - DUPLICATE_WINDOW,
    )
    text = text.strip()
    if text:
        candidates = candidates.annotate(similarity=TrigramSimilarity("description", text))
        match = Q(similarity__gte=SIMILARITY_THRESHOLD)
        if category is not None:
            match |= Q(category=category)
        candidates = candidates.filter(match).order_by("-similarity", "-created_at")
    elif category is not None:
        candidates = candidates.filter(category=category).order_by("-created_at")
    else:
        return []
    return list(candidates.select_related("category", "grid")[:SUGGESTIONS])
