"""The export job: a large table written to a file by a Celery task (imported by dashboards/models.py)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ExportJob(models.Model):
    """One person's request for a table as a file, too large to answer at once.

    Created by `dashboards.exports.export_job_create`; moved on only by `export_job_run`, which
    claims a queued job with a conditional UPDATE (two workers, or a worker and the stalled-jobs
    sweep, cannot both write it) and then writes `rows_done` every few thousand rows, which the
    progress page polls. `params` holds the query string (name → list of values) the filters were
    read from, so the task applies exactly what the page did; the table is read again in the
    task, with the requester's scope as it is then. Rows and files are deleted after seven days.
    """

    class Format(models.TextChoices):
        XLSX = "xlsx", "XLSX"
        CSV = "csv", "CSV"

    class State(models.TextChoices):
        QUEUED = "queued", pgettext_lazy("export job", "queued")
        RUNNING = "running", pgettext_lazy("export job", "running")
        DONE = "done", pgettext_lazy("export job", "done")
        FAILED = "failed", pgettext_lazy("export job", "failed")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.CASCADE, related_name="+"
    )
    table = models.CharField(_("table"), max_length=20)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    format = models.CharField(_("format"), max_length=4, choices=Format.choices)
    # The file's headers and labels are in the language the person asked in, not the worker's.
    language = models.CharField(_("language"), max_length=10, default=settings.LANGUAGE_CODE)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.QUEUED)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows written"), default=0)
    file = models.FileField(_("file"), upload_to="exports/", blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Moved by every progress write: a running job whose stamp stops moving lost its worker.
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("export job")
        verbose_name_plural = _("export jobs")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["queued", "running", "done", "failed"]), name="exportjob_state_valid"
            ),
            models.CheckConstraint(condition=Q(format__in=["xlsx", "csv"]), name="exportjob_format_valid"),
        ]
        indexes = [
            # The stalled-jobs sweep looks for queued and running jobs by age every minute. (The
            # week-old clean-up reads the whole table, which holds a week of jobs at most.)
            models.Index(fields=["state", "created_at"], name="exportjob_state_created"),
        ]

    def __str__(self):
        return f"{self.table}.{self.format} #{self.pk} ({self.state})"

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(100, self.rows_done * 100 // self.rows_total)
