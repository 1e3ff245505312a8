from celery import shared_task

from dashboards.services import case_rollups_refresh, rollups_refresh_recent


@shared_task(name="dashboards.refresh_rollups")
def refresh_rollups():
    """Recompute the recent days' rollups (beat, every few minutes). Safe to run twice."""
    return rollups_refresh_recent()


@shared_task(name="dashboards.refresh_case_rollups")
def refresh_case_rollups(case_id, only_old=False):
    """Recompute the rollups of the days a reclassified case counts on, or (`only_old`) those of
    an older case's days beyond the frequent refresh's window. Safe to run twice."""
    return case_rollups_refresh(case_id=case_id, only_old=only_old)


# Celery's autodiscovery imports this module only; the export tasks live beside their service.
from dashboards.exports_tasks import export, export_stalled  # noqa: E402, F401
