"""The transactional outbox: every SMS and email is first a row here, written in the transaction of
the event that causes it, and delivered afterwards by a Celery task. See docs/escalation.md."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Message(models.Model):
    """One SMS or email to one recipient, from the moment it is decided until it is sent or given up.

    `key` makes enqueueing idempotent: the event that causes a message names it (``alert:17:sms:4``),
    so writing the same message twice, from a retried task or two sweeps at once, leaves one row.
    """

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("email")

    class State(models.TextChoices):
        PENDING = "pending", _("waiting to be sent")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    channel = models.CharField(_("channel"), max_length=5, choices=Channel.choices)
    to = models.CharField(_("to"), max_length=254, help_text=_("A phone number or an email address."))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    text = models.TextField(_("text"))
    emergency = models.BooleanField(
        _("emergency"), default=False, help_text=_("Sent at night too; other SMS wait for the morning.")
    )
    key = models.CharField(_("key"), max_length=200, unique=True)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["pending", "sent", "failed"]), name="outbox_message_state_valid"
            ),
            models.CheckConstraint(condition=~Q(state="sent") | Q(sent_at__isnull=False), name="outbox_sent_has_time"),
        ]
        indexes = [
            # The delivery sweep reads only the rows that are due: sent and failed rows (nearly all
            # of them, after a while) are not in this index at all.
            models.Index(fields=["next_attempt_at"], condition=Q(state="pending"), name="outbox_message_due"),
        ]

    def __str__(self):
        return f"{self.get_channel_display()} → {self.to}: {self.text[:40]}"


class SentSms(models.Model):
    """What the default SMS backend "sent": it records the message here and in the log instead of
    calling a provider. Keyed by the outbox message id, as a real provider is given it for an
    idempotency key, so a repeated delivery of one message records it once."""

    message_id = models.BigIntegerField(_("message id"), unique=True)
    to = models.CharField(_("to"), max_length=254)
    text = models.TextField(_("text"))
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        verbose_name = _("recorded SMS")
        verbose_name_plural = _("recorded SMS")
        ordering = ["-sent_at", "-id"]

    def __str__(self):
        return f"{self.to}: {self.text[:40]}"
