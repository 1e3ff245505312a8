import logging

from celery import shared_task
from django.db.models import Exists, OuterRef
from django.utils import timezone

from cases.models import Case
from routing.dispatch import case_route_auto
from routing.models import AutoRouteAttempt

logger = logging.getLogger(__name__)

# A case this long in `registered` missed its automatic dispatch (Redis was down, a worker was
# busy) and is picked up by the sweep.
STRANDED_AFTER_SECONDS = 60
SWEEP_BATCH = 500


# No result kept: nobody reads it, and keeping one made the web process subscribe to the result's
# channel and unsubscribe again around every publish (two Redis round trips per call logged).
@shared_task(name="routing.dispatch_case", ignore_result=True)
def dispatch_case(case_id):
    """Dispatch one new case by the routing rules. Safe to run twice."""
    assignment = case_route_auto(case_id=case_id)
    return assignment.unit.code if assignment else None


@shared_task(name="routing.sweep_registered")
def sweep_registered():
    """Dispatch every case left `registered` by mistake, so that no call is left unrouted
    (有呼必应). Cases without a matching rule stay for the dispatchers and are skipped cheaply:
    the rules answer "no unit" without writing anything."""
    cutoff = timezone.now() - timezone.timedelta(seconds=STRANDED_AFTER_SECONDS)
    ids = list(
        Case.objects.filter(status=Case.Status.REGISTERED, created_at__lt=cutoff)
        .exclude(Exists(AutoRouteAttempt.objects.filter(case=OuterRef("pk"))))
        .order_by("created_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    dispatched = 0
    for case_id in ids:
        try:
            dispatched += case_route_auto(case_id=case_id) is not None
        except Exception:
            logger.exception("automatic dispatch of case %s failed", case_id)
    return {"checked": len(ids), "dispatched": dispatched}
