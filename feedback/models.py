from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("satisfied")
    BASICALLY = "basically", _("basically satisfied")
    UNSATISFIED = "unsatisfied", _("unsatisfied")


class Exemption(models.TextChoices):
    """Why a dispatcher closes a case the resident is not content with (免责). Counted and listed
    on their own, never hidden."""

    UNREASONABLE = "unreasonable", _("the demand is unreasonable")
    BEYOND_POLICY = "beyond_policy", _("beyond what policy allows")
    HISTORICAL = "historical", _("a historical problem that cannot be solved now")
    NO_CONDITIONS = "no_conditions", _("the conditions to solve it do not exist yet")
    OTHER = "other", _("other")


class FeedbackSettings(models.Model):
    """The callback and scoring policy, one row, edited by an administrator.

    Business policy lives in the database (STYLE §8), not in settings: the weights of the
    composite score and the value of 基本满意 change by decision of the district, not by deploy.
    """

    callback_attempts = models.PositiveSmallIntegerField(
        _("callback attempts before 'unreachable'"), default=3, validators=[MinValueValidator(1)]
    )
    retry_after_hours = models.DecimalField(
        _("working hours between two attempts"), max_digits=4, decimal_places=1, default=Decimal("2")
    )
    weight_response = models.PositiveSmallIntegerField(_("weight of the response rate"), default=30)
    weight_resolution = models.PositiveSmallIntegerField(_("weight of the resolution rate"), default=35)
    weight_satisfaction = models.PositiveSmallIntegerField(_("weight of the satisfaction rate"), default=35)
    basically_value = models.DecimalField(
        _("value of 'basically satisfied'"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.8"),
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text=_("How much a 'basically satisfied' answer counts in the satisfaction rate (0 to 1)."),
    )

    class Meta:
        verbose_name = _("feedback settings")
        verbose_name_plural = _("feedback settings")
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="feedbacksettings_single_row"),
            models.CheckConstraint(
                condition=Q(basically_value__gte=0, basically_value__lte=1), name="feedbacksettings_basically_0_1"
            ),
            models.CheckConstraint(
                condition=Q(weight_response__gt=0) | Q(weight_resolution__gt=0) | Q(weight_satisfaction__gt=0),
                name="feedbacksettings_some_weight",
            ),
        ]

    def __str__(self):
        return str(_("feedback settings"))

    @classmethod
    def load(cls) -> "FeedbackSettings":
        settings, _created = cls.objects.get_or_create(pk=1)
        return settings
