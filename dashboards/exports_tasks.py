"""The exports' Celery tasks (docs/exports.md). Celery's autodiscovery reads `dashboards.tasks`,
which imports these."""

from celery import shared_task

from dashboards.exports import export_job_run, export_jobs_sweep


@shared_task(name="dashboards.export")
def export(job_id):
    """Write one export job's file. Safe to run twice: a job already claimed is skipped."""
    return export_job_run(job_id=job_id)


@shared_task(name="dashboards.export_stalled")
def export_stalled():
    """Beat, every minute: run the export jobs left queued (Redis was down when they were asked
    for), fail the ones whose worker was lost, delete jobs and files older than a week."""
    return export_jobs_sweep()
