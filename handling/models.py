from django.db import models
from django.utils.translation import gettext_lazy as _


class ContactMethod(models.TextChoices):
    PHONE = "phone", _("phone call")
    VISIT = "visit", _("visit")
    SMS = "sms", _("text message")
    WECHAT = "wechat", _("WeChat")
    OTHER = "other", _("other")


class ResultKind(models.TextChoices):
    SOLVED = "solved", _("solved")
    EXPLAINED = "explained", _("explained to the resident")
    CANNOT = "cannot", _("cannot be solved")
