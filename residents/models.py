"""The residents' own page keeps two tables: the one-time codes that confirm a mobile number, and
the attempts counted against the abuse limits. Both live in PostgreSQL, not Redis, so the limits
hold while Redis is down."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PhoneCode(models.Model):
    """A one-time code sent by SMS to confirm that a resident holds a mobile number.

    Only a keyed hash of the code is kept. A code works once (`used_at`), for a few minutes
    (`expires_at`), and dies after a few wrong tries (`tries`, raised by a conditional UPDATE so
    that parallel guesses cannot exceed it)."""

    phone = models.CharField(_("mobile number"), max_length=11)
    code_hash = models.CharField(_("code hash"), max_length=64)
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    tries = models.PositiveSmallIntegerField(_("wrong tries"), default=0)
    last_try_at = models.DateTimeField(_("last wrong try"), null=True, blank=True)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("verification code")
        verbose_name_plural = _("verification codes")
        # The latest code of a number: the one a resident types, and the one the resend wait reads.
        indexes = [models.Index(fields=["phone", "-created_at"], name="phonecode_phone_latest")]

    def __str__(self):
        return f"{self.phone} · {self.created_at:%Y-%m-%d %H:%M}"


class Attempt(models.Model):
    """One code sent or one request submitted, by a number from an address: what the hourly and
    daily limits count. Refused attempts are not recorded, so a flood adds no rows."""

    class Kind(models.TextChoices):
        CODE = "code", _("code sent")
        SUBMISSION = "submission", _("request submitted")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    phone = models.CharField(_("mobile number"), max_length=11)
    ip = models.GenericIPAddressField(_("address"))
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("attempt")
        verbose_name_plural = _("attempts")
        # The limits count by number and by address within a day: each side through its index.
        indexes = [
            models.Index(fields=["kind", "phone", "at"], name="attempt_kind_phone_at"),
            models.Index(fields=["kind", "ip", "at"], name="attempt_kind_ip_at"),
            models.Index(fields=["at"], name="attempt_at"),
        ]

    def __str__(self):
        return f"{self.kind} {self.phone} {self.ip} {self.at:%Y-%m-%d %H:%M}"
