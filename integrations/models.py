"""Systems outside the district that send it requests and hear back: the city's 12345 platform,
an Open311 client. Each has keys (each limited to what it may do), a log of every call it made,
a table mapping its categories to ours, and the requests it sent (docs/integrations.md)."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.models import Case, Category, Channel
from outbox.models import Message

JURISDICTION = "210111"  # 苏家屯区's administrative division code: the Open311 jurisdiction_id


class System(models.Model):
    """An integrating system: who it is, which channel its requests count under, where its
    webhook events go and the secret they are signed with. Its requests are registered under its
    own account (`user`), which signs in nowhere."""

    name = models.SlugField(_("name"), max_length=40, unique=True, help_text=_("Its name in URLs: city12345."))
    title = models.CharField(_("title"), max_length=100, blank=True)
    channel = models.CharField(
        _("channel"),
        max_length=10,
        choices=Channel.choices,
        default=Channel.ONLINE,
        help_text=_("The channel its requests are counted under."),
    )
    jurisdiction_id = models.CharField(
        _("jurisdiction"), max_length=20, default=JURISDICTION, help_text=_("Keys of another jurisdiction are refused.")
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("account"), on_delete=models.PROTECT, related_name="+", editable=False
    )
    is_active = models.BooleanField(_("active"), default=True)
    webhook_url = models.URLField(_("webhook URL"), max_length=254, blank=True)
    webhook_secret = models.CharField(
        _("webhook secret"),
        max_length=100,
        blank=True,
        help_text=_("Shared with the system: every event is signed with it (HMAC-SHA256)."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("integrating system")
        verbose_name_plural = _("integrating systems")
        ordering = ["name"]

    def __str__(self):
        return self.title or self.name


class ApiKey(models.Model):
    """A key a system calls with. Only its hash is stored (the key is shown once, when issued);
    `prefix` names it in lists and logs. `scopes` say what it may do."""

    class Scope(models.TextChoices):
        CREATE = "create", _("create Open311 requests")
        READ_OWN = "read_own", _("read its own requests")
        READ_ALL = "read_all", _("read all public requests")
        ORDERS = "orders", _("send work orders")

    system = models.ForeignKey(System, verbose_name=_("system"), on_delete=models.CASCADE, related_name="keys")
    prefix = models.CharField(_("prefix"), max_length=12, editable=False)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    scopes = ArrayField(models.CharField(max_length=10, choices=Scope.choices), verbose_name=_("scopes"))
    created_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.prefix}…"

    @property
    def is_revoked(self):
        return self.revoked_at is not None


class ApiCall(models.Model):
    """One call an outside system made, whatever the answer (refused ones too, with no key)."""

    system = models.ForeignKey(
        System, verbose_name=_("system"), on_delete=models.CASCADE, null=True, blank=True, related_name="calls"
    )
    key = models.ForeignKey(
        ApiKey, verbose_name=_("key"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    method = models.CharField(_("method"), max_length=8)
    path = models.CharField(_("path"), max_length=300)
    status = models.PositiveSmallIntegerField(_("answer"))
    at = models.DateTimeField(_("at"), auto_now_add=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))
    remote_addr = models.GenericIPAddressField(_("from"), null=True, blank=True)

    class Meta:
        verbose_name = _("API call")
        verbose_name_plural = _("API calls")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["system", "at"], name="apicall_system_at")]

    def __str__(self):
        return f"{self.method} {self.path} → {self.status}"


class CategoryMapping(models.Model):
    """A system's own category code and the category it means here. A code with no row sends
    its work order to the dispatchers, with the reason."""

    system = models.ForeignKey(System, verbose_name=_("system"), on_delete=models.CASCADE, related_name="categories")
    code = models.CharField(_("their code"), max_length=40)
    name = models.CharField(_("their name"), max_length=100, blank=True)
    category = models.ForeignKey(Category, verbose_name=_("our category"), on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("category mapping")
        verbose_name_plural = _("category mappings")
        ordering = ["system", "code"]
        constraints = [models.UniqueConstraint(fields=["system", "code"], name="categorymapping_once")]

    def __str__(self):
        return f"{self.code} → {self.category}"


class Inbound(models.Model):
    """One request a system sent: an Open311 service request or a 12345 work order, as it came
    (`payload`), and the case it became. A request whose category or place is unknown waits
    (`held`, with the reason) for a dispatcher to place it; it is never lost. Moves:
    `integrations.services.INBOUND_MOVES`."""

    class Kind(models.TextChoices):
        OPEN311 = "open311", _("Open311 request")
        ORDER = "order", _("work order")

    class State(models.TextChoices):
        HELD = "held", _("waiting for a dispatcher")
        OPENED = "opened", _("a case")
        REFUSED = "refused", _("refused")

    system = models.ForeignKey(System, verbose_name=_("system"), on_delete=models.PROTECT, related_name="inbound")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    # The sender's own id (工单号); empty for an Open311 request, which is known by `token`.
    external_id = models.CharField(_("their id"), max_length=64, blank=True)
    token = models.CharField(_("token"), max_length=40, unique=True)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.HELD)
    reason = models.CharField(_("why it waits"), max_length=300, blank=True)
    payload = models.JSONField(_("as sent"), default=dict)
    deadline = models.DateTimeField(_("their deadline"), null=True, blank=True)
    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.PROTECT, null=True, blank=True, related_name="inbound"
    )
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("placed at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("placed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("inbound request")
        verbose_name_plural = _("inbound requests")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=["held", "opened", "refused"]), name="inbound_state_valid"),
            models.CheckConstraint(
                condition=~Q(state="opened") | Q(case__isnull=False), name="inbound_opened_has_case"
            ),
            # Sending the same work order again finds the first one (idempotent by their id).
            models.UniqueConstraint(
                fields=["system", "external_id"], condition=~Q(external_id=""), name="inbound_external_id_once"
            ),
        ]
        indexes = [
            models.Index(fields=["received_at"], condition=Q(state="held"), name="inbound_held"),
            models.Index(fields=["system", "received_at"], name="inbound_system_received"),
        ]

    def __str__(self):
        return self.external_id or self.token


class WebhookDeliveryManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(channel=Message.Channel.WEBHOOK)


class WebhookDelivery(Message):
    """The webhook events sent to integrating systems, as the outbox holds them: the delivery log
    of each system in the admin (integrations/webhooks.py writes them)."""

    objects = WebhookDeliveryManager()

    class Meta:
        proxy = True
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-id"]
