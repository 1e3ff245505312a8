"""Who hears about what: the inbox, people's choices of channel and quiet hours, the roles'
defaults, the district's settings for notices, the SMS templates, and who follows a case."""

from datetime import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from notices.kinds import Kind, RoleChoice


class Notification(models.Model):
    """A message in a person's in-app inbox (a new assignment, a returned case, a decision...),
    written by the notice table in the transaction of the move it is about. Other channels (SMS,
    email) go through the outbox; the inbox is always written."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="notifications"
    )
    case = models.ForeignKey(
        "cases.Case", verbose_name=_("case"), on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    text = models.CharField(_("text"), max_length=300)
    # The page where the work is done, for this person (a unit's workspace, the dispatch console...).
    url = models.CharField(_("link"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        db_table = "routing_notification"  # the name it had in routing
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The header's unread count on every page.
            models.Index(fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread"),
            models.Index(fields=["user", "-created_at"], name="notification_inbox"),
        ]

    def __str__(self):
        return self.text


class Follow(models.Model):
    """A grid worker or operator who logged a call and asked to hear how its case ends."""

    case = models.ForeignKey("cases.Case", verbose_name=_("case"), on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(_("since"), auto_now_add=True)

    class Meta:
        verbose_name = _("case followed")
        verbose_name_plural = _("cases followed")
        constraints = [models.UniqueConstraint(fields=["case", "user"], name="follow_once")]

    def __str__(self):
        return f"{self.user} → {self.case_id}"


class Channels(models.Model):
    """SMS and email besides the inbox (which is always written)."""

    sms = models.BooleanField(_("by SMS"), default=False)
    email = models.BooleanField(_("by email"), default=False)

    class Meta:
        abstract = True


class RoleDefault(Channels):
    """What a role hears by SMS and email for a kind of notice, unless the person chose otherwise.
    Set by the administrator; a kind with no row for a role goes to the inbox only, except where
    the notice table says a head is told by SMS and email (red lights, notices, supervision)."""

    role = models.CharField(_("role"), max_length=20, choices=RoleChoice.choices)
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)

    class Meta:
        verbose_name = _("default channels of a role")
        verbose_name_plural = _("default channels of the roles")
        ordering = ["role", "kind"]
        constraints = [models.UniqueConstraint(fields=["role", "kind"], name="role_default_once")]

    def __str__(self):
        return f"{self.get_role_display()} · {self.get_kind_display()}"


class Preference(Channels):
    """A person's own choice of channels for one kind of notice."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="notice_preferences"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)

    class Meta:
        verbose_name = _("notice preference")
        verbose_name_plural = _("notice preferences")
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="preference_once")]

    def __str__(self):
        return f"{self.user} · {self.get_kind_display()}"


class QuietHours(models.Model):
    """A person's own quiet hours: no SMS between `starts` and `ends` (urgent notices excepted).
    Both empty: SMS at any hour. Without a row, the district's default applies."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="quiet_hours"
    )
    starts = models.TimeField(_("quiet from"), null=True, blank=True)
    ends = models.TimeField(_("quiet until"), null=True, blank=True)

    class Meta:
        verbose_name = _("quiet hours")
        verbose_name_plural = _("quiet hours")
        constraints = [
            models.CheckConstraint(
                condition=Q(starts__isnull=True, ends__isnull=True) | Q(starts__isnull=False, ends__isnull=False),
                name="quiet_hours_both_or_neither",
            )
        ]

    def __str__(self):
        return f"{self.user}: {self.starts}–{self.ends}"


class NoticeSettings(models.Model):
    """The district's settings for notices (one row): default quiet hours, and the heads' daily
    digest — when it goes out and what it counts."""

    quiet_from = models.TimeField(_("quiet hours from"), default=time(22))
    quiet_until = models.TimeField(_("quiet hours until"), default=time(7))
    digest_at = models.TimeField(
        _("daily digest at"), default=time(8, 30), help_text=_("On working days, Shanghai time.")
    )
    digest_overdue = models.BooleanField(_("digest counts overdue cases"), default=True)
    digest_due_today = models.BooleanField(_("digest counts cases due today"), default=True)
    digest_waiting = models.BooleanField(_("digest counts cases waiting to be signed for"), default=False)
    digest_sms = models.BooleanField(_("digest by SMS"), default=True)
    digest_email = models.BooleanField(_("digest by email"), default=True)
    # The working day the digest last went out; the task runs every few minutes and sends once.
    digest_sent_on = models.DateField(_("digest last sent on"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("notice settings")
        verbose_name_plural = _("notice settings")

    def __str__(self):
        return str(_("Notice settings"))

    def clean(self):
        if self.quiet_from == self.quiet_until:
            raise ValidationError({"quiet_until": _("Quiet hours must start and end at different times.")})

    @classmethod
    def load(cls) -> "NoticeSettings":
        row, _created = cls.objects.get_or_create(pk=1)
        return row


class StatusLink(models.Model):
    """A link to the resident's page of their case, sent in their SMS. Only a hash of the token
    is kept (whoever reads the database cannot open residents' pages); it reads the case's status
    until it expires and changes nothing."""

    case = models.ForeignKey("cases.Case", verbose_name=_("case"), on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))

    class Meta:
        verbose_name = _("resident's status link")
        verbose_name_plural = _("residents' status links")

    def __str__(self):
        return f"{self.case_id} until {self.expires_at:%Y-%m-%d}"


class SmsTemplate(models.Model):
    """The words of a message to a resident or a member of staff, in Simplified Chinese, with the
    variables the template may use (`{number}`). The same template, with the same variables in the
    same order, is registered with the SMS vendor (docs/configuration.md)."""

    key = models.CharField(_("template"), max_length=40, unique=True)
    text = models.TextField(_("text"))
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("SMS template")
        verbose_name_plural = _("SMS templates")
        ordering = ["key"]

    def __str__(self):
        return self.key

    def clean(self):
        from notices.templates import TemplateError, check_template

        try:
            check_template(self.key, self.text)
        except TemplateError as error:
            raise ValidationError({"text": str(error)}) from error
