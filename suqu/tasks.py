from celery import shared_task
from django.utils import timezone

from suqu.models import Heartbeat


@shared_task(name="suqu.heartbeat")
def heartbeat():
    """Record that beat scheduled and a worker ran this just now. Safe to run any number of times."""
    now = timezone.now()
    Heartbeat.objects.update_or_create(name="celery", defaults={"at": now})
    return now.isoformat()
