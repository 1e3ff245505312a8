"""The transactional outbox: every SMS and email is first a row here, written in the transaction of
the event that causes it, and delivered afterwards by a Celery task. See docs/escalation.md."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Message(models.Model):
    """One SMS, email or webhook event to one recipient, from the moment it is decided until it is
    sent or given up.

    `key` makes enqueueing idempotent: the event that causes a message names it (``alert:17:sms:4``),
    so writing the same message twice, from a retried task or two sweeps at once, leaves one row.
    `group` keeps messages in order: of the messages of one group, one is handed over at a time,
    the oldest first (a partner's webhook events of one case, outbox.services).
    """

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("email")
        # An event POSTed to an integrating system's webhook URL (`to`), signed at send time.
        WEBHOOK = "webhook", _("webhook")

    class State(models.TextChoices):
        PENDING = "pending", _("waiting to be sent")
        # Handed to the gateway by a deliverer that has not yet recorded the answer. A row left
        # here by a deliverer that died is looked up at the gateway (outbox.services.messages_recover).
        SENDING = "sending", _("being sent")
        SENT = "sent", _("accepted by the gateway")
        DELIVERED = "delivered", _("delivered")
        UNDELIVERED = "undelivered", _("not delivered")
        FAILED = "failed", _("failed")

    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    to = models.CharField(
        _("recipient"), max_length=254, help_text=_("A phone number, an email address or a webhook URL.")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    text = models.TextField(_("text"))
    template = models.CharField(
        _("template"), max_length=40, blank=True, help_text=_("The SMS template the text was rendered from.")
    )
    # [[name, value], ...] in the template's order: Tencent Cloud numbers its variables, Alibaba
    # Cloud names them, and jsonb would not keep the order of an object's keys.
    params = models.JSONField(_("template variables"), default=list, blank=True)
    emergency = models.BooleanField(
        _("emergency"), default=False, help_text=_("Sent at night too; other SMS wait for the morning.")
    )
    # The recipient's quiet hours (no SMS from `quiet_from` until `quiet_until`); none for an
    # emergency, an email, or someone who asked to be told at any hour.
    quiet_from = models.TimeField(_("quiet from"), null=True, blank=True)
    quiet_until = models.TimeField(_("quiet until"), null=True, blank=True)
    key = models.CharField(_("key"), max_length=200, unique=True)
    # Messages that must arrive in the order they were written (``webhook:3:17``: system 3's events
    # of its order 17). Empty for every SMS and email, which go out independently.
    group = models.CharField(_("group"), max_length=100, blank=True, default="")
    state = models.CharField(_("state"), max_length=11, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    claimed_at = models.DateTimeField(_("handed over at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    provider_id = models.CharField(_("gateway's id"), max_length=64, blank=True)
    gateway_code = models.CharField(_("gateway's answer"), max_length=64, blank=True)
    reported_at = models.DateTimeField(_("delivery reported at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["pending", "sending", "sent", "delivered", "undelivered", "failed"]),
                name="outbox_message_state_valid",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["sent", "delivered", "undelivered"]) | Q(sent_at__isnull=False),
                name="outbox_sent_has_time",
            ),
        ]
        indexes = [
            # The delivery sweep reads only the rows that are due: sent and failed rows (nearly all
            # of them, after a while) are not in this index at all.
            models.Index(fields=["next_attempt_at"], condition=Q(state="pending"), name="outbox_message_due"),
            # A deliverer that died mid-send: the recovery sweep reads only those rows.
            models.Index(fields=["claimed_at"], condition=Q(state="sending"), name="outbox_message_sending"),
            # Delivery reports are matched by the gateway's id.
            models.Index(fields=["provider_id"], condition=Q(state="sent"), name="outbox_message_awaiting_report"),
            # "Is an older message of this group still to be sent?", asked before each grouped one.
            models.Index(fields=["group", "id"], condition=~Q(group=""), name="outbox_message_group"),
        ]

    def __str__(self):
        return f"{self.get_channel_display()} → {self.to}: {self.text[:40]}"


class SentSms(models.Model):
    """What the default SMS backend "sent": it records the message here and in the log instead of
    calling a provider. Keyed by the outbox message id, as a real provider is given it for an
    idempotency key, so a repeated delivery of one message records it once."""

    message_id = models.BigIntegerField(_("message id"), unique=True)
    to = models.CharField(_("recipient"), max_length=254)
    text = models.TextField(_("text"))
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        verbose_name = _("recorded SMS")
        verbose_name_plural = _("recorded SMS")
        ordering = ["-sent_at", "-id"]

    def __str__(self):
        return f"{self.to}: {self.text[:40]}"
