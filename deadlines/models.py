"""Working time and time limits: the office hours, the days that break the weekday rule (holidays
and worked weekends, 调休), and the SLA policies that say how long each step of a case may take.
The tables were created by `routing` and keep their names (`db_table`)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.models import Priority


class LimitUnit(models.TextChoices):
    WORKING_HOURS = "working_hours", _("working hours")
    WORKING_DAYS = "working_days", _("working days")
    CALENDAR_HOURS = "calendar_hours", _("calendar hours")


class WorkPeriod(models.Model):
    """One stretch of office hours on a working day (Asia/Shanghai), e.g. 08:30–12:00 and
    13:00–17:00. Working time is counted only inside these."""

    start = models.TimeField(_("from"))
    end = models.TimeField(_("until"))

    class Meta:
        # The table keeps the name it had when these models lived in `routing`.
        db_table = "routing_workperiod"
        verbose_name = _("office hours")
        verbose_name_plural = _("office hours")
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="workperiod_end_after_start")
        ]

    def __str__(self):
        return f"{self.start:%H:%M}–{self.end:%H:%M}"


class WorkCalendarDay(models.Model):
    """A day that breaks the weekday rule: a statutory holiday on a weekday (not worked) or a
    make-up working day on a weekend (调休, worked). Seeded from the chinese-calendar package."""

    date = models.DateField(_("date"), primary_key=True)
    is_workday = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=50, blank=True)

    class Meta:
        db_table = "routing_workcalendarday"
        verbose_name = _("calendar exception")
        verbose_name_plural = _("calendar exceptions")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date} {'+' if self.is_workday else '-'} {self.note}"


class SlaPolicy(models.Model):
    """The time limits for a category and priority. The most specific policy applies: category
    and priority, then category, then the category's class, then the defaults (no category)."""

    category = models.ForeignKey(
        "cases.Category",
        verbose_name=_("category"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sla_policies",
        help_text=_("Empty: the default for every category."),
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, blank=True, help_text=_("Empty: any priority.")
    )
    sign_value = models.DecimalField(_("sign-for within"), max_digits=6, decimal_places=2)
    sign_unit = models.CharField(_("unit"), max_length=16, choices=LimitUnit.choices)
    contact_value = models.DecimalField(_("first contact within"), max_digits=6, decimal_places=2)
    contact_unit = models.CharField(_("unit"), max_length=16, choices=LimitUnit.choices)
    resolve_value = models.DecimalField(_("resolution within"), max_digits=6, decimal_places=2)
    resolve_unit = models.CharField(_("unit"), max_length=16, choices=LimitUnit.choices)
    callback_value = models.DecimalField(_("callback within"), max_digits=6, decimal_places=2)
    callback_unit = models.CharField(_("unit"), max_length=16, choices=LimitUnit.choices)
    return_window_value = models.DecimalField(_("return allowed within"), max_digits=6, decimal_places=2, default=2)
    return_window_unit = models.CharField(
        _("unit"), max_length=16, choices=LimitUnit.choices, default=LimitUnit.WORKING_DAYS
    )
    extension_max_days = models.PositiveSmallIntegerField(_("longest extension (working days)"), default=10)

    class Meta:
        db_table = "routing_slapolicy"
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            models.UniqueConstraint(
                fields=["category", "priority"], nulls_distinct=False, name="slapolicy_one_per_category_priority"
            )
        ]

    def __str__(self):
        return f"{self.category or _('all categories')} · {self.get_priority_display() or _('any priority')}"

    def limit(self, kind):
        """(amount, unit) of one limit: sign, contact, resolve, callback or return_window."""
        return getattr(self, f"{kind}_value"), getattr(self, f"{kind}_unit")
