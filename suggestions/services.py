"""Training the category suggester on the district's own closed cases (docs/suggestions.md).

The learner itself (`suggestions.learner`) knows nothing of Django; this module chooses what it
learns from, measures it, and keeps each fitted model as a `SuggesterVersion` row.
"""

import logging
import random
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.db.models.functions import Left
from django.utils.translation import gettext as _

from cases.models import Case
from suggestions.models import SuggesterVersion
from suggestions.selectors import MAX_CHARS, model_cache_clear, text_for

logger = logging.getLogger(__name__)

# The newest closed cases learned from, at most: a few years of the district, and a retrain that
# stays within minutes on two cores.
MAX_CASES = 100_000
# The share of the cases held out to measure a version before it is fitted on all of them.
HOLD_OUT = 0.1
# From this many cases on, the model measured on the held-out tenth is the version itself: a
# second fit on all of them would double the time (minutes at 100,000 cases) for a tenth more
# data, which changes nothing measurable at that size.
REFIT_BELOW = 20_000
# The closures that say nothing about what a request was about: a duplicate (its case says it),
# a call that was no real request (invalid, out of scope).
NOT_LEARNED = (Case.ClosureReason.DUPLICATE, *Case.INVALID_CLOSURE_REASONS)
LOCK = "suggestions.suggester_train"


class Trigger:
    """What started a training (`SuggesterVersion.trigger`)."""

    NIGHTLY = "nightly"
    ADMIN = "admin"
    COMMAND = "command"


@dataclass(frozen=True)
class TrainResult:
    """What a training did. `version` is the new row, or None when nothing was written
    (`reason`: "too_little_history" or "already_running"); `message` says so in words."""

    reason: str
    message: str
    cases: int = 0
    categories: int = 0
    version: SuggesterVersion | None = None

    @property
    def trained(self) -> bool:
        return self.version is not None


def training_corpus(*, limit=MAX_CASES) -> tuple[list[str], list[str]]:
    """(texts, labels) of the closed cases the suggester learns from, the newest first.

    A case's label is its category now (after any reclassification: the final one), always a
    second-level category. Merged duplicates and invalid calls are left out. The text is what a
    suggestion is asked with (`selectors.text_for`): a case has no subject of its own (its
    summary is its description's first line, cut), so the first line and the description, its
    first MAX_CHARS characters cut in the database.
    """
    rows = (
        Case.objects.filter(status=Case.Status.CLOSED, category__parent__isnull=False)
        .exclude(closure_reason__in=NOT_LEARNED)
        .order_by("-closed_at", "-pk")
        .annotate(head=Left("description", MAX_CHARS))
        .values_list("head", "category__code")[:limit]
    )
    texts, labels = [], []
    for head, code in rows.iterator(chunk_size=5_000):
        texts.append(text_for("", head))
        labels.append(code)
    return texts, labels


def suggester_train(*, trigger, actor=None) -> TrainResult:
    """Train a new version on the closed cases, if there is enough history.

    - Fewer than SUGGESTER_MIN_CASES cases, or fewer than two categories: nothing is written, the
      suggestions keep coming from the keywords (or from the last version trained).
    - A tenth of the cases is held out and predicted by a model fitted on the rest (top-1, top-3);
      then, below REFIT_BELOW cases, the model is fitted again on all of them; from there on the
      measured model is the one saved as the next version (trained_on says on how many).
    - Two trainings never run at once: a session advisory lock, taken without waiting (the second
      answers "already running"); no transaction is held open while the model is fitted.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [LOCK])
        (locked,) = cursor.fetchone()
    if not locked:
        return TrainResult(reason="already_running", message=_("A training is already running; nothing was done."))
    try:
        return _train(trigger=trigger, actor=actor)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [LOCK])


def _train(*, trigger, actor) -> TrainResult:
    from suggestions.learner import Learner

    started = time.monotonic()
    texts, labels = training_corpus()
    cases, categories = len(texts), len(set(labels))
    if cases < settings.SUGGESTER_MIN_CASES or categories < 2:
        message = _(
            "Too little history: %(cases)d closed cases in %(categories)d categories, at least %(minimum)d "
            "cases in two categories are needed. Suggestions keep coming from the keywords."
        ) % {"cases": cases, "categories": categories, "minimum": settings.SUGGESTER_MIN_CASES}
        logger.info("suggester not trained: %s", message)
        return TrainResult(reason="too_little_history", message=message, cases=cases, categories=categories)

    learner, top1, top3, held_out = _held_out_figures(Learner, texts, labels)
    if cases < REFIT_BELOW:
        learner = Learner().fit(texts, labels)
    data = learner.dumps()
    with transaction.atomic():
        number = (SuggesterVersion.objects.aggregate(last=Max("number"))["last"] or 0) + 1
        version = SuggesterVersion.objects.create(
            number=number,
            trained_on=learner.trained_on,
            categories=categories,
            held_out=held_out,
            top1=top1,
            top3=top3,
            seconds=round(time.monotonic() - started, 1),
            trigger=trigger,
            triggered_by=actor,
            model=data,
            model_size=len(data),
        )
        # The older models' bytes are let go (several MB each, one a night); their rows stay.
        SuggesterVersion.objects.filter(number__lte=number - SuggesterVersion.KEPT_MODELS).update(model=b"")
    model_cache_clear()  # this process reads the new version at its next suggestion
    message = _(
        "Version %(number)d trained on %(cases)d closed cases in %(categories)d categories: "
        "held out, top-1 %(top1).3f, top-3 %(top3).3f."
    ) % {"number": number, "cases": cases, "categories": categories, "top1": top1, "top3": top3}
    logger.info("suggester trained: %s (%.1f s)", message, version.seconds)
    return TrainResult(reason="trained", message=message, cases=cases, categories=categories, version=version)


def _held_out_figures(learner_class, texts, labels):
    """(the model, top-1, top-3, how many held out): a model fitted on nine tenths of the cases
    and its accuracy on the other tenth (the same tenth for the same corpus)."""
    order = list(range(len(texts)))
    random.Random(0).shuffle(order)
    cut = max(1, int(len(order) * HOLD_OUT))
    held, kept = order[:cut], order[cut:]
    # The model needs two categories to learn from: a category whose cases all fell in the tenth
    # gives one of them back.
    kept_labels = {labels[i] for i in kept}
    for i in list(held):
        if labels[i] not in kept_labels and len(held) > 1:
            held.remove(i)
            kept.append(i)
            kept_labels.add(labels[i])
    learner = learner_class().fit([texts[i] for i in kept], [labels[i] for i in kept])
    predicted = learner.predict([texts[i] for i in held], k=3)
    top1 = sum(1 for i, best in zip(held, predicted, strict=True) if best and best[0][0] == labels[i])
    top3 = sum(1 for i, best in zip(held, predicted, strict=True) if labels[i] in {label for label, _s in best[:3]})
    return learner, round(top1 / len(held), 4), round(top3 / len(held), 4), len(held)


def suggester_retrain_queue(*, actor) -> None:
    """Ask a worker to retrain now (the admin's button), after the commit. If Redis is down nothing
    is queued, and the nightly training comes all the same."""
    actor_id = actor.pk if actor is not None else None
    transaction.on_commit(lambda: _queue(actor_id))


def _queue(actor_id):
    from suggestions.tasks import retrain

    try:
        retrain.delay(trigger=Trigger.ADMIN, actor_id=actor_id)
    except Exception:
        logger.warning("could not queue the suggester's retraining", exc_info=True)
