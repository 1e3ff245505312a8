from celery import shared_task
from django.contrib.auth import get_user_model

from suggestions.services import Trigger, suggester_train


@shared_task(name="suggestions.retrain")
def retrain(trigger=Trigger.NIGHTLY, actor_id=None):
    """Train a new suggester version on the closed cases (beat, nightly; the admin's button).
    Safe to run twice, and at the same time as itself: the second finds the lock taken and stops."""
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    result = suggester_train(trigger=trigger, actor=actor)
    return {
        "reason": result.reason,
        "version": result.version.number if result.version else None,
        "cases": result.cases,
        "categories": result.categories,
    }
