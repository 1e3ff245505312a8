from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from grids.models import Region


def mask_phone(phone):
    """138****5678: enough to recognise a repeat caller, not enough to call them."""
    if len(phone) >= 11:
        return f"{phone[:3]}{'*' * (len(phone) - 7)}{phone[-4:]}"
    # A short local number: at least four digits hidden, at most the last four shown.
    shown = max(0, min(4, len(phone) - 4))
    return "*" * (len(phone) - shown) + (phone[-shown:] if shown else "")


class Priority(models.TextChoices):
    NORMAL = "normal", _("normal")
    URGENT = "urgent", _("urgent")
    EMERGENCY = "emergency", _("emergency")


class Channel(models.TextChoices):
    HOTLINE = "hotline", _("12345 hotline")
    WALK_IN = "walk_in", _("walk-in")
    PATROL = "patrol", _("grid patrol")
    ONLINE = "online", _("online")
    PROACTIVE = "proactive", _("proactive")


class Category(models.Model):
    """What a request is about: two levels (a class and its kinds), each with a default priority
    and keywords that suggest it from the text of a call."""

    code = models.CharField(_("code"), max_length=10, unique=True)
    name = models.CharField(_("name"), max_length=50)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    default_priority = models.CharField(
        _("default priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    keywords = models.TextField(_("keywords"), blank=True, help_text=_("Separated by spaces."))
    is_active = models.BooleanField(_("active"), default=True)
    requires_verification = models.BooleanField(
        _("verified on site"),
        default=False,
        help_text=_("The grid worker of the case's grid checks the result on site before the case closes."),
    )

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["code"]

    def __str__(self):
        return self.name

    @property
    def keyword_list(self):
        return self.keywords.split()


class Case(models.Model):
    """One resident request, however many calls report it.

    `status` is changed only by `cases/lifecycle.py`; every change appends a CaseEvent.
    """

    class Status(models.TextChoices):
        REGISTERED = "registered", _("registered")
        DISPATCHED = "dispatched", _("dispatched")
        IN_PROGRESS = "in_progress", _("in progress")
        RETURNED = "returned", _("returned")
        RESOLVED = "resolved", _("resolved")
        CLOSED = "closed", _("closed")

    class ClosureReason(models.TextChoices):
        SATISFIED = "satisfied", _("resolved and confirmed")
        ANSWERED_DIRECTLY = "answered_directly", _("answered directly")
        DUPLICATE = "duplicate", _("duplicate (merged)")
        INVALID = "invalid", _("invalid call")
        OUT_OF_SCOPE = "out_of_scope", _("out of scope")
        EXEMPTED = "exempted", _("exempted")
        UNREACHABLE = "unreachable", _("resident unreachable")

    # The reasons a dispatcher closes a call that is no real request (the `close_invalid` move).
    INVALID_CLOSURE_REASONS = (ClosureReason.INVALID, ClosureReason.OUT_OF_SCOPE)

    OPEN_STATUSES = (Status.REGISTERED, Status.DISPATCHED, Status.IN_PROGRESS, Status.RETURNED, Status.RESOLVED)

    number = models.CharField(_("case number"), max_length=20, unique=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.REGISTERED)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="cases")
    # The column holds the grid's 15-digit code itself, so "cases under 解放街道" is a prefix
    # match on this table's own index, with no join to regions.
    grid = models.ForeignKey(
        Region,
        verbose_name=_("grid"),
        to_field="code",
        db_column="grid_code",
        on_delete=models.PROTECT,
        related_name="cases",
        limit_choices_to={"level": Region.Level.GRID},
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    title = models.CharField(_("summary"), max_length=100)
    description = models.TextField(_("what happened"))
    caller_name = models.CharField(_("caller name"), max_length=50, blank=True)
    caller_phone = models.CharField(_("caller phone"), max_length=20, blank=True)
    caller_confidential = models.BooleanField(_("keep the caller's identity confidential"), default=False)
    call_count = models.PositiveIntegerField(_("calls"), default=1)
    closure_reason = models.CharField(
        _("closure reason"), max_length=20, choices=ClosureReason.choices, blank=True, default=""
    )
    merged_into = models.ForeignKey(
        "self", verbose_name=_("merged into"), on_delete=models.PROTECT, null=True, blank=True, related_name="merged"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("registered by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["registered", "dispatched", "in_progress", "returned", "resolved", "closed"]),
                name="case_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="closed", closed_at__isnull=False, closure_reason__gt="")
                | (~Q(status="closed") & Q(closure_reason="")),
                name="case_closed_has_reason",
            ),
        ]
        indexes = [
            # Scope and drill-down filters are grid-code prefixes.
            models.Index(fields=["grid"], name="case_grid_prefix", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["status", "created_at"], name="case_status_created"),
            models.Index(fields=["caller_phone", "created_at"], name="case_phone_created"),
            # Similar-text duplicate suggestions (pg_trgm handles Chinese text: see docs).
            GinIndex(fields=["description"], opclasses=["gin_trgm_ops"], name="case_description_trgm"),
        ]

    def __str__(self):
        return self.number

    @property
    def is_open(self):
        return self.status != self.Status.CLOSED

    @property
    def caller_phone_masked(self):
        return mask_phone(self.caller_phone)


class CaseEvent(models.Model):
    """One thing that happened to a case: who, when, from which status to which, and why.

    The timeline and the audit trail; every duration in the metrics is computed from these rows.
    Never edited, never deleted (a month may be archived, whole: cases/partitions.py).

    Partitioned by month on `at` (migration 0003): the table's primary key is (id, at), Django
    addresses a row by `id`, unique through the table's one sequence.
    """

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="events")
    action = models.CharField(_("action"), max_length=20)
    from_status = models.CharField(_("from"), max_length=12, blank=True)
    to_status = models.CharField(_("to"), max_length=12, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty for the system's own moves."),
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["case", "at"], name="caseevent_case_at"),
            models.Index(fields=["action", "at"], name="caseevent_action_at"),
        ]

    def __str__(self):
        return f"{self.case_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


