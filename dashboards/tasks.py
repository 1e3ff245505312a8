from celery import shared_task

from dashboards.services import rollups_refresh_recent


@shared_task(name="dashboards.refresh_rollups")
def refresh_rollups():
    """Recompute the recent days' rollups (beat, every few minutes). Safe to run twice."""
    return rollups_refresh_recent()


# Celery's autodiscovery imports this module only; the export tasks live beside their service.
from dashboards.exports_tasks import export, export_stalled  # noqa: E402, F401
