"""Category suggestions for the text of a call (docs/suggestions.md).

Two signals, one answer:

- the model of the newest `SuggesterVersion`, learned from the district's closed cases: a score
  for each category it has seen, summing to 1;
- the categories' keywords (`cases.services.keyword_hits`), as the chips at intake always had.

With a model, a category's score is `(1 - KEYWORD_WEIGHT) × model + KEYWORD_WEIGHT × its share
of the keyword hits` when any keyword occurs in the text (the model alone otherwise): a category
whose keyword is in the text gets a small boost, and one the model has never seen can still show.
Without a model (no version yet: too little history), the keywords are the one signal and a
category's score is its share of the hits (`fallback`). Only active second-level categories are
suggested; a label of a category since deleted or made inactive is skipped.

Each process keeps the loaded model in memory, keyed by its version number, and asks PostgreSQL
for the newest number at most every CHECK_EVERY seconds: a suggestion normally costs one query
(the categories), plus the rules' when a grid is given.
"""

import logging
import threading
import time
from dataclasses import dataclass

from django.utils.translation import gettext as _

from cases.errors import InvalidInput
from cases.models import Case, Category
from cases.services import keyword_hits
from grids.models import Region
from routing.rules import routes_for_many
from suggestions.models import SuggesterVersion
from units.models import Unit

logger = logging.getLogger(__name__)

# The characters of a description a suggestion reads (the first ones: what a caller says first).
MAX_CHARS = 2_000
# The keywords' part of a score when a model is in use.
KEYWORD_WEIGHT = 0.2
# Seconds a process keeps using its model before it asks whether a newer version exists.
CHECK_EVERY = 60.0


@dataclass(frozen=True)
class Suggestion:
    """One suggested category, how likely (0–1), and the unit the rules give in the grid (None
    without a grid, or when the rules leave the case to the centre's dispatchers)."""

    category: Category
    score: float
    unit: Unit | None = None

    @property
    def percent(self) -> int:
        return round(self.score * 100)


@dataclass(frozen=True)
class Suggestions:
    """The suggestions for one text, the most likely first. `version` is the number of the model
    that made them, None when they come from the keywords alone (`fallback`)."""

    items: list[Suggestion]
    version: int | None
    fallback: bool

    @property
    def top(self) -> Suggestion | None:
        return self.items[0] if self.items else None


class _LoadedModel:
    """This process's model: (version number, learner), read again when a newer version exists.
    The pair is replaced whole, so a thread never sees one version's number with another's model."""

    def __init__(self):
        self._lock = threading.Lock()
        self.clear()

    def clear(self):
        self._current = (None, None)
        self._checked = None

    def _fresh(self):
        return self._checked is not None and time.monotonic() - self._checked < CHECK_EVERY

    def current(self):
        if self._fresh():
            return self._current
        # One thread reads (and perhaps loads) while the others wait, so a new version is loaded
        # once per process, not once per thread.
        with self._lock:
            if not self._fresh():
                number = SuggesterVersion.objects.order_by("-number").values_list("number", flat=True).first()
                if number != self._current[0]:
                    self._current = (number, self._load(number))
                self._checked = time.monotonic()
            return self._current

    @staticmethod
    def _load(number):
        if number is None:
            return None
        data = SuggesterVersion.objects.filter(number=number).values_list("model", flat=True).first()
        if not data:
            return None
        try:
            from suggestions.learner import Learner

            return Learner.loads(bytes(data))
        except Exception:
            # A model that no longer loads (an upgrade changed the learner): the keywords answer
            # until the next training writes one that does.
            logger.exception("suggester version %s could not be loaded; suggesting by keywords", number)
            return None


_MODEL = _LoadedModel()


def model_cache_clear() -> None:
    """Forget this process's model: the next suggestion reads the newest version (after a training)."""
    _MODEL.clear()


