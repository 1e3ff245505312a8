"""The organisations that handle, dispatch or supervise cases, who works in each, and which
agencies are paired with which communities (结邻共建). The tables were created by `routing` and
keep their names (`db_table`)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from grids.models import Region


class Unit(models.Model):
    """An organisation that handles, dispatches or supervises cases.

    Territorial units (street offices, community and village committees) serve a region; the
    escalation chain runs through `parent`: committee → street office → district leadership, and
    department or utility → district leadership.
    """

    class Kind(models.TextChoices):
        CENTRE = "centre", _("district centre")
        LEADERSHIP = "leadership", _("district leadership")
        DEPARTMENT = "department", _("district department")
        UTILITY = "utility", _("public utility")
        STREET_OFFICE = "street_office", _("street office")
        COMMITTEE = "committee", _("community or village committee")
        SOCIAL = "social", _("social force")
        # 结邻共建: organs and enterprises paired with communities that are not case-handling
        # departments themselves (the court, the tax bureau, banks, ...).
        AGENCY = "agency", _("paired agency")

    TERRITORIAL = (Kind.STREET_OFFICE, Kind.COMMITTEE)

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    region = models.ForeignKey(
        Region, verbose_name=_("region served"), on_delete=models.PROTECT, null=True, blank=True, related_name="units"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("escalates to"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        db_table = "routing_unit"  # the name it had in routing
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind__in=["street_office", "committee"]) | Q(region__isnull=False),
                name="unit_territorial_has_region",
            ),
            # One street office per street and one committee per community: routing resolves
            # "the committee of this grid" through this.
            models.UniqueConstraint(
                fields=["region"],
                condition=Q(kind__in=["street_office", "committee"]),
                name="unit_one_office_per_region",
            ),
        ]
        indexes = [models.Index(fields=["kind", "code"], name="unit_kind_code")]

    def __str__(self):
        return self.name


class Membership(models.Model):
    """A person working in a unit, as a clerk or as its head."""

    class Role(models.TextChoices):
        CLERK = "clerk", _("clerk")
        HEAD = "head", _("head")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships"
    )
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.CLERK)

    class Meta:
        db_table = "routing_membership"  # the name it had in routing
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["user", "unit"], name="membership_once_per_unit")]

    def __str__(self):
        return f"{self.user} · {self.unit} ({self.get_role_display()})"


class Pairing(models.Model):
    """结邻共建: an agency paired with a community, which can call it in to help with a case."""

    agency = models.ForeignKey(Unit, verbose_name=_("agency"), on_delete=models.CASCADE, related_name="pairings")
    community = models.ForeignKey(
        Region,
        verbose_name=_("community"),
        on_delete=models.CASCADE,
        related_name="pairings",
        limit_choices_to={"level": Region.Level.COMMUNITY},
    )

    class Meta:
        db_table = "routing_pairing"  # the name it had in routing
        verbose_name = _("pairing")
        verbose_name_plural = _("pairings")
        constraints = [models.UniqueConstraint(fields=["agency", "community"], name="pairing_once")]

    def __str__(self):
        return f"{self.agency} ↔ {self.community}"
