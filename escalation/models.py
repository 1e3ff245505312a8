"""The escalation of work that stalls: the policy of when the deadline sweep warns, gives notice
and supervises (one row), the alerts it raised (each once per stage), and the supervisions
(督办) of a unit's part by the level above. The tables were created by `routing` and keep their
names (`db_table`)."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from routing.models import Assignment
from units.models import Unit


class EscalationPolicy(models.Model):
    """When the deadline sweep warns, chases, gives notice and supervises; one row (pk 1), edited in
    the admin. Counted from each deadline (sign-for, first contact, resolution) of an assignment."""

    warning_percent = models.PositiveSmallIntegerField(
        _("warning at (percentage of the time)"),
        default=75,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
        help_text=_("The yellow light, when this share of the time to a deadline has gone by."),
    )
    notice_after_days = models.PositiveSmallIntegerField(
        _("notice after (overdue working days)"),
        default=5,
        validators=[MinValueValidator(1)],
        help_text=_("A formal notice (通报) to the level above when a deadline is this long overdue."),
    )
    supervise_after_days = models.PositiveSmallIntegerField(
        _("supervision after (overdue working days)"),
        default=7,
        validators=[MinValueValidator(1)],
        help_text=_("The level above supervises (督办) the case when a deadline is this long overdue."),
    )
    step_up_after_days = models.PositiveSmallIntegerField(
        _("next level after (working days)"),
        default=5,
        validators=[MinValueValidator(1)],
        help_text=_("Supervision moves one level further up when the case stays overdue this much longer."),
    )

    class Meta:
        db_table = "routing_escalationpolicy"  # the name it had in routing
        verbose_name = _("escalation policy")
        verbose_name_plural = _("escalation policy")
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="escalationpolicy_single_row")]

    def __str__(self):
        return str(_("escalation policy"))

    @classmethod
    def current(cls) -> "EscalationPolicy":
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy


class DeadlineLimit(models.TextChoices):
    SIGN = "sign", _("sign-for")
    CONTACT = "contact", _("first contact")
    RESOLVE = "resolve", _("resolution")


class Alert(models.Model):
    """One escalation stage that has happened for one deadline of an assignment: the warning (黄灯),
    overdue (红灯), chase notice (催办), formal notice (通报) or a supervision step (督办).

    The unique constraint is what makes every stage happen exactly once: the sweep inserts the row
    and writes the stage's notifications only when its insert won, however many sweeps run.
    A deadline moved later (an extension, a supervisor's new deadline) starts a fresh set.
    """

    class Stage(models.TextChoices):
        WARNING = "warning", _("warning")
        OVERDUE = "overdue", _("overdue")
        CHASE = "chase", _("chase notice")
        NOTICE = "notice", _("formal notice")
        SUPERVISE_1 = "supervise_1", _("supervision")
        SUPERVISE_2 = "supervise_2", _("supervision, next level")
        SUPERVISE_3 = "supervise_3", _("supervision, third level")

    assignment = models.ForeignKey(
        Assignment, verbose_name=_("assignment"), on_delete=models.CASCADE, related_name="alerts"
    )
    limit = models.CharField(_("deadline"), max_length=8, choices=DeadlineLimit.choices)
    due = models.DateTimeField(_("due"))
    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices)
    at = models.DateTimeField(_("at"))

    class Meta:
        db_table = "routing_alert"  # the name it had in routing
        verbose_name = _("deadline alert")
        verbose_name_plural = _("deadline alerts")
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "limit", "due", "stage"], name="alert_once_per_stage")
        ]

    def __str__(self):
        return f"{self.assignment_id} {self.limit} {self.stage}"


class Supervision(models.Model):
    """督办: a unit above the one handling a case watches it, and may urge, reassign or set a new
    deadline. Starts when the lead unit's deadline stays overdue (the sweep), one level up at a
    time; ends when the lead's part ends (resolved, returned, re-dispatched)."""

    case = models.ForeignKey("cases.Case", verbose_name=_("case"), on_delete=models.CASCADE, related_name="+")
    assignment = models.ForeignKey(
        Assignment, verbose_name=_("assignment supervised"), on_delete=models.CASCADE, related_name="supervisions"
    )
    unit = models.ForeignKey(Unit, verbose_name=_("supervised by"), on_delete=models.PROTECT, related_name="+")
    level = models.PositiveSmallIntegerField(_("level"))
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        db_table = "routing_supervision"  # the name it had in routing
        verbose_name = _("supervision")
        verbose_name_plural = _("supervisions")
        ordering = ["-started_at", "-id"]
        constraints = [
            # One supervision of an assignment by a unit, and one level of it: two sweeps cannot
            # both start it.
            models.UniqueConstraint(fields=["assignment", "unit"], name="supervision_once_per_unit"),
            models.UniqueConstraint(fields=["assignment", "level"], name="supervision_once_per_level"),
        ]
        indexes = [
            # The supervisor's page and the 督办 badges read only supervisions in force.
            models.Index(fields=["unit", "-started_at"], condition=Q(ended_at__isnull=True), name="supervision_open"),
            models.Index(fields=["case"], condition=Q(ended_at__isnull=True), name="supervision_open_case"),
        ]

    def __str__(self):
        return f"{self.case_id} ← {self.unit_id} (L{self.level})"