def suggest(text, *, subject="", grid: Region | None = None, k=3) -> Suggestions:
    """Up to `k` categories for what a caller said, the most likely first, each with the unit the
    rules give in `grid`. Blank text is refused (InvalidInput on `description`); a long one is read
    up to MAX_CHARS characters."""
    if not (text or "").strip():
        raise InvalidInput(_("Describe what happened to get suggestions."), "description")
    return suggest_many([(subject, text)], grids=[grid], k=k)[0]


def suggest_many(texts, *, grids, k=3) -> list[Suggestions]:
    """`suggest` for many (subject, text) pairs at once (the dispatch console), each with its grid
    (or None): one prediction for all of them, and the same few queries however many there are.
    A blank text gets no suggestions."""
    if not texts:
        return []
    number, learner = _MODEL.current()
    categories = {category.code: category for category in Category.objects.filter(is_active=True, parent__isnull=False)}
    cleaned = [((subject or "").strip(), (text or "").strip()[:MAX_CHARS]) for subject, text in texts]
    learned = _learned(learner, [pair for pair in cleaned if pair[1]]) if learner is not None else []
    learned = iter(learned)
    results = []
    for _subject, text in cleaned:
        if not text:
            results.append(Suggestions(items=[], version=None, fallback=learner is None))
            continue
        hits = {code: count for code, category in categories.items() if (count := keyword_hits(text, category))}
        model_scores = {code: score for code, score in next(learned, {}).items() if code in categories}
        scores = _combined(model_scores, hits)
        fallback = not model_scores
        best = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:k]
        items = [Suggestion(category=categories[code], score=round(score, 3)) for code, score in best if score > 0]
        results.append(Suggestions(items=items, version=None if fallback else number, fallback=fallback))
    return _with_units(results, grids)


def text_for(subject, description) -> str:
    """The text the model reads, for training (`services.training_corpus`) as for a suggestion:
    the subject (the description's first line when none is given, which the learner's `text_of`
    then does not repeat) and the description's first MAX_CHARS characters."""
    from suggestions.learner import text_of

    description = (description or "").strip()[:MAX_CHARS]
    first_line = description.splitlines()[0] if description else ""
    return text_of((subject or "").strip()[:MAX_CHARS] or first_line, description)


def _learned(learner, pairs) -> list[dict[str, float]]:
    """The model's score of every category it knows, for each (subject, text)."""
    if not pairs:
        return []
    predicted = learner.predict([text_for(subject, text) for subject, text in pairs], k=len(learner.labels))
    return [dict(ranked) for ranked in predicted]


def _combined(model_scores, hits) -> dict[str, float]:
    total = sum(hits.values())
    shares = {code: count / total for code, count in hits.items()} if total else {}
    if not model_scores:
        return shares
    if not shares:
        return model_scores
    return {
        code: (1 - KEYWORD_WEIGHT) * model_scores.get(code, 0.0) + KEYWORD_WEIGHT * shares.get(code, 0.0)
        for code in model_scores.keys() | shares.keys()
    }


def _with_units(results, grids) -> list[Suggestions]:
    """Each suggestion with the unit the rules give for its category in its text's grid, decided
    for all of them at once by `routing.rules.routes_for_many` (which decides for cases: here
    unsaved ones, one per suggestion, carrying only the category and the grid)."""
    probes, where = [], []
    for position, (result, grid) in enumerate(zip(results, grids, strict=True)):
        if grid is None:
            continue
        for rank, item in enumerate(result.items):
            probes.append(Case(pk=len(probes) + 1, category=item.category, grid=grid))
            where.append((position, rank))
    if not probes:
        return results
    decisions = routes_for_many(probes)
    units = {spot: decisions[probe.pk].unit for spot, probe in zip(where, probes, strict=True)}
    return [
        Suggestions(
            items=[
                Suggestion(category=item.category, score=item.score, unit=units.get((position, rank)))
                for rank, item in enumerate(result.items)
            ],
            version=result.version,
            fallback=result.fallback,
        )
        for position, result in enumerate(results)
    ]
