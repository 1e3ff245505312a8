from django.db import models
from django.utils.translation import gettext_lazy as _

# The counts a rollup row holds: every count of feedback.metrics.Figures, and the calls taken.
COUNTS = (
    "calls",
    "received",
    "dispatched",
    "signed_on_time",
    "contacted_on_time",
    "response_due",
    "responded_on_time",
    "resolved",
    "resolved_on_time",
    "overdue_unresolved",
    "callbacks",
    "callbacks_solved",
    "satisfied",
    "basically",
    "unsatisfied",
    "unreachable_attempts",
    "closed_unreachable",
    "exempted",
    "returns",
    "redos",
    "answered",
    "closed",
    "handled",
)


class DailyRollup(models.Model):
    """The figures of one day for one grid, category, lead unit and channel.

    Written only by `dashboards.services.rollups_refresh`, which recomputes whole days from the
    case events and assignments with the same grouped counts as `feedback.metrics` (so a page
    reading rollups and the metrics service reading the raw rows cannot disagree). Dashboards sum
    these rows: a month of the district is about 3.6 rows per case of the month, however many
    years are stored (docs/dashboards.md). `unit` is empty for what belongs to no unit (cases received, calls taken).
    """

    day = models.DateField(_("day"))
    grid = models.CharField(_("grid"), max_length=15)
    category = models.ForeignKey(
        "cases.Category", verbose_name=_("category"), on_delete=models.CASCADE, related_name="+"
    )
    unit = models.CharField(_("unit"), max_length=30, blank=True)
    channel = models.CharField(_("channel"), max_length=10)
    calls = models.PositiveIntegerField(default=0)
    received = models.PositiveIntegerField(default=0)
    dispatched = models.PositiveIntegerField(default=0)
    signed_on_time = models.PositiveIntegerField(default=0)
    contacted_on_time = models.PositiveIntegerField(default=0)
    response_due = models.PositiveIntegerField(default=0)
    responded_on_time = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    resolved_on_time = models.PositiveIntegerField(default=0)
    overdue_unresolved = models.PositiveIntegerField(default=0)
    callbacks = models.PositiveIntegerField(default=0)
    callbacks_solved = models.PositiveIntegerField(default=0)
    satisfied = models.PositiveIntegerField(default=0)
    basically = models.PositiveIntegerField(default=0)
    unsatisfied = models.PositiveIntegerField(default=0)
    unreachable_attempts = models.PositiveIntegerField(default=0)
    closed_unreachable = models.PositiveIntegerField(default=0)
    exempted = models.PositiveIntegerField(default=0)
    returns = models.PositiveIntegerField(default=0)
    redos = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    handled = models.PositiveIntegerField(default=0)
    handling_seconds = models.FloatField(default=0)

    class Meta:
        verbose_name = _("daily rollup")
        verbose_name_plural = _("daily rollups")
        constraints = [
            models.UniqueConstraint(fields=["day", "grid", "category", "unit", "channel"], name="dailyrollup_one_row")
        ]
        indexes = [
            # A period of a place: the day range first, then the grid-code prefix.
            models.Index(
                fields=["day", "grid"], name="dailyrollup_day_grid", opclasses=["date_ops", "varchar_pattern_ops"]
            ),
            models.Index(fields=["day", "unit"], name="dailyrollup_day_unit"),
        ]

    def __str__(self):
        return f"{self.day} {self.grid} {self.category_id} {self.unit} {self.channel}"


class RollupRun(models.Model):
    """When the rollups of a range of days were last recomputed (the dashboards say "as of")."""

    first = models.DateField(_("first day"))
    last = models.DateField(_("last day"))
    finished_at = models.DateTimeField(_("finished at"), auto_now_add=True)
    rows = models.PositiveIntegerField(_("rows"), default=0)

    class Meta:
        verbose_name = _("rollup run")
        verbose_name_plural = _("rollup runs")
        ordering = ["-finished_at"]

    def __str__(self):
        return f"{self.first}–{self.last} at {self.finished_at:%Y-%m-%d %H:%M}"


from dashboards.exports_models import ExportJob  # noqa: E402,F401
