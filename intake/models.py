from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.models import Case, Category, Channel, Priority
from grids.models import Region


class Call(models.Model):
    """One contact from a resident, or one report by a grid worker: what was said, by whom,
    through which channel. Several calls may report the same case (the case counts them)."""

    class Outcome(models.TextChoices):
        NEW_CASE = "new_case", _("opened a new case")
        ATTACHED = "attached", _("attached to an existing case")
        ANSWERED = "answered", _("answered directly")

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="calls")
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    caller_name = models.CharField(_("caller name"), max_length=50, blank=True)
    caller_phone = models.CharField(_("caller phone"), max_length=20, blank=True)
    caller_confidential = models.BooleanField(_("keep the caller's identity confidential"), default=False)
    description = models.TextField(_("what happened"))
    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="+")
    grid = models.ForeignKey(
        Region,
        verbose_name=_("grid"),
        to_field="code",
        db_column="grid_code",
        on_delete=models.PROTECT,
        related_name="+",
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("taken by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("taken at"), auto_now_add=True)
    # The suggester version whose suggestion gave the call its category (None: chosen by hand, or
    # suggested by the keywords alone).
    suggester_version = models.ForeignKey(
        "suggestions.SuggesterVersion",
        verbose_name=_("suggested by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="calls",
    )
    # A client's retry of the same submission carries the same key and gets the first answer.
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, blank=True, default="")
    # A digest of the call the key was first used for: the same key with another call is refused.
    idempotency_fingerprint = models.CharField(
        _("request fingerprint"), max_length=64, blank=True, default="", db_default=""
    )

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="call_idempotency_key_once",
            )
        ]
        indexes = [models.Index(fields=["caller_phone", "created_at"], name="call_phone_created")]

    def __str__(self):
        return f"{self.case_id} · {self.created_at:%Y-%m-%d %H:%M}"
