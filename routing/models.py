from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids.models import Region
from units.models import Unit


class RoutingRule(models.Model):
    """Which level handles a category (按照难易程度分流交办), optionally only inside one region.

    The most specific rule wins: a rule for a smaller region beats a larger one, a rule for a
    category beats one for its class. Community and street level resolve to the committee or
    street office of the case's own grid; the other levels name their unit.
    """

    class Level(models.TextChoices):
        COMMUNITY = "community", _("community or village committee")
        STREET = "street", _("street office")
        UNIT = "unit", _("a named unit (department, utility, social force)")

    category = models.ForeignKey(
        "cases.Category", verbose_name=_("category"), on_delete=models.CASCADE, related_name="routing_rules"
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("only in"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="routing_rules",
        help_text=_("Empty: the whole district. A rule for a smaller place is a local exception."),
    )
    level = models.CharField(_("handled at"), max_length=10, choices=Level.choices)
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="routing_rules",
        help_text=_("Required when handled by a named unit."),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        constraints = [
            models.CheckConstraint(
                condition=(Q(level="unit") & Q(unit__isnull=False)) | (~Q(level="unit") & Q(unit__isnull=True)),
                name="routingrule_unit_iff_unit_level",
            ),
            models.UniqueConstraint(
                fields=["category", "region"], nulls_distinct=False, name="routingrule_one_per_category_region"
            ),
        ]

    def __str__(self):
        where = self.region.name if self.region_id else _("whole district")
        return f"{self.category} @ {where} → {self.unit or self.get_level_display()}"


class Assignment(models.Model):
    """A unit's part in a case: the lead unit (主办) or an assisting unit (协办), with its own
    state and deadlines. Deadlines are computed at dispatch and kept here."""

    class Role(models.TextChoices):
        LEAD = "lead", _("lead")
        ASSIST = "assist", _("assisting")

    class State(models.TextChoices):
        WAITING = "waiting", _("waiting for sign-for")
        SIGNED = "signed", _("signed for")
        RETURNED = "returned", _("returned")
        DONE = "done", _("done")
        WITHDRAWN = "withdrawn", _("re-dispatched elsewhere")

    ACTIVE_STATES = (State.WAITING, State.SIGNED)

    case = models.ForeignKey("cases.Case", verbose_name=_("case"), on_delete=models.PROTECT, related_name="assignments")
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="assignments")
    role = models.CharField(_("role"), max_length=6, choices=Role.choices)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.WAITING)
    requested_by = models.ForeignKey(
        Unit,
        verbose_name=_("called in by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("For an assisting unit: the lead unit that called it in."),
    )
    note = models.TextField(_("note"), blank=True)
    dispatched_at = models.DateTimeField(_("dispatched at"))
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("dispatched by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty when the rules dispatched it automatically."),
    )
    rule = models.ForeignKey(
        RoutingRule, verbose_name=_("rule"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sign_due = models.DateTimeField(_("sign for by"))
    contact_due = models.DateTimeField(_("contact the resident by"), null=True, blank=True)
    resolve_due = models.DateTimeField(_("resolve by"))
    return_until = models.DateTimeField(_("may return until"), null=True, blank=True)
    extension_max_until = models.DateTimeField(_("latest extended deadline"), null=True, blank=True)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    contacted_at = models.DateTimeField(_("contacted at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # A redo (重办) after the resident's negative verdict: the same unit again, signed at once.
    is_redo = models.BooleanField(_("redo"), default=False)
    # Set when the lead unit resolves; cleared when the resident's verdict ends the round (closed
    # or reopened). The centre's callback queue is exactly the rows where it is set.
    callback_due = models.DateTimeField(_("call the resident back by"), null=True, blank=True)
    # Working seconds from dispatch (or reopening) to resolution, written at resolution, so the
    # mean handling time is a SUM in SQL, never a calendar computation per row.
    handling_seconds = models.FloatField(_("handling time (working seconds)"), null=True, blank=True)
    # The next moment the deadline sweep must look at this assignment (a warning, an overdue alert,
    # a chase, a notice or a supervision step falls due); empty when nothing is left to check. A
    # new row is checked at once (the default), whichever service creates it; the sweep then
    # writes the real moment. A moment too early costs one look; only one too late would lose an
    # alert, so a service that moves a deadline sets it to now.
    next_check_at = models.DateTimeField(_("next deadline check"), null=True, blank=True, default=timezone.now)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["dispatched_at", "id"]
        constraints = [
            # A case has at most one lead unit working on it at a time: two dispatchers racing
            # cannot both succeed.
            models.UniqueConstraint(
                fields=["case"], condition=Q(role="lead", state__in=["waiting", "signed"]), name="assignment_one_lead"
            ),
        ]
        indexes = [
            models.Index(fields=["unit", "state", "resolve_due"], name="assignment_queue"),
            models.Index(fields=["case", "role", "state"], name="assignment_case_role"),
            models.Index(
                fields=["callback_due"], condition=Q(callback_due__isnull=False), name="assignment_callback_queue"
            ),
            # The deadline sweep's index: only active rows are in it, so the sweep reads the rows due
            # now, never the open cases as a whole, and finished work costs nothing.
            models.Index(
                fields=["next_check_at"],
                condition=Q(state__in=["waiting", "signed"], next_check_at__isnull=False),
                name="assignment_next_check",
            ),
            # A unit's recently resolved work (the queue's "resolved" tab and its count), without
            # reading the years of done rows behind it.
            models.Index(fields=["unit", "finished_at"], condition=Q(state="done"), name="assignment_unit_done"),
            # The active assignments alone (a few thousand of millions): "is this case supervised
            # now" joins supervisions to them on every queue, list and dashboard page.
            models.Index(fields=["id"], condition=Q(state__in=["waiting", "signed"]), name="assignment_active"),
        ]

    def __str__(self):
        return f"{self.case} → {self.unit} ({self.get_role_display()}, {self.get_state_display()})"


class ReturnReason(models.TextChoices):
    NOT_OUR_DUTY = "not_our_duty", _("not within our duties")
    NOT_OUR_AREA = "not_our_area", _("not in our area")
    WRONG_CATEGORY = "wrong_category", _("wrongly classified")
    INSUFFICIENT = "insufficient", _("not enough information to act")
    OTHER = "other", _("other")


class ExtensionRequest(models.Model):
    """The lead unit asks for a later resolution deadline; a dispatcher (or, for a community's
    case, its street office) approves or refuses."""

    class Decision(models.TextChoices):
        PENDING = "pending", _("pending")
        APPROVED = "approved", _("approved")
        REFUSED = "refused", _("refused")

    assignment = models.ForeignKey(
        Assignment, verbose_name=_("assignment"), on_delete=models.CASCADE, related_name="extension_requests"
    )
    requested_until = models.DateTimeField(_("new deadline asked for"))
    reason = models.TextField(_("reason"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("asked by"), on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("asked at"), auto_now_add=True)
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices, default=Decision.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        constraints = [
            models.UniqueConstraint(
                fields=["assignment"], condition=Q(decision="pending"), name="extension_one_pending"
            )
        ]

    def __str__(self):
        return f"{self.assignment} → {self.requested_until:%Y-%m-%d}"


class AutoRouteAttempt(models.Model):
    """The routing rules have looked at this case. The stranded-case sweep only picks cases the
    rules have not looked at yet, so cases waiting for a dispatcher (no rule) are not read again
    every minute and cannot crowd out the ones that really were missed."""

    case = models.OneToOneField(
        "cases.Case", verbose_name=_("case"), on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)
    outcome = models.CharField(_("outcome"), max_length=200)

    class Meta:
        verbose_name = _("automatic routing attempt")
        verbose_name_plural = _("automatic routing attempts")

    def __str__(self):
        return f"{self.case_id}: {self.outcome}"