class CaseNumberCounter(models.Model):
    """The last case number given out on each day; numbers come from an atomic upsert on this row,
    so two operators saving at the same moment can never get the same number."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("case number counter")
        verbose_name_plural = _("case number counters")

    def __str__(self):
        return f"{self.day}: {self.last}"


class CasePhoto(models.Model):
    """A photo of the problem, the work or the result. The file's content is checked to be an
    image (not just its name) before it is saved."""

    class Stage(models.TextChoices):
        INTAKE = "intake", _("at intake")
        PROGRESS = "progress", _("during the work")
        EVIDENCE = "evidence", _("evidence of the result")
        VERIFICATION = "verification", _("on-site verification")

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="photos")
    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices, default=Stage.INTAKE)
    image = models.ImageField(_("photo"), upload_to="cases/%Y/%m/")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return self.image.name


class ResidentLink(models.Model):
    """A link sent to the caller so they can give their verdict without logging in.

    Only a hash of the token is stored: whoever reads the database cannot answer for a resident.
    Single use: `used_at` is set by a conditional UPDATE, so two taps on the link record one answer.
    """

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="resident_links")
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("resident link")
        verbose_name_plural = _("resident links")

    def __str__(self):
        return f"{self.case_id} until {self.expires_at:%Y-%m-%d %H:%M}"


class ArchivedPartition(models.Model):
    """A month of a partitioned table that `manage.py archive` detached, wrote to a file and dropped
    (cases/partitions.py); `manage.py archive restore` attaches it back and deletes this row. The
    dashboards keep their rollups of these months instead of recomputing them from rows not online."""

    table = models.CharField(_("table"), max_length=63)
    month = models.DateField(_("month"), help_text=_("Its first day."))
    rows = models.BigIntegerField(_("rows"))
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64)
    place = models.CharField(_("archive directory"), max_length=500)
    archived_at = models.DateTimeField(_("archived at"), auto_now=True)

    class Meta:
        verbose_name = _("archived month")
        verbose_name_plural = _("archived months")
        ordering = ["table", "month"]
        constraints = [models.UniqueConstraint(fields=["table", "month"], name="archivedpartition_once")]

    def __str__(self):
        return f"{self.table} {self.month:%Y-%m}"
